package server

import (
	"strings"

	"github.com/gorilla/mux"
)

// Route is one method and path template the router serves. Method "" means the route takes
// every method (its handler answers wrong ones itself, e.g. the token endpoint's OAuth 405);
// a path ending in "/" with Prefix set is a catch-all under that prefix.
type Route struct {
	Method string
	Path   string // the mux template, e.g. /v2.0/vehicles/{id}/security
	Prefix bool
}

// Routes lists what New(d) mounts, in mount order, one entry per method. It exists so tests
// that must cover every endpoint (the bad-input table in internal/reliability) can check their
// own table against the router and a newly mounted route cannot be forgotten there.
//
// Building the list has no side effects: the router is built anew, on metrics of its own (a
// running sandbox's metrics get no second set of routes), and nothing of d is changed (but for
// Control's stop channel, made once by whichever asks first).
func Routes(d Deps) ([]Route, error) {
	d.Metrics = NewMetrics()
	r, err := router(withDefaults(d))
	if err != nil {
		return nil, err
	}
	var out []Route
	err = r.Walk(func(rt *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		if rt.GetHandler() == nil {
			return nil // a subrouter's own entry; its routes are walked next
		}
		path, err := rt.GetPathTemplate()
		if err != nil {
			return nil
		}
		// A PathPrefix route's regexp is not anchored at the end.
		re, _ := rt.GetPathRegexp()
		prefix := !strings.HasSuffix(re, "$")
		methods, err := rt.GetMethods()
		if err != nil || len(methods) == 0 {
			out = append(out, Route{Path: path, Prefix: prefix})
			return nil
		}
		for _, m := range methods {
			out = append(out, Route{Method: m, Path: path, Prefix: prefix})
		}
		return nil
	})
	return out, err
}
