// Package dashboard is the sandbox's control surface for people: /dashboard on the sandbox's
// own port, signed in with the admin token. It shows the request log live, the applications
// with their env lines, accounts and vehicles (every signal live, forms to set them, commands,
// the simulated route as SVG), grants and tokens, codes, fault rules, webhook deliveries and
// the clock.
//
// It holds no rule of its own. Every read and change goes through the admin API's own
// handlers, in process (/dashboard/api/X is /admin/X with the admin token added, after the
// session and CSRF checks), so a page can never do what the admin API would refuse, nor
// differently. The vehicle commands, which the admin API does not have, use the rule functions
// the vehicle APIs use (sandbox.CommandRefusal, Vehicle.ChargeCommand, Security.SetLocked).
// Live updates are server-sent events fed by the store's change hooks and by the request log
// (which each open stream watches, so an API request pays nothing for the dashboard).
//
// Every asset is embedded (plain HTML, CSS and a small vanilla script): the pages work with
// no network.
package dashboard

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/requestid"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/requestlog"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
)

// Prefix is where the dashboard lives.
const Prefix = "/dashboard"

// Options is what the dashboard needs.
type Options struct {
	// Token is the admin token: signing in takes it, and the in-process calls to the admin
	// API carry it. It must not be empty.
	Token string
	// Admin serves the admin API (/admin/...); the dashboard calls it for every read and
	// change.
	Admin http.Handler
	Store *store.Store
	// EnvLines are the lines that point a client at this sandbox (SMARTCAR_API_ORIGIN=…).
	EnvLines []string
	// SimSeed is the simulator's seed, to draw a simulated vehicle's route.
	SimSeed int64
	// Requests is the request log; open pages hear of its new entries (nil: none).
	Requests *requestlog.Log
	// Stopping, when closed, ends every open event stream (the server is shutting down).
	Stopping <-chan struct{}
	// Now is the sandbox clock; nil means time.Now. Sessions use the wall clock, not this
	// one: moving the sandbox clock forward must not sign the person out.
	Now func() time.Time
}

// Dashboard serves /dashboard/....
type Dashboard struct {
	o   Options
	key []byte // signs session cookies and CSRF tokens; made at each start
	hub *hub
}

// sessionLifetime is how long a sign-in lasts.
const sessionLifetime = 12 * time.Hour

// cookieName is the session cookie.
const cookieName = "sandbox_dashboard"

//go:embed static templates
var assets embed.FS

var pages = template.Must(template.ParseFS(assets, "templates/*.html"))

// New builds the dashboard and subscribes it to the store's vehicle changes.
func New(o Options) (*Dashboard, error) {
	if o.Token == "" {
		return nil, errors.New("dashboard: empty admin token")
	}
	if o.Admin == nil || o.Store == nil {
		return nil, errors.New("dashboard: the admin API and the store are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	d := &Dashboard{o: o, key: key, hub: newHub()}
	o.Store.OnVehicleChange(d.vehicleChanged)
	return d, nil
}

// page is one dashboard page: its path under Prefix and its name in the navigation.
type page struct{ Path, Title string }

// navigation lists the pages in the order the menu shows them.
var navigation = []page{
	{"requests", "Requests"},
	{"applications", "Applications"},
	{"accounts", "Accounts & vehicles"},
	{"tokens", "Grants & tokens"},
	{"faults", "Faults"},
	{"webhooks", "Webhooks"},
	{"clock", "Clock & state"},
}

// Mount declares the dashboard's routes.
func (d *Dashboard) Mount(r *mux.Router) {
	get, post := http.MethodGet, http.MethodPost
	// Full paths on the sandbox's router (not a subrouter), so a wrong method gets the
	// router's 405 with Allow like every other page.
	handle := func(path string, h http.Handler) *mux.Route { return r.Handle(Prefix+path, withHeaders(h)) }
	handle("", http.RedirectHandler(Prefix+"/requests", http.StatusSeeOther)).Methods(get)
	handle("/login", http.HandlerFunc(d.loginPage)).Methods(get)
	handle("/login", http.HandlerFunc(d.login)).Methods(post)
	handle("/logout", d.changing(http.HandlerFunc(d.logout))).Methods(post)
	handle("/static/{file}", http.HandlerFunc(serveStatic)).Methods(get)
	handle("/events", d.signedIn(http.HandlerFunc(d.events))).Methods(get)
	handle("/api/vehicles/{id}/commands/{command}", d.changing(http.HandlerFunc(d.command))).Methods(post)
	handle("/api/vehicles/{id}/route", d.signedIn(http.HandlerFunc(d.route))).Methods(get)
	// Everything else under /api/ is the admin API's, which answers its own unknown paths.
	r.PathPrefix(Prefix + "/api/").Handler(withHeaders(http.HandlerFunc(d.proxy)))
	for _, p := range navigation {
		handle("/"+p.Path, d.page(p.Path, "")).Methods(get)
	}
	handle("/vehicles/{id}", d.page("vehicle", "accounts")).Methods(get)
}

// withHeaders sets what every dashboard answer carries, redirects and errors included: no
// sniffing, no caching (the pages show live state and secrets), no referrer to other sites.
func withHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		h.Set("Referrer-Policy", "same-origin") // not no-referrer: then a form POST sends "Origin: null"
		next.ServeHTTP(w, r)
	})
}

