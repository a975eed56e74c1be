// Package route declares routes on the sandbox's router. Each door mounts its own routes
// (connect.Handler.Mount, vehicleapi.API.Mount, …) with Handle, and internal/server assembles
// the doors in one place; the check in front of each route is here so every door gets it.
package route

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"
)

// Handle is r.Handle(path, h) with a cheap check in front of the route's regexp. gorilla/mux
// tries the routes in order and runs each one's path regexp until one matches, so a request
// for /v2.0/vehicles/{id}/odometer ran the regexps of every route declared before it (~20).
// The check compares the path with the template segment by segment, which for our templates
// (each variable a whole segment, without its own pattern) accepts exactly the paths the
// anchored regexp accepts (server's TestPrefilterAgreesWithRegexp).
//
// Exactly, not merely never rejecting more: mux forgets a method mismatch seen on an earlier
// route as soon as any matcher of a later route succeeds, so a looser check passing on a
// later route turned a wrong method into a 404 instead of a 405.
func Handle(r *mux.Router, path string, h http.Handler) *mux.Route {
	rt := r.NewRoute()
	if m := SegmentMatcher(path); m != nil {
		rt = rt.MatcherFunc(m)
	}
	return rt.Path(path).Handler(h)
}

// SegmentMatcher returns the check Handle puts in front of a path template, or nil when the
// template has a variable that is not a whole segment or has its own pattern
// ({name:regexp}), which this does not parse (the regexp alone decides there).
func SegmentMatcher(tpl string) mux.MatcherFunc {
	if !strings.HasPrefix(tpl, "/") {
		return nil
	}
	segs := strings.Split(tpl[1:], "/")
	vars := make([]bool, len(segs))
	for i, s := range segs {
		if !strings.ContainsAny(s, "{}") {
			continue
		}
		if len(s) < 3 || s[0] != '{' || s[len(s)-1] != '}' || strings.ContainsAny(s[1:len(s)-1], "{}:") {
			return nil
		}
		vars[i] = true // a default variable: [^/]+
	}
	return func(r *http.Request, _ *mux.RouteMatch) bool {
		p := Path(r)
		if len(p) == 0 || p[0] != '/' {
			return false
		}
		p = p[1:]
		for i, s := range segs {
			seg := p
			if i < len(segs)-1 {
				j := strings.IndexByte(p, '/')
				if j < 0 {
					return false
				}
				seg, p = p[:j], p[j+1:]
			} else if strings.IndexByte(p, '/') >= 0 {
				return false
			}
			if vars[i] {
				if seg == "" {
					return false
				}
			} else if seg != s {
				return false
			}
		}
		return true
	}
}

// Path is the path the router matches on (the server's router matches the escaped path),
// cheaply: the raw path when the request's encoding differs from the default one (an encoded
// slash), else the path. Where these differ from URL.EscapedPath (the escapes of characters
// the templates' literals never hold) the segments compare the same.
func Path(r *http.Request) string {
	if r.URL.RawPath != "" {
		return r.URL.RawPath
	}
	return r.URL.Path
}
