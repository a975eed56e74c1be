package vehicleapiv3

import (
	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/scapi"
)

// SignalValue is one signal's value as a VEHICLE_STATE webhook carries it.
type SignalValue struct {
	Code  string
	Name  string
	Group string
	Body  any
}

// KnownSignal reports whether the sandbox serves the signal code.
func KnownSignal(code string) bool { _, ok := signalByCode[code]; return ok }

// SignalValues renders a vehicle's signals (metric) from the same catalogue the v3 API
// serves, so a webhook payload and a GET of the signal can never disagree. With codes empty
// it renders every signal the vehicle has; codes the vehicle lacks are left out.
func SignalValues(v sandbox.Vehicle, codes []string) []SignalValue {
	acc := &scapi.Access{Vehicle: v}
	var out []SignalValue
	add := func(d *signalDef) {
		if d.has(v) {
			out = append(out, SignalValue{Code: d.Code, Name: d.Name, Group: d.Group, Body: d.body(v, acc, scapi.Metric)})
		}
	}
	if len(codes) == 0 {
		for i := range catalogue {
			add(&catalogue[i])
		}
		return out
	}
	for _, c := range codes {
		if d, ok := signalByCode[c]; ok {
			add(d)
		}
	}
	return out
}
