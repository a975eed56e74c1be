package sandbox

import "time"

// Trip stages of a simulated vehicle (internal/simulator drives them).
const (
	TripDriving  = "DRIVING"
	TripParked   = "PARKED"
	TripCharging = "CHARGING"
)

// ModeSimulated marks a vehicle (Vehicle.Mode) or a grant (Grant.Mode) as simulated.
const ModeSimulated = "simulated"

// Trip is where a simulated vehicle is in its trip profile. It is zero for vehicles that are
// not simulated. The simulator writes it together with the signals it moves, so a command
// sees the stage and the signals of one moment.
type Trip struct {
	Stage string `json:"stage,omitempty"` // DRIVING, PARKED or CHARGING
	// JoinedAt is when the vehicle joined the simulation (sandbox clock); the profile is a
	// function of the time since.
	JoinedAt time.Time `json:"joinedAt"`
	// Start holds the values the profile starts from, so the simulated state is a pure
	// function of them, the seed and the time since JoinedAt.
	Start TripStart `json:"start"`
}

// TripStart is the state a simulated vehicle had when it joined the simulation.
type TripStart struct {
	OdometerKm     float64  `json:"odometerKm"`
	Location       Location `json:"location"`
	BatteryPercent float64  `json:"batteryPercent"` // 0..1; 0 without battery
	FuelLiters     float64  `json:"fuelLiters"`     // 0 without tank
}

// Simulated reports whether the vehicle is in the simulation (joined, or marked so).
func (v Vehicle) Simulated() bool {
	return v.Mode == ModeSimulated || !v.State.Trip.JoinedAt.IsZero()
}
