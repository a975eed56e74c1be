package store

import (
	"errors"
	"sync"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
)

// observers are the callbacks told about vehicle changes and refused vehicle updates. They
// have their own lock so a callback may read the store (the store's lock is not held when
// they run).
type observers struct {
	mu     sync.RWMutex
	change []func(before, after sandbox.Vehicle)
	errs   []func(v sandbox.Vehicle, err *sandbox.Error)
}

// OnVehicleChange registers fn to be called after every committed UpdateVehicle, outside the
// store's lock, with copies of the vehicle before and after. fn runs on the updater's
// goroutine, so it must be quick (hand slow work to a goroutine).
func (s *Store) OnVehicleChange(fn func(before, after sandbox.Vehicle)) {
	s.obs.mu.Lock()
	s.obs.change = append(s.obs.change, fn)
	s.obs.mu.Unlock()
}

// OnVehicleError registers fn to be called when an UpdateVehicle is refused with a Smartcar
// error (e.g. a command failing by the vehicle's state), with the unchanged vehicle.
func (s *Store) OnVehicleError(fn func(v sandbox.Vehicle, err *sandbox.Error)) {
	s.obs.mu.Lock()
	s.obs.errs = append(s.obs.errs, fn)
	s.obs.mu.Unlock()
}

// notifyChange runs the change observers. before and after are values the store no longer
// mutates (updates replace the map entry), so they are cloned here, outside the lock.
func (s *Store) notifyChange(before, after *sandbox.Vehicle) {
	s.obs.mu.RLock()
	fns := s.obs.change
	s.obs.mu.RUnlock()
	for _, fn := range fns {
		fn(before.Clone(), after.Clone())
	}
}

func (s *Store) notifyError(v *sandbox.Vehicle, err error) {
	var se *sandbox.Error
	if !errors.As(err, &se) {
		return
	}
	s.obs.mu.RLock()
	fns := s.obs.errs
	s.obs.mu.RUnlock()
	for _, fn := range fns {
		fn(v.Clone(), se)
	}
}
