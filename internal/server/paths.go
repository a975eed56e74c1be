package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/mux"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/scapi"
)

// hasDotSegment reports whether the routed (escaped) path has a "." or ".." segment, also
// written "%2e%2e", which clients and proxies resolve in different ways; the sandbox serves no
// such path. An encoded slash does not end a segment ("a%2F..%2Fb" is one odd id).
func hasDotSegment(p string) bool {
	if !strings.Contains(p, "/.") && !strings.Contains(p, "%2e") && !strings.Contains(p, "%2E") {
		return false // the common case, without splitting
	}
	for seg := range strings.SplitSeq(p, "/") {
		if u, err := url.PathUnescape(seg); err == nil && (u == "." || u == "..") {
			return true
		}
	}
	return false
}

// serveHeadAsGet routes a HEAD like the GET of its path, so HEAD works wherever GET does
// (the admin API's routes included) with one rule instead of a HEAD on every route: net/http
// sends the GET's status and headers and drops its body, since the response belongs to the
// HEAD request.
func serveHeadAsGet(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			get := *r
			get.Method = http.MethodGet
			r = &get
		}
		next.ServeHTTP(w, r)
	})
}

// candidateMethods are the methods a 405 may name in Allow (HEAD goes with GET).
var candidateMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// methodNotAllowed answers a known path asked with a method it does not serve: 405 with an
// Allow header naming the methods that path serves. Under an API prefix the body is Smartcar
// error JSON: VALIDATION, whose docs list "the correct URL and HTTP method" among its causes,
// with the 405 status. Elsewhere (Connect's pages, the landing page) it is an HTML page.
func methodNotAllowed(router *mux.Router) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		allow := allowedMethods(router, r)
		w.Header().Set("Allow", strings.Join(allow, ", "))
		if v, ok := scapi.VersionOf(r.URL.Path); ok {
			e := sandbox.InvalidRequest(fmt.Sprintf("%s %s: this path serves %s", r.Method, r.URL.Path, strings.Join(allow, ", ")))
			scapi.WriteError(w, r, v, e.WithStatus(http.StatusMethodNotAllowed))
			return
		}
		htmlHeaders(w.Header())
		// A plain page (inline style only, no scripts), never framed (Connect's
		// pages answer this way too for a wrong method, so they keep Connect's framing rule).
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
		w.WriteHeader(http.StatusMethodNotAllowed)
		_ = methodNotAllowedPage.Execute(w, map[string]any{"Method": r.Method, "Path": r.URL.Path, "Allow": allow})
	})
}

// allowedMethods asks the router which methods it would serve at r's path. Only a 405 pays
// for it.
func allowedMethods(router *mux.Router, r *http.Request) []string {
	var allow []string
	for _, m := range candidateMethods {
		probe := *r
		probe.Method = m
		var match mux.RouteMatch
		if router.Match(&probe, &match) && match.MatchErr == nil {
			allow = append(allow, m)
			if m == http.MethodGet {
				allow = append(allow, http.MethodHead) // see serveHeadAsGet
			}
		}
	}
	return allow
}
