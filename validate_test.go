package sandbox

import (
	"slices"
	"strings"
	"testing"
)

// validState is a BEV or ICE state that breaks no rule; each case changes one thing.
func validState(pt Powertrain) VehicleState {
	s := VehicleState{
		OdometerKm: 100,
		Location:   Location{Latitude: 48.85, Longitude: 2.35, Heading: 90},
		Tires:      Tires{230, 230, 230, 230},
		Security: Security{
			Doors:   []Opening{{"frontLeft", StatusLocked}, {"frontRight", StatusUnlocked}},
			Windows: []Opening{{"frontLeft", StatusClosed}},
		},
	}
	if pt.HasBattery() {
		s.Battery = &Battery{RangeKm: 300, PercentRemaining: 0.8, CapacityKWh: 75}
		s.Charge = &Charge{State: ChargeNotCharging, Limit: 0.8}
		s.Security.ChargingPort = []Opening{{"chargingPort", StatusClosed}}
	}
	if pt.HasFuel() {
		s.Fuel = &Fuel{RangeKm: 500, PercentRemaining: 0.5, AmountLiters: 30}
		s.EngineOil = &Oil{LifeRemaining: 0.7}
	}
	return s
}

func TestVehicleStateValidate(t *testing.T) {
	tests := []struct {
		name   string
		pt     Powertrain
		change func(*VehicleState)
		want   []string // String() of every problem, in order
	}{
		{"valid BEV", BEV, func(*VehicleState) {}, nil},
		{"valid PHEV", PHEV, func(*VehicleState) {}, nil},
		{"valid ICE", ICE, func(*VehicleState) {}, nil},
		{"ICE with no charging port listed", ICE, func(s *VehicleState) { s.Security.ChargingPort = []Opening{} }, nil},
		{"negative odometer", BEV, func(s *VehicleState) { s.OdometerKm = -1 }, []string{"odometerKm -1 must not be negative"}},
		{"location out of range", BEV, func(s *VehicleState) { s.Location = Location{91, -181, 361} }, []string{
			"location.latitude 91 is outside -90..90", "location.longitude -181 is outside -180..180", "location.heading 361 is outside 0..360"}},
		{"percent written as 80", BEV, func(s *VehicleState) { s.Battery.PercentRemaining = 80 }, []string{
			"battery.percentRemaining 80 is outside 0..1 (percentages are fractions: write 0.8 for 80%)"}},
		{"fraction out of range, no hint", ICE, func(s *VehicleState) { s.Fuel.PercentRemaining = -0.1; s.EngineOil.LifeRemaining = 101 }, []string{
			"fuel.percentRemaining -0.1 is outside 0..1", "engineOil.lifeRemaining 101 is outside 0..1"}},
		{"negative amounts", PHEV, func(s *VehicleState) { s.Fuel.AmountLiters = -1; s.Battery.CapacityKWh = -2; s.Tires.BackRight = -3 }, []string{
			"fuel.amountLiters -1 must not be negative", "battery.capacityKWh -2 must not be negative", "tires.backRight -3 must not be negative"}},
		{"fuel on a BEV", BEV, func(s *VehicleState) { s.Fuel = &Fuel{} }, []string{
			"fuel contradicts powertrain BEV: a BEV has no fuel tank or engine"}},
		{"battery and charge port on an ICE", ICE, func(s *VehicleState) {
			s.Battery = &Battery{PercentRemaining: 7} // a contradicting block's values are not judged
			s.Security.ChargingPort = []Opening{{"chargingPort", StatusOpen}}
		}, []string{
			"battery contradicts powertrain ICE: only BEV and PHEV have a traction battery and charge port",
			"security.chargingPort contradicts powertrain ICE: only BEV and PHEV have a traction battery and charge port"}},
		{"battery removed", BEV, func(s *VehicleState) { s.Battery = nil }, []string{
			"battery is missing: a BEV vehicle has it (set its values rather than remove it)"}},
		{"charge state", BEV, func(s *VehicleState) { s.Charge.State = "BOILING" }, []string{
			`charge.state "BOILING" must be CHARGING, FULLY_CHARGED or NOT_CHARGING`}},
		{"charging unplugged", BEV, func(s *VehicleState) { s.Charge.State = ChargeCharging }, []string{
			"charge.state CHARGING needs isPluggedIn: true"}},
		{"charging plugged in", BEV, func(s *VehicleState) { s.Charge.State, s.Charge.IsPluggedIn = ChargeCharging, true }, nil},
		{"openings", BEV, func(s *VehicleState) {
			s.Security.Doors = []Opening{{"frontLeft", StatusLocked}, {"", StatusOpen}, {"frontLeft", StatusUnlocked}}
			s.Security.Windows = []Opening{{"frontLeft", StatusLocked}}
		}, []string{
			"security.doors[1].type is required", `security.doors[1].status "OPEN" must be LOCKED or UNLOCKED`,
			`security.doors[2].type "frontLeft" is listed twice (first at security.doors[0])`,
			`security.windows[0].status "LOCKED" must be OPEN or CLOSED`}},
		{"a long value is quoted short", BEV, func(s *VehicleState) { s.Charge.State = strings.Repeat("x", 300) }, []string{
			`charge.state "` + strings.Repeat("x", MaxEcho) + `…" must be CHARGING, FULLY_CHARGED or NOT_CHARGING`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validState(tt.pt)
			tt.change(&s)
			var got []string
			for _, p := range s.Validate(tt.pt) {
				got = append(got, p.String())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Validate(%s) =\n%s\nwant\n%s", tt.pt, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// An adapter names the fields its own way, in the field and wherever the reason names one.
func TestProblemText(t *testing.T) {
	s := validState(BEV)
	s.Charge.State = ChargeCharging
	s.Security.Doors = append(s.Security.Doors, Opening{"frontLeft", StatusLocked})
	shout := func(field string) string { return strings.ToUpper(field) }
	var got []string
	for _, p := range s.Validate(BEV) {
		got = append(got, p.Text(shout))
	}
	want := []string{"CHARGE.STATE CHARGING needs ISPLUGGEDIN: true", `SECURITY.DOORS[2].TYPE "frontLeft" is listed twice (first at SECURITY.DOORS[0])`}
	if !slices.Equal(got, want) {
		t.Errorf("Text = %q, want %q", got, want)
	}
}

func TestProblemMadeElsewhere(t *testing.T) {
	if got, want := (Problem{Field: "odometerKm"}).String(), "odometerKm is not valid"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}
