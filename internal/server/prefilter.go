package server

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"
)

// handle is r.Handle(path, h) with a cheap check in front of the route's regexp. gorilla/mux
// tries the routes in order and runs each one's path regexp until one matches, so a request
// for /v2.0/vehicles/{id}/odometer ran the regexps of every route declared before it (~20).
// The template's literal start (up to the first variable) and literal end (after the last)
// must appear in any path the anchored regexp accepts, and so must its number of slashes, so
// comparing them first rejects the other routes without changing what matches
// (TestPrefilterAgreesWithRegexp).
func handle(r *mux.Router, path string, h http.Handler) *mux.Route {
	rt := r.NewRoute()
	if m := literalEnds(path); m != nil {
		rt = rt.MatcherFunc(m)
	}
	return rt.Path(path).Handler(h)
}

// literalEnds returns a matcher for a path template's literal start and end, or nil when the
// template has a variable with its own pattern ({name:regexp}), whose braces this does not parse.
func literalEnds(tpl string) mux.MatcherFunc {
	first, last := strings.IndexByte(tpl, '{'), strings.LastIndexByte(tpl, '}')
	if first < 0 {
		return func(r *http.Request, _ *mux.RouteMatch) bool { return r.URL.Path == tpl }
	}
	if strings.Contains(tpl, ":") || last < first {
		return nil
	}
	// A variable without its own pattern matches [^/]+, so a matching path has exactly the
	// template's slashes: /v2.0/vehicles/{id} is not tried on /v2.0/vehicles/x/odometer.
	prefix, suffix, slashes := tpl[:first], tpl[last+1:], strings.Count(tpl, "/")
	return func(r *http.Request, _ *mux.RouteMatch) bool {
		p := r.URL.Path
		return len(p) >= len(prefix)+len(suffix) && strings.HasPrefix(p, prefix) && strings.HasSuffix(p, suffix) &&
			strings.Count(p, "/") == slashes
	}
}
