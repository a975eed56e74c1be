package scapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/scapi"
)

// WriteError is the one writer: under V3 the documented errors array, with Smartcar's
// description as detail and a code for code-less errors; under V2 and V1 the flat body.
func TestWriteErrorV3Shape(t *testing.T) {
	tests := []struct {
		name        string
		err         error
		status      int
		typ, code   string
		title       string
		about       string
		v2CodeIsNil bool
	}{
		{"validation without code", sandbox.NewError(sandbox.TypeValidation, "", "x"), 400, "VALIDATION", "BAD_REQUEST", "Bad Request",
			"https://smartcar.com/docs/errors/api-errors/v3/validation-errors", true},
		{"not capable", sandbox.VehicleNotCapable("sunroof"), 501, "COMPATIBILITY", "VEHICLE_NOT_CAPABLE", "Not Implemented",
			"https://smartcar.com/docs/errors/api-errors/v3/compatibility-errors#vehicle-not-capable", false},
		{"billing", sandbox.NewError(sandbox.TypeBilling, "VEHICLE_LIMIT", ""), 430, "BILLING", "VEHICLE_LIMIT", "Billing Error",
			"https://smartcar.com/docs/errors/api-errors/v3/billing-errors#vehicle-limit", false},
		{"method", sandbox.NewError(sandbox.TypeValidation, "", "").WithStatus(405), 405, "VALIDATION", "METHOD_NOT_ALLOWED", "Method Not Allowed",
			"https://smartcar.com/docs/errors/api-errors/v3/validation-errors", true},
		{"plain Go error", http.ErrHandlerTimeout, 500, "SERVER", "INTERNAL", "Internal Server Error",
			"https://smartcar.com/docs/errors/api-errors/v3/server-errors#internal", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			scapi.WriteError(rec, httptest.NewRequest("GET", "/v3/x", nil), scapi.V3, tc.err)
			var b scapi.V3ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil || len(b.Errors) != 1 {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
			e := b.Errors[0]
			want := sandbox.AsError(tc.err)
			if rec.Code != tc.status || e.Status != strconv.Itoa(tc.status) || e.Type != tc.typ || e.Code != tc.code ||
				e.Title != tc.title || e.Links.About != tc.about || e.Detail != want.Description || e.Detail == "" {
				t.Errorf("%d %+v", rec.Code, e)
			}
			// The same error under v2.0 keeps the flat body.
			rec = httptest.NewRecorder()
			scapi.WriteError(rec, httptest.NewRequest("GET", "/v2.0/x", nil), scapi.V2, tc.err)
			var flat map[string]any
			_ = json.Unmarshal(rec.Body.Bytes(), &flat)
			if _, ok := flat["errors"]; ok || flat["type"] != tc.typ || (flat["code"] == nil) != tc.v2CodeIsNil || flat["description"] != want.Description {
				t.Errorf("v2.0 body %s", rec.Body)
			}
		})
	}
}
