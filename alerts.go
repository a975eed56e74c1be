package sandbox

// Thresholds that turn stored values into warnings.
const (
	lowTireKPa = 220
	lowOilLife = 0.2
)

// Alert is one warning derived from the vehicle's state: the system (v2.0 system_status id),
// its description and its trouble code. v2.0's diagnostics and v3's diagnostics signals both
// read this one list, so the two APIs cannot disagree.
type Alert struct{ System, Description, DTC string }

// Alerts derives the vehicle's warnings from its state, so diagnostics follow the fixtures.
func (v Vehicle) Alerts() []Alert {
	var out []Alert
	t := v.State.Tires
	for _, p := range []float64{t.FrontLeft, t.FrontRight, t.BackLeft, t.BackRight} {
		if p > 0 && p < lowTireKPa {
			out = append(out, Alert{"SYSTEM_TPMS", "Tire pressure is low.", "C0750"})
			break
		}
	}
	if o := v.State.EngineOil; o != nil && o.LifeRemaining < lowOilLife {
		out = append(out, Alert{"SYSTEM_OIL_LIFE", "Engine oil life is low; an oil change is due.", "P0521"})
	}
	return out
}
