// Package connect serves the sandbox's Connect pages (connect.smartcar.com/oauth/authorize and
// the pages it leads to): preamble, brand selector, the brand's sign-in, and permissions with
// the vehicles to share on the same page (as on Smartcar's Connect: its SDK test helpers sign
// in and then click #approval-button on the very next page), ending in a 302 to the app's redirect URI with ?code=…&user_id=…&state=… (or ?error=…).
//
// The pages are plain HTML forms, so curl with a cookie jar can drive them, and they carry the
// element ids Smartcar's own SDK end-to-end tests click. The server keeps no state per flow:
// the authorize parameters and the progress travel in an HMAC-signed, expiring flow token
// (flow.go), and every POST must echo the flow's CSRF cookie in a hidden field.
package connect

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/fixtures"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/route"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
)

// CodeTTL is how long an authorization code stays valid (Smartcar: 10 minutes).
const CodeTTL = 10 * time.Minute

// Paths of Connect's pages (the authorize path among them); Mount declares a route for each.
const (
	PathAuthorize = "/oauth/authorize"
	PathStart     = "/connect/start"
	PathBrands    = "/connect/brands"
	PathBrand     = "/connect/brand"
	PathLogin     = "/connect/login"
	PathConsent   = "/connect/consent"
	PathCSS       = "/connect/static/connect.css"
)

// Config is what Connect needs.
type Config struct {
	Store *store.Store
	// Key signs flow tokens (at least 32 random bytes). The app keeps it under the data dir
	// (internal/keys), so a page shown before a restart can be submitted after it.
	Key []byte
	// Origin is the public origin; an https origin makes the CSRF cookie Secure.
	Origin string
	Now    func() time.Time
	Logger *slog.Logger
	// OnEvent, when set, hears each flow's start ("started"), its code ("completed") and its
	// Connect errors (the error code: "access_denied", "no_vehicles", …), for the metrics.
	OnEvent func(event string)
}

// Handler serves the Connect pages.
type Handler struct {
	store  *store.Store
	seal   sealer
	secure bool
	now    func() time.Time
	log    *slog.Logger
	event  func(string)
}

