package sandbox_test

import (
	"reflect"
	"testing"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/fixtures"
)

// Clone gives a copy equal to the original, but for empty lists, which come back nil (nil
// lists and parts included), and shares nothing with it.
func TestCloneSharesNothing(t *testing.T) {
	vehicles := fixtures.GenerateDataset(200).Vehicles
	vehicles = append(vehicles, sandbox.Vehicle{ID: "empty"}, sandbox.Vehicle{ID: "empty-lists",
		State: sandbox.VehicleState{Security: sandbox.Security{Doors: []sandbox.Opening{}, Windows: []sandbox.Opening{{Type: "w", Status: "OPEN"}}}}})
	for _, v := range vehicles {
		got := v.Clone()
		if want := withoutEmptyLists(v); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: Clone = %+v, want %+v", v.ID, got, want)
		}
		var into sandbox.Vehicle
		v.CloneInto(&into)
		if !reflect.DeepEqual(into, got) {
			t.Fatalf("%s: CloneInto = %+v, want %+v", v.ID, into, got)
		}
		assertNoAlias(t, v, got)
		assertNoAlias(t, v, into)
	}
}

// withoutEmptyLists is v with its empty opening lists made nil.
func withoutEmptyLists(v sandbox.Vehicle) sandbox.Vehicle {
	for _, l := range []*[]sandbox.Opening{&v.State.Security.Doors, &v.State.Security.Windows, &v.State.Security.Sunroof,
		&v.State.Security.Storage, &v.State.Security.ChargingPort} {
		if len(*l) == 0 {
			*l = nil
		}
	}
	return v
}

func assertNoAlias(t *testing.T, orig, c sandbox.Vehicle) {
	t.Helper()
	o, s := &orig.State, &c.State
	if s.Fuel != nil && s.Fuel == o.Fuel || s.Battery != nil && s.Battery == o.Battery ||
		s.Charge != nil && s.Charge == o.Charge || s.EngineOil != nil && s.EngineOil == o.EngineOil {
		t.Fatalf("%s: a part of the copy is the original's", orig.ID)
	}
	lists := []struct{ orig, copy []sandbox.Opening }{
		{o.Security.Doors, s.Security.Doors}, {o.Security.Windows, s.Security.Windows},
		{o.Security.Sunroof, s.Security.Sunroof}, {o.Security.Storage, s.Security.Storage},
		{o.Security.ChargingPort, s.Security.ChargingPort},
	}
	for i, l := range lists {
		if len(l.copy) > 0 && &l.copy[0] == &l.orig[0] {
			t.Fatalf("%s: list %d of the copy is the original's", orig.ID, i)
		}
		if cap(l.copy) != len(l.copy) {
			t.Fatalf("%s: list %d has capacity %d beyond its length %d", orig.ID, i, cap(l.copy), len(l.copy))
		}
	}
}

// Appending to one list of the copy must not overwrite the next one (they share an array).
func TestCloneAppendDoesNotSpill(t *testing.T) {
	v := sandbox.Vehicle{State: sandbox.VehicleState{Security: sandbox.Security{
		Doors:   []sandbox.Opening{{Type: "frontLeft", Status: "LOCKED"}},
		Windows: []sandbox.Opening{{Type: "frontLeft", Status: "CLOSED"}},
	}}}
	c := v.Clone()
	c.State.Security.Doors = append(c.State.Security.Doors, sandbox.Opening{Type: "extra", Status: "UNLOCKED"})
	c.State.Security.Doors[0].Status = "UNLOCKED"
	if got, want := c.State.Security.Windows, v.State.Security.Windows; !reflect.DeepEqual(got, want) {
		t.Errorf("windows after an append to doors = %v, want %v", got, want)
	}
	if got := v.State.Security.Doors[0].Status; got != "LOCKED" {
		t.Errorf("original door after changing the copy = %s, want LOCKED", got)
	}
}
