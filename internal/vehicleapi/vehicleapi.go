// Package vehicleapi serves Smartcar's vehicle API v2.0 (api.smartcar.com/v2.0) and the
// management API (management.smartcar.com/v2.0) over the store. Every vehicle signal has one
// render function, listed once in the signals table with its sub-path and permission; the
// single-signal routes and batch both go through that table, so a batch item and the
// matching GET can never disagree. Handlers return errors; scapi renders them.
package vehicleapi

import (
	"net/http"
	"net/url"
	"time"

	"github.com/gorilla/mux"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/route"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/scapi"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/token"
)

// API holds what the v2.0 handlers need. Build it with New.
type API struct {
	Store *store.Store
	Auth  *scapi.Auth
	// Now is the clock for SC-Fetched-At and for the data age of commands.
	Now func() time.Time
}

// New builds the API; a nil now means time.Now.
func New(st *store.Store, auth *scapi.Auth, now func() time.Time) *API {
	if now == nil {
		now = time.Now
	}
	return &API{Store: st, Auth: auth, Now: now}
}

// Mount declares the vehicle, user, management and compatibility API under v's prefix
// (/v2.0, or /v1.0, whose SDK calls are the same): a GET for every signal of the signals
// table, then the commands and the rest.
func (a *API) Mount(r *mux.Router, v scapi.Version) {
	on := func(method, path string, h scapi.HandlerFunc) {
		route.Handle(r, v.Prefix()+path, scapi.Handle(v, h)).Methods(method)
	}
	get, post, del := http.MethodGet, http.MethodPost, http.MethodDelete
	on(get, "/user", a.User)
	on(get, "/vehicles", a.Vehicles)
	for _, p := range SignalPaths() {
		path := "/vehicles/{id}"
		if p != "" {
			path += "/" + p
		}
		on(get, path, a.Read(p))
	}
	on(post, "/vehicles/{id}/charge", a.ChargeCommand)
	on(post, "/vehicles/{id}/charge/limit", a.SetChargeLimit)
	on(post, "/vehicles/{id}/security", a.Security)
	on(post, "/vehicles/{id}/batch", a.Batch)
	on(del, "/vehicles/{id}/application", a.Disconnect)
	on(post, "/vehicles/{id}/navigation/destination", a.Destination)
	on(get, "/management/connections", a.Connections)
	on(del, "/management/connections", a.DeleteConnections)
	on(get, "/compatibility", a.CompatibilityByVIN)
	on(get, "/compatibility/matrix", a.CompatibilityMatrix)
}

// vehicleID is the {id} route variable.
func vehicleID(r *http.Request) string { return mux.Vars(r)["id"] }

// authenticate is the first half of every vehicle request, in Smartcar's order: the bearer
// token (401 AUTHENTICATION), then the vehicle id's form (400 VALIDATION). The handler then
// validates the rest of its request (400) and calls Auth.Authorize for the grant, the vehicle
// (404) and the permission (403): a malformed request is refused as such before anything is
// looked up, and an unauthenticated one before anything is validated.
func (a *API) authenticate(r *http.Request) (*token.Claims, string, error) {
	c, err := a.Auth.Bearer(r)
	if err != nil {
		return nil, "", err
	}
	id := vehicleID(r)
	if err := scapi.ValidID("vehicle", id); err != nil {
		return nil, "", err
	}
	return c, id, nil
}

// Read returns the handler for one signal of the table by its sub-path ("" for attributes).
// It panics for an unknown path: routes are declared at start-up, so a typo fails at once.
func (a *API) Read(path string) scapi.HandlerFunc {
	sig, ok := signalByPath[path]
	if !ok {
		panic("vehicleapi: no signal for path " + path)
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		c, id, err := a.authenticate(r)
		if err != nil {
			return err
		}
		u, err := scapi.UnitsOf(r)
		if err != nil {
			return err
		}
		// Most reads have no query; only parse one that is there (render functions only Get
		// from it, which a nil url.Values answers with "").
		var q url.Values
		if r.URL.RawQuery != "" {
			q = r.URL.Query()
			if err := sig.validate(q); err != nil {
				return err
			}
		}
		acc, err := a.Auth.Authorize(r, c, id, sig.Permission, scapi.ConnectOnly)
		if err != nil {
			return err
		}
		body, err := sig.Render(readCtx{acc: acc, units: u, query: q})
		if err != nil {
			return err
		}
		scapi.SetDataHeaders(w.Header(), u, acc.Vehicle.State.UpdatedAt, a.Now())
		scapi.WriteJSON(w, http.StatusOK, body)
		return nil
	}
}
