package simulator_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	defaultfixtures "github.com/smartcar-sandbox/smartcar-sandbox/fixtures"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/fixtures"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/simulator"
)

// Fixture vehicles of demo@sandbox.test.
const (
	tesla = "d21b0a03-5c3f-5c86-8c05-122d6fde0b3c" // BEV, no door locks
	ford  = "9cc77f46-e827-55cd-885e-69909bdeafb0" // ICE with doors
	rav4  = "7e9389b9-16d5-5f58-a771-81255727b063" // PHEV, left live
)

const seed, speedup = 42, 60

// start runs a sandbox whose Tesla and Ford are marked simulated in the fixtures, and returns
// its simulator (stepped by the test, not by a ticker).
func start(t *testing.T) (*sandboxtest.Harness, *simulator.Simulator, string) {
	t.Helper()
	ds, err := fixtures.Load(defaultfixtures.FS)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range ds.Vehicles {
		if v.ID == tesla || v.ID == ford {
			ds.Vehicles[i].Mode = sandbox.ModeSimulated
		}
	}
	h := sandboxtest.MustStartWith(t, sandboxtest.Options{Dataset: &ds, Flags: simFlags})
	sim := stepped(h)
	tok, _ := h.Connect(t, "sandbox-demo", "demo@sandbox.test", sandboxtest.AllPermissions()...)
	return h, sim, tok
}

// simFlags give the sandbox's simulator the seed and speed-up these tests compute with.
var simFlags = []string{fmt.Sprintf("-sim-seed=%d", seed), fmt.Sprintf("-sim-speedup=%d", speedup)}

// stepped is the sandbox's own simulator with its ticker stopped, so the test steps it.
func stepped(h *sandboxtest.Harness) *simulator.Simulator {
	h.Simulator.Stop()
	return h.Simulator
}

func step(t *testing.T, sim *simulator.Simulator) {
	t.Helper()
	if err := sim.Step(); err != nil {
		t.Fatal(err)
	}
}

// real turns simulated time into the real (clock) time it takes at the speed-up.
func real(d time.Duration) time.Duration { return time.Duration(float64(d) / speedup) }

func TestSameSeedAndTimeGiveTheSameState(t *testing.T) {
	ds, err := fixtures.Load(defaultfixtures.FS)
	if err != nil {
		t.Fatal(err)
	}
	joined := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, v := range ds.Vehicles {
		simulator.Join(&v, joined)
		for _, elapsed := range []time.Duration{0, 17 * time.Minute, 5 * time.Hour, 30 * 24 * time.Hour} {
			a := simulator.Advance(seed, v, elapsed)
			b := simulator.Advance(seed, v, elapsed)
			if !reflect.DeepEqual(a, b) {
				t.Errorf("%s after %v: two runs differ:\n%+v\n%+v", v.ID, elapsed, a.State, b.State)
			}
		}
		if reflect.DeepEqual(simulator.NewProfile(seed, v.ID, v.State.Location), simulator.NewProfile(seed+1, v.ID, v.State.Location)) {
			t.Errorf("%s: seeds %d and %d give the same profile", v.ID, seed, seed+1)
		}
	}
}

func TestTripMovesSignalsThroughTheAPIs(t *testing.T) {
	h, sim, tok := start(t)
	before, _ := h.Store.Vehicle(tesla)
	p := simulator.NewProfile(seed, tesla, before.State.Location)
	drive := time.Duration(p.LoopKm / p.SpeedKmh * float64(time.Hour))

	step(t, sim) // joins: DRIVING from the fixture's state
	got, _ := h.Store.Vehicle(tesla)
	if got.State.Trip.Stage != sandbox.TripDriving || got.State.Charge.IsPluggedIn {
		t.Fatalf("after joining: stage %q plugged %v, want DRIVING unplugged", got.State.Trip.Stage, got.State.Charge.IsPluggedIn)
	}
	if live, _ := h.Store.Vehicle(rav4); live.State.Trip.Stage != "" {
		t.Errorf("a live vehicle joined the simulation: %+v", live.State.Trip)
	}

	// Half way round the loop: the odometer and location moved, the battery went down, and
	// both APIs say so.
	h.Clock.Advance(real(drive / 2))
	step(t, sim)
	res := h.Do(t, "GET", "/v2.0/vehicles/"+tesla+"/odometer", tok, nil)
	var odo struct{ Distance float64 }
	res.JSON(t, &odo)
	if want := before.State.OdometerKm + p.LoopKm/2; odo.Distance < want-0.2 || odo.Distance > want+0.2 {
		t.Errorf("v2.0 odometer = %v, want about %v", odo.Distance, want)
	}
	res = h.Do(t, "GET", "/v2.0/vehicles/"+tesla+"/location", tok, nil)
	var loc struct{ Latitude, Longitude float64 }
	res.JSON(t, &loc)
	if loc.Latitude == before.State.Location.Latitude && loc.Longitude == before.State.Location.Longitude {
		t.Errorf("location did not move while driving: %+v", loc)
	}
	res = h.Do(t, "GET", "/v3/vehicles/"+tesla+"/signals/tractionbattery-stateofcharge", tok, nil)
	var soc struct {
		Attributes struct{ Body struct{ Value float64 } }
	}
	res.JSON(t, &soc)
	if v := soc.Attributes.Body.Value; v <= 0 || v >= before.State.Battery.PercentRemaining*100 {
		t.Errorf("v3 state of charge = %v%%, want below the fixture's %v", soc.Attributes.Body.Value, before.State.Battery.PercentRemaining*100)
	}

	// Through parking into charging: plugged in, charging, battery rising.
	h.Clock.Advance(real(drive/2 + p.Park1 + p.Charge/4))
	step(t, sim)
	mid, _ := h.Store.Vehicle(tesla)
	if mid.State.Trip.Stage != sandbox.TripCharging || !mid.State.Charge.IsPluggedIn || mid.State.Charge.State != sandbox.ChargeCharging {
		t.Fatalf("a quarter into charging: stage %q charge %+v", mid.State.Trip.Stage, *mid.State.Charge)
	}
	if mid.State.Location.Latitude != before.State.Location.Latitude {
		t.Errorf("parked away from the start of the loop: %+v", mid.State.Location)
	}
	h.Clock.Advance(real(p.Charge / 4))
	step(t, sim)
	later, _ := h.Store.Vehicle(tesla)
	if later.State.Battery.PercentRemaining <= mid.State.Battery.PercentRemaining && later.State.Charge.State != sandbox.ChargeFullyCharged {
		t.Errorf("battery did not rise while charging: %v then %v", mid.State.Battery.PercentRemaining, later.State.Battery.PercentRemaining)
	}
	if !later.State.UpdatedAt.Equal(h.Clock.Now()) {
		t.Errorf("data age not stamped: updatedAt %v, now %v", later.State.UpdatedAt, h.Clock.Now())
	}
}

