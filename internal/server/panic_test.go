package server

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestPanicAnswersInTheDoorsShape: a panic is answered by the writer of the door its path
// belongs to (door.Of), never in another door's shape.
func TestPanicAnswersInTheDoorsShape(t *testing.T) {
	h := middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }),
		slog.New(slog.DiscardHandler), NewMetrics())
	tests := []struct {
		path string
		want string // the key the JSON body must have, or "html"
	}{
		{"/v2.0/vehicles/x/odometer", "type"},
		{"/v3/vehicles/x/signals", "errors"},
		{"/v2.0/management/connections", "type"},
		{"/oauth/token", "error_description"},
		{"/oauth2/token", "error_description"},
		{"/admin/requests", "message"},
		{"/connect/login", "html"},
		{"/dashboard", "html"},
		{"/", "html"},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, tt.path, nil))
		if w.Code != http.StatusInternalServerError {
			t.Errorf("%s: status %d, want 500", tt.path, w.Code)
			continue
		}
		ct := w.Header().Get("Content-Type")
		if tt.want == "html" {
			if !strings.HasPrefix(ct, "text/html") || !strings.Contains(w.Body.String(), "Something went wrong") {
				t.Errorf("%s: %s %q, want the HTML error page", tt.path, ct, w.Body.String())
			}
			continue
		}
		var body map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body[tt.want] == nil {
			t.Errorf("%s: body %s has no %q (%v)", tt.path, w.Body.String(), tt.want, err)
		}
	}
}
