package server

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gorilla/mux"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/route"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
)

// The pre-check in front of each route must accept exactly the paths the route's regexp
// accepts (see route.Handle for why not more). Every mounted template is tried against paths made
// from every template, with several variable values, and variations of them.
func TestPrefilterAgreesWithRegexp(t *testing.T) {
	st, err := store.New(sandbox.Dataset{}, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	if err := mount(r, withDefaults(Deps{Store: st})); err != nil {
		t.Fatal(err)
	}
	type mounted struct {
		tpl string
		re  *regexp.Regexp
	}
	var routes []mounted
	_ = r.Walk(func(rt *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err1 := rt.GetPathTemplate()
		re, err2 := rt.GetPathRegexp()
		if err1 == nil && err2 == nil {
			routes = append(routes, mounted{tpl, regexp.MustCompile(re)})
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
		pre := route.SegmentMatcher(rt.tpl)
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
