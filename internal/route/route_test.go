package route

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestSegmentMatcher(t *testing.T) {
	tests := []struct {
		tpl, path string
		want      bool
	}{
		{"/healthz", "/healthz", true},
		{"/healthz", "/healthz2", false},
		{"/v2.0/vehicles/{id}/odometer", "/v2.0/vehicles/x/odometer", true},
		{"/v2.0/vehicles/{id}/odometer", "/v2.0/vehicles/x/location", false},
		{"/v2.0/vehicles/{id}/odometer", "/v3/vehicles/x/odometer", false},
		{"/v2.0/vehicles/{id}", "/v2.0/vehicles/x/vin", false}, // one slash too many
		{"/v2.0/vehicles/{id}", "/v2.0/vehicles/x", true},
		{"/v2.0/vehicles/{id}", "/v2.0/vehicles/", false}, // an empty variable
		{"/v2.0/vehicles/{id}/webhooks/{webhookId}", "/v2.0/vehicles/x/engine/oil", false},
		{"/v2.0/vehicles/{id}/odometer", "/v2.0/vehicles/x/odometer/", false},
		{"/v3/vehicles/{id}/signals/{code}", "/v3/vehicles/a/signals/b", true},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.Path = tt.path
		if got := SegmentMatcher(tt.tpl)(req, nil); got != tt.want {
			t.Errorf("SegmentMatcher(%q)(%q) = %v, want %v", tt.tpl, tt.path, got, tt.want)
		}
	}
	for _, tpl := range []string{"/x/{id:[0-9]{3}}", "/x/a{id}", "/x/{id}.json"} {
		if SegmentMatcher(tpl) != nil {
			t.Errorf("SegmentMatcher(%q): want nil (no pre-check) for a variable that is not a plain whole segment", tpl)
		}
	}
}
