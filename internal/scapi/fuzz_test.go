package scapi_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/scapi"
)

// FuzzUnitSystem: any SC-Unit-System value is metric, imperial or a VALIDATION error whose
// note names the header; never a silent default for a typo, never a panic.
func FuzzUnitSystem(f *testing.F) {
	for _, s := range []string{"", "metric", "imperial", " Imperial ", "IMPERIAL", "metric,imperial", "imperail", "\x00", "ｍｅｔｒｉｃ", "İmperial"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		r := httptest.NewRequest(http.MethodGet, "/v2.0/vehicles/x/odometer", nil)
		r.Header.Set("SC-Unit-System", v)
		u, err := scapi.UnitsOf(r)
		norm := strings.ToLower(strings.TrimSpace(v))
		switch {
		case norm == "" || norm == "metric":
			if err != nil || u != scapi.Metric {
				t.Fatalf("%q: got %q, %v; want metric", v, u, err)
			}
		case norm == "imperial":
			if err != nil || u != scapi.Imperial {
				t.Fatalf("%q: got %q, %v; want imperial", v, u, err)
			}
		default:
			var e *sandbox.Error
			if !errors.As(err, &e) || e.Type != sandbox.TypeValidation || !strings.Contains(e.Note, "SC-Unit-System") || u != "" {
				t.Fatalf("%q: got %q, %v; want a VALIDATION error about the header", v, u, err)
			}
			if e.Status() != http.StatusBadRequest {
				t.Fatalf("%q: status %d", v, e.Status())
			}
		}
		if u != "" && u.DistanceUnit() == "" {
			t.Fatalf("%q: unit system %q names no distance unit", v, u)
		}
	})
}
