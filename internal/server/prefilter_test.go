package server

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
)

// The pre-check in front of each route must never reject a path the route's regexp accepts
// (it may accept more: the regexp still decides). Every mounted template is tried against
// paths made from every template, with several variable values, and variations of them.
func TestPrefilterAgreesWithRegexp(t *testing.T) {
	st, err := store.New(sandbox.Dataset{}, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	mount(r, Deps{Store: st, Now: time.Now, Logger: slog.New(slog.DiscardHandler)})
	type route struct {
		tpl string
		re  *regexp.Regexp
	}
	var routes []route
	_ = r.Walk(func(rt *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err1 := rt.GetPathTemplate()
		re, err2 := rt.GetPathRegexp()
		if err1 == nil && err2 == nil {
			routes = append(routes, route{tpl, regexp.MustCompile(re)})
		}
		return nil
	})
	if len(routes) < 40 {
		t.Fatalf("walked %d routes, want the whole surface", len(routes))
	}
	vars := regexp.MustCompile(`\{[^}]*\}`)
	var paths []string
	for _, rt := range routes {
		for _, v := range []string{"abc", "0b7c6a4e-1f2a-4c3b-9d8e-7f6a5b4c3d2e", "a.b_c-d", "odometer", "{x}", "é"} {
			p := vars.ReplaceAllString(rt.tpl, v)
			paths = append(paths, p, p+"/", p+"/odometer", strings.TrimSuffix(p, p[len(p)-1:]), "/x"+p, strings.ToUpper(p))
		}
	}
	paths = append(paths, "", "/", "//", "/v2.0", "/v2.0/vehicles//odometer", "/v3/vehicles/a/signals/b/c")
	checked := 0
	for _, rt := range routes {
		pre := literalEnds(rt.tpl)
		if pre == nil {
			continue
		}
		for _, p := range paths {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.URL.Path = p
			if rt.re.MatchString(p) && !pre(req, nil) {
				t.Errorf("route %s: pre-check rejects %q, which its regexp accepts", rt.tpl, p)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no route has a pre-check")
	}
}

func TestLiteralEnds(t *testing.T) {
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
		{"/v2.0/vehicles/{id}", "/v2.0/vehicles/", true}, // the regexp decides (it rejects)
		{"/v3/vehicles/{id}/signals/{code}", "/v3/vehicles/a/signals/b", true},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.Path = tt.path
		if got := literalEnds(tt.tpl)(req, nil); got != tt.want {
			t.Errorf("literalEnds(%q)(%q) = %v, want %v", tt.tpl, tt.path, got, tt.want)
		}
	}
	if literalEnds("/x/{id:[0-9]{3}}") != nil {
		t.Error("literalEnds of a template with its own pattern: want nil (no pre-check)")
	}
}