// New returns the Connect handler.
func New(c Config) (*Handler, error) {
	if c.Store == nil {
		return nil, errors.New("connect: no store")
	}
	if len(c.Key) < 32 {
		return nil, fmt.Errorf("connect: key must be at least 32 bytes, got %d", len(c.Key))
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.OnEvent == nil {
		c.OnEvent = func(string) {}
	}
	return &Handler{store: c.Store, seal: newSealer(c.Key), secure: strings.HasPrefix(c.Origin, "https://"), now: c.Now, log: c.Logger, event: c.OnEvent}, nil
}

// Mount declares the Connect pages on r, one route per step. POST steps share h.post: flow
// token, CSRF check, form parsing.
func (h *Handler) Mount(r *mux.Router) {
	get, post := http.MethodGet, http.MethodPost
	route.Handle(r, PathAuthorize, http.HandlerFunc(h.authorize)).Methods(get)
	route.Handle(r, PathStart, h.post(h.start)).Methods(post)
	route.Handle(r, PathBrands, http.HandlerFunc(h.brands)).Methods(get)
	route.Handle(r, PathBrand, h.post(h.brand)).Methods(post)
	route.Handle(r, PathLogin, h.post(h.login)).Methods(post)
	route.Handle(r, PathConsent, h.post(h.consent)).Methods(post)
	route.Handle(r, PathCSS, http.HandlerFunc(serveCSS)).Methods(get) // the embedded stylesheet
}

// pageError is a problem Connect shows as its own error page and never sends to the redirect
// URI: the app or the redirect URI cannot be trusted yet, or the form was not Connect's.
type pageError struct {
	Status  int
	Title   string
	Message string
	Fix     []string // how to fix it, one step per line
}

func (e *pageError) Error() string { return e.Title + ": " + e.Message }

// redirectError is a Connect error delivered to the app: ?error=…&error_description=…&state=….
type redirectError struct {
	Code        string
	Description string
	Extra       url.Values // vin, make, model, year for vehicle_incompatible; status_code, error_message for configuration_error
}

func (e *redirectError) Error() string { return e.Code + ": " + e.Description }

// configError is a bad authorize request from a trusted app. Smartcar's list of Connect
// errors has configuration_error for this; the iOS SDK also reads status_code and
// error_message with it.
func configError(desc string) *redirectError {
	return &redirectError{Code: "configuration_error", Description: desc, Extra: url.Values{"status_code": {"400"}, "error_message": {desc}}}
}

// authorize validates the authorize request and shows the preamble.
func (h *Handler) authorize(w http.ResponseWriter, r *http.Request) {
	f, err := h.parseAuthorize(r.URL.Query())
	if err != nil {
		var re *redirectError
		if errors.As(err, &re) && f != nil {
			h.redirect(w, f, re)
			return
		}
		h.fail(w, r, err)
		return
	}
	h.event("started")
	csrf := sandbox.RandomToken(32)
	http.SetCookie(w, csrfCookie(f.ID, csrf, h.secure))
	h.render(w, r, http.StatusOK, "preamble", h.pageFor(f, csrf))
}

// parseAuthorize turns the query into a flow. When the app and the redirect URI are known it
// returns the flow together with any redirectError, so the caller can send the error back.
func (h *Handler) parseAuthorize(q url.Values) (*flow, error) {
	clientID := q.Get("client_id")
	if clientID == "" {
		clientID = q.Get("application_id") // newest iOS and JS SDKs
	}
	if clientID == "" {
		return nil, &pageError{Status: http.StatusBadRequest, Title: "No client_id",
			Message: "The Connect URL has no client_id (or application_id), so the sandbox cannot tell which app is asking.",
			Fix:     []string{"Add client_id=<your client id> to the URL; with the SDKs set SMARTCAR_CLIENT_ID or the clientId option."}}
	}
	app, ok := h.store.Application(clientID)
	if !ok {
		return nil, &pageError{Status: http.StatusBadRequest, Title: "Unknown application",
			Message: fmt.Sprintf("No application with client_id %q is registered with this sandbox.", clientID),
			Fix: []string{
				"Use a registered client id (the sandbox prints them at start), or register yours:",
				"in the fixtures (-fixtures DIR, applications.yaml): an entry with client_id: " + clientID + ", client_secret and redirect_uris,",
				"or with the environment: SMARTCAR_CLIENT_ID=" + clientID + " SMARTCAR_CLIENT_SECRET=… SMARTCAR_REDIRECT_URI=<your redirect URI>, then restart.",
			}}
	}
	redirect := q.Get("redirect_uri")
	switch {
	case redirect == "" && len(app.RedirectURIs) == 1:
		redirect = app.RedirectURIs[0] // what Smartcar's dashboard default does
	case redirect == "":
		return nil, &pageError{Status: http.StatusBadRequest, Title: "No redirect_uri",
			Message: fmt.Sprintf("The Connect URL has no redirect_uri, and %s has %d registered, so the sandbox cannot pick one.", app.Name, len(app.RedirectURIs)),
			Fix:     append([]string{"Add redirect_uri=<one of these> to the URL:"}, app.RedirectURIs...)}
	case !app.AllowsRedirect(redirect):
		fix := []string{"Registered redirect URIs of " + app.Name + ": " + strings.Join(app.RedirectURIs, ", ") + " (they must match exactly).",
			"To allow " + redirect + ", add it to the redirect_uris list of this application"}
		if app.Source != "" {
			fix[1] += " (" + app.Source + ")"
		}
		fix[1] += ", or set SMARTCAR_REDIRECT_URI=" + redirect + " together with SMARTCAR_CLIENT_ID and SMARTCAR_CLIENT_SECRET, then restart the sandbox."
		return nil, &pageError{Status: http.StatusBadRequest, Title: "Redirect URI not registered",
			Message: fmt.Sprintf("The redirect_uri %q is not registered for %s (client_id %s). Connect only redirects to registered URIs.", redirect, app.Name, app.ClientID),
			Fix:     fix}
	}

	f := &flow{
		ID:          sandbox.RandomToken(12),
		Expires:     h.now().Add(FlowTTL).Unix(),
		ClientID:    app.ClientID,
		RedirectURI: redirect,
		State:       q.Get("state"),
		ExternalID:  q.Get("external_id"),
	}
	// From here on the app and redirect URI are trusted: problems go back to the app.
	if rt := q.Get("response_type"); rt != "code" {
		return f, configError(fmt.Sprintf("response_type must be code, got %q.", rt))
	}
	switch p := q.Get("approval_prompt"); p {
	case "", "auto":
	case "force":
		f.Force = true
	default:
		return f, configError(fmt.Sprintf("approval_prompt must be auto or force, got %q.", p))
	}
	switch m := q.Get("mode"); m {
	case "":
		f.Mode = "live"
	case "live", "test", "simulated":
		f.Mode = m
	default:
		return f, configError(fmt.Sprintf("mode must be live, test or simulated, got %q.", m))
	}
	scope, err := parseScope(q.Get("scope"))
	if err != nil {
		return f, err
	}
	f.Scope = scope
	switch s := strings.ToLower(q.Get("single_select")); s {
	case "", "false":
	case "true":
		f.Single = true
	default:
		return f, configError(fmt.Sprintf("single_select must be true or false, got %q.", q.Get("single_select")))
	}
	if vin := strings.TrimSpace(q.Get("single_select_vin")); vin != "" {
		f.SingleVIN, f.Single = strings.ToUpper(vin), true
	}
	// An unknown make is not an error: the person just picks the brand on the brand page.
	if mk, ok := sandbox.LookupMake(strings.ToUpper(strings.TrimSpace(q.Get("make")))); ok {
		f.Make, f.MakeBypass = mk.ID, true
	}
	// flags, user, sdk_platform, sdk_version: accepted and not needed by the sandbox.
	return f, nil
}

// parseScope reads the space-separated scope ("+" and "%20" both decode to spaces) with its
// required: prefixes.
func parseScope(s string) ([]permission, error) {
	var out []permission
	index := map[string]int{}
	var unknown []string
	for _, item := range strings.Fields(s) {
		name, required := strings.CutPrefix(item, "required:")
		if _, ok := sandbox.LookupPermission(name); !ok {
			unknown = append(unknown, item)
			continue
		}
		if i, seen := index[name]; seen {
			out[i].Required = out[i].Required || required
			continue
		}
		index[name] = len(out)
		out = append(out, permission{Name: name, Required: required})
	}
	if len(unknown) > 0 {
		return nil, configError("Unknown permission(s) in scope: " + strings.Join(unknown, ", ") + ".")
	}
	if len(out) == 0 {
		return nil, configError("No permissions requested: add scope=<permissions> (space separated, e.g. read_vehicle_info read_odometer).")
	}
	return out, nil
}

// post wraps a POST step: it parses the form, opens the flow and checks the CSRF token, so a
// step only runs for a genuine form Connect itself showed.
func (h *Handler) post(step func(http.ResponseWriter, *http.Request, *flow, string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			var mbe *http.MaxBytesError
			msg := "The form could not be read: " + err.Error()
			if errors.As(err, &mbe) {
				msg = "The form is too large."
			}
			h.fail(w, r, &pageError{Status: http.StatusBadRequest, Title: "Bad form", Message: msg})
			return
		}
		f, err := h.seal.open(r.PostForm.Get("flow"), h.now())
		if err != nil {
			h.fail(w, r, &pageError{Status: http.StatusBadRequest, Title: "Connect flow not valid", Message: err.Error(),
				Fix: []string{"Go back to your app and start connecting again."}})
			return
		}
		csrf := r.PostForm.Get("csrf")
		if !checkCSRF(r, f, csrf) {
			h.fail(w, r, errCSRF)
			return
		}
		step(w, r, f, csrf)
	})
}

