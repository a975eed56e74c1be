// Package simulator moves simulated vehicles: they drive a loop near where they joined,
// park, charge (battery vehicles) and park again, over and over, at a configurable speed-up.
//
// The state is a pure function of (seed, vehicle id, the vehicle's TripStart and the
// simulated time since it joined): Profile and Advance below. The store stays the one owner
// of vehicle state: a Simulator writes the result into it with UpdateVehicle on every tick
// (simulator.go), so every API reads the same numbers and a command sees the current stage
// (sandbox.CommandRefusal).
package simulator

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
)

// Energy figures of the made-up vehicles: typical, not any model's.
const (
	kWhPerKm    = 0.17  // battery use while driving
	litresPerKm = 0.075 // fuel use while driving
	refuelBelow = 0.15  // fuel fraction under which a parked vehicle refuels to full
	phevReserve = 0.10  // a PHEV drives on fuel below this state of charge
	earthKm     = 6371.0
)

// Waypoint is a point of the route.
type Waypoint struct{ Latitude, Longitude float64 }

// Profile is one vehicle's trip profile: the same cycle repeated. A cycle is DRIVING (once
// around Route, back to the start), PARKED for Park1, then, for vehicles with a charge port,
// CHARGING for Charge at ChargeKW and PARKED for Park2 (plugged in); without a charge port
// the vehicle stays PARKED for Park1+Park2.
type Profile struct {
	Route    []Waypoint // closed loop: the first point is the start location and the end
	SpeedKmh float64
	Park1    time.Duration
	Charge   time.Duration
	Park2    time.Duration
	ChargeKW float64
	LoopKm   float64
}

// NewProfile derives a vehicle's profile from the seed, its id and where it joined. The same
// inputs always give the same profile.
func NewProfile(seed int64, vehicleID string, start sandbox.Location) Profile {
	h := fnv.New64a()
	h.Write([]byte(vehicleID))
	rng := rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
	p := Profile{
		SpeedKmh: 30 + rng.Float64()*30,
		Park1:    time.Duration(30+rng.IntN(60)) * time.Minute,
		Charge:   time.Duration(60+rng.IntN(120)) * time.Minute,
		Park2:    time.Duration(30+rng.IntN(90)) * time.Minute,
		ChargeKW: 7 + rng.Float64()*4,
	}
	// A loop of 6 to 9 points, 1.5 to 4 km from the start, starting and ending at it.
	n := 6 + rng.IntN(4)
	home := Waypoint{start.Latitude, start.Longitude}
	p.Route = append(p.Route, home)
	turn := rng.Float64() * 2 * math.Pi
	for i := 1; i < n; i++ {
		angle := turn + 2*math.Pi*float64(i)/float64(n) + (rng.Float64()-0.5)*0.4
		r := 1.5 + rng.Float64()*2.5
		p.Route = append(p.Route, offset(home, r*math.Cos(angle), r*math.Sin(angle)))
	}
	p.Route = append(p.Route, home)
	for i := 1; i < len(p.Route); i++ {
		p.LoopKm += distanceKm(p.Route[i-1], p.Route[i])
	}
	return p
}

// drive is how long one loop takes.
func (p Profile) drive() time.Duration {
	return time.Duration(p.LoopKm / p.SpeedKmh * float64(time.Hour))
}

// cycle is the length of one cycle.
func (p Profile) cycle() time.Duration { return p.drive() + p.Park1 + p.Charge + p.Park2 }

