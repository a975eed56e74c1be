// Package server wires the sandbox's doors (Connect, the token endpoint, the vehicle APIs) onto
// one router, so a reader sees the whole surface in mount, and wraps them in the middleware
// every request gets: request id, access log, panic recovery, slash folding, body limits.
package server

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/connect"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/door"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/keys"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/oauth"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/scapi"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/server/openapi"
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
	// ConnectKey signs Connect's flow state (internal/keys keeps it under the data dir, so a
	// Connect page shown before a restart can be submitted after it); nil makes a fresh one.
	ConnectKey []byte
	Logger     *slog.Logger
	// Origin is the public origin (scheme://host:port) written into links and pages.
	Origin string
	// Now is the clock shared by every door; nil means time.Now.
	Now func() time.Time
	// Control is the test control surface (admin API, faults, request log; see admin.go);
	// nil turns all of it off.
	Control *Control
	// Webhooks serves webhook subscriptions and the delivery log; nil leaves them unmounted.
	Webhooks *webhooks.Service
	// Metrics is what GET /metrics serves; nil makes a registry of the server's own.
	Metrics *Metrics
	// Ready says whether the sandbox can serve (GET /readyz): nil when ready, else why not.
	// nil Ready: ready whenever it answers.
	Ready func() error
}

// New returns the sandbox's HTTP handler.
func New(d Deps) http.Handler {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Metrics == nil {
		d.Metrics = NewMetrics()
	}
	d.Metrics.watchStore(d.Store)
	return middleware(withControl(serveHeadAsGet(router(d)), d), d.Logger, d.Metrics)
}

// router builds the router over every route of mount. It never redirects: gorilla/mux's path
// cleaning answers "/a/../b" with a 301, and a redirect turns an SDK's POST into a GET, so
// cleaning is off and dot segments are a 404 (see mount). It matches on the escaped path, so
// an encoded slash inside a vehicle id ("a%2Fb") is part of the id (then refused as not an
// id), not a separator that would make another route match.
func router(d Deps) *mux.Router {
	if d.Metrics == nil {
		d.Metrics = NewMetrics()
	}
	r := mux.NewRouter().SkipClean(true).UseEncodedPath()
	mount(r, d)
	d.Metrics.instrument(r)
	r.NotFoundHandler = http.HandlerFunc(notFound)
	r.MethodNotAllowedHandler = methodNotAllowed(r)
	return r
}

// oauthTokenPath is the token endpoint (auth.smartcar.com/oauth/token).
const oauthTokenPath = "/oauth/token"

// iamTokenPath is v3's application-token endpoint (iam.smartcar.com/oauth2/token).
const iamTokenPath = "/oauth2/token"

