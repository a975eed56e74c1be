package vehicleapiv3_test

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
)

// reader reads one vehicle through both APIs with one token and unit system.
type reader struct {
	t     *testing.T
	h     *sandboxtest.Harness
	tok   string
	id    string
	units string
}

// v2 reads a v2.0 endpoint into out; it returns the HTTP status (and leaves out alone on an
// error status).
func (r reader) v2(path string, out any) int {
	r.t.Helper()
	res := r.h.Do(r.t, "GET", "/v2.0/vehicles/"+r.id+path, r.tok, nil, "sc-unit-system", r.units)
	if res.Status == 404 {
		r.t.Fatalf("v2.0 %s answered 404 — is the v2.0 API mounted? %s", path, res.Body)
	}
	if res.Status == 200 {
		res.JSON(r.t, out)
	}
	return res.Status
}

// v3 reads a signal's body into out and returns the HTTP status.
func (r reader) v3(code string, out any) int {
	r.t.Helper()
	res := r.h.Do(r.t, "GET", "/v3/vehicles/"+r.id+"/signals/"+code, r.tok, nil, "sc-unit-system", r.units)
	if res.Status == 200 {
		var sig signal
		res.JSON(r.t, &sig)
		if err := json.Unmarshal(sig.Attributes.Body, out); err != nil {
			r.t.Fatalf("%s body: %v", code, err)
		}
	}
	return res.Status
}

type v3Value struct {
	Unit  string  `json:"unit"`
	Value float64 `json:"value"`
}

type v3Bool struct {
	Value bool `json:"value"`
}

type v3Grid struct {
	Values []struct {
		Row, Column int
		IsOpen      bool  `json:"isOpen"`
		IsLocked    *bool `json:"isLocked"`
	} `json:"values"`
}

// cellOf is where v2.0's corner names sit in v3's grid (row 0 front, column 0 left).
var cellOf = map[string][2]int{"frontLeft": {0, 0}, "frontRight": {0, 1}, "backLeft": {1, 0}, "backRight": {1, 1}}

func near(a, b float64) bool { return math.Abs(a-b) <= 0.011 }

