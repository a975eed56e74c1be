package websdk_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/websdk"
)

func TestOrigin(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"http://localhost:3000", "http://localhost:3000", true},
		{"https://app.example.com", "https://app.example.com", true},
		{"https://app.example.com/", "https://app.example.com", true},
		{"", "", false},
		{"*", "", false}, // postMessage's "any origin" would hand the code to anybody
		{"javascript:alert(1)", "", false},
		{"https://app.example.com/callback", "", false},
		{"https://user@app.example.com", "", false},
		{"https://app.example.com?x=1", "", false},
		{"//app.example.com", "", false},
	}
	for _, tc := range tests {
		got, ok := websdk.Origin(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Origin(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// TestRedirectPage: served on the sandbox's port, it carries the app's origin for the script
// and allows no inline script; without a usable app_origin it is a 400 page that says why.
func TestRedirectPage(t *testing.T) {
	h := sandboxtest.MustStart(t)
	tests := []struct {
		name, query string
		status      int
		want        string
	}{
		{"code", "app_origin=" + url.QueryEscape("http://localhost:3000") + "&code=abc&state=xyz", http.StatusOK, `data-app-origin="http://localhost:3000"`},
		{"error", "app_origin=http://localhost:3000&error=access_denied&error_description=denied", http.StatusOK, "access_denied"},
		{"no app origin", "code=abc", http.StatusBadRequest, "No app to return to"},
		{"wildcard", "app_origin=*&code=abc", http.StatusBadRequest, "No app to return to"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := h.Do(t, http.MethodGet, websdk.PathRedirect+"?"+tc.query, "", nil)
			if res.Status != tc.status || !strings.Contains(string(res.Body), tc.want) {
				t.Fatalf("%d %s; want %d with %q", res.Status, res.Body, tc.status, tc.want)
			}
			csp := res.Header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "script-src 'self';") {
				t.Errorf("CSP %q", csp)
			}
			if res.Header.Get("Referrer-Policy") != "no-referrer" {
				t.Errorf("Referrer-Policy %q: the code could leak", res.Header.Get("Referrer-Policy"))
			}
		})
	}
	if res := h.Do(t, http.MethodGet, websdk.PathScript, "", nil); res.Status != http.StatusOK ||
		!strings.Contains(string(res.Body), "SmartcarAuthMessage") || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") {
		t.Errorf("script: %d %s", res.Status, res.Header.Get("Content-Type"))
	}
}
