package simulator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
)

// Options configure a Simulator.
type Options struct {
	Store *store.Store
	// Now is the sandbox clock (moving it forward moves the simulation); nil means time.Now.
	Now func() time.Time
	// Seed makes the trip profiles; the same seed gives the same trips.
	Seed int64
	// Speedup is simulated time per real time: 60 makes a real minute a simulated hour.
	Speedup float64
	// Tick is how often Run advances the vehicles; 0 means one second.
	Tick   time.Duration
	Logger *slog.Logger
}

// Simulator advances simulated vehicles in the store.
type Simulator struct {
	o      Options
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
}

// New checks the options.
func New(o Options) (*Simulator, error) {
	if o.Store == nil {
		return nil, errors.New("simulator: a store is required")
	}
	if o.Speedup <= 0 {
		return nil, fmt.Errorf("simulator: speed-up must be > 0, got %v", o.Speedup)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Tick <= 0 {
		o.Tick = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Simulator{o: o}, nil
}

// errUnchanged skips the store write when a tick changes nothing (a parked vehicle). It is
// not a Smartcar error, so no observer hears of it.
var errUnchanged = errors.New("simulator: unchanged")

// Step advances every simulated vehicle to the clock's now. A vehicle is simulated when its
// fixture says mode: simulated, when any grant to it was made with mode=simulated, or once it
// has joined (it then stays in the simulation until the store is reset). A vehicle joins at
// the first Step that sees it.
func (s *Simulator) Step() error {
	s.mu.Lock() // one Step at a time: Run and a test may both call it
	defer s.mu.Unlock()
	// Sandboxes sharing one PostgreSQL share the vehicles: one of them moves them (another
	// takes over when it stops), so they never fight over a vehicle.
	if !s.o.Store.Leads("simulator") {
		return nil
	}
	now := s.o.Now()
	var errs []error
	for _, id := range s.o.Store.SimulatedVehicleIDs() {
		_, err := s.o.Store.UpdateVehicle(id, func(cur *sandbox.Vehicle) error {
			Join(cur, now)
			elapsed := time.Duration(float64(now.Sub(cur.State.Trip.JoinedAt)) * s.o.Speedup)
			next := Advance(s.o.Seed, *cur, elapsed)
			next.State.UpdatedAt = cur.State.UpdatedAt
			if reflect.DeepEqual(next, *cur) {
				return errUnchanged
			}
			next.State.UpdatedAt = now.UTC()
			*cur = next
			return nil
		})
		if err != nil && !errors.Is(err, errUnchanged) && !errors.Is(err, store.ErrNotFound) {
			errs = append(errs, fmt.Errorf("vehicle %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

// Start runs Step every tick in the background until Stop.
func (s *Simulator) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan struct{})
	go func() {
		defer close(s.done)
		t := time.NewTicker(s.o.Tick)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := s.Step(); err != nil {
					s.o.Logger.Error("simulator step", "error", err)
				}
			}
		}
	}()
}

// Stop ends Start's loop and waits for it.
func (s *Simulator) Stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	<-s.done
	s.cancel = nil
}
