package sandbox

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Problem is one rule a value breaks: the field at fault and why. Each adapter says where the
// field stands in its own terms (a fixture file's line and YAML keys, the admin API's JSON
// field); the rule and its words are the domain's.
type Problem struct {
	// Field is the path to the field in the domain's JSON names, e.g.
	// "battery.percentRemaining" or "security.doors[1].status".
	Field string
	// reason says what is wrong; any other field it mentions is named with name (by its path,
	// or by its bare name for a field of the same block).
	reason func(name func(field string) string) string
}

// Reason says what is wrong with the field, naming any other field it mentions with name
// (the adapter's spelling of a domain path).
func (p Problem) Reason(name func(field string) string) string {
	if p.reason == nil { // a Problem made outside this package
		return "is not valid"
	}
	return p.reason(name)
}

// Text is the field, then the reason, both named with name.
func (p Problem) Text(name func(field string) string) string {
	return name(p.Field) + " " + p.Reason(name)
}

// String is the problem in the domain's JSON names.
func (p Problem) String() string { return p.Text(func(field string) string { return field }) }

// MaxEcho is how much of a value a problem quotes: enough to recognise it, not so much that a
// file that is not a fixture (a data dump saved as .yaml) is printed whole into an error.
const MaxEcho = 80

// Clip cuts a value a problem quotes to MaxEcho characters, marking the cut with an ellipsis.
func Clip(s string) string {
	if utf8.RuneCountInString(s) <= MaxEcho {
		return s
	}
	return string([]rune(s)[:MaxEcho]) + "…"
}

// problems collects the problems of one value.
type problems []Problem

func (ps *problems) add(field string, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	*ps = append(*ps, Problem{Field: field, reason: func(func(string) string) string { return msg }})
}

func (ps *problems) nonNeg(field string, v float64) {
	if v < 0 {
		ps.add(field, "%v must not be negative", v)
	}
}

func (ps *problems) within(field string, v, lo, hi float64) {
	if v < lo || v > hi {
		ps.add(field, "%v is outside %v..%v", v, lo, hi)
	}
}

// share checks a percentage, which the domain keeps as a fraction 0..1, with a hint for the
// common 80-for-80%.
func (ps *problems) share(field string, v float64) {
	if v < 0 || v > 1 {
		hint := ""
		if v > 1 && v <= 100 {
			hint = fmt.Sprintf(" (percentages are fractions: write %v for %v%%)", v/100, v)
		}
		ps.add(field, "%v is outside 0..1%s", v, hint)
	}
}

// Why a powertrain cannot have a signal.
const (
	noFuel    = "a BEV has no fuel tank or engine"
	noBattery = "only BEV and PHEV have a traction battery and charge port"
)

// presence checks that a signal is there exactly when the powertrain has it, and reports
// whether its values are worth checking (it is there and should be).
func (ps *problems) presence(field string, pt Powertrain, present, want bool, why string) bool {
	switch {
	case present && !want:
		ps.add(field, "contradicts powertrain %s: %s", pt, why)
	case !present && want:
		ps.add(field, "is missing: a %s vehicle has it (set its values rather than remove it)", pt)
	}
	return present && want
}

// openings checks a list of doors, windows, ...: every item has a type, no type twice, and
// a status from statuses.
func (ps *problems) openings(field string, list []Opening, statuses ...string) {
	item := func(i int) string { return fmt.Sprintf("%s[%d]", field, i) }
	for i, o := range list {
		if o.Type == "" {
			ps.add(item(i)+".type", "is required")
		}
		// Lists are a handful of entries: a scan finds a repeat without a map.
		for j := range i {
			if o.Type != "" && list[j].Type == o.Type {
				typ, earlier := Clip(o.Type), item(j)
				*ps = append(*ps, Problem{Field: item(i) + ".type", reason: func(name func(string) string) string {
					return fmt.Sprintf("%q is listed twice (first at %s)", typ, name(earlier))
				}})
				break
			}
		}
		if !slices.Contains(statuses, o.Status) {
			ps.add(item(i)+".status", "%q must be %s", Clip(o.Status), strings.Join(statuses, " or "))
		}
	}
}

// Validate lists every impossible value in the state, and every signal the powertrain cannot
// have (or must have: the vehicle APIs rely on a fuel car having a tank), in field order.
// The fixtures and the admin API both hold vehicle states to these rules.
func (s *VehicleState) Validate(pt Powertrain) []Problem {
	var ps problems
	ps.nonNeg("odometerKm", s.OdometerKm)
	ps.within("location.latitude", s.Location.Latitude, -90, 90)
	ps.within("location.longitude", s.Location.Longitude, -180, 180)
	ps.within("location.heading", s.Location.Heading, 0, 360)
	if ps.presence("fuel", pt, s.Fuel != nil, pt.HasFuel(), noFuel) {
		ps.nonNeg("fuel.rangeKm", s.Fuel.RangeKm)
		ps.share("fuel.percentRemaining", s.Fuel.PercentRemaining)
		ps.nonNeg("fuel.amountLiters", s.Fuel.AmountLiters)
	}
	if ps.presence("battery", pt, s.Battery != nil, pt.HasBattery(), noBattery) {
		ps.nonNeg("battery.rangeKm", s.Battery.RangeKm)
		ps.share("battery.percentRemaining", s.Battery.PercentRemaining)
		ps.nonNeg("battery.capacityKWh", s.Battery.CapacityKWh)
	}
	if ps.presence("charge", pt, s.Charge != nil, pt.HasBattery(), noBattery) {
		ps.share("charge.limit", s.Charge.Limit)
		switch s.Charge.State {
		case ChargeCharging:
			if !s.Charge.IsPluggedIn {
				ps = append(ps, Problem{Field: "charge.state", reason: func(name func(string) string) string {
					return "CHARGING needs " + name("isPluggedIn") + ": true" // a field of the same block

				}})
			}
		case ChargeFullyCharged, ChargeNotCharging:
		default:
			ps.add("charge.state", "%q must be CHARGING, FULLY_CHARGED or NOT_CHARGING", Clip(s.Charge.State))
		}
	}
	if ps.presence("engineOil", pt, s.EngineOil != nil, pt.HasFuel(), noFuel) {
		ps.share("engineOil.lifeRemaining", s.EngineOil.LifeRemaining)
	}
	t := s.Tires
	ps.nonNeg("tires.frontLeft", t.FrontLeft)
	ps.nonNeg("tires.frontRight", t.FrontRight)
	ps.nonNeg("tires.backLeft", t.BackLeft)
	ps.nonNeg("tires.backRight", t.BackRight)
	sec := s.Security
	ps.openings("security.doors", sec.Doors, StatusLocked, StatusUnlocked)
	ps.openings("security.windows", sec.Windows, StatusOpen, StatusClosed)
	ps.openings("security.sunroof", sec.Sunroof, StatusOpen, StatusClosed)
	ps.openings("security.storage", sec.Storage, StatusOpen, StatusClosed)
	ps.openings("security.chargingPort", sec.ChargingPort, StatusOpen, StatusClosed)
	// An empty list of charging ports is fine on any powertrain (it is what a fixture of an
	// ICE vehicle writes); a port is not.
	if len(sec.ChargingPort) > 0 && !pt.HasBattery() {
		ps.add("security.chargingPort", "contradicts powertrain %s: %s", pt, noBattery)
	}
	return ps
}
