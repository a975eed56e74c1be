package reliability_test

import (
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store/pgtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

// field is one vehicle field a crash worker writes, serially: its acknowledged value and the
// one it sent last without an answer (the crash may or may not have kept that one).
type field struct {
	vehicle string
	limit   bool // the charge limit; else the lock state

	acked, pending   *float64 // lock state: 1 locked, 0 unlocked
	acks             int
	unexpectedStatus string
}

// durableBackend is a way to run the binary with a durable store: the flags, and opening
// what it left directly.
type durableBackend struct {
	name string
	// flags returns the flags for a fresh store, and open opens the store those flags
	// name, as the next start will.
	flags func(t *testing.T) []string
	open  func(t *testing.T, flags []string) (*store.Store, error)
}

var durableBackends = []durableBackend{
	{name: "sqlite", flags: func(t *testing.T) []string { return []string{"-data-dir", t.TempDir()} },
		open: func(t *testing.T, flags []string) (*store.Store, error) {
			return store.New(sandbox.Dataset{}, store.Options{DataDir: flags[1]})
		}},
	{name: "postgres", flags: func(t *testing.T) []string { return []string{"-store", pgtest.URL(t)} },
		open: func(t *testing.T, flags []string) (*store.Store, error) {
			b, err := store.OpenPostgres(flags[1])
			if err != nil {
				return nil, err
			}
			return store.New(sandbox.Dataset{}, store.Options{Backend: b})
		}},
}

// TestKill9MidWrites runs the real binary on each durable store (-data-dir: SQLite; -store: a
// real PostgreSQL) under a write-heavy load (LOCK/UNLOCK and charge limits, each field written
// by one serial worker so its acknowledgements are ordered), kills it with SIGKILL in the
// middle, and restarts it on the same store: the store must open, and every field must hold its
// last acknowledged value, or the value of the one command in flight at the kill (sent, never
// answered: it may or may not have been saved). Three rounds, each on the state the previous
// crash left.
func TestKill9MidWrites(t *testing.T) {
	bin := buildBinary(t)
	for _, b := range durableBackends {
		t.Run(b.name, func(t *testing.T) { kill9MidWrites(t, bin, b) })
	}
}

func kill9MidWrites(t *testing.T, bin string, b durableBackend) {
	flags := b.flags(t)
	p := startBinary(t, bin, flags...)
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tk, err := connectFlow(t, p.Origin, client)
	if err != nil {
		t.Fatal(err)
	}
	fields := []*field{
		{vehicle: teslaID}, {vehicle: rav4ID}, {vehicle: fordID},
		{vehicle: teslaID, limit: true}, {vehicle: rav4ID, limit: true},
	}
	for round := 1; round <= 3; round++ {
		var total, withAck atomic.Int64 // writes acknowledged; fields with one at least
		var wg sync.WaitGroup
		for i, f := range fields {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; ; n++ {
					var path, body string
					var v float64
					if f.limit {
						v = float64(50+(n*7+i)%51) / 100
						path, body = "/charge/limit", fmt.Sprintf(`{"limit":%g}`, v)
					} else {
						v = float64((n + i) % 2)
						path, body = "/security", map[float64]string{1: `{"action":"LOCK"}`, 0: `{"action":"UNLOCK"}`}[v]
					}
					f.pending = &v
					st, raw, err := call(client, http.MethodPost, p.Origin+"/v2.0/vehicles/"+f.vehicle+path, tk.Access, body)
					if err != nil {
						return // the server is gone; pending may or may not be on disk
					}
					if st != http.StatusOK {
						f.unexpectedStatus = fmt.Sprintf("%d %s", st, raw)
						return
					}
					f.acked, f.pending = &v, nil
					if n == 0 {
						withAck.Add(1)
					}
					f.acks++
					total.Add(1)
				}
			}()
		}
		// Kill once the load is well under way, at a moment no worker chose.
		deadline := time.Now().Add(15 * time.Second)
		for (total.Load() < int64(40*round) || withAck.Load() < int64(len(fields))) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		p.signal(t, syscall.SIGKILL)
		if !p.wait(5 * time.Second) {
			t.Fatal("the process did not die after SIGKILL")
		}
		wg.Wait()
		t.Logf("round %d: killed after %d acknowledged writes", round, total.Load())
		for _, f := range fields {
			if f.unexpectedStatus != "" {
				t.Fatalf("%s: a command got %s", f.vehicle, f.unexpectedStatus)
			}
			if f.acked == nil {
				t.Fatalf("%s: no write was acknowledged before the kill", f.vehicle)
			}
		}

		// The database, opened directly (as the next start will, WAL recovery and all): it
		// must open and hold what was acknowledged.
		st, err := b.open(t, flags)
		if err != nil {
			t.Fatalf("the database does not open after kill -9: %v", err)
		}
		for _, f := range fields {
			v, ok := st.Vehicle(f.vehicle)
			if !ok {
				t.Fatalf("the database has no vehicle %s", f.vehicle)
			}
			got := boolNum(v.State.Security.IsLocked())
			if f.limit {
				got = v.State.Charge.Limit
			}
			f.check(t, "database", got)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}

		// Restart on the same store: the old token still works (the key is kept there) and
		// the API serves the same state.
		p = startBinary(t, bin, flags...)
		for _, f := range fields {
			locked, limit, err := vehicleState(client, p.Origin, tk.Access, f.vehicle, f.limit)
			if err != nil {
				t.Fatalf("after restart: %v", err)
			}
			got := boolNum(locked)
			if f.limit {
				got = limit
			}
			f.check(t, "API after restart", got)
			// The next round starts from what survived.
			f.acked, f.pending = &got, nil
		}
	}
}

// check reports got unless it is the acknowledged value or the one in flight at the kill.
func (f *field) check(t *testing.T, where string, got float64) {
	t.Helper()
	if got == *f.acked || (f.pending != nil && got == *f.pending) {
		return
	}
	what := "lock state (1 locked)"
	if f.limit {
		what = "charge limit"
	}
	pending := "none"
	if f.pending != nil {
		pending = fmt.Sprint(*f.pending)
	}
	t.Errorf("%s: %s %s = %v, want the last acknowledged %v (or the unanswered %s)", where, f.vehicle, what, got, *f.acked, pending)
}

func boolNum(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
