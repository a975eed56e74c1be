package server_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/connect"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/connect/connecttest"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/server"
)

var pathVar = regexp.MustCompile(`\{[^}]+\}`)

// TestEveryHTMLAnswerSendsNosniff asks every route the router mounts, with every method, and
// an unknown path, and checks each HTML answer: nosniff on all of them, and on Connect's the
// CSP that refuses framing and keeps forms on the sandbox (the success pages of a real flow
// are checked by TestConnectFlowPagesCSP).
func TestEveryHTMLAnswerSendsNosniff(t *testing.T) {
	h := sandboxtest.MustStart(t)
	routes, err := server.Routes(h.Deps())
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{"/no/such/page"} // the 404 page
	seen := map[string]bool{}
	for _, rt := range routes { // one entry per method: ask each path once, with every method
		p := pathVar.ReplaceAllString(rt.Path, "d21b0a03-5c3f-5c86-8c05-122d6fde0b3c")
		if rt.Prefix {
			p += "no-such-endpoint"
		}
		if !seen[p] {
			seen[p] = true
			paths = append(paths, p)
		}
	}
	htmlFrom := map[string]bool{}
	for _, p := range paths {
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete} {
			res := h.Do(t, m, p, "", nil)
			if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
				continue
			}
			htmlFrom[p] = true
			if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("%s %s (%d, HTML): X-Content-Type-Options = %q, want nosniff", m, p, res.Status, got)
			}
			if isConnect(p) && res.Status != http.StatusNotFound {
				checkConnectCSP(t, m+" "+p, res.Header.Get("Content-Security-Policy"), "")
			}
		}
	}
	// The walk must have met every kind of HTML page, or it checked less than it claims.
	for _, p := range []string{"/no/such/page", "/", connect.PathAuthorize, connect.PathStart, connect.PathBrands,
		connect.PathBrand, connect.PathLogin, connect.PathConsent} {
		if !htmlFrom[p] {
			t.Errorf("no HTML answer from %s; the walk missed a page", p)
		}
	}
}

// TestConnectFlowPagesCSP walks Connect to the app for a custom-scheme and an http redirect
// URI and checks every page on the way. Chromium applies form-action to the 302 that ends
// the flow, so each page must allow the app's redirect URI as well as 'self'.
func TestConnectFlowPagesCSP(t *testing.T) {
	h := sandboxtest.MustStart(t)
	tests := []struct{ redirectURI, source string }{
		{sandboxtest.RedirectURI, "scsandbox-demo:"},
		{"http://localhost:8000/exchange", "http://localhost:8000"},
	}
	for _, tt := range tests {
		t.Run(tt.redirectURI, func(t *testing.T) {
			b := connecttest.NewBrowser(h.URL)
			q := url.Values{"response_type": {"code"}, "client_id": {sandboxtest.ClientID}, "redirect_uri": {tt.redirectURI},
				"scope": {"read_vehicle_info read_odometer"}, "approval_prompt": {"force"}, "mode": {"test"}}
			p := b.Authorize(t, q)
			check := func(step string, p *connecttest.Page) {
				t.Helper()
				if p.Status != http.StatusOK {
					t.Fatalf("%s: %d\n%s", step, p.Status, p.Body)
				}
				if got := p.Header.Get("X-Content-Type-Options"); got != "nosniff" {
					t.Errorf("%s: X-Content-Type-Options = %q", step, got)
				}
				checkConnectCSP(t, step, p.Header.Get("Content-Security-Policy"), tt.source)
			}
			check("preamble", p)
			p = b.Submit(t, p, connect.PathStart, nil)
			check("brands", p)
			p = b.Submit(t, p, connect.PathBrand, url.Values{"make": {"TESLA"}})
			check("login", p)
			p = b.Submit(t, p, connect.PathLogin, url.Values{"username": {"demo@sandbox.test"}, "password": {"x"}})
			check("permissions", p)
			p = b.Submit(t, p, connect.PathConsent, url.Values{"action": {"allow"}, "vehicle": connecttest.Checked(p, "vehicle"), "permission": connecttest.Checked(p, "permission")})
			if loc := p.Location(t); p.Status != http.StatusFound || loc == nil || !strings.HasPrefix(loc.String(), tt.redirectURI+"?") {
				t.Errorf("final answer = %d to %v, want a 302 to %s", p.Status, loc, tt.redirectURI)
			}
		})
	}
}

func isConnect(p string) bool {
	return p == connect.PathAuthorize || (strings.HasPrefix(p, "/connect/") && p != connect.PathCSS)
}

// checkConnectCSP checks the directives this test is about; the rest of Connect's CSP is the
// connect package's to test. source is what form-action must allow besides 'self' ("" for
// pages without a flow, which allow 'self' only).
func checkConnectCSP(t *testing.T, what, csp, source string) {
	t.Helper()
	directives := map[string]string{}
	for _, d := range strings.Split(csp, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		directives[name] = value
	}
	want := "'self'"
	if source != "" {
		want += " " + source
	}
	if directives["frame-ancestors"] != "'none'" || directives["form-action"] != want || directives["default-src"] != "'none'" {
		t.Errorf("%s: CSP = %q, want frame-ancestors 'none' and form-action %s", what, csp, want)
	}
}