func TestCommandsFailByTripStage(t *testing.T) {
	h, sim, tok := start(t)
	step(t, sim)
	f, _ := h.Store.Vehicle(ford)
	if f.State.Trip.Stage != sandbox.TripDriving {
		t.Fatalf("ford stage = %q, want DRIVING", f.State.Trip.Stage)
	}
	type errBody struct{ Type, Code string }
	cases := []struct {
		name, path, body   string
		wantType, wantCode string
	}{
		{"v2.0 lock", "/v2.0/vehicles/" + ford + "/security", `{"action":"LOCK"}`, sandbox.TypeVehicleState, "IN_MOTION"},
		{"v2.0 unlock", "/v2.0/vehicles/" + ford + "/security", `{"action":"UNLOCK"}`, sandbox.TypeVehicleState, "IN_MOTION"},
		{"v3 lock", "/v3/vehicles/" + ford + "/commands/security/lock", ``, sandbox.TypeVehicleState, "IN_MOTION"},
		{"v3 unlock", "/v3/vehicles/" + ford + "/commands/security/unlock", ``, sandbox.TypeVehicleState, "IN_MOTION"},
		{"v2.0 start charge", "/v2.0/vehicles/" + tesla + "/charge", `{"action":"START"}`, sandbox.TypeVehicleState, "CHARGING_PLUG_NOT_CONNECTED"},
		{"v3 start charge", "/v3/vehicles/" + tesla + "/commands/charge/start", ``, sandbox.TypeVehicleState, "CHARGING_PLUG_NOT_CONNECTED"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body any
			if c.body != "" {
				body = c.body
			}
			res := h.Do(t, "POST", c.path, tok, body)
			var e errBody
			if strings.HasPrefix(c.path, "/v3/") {
				v3 := res.V3Error(t)
				e = errBody{v3.Type, v3.Code}
			} else {
				res.JSON(t, &e)
			}
			if res.Status != 409 || e.Type != c.wantType || e.Code != c.wantCode {
				t.Errorf("got %d %s/%s, want 409 %s/%s: %s", res.Status, e.Type, e.Code, c.wantType, c.wantCode, res.Body)
			}
		})
	}

	// Parked, the same commands go through.
	p := simulator.NewProfile(seed, ford, f.State.Trip.Start.Location)
	h.Clock.Advance(real(time.Duration(p.LoopKm/p.SpeedKmh*float64(time.Hour)) + p.Park1/2))
	step(t, sim)
	if res := h.Do(t, "POST", "/v2.0/vehicles/"+ford+"/security", tok, `{"action":"LOCK"}`); res.Status != 200 {
		t.Errorf("v2.0 lock while parked: %d %s", res.Status, res.Body)
	}
	if res := h.Do(t, "POST", "/v3/vehicles/"+ford+"/commands/security/unlock", tok, nil); res.Status != 200 {
		t.Errorf("v3 unlock while parked: %d %s", res.Status, res.Body)
	}
	// The lock survives the next tick: the simulator does not own the doors.
	h.Do(t, "POST", "/v2.0/vehicles/"+ford+"/security", tok, `{"action":"LOCK"}`)
	h.Clock.Advance(time.Second)
	step(t, sim)
	if v, _ := h.Store.Vehicle(ford); !v.State.Security.IsLocked() {
		t.Error("a tick undid the lock command")
	}
}

func TestConnectWithSimulatedModeJoins(t *testing.T) {
	h := sandboxtest.MustStartWith(t, sandboxtest.Options{Flags: simFlags})
	sim := stepped(h)
	acct, _ := h.Store.Account("demo@sandbox.test")
	if err := h.Store.Connect(sandbox.Grant{ClientID: "sandbox-demo", UserID: acct.UserID, VehicleID: rav4, Permissions: []string{"read_odometer"}, Mode: sandbox.ModeSimulated}); err != nil {
		t.Fatal(err)
	}
	step(t, sim)
	for _, id := range acct.VehicleIDs {
		v, _ := h.Store.Vehicle(id)
		if got, want := v.State.Trip.Stage != "", id == rav4; got != want {
			t.Errorf("%s in the simulation = %v, want %v", id, got, want)
		}
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	h := sandboxtest.MustStart(t)
	for _, o := range []simulator.Options{{}, {Store: h.Store}, {Store: h.Store, Speedup: -1}} {
		if _, err := simulator.New(o); err == nil {
			t.Errorf("New(%+v) = nil error", o)
		}
	}
}