// agree compares every v2.0 endpoint with its v3 signals for the reader's vehicle.
func agree(r reader) {
	t := r.t
	t.Helper()
	same := func(what string, v2status, v3status int, v2, v3 float64) {
		t.Helper()
		if v2status != v3status {
			t.Errorf("%s: v2.0 status %d, v3 status %d", what, v2status, v3status)
			return
		}
		if v2status == 200 && !near(v2, v3) {
			t.Errorf("%s: v2.0 %v, v3 %v", what, v2, v3)
		}
	}
	sameBool := func(what string, v2status, v3status int, v2, v3 bool) {
		t.Helper()
		if v2status != v3status {
			t.Errorf("%s: v2.0 status %d, v3 status %d", what, v2status, v3status)
		} else if v2status == 200 && v2 != v3 {
			t.Errorf("%s: v2.0 %v, v3 %v", what, v2, v3)
		}
	}
	distanceUnit := map[string]string{"metric": "kilometers", "imperial": "miles"}[r.units]
	volumeUnit := map[string]string{"metric": "liters", "imperial": "gallons"}[r.units]
	unit := func(what string, status int, got v3Value, want string) {
		t.Helper()
		if status == 200 && got.Unit != want {
			t.Errorf("%s: unit %q, want %q", what, got.Unit, want)
		}
	}

	var odo struct{ Distance float64 }
	var dist v3Value
	s2, s3 := r.v2("/odometer", &odo), r.v3("odometer-traveleddistance", &dist)
	same("odometer", s2, s3, odo.Distance, dist.Value)
	unit("odometer", s3, dist, distanceUnit)

	var loc struct{ Latitude, Longitude float64 }
	var ploc struct{ Latitude, Longitude float64 }
	s2, s3 = r.v2("/location", &loc), r.v3("location-preciselocation", &ploc)
	same("latitude", s2, s3, loc.Latitude, ploc.Latitude)
	same("longitude", s2, s3, loc.Longitude, ploc.Longitude)

	var fuel struct{ Range, PercentRemaining, AmountRemaining float64 }
	var level, amount, frange v3Value
	s2 = r.v2("/fuel", &fuel)
	same("fuel percent", s2, r.v3("internalcombustionengine-fuellevel", &level), fuel.PercentRemaining*100, level.Value)
	s3 = r.v3("internalcombustionengine-amountremaining", &amount)
	same("fuel amount", s2, s3, fuel.AmountRemaining, amount.Value)
	unit("fuel amount", s3, amount, volumeUnit)
	s3 = r.v3("internalcombustionengine-range", &frange)
	same("fuel range", s2, s3, fuel.Range, frange.Value)
	unit("fuel range", s3, frange, distanceUnit)

	var batt struct{ Range, PercentRemaining float64 }
	var soc, brange v3Value
	s2 = r.v2("/battery", &batt)
	same("battery percent", s2, r.v3("tractionbattery-stateofcharge", &soc), batt.PercentRemaining*100, soc.Value)
	s3 = r.v3("tractionbattery-range", &brange)
	same("battery range", s2, s3, batt.Range, brange.Value)
	unit("battery range", s3, brange, distanceUnit)

	var capa struct{ Capacity float64 }
	var nominal struct{ Capacity float64 }
	same("battery capacity", r.v2("/battery/capacity", &capa), r.v3("tractionbattery-nominalcapacity", &nominal), capa.Capacity, nominal.Capacity)

	var charge struct {
		IsPluggedIn bool
		State       string
	}
	var plugged, charging v3Bool
	s2 = r.v2("/charge", &charge)
	sameBool("plugged in", s2, r.v3("charge-ischargingcableconnected", &plugged), charge.IsPluggedIn, plugged.Value)
	sameBool("charging", s2, r.v3("charge-ischarging", &charging), charge.State == sandbox.ChargeCharging, charging.Value)

	var limit struct{ Limit float64 }
	var active v3Value
	var limits struct{ ActiveLimit float64 }
	s2 = r.v2("/charge/limit", &limit)
	same("charge limit", s2, r.v3("charge-activelimit", &active), limit.Limit*100, active.Value)
	same("charge limits", s2, r.v3("charge-chargelimits", &limits), limit.Limit*100, limits.ActiveLimit)

	var oil struct{ LifeRemaining float64 }
	var oilLife v3Value
	same("oil life", r.v2("/engine/oil", &oil), r.v3("internalcombustionengine-oillife", &oilLife), oil.LifeRemaining*100, oilLife.Value)

	var vin struct{ Vin string }
	var v3vin struct{ Value string }
	if s2, s3 := r.v2("/vin", &vin), r.v3("vehicleidentification-vin", &v3vin); s2 != s3 || vin.Vin != v3vin.Value {
		t.Errorf("vin: v2.0 %d %q, v3 %d %q", s2, vin.Vin, s3, v3vin.Value)
	}

	var tires struct{ FrontLeft, FrontRight, BackLeft, BackRight float64 }
	var wheels struct {
		Values []struct {
			Row, Column int
			Pressure    float64
			Unit        string
		}
	}
	s2, s3 = r.v2("/tires/pressure", &tires), r.v3("wheel-tires", &wheels)
	if s2 != s3 {
		t.Errorf("tires: v2.0 status %d, v3 %d", s2, s3)
	} else if s2 == 200 {
		byCell := map[[2]int]float64{{0, 0}: tires.FrontLeft, {0, 1}: tires.FrontRight, {1, 0}: tires.BackLeft, {1, 1}: tires.BackRight}
		for _, w := range wheels.Values {
			if !near(byCell[[2]int{w.Row, w.Column}], w.Pressure) {
				t.Errorf("tire %d,%d: v2.0 %v, v3 %v %s", w.Row, w.Column, byCell[[2]int{w.Row, w.Column}], w.Pressure, w.Unit)
			}
		}
		if len(wheels.Values) != 4 {
			t.Errorf("wheel-tires has %d tires", len(wheels.Values))
		}
	}

	// Diagnostics: v2.0's trouble codes and system statuses are v3's dtclist and statuses.
	var dtcs struct{ ActiveCodes []struct{ Code string } }
	var dtcList struct{ Values []struct{ Code string } }
	var dtcCount struct{ Value int }
	s2 = r.v2("/diagnostics/dtcs", &dtcs)
	if s3 := r.v3("diagnostics-dtclist", &dtcList); s2 == 200 && s3 == 200 {
		if len(dtcs.ActiveCodes) != len(dtcList.Values) {
			t.Errorf("dtcs: v2.0 %v, v3 %v", dtcs.ActiveCodes, dtcList.Values)
		}
		for i := range min(len(dtcs.ActiveCodes), len(dtcList.Values)) {
			if dtcs.ActiveCodes[i].Code != dtcList.Values[i].Code {
				t.Errorf("dtc %d: v2.0 %s, v3 %s", i, dtcs.ActiveCodes[i].Code, dtcList.Values[i].Code)
			}
		}
		if r.v3("diagnostics-dtccount", &dtcCount) != 200 || dtcCount.Value != len(dtcs.ActiveCodes) {
			t.Errorf("dtccount %d, v2.0 has %d codes", dtcCount.Value, len(dtcs.ActiveCodes))
		}
	}
	var status struct {
		Systems []struct{ SystemID, Status string }
	}
	if r.v2("/diagnostics/system_status", &status) == 200 {
		for _, sys := range status.Systems {
			code := map[string]string{"SYSTEM_TPMS": "diagnostics-tirepressure", "SYSTEM_OIL_LIFE": "diagnostics-oillife",
				"SYSTEM_AIRBAG": "diagnostics-airbag", "SYSTEM_BRAKE_FLUID": "diagnostics-brakefluid",
				"SYSTEM_EV_BATTERY_CONDITIONING": "diagnostics-evbatteryconditioning"}[sys.SystemID]
			if code == "" {
				continue
			}
			var d struct{ Status string }
			if s3 := r.v3(code, &d); s3 != 200 || d.Status != sys.Status {
				t.Errorf("%s: v2.0 %s, v3 %s %d %s", sys.SystemID, sys.Status, code, s3, d.Status)
			}
		}
	}

	var chargeState struct{ State string }
	var detailed struct{ Value string }
	if s2, s3 := r.v2("/charge", &chargeState), r.v3("charge-detailedchargingstatus", &detailed); s2 != s3 || (s2 == 200 && chargeState.State != detailed.Value) {
		t.Errorf("charge state: v2.0 %d %s, v3 %d %s", s2, chargeState.State, s3, detailed.Value)
	}

	var sec struct {
		IsLocked     bool
		Doors        []sandbox.Opening
		Windows      []sandbox.Opening
		ChargingPort []sandbox.Opening
	}
	var locked v3Bool
	var doors, windows v3Grid
	s2 = r.v2("/security", &sec)
	sameBool("is locked", s2, r.v3("closure-islocked", &locked), sec.IsLocked, locked.Value)
	if s2 != 200 {
		return
	}
	var flap v3Bool
	if s3 := r.v3("charge-ischargingportflapopen", &flap); (s3 == 200) != (len(sec.ChargingPort) > 0) {
		t.Errorf("charging port: v2.0 has %d, v3 status %d", len(sec.ChargingPort), s3)
	} else if s3 == 200 && flap.Value != (sec.ChargingPort[0].Status == sandbox.StatusOpen) {
		t.Errorf("charging port: v2.0 %s, v3 flap open %v", sec.ChargingPort[0].Status, flap.Value)
	}
	if r.v3("closure-doors", &doors) == 200 {
		for _, d := range sec.Doors {
			c, ok := cellOf[d.Type]
			found := false
			for _, cell := range doors.Values {
				if ok && cell.Row == c[0] && cell.Column == c[1] {
					found = true
					if cell.IsLocked == nil || *cell.IsLocked != (d.Status == sandbox.StatusLocked) {
						t.Errorf("door %s: v2.0 %s, v3 %+v", d.Type, d.Status, cell)
					}
				}
			}
			if !found {
				t.Errorf("door %s of v2.0 is not in v3's closure-doors %+v", d.Type, doors)
			}
		}
	} else if len(sec.Doors) > 0 {
		t.Errorf("v2.0 has %d doors, v3 closure-doors is unavailable", len(sec.Doors))
	}
	if r.v3("closure-windows", &windows) == 200 {
		for _, w := range sec.Windows {
			c := cellOf[w.Type]
			for _, cell := range windows.Values {
				if cell.Row == c[0] && cell.Column == c[1] && cell.IsOpen != (w.Status == sandbox.StatusOpen) {
					t.Errorf("window %s: v2.0 %s, v3 isOpen %v", w.Type, w.Status, cell.IsOpen)
				}
			}
		}
		if len(windows.Values) != len(sec.Windows) {
			t.Errorf("v2.0 has %d windows, v3 %d", len(sec.Windows), len(windows.Values))
		}
	} else if len(sec.Windows) > 0 {
		t.Errorf("v2.0 has %d windows, v3 closure-windows is unavailable", len(sec.Windows))
	}
}

