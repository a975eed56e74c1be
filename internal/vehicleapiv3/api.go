// Package vehicleapiv3 serves Smartcar's vehicle API v3 (vehicle.api.smartcar.com/v3): the
// vehicle resource, signals, commands and connections. Every signal is a view computed from
// the one VehicleState the store keeps, the same state the v2.0 API renders, so the two APIs
// agree by construction. Handlers return *sandbox.Error values; scapi renders them with v3
// docURLs. See docs/api-v3.md for what is confirmed by Smartcar's documentation and what is
// the sandbox's best reading.
package vehicleapiv3

import (
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/scapi"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/token"
)

// API holds the v3 handlers. Each exported method is a scapi.HandlerFunc; Mount declares
// them under /v3 with scapi.Handle(scapi.V3, ...).
type API struct {
	Store *store.Store
	Auth  *scapi.Auth
	// Now is the clock: retrievedAt of signals, command timestamps.
	Now func() time.Time
	// NewID makes command-execution ids; nil means a random UUID.
	NewID func() string
	// executions remembers command results for GET …/command-executions/{id}.
	executions executionLog
}

// New builds the v3 API over the store. now may be nil (time.Now).
func New(st *store.Store, auth *scapi.Auth, now func() time.Time) *API {
	if now == nil {
		now = time.Now
	}
	return &API{Store: st, Auth: auth, Now: now, NewID: sandbox.NewUUID}
}

// Paging defaults for the signal and connection lists.
const (
	DefaultPageSize = 50
	MaxPageSize     = 100
)

// Permission needed to read the vehicle resource.
const permVehicleInfo = "read_vehicle_info"

// VehicleAttributes are what Smartcar says it includes "in every API response".
type VehicleAttributes struct {
	Make           string `json:"make"`
	Model          string `json:"model"`
	Year           int    `json:"year"`
	PowertrainType string `json:"powertrainType"`
	Mode           string `json:"mode"`
}

// VehicleResource is the v3 vehicle. Smartcar's reference wraps it in "data" (VehicleBody);
// the official Node and Java SDKs, and their end-to-end suites run against Smartcar, read it
// unwrapped (top-level id). See Vehicle for which form a request gets.
type VehicleResource struct {
	ID         string            `json:"id"`
	Type       string            `json:"type"`
	Attributes VehicleAttributes `json:"attributes"`
	Links      SelfLink          `json:"links"`
}

// VehicleBody is GET /vehicles/{id} as Smartcar's v3 reference shows it.
type VehicleBody struct {
	Data VehicleResource `json:"data"`
}

// SelfLink is {"self": path}.
type SelfLink struct {
	Self string `json:"self"`
}

// v3's vehicle modes (filter[vehicle.mode], attributes.mode).
const (
	ModeLive      = "live"
	ModeSimulated = "simulated"
)

// v3Mode names a sandbox mode as v3 does: v3 documents only live and simulated, and the
// sandbox's test-mode cars and grants (Connect's mode=test, v2.0's test mode) are what v3
// calls simulated (a reading, docs/api-v3.md).
func v3Mode(mode string) string {
	switch mode {
	case sandbox.ModeTest, ModeSimulated:
		return ModeSimulated
	}
	return ModeLive
}

func vehicleMode(v sandbox.Vehicle) string { return v3Mode(v.Mode) }

func vehicleAttributes(v sandbox.Vehicle) VehicleAttributes {
	return VehicleAttributes{Make: v.Make, Model: v.Model, Year: v.Year, PowertrainType: string(v.Powertrain), Mode: vehicleMode(v)}
}

func vehicleResource(v sandbox.Vehicle) VehicleResource {
	return VehicleResource{ID: v.ID, Type: "vehicle", Attributes: vehicleAttributes(v), Links: SelfLink{Self: "/vehicles/" + v.ID}}
}

// Vehicle serves GET /v3/vehicles/{id}.
func (a *API) Vehicle(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	acc, err := a.vehicleInfoAccess(r, id)
	if err != nil {
		return err
	}
	if wrapVehicle(acc.Claims) {
		scapi.WriteJSON(w, http.StatusOK, VehicleBody{Data: vehicleResource(acc.Vehicle)})
		return nil
	}
	scapi.WriteJSON(w, http.StatusOK, vehicleResource(acc.Vehicle))
	return nil
}

// wrapVehicle decides the form of GET /vehicles/{id} (a reading, docs/api-v3.md): v3's own
// application token, what Smartcar's v3 reference is written for, gets the documented
// {"data":{…}}; a per-vehicle Connect token, what the official SDKs send, gets the unwrapped
// resource their suites read from Smartcar.
func wrapVehicle(c *token.Claims) bool { return c.Kind == token.KindApplication }

// vehicleInfoAccess authorizes GET /vehicles/{id}. Smartcar's OpenAPI lists no sc-user-id on
// this one operation, so an application token without the header is accepted when some user
// connected the vehicle to the application with read_vehicle_info. With the header (or a
// vehicle token) it is the ordinary per-user check.
func (a *API) vehicleInfoAccess(r *http.Request, id string) (*scapi.Access, error) {
	if strings.TrimSpace(r.Header.Get("SC-User-Id")) != "" {
		return a.Auth.Vehicle(r, id, permVehicleInfo, scapi.ConnectOrApp)
	}
	c, err := a.Auth.Bearer(r)
	if err != nil {
		return nil, err
	}
	if c.Kind != token.KindApplication {
		return a.Auth.Vehicle(r, id, permVehicleInfo, scapi.ConnectOrApp)
	}
	grants := a.Store.Grants(store.GrantFilter{ClientID: c.ClientID, VehicleID: id})
	if len(grants) == 0 {
		return nil, sandbox.Errorf(sandbox.TypePermission, "", "No user has connected vehicle %s to this application.", id)
	}
	for _, g := range grants {
		for _, p := range g.Permissions {
			if p != permVehicleInfo {
				continue
			}
			v, ok := a.Store.Vehicle(id)
			if !ok {
				return nil, sandbox.Errorf(sandbox.TypeResourceNotFound, "PATH", "Vehicle %s does not exist in this sandbox.", id)
			}
			return &scapi.Access{Claims: c, UserID: g.UserID, Permissions: g.Permissions, Vehicle: v}, nil
		}
	}
	return nil, sandbox.Errorf(sandbox.TypePermission, "", "This request needs the %s permission, which was not granted for vehicle %s.", permVehicleInfo, id)
}

func epochMillis(t time.Time) int64 { return t.UnixMilli() }

// VehicleAttributesOf is the v3 vehicle attributes of v (for other v3 resources that embed
// them, e.g. the management API's subscriptions).
func VehicleAttributesOf(v sandbox.Vehicle) VehicleAttributes { return vehicleAttributes(v) }
