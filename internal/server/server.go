// Package server wires the sandbox's doors (Connect, the token endpoint, the vehicle APIs) onto
// one router, so a reader sees the whole surface in mount, and wraps them in the middleware
// every request gets: request id, access log, panic recovery, slash folding, body limits.
package server

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/connect"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/oauth"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/scapi"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/token"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/vehicleapi"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/vehicleapiv3"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/webhooks"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/websdk"
)

// Deps is what the doors need.
type Deps struct {
	Store  *store.Store
	Tokens *token.Issuer
	Logger *slog.Logger
	// Origin is the public origin (scheme://host:port) written into links and pages.
	Origin string
	// Now is the clock shared by every door; nil means time.Now.
	Now func() time.Time
	// Control is the test control surface (admin API, faults, request log; see admin.go);
	// nil turns all of it off.
	Control *Control
	// Webhooks serves webhook subscriptions and the delivery log; nil leaves them unmounted.
	Webhooks *webhooks.Service
	// AccessLog takes the one line per request; nil logs it through Logger instead.
	AccessLog *AccessLog
}

// New returns the sandbox's HTTP handler.
func New(d Deps) http.Handler {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return middleware(withControl(serveHeadAsGet(router(d)), d), d.Logger, d.AccessLog)
}

// router builds the router over every route of mount. It never redirects: gorilla/mux's path
// cleaning answers "/a/../b" with a 301, and a redirect turns an SDK's POST into a GET, so
// cleaning is off and dot segments are a 404 (see mount). It matches on the escaped path, so
// an encoded slash inside a vehicle id ("a%2Fb") is part of the id (then refused as not an
// id), not a separator that would make another route match.
func router(d Deps) *mux.Router {
	r := mux.NewRouter().SkipClean(true).UseEncodedPath()
	mount(r, d)
	r.NotFoundHandler = http.HandlerFunc(notFound)
	r.MethodNotAllowedHandler = methodNotAllowed(r)
	return r
}

// oauthTokenPath is the token endpoint (auth.smartcar.com/oauth/token).
const oauthTokenPath = "/oauth/token"

// mount declares every route of the sandbox.
func mount(r *mux.Router, d Deps) {
	auth := &scapi.Auth{Tokens: d.Tokens, Store: d.Store}
	v2 := vehicleapi.New(d.Store, auth, d.Now)
	v3 := vehicleapiv3.New(d.Store, auth, d.Now)
	get, post := http.MethodGet, http.MethodPost

	// A path with a "." or ".." segment names nothing here: 404 in the door's shape, before
	// any route could take ".." for a vehicle id. (The admin API answers its own paths.)
	r.MatcherFunc(func(req *http.Request, _ *mux.RouteMatch) bool {
		return hasDotSegment(routedPath(req)) && !isAdminPath(req.URL.Path)
	}).HandlerFunc(notFound)

	// --- sandbox's own pages ---
	handle(r, "/healthz", http.HandlerFunc(healthz)).Methods(get)
	handle(r, "/", landing(d)).Methods(get)
	// The stand-in for the redirect page Smartcar hosts for its JavaScript SDK (docs/web.md).
	handle(r, websdk.PathRedirect, websdk.Redirect()).Methods(get)
	handle(r, websdk.PathScript, websdk.Script()).Methods(get)

	// --- Connect (connect.smartcar.com) ---
	// The flow-token key is made at each start: a Connect flow in progress does not survive a
	// restart (one retry for the person), and no secret needs to be kept on disk.
	conn, err := connect.New(connect.Config{Store: d.Store, Key: token.NewKey(), Origin: d.Origin, Now: d.Now, Logger: d.Logger})
	if err != nil {
		panic(err) // only a programming error: the store is required and the key is made here
	}
	handle(r, connect.PathAuthorize, conn.Authorize()).Methods(get)
	handle(r, connect.PathStart, conn.Start()).Methods(post)
	handle(r, connect.PathBrands, conn.Brands()).Methods(get)
	handle(r, connect.PathBrand, conn.Brand()).Methods(post)
	handle(r, connect.PathLogin, conn.Login()).Methods(post)
	handle(r, connect.PathConsent, conn.Consent()).Methods(post)
	handle(r, connect.PathCSS, connect.CSS()).Methods(get)

	// --- token endpoint (auth.smartcar.com) ---
	// Every method reaches the handler, so a GET gets the OAuth 405 JSON rather than the HTML 404.
	handle(r, oauthTokenPath, oauth.New(d.Store, d.Tokens, d.Now))

	// --- vehicle API v2.0 (api.smartcar.com/v2.0) and management API ---
	mountVehicleAPI(r, scapi.V2, v2, auth, d.Webhooks)

	// --- admin API (the sandbox's own control surface; see admin.go) ---
	mountAdmin(r, d)

	// --- vehicle API v3 (vehicle.api.smartcar.com/v3) ---
	handle(r, "/v3/vehicles/{id}", scapi.Handle(scapi.V3, v3.Vehicle)).Methods(get)
	handle(r, "/v3/vehicles/{id}/signals", scapi.Handle(scapi.V3, v3.Signals)).Methods(get)
	handle(r, "/v3/vehicles/{id}/signals/{code}", scapi.Handle(scapi.V3, v3.Signal)).Methods(get)
	handle(r, "/v3/vehicles/{id}/commands/security/lock", scapi.Handle(scapi.V3, v3.Lock)).Methods(post)
	handle(r, "/v3/vehicles/{id}/commands/security/unlock", scapi.Handle(scapi.V3, v3.Unlock)).Methods(post)
	handle(r, "/v3/vehicles/{id}/commands/charging/start", scapi.Handle(scapi.V3, v3.StartCharge)).Methods(post)
	handle(r, "/v3/vehicles/{id}/commands/charging/stop", scapi.Handle(scapi.V3, v3.StopCharge)).Methods(post)
	handle(r, "/v3/vehicles/{id}/commands/charging/limit", scapi.Handle(scapi.V3, v3.SetChargeLimit)).Methods(post)
	handle(r, "/v3/connections", scapi.Handle(scapi.V3, v3.Connections)).Methods(get)
	handle(r, "/v3/connections/{id}", scapi.Handle(scapi.V3, v3.Connection)).Methods(get)

	// --- vehicle API v1.0: the SDKs' setApiVersion('1.0'), served by the same handlers ---
	// Last, so the v2.0 and v3 routes are tried first.
	mountVehicleAPI(r, scapi.V1, v2, auth, d.Webhooks)
}

