package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store/pgtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

func needPostgres(t *testing.T) string { return pgtest.URL(t) }

func TestPostgresMigratesOnceAndRefusesNewerSchema(t *testing.T) {
	url := needPostgres(t)
	for range 2 { // the second open finds the schema current
		b, err := OpenPostgres(url)
		if err != nil {
			t.Fatal(err)
		}
		b.Close()
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES (99)`); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenPostgres(url); err == nil {
		t.Fatal("a database with a newer schema opened")
	}
}

// PostgreSQL restarted under load: while it is down, changes fail with ErrNotSaved and are not
// made; once it is back the same store works again without a restart, and every change that
// was acknowledged is in the database.
func TestPostgresRestartUnderLoad(t *testing.T) {
	url := needPostgres(t)
	b, err := OpenPostgres(url)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(testDataset(), Options{Backend: b})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	vid := testDataset().Vehicles[0].ID
	var acked, refused atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, err := s.UpdateVehicle(vid, func(v *sandbox.Vehicle) error { v.State.OdometerKm++; return nil })
				switch {
				case err == nil:
					acked.Add(1)
				case errors.Is(err, ErrNotSaved):
					refused.Add(1)
				default:
					t.Error(err)
					return
				}
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	pgtest.Down(t)
	time.Sleep(300 * time.Millisecond)
	pgtest.Up(t)
	deadline := time.Now().Add(20 * time.Second)
	for before := acked.Load(); acked.Load() < before+50 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if refused.Load() == 0 {
		t.Error("no change was refused while PostgreSQL was down")
	}
	want := 100 + float64(acked.Load())
	if v, _ := s.Vehicle(vid); v.State.OdometerKm != want {
		t.Errorf("served odometer %v, want %v (100 + %d acknowledged)", v.State.OdometerKm, want, acked.Load())
	}
	b2, err := OpenPostgres(url)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := New(testDataset(), Options{Backend: b2})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if v, _ := s2.Vehicle(vid); v.State.OdometerKm != want {
		t.Errorf("odometer in the database %v, want %v: an acknowledged change was lost", v.State.OdometerKm, want)
	}
	t.Logf("%d changes acknowledged, %d refused while PostgreSQL was down", acked.Load(), refused.Load())
}

// Two sandboxes on one PostgreSQL database behave as one: a code issued by one is exchanged at
// the other (and a replay at the first is a replay), a refresh rotates once across both, a LOCK
// through one is read through the other, a revoke on one holds on the other at once, and a
// named key made by one is the other's.
func TestPostgresReplicas(t *testing.T) {
	url := needPostgres(t)
	now := t0
	open := func() *Store {
		b, err := OpenPostgres(url)
		if err != nil {
			t.Fatal(err)
		}
		return openOn(t, b, "", &now)
	}
	a, b := open(), open()
	ok := func(sandbox.AuthCode) error { return nil }

	connectAndSaveCode(t, a, "code")
	rt, err := b.RedeemCode("code", "app", ok, nil)
	if err != nil {
		t.Fatalf("the code issued by one, exchanged at the other: %v", err)
	}

	var wg sync.WaitGroup
	got := make([]string, 16)
	for i := range got {
		wg.Go(func() {
			s := []*Store{a, b}[i%2]
			next, err := s.RotateRefreshToken(rt.Token, "app", nil)
			if err != nil {
				t.Errorf("rotation %d: %v", i, err)
			}
			got[i] = next.Token
		})
	}
	wg.Wait()
	for _, g := range got {
		if g == "" || g != got[0] {
			t.Fatalf("the chain forked across the two: %v", got)
		}
	}

	vid := testDataset().Vehicles[0].ID
	if _, err := a.UpdateVehicle(vid, func(v *sandbox.Vehicle) error { v.State.Security.SetLocked(true); return nil }); err != nil {
		t.Fatal(err)
	}
	if v, _ := b.Vehicle(vid); !v.State.Security.IsLocked() {
		t.Error("a LOCK through one is not read through the other")
	}

	if err := a.RevokeAuthorization(rt.Authorization); err != nil {
		t.Fatal(err)
	}
	if r, _ := b.AccessTokenEnded("any", rt.Authorization); !r {
		t.Error("a revoke on one is not seen by the other")
	}
	if _, err := b.RotateRefreshToken(got[0], "app", nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("the revoked chain's token at the other: %v, want ErrNotFound", err)
	}
	if _, err := a.RedeemCode("code", "app", ok, nil); !errors.Is(err, ErrCodeUsed) {
		t.Errorf("replaying at one a code the other exchanged: %v, want ErrCodeUsed", err)
	}

	ka, err := a.Key("token-signing", func() ([]byte, error) { return []byte("made-by-a"), nil })
	if err != nil {
		t.Fatal(err)
	}
	kb, err := b.Key("token-signing", func() ([]byte, error) { return []byte("made-by-b"), nil })
	if err != nil || string(kb) != string(ka) {
		t.Errorf("the other's key = %q, %v; want %q", kb, err, ka)
	}

	// Reset through one: the other sees the fixtures again (the LOCK is gone) and keeps the
	// revocation.
	if err := a.Reset(nil); err != nil {
		t.Fatal(err)
	}
	if v, _ := b.Vehicle(vid); v.State.Security.IsLocked() {
		t.Error("after a reset through one, the other still reads the LOCK")
	}
	if r, _ := b.AccessTokenEnded("any", rt.Authorization); !r {
		t.Error("the revocation did not survive the reset at the other")
	}

	// Fault rules and settings set through one are the other's at once; the rule numbers
	// are shared, so the two never hand out the same id.
	addRule(t, a, `{"n":1}`)
	if r := addRule(t, b, `{"n":2}`); r.ID != "f2" {
		t.Errorf("a rule added at the other after f1 is %s, want f2", r.ID)
	}
	if got := ruleIDs(a.FaultRules()); fmt.Sprint(got) != `[f1={"n":1} f2={"n":2}]` {
		t.Errorf("the rules seen by one: %v", got)
	}
	if err := b.PutSetting("request_log_size", 3); err != nil {
		t.Fatal(err)
	}
	if n := 0; !a.Setting("request_log_size", &n) || n != 3 {
		t.Errorf("a setting put through the other reads %d at one, want 3", n)
	}
	if err := a.ClearFaultRules(); err != nil {
		t.Fatal(err)
	}
	if b.HasFaultRules() {
		t.Error("rules cleared through one are still set at the other")
	}

	// Exactly one of them leads the simulator, and keeps leading; when it closes (or dies:
	// its session ends either way) the other takes over.
	leads := []bool{a.Leads("simulator"), b.Leads("simulator")}
	if leads[0] == leads[1] {
		t.Fatalf("leads = %v, want exactly one", leads)
	}
	leader, follower := a, b
	if leads[1] {
		leader, follower = b, a
	}
	if !leader.Leads("simulator") || follower.Leads("simulator") {
		t.Error("the lead moved while its holder lives")
	}
	if !a.Leads("another job") && !b.Leads("another job") {
		t.Error("nobody leads a second job")
	}
	leader.Close()
	// PostgreSQL frees the lock as the closed session's server process ends, a moment
	// after Close returns.
	deadline := time.Now().Add(5 * time.Second)
	for !follower.Leads("simulator") {
		if time.Now().After(deadline) {
			t.Fatal("the other did not take over when the leader closed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// countingShared counts the catch-up queries (Changed) a store makes and, while gate is set,
// holds each one after it has read the database, before it answers: a query on its way.
type countingShared struct {
	*Postgres
	changed atomic.Int64
	gate    atomic.Pointer[queryGate]
}

type queryGate struct{ read, release chan struct{} }

func (c *countingShared) Changed(since int64) ([]Record, int64, error) {
	c.changed.Add(1)
	recs, v, err := c.Postgres.Changed(since)
	if g := c.gate.Swap(nil); g != nil {
		close(g.read)
		<-g.release
	}
	return recs, v, err
}

func openCounting(t *testing.T, url string) (*Store, *countingShared) {
	t.Helper()
	pg, err := OpenPostgres(url)
	if err != nil {
		t.Fatal(err)
	}
	c := &countingShared{Postgres: pg}
	now := t0
	return openOn(t, c, "", &now), c
}

// A read that begins while replica B's catch-up query is on its way, after replica A
// acknowledged a change that query read the database too early to see, is not served by that
// query: it waits for the next one, and sees the change.
func TestPostgresCatchUpStartedBeforeAReadDoesNotServeIt(t *testing.T) {
	url := needPostgres(t)
	a, _ := openCounting(t, url)
	b, cb := openCounting(t, url)
	vid := testDataset().Vehicles[0].ID

	g := &queryGate{read: make(chan struct{}), release: make(chan struct{})}
	cb.gate.Store(g)
	early := make(chan sandbox.Vehicle)
	go func() { v, _ := b.Vehicle(vid); early <- v }()
	<-g.read // B's query has read the database, and not answered yet
	if _, err := a.UpdateVehicle(vid, func(v *sandbox.Vehicle) error { v.State.OdometerKm = 555; return nil }); err != nil {
		t.Fatal(err)
	}
	late := make(chan sandbox.Vehicle)
	go func() { v, _ := b.Vehicle(vid); late <- v }()
	// Release B's query once the late read waits for the next one (or, if it waits for this
	// one, which would be the bug, after a while).
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		b.catchUps.mu.Lock()
		waiting := b.catchUps.next != nil
		b.catchUps.mu.Unlock()
		if waiting {
			break
		}
	}
	close(g.release)
	<-early // began before the change was acknowledged: either answer is right
	if v := <-late; v.State.OdometerKm != 555 {
		t.Errorf("a read that began after A acknowledged odometer 555 read %v at B", v.State.OdometerKm)
	}
}

// Many readers at replica B while replica A commits: each read sees every change A
// acknowledged before the read began, and the readers share catch-up queries (far fewer
// queries than reads).
func TestPostgresConcurrentCatchUps(t *testing.T) {
	url := needPostgres(t)
	a, _ := openCounting(t, url)
	b, cb := openCounting(t, url)
	vid := testDataset().Vehicles[0].ID
	var acked atomic.Int64 // the newest odometer A acknowledged
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(stop)
		for range 200 {
			v, err := a.UpdateVehicle(vid, func(v *sandbox.Vehicle) error { v.State.OdometerKm++; return nil })
			if err != nil {
				t.Error(err)
				return
			}
			acked.Store(int64(v.State.OdometerKm))
		}
	})
	var reads atomic.Int64
	for range 32 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				want := acked.Load()
				v, _ := b.Vehicle(vid)
				reads.Add(1)
				if int64(v.State.OdometerKm) < want {
					t.Errorf("B read odometer %v after A acknowledged %d", v.State.OdometerKm, want)
					return
				}
			}
		})
	}
	wg.Wait()
	queries := cb.changed.Load()
	t.Logf("%d reads at B, %d catch-up queries", reads.Load(), queries)
	if queries*4 > reads.Load() {
		t.Errorf("%d catch-up queries for %d concurrent reads: they are not shared", queries, reads.Load())
	}
}
