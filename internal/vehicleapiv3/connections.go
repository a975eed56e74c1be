package vehicleapiv3

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/mux"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/scapi"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/token"
)

// Connection is the v3 connection resource (CONN). Its id is the vehicle id, as Smartcar's
// blog writes GET /connections/:vehicleId; when several users connected one vehicle to the
// application, sc-user-id picks one.
type Connection struct {
	ID            string                  `json:"id"`
	Type          string                  `json:"type"`
	Attributes    ConnectionAttributes    `json:"attributes"`
	Relationships ConnectionRelationships `json:"relationships"`
	Meta          ConnectionMeta          `json:"meta"`
	Links         SelfLink                `json:"links"`
}

type ConnectionAttributes struct {
	Permissions []string           `json:"permissions"`
	Vehicle     *VehicleAttributes `json:"vehicle"`
}

type ConnectionRelationships struct {
	Vehicle RelatedVehicle `json:"vehicle"`
	User    RelatedUser    `json:"user"`
}

type ResourceRef struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

type RelatedVehicle struct {
	Data  ResourceRef `json:"data"`
	Links struct {
		Related string `json:"related"`
	} `json:"links"`
}

type RelatedUser struct {
	Data ResourceRef `json:"data"`
}

// ConnectionMeta times are ISO-8601. The sandbox records only when a grant was made, and a
// reconnect replaces the grant, so createdAt and updatedAt are the same instant.
type ConnectionMeta struct {
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
}

// ConnectionBody is GET /v3/connections/{id}: the resource wrapped in data.
type ConnectionBody struct {
	Data Connection `json:"data"`
}

// ConnectionList is GET /v3/connections. Its meta and links mirror the signal list (the
// docs do not show them).
type ConnectionList struct {
	Data  []Connection `json:"data"`
	Meta  PageMeta     `json:"meta"`
	Links PageLinks    `json:"links"`
}

func grantMode(g sandbox.Grant) string {
	if g.Mode == "" {
		return "live"
	}
	return g.Mode
}

func (a *API) connection(g sandbox.Grant) Connection {
	c := Connection{
		ID:   g.VehicleID,
		Type: "connection",
		Attributes: ConnectionAttributes{
			Permissions: append([]string{}, g.Permissions...),
		},
		Relationships: ConnectionRelationships{
			User: RelatedUser{Data: ResourceRef{ID: g.UserID, Type: "user"}},
		},
		Meta:  ConnectionMeta{CreatedAt: g.ConnectedAt.UTC().Format(scapi.TimeFormat), UpdatedAt: g.ConnectedAt.UTC().Format(scapi.TimeFormat)},
		Links: SelfLink{Self: "/connections/" + g.VehicleID},
	}
	c.Relationships.Vehicle.Data = ResourceRef{ID: g.VehicleID, Type: "vehicle"}
	c.Relationships.Vehicle.Links.Related = "/vehicles/" + g.VehicleID
	if v, ok := a.Store.Vehicle(g.VehicleID); ok {
		attrs := vehicleAttributes(v)
		attrs.Mode = grantMode(g)
		c.Attributes.Vehicle = &attrs
	}
	return c
}

// connectionScope authenticates a connections request and returns the filter it may see:
// an application token sees its application's grants; a vehicle token of the same
// application only its own user's.
func (a *API) connectionScope(r *http.Request) (store.GrantFilter, error) {
	c, err := a.Auth.Bearer(r)
	if err != nil {
		return store.GrantFilter{}, err
	}
	f := store.GrantFilter{ClientID: c.ClientID}
	if c.Kind == token.KindVehicle {
		f.UserID = c.UserID()
	}
	return f, nil
}

// firstQuery returns the first non-empty value among the names (camelCase and snake_case
// spellings of one filter).
func firstQuery(q url.Values, names ...string) string {
	for _, n := range names {
		if v := strings.TrimSpace(q.Get(n)); v != "" {
			return v
		}
	}
	return ""
}

// Connections serves GET /v3/connections with filters userId (user_id), vehicleId
// (vehicle_id), mode, and page/pageSize.
func (a *API) Connections(w http.ResponseWriter, r *http.Request) error {
	pg, err := pageOf(r)
	if err != nil {
		return err
	}
	f, err := a.connectionScope(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	userID := firstQuery(q, "userId", "user_id")
	vehicleID := firstQuery(q, "vehicleId", "vehicle_id")
	mode := strings.ToLower(firstQuery(q, "mode"))
	switch mode {
	case "", "live", "simulated", "test":
	default:
		return sandbox.Errorf(sandbox.ErrValidation, "PARAMETER", "The mode filter must be live, simulated or test, got %q.", mode)
	}
	extra := url.Values{}
	if userID != "" {
		extra.Set("userId", userID)
		if f.UserID != "" && f.UserID != userID {
			// A vehicle token asking about another user: that user's connections are not
			// this token's to see, so the answer is an empty list.
			f.UserID = "\x00none"
		} else {
			f.UserID = userID
		}
	}
	if vehicleID != "" {
		extra.Set("vehicleId", vehicleID)
		f.VehicleID = vehicleID
	}
	if mode != "" {
		extra.Set("mode", mode)
	}
	var grants []sandbox.Grant
	for _, g := range a.Store.Grants(f) {
		if mode == "" || grantMode(g) == mode {
			grants = append(grants, g)
		}
	}
	lo, hi := pg.window(len(grants))
	out := ConnectionList{
		Data:  make([]Connection, 0, hi-lo),
		Meta:  pg.meta(len(grants)),
		Links: pg.links("/connections", extra, len(grants)),
	}
	for _, g := range grants[lo:hi] {
		out.Data = append(out.Data, a.connection(g))
	}
	scapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

// Connection serves GET /v3/connections/{id}, id being the vehicle id.
func (a *API) Connection(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	f, err := a.connectionScope(r)
	if err != nil {
		return err
	}
	f.VehicleID = id
	if u := strings.TrimSpace(r.Header.Get("sc-user-id")); u != "" {
		if f.UserID != "" && f.UserID != u {
			return sandbox.Errorf(sandbox.ErrPermission, "", "This access token belongs to another user than sc-user-id %s.", u)
		}
		f.UserID = u
	}
	grants := a.Store.Grants(f)
	switch {
	case len(grants) == 0:
		return sandbox.Errorf(sandbox.ErrResourceNotFound, "PATH", "No connection %s: no user has connected vehicle %s to this application (or not the user named by sc-user-id).", id, id)
	case len(grants) > 1:
		return sandbox.Errorf(sandbox.ErrValidation, "PARAMETER", "%d users connected vehicle %s to this application; send the sc-user-id header to pick one.", len(grants), id)
	}
	scapi.WriteJSON(w, http.StatusOK, ConnectionBody{Data: a.connection(grants[0])})
	return nil
}