// Advance returns v as the profile has it after elapsed simulated time since it joined
// (v.State.Trip must hold JoinedAt and Start). It sets only what the simulator owns: the
// stage, location, odometer, fuel, battery and the plug/charging state. Everything else (door
// locks, the charge limit, tires) is left as the vehicle has it, so commands keep their
// effect; the charge limit is read as the charging target.
func Advance(seed int64, v sandbox.Vehicle, elapsed time.Duration) sandbox.Vehicle {
	v = v.Clone()
	st := &v.State
	start := st.Trip.Start
	p := NewProfile(seed, v.ID, start.Location)
	if elapsed < 0 {
		elapsed = 0
	}
	drive, cycle := p.drive(), p.cycle()
	if drive <= 0 || cycle <= 0 {
		return v
	}
	limit := 1.0
	if st.Charge != nil && st.Charge.Limit > 0 {
		limit = st.Charge.Limit
	}
	battery := start.BatteryPercent
	fuel := start.FuelLiters
	tank := tankLitres(st.Fuel)
	capacity := 0.0
	if st.Battery != nil {
		capacity = st.Battery.CapacityKWh
	}
	charges := st.Charge != nil && capacity > 0

	// driveKm uses energy for km of driving: a BEV from the battery, a PHEV from the battery
	// down to its reserve then from fuel, the others from fuel.
	driveKm := func(km float64) {
		if km <= 0 {
			return
		}
		if capacity > 0 {
			floor := 0.0
			if v.Powertrain == sandbox.PHEV {
				floor = phevReserve
			}
			if avail := (battery - floor) * capacity / kWhPerKm; avail > 0 {
				use := math.Min(avail, km)
				battery -= use * kWhPerKm / capacity
				km -= use
			}
			if v.Powertrain == sandbox.BEV {
				battery = math.Max(battery, 0)
				return
			}
		}
		if tank > 0 {
			fuel = math.Max(fuel-km*litresPerKm, 0)
		}
	}
	chargeFor := func(d time.Duration) {
		if !charges || battery >= limit {
			return
		}
		battery = math.Min(limit, battery+p.ChargeKW*d.Hours()/capacity)
	}
	refuel := func() {
		if tank > 0 && fuel < refuelBelow*tank {
			fuel = tank
		}
	}

	n := int64(elapsed / cycle)
	// Whole cycles, one by one (the caps make the levels non-linear). A cycle is hours of
	// simulated time, so even months of it are a few thousand short iterations; once a
	// cycle ends where it began, the rest are the same.
	for i := int64(0); i < n; i++ {
		b0, f0 := battery, fuel
		driveKm(p.LoopKm)
		refuel()
		chargeFor(p.Charge)
		if battery == b0 && fuel == f0 {
			break
		}
	}
	in := elapsed - time.Duration(n)*cycle
	km := float64(n) * p.LoopKm
	loc := sandbox.Location{Latitude: start.Location.Latitude, Longitude: start.Location.Longitude, Heading: start.Location.Heading}
	plugged, charging := false, false
	switch {
	case in < drive:
		st.Trip.Stage = sandbox.TripDriving
		d := p.LoopKm * float64(in) / float64(drive)
		driveKm(d)
		km += d
		loc = p.at(d)
	case in < drive+p.Park1:
		st.Trip.Stage = sandbox.TripParked
		driveKm(p.LoopKm)
		km += p.LoopKm
		loc.Heading = p.at(p.LoopKm).Heading
		refuel()
	case charges && in < drive+p.Park1+p.Charge:
		st.Trip.Stage = sandbox.TripCharging
		driveKm(p.LoopKm)
		km += p.LoopKm
		loc.Heading = p.at(p.LoopKm).Heading
		refuel()
		chargeFor(in - drive - p.Park1)
		plugged, charging = true, battery < limit
	default:
		st.Trip.Stage = sandbox.TripParked
		driveKm(p.LoopKm)
		km += p.LoopKm
		loc.Heading = p.at(p.LoopKm).Heading
		refuel()
		if charges {
			chargeFor(p.Charge)
			plugged = true
		}
	}

	st.OdometerKm = round(start.OdometerKm+km, 1)
	st.Location = loc
	if st.Battery != nil {
		perKm := rangePerFraction(st.Battery.RangeKm, start.BatteryPercent, capacity/kWhPerKm)
		st.Battery.PercentRemaining = round(battery, 4)
		st.Battery.RangeKm = round(battery*perKm, 1)
	}
	if st.Fuel != nil && tank > 0 {
		perKm := rangePerFraction(st.Fuel.RangeKm, st.Fuel.PercentRemaining, tank/litresPerKm)
		st.Fuel.AmountLiters = round(fuel, 2)
		st.Fuel.PercentRemaining = round(fuel/tank, 4)
		st.Fuel.RangeKm = round(fuel/tank*perKm, 1)
	}
	if st.Charge != nil {
		st.Charge.IsPluggedIn = plugged
		switch {
		case charging:
			st.Charge.State = sandbox.ChargeCharging
		case plugged && battery >= limit:
			st.Charge.State = sandbox.ChargeFullyCharged
		default:
			st.Charge.State = sandbox.ChargeNotCharging
		}
	}
	return v
}