// mountVehicleAPI declares the vehicle, user, management and compatibility API under v's
// prefix (/v2.0, or /v1.0, whose SDK calls are the same).
func mountVehicleAPI(r *mux.Router, v scapi.Version, api *vehicleapi.API, auth *scapi.Auth, wh *webhooks.Service) {
	p := v.Prefix()
	get := func(path string, h scapi.HandlerFunc) {
		handle(r, p+path, scapi.Handle(v, h)).Methods(http.MethodGet)
	}
	post := func(path string, h scapi.HandlerFunc) { handle(r, p+path, scapi.Handle(v, h)).Methods(http.MethodPost) }
	del := func(path string, h scapi.HandlerFunc) {
		handle(r, p+path, scapi.Handle(v, h)).Methods(http.MethodDelete)
	}

	get("/user", api.User)
	get("/vehicles", api.Vehicles)
	get("/vehicles/{id}", api.Read(""))
	get("/vehicles/{id}/vin", api.Read("vin"))
	get("/vehicles/{id}/odometer", api.Read("odometer"))
	get("/vehicles/{id}/location", api.Read("location"))
	get("/vehicles/{id}/fuel", api.Read("fuel"))
	get("/vehicles/{id}/battery", api.Read("battery"))
	get("/vehicles/{id}/battery/capacity", api.Read("battery/capacity"))
	get("/vehicles/{id}/battery/nominal_capacity", api.Read("battery/nominal_capacity"))
	get("/vehicles/{id}/charge", api.Read("charge"))
	post("/vehicles/{id}/charge", api.ChargeCommand)
	get("/vehicles/{id}/charge/limit", api.Read("charge/limit"))
	post("/vehicles/{id}/charge/limit", api.SetChargeLimit)
	get("/vehicles/{id}/engine/oil", api.Read("engine/oil"))
	get("/vehicles/{id}/tires/pressure", api.Read("tires/pressure"))
	get("/vehicles/{id}/security", api.Read("security"))
	post("/vehicles/{id}/security", api.Security)
	get("/vehicles/{id}/permissions", api.Read("permissions"))
	post("/vehicles/{id}/batch", api.Batch)
	del("/vehicles/{id}/application", api.Disconnect)
	get("/vehicles/{id}/service/history", api.Read("service/history"))
	get("/vehicles/{id}/diagnostics/system_status", api.Read("diagnostics/system_status"))
	get("/vehicles/{id}/diagnostics/dtcs", api.Read("diagnostics/dtcs"))
	post("/vehicles/{id}/navigation/destination", api.Destination)
	get("/management/connections", api.Connections)
	del("/management/connections", api.DeleteConnections)
	get("/compatibility", api.CompatibilityByVIN)
	get("/compatibility/matrix", api.CompatibilityMatrix)

	// Webhook subscriptions (the delivery log is in the admin API).
	if wh != nil {
		post("/vehicles/{id}/webhooks/{webhookId}", wh.Subscribe(auth))
		del("/vehicles/{id}/webhooks/{webhookId}", wh.Unsubscribe)
	}
}

func healthz(w http.ResponseWriter, r *http.Request) {
	scapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