var errCSRF = &pageError{Status: http.StatusForbidden, Title: "Form check failed",
	Message: "This form did not come with the security token Connect gave this browser (its cookie is missing or does not match), so it was not accepted.",
	Fix:     []string{"Make sure cookies are enabled (curl: use a cookie jar, -c and -b), then start again from your app."}}

// start is the preamble's Continue: the brand page, or straight to sign-in with make=.
func (h *Handler) start(w http.ResponseWriter, r *http.Request, f *flow, csrf string) {
	if f.MakeBypass {
		h.render(w, r, http.StatusOK, "login", h.loginPage(f, csrf, ""))
		return
	}
	h.render(w, r, http.StatusOK, "brands", h.brandsPage(f, csrf, "", ""))
}

// brands is the brand page's search, a GET form so it works without JavaScript.
func (h *Handler) brands(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, err := h.seal.open(q.Get("flow"), h.now())
	if err != nil {
		h.fail(w, r, &pageError{Status: http.StatusBadRequest, Title: "Connect flow not valid", Message: err.Error(),
			Fix: []string{"Go back to your app and start connecting again."}})
		return
	}
	csrf := csrfFromCookie(r, f.ID)
	if csrf == "" {
		h.fail(w, r, errCSRF)
		return
	}
	h.render(w, r, http.StatusOK, "brands", h.brandsPage(f, csrf, q.Get("q"), ""))
}