// --- sessions ---

// newSession returns a cookie value: a random id and an expiry, signed.
func (d *Dashboard) newSession(now time.Time) string {
	var raw [24]byte
	_, _ = rand.Read(raw[:16])
	binary.BigEndian.PutUint64(raw[16:], uint64(now.Add(sessionLifetime).Unix()))
	v := base64.RawURLEncoding.EncodeToString(raw[:])
	return v + "." + d.sign("session", v)
}

func (d *Dashboard) sign(purpose, v string) string {
	m := hmac.New(sha256.New, d.key)
	m.Write([]byte(purpose + "|" + v))
	return hex.EncodeToString(m.Sum(nil))
}

// session returns the request's valid session cookie value, or "".
func (d *Dashboard) session(r *http.Request) string {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return ""
	}
	v, sig, ok := strings.Cut(c.Value, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(d.sign("session", v))) {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(raw) != 24 {
		return ""
	}
	if time.Now().Unix() > int64(binary.BigEndian.Uint64(raw[16:])) {
		return ""
	}
	return c.Value
}

// csrf is the token a page sends with every change, tied to its session.
func (d *Dashboard) csrf(session string) string { return d.sign("csrf", session) }

// sameOrigin refuses a change sent from another site. Browsers send Origin on every POST;
// a request without it (curl with the cookie) still needs the CSRF token.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return r.Header.Get("Sec-Fetch-Site") == "" || r.Header.Get("Sec-Fetch-Site") == "same-origin"
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// signedIn lets a request with a valid session through; a page without one goes to the
// sign-in form, anything else gets 401 JSON.
func (d *Dashboard) signedIn(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.session(r) == "" {
			writeErr(w, r, http.StatusUnauthorized, "unauthorized", "sign in to the dashboard first ("+Prefix+"/login)")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// changing is signedIn plus the CSRF check every change needs: the X-CSRF-Token header must
// be the session's token, and the request must come from this origin.
func (d *Dashboard) changing(next http.Handler) http.Handler {
	return d.signedIn(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := r.Header.Get("X-CSRF-Token")
		if tok == "" {
			tok = r.PostFormValue("csrf")
		}
		if !sameOrigin(r) || subtle.ConstantTimeCompare([]byte(tok), []byte(d.csrf(d.session(r)))) != 1 {
			writeErr(w, r, http.StatusForbidden, "csrf", "the change did not come from a dashboard page of this session; reload the page")
			return
		}
		next.ServeHTTP(w, r)
	}))
}

