package store

import (
	"errors"
	"testing"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
)

func TestObserversSeeCommittedChangesAndSmartcarRefusals(t *testing.T) {
	s := MustOpen(t, "", nil)
	id := testDataset().Vehicles[0].ID
	type change struct{ before, after float64 }
	var changes []change
	var refusals []string
	s.OnVehicleChange(func(before, after sandbox.Vehicle) {
		// The store's lock is not held: reading it from here must not deadlock.
		if _, ok := s.Vehicle(after.ID); !ok {
			t.Errorf("vehicle %s not readable from the observer", after.ID)
		}
		changes = append(changes, change{before.State.OdometerKm, after.State.OdometerKm})
	})
	s.OnVehicleError(func(v sandbox.Vehicle, err *sandbox.Error) { refusals = append(refusals, v.ID+" "+err.Code) })

	if _, err := s.UpdateVehicle(id, func(v *sandbox.Vehicle) error { v.State.OdometerKm = 150; return nil }); err != nil {
		t.Fatal(err)
	}
	inMotion := sandbox.NewError(sandbox.TypeVehicleState, "IN_MOTION", "driving")
	if _, err := s.UpdateVehicle(id, func(v *sandbox.Vehicle) error { v.State.OdometerKm = 999; return inMotion }); err != inMotion {
		t.Fatalf("err = %v, want the refusal as is", err)
	}
	// A plain Go error is no Smartcar event: no error observer call.
	if _, err := s.UpdateVehicle(id, func(*sandbox.Vehicle) error { return errors.New("skip") }); err == nil {
		t.Fatal("want the plain error back")
	}

	if want := []change{{100, 150}}; len(changes) != 1 || changes[0] != want[0] {
		t.Errorf("changes = %v, want %v", changes, want)
	}
	if want := id + " IN_MOTION"; len(refusals) != 1 || refusals[0] != want {
		t.Errorf("refusals = %v, want [%s]", refusals, want)
	}
}
