package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
)

// mergeState applies a JSON merge patch (RFC 7386) to a vehicle state: objects merge key by
// key, anything else (numbers, strings, lists such as security.doors) replaces, null removes.
// Decoding the result strictly turns a misspelt signal into an error instead of a no-op.
func mergeState(cur sandbox.VehicleState, patch map[string]any) (sandbox.VehicleState, error) {
	b, err := json.Marshal(cur)
	if err != nil {
		return cur, err
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return cur, err
	}
	merged := mergePatch(doc, patch)
	b, err = json.Marshal(merged)
	if err != nil {
		return cur, err
	}
	var out sandbox.VehicleState
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return cur, fmt.Errorf("the patch does not fit the vehicle state (signals: odometerKm, location, fuel, battery, charge, engineOil, tires, security, updatedAt): %v", err)
	}
	return out, nil
}

func mergePatch(target any, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
			continue
		}
		t[k] = mergePatch(t[k], v)
	}
	return t
}

// validateState lists every impossible value, and every signal the powertrain cannot have
// (or must have: the vehicle APIs rely on a fuel car having a tank).
func validateState(pt sandbox.Powertrain, st *sandbox.VehicleState) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	share := func(name string, v float64) {
		if v < 0 || v > 1 {
			bad("%s %v: want a share within 0..1 (0.5 = 50%%)", name, v)
		}
	}
	nonNeg := func(name string, v float64) {
		if v < 0 {
			bad("%s %v: must not be negative", name, v)
		}
	}
	nonNeg("odometerKm", st.OdometerKm)
	if l := st.Location; l.Latitude < -90 || l.Latitude > 90 || l.Longitude < -180 || l.Longitude > 180 {
		bad("location %v,%v: latitude within -90..90, longitude within -180..180", l.Latitude, l.Longitude)
	}
	if h := st.Location.Heading; h < 0 || h > 360 {
		bad("location.heading %v: want degrees within 0..360", h)
	}
	presence := func(name string, present, want bool) bool {
		switch {
		case present && !want:
			bad("%s: a %s vehicle has no %s", name, pt, name)
		case !present && want:
			bad("%s: a %s vehicle must keep its %s (set values rather than null)", name, pt, name)
		}
		return present && want
	}
	if presence("fuel", st.Fuel != nil, pt.HasFuel()) {
		share("fuel.percentRemaining", st.Fuel.PercentRemaining)
		nonNeg("fuel.rangeKm", st.Fuel.RangeKm)
		nonNeg("fuel.amountLiters", st.Fuel.AmountLiters)
	}
	if presence("engineOil", st.EngineOil != nil, pt.HasFuel()) {
		share("engineOil.lifeRemaining", st.EngineOil.LifeRemaining)
	}
	if presence("battery", st.Battery != nil, pt.HasBattery()) {
		share("battery.percentRemaining", st.Battery.PercentRemaining)
		nonNeg("battery.rangeKm", st.Battery.RangeKm)
		nonNeg("battery.capacityKWh", st.Battery.CapacityKWh)
	}
	if presence("charge", st.Charge != nil, pt.HasBattery()) {
		share("charge.limit", st.Charge.Limit)
		switch st.Charge.State {
		case sandbox.ChargeCharging, sandbox.ChargeFullyCharged, sandbox.ChargeNotCharging:
		default:
			bad("charge.state %q: want CHARGING, FULLY_CHARGED or NOT_CHARGING", st.Charge.State)
		}
		if st.Charge.State == sandbox.ChargeCharging && !st.Charge.IsPluggedIn {
			bad("charge: a vehicle that is CHARGING must be plugged in (isPluggedIn: true)")
		}
	}
	t := st.Tires
	nonNeg("tires.frontLeft", t.FrontLeft)
	nonNeg("tires.frontRight", t.FrontRight)
	nonNeg("tires.backLeft", t.BackLeft)
	nonNeg("tires.backRight", t.BackRight)
	checkOpenings := func(name string, list []sandbox.Opening, allowed ...string) {
		for i, o := range list {
			if o.Type == "" {
				bad("security.%s[%d].type is required", name, i)
			}
			ok := false
			for _, s := range allowed {
				ok = ok || o.Status == s
			}
			if !ok {
				bad("security.%s[%d].status %q: want %s or %s", name, i, o.Status, allowed[0], allowed[1])
			}
		}
	}
	s := st.Security
	checkOpenings("doors", s.Doors, sandbox.StatusLocked, sandbox.StatusUnlocked)
	checkOpenings("windows", s.Windows, sandbox.StatusOpen, sandbox.StatusClosed)
	checkOpenings("sunroof", s.Sunroof, sandbox.StatusOpen, sandbox.StatusClosed)
	checkOpenings("storage", s.Storage, sandbox.StatusOpen, sandbox.StatusClosed)
	checkOpenings("chargingPort", s.ChargingPort, sandbox.StatusOpen, sandbox.StatusClosed)
	return errors.Join(errs...)
}
