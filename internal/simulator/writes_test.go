package simulator_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	defaultfixtures "github.com/smartcar-sandbox/smartcar-sandbox/fixtures"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/fixtures"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/simulator"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
)

// recordingBackend notes the records each commit writes.
type recordingBackend struct {
	store.Backend
	mu      sync.Mutex
	commits [][]string // kind/key of each commit's records
}

func (r *recordingBackend) Commit(full bool, changes []store.Record) error {
	var keys []string
	for _, c := range changes {
		keys = append(keys, c.Kind+"/"+c.Key)
	}
	r.mu.Lock()
	r.commits = append(r.commits, keys)
	r.mu.Unlock()
	return r.Backend.Commit(full, changes)
}

func (r *recordingBackend) take() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.commits
	r.commits = nil
	return out
}

// With a durable store a tick writes the records of the vehicles it moved, each alone, and
// nothing else: no tick rewrites the state, and a tick that moves nothing writes nothing.
func TestTickWritesOnlyWhatChanged(t *testing.T) {
	ds, err := fixtures.Load(defaultfixtures.FS)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range ds.Vehicles {
		if v.ID == tesla || v.ID == ford {
			ds.Vehicles[i].Mode = sandbox.ModeSimulated
		}
	}
	sqlite, err := store.OpenSQLite(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b := &recordingBackend{Backend: sqlite}
	st, err := store.New(ds, store.Options{Backend: b})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	sim, err := simulator.New(simulator.Options{Store: st, Now: func() time.Time { return now }, Seed: seed, Speedup: speedup})
	if err != nil {
		t.Fatal(err)
	}
	written := func() []string {
		var all []string
		for _, c := range b.take() {
			if len(c) != 1 {
				t.Errorf("a commit of %d records %v, want one vehicle each", len(c), c)
			}
			all = append(all, c...)
		}
		slices.Sort(all)
		return all
	}
	want := []string{"vehicle/" + ford, "vehicle/" + tesla}
	step(t, sim) // both join
	if got := written(); !slices.Equal(got, want) {
		t.Errorf("joining wrote %v, want %v", got, want)
	}
	step(t, sim) // the same instant: nothing moved
	if got := written(); len(got) != 0 {
		t.Errorf("a tick that moved nothing wrote %v", got)
	}
	now = now.Add(real(5 * time.Minute))
	step(t, sim)
	if got := written(); !slices.Equal(got, want) {
		t.Errorf("a tick wrote %v, want only the two simulated vehicles %v", got, want)
	}
}
