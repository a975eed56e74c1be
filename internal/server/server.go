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
	r := mux.NewRouter()
	mount(r, d)
	r.NotFoundHandler = http.HandlerFunc(notFound)
	r.MethodNotAllowedHandler = http.HandlerFunc(notFound)
	return middleware(withControl(r, d), d.Logger, d.AccessLog)
}

// mount declares every route of the sandbox.
func mount(r *mux.Router, d Deps) {
	auth := &scapi.Auth{Tokens: d.Tokens, Store: d.Store}
	v2 := vehicleapi.New(d.Store, auth, d.Now)
	v3 := vehicleapiv3.New(d.Store, auth, d.Now)
	get, head, post, del := http.MethodGet, http.MethodHead, http.MethodPost, http.MethodDelete

	// --- sandbox's own pages ---
	handle(r, "/healthz", http.HandlerFunc(healthz)).Methods(get, head)
	handle(r, "/", landing(d)).Methods(get, head)

	// --- Connect (connect.smartcar.com) ---
	// The flow-token key is made at each start: a Connect flow in progress does not survive a
	// restart (one retry for the person), and no secret needs to be kept on disk.
	conn, err := connect.New(connect.Config{Store: d.Store, Key: token.NewKey(), Origin: d.Origin, Now: d.Now, Logger: d.Logger})
	if err != nil {
		panic(err) // only a programming error: the store is required and the key is made here
	}
	handle(r, connect.PathAuthorize, conn.Authorize()).Methods(get, head)
	handle(r, connect.PathStart, conn.Start()).Methods(post)
	handle(r, connect.PathBrands, conn.Brands()).Methods(get, head)
	handle(r, connect.PathBrand, conn.Brand()).Methods(post)
	handle(r, connect.PathLogin, conn.Login()).Methods(post)
	handle(r, connect.PathConsent, conn.Consent()).Methods(post)
	handle(r, connect.PathCSS, connect.CSS()).Methods(get, head)

	// --- token endpoint (auth.smartcar.com) ---
	// Every method reaches the handler, so a GET gets the OAuth 405 JSON rather than the HTML 404.
	handle(r, "/oauth/token", oauth.New(d.Store, d.Tokens, d.Now))

	// --- vehicle API v2.0 (api.smartcar.com/v2.0) and management API ---
	handle(r, "/v2.0/user", scapi.Handle(scapi.V2, v2.User)).Methods(get)
	handle(r, "/v2.0/vehicles", scapi.Handle(scapi.V2, v2.Vehicles)).Methods(get)
	handle(r, "/v2.0/vehicles/{id}", scapi.Handle(scapi.V2, v2.Read(""))).Methods(get)
	handle(r, "/v2.0/vehicles/{id}/vin", scapi.Handle(scapi.V2, v2.Read("vin"))).Methods(get)
	handle(r, "/v2.0/vehicles/{id}/odometer", scapi.Handle(scapi.V2, v2.Read("odometer"))).Methods(get)
	handle(r, "/v2.0/vehicles/{id}/location", scapi.Handle(scapi.V2, v2.Read("location"))).Methods(get)
	handle(r, "/v2.0/vehicles/{id}/fuel", scapi.Handle(scapi.V2, v2.Read("fuel"))).Methods(get)
	handle(r, "/v2.0/vehicles/{id}/battery", scapi.Handle(scapi.V2, v2.Read("battery"))).Methods(get)
	handle(r, "/v2.0/vehicles/{id}/battery/capacity", scapi.Handle(scapi.V2, v2.Read("battery/capacity"))).Methods(get)
	handle(r, "/v2.0/vehicles/{id}/battery/nominal_capacity", scapi.Handle(scapi.V2, v2.Read("battery/nominal_capacity"))).Methods(get)
	handle(r, "/v2.0/vehicles/{id}/charge", scapi.Handle(scapi.V2, v2.Read("charge"))).Methods(get)
	handle(r, "/v2.0/vehicles/{id}/charge", scapi.Handle(scapi.V2, v2.ChargeCommand)).Methods(post)
	handle(r, "/v2.0/vehicles/{id}/charge/limit", scapi.Handle(scapi.V2, v2.Read("charge/limit"))).Methods(get)
	handle(r, "/v2.0/vehicles/{id}/charge/limit", scapi.Handle(scapi.V2, v2.SetChargeLimit)).Methods(post)
	handle(r, "/v2.0/vehicles/{id}/engine/oil", scapi.Handle(scapi.V2, v2.Read("engine/oil"))).Methods(get)
	handle(r, "/v2.0/vehicles/{id}/tires/pressure", scapi.Handle(scapi.V2, v2.Read("tires/pressure"))).Methods(get)
	handle(r, "/v2.0/vehicles/{id}/security", scapi.Handle(scapi.V2, v2.Read("security"))).Methods(get)
	handle(r, "/v2.0/vehicles/{id}/security", scapi.Handle(scapi.V2, v2.Security)).Methods(post)
	handle(r, "/v2.0/vehicles/{id}/permissions", scapi.Handle(scapi.V2, v2.Read("permissions"))).Methods(get)
	handle(r, "/v2.0/vehicles/{id}/batch", scapi.Handle(scapi.V2, v2.Batch)).Methods(post)
	handle(r, "/v2.0/vehicles/{id}/application", scapi.Handle(scapi.V2, v2.Disconnect)).Methods(del)
	handle(r, "/v2.0/vehicles/{id}/service/history", scapi.Handle(scapi.V2, v2.Read("service/history"))).Methods(get)
	handle(r, "/v2.0/vehicles/{id}/diagnostics/system_status", scapi.Handle(scapi.V2, v2.Read("diagnostics/system_status"))).Methods(get)
	handle(r, "/v2.0/vehicles/{id}/diagnostics/dtcs", scapi.Handle(scapi.V2, v2.Read("diagnostics/dtcs"))).Methods(get)
	handle(r, "/v2.0/vehicles/{id}/navigation/destination", scapi.Handle(scapi.V2, v2.Destination)).Methods(post)
	handle(r, "/v2.0/management/connections", scapi.Handle(scapi.V2, v2.Connections)).Methods(get)
	handle(r, "/v2.0/management/connections", scapi.Handle(scapi.V2, v2.DeleteConnections)).Methods(del)
	handle(r, "/v2.0/compatibility", scapi.Handle(scapi.V2, v2.CompatibilityByVIN)).Methods(get)
	handle(r, "/v2.0/compatibility/matrix", scapi.Handle(scapi.V2, v2.CompatibilityMatrix)).Methods(get)

	// --- webhooks (subscriptions on api.smartcar.com/v2.0; the delivery log is in the admin API) ---
	if wh := d.Webhooks; wh != nil {
		handle(r, "/v2.0/vehicles/{id}/webhooks/{webhookId}", scapi.Handle(scapi.V2, wh.Subscribe(auth))).Methods(post)
		handle(r, "/v2.0/vehicles/{id}/webhooks/{webhookId}", scapi.Handle(scapi.V2, wh.Unsubscribe)).Methods(del)
	}

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
}

func healthz(w http.ResponseWriter, r *http.Request) {
	scapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