func (h *Handler) brand(w http.ResponseWriter, r *http.Request, f *flow, csrf string) {
	mk, ok := sandbox.LookupMake(r.PostForm.Get("make"))
	if !ok {
		h.render(w, r, http.StatusBadRequest, "brands", h.brandsPage(f, csrf, "", "Choose one of the brands below."))
		return
	}
	f.Make = mk.ID
	h.render(w, r, http.StatusOK, "login", h.loginPage(f, csrf, ""))
}

// Connect error descriptions, worded as Smartcar's docs word them.
const (
	descAccessDenied        = "User denied access to application."
	descNoVehicles          = "No vehicles found in the user's account."
	descVehicleIncompatible = "The user's vehicle is not compatible with the requested permissions."
	descInvalidSubscription = "The user's vehicle subscription is inactive or invalid."
)

func (h *Handler) login(w http.ResponseWriter, r *http.Request, f *flow, csrf string) {
	username := strings.TrimSpace(r.PostForm.Get("username"))
	if username == "" || r.PostForm.Get("password") == "" {
		if f.Make == "" {
			f.Make = defaultMake
		}
		p := h.loginPage(f, csrf, "Enter a username and a password. Any non-empty ones work here.")
		p.Username = username
		h.render(w, r, http.StatusBadRequest, "login", p)
		return
	}
	if err := h.signIn(f, username); err != nil {
		h.answer(w, r, f, err)
		return
	}
	// approval_prompt=auto skips the permissions page when the user already granted this app
	// every requested permission on every vehicle this sign-in shares (and there is nothing to
	// choose: single_select with several vehicles always asks).
	if !f.Force && (!f.Single || len(f.Offered) == 1) && h.alreadyGranted(f, f.Offered) {
		h.approve(w, r, f, f.Offered, scopeNames(f.Scope, nil))
		return
	}
	h.render(w, r, http.StatusOK, "consent", h.consentPage(f, csrf, nil, ""))
}

// defaultMake is the brand of a sign-in that named none: a hand-made POST that skipped the
// brand page, or a headless flow without make. Any brand works.
const defaultMake = "TESLA"

// signIn is the sign-in step every flow runs, the pages' and the headless one's (Run): the
// account (a username no fixture names gets a test-mode car of the brand), Smartcar's
// test-user rules, single_select_vin. It records the user and the vehicles to offer in f, or
// returns the Connect error (a *redirectError) the app gets instead.
func (h *Handler) signIn(f *flow, username string) error {
	if f.Make == "" {
		f.Make = defaultMake
	}
	acct, vehicles, err := h.store.SignIn(username, f.Make)
	if errors.Is(err, store.ErrNotFound) {
		return &redirectError{Code: "no_vehicles", Description: descNoVehicles}
	} else if err != nil {
		return err
	}
	tu := fixtures.ParseTestUser(username)
	switch {
	case tu.Kind == fixtures.InvalidSubscription:
		return &redirectError{Code: "invalid_subscription", Description: descInvalidSubscription}
	case tu.Kind == fixtures.VehicleIncompatible, tu.Kind == fixtures.VINLevel && tu.Level == "incompatible":
		return incompatible(vehicles)
	case tu.Kind == fixtures.VINLevel:
		scope, ok := levelScope(f.Scope, tu.Level)
		if !ok {
			return incompatible(vehicles)
		}
		f.Scope = scope
	}
	if f.SingleVIN != "" {
		var only []sandbox.Vehicle
		for _, v := range vehicles {
			if strings.EqualFold(v.VIN, f.SingleVIN) {
				only = append(only, v)
			}
		}
		vehicles = only
	}
	if len(vehicles) == 0 {
		return &redirectError{Code: "no_vehicles", Description: descNoVehicles}
	}
	f.UserID, f.Username = acct.UserID, acct.Username
	f.Offered = make([]string, len(vehicles))
	for i, v := range vehicles {
		f.Offered[i] = v.ID
	}
	return nil
}

// answer sends a step's error: a *redirectError to the app, anything else as the error page.
func (h *Handler) answer(w http.ResponseWriter, r *http.Request, f *flow, err error) {
	var re *redirectError
	if errors.As(err, &re) {
		h.redirect(w, f, re)
		return
	}
	h.fail(w, r, err)
}