// mount declares every route of the sandbox.
func mount(r *mux.Router, d Deps) {
	if d.Metrics == nil {
		d.Metrics = NewMetrics() // tests that mount without New
	}
	auth := &scapi.Auth{Tokens: d.Tokens, Store: d.Store}
	v2 := vehicleapi.New(d.Store, auth, d.Now)
	v3 := vehicleapiv3.New(d.Store, auth, d.Now)
	get, post := http.MethodGet, http.MethodPost

	// A path with a "." or ".." segment names nothing here: 404 in the door's shape, before
	// any route could take ".." for a vehicle id. (The admin API answers its own paths.)
	r.MatcherFunc(func(req *http.Request, _ *mux.RouteMatch) bool {
		return hasDotSegment(routedPath(req)) && door.Of(req.URL.Path) != door.Admin
	}).HandlerFunc(notFound)

	// --- sandbox's own pages ---
	handle(r, "/healthz", http.HandlerFunc(healthz)).Methods(get)
	handle(r, "/readyz", readyz(d.Ready)).Methods(get)
	handle(r, "/metrics", d.Metrics.Handler()).Methods(get)
	handle(r, "/openapi.json", openapi.Handler()).Methods(get)
	handle(r, "/", landing(d)).Methods(get)
	// The stand-in for the redirect page Smartcar hosts for its JavaScript SDK (docs/web.md).
	handle(r, websdk.PathRedirect, websdk.Redirect()).Methods(get)
	handle(r, websdk.PathScript, websdk.Script()).Methods(get)

	// --- Connect (connect.smartcar.com) ---
	key := d.ConnectKey
	if key == nil {
		key = keys.New()
	}
	conn, err := connect.New(connect.Config{Store: d.Store, Key: key, Origin: d.Origin, Now: d.Now, Logger: d.Logger, OnEvent: d.Metrics.ConnectEvent})
	if err != nil {
		panic(err) // only a programming error: the store is required and keys.Load makes full-size keys
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
	tokenEndpoint := oauth.New(d.Store, d.Tokens, d.Now)
	tokenEndpoint.OnGrant = d.Metrics.TokenGranted
	handle(r, oauthTokenPath, tokenEndpoint)
	iamEndpoint := oauth.NewIAM(d.Store, d.Tokens, d.Now)
	iamEndpoint.OnGrant = d.Metrics.TokenGranted
	handle(r, iamTokenPath, iamEndpoint)

	// --- vehicle API v2.0 (api.smartcar.com/v2.0) and management API ---
	mountVehicleAPI(r, scapi.V2, v2, auth, d.Webhooks)

	// --- admin API (the sandbox's own control surface; see admin.go) ---
	mountAdmin(r, d, conn.Run, tokenEndpoint.Exchange)

	// --- vehicle API v3 (vehicle.api.smartcar.com/v3) ---
	handle(r, "/v3/vehicles/{id}", scapi.Handle(scapi.V3, v3.Vehicle)).Methods(get)
	handle(r, "/v3/vehicles/{id}/signals", scapi.Handle(scapi.V3, v3.Signals)).Methods(get)
	handle(r, "/v3/vehicles/{id}/signals/{code}", scapi.Handle(scapi.V3, v3.Signal)).Methods(get)
	for _, c := range vehicleapiv3.CommandPaths {
		handle(r, "/v3/vehicles/{id}/commands/"+c.Path, scapi.Handle(scapi.V3, v3.Command(c.Type))).Methods(post)
	}
	// A kind's name is not a schedule id: DELETE …/charge-schedules/daily is a wrong method
	// (405, Allow: POST), not a delete of schedule "daily". Declared before the kinds' POST
	// routes: gorilla/mux forgets an earlier route's method mismatch when a later route's path
	// matches, so this order is what keeps the 405.
	handle(r, "/v3/vehicles/{id}/charge-schedules/{scheduleId}", scapi.Handle(scapi.V3, v3.Command(vehicleapiv3.CmdScheduleDelete))).Methods(http.MethodDelete).
		MatcherFunc(func(req *http.Request, _ *mux.RouteMatch) bool {
			last := req.URL.Path[strings.LastIndexByte(req.URL.Path, '/')+1:]
			for _, c := range vehicleapiv3.SchedulePaths {
				if last == c.Path {
					return false
				}
			}
			return true
		})
	for _, c := range vehicleapiv3.SchedulePaths {
		handle(r, "/v3/vehicles/{id}/charge-schedules/"+c.Path, scapi.Handle(scapi.V3, v3.Command(c.Type))).Methods(post)
	}
	handle(r, "/v3/vehicles/{id}/command-executions/{executionId}", scapi.Handle(scapi.V3, v3.CommandExecution)).Methods(get)
	handle(r, "/v3/connections", scapi.Handle(scapi.V3, v3.Connections)).Methods(get)
	handle(r, "/v3/connections/{id}", scapi.Handle(scapi.V3, v3.Connection)).Methods(get)
	handle(r, "/v3/connections/{id}", scapi.Handle(scapi.V3, v3.DeleteConnection)).Methods(http.MethodDelete)
	handle(r, "/v3/users/{userId}", scapi.Handle(scapi.V3, v3.DeleteUser)).Methods(http.MethodDelete)

	// --- management API v3 (management.api.smartcar.com/v3), on this origin under /v3 ---
	if wh := d.Webhooks; wh != nil {
		handle(r, "/v3/webhooks", scapi.Handle(scapi.V3, wh.ListWebhooks(auth))).Methods(get)
		handle(r, "/v3/webhooks/{webhookId}", scapi.Handle(scapi.V3, wh.GetWebhook(auth))).Methods(get)
		handle(r, "/v3/subscriptions", scapi.Handle(scapi.V3, wh.ListSubscriptions(auth))).Methods(get)
		handle(r, "/v3/subscriptions", scapi.Handle(scapi.V3, wh.CreateSubscription(auth))).Methods(post)
		handle(r, "/v3/subscriptions/{subscriptionId}", scapi.Handle(scapi.V3, wh.GetSubscription(auth))).Methods(get)
		handle(r, "/v3/subscriptions/{subscriptionId}", scapi.Handle(scapi.V3, wh.DeleteSubscription(auth))).Methods(http.MethodDelete)
		handle(r, "/v3/applications", scapi.Handle(scapi.V3, wh.ListApplications(auth))).Methods(get)
		handle(r, "/v3/applications/{applicationId}", scapi.Handle(scapi.V3, wh.GetApplication(auth))).Methods(get)
		handle(r, "/v3/applications/{applicationId}/secrets", scapi.Handle(scapi.V3, wh.ApplicationSecrets(auth))).Methods(get)
	}

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

// healthz says the process answers; readyz says it can serve (fixtures loaded, store open),
// which is what a load balancer or a CI job waiting for the sandbox should ask.
func healthz(w http.ResponseWriter, r *http.Request) {
	scapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func readyz(ready func() error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ready != nil {
			if err := ready(); err != nil {
				w.Header().Set("Cache-Control", "no-store")
				scapi.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": err.Error()})
				return
			}
		}
		w.Header().Set("Cache-Control", "no-store")
		scapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}
