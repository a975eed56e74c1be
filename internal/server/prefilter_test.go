package server

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
)

// The pre-check in front of each route must accept exactly the paths the route's regexp
// accepts (see handle for why not more). Every mounted template is tried against paths made
// from every template, with several variable values, and variations of them.
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
		for _, v := range []string{"abc", "0b7c6a4e-1f2a-4c3b-9d8e-7f6a5b4c3d2e", "a.b_c-d", "odometer", "{x}", "é", "a%2Fb", "%C3%A9", "%2e%2e"} {
			p := vars.ReplaceAllString(rt.tpl, v)
			paths = append(paths, p, p+"/", p+"/odometer", strings.TrimSuffix(p, p[len(p)-1:]), "/x"+p, strings.ToUpper(p))
		}
	}
	paths = append(paths, "/", "//", "/v2.0", "/v2.0/", "/v2.0/vehicles//odometer", "/v3/vehicles/a/signals/b/c", "/v2.0/vehicles/a/odometer/")
	checked := 0
	for _, rt := range routes {
		pre := segmentMatcher(rt.tpl)
		if pre == nil {
			continue
		}
		for _, p := range paths {
			// The router matches the escaped path (see router); the request is parsed as a
			// server would, so an encoded slash stays in RawPath.
			u, err := url.ParseRequestURI(p)
			if err != nil {
				continue
			}
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.URL = u
			if want := rt.re.MatchString(u.EscapedPath()); pre(req, nil) != want {
				t.Errorf("route %s: pre-check says %v for %q, its regexp %v", rt.tpl, !want, p, want)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no route has a pre-check")
	}
}

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
		if got := segmentMatcher(tt.tpl)(req, nil); got != tt.want {
			t.Errorf("segmentMatcher(%q)(%q) = %v, want %v", tt.tpl, tt.path, got, tt.want)
		}
	}
	for _, tpl := range []string{"/x/{id:[0-9]{3}}", "/x/a{id}", "/x/{id}.json"} {
		if segmentMatcher(tpl) != nil {
			t.Errorf("segmentMatcher(%q): want nil (no pre-check) for a variable that is not a plain whole segment", tpl)
		}
	}
}
