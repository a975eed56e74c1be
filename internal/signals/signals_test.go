package signals_test

import (
	"slices"
	"testing"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/fixtures"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/scapi"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/signals"
)

func vehicle(pt sandbox.Powertrain) sandbox.Vehicle {
	return sandbox.Vehicle{ID: "v", Make: "TESLA", VIN: "5YJ3E1EA9NF100001", Powertrain: pt, State: fixtures.DefaultState(pt)}
}

// The catalogue is one list: every code once, found by Lookup and Known, listed by All and
// Infos in the same order.
func TestCatalogue(t *testing.T) {
	var codes []string
	for s := range signals.All() {
		codes = append(codes, s.Code)
		if got, ok := signals.Lookup(s.Code); !ok || got != s {
			t.Errorf("Lookup(%q) = %v, %v; want the catalogue's entry", s.Code, got, ok)
		}
		if !signals.Known(s.Code) {
			t.Errorf("Known(%q) = false", s.Code)
		}
		if s.Permission == "" || s.Name == "" || s.Group == "" {
			t.Errorf("%s lacks a name, group or permission: %+v", s.Code, s.Info)
		}
	}
	var infos []string
	for _, i := range signals.Infos() {
		infos = append(infos, i.Code)
	}
	if !slices.Equal(codes, infos) {
		t.Errorf("All and Infos disagree:\n%v\n%v", codes, infos)
	}
	sorted := slices.Clone(codes)
	slices.Sort(sorted)
	if len(slices.Compact(sorted)) != len(codes) {
		t.Errorf("a code is catalogued twice")
	}
	for _, unknown := range []string{"", "odometer", "Odometer-TraveledDistance"} {
		if signals.Known(unknown) {
			t.Errorf("Known(%q) = true", unknown)
		}
	}
}

// Values renders what a webhook carries: the signals the vehicle has, asked for or all, with
// the same body a read of the signal has (metric).
func TestValues(t *testing.T) {
	bev, ice := vehicle(sandbox.BEV), vehicle(sandbox.ICE)
	tests := []struct {
		name  string
		v     sandbox.Vehicle
		codes []string
		want  []string
	}{
		{"asked, in the order asked; what the vehicle lacks or the sandbox does not serve is left out", bev,
			[]string{"tractionbattery-stateofcharge", "internalcombustionengine-fuellevel", "nope", "odometer-traveleddistance"},
			[]string{"tractionbattery-stateofcharge", "odometer-traveleddistance"}},
		{"an ICE has fuel, no battery", ice,
			[]string{"tractionbattery-stateofcharge", "internalcombustionengine-fuellevel"},
			[]string{"internalcombustionengine-fuellevel"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, sv := range signals.Values(tt.v, tt.codes) {
				got = append(got, sv.Code)
				s, _ := signals.Lookup(sv.Code)
				if sv.Name != s.Name || sv.Group != s.Group {
					t.Errorf("%s: name/group %s/%s, want %s/%s", sv.Code, sv.Name, sv.Group, s.Name, s.Group)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Values = %v, want %v", got, tt.want)
			}
		})
	}
	var all, has []string
	for _, sv := range signals.Values(bev, nil) {
		all = append(all, sv.Code)
	}
	for s := range signals.All() {
		if s.Has(bev) {
			has = append(has, s.Code)
			if s.Code == "odometer-traveleddistance" && s.Body(bev, scapi.Imperial) == s.Body(bev, scapi.Metric) {
				t.Errorf("the odometer's body does not follow the unit system")
			}
		}
	}
	if len(all) == 0 || !slices.Equal(all, has) {
		t.Errorf("Values(v, nil) = %v, want every signal the vehicle has: %v", all, has)
	}
}
