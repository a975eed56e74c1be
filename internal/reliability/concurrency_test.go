package reliability_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
)

// lastAck is the newest acknowledged command on one vehicle field.
type lastAck struct {
	mu     sync.Mutex // held around send+record: see TestConcurrentFlowsAndCommands
	seq    uint64     // 0: nothing acknowledged yet
	locked bool
	limit  float64
}

// TestConcurrentFlowsAndCommands runs 200 goroutines against one sandbox (run it with -race):
// full Connect flows with code exchange and refreshes, LOCK/UNLOCK through v2.0 and v3, and
// charge-limit sets on vehicles they all share, plus concurrent reads. No request may get a
// 5xx (or any non-success), and at the end each vehicle's state must be what the last
// acknowledged command on it said.
//
// Why a per-vehicle mutex around send+record: two commands in flight on one vehicle at once
// have no order a client can observe (the server may apply A then B and still deliver B's
// answer first), so "the last acknowledged command" would not say what the final state must
// be. Holding the vehicle's mutex from send to recording the ack (with a sequence number taken
// after the response) makes the commands on one vehicle a well-defined sequence, while
// commands on other vehicles, reads, Connect flows and refreshes still race with them freely;
// that is where the store's locking is put to the test.
func TestConcurrentFlowsAndCommands(t *testing.T) {
	h := sandboxtest.MustStart(t)
	client := &http.Client{
		Timeout:   20 * time.Second,
		Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256},
		// Connect ends in a 302 to a custom scheme; nothing here follows redirects.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	shared, err := connectFlow(t, h.URL, client)
	if err != nil {
		t.Fatal(err)
	}

	vehicles := []string{teslaID, rav4ID, fordID}
	locks := make([]*lastAck, len(vehicles))  // lock state per vehicle
	limits := make([]*lastAck, len(vehicles)) // charge limit per vehicle (Tesla, RAV4)
	for i := range vehicles {
		locks[i], limits[i] = &lastAck{}, &lastAck{}
	}
	var seq atomic.Uint64
	var requests, fivexx atomic.Int64
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)

	// expect counts a request and reports anything but want.
	expect := func(what string, status int, body []byte, err error, want int) bool {
		requests.Add(1)
		if err != nil {
			t.Errorf("%s: %v", what, err)
			return false
		}
		if status >= 500 {
			fivexx.Add(1)
		}
		if status != want {
			t.Errorf("%s: got %d %.300s, want %d", what, status, body, want)
			return false
		}
		return true
	}
	// lock sends LOCK or UNLOCK through v2.0 or v3 and records the ack.
	lock := func(rng *rand.Rand, tok string, vi int) {
		lk := locks[vi]
		want := rng.IntN(2) == 0
		lk.mu.Lock()
		defer lk.mu.Unlock()
		id := vehicles[vi]
		var st int
		var body []byte
		var err error
		switch action := map[bool]string{true: "LOCK", false: "UNLOCK"}[want]; rng.IntN(2) {
		case 0:
			st, body, err = call(client, http.MethodPost, h.URL+"/v2.0/vehicles/"+id+"/security", tok, `{"action":"`+action+`"}`)
		default:
			path := map[bool]string{true: "lock", false: "unlock"}[want]
			st, body, err = call(client, http.MethodPost, h.URL+"/v3/vehicles/"+id+"/commands/security/"+path, tok, "")
		}
		if expect("lock "+id, st, body, err, http.StatusOK) {
			lk.seq, lk.locked = seq.Add(1), want
		}
	}
	setLimit := func(rng *rand.Rand, tok string, vi int) {
		lm := limits[vi]
		want := float64(50+rng.IntN(51)) / 100
		lm.mu.Lock()
		defer lm.mu.Unlock()
		st, body, err := call(client, http.MethodPost, h.URL+"/v2.0/vehicles/"+vehicles[vi]+"/charge/limit", tok, fmt.Sprintf(`{"limit":%g}`, want))
		if expect("charge limit "+vehicles[vi], st, body, err, http.StatusOK) {
			lm.seq, lm.limit = seq.Add(1), want
		}
	}
	read := func(tok string, vi int) {
		st, body, err := call(client, http.MethodGet, h.URL+"/v2.0/vehicles/"+vehicles[vi]+"/security", tok, "")
		expect("read security", st, body, err, http.StatusOK)
	}

	const goroutines = 200
	start := make(chan struct{})
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(g)))
			<-start
			switch g % 10 {
			case 0: // a whole Connect flow, two refreshes, then commands with the newest token
				tk, err := connectFlow(t, h.URL, client)
				requests.Add(6)
				if err != nil {
					t.Errorf("goroutine %d: %v", g, err)
					return
				}
				for range 2 {
					if tk, err = refresh(client, h.URL, tk.Refresh); err != nil {
						t.Errorf("goroutine %d: %v", g, err)
						return
					}
					requests.Add(1)
				}
				lock(rng, tk.Access, rng.IntN(len(vehicles)))
				st, body, err := call(client, http.MethodGet, h.URL+"/v2.0/vehicles", tk.Access, "")
				expect("vehicles list", st, body, err, http.StatusOK)
			case 1, 2: // charge limits on the two vehicles with a charge port
				for range 3 {
					setLimit(rng, shared.Access, rng.IntN(2))
					read(shared.Access, rng.IntN(len(vehicles)))
				}
			default: // lock and unlock on any vehicle, reads in between
				for range 3 {
					lock(rng, shared.Access, rng.IntN(len(vehicles)))
					read(shared.Access, rng.IntN(len(vehicles)))
				}
			}
		}()
	}
	began := time.Now()
	close(start)
	wg.Wait()
	t.Logf("%d goroutines, about %d requests in %v", goroutines, requests.Load(), time.Since(began).Round(time.Millisecond))
	if n := fivexx.Load(); n != 0 {
		t.Errorf("%d responses were 5xx", n)
	}

	for vi, id := range vehicles {
		withCharge := vi < 2
		locked, limit, err := vehicleState(client, h.URL, shared.Access, id, withCharge)
		if err != nil {
			t.Fatal(err)
		}
		if lk := locks[vi]; lk.seq == 0 {
			t.Errorf("%s: no lock command was acknowledged; the test did not exercise it", id)
		} else if locked != lk.locked {
			t.Errorf("%s: isLocked = %v, want %v (the last acknowledged command, #%d)", id, locked, lk.locked, lk.seq)
		}
		if !withCharge {
			continue
		}
		if lm := limits[vi]; lm.seq == 0 {
			t.Errorf("%s: no charge limit was acknowledged; the test did not exercise it", id)
		} else if limit != lm.limit {
			t.Errorf("%s: charge limit = %v, want %v (the last acknowledged, #%d)", id, limit, lm.limit, lm.seq)
		}
	}
}
