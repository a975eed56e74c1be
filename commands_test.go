package sandbox

import (
	"testing"
	"time"
)

// TestChargeCommand: test-mode cars take every charge command (START plugs them in), fixture
// and simulated cars keep the state rules, and the resulting state is the same rule for v2.0
// and v3 (both call ChargeCommand).
func TestChargeCommand(t *testing.T) {
	car := func(mode string, plugged bool, state string, pct float64, driving bool) *Vehicle {
		v := &Vehicle{ID: "v", Powertrain: BEV, Mode: mode}
		v.State.Battery = &Battery{PercentRemaining: pct}
		v.State.Charge = &Charge{IsPluggedIn: plugged, State: state, Limit: 0.8}
		if driving {
			v.State.Trip = Trip{Stage: TripDriving, JoinedAt: time.Unix(1, 0)}
		}
		return v
	}
	tests := []struct {
		name        string
		v           *Vehicle
		command     string
		wantCode    string // "" = success
		wantPlugged bool
		wantState   string
	}{
		{"test mode unplugged start", car(ModeTest, false, ChargeNotCharging, 0.5, false), CommandStartCharge, "", true, ChargeCharging},
		{"test mode unplugged stop", car(ModeTest, false, ChargeNotCharging, 0.5, false), CommandStopCharge, "", false, ChargeNotCharging},
		{"test mode start at limit", car(ModeTest, true, ChargeNotCharging, 0.9, false), CommandStartCharge, "", true, ChargeFullyCharged},
		{"fixture unplugged start", car("", false, ChargeNotCharging, 0.5, false), CommandStartCharge, "CHARGING_PLUG_NOT_CONNECTED", false, ChargeNotCharging},
		{"fixture plugged start", car("live", true, ChargeNotCharging, 0.5, false), CommandStartCharge, "", true, ChargeCharging},
		{"fixture plugged stop", car("live", true, ChargeCharging, 0.5, false), CommandStopCharge, "", true, ChargeNotCharging},
		{"full car stop stays full", car("live", true, ChargeFullyCharged, 0.9, false), CommandStopCharge, "", true, ChargeFullyCharged},
		{"simulated driving", car(ModeSimulated, false, ChargeNotCharging, 0.5, true), CommandStartCharge, "CHARGING_PLUG_NOT_CONNECTED", false, ChargeNotCharging},
		{"test-mode car in the simulation, driving", car(ModeTest, false, ChargeNotCharging, 0.5, true), CommandStartCharge, "CHARGING_PLUG_NOT_CONNECTED", false, ChargeNotCharging},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.v.ChargeCommand(tt.command)
			switch {
			case tt.wantCode == "" && e != nil:
				t.Fatalf("ChargeCommand(%s) = %v, want success", tt.command, e)
			case tt.wantCode != "" && (e == nil || e.Code != tt.wantCode || e.Type != TypeVehicleState):
				t.Fatalf("ChargeCommand(%s) = %v, want VEHICLE_STATE:%s", tt.command, e, tt.wantCode)
			}
			if ch := tt.v.State.Charge; ch.IsPluggedIn != tt.wantPlugged || ch.State != tt.wantState {
				t.Errorf("after %s: plugged %v, state %s; want %v, %s", tt.command, ch.IsPluggedIn, ch.State, tt.wantPlugged, tt.wantState)
			}
		})
	}
	ice := &Vehicle{Powertrain: ICE, Mode: ModeTest}
	if e := ice.ChargeCommand(CommandStartCharge); e == nil || e.Type != TypeCompatibility {
		t.Errorf("START on a car with no charge port = %v, want COMPATIBILITY", e)
	}
}
