package signals

import (
	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/scapi"
)

// Value is one signal's value as a VEHICLE_STATE webhook carries it.
type Value struct {
	Code  string
	Name  string
	Group string
	Body  any
}

// Known reports whether the sandbox serves the signal code.
func Known(code string) bool { _, ok := byCode[code]; return ok }

// Values renders a vehicle's signals (metric) from the catalogue the v3 API serves. With
// codes empty it renders every signal the vehicle has; codes the vehicle lacks are left out.
func Values(v sandbox.Vehicle, codes []string) []Value {
	var out []Value
	add := func(d *Signal) {
		if d.has(v) {
			out = append(out, Value{Code: d.Code, Name: d.Name, Group: d.Group, Body: d.body(v, scapi.Metric)})
		}
	}
	if len(codes) == 0 {
		for d := range All() {
			add(d)
		}
		return out
	}
	for _, c := range codes {
		if d, ok := byCode[c]; ok {
			add(d)
		}
	}
	return out
}
