package vehicleapi

import (
	"testing"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
)

// TestMakeSupportTableCoversMakes keeps the coverage table in step with the make catalogue: a
// make Connect offers but the table lacks would be MAKE_NOT_COMPATIBLE everywhere.
func TestMakeSupportTableCoversMakes(t *testing.T) {
	for _, mk := range sandbox.Makes {
		s, ok := makeSupportTable[mk.ID]
		if !ok {
			t.Errorf("%s has no row in makeSupportTable", mk.ID)
			continue
		}
		if len(s.regions) == 0 || s.connected < 1990 || s.supported < s.connected {
			t.Errorf("%s: implausible row %+v", mk.ID, s)
		}
	}
	for id := range makeSupportTable {
		if _, ok := sandbox.LookupMake(id); !ok {
			t.Errorf("makeSupportTable has unknown make %s", id)
		}
	}
}

// TestEveryEndpointHasAMatrixName: a new signal or command must get the name the matrix shows.
func TestEveryEndpointHasAMatrixName(t *testing.T) {
	seen := map[string]endpoint{}
	for perm, paths := range endpointsByPermission {
		for _, path := range paths {
			e := endpoint{path, perm}
			name, ok := endpointNames[e]
			if !ok {
				t.Errorf("no matrix name for %s /%s", perm, path)
				continue
			}
			if other, dup := seen[name]; dup {
				t.Errorf("%q names both %v and %v", name, other, e)
			}
			seen[name] = e
		}
	}
}

// TestJudgeByMakeYearAndRegion walks every make of the table across its year boundaries and
// the regions: the answer follows the row, never the make's name.
func TestJudgeByMakeYearAndRegion(t *testing.T) {
	scope := []string{"read_odometer"}
	verdict := func(c Compatibility) string {
		switch {
		case !c.Compatible:
			return *c.Reason
		case len(c.Capabilities) == 0:
			return "compatible"
		case c.Capabilities[0].Capable:
			return "capable"
		}
		return *c.Capabilities[0].Reason
	}
	for id, s := range makeSupportTable {
		years := []struct {
			year int
			want string
		}{
			{s.connected - 1, reasonVehicleNotCompatible},
			{s.connected, "capable"},
			{s.supported, "capable"},
			{0, "capable"}, // year unknown: the benefit of the doubt
		}
		if s.supported > s.connected {
			years[1].want = reasonSmartcarNotCapable
			years = append(years, struct {
				year int
				want string
			}{s.supported - 1, reasonSmartcarNotCapable})
		}
		for _, y := range years {
			if got := verdict(judge(vehicleFacts{make: id, year: y.year}, "US", scope)); got != y.want {
				t.Errorf("%s %d in US: %s, want %s", id, y.year, got, y.want)
			}
			// A vehicle the sandbox serves is connected and served whatever its year.
			if got := verdict(judge(vehicleFacts{make: id, year: y.year, served: true}, "US", scope)); got != "capable" {
				t.Errorf("served %s %d: %s, want capable", id, y.year, got)
			}
		}
		for country, region := range map[string]string{"US": regionUS, "CA": regionCanada, "DE": regionEurope, "GB": regionEurope} {
			want := reasonMakeNotCompatible
			if s.in(region) {
				want = "capable"
				if country != "US" {
					want = "compatible" // capabilities are for the United States only
				}
			}
			if got := verdict(judge(vehicleFacts{make: id, year: s.supported}, country, scope)); got != want {
				t.Errorf("%s in %s: %s, want %s", id, country, got, want)
			}
		}
	}
	if got := verdict(judge(vehicleFacts{make: "TESLA", year: 2020}, "JP", scope)); got != reasonMakeNotCompatible {
		t.Errorf("a country in no region: %s", got)
	}
	if got := verdict(judge(vehicleFacts{year: 2020}, "US", scope)); got != reasonMakeNotCompatible {
		t.Errorf("no make: %s", got)
	}
}
