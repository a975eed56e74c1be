// Package server assembles the sandbox's doors (Connect, the token endpoints, the vehicle
// APIs, the admin API and dashboard) onto one router, in one place (mount): each door declares
// its own routes with its Mount method. It wraps them in the middleware every request gets:
// request id, access log, panic recovery, slash folding, body limits.
package server

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/connect"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/door"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/keys"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/oauth"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/route"
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

// New returns the sandbox's HTTP handler, or why one of its doors could not be built.
func New(d Deps) (http.Handler, error) {
	d = withDefaults(d)
	r, err := router(d)
	if err != nil {
		return nil, err
	}
	d.Metrics.watchStore(d.Store)
	return middleware(withControl(serveHeadAsGet(r), d), d.Logger, d.Metrics), nil
}

// withDefaults fills what Deps may leave out.
func withDefaults(d Deps) Deps {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Metrics == nil {
		d.Metrics = NewMetrics()
	}
	return d
}

// router builds the router over every route of mount. It never redirects: gorilla/mux's path
// cleaning answers "/a/../b" with a 301, and a redirect turns an SDK's POST into a GET, so
// cleaning is off and dot segments are a 404 (see mount). It matches on the escaped path, so
// an encoded slash inside a vehicle id ("a%2Fb") is part of the id (then refused as not an
// id), not a separator that would make another route match.
func router(d Deps) (*mux.Router, error) {
	r := mux.NewRouter().SkipClean(true).UseEncodedPath()
	if err := mount(r, d); err != nil {
		return nil, err
	}
	d.Metrics.instrument(r)
	r.NotFoundHandler = http.HandlerFunc(notFound)
	r.MethodNotAllowedHandler = methodNotAllowed(r)
	return r, nil
}

// mount assembles the doors, each of which declares its own routes, in the order the router
// tries them. d must have its defaults (withDefaults).
func mount(r *mux.Router, d Deps) error {
	auth := &scapi.Auth{Tokens: d.Tokens, Store: d.Store}
	v2 := vehicleapi.New(d.Store, auth, d.Now)
	v3 := vehicleapiv3.New(d.Store, auth, d.Now)
	get := http.MethodGet

	// A path with a "." or ".." segment names nothing here: 404 in the door's shape, before
	// any route could take ".." for a vehicle id. (The admin API answers its own paths.)
	r.MatcherFunc(func(req *http.Request, _ *mux.RouteMatch) bool {
		return hasDotSegment(route.Path(req)) && door.Of(req.URL.Path) != door.Admin
	}).HandlerFunc(notFound)

	// --- sandbox's own pages ---
	route.Handle(r, "/healthz", http.HandlerFunc(healthz)).Methods(get)
	route.Handle(r, "/readyz", readyz(d.Ready)).Methods(get)
	route.Handle(r, "/metrics", d.Metrics.Handler()).Methods(get)
	route.Handle(r, "/openapi.json", openapi.Handler()).Methods(get)
	route.Handle(r, "/", landing(d)).Methods(get)
	// The stand-in for the redirect page Smartcar hosts for its JavaScript SDK (docs/web.md).
	route.Handle(r, websdk.PathRedirect, websdk.Redirect()).Methods(get)
	route.Handle(r, websdk.PathScript, websdk.Script()).Methods(get)

	// --- Connect (connect.smartcar.com) ---
	key := d.ConnectKey
	if key == nil {
		key = keys.New()
	}
	conn, err := connect.New(connect.Config{Store: d.Store, Key: key, Origin: d.Origin, Now: d.Now, Logger: d.Logger, OnEvent: d.Metrics.ConnectEvent})
	if err != nil {
		return err
	}
	conn.Mount(r)

	// --- token endpoints (auth.smartcar.com, and v3's iam.smartcar.com) ---
	tokenEndpoint := oauth.New(d.Store, d.Tokens, d.Now)
	tokenEndpoint.OnGrant = d.Metrics.TokenGranted
	tokenEndpoint.Mount(r)
	iamEndpoint := oauth.NewIAM(d.Store, d.Tokens, d.Now)
	iamEndpoint.OnGrant = d.Metrics.TokenGranted
	iamEndpoint.Mount(r)

	// --- vehicle API v2.0 (api.smartcar.com/v2.0), management API, webhook subscriptions ---
	v2.Mount(r, scapi.V2)
	if d.Webhooks != nil {
		d.Webhooks.MountVehicleAPI(r, scapi.V2, auth)
	}

	// --- admin API and dashboard (the sandbox's own control surface; see admin.go) ---
	if err := mountAdmin(r, d, conn.Run, tokenEndpoint.Exchange); err != nil {
		return err
	}

	// --- vehicle API v3 (vehicle.api.smartcar.com/v3), management API v3 under /v3 ---
	v3.Mount(r)
	if d.Webhooks != nil {
		d.Webhooks.Mount(r, auth)
	}

	// --- vehicle API v1.0: the SDKs' setApiVersion('1.0'), served by the same handlers ---
	// Last, so the v2.0 and v3 routes are tried first.
	v2.Mount(r, scapi.V1)
	if d.Webhooks != nil {
		d.Webhooks.MountVehicleAPI(r, scapi.V1, auth)
	}
	return nil
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
