package store

import (
	"reflect"
	"slices"
	"testing"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
)

// An editor that empties a fixture file before writing it again makes a reload see no
// accounts for a moment. The grants of that moment's missing vehicles must come back with
// them, and a grant the app disconnected or a Reset cleared must not.
func TestReloadSetsGrantsAsideUntilTheirVehicleReturns(t *testing.T) {
	full := testDataset()
	second := sandbox.Vehicle{ID: "22222222-2222-4222-8222-222222222222", Make: "BMW", Model: "i3", Year: 2020, Powertrain: sandbox.BEV}
	full.Vehicles = append(full.Vehicles, second)
	full.Accounts = append(full.Accounts, sandbox.Account{Username: "bob", UserID: "u2", VehicleIDs: []string{second.ID}})
	first := full.Vehicles[0].ID
	empty := sandbox.Dataset{Applications: full.Applications}

	s, err := New(full, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Connect(
		sandbox.Grant{ClientID: "app", UserID: "u1", VehicleID: first, Permissions: []string{"read_odometer"}},
		sandbox.Grant{ClientID: "app", UserID: "u2", VehicleID: second.ID, Permissions: []string{"read_vin"}},
	); err != nil {
		t.Fatal(err)
	}
	before := s.Grants(GrantFilter{})

	steps := []struct {
		name string
		ds   sandbox.Dataset
		do   func() // before the reload
		want ReloadResult
		// granted is the vehicles with a grant after the step.
		granted []string
	}{
		{"file emptied", empty, nil,
			ReloadResult{GrantsDropped: 2, DroppedVehicleIDs: []string{first, second.ID}, GrantsWaiting: 2}, nil},
		{"emptied again: nothing new dropped", empty, nil,
			ReloadResult{GrantsWaiting: 2}, nil},
		{"file written back", full, nil,
			ReloadResult{GrantsRestored: 2}, []string{first, second.ID}},
		{"one vehicle removed, then its grant disconnected", sandbox.Dataset{Applications: full.Applications, Accounts: full.Accounts[:1], Vehicles: full.Vehicles[:1]}, nil,
			ReloadResult{GrantsKept: 1, GrantsDropped: 1, DroppedVehicleIDs: []string{second.ID}, GrantsWaiting: 1}, []string{first}},
		{"disconnected while away: stays gone", full, func() {
			if _, err := s.Disconnect(GrantFilter{ClientID: "app", UserID: "u2"}); err != nil {
				t.Fatal(err)
			}
		}, ReloadResult{GrantsKept: 1}, []string{first}},
		{"reset while away: stays gone", full, func() {
			if _, err := s.Reload(empty); err != nil {
				t.Fatal(err)
			}
			if err := s.Reset(&empty); err != nil {
				t.Fatal(err)
			}
		}, ReloadResult{}, nil},
	}
	for _, st := range steps {
		if st.do != nil {
			st.do()
		}
		res, err := s.Reload(st.ds)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if !reflect.DeepEqual(res, st.want) {
			t.Errorf("%s: Reload = %+v, want %+v", st.name, res, st.want)
		}
		var granted []string
		for _, g := range s.Grants(GrantFilter{}) {
			granted = append(granted, g.VehicleID)
		}
		slices.Sort(granted)
		if !slices.Equal(granted, st.granted) {
			t.Errorf("%s: grants on %v, want %v", st.name, granted, st.granted)
		}
		if st.name == "file written back" && !reflect.DeepEqual(s.Grants(GrantFilter{}), before) {
			t.Errorf("restored grants = %+v\nwant the originals %+v", s.Grants(GrantFilter{}), before)
		}
	}
}