// One state, two APIs: for every fixture vehicle, in both unit systems, each v2.0 endpoint
// and its v3 signals agree, before and after commands sent through either API.
func TestV2AndV3Agree(t *testing.T) {
	h := sandboxtest.MustStart(t)
	if len(h.Dataset.Accounts) == 0 {
		t.Fatal("no fixture accounts")
	}
	vehicles := 0
	for _, acct := range h.Dataset.Accounts {
		tok, _ := h.Connect(t, sandboxtest.ClientID, acct.Username, sandboxtest.AllPermissions()...)
		for _, id := range acct.VehicleIDs {
			vehicles++
			v, _ := h.Store.Vehicle(id)
			t.Run(fmt.Sprintf("%s %s %s", v.Make, v.Model, v.Powertrain), func(t *testing.T) {
				both := func(step string) {
					for _, units := range []string{"metric", "imperial"} {
						t.Run(step+"/"+units, func(t *testing.T) {
							agree(reader{t: t, h: h, tok: tok, id: id, units: units})
						})
					}
				}
				both("fixture")
				if len(v.State.Security.Doors) == 0 {
					return
				}
				// v3 lock, then v2.0 reads it.
				if res := h.Do(t, "POST", "/v3/vehicles/"+id+"/commands/security/lock", tok, nil); res.Status != 200 {
					t.Fatalf("v3 lock: %d %s", res.Status, res.Body)
				}
				var sec struct{ IsLocked bool }
				h.Do(t, "GET", "/v2.0/vehicles/"+id+"/security", tok, nil).JSON(t, &sec)
				if !sec.IsLocked {
					t.Error("v2.0 isLocked false after v3 lock")
				}
				both("after v3 lock")
				// v2.0 unlock, then v3 reads it.
				if res := h.Do(t, "POST", "/v2.0/vehicles/"+id+"/security", tok, map[string]string{"action": "UNLOCK"}); res.Status != 200 {
					t.Fatalf("v2.0 unlock: %d %s", res.Status, res.Body)
				}
				var locked signal
				h.Do(t, "GET", "/v3/vehicles/"+id+"/signals/closure-islocked", tok, nil).JSON(t, &locked)
				if string(locked.Attributes.Body) != `{"value":false}` {
					t.Errorf("v3 closure-islocked %s after v2.0 UNLOCK", locked.Attributes.Body)
				}
				both("after v2.0 unlock")
				if v.State.Charge == nil {
					return
				}
				// A v3 charge limit shows in v2.0, and a v2.0 one in v3.
				if res := h.Do(t, "POST", "/v3/vehicles/"+id+"/commands/charge/set-limit", tok, map[string]any{"data": map[string]any{"attributes": map[string]int{"percent": 65}}}); res.Status != 200 {
					t.Fatalf("v3 limit: %d %s", res.Status, res.Body)
				}
				both("after v3 charge limit")
				if res := h.Do(t, "POST", "/v2.0/vehicles/"+id+"/charge/limit", tok, map[string]float64{"limit": 0.85}); res.Status != 200 {
					t.Fatalf("v2.0 limit: %d %s", res.Status, res.Body)
				}
				both("after v2.0 charge limit")
				// A v3 charge-port command shows in v2.0's security.
				if len(v.State.Security.ChargingPort) > 0 && !v.State.Charge.IsPluggedIn {
					if res := h.Do(t, "POST", "/v3/vehicles/"+id+"/commands/charge-port/close", tok, nil); res.Status != 200 {
						t.Fatalf("v3 charge-port close: %d %s", res.Status, res.Body)
					}
					both("after v3 charge-port close")
				}
			})
		}
	}
	t.Logf("compared %d fixture vehicles", vehicles)
}