// at is the position (and heading) d km along the loop.
func (p Profile) at(d float64) sandbox.Location {
	for i := 1; i < len(p.Route); i++ {
		a, b := p.Route[i-1], p.Route[i]
		seg := distanceKm(a, b)
		if d <= seg || i == len(p.Route)-1 {
			f := 0.0
			if seg > 0 {
				f = math.Min(d/seg, 1)
			}
			return sandbox.Location{
				Latitude:  round(a.Latitude+(b.Latitude-a.Latitude)*f, 6),
				Longitude: round(a.Longitude+(b.Longitude-a.Longitude)*f, 6),
				Heading:   round(bearing(a, b), 1),
			}
		}
		d -= seg
	}
	return sandbox.Location{Latitude: p.Route[0].Latitude, Longitude: p.Route[0].Longitude}
}

// tankLitres infers the tank size from the fixture's amount and fraction.
func tankLitres(f *sandbox.Fuel) float64 {
	if f == nil {
		return 0
	}
	if f.PercentRemaining > 0 && f.AmountLiters > 0 {
		return f.AmountLiters / f.PercentRemaining
	}
	return 50
}

// rangePerFraction keeps the fixture's own range per full tank/battery when it has one, so
// the simulated range stays consistent with what the fixture said.
func rangePerFraction(rangeKm, fraction, fallback float64) float64 {
	if fraction > 0 && rangeKm > 0 {
		return rangeKm / fraction
	}
	return fallback
}

func offset(w Waypoint, northKm, eastKm float64) Waypoint {
	lat := w.Latitude + northKm/earthKm*180/math.Pi
	lon := w.Longitude + eastKm/(earthKm*math.Cos(w.Latitude*math.Pi/180))*180/math.Pi
	return Waypoint{round(lat, 6), round(lon, 6)}
}

func distanceKm(a, b Waypoint) float64 {
	rad := math.Pi / 180
	dLat := (b.Latitude - a.Latitude) * rad
	dLon := (b.Longitude - a.Longitude) * rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(a.Latitude*rad)*math.Cos(b.Latitude*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthKm * math.Asin(math.Min(1, math.Sqrt(h)))
}

func bearing(a, b Waypoint) float64 {
	rad := math.Pi / 180
	y := math.Sin((b.Longitude-a.Longitude)*rad) * math.Cos(b.Latitude*rad)
	x := math.Cos(a.Latitude*rad)*math.Sin(b.Latitude*rad) - math.Sin(a.Latitude*rad)*math.Cos(b.Latitude*rad)*math.Cos((b.Longitude-a.Longitude)*rad)
	return math.Mod(math.Atan2(y, x)/rad+360, 360)
}

func round(x float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(x*p) / p
}

// Join puts a vehicle into the simulation at now: it records where it starts from. A vehicle
// already in the simulation is left as it is.
func Join(v *sandbox.Vehicle, now time.Time) {
	if !v.State.Trip.JoinedAt.IsZero() {
		return
	}
	t := sandbox.Trip{JoinedAt: now.UTC(), Start: sandbox.TripStart{OdometerKm: v.State.OdometerKm, Location: v.State.Location}}
	if v.State.Battery != nil {
		t.Start.BatteryPercent = v.State.Battery.PercentRemaining
	}
	if v.State.Fuel != nil {
		t.Start.FuelLiters = v.State.Fuel.AmountLiters
	}
	v.State.Trip = t
}