func (d *Dashboard) loginPage(w http.ResponseWriter, r *http.Request) {
	if d.session(r) != "" {
		http.Redirect(w, r, Prefix+"/requests", http.StatusSeeOther)
		return
	}
	d.render(w, http.StatusOK, "login.html", map[string]any{"Next": safeNext(r.URL.Query().Get("next"))})
}

func (d *Dashboard) login(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.PostFormValue("next"))
	if !sameOrigin(r) {
		d.render(w, http.StatusForbidden, "login.html", map[string]any{"Next": next, "Error": "This form was sent from another site."})
		return
	}
	tok := strings.TrimSpace(r.PostFormValue("token"))
	if subtle.ConstantTimeCompare([]byte(tok), []byte(d.o.Token)) != 1 {
		d.render(w, http.StatusUnauthorized, "login.html", map[string]any{"Next": next,
			"Error": "That is not the admin token. It is printed in the sandbox's start banner (SANDBOX_ADMIN_TOKEN=…), or set with -admin-token."})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: d.newSession(time.Now()), Path: Prefix,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, MaxAge: int(sessionLifetime / time.Second)})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (d *Dashboard) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: Prefix, HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(w, r, Prefix+"/login", http.StatusSeeOther)
}

// safeNext keeps a post-login redirect on the dashboard.
func safeNext(p string) string {
	if !strings.HasPrefix(p, Prefix+"/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n") {
		return Prefix + "/requests"
	}
	return p
}

// --- pages ---

// page serves the shell of one page; static/app.js fills it from the admin API. active is
// the menu entry to highlight ("" for the page itself).
func (d *Dashboard) page(name, active string) http.Handler {
	if active == "" {
		active = name
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := d.session(r)
		if s == "" {
			http.Redirect(w, r, Prefix+"/login?next="+url.QueryEscape(r.URL.Path), http.StatusSeeOther)
			return
		}
		title := "Vehicle"
		for _, p := range navigation {
			if p.Path == name {
				title = p.Title
			}
		}
		d.render(w, http.StatusOK, "page.html", map[string]any{
			"Page": name, "Active": active, "Title": title, "Nav": navigation,
			"CSRF": d.csrf(s), "ID": mux.Vars(r)["id"], "Env": strings.Join(d.o.EnvLines, "\n"),
		})
	})
}

// csp allows only the dashboard's own files: no inline script, nothing from elsewhere.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func (d *Dashboard) render(w http.ResponseWriter, status int, name string, data any) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", csp)
	w.WriteHeader(status)
	_ = pages.ExecuteTemplate(w, name, data)
}

func serveStatic(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["file"]
	b, err := assets.ReadFile("static/" + name)
	if err != nil || strings.Contains(name, "/") {
		writeErr(w, r, http.StatusNotFound, "not_found", "no dashboard file "+name)
		return
	}
	switch {
	case strings.HasSuffix(name, ".css"):
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case strings.HasSuffix(name, ".js"):
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case strings.HasSuffix(name, ".svg"):
		w.Header().Set("Content-Type", "image/svg+xml")
	}
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}

// --- the admin API, in process ---

// proxy serves /dashboard/api/X with the admin API's own handler for /admin/X. Reads need a
// session; changes need the CSRF token too.
func (d *Dashboard) proxy(w http.ResponseWriter, r *http.Request) {
	h := d.signedIn(http.HandlerFunc(d.toAdmin))
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h = d.changing(http.HandlerFunc(d.toAdmin))
	}
	h.ServeHTTP(w, r)
}

func (d *Dashboard) toAdmin(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, Prefix+"/api")
	a := r.Clone(r.Context())
	a.URL.Path = "/admin" + rest
	a.URL.RawPath = ""
	a.RequestURI = a.URL.RequestURI()
	a.Header.Del("Cookie")
	a.Header.Set("Authorization", "Bearer "+d.o.Token)
	d.o.Admin.ServeHTTP(w, a)
}

// writeErr answers in the admin API's error shape, so the page shows one kind of error.
func writeErr(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(mustJSON(map[string]any{"error": code, "message": msg, "requestId": requestid.From(r.Context())}))
}
