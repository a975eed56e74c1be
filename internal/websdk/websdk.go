// Package websdk serves the sandbox's stand-in for the redirect page Smartcar hosts for its
// JavaScript SDK (@smartcar/auth): https://javascript-sdk.smartcar.com/v2/redirect?app_origin=…
// An app using the SDK in the browser registers that page as its redirect URI; Connect, run in
// a popup, redirects there with code and state (or error and error_description), and the page
// posts them to the app's window (window.opener) for the app_origin given, where the SDK's
// message listener calls onComplete.
//
// Here the page lives at PathRedirect on the sandbox's own origin. The SDK only accepts the
// message when its redirectUri starts with the page's origin, so the app registers and uses
// <sandbox origin>/javascript-sdk/v2/redirect?app_origin=<app origin> (docs/web.md).
package websdk

import (
	"embed"
	"html/template"
	"net/http"
	"net/url"
)

// PathRedirect is the redirect page; PathScript its script (a file, so the page's CSP can
// refuse every inline script).
const (
	PathRedirect = "/javascript-sdk/v2/redirect"
	PathScript   = "/javascript-sdk/v2/redirect.js"
)

//go:embed static
var static embed.FS

var page = template.Must(template.ParseFS(static, "static/redirect.html"))

// csp: the page's own script only; nothing framed, nothing loaded from elsewhere.
const csp = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Origin returns app_origin when it is an origin (scheme://host[:port], nothing else), which
// is what postMessage's target origin must be; ok is false otherwise.
func Origin(appOrigin string) (string, bool) {
	u, err := url.Parse(appOrigin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	return u.Scheme + "://" + u.Host, true
}

// Redirect serves the page. Without a valid app_origin it says so (400): the message would
// have nowhere safe to go.
func Redirect() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", csp)
		h.Set("Cache-Control", "no-store")
		// The code must not leak to another site through the Referer header.
		h.Set("Referrer-Policy", "no-referrer")
		q := r.URL.Query()
		origin, ok := Origin(q.Get("app_origin"))
		status := http.StatusOK
		if !ok {
			status = http.StatusBadRequest
		}
		w.WriteHeader(status)
		_ = page.Execute(w, map[string]any{"OK": ok, "AppOrigin": q.Get("app_origin"), "Origin": origin,
			"Error": q.Get("error"), "Script": PathScript})
	})
}

// Script serves the page's script.
func Script() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := static.ReadFile("static/redirect.js")
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(b)
	})
}
