package server

import (
	"html/template"
	"net/http"
)

var notFoundPage = template.Must(template.New("404").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Not found · smartcar-sandbox</title></head>
<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem">
<h1>Not found</h1><p>smartcar-sandbox has nothing at <code>{{.}}</code>.</p><p><a href="/">What this server offers</a></p>
</body></html>`))

var internalErrorPage = template.Must(template.New("500").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Something went wrong · smartcar-sandbox</title></head>
<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem">
<h1>Something went wrong</h1><p>The sandbox hit an internal error. Its log has the details under request id <code>{{.}}</code>.</p><p><a href="/">What this server offers</a></p>
</body></html>`))

var methodNotAllowedPage = template.Must(template.New("405").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Method not allowed · smartcar-sandbox</title></head>
<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem">
<h1>Method not allowed</h1><p><code>{{.Path}}</code> does not answer <code>{{.Method}}</code>; it answers
{{range $i, $m := .Allow}}{{if $i}}, {{end}}<code>{{$m}}</code>{{end}}.</p><p><a href="/">What this server offers</a></p>
</body></html>`))

var landingPage = template.Must(template.New("landing").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>smartcar-sandbox</title>
<style>body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.5}
pre{background:#f4f4f6;padding:1rem;overflow:auto;border-radius:8px}@media(prefers-color-scheme:dark){body{background:#111;color:#eee}pre{background:#222}}</style>
</head><body>
<h1>smartcar-sandbox</h1>
<p>A local, offline stand-in for Smartcar Connect, the token endpoint and the vehicle API (v2.0 and v3).
Any username and password work on Connect.</p>
<h2>Point a client at it</h2>
<pre>{{range .Env}}{{.}}
{{end}}</pre>
<h2>Endpoints</h2>
<ul>
<li><code>GET {{.Origin}}/oauth/authorize</code>: Connect</li>
<li><code>POST {{.Origin}}/oauth/token</code>: token endpoint</li>
<li><code>POST {{.Origin}}/oauth2/token</code>: v3 application token (client credentials, form or JSON)</li>
<li><code>{{.Origin}}/v2.0/...</code>, <code>{{.Origin}}/v3/...</code>: vehicle API</li>
<li><code>GET {{.Origin}}/healthz</code>: health</li>
<li><code>GET {{.Origin}}/javascript-sdk/v2/redirect?app_origin=…</code>: the JavaScript SDK's redirect page (docs/web.md)</li>
{{if .Dashboard}}<li><a href="/dashboard">{{.Origin}}/dashboard</a>: the dashboard (sign in with the admin token)</li>{{end}}
</ul>
</body></html>`))

// EnvLines are the environment variables that point the official SDKs at origin.
func EnvLines(origin string) []string {
	return []string{
		"SMARTCAR_API_ORIGIN=" + origin,
		"SMARTCAR_AUTH_ORIGIN=" + origin,
		"SMARTCAR_CONNECT_ORIGIN=" + origin,
		"SMARTCAR_MANAGEMENT_API_ORIGIN=" + origin,
		"SMARTCAR_API_V3_ORIGIN=" + origin,
	}
}

func landing(d Deps) http.Handler {
	data := struct {
		Origin    string
		Env       []string
		Dashboard bool
	}{d.Origin, EnvLines(d.Origin), d.Control != nil && d.Control.AdminToken != ""}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		htmlHeaders(w.Header())
		_ = landingPage.Execute(w, data)
	})
}

// htmlHeaders are what every HTML page of the sandbox's own (the landing page, the 404
// page) carries; Connect's pages set theirs, a CSP included, in internal/connect. nosniff
// keeps a browser from reading the page, or anything else served here, as another type.
func htmlHeaders(h http.Header) {
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
}
