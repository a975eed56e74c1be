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

// stateErrors turns the domain's problems with a vehicle state into the admin API's error
// lines, each naming its JSON field; prefix is where the state stands in the request body.
func stateErrors(ps []sandbox.Problem, prefix string) []error {
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = errors.New(prefix + p.String())
	}
	return errs
}