// incompatible is the vehicle_incompatible redirect; Connect shares the vehicle's VIN, make,
// model and year with it (the JS SDK reads all four).
func incompatible(vs []sandbox.Vehicle) *redirectError {
	e := &redirectError{Code: "vehicle_incompatible", Description: descVehicleIncompatible}
	if len(vs) > 0 {
		v := vs[0]
		e.Extra = url.Values{"vin": {v.VIN}, "make": {v.Make}, "model": {v.Model}, "year": {fmt.Sprint(v.Year)}}
	}
	return e
}

// levelScope keeps the requested permissions a <VIN>@<level>.smartcar.com vehicle supports. A
// required permission it lacks, or nothing left at all, makes the vehicle incompatible.
func levelScope(scope []permission, level string) ([]permission, bool) {
	var out []permission
	for _, p := range scope {
		if levelSupports(level, p.Name) {
			out = append(out, p)
		} else if p.Required {
			return nil, false
		}
	}
	return out, len(out) > 0
}

var (
	evOnly   = map[string]bool{"read_battery": true, "read_charge": true, "control_charge": true, "read_charge_locations": true, "read_charge_records": true, "read_charge_events": true}
	fuelOnly = map[string]bool{"read_fuel": true, "read_engine_oil": true}
)

// levelSupports follows Smartcar's test-mode levels: compatible and phev have every
// permission, fuel the gasoline ones, bev the EV ones, incompatible none.
func levelSupports(level, perm string) bool {
	switch level {
	case "compatible", "phev":
		return true
	case "fuel":
		return !evOnly[perm]
	case "bev":
		return !fuelOnly[perm]
	}
	return false
}

func (h *Handler) alreadyGranted(f *flow, vehicles []string) bool {
	for _, vid := range vehicles {
		g, ok := h.store.Grant(f.ClientID, f.UserID, vid)
		if !ok {
			return false
		}
		have := make(map[string]bool, len(g.Permissions))
		for _, p := range g.Permissions {
			have[p] = true
		}
		for _, p := range f.Scope {
			if !have[p.Name] {
				return false
			}
		}
	}
	return len(vehicles) > 0
}

// scopeNames lists required permissions plus the optional ones in keep (all when keep is nil).
func scopeNames(scope []permission, keep map[string]bool) []string {
	var out []string
	for _, p := range scope {
		if p.Required || keep == nil || keep[p.Name] {
			out = append(out, p.Name)
		}
	}
	return out
}

// consent is the permissions page's answer: Deny, or Allow with the vehicles and optional
// permissions left checked.
func (h *Handler) consent(w http.ResponseWriter, r *http.Request, f *flow, csrf string) {
	if f.UserID == "" || len(f.Offered) == 0 {
		h.fail(w, r, &pageError{Status: http.StatusBadRequest, Title: "Sign in first", Message: "Grant permissions after signing in."})
		return
	}
	switch r.PostForm.Get("action") {
	case "deny":
		h.redirect(w, f, errAccessDenied)
	case "allow":
		keep := map[string]bool{}
		for _, p := range r.PostForm["permission"] {
			keep[p] = true
		}
		chosen, perms, msg := choose(f, r.PostForm["vehicle"], keep)
		if msg != "" {
			seen := make(map[string]bool, len(chosen))
			for _, id := range chosen {
				seen[id] = true
			}
			h.render(w, r, http.StatusBadRequest, "consent", h.consentPage(f, csrf, seen, msg))
			return
		}
		h.approve(w, r, f, chosen, perms)
	default:
		h.render(w, r, http.StatusBadRequest, "consent", h.consentPage(f, csrf, nil, "Choose Allow or Deny access."))
	}
}

var errAccessDenied = &redirectError{Code: "access_denied", Description: descAccessDenied}

// choose is the permissions page's Allow, for the pages and the headless flow alike: the
// vehicles picked among those offered (others are ignored, each counted once) and the
// required permissions plus the optional ones in keep (nil keeps them all). msg says what is
// wrong with the choice, "" when it can be approved.
func choose(f *flow, picked []string, keep map[string]bool) (chosen, perms []string, msg string) {
	offered := make(map[string]bool, len(f.Offered))
	for _, id := range f.Offered {
		offered[id] = true
	}
	seen := map[string]bool{}
	for _, id := range picked {
		if offered[id] && !seen[id] {
			seen[id] = true
			chosen = append(chosen, id)
		}
	}
	perms = scopeNames(f.Scope, keep)
	switch {
	case len(chosen) == 0:
		msg = "Choose at least one vehicle to share, or deny access."
	case f.Single && len(chosen) > 1:
		msg = "Choose one vehicle."
	case len(perms) == 0:
		msg = "Allow at least one permission, or deny access."
	}
	return chosen, perms, msg
}

// approve records the grants, saves the authorization code and sends the person back to the app.
func (h *Handler) approve(w http.ResponseWriter, r *http.Request, f *flow, vehicles, perms []string) {
	q, err := h.grant(f, vehicles, perms)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.found(w, redirectURL(f.RedirectURI, q))
}

// grant is the end of every approved flow: it records the grants, saves the authorization code
// and returns the query the redirect carries (code, state, external_id).
func (h *Handler) grant(f *flow, vehicles, perms []string) (url.Values, error) {
	now := h.now().UTC()
	grants := make([]sandbox.Grant, len(vehicles))
	for i, vid := range vehicles {
		grants[i] = sandbox.Grant{ClientID: f.ClientID, UserID: f.UserID, VehicleID: vid, Permissions: perms, ConnectedAt: now, Mode: f.Mode, ExternalID: f.ExternalID}
	}
	if err := h.store.Connect(grants...); err != nil {
		return nil, err
	}
	code := sandbox.AuthCode{
		Code:        sandbox.NewUUID(),
		ClientID:    f.ClientID,
		RedirectURI: f.RedirectURI,
		UserID:      f.UserID,
		VehicleIDs:  append([]string(nil), vehicles...),
		Permissions: sandbox.SortedPermissionNames(perms),
		Mode:        f.Mode,
		ExpiresAt:   now.Add(CodeTTL),
	}
	if err := h.store.SaveCode(code); err != nil {
		return nil, err
	}
	h.event("completed")
	// user_id is what v3 calls name in sc-user-id (Smartcar's v3 Connect docs); code stays,
	// since the v2.0 flow and the official SDKs exchange it.
	q := url.Values{"code": {code.Code}, "user_id": {f.UserID}}
	if f.State != "" {
		q.Set("state", f.State)
	}
	if f.ExternalID != "" {
		q.Set("external_id", f.ExternalID)
	}
	return q, nil
}

// redirect sends a Connect error back to the app.
func (h *Handler) redirect(w http.ResponseWriter, f *flow, e *redirectError) {
	h.found(w, redirectURL(f.RedirectURI, h.errorQuery(f, e)))
}

// errorQuery is what a Connect error's redirect carries: error, error_description, the
// error's extras and the state.
func (h *Handler) errorQuery(f *flow, e *redirectError) url.Values {
	h.event(e.Code)
	q := url.Values{"error": {e.Code}, "error_description": {e.Description}}
	for k, vs := range e.Extra {
		q[k] = vs
	}
	if f.State != "" {
		q.Set("state", f.State)
	}
	return q
}

func (h *Handler) found(w http.ResponseWriter, loc string) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Location", loc)
	w.WriteHeader(http.StatusFound)
}

// redirectURL appends q to a registered redirect URI, keeping any query it already has
// byte for byte. Custom schemes (scmyapp://exchange) parse like any URL.
func redirectURL(base string, q url.Values) string {
	u, err := url.Parse(base)
	if err != nil {
		// Registered URIs are checked when loaded; still, never lose the parameters.
		sep := "?"
		if strings.Contains(base, "?") {
			sep = "&"
		}
		return base + sep + q.Encode()
	}
	if u.RawQuery != "" {
		u.RawQuery += "&" + q.Encode()
	} else {
		u.RawQuery = q.Encode()
	}
	u.ForceQuery = false
	return u.String()
}

// fail renders err as the Connect error page; unexpected errors become a 500 page and a log line.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var pe *pageError
	if !errors.As(err, &pe) {
		h.log.Error("connect", "path", r.URL.Path, "error", err)
		pe = &pageError{Status: http.StatusInternalServerError, Title: "Something went wrong",
			Message: "The sandbox could not finish this step: " + err.Error(),
			Fix:     []string{"Try again from your app; the sandbox log has the details under this response's SC-Request-Id."}}
	}
	h.render(w, r, pe.Status, "error", page{Title: pe.Title, Err: pe})
}
