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

// Connection is the v3 connection resource (CONN). Its id is a connection id of its own, as in
// Smartcar's example (see ConnectionID); the vehicle id is accepted in its place too, as
// Smartcar's launch blog writes GET /connections/:vehicleId.
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

// ConnectionList is GET /v3/connections: JSON:API paging (ListMeta, ListLinks).
type ConnectionList struct {
	Data  []Connection `json:"data"`
	Meta  ListMeta     `json:"meta"`
	Links ListLinks    `json:"links"`
}

// Connection list paging: Smartcar documents page[size] defaulting to 10; the maximum is the
// other v3 lists' 100.
const (
	DefaultConnectionPageSize = 10
	MaxConnectionPageSize     = 100
)

// ConnectionID is a connection's id: a name-based UUID of application, user and vehicle, so
// it is stable across restarts and needs no storage, and a reconnect keeps it.
func ConnectionID(g sandbox.Grant) string {
	return sandbox.NameUUID("smartcar-sandbox/connection", g.ClientID+"\x00"+g.UserID+"\x00"+g.VehicleID)
}

func grantMode(g sandbox.Grant) string { return v3Mode(g.Mode) }

func (a *API) connection(g sandbox.Grant) Connection {
	c := Connection{
		ID:   ConnectionID(g),
		Type: "connection",
		Attributes: ConnectionAttributes{
			Permissions: append([]string{}, g.Permissions...),
		},
		Relationships: ConnectionRelationships{
			User: RelatedUser{Data: ResourceRef{ID: g.UserID, Type: "user"}},
		},
		Meta:  ConnectionMeta{CreatedAt: g.ConnectedAt.UTC().Format(scapi.TimeFormat), UpdatedAt: g.ConnectedAt.UTC().Format(scapi.TimeFormat)},
		Links: SelfLink{Self: "/connections/" + ConnectionID(g)},
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

// Connections serves GET /v3/connections with JSON:API paging (page[number], page[size]) and
// filters filter[userId], filter[vehicleId], filter[vehicle.mode] (live or simulated; live
// when absent, as documented) and filter[user.externalId] (the external_id the app gave
// Connect); every other parameter is refused rather than ignored.
func (a *API) Connections(w http.ResponseWriter, r *http.Request) error {
	q, err := readQuery(r, "page[number]", "page[size]", "filter[userId]", "filter[vehicleId]", "filter[vehicle.mode]", "filter[user.externalId]")
	if err != nil {
		return err
	}
	pg, err := q.page([]string{"page[number]"}, []string{"page[size]"}, DefaultConnectionPageSize, MaxConnectionPageSize)
	if err != nil {
		return err
	}
	f, err := a.connectionScope(r)
	if err != nil {
		return err
	}
	userID, vehicleID := q.get("filter[userId]"), q.get("filter[vehicleId]")
	mode := strings.ToLower(q.get("filter[vehicle.mode]"))
	switch mode {
	case "":
		mode = ModeLive
	case ModeLive, ModeSimulated:
	default:
		return sandbox.Errorf(sandbox.TypeValidation, "PARAMETER", "filter[vehicle.mode] must be live or simulated, got %q.", mode)
	}
	extra := url.Values{}
	if userID != "" {
		extra.Set("filter[userId]", userID)
		if f.UserID != "" && f.UserID != userID {
			// A vehicle token asking about another user: that user's connections are not
			// this token's to see, so the answer is an empty list.
			f.UserID = "\x00none"
		} else {
			f.UserID = userID
		}
	}
	if vehicleID != "" {
		extra.Set("filter[vehicleId]", vehicleID)
		f.VehicleID = vehicleID
	}
	if q.Has("filter[vehicle.mode]") {
		extra.Set("filter[vehicle.mode]", mode)
	}
	externalID, byExternalID := q.get("filter[user.externalId]"), q.Has("filter[user.externalId]")
	if byExternalID {
		extra.Set("filter[user.externalId]", externalID)
	}
	var grants []sandbox.Grant
	for _, g := range a.Store.Grants(f) {
		if grantMode(g) == mode && (!byExternalID || g.ExternalID == externalID) {
			grants = append(grants, g)
		}
	}
	lo, hi := pg.window(len(grants))
	out := ConnectionList{
		Data:  make([]Connection, 0, hi-lo),
		Meta:  pg.listMeta(len(grants)),
		Links: pg.listLinks("/connections", extra, len(grants)),
	}
	for _, g := range grants[lo:hi] {
		out.Data = append(out.Data, a.connection(g))
	}
	scapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

// findConnection finds the grant {id} names for this request: a connection id, or a vehicle
// id (the blog's reading), where sc-user-id picks among several users.
func (a *API) findConnection(r *http.Request) (sandbox.Grant, error) {
	id := mux.Vars(r)["id"]
	f, err := a.connectionScope(r)
	if err != nil {
		return sandbox.Grant{}, err
	}
	if u := strings.TrimSpace(r.Header.Get("SC-User-Id")); u != "" {
		if f.UserID != "" && f.UserID != u {
			return sandbox.Grant{}, sandbox.Errorf(sandbox.TypePermission, "", "This access token belongs to another user than sc-user-id %s.", u)
		}
		f.UserID = u
	}
	all := a.Store.Grants(f)
	for _, g := range all {
		if ConnectionID(g) == id {
			return g, nil
		}
	}
	var byVehicle []sandbox.Grant
	for _, g := range all {
		if g.VehicleID == id {
			byVehicle = append(byVehicle, g)
		}
	}
	switch {
	case len(byVehicle) == 0:
		return sandbox.Grant{}, sandbox.Errorf(sandbox.TypeResourceNotFound, "PATH", "No connection %s of this application (nor a vehicle of that id connected to it, for the user named by sc-user-id if any).", id)
	case len(byVehicle) > 1:
		return sandbox.Grant{}, sandbox.Errorf(sandbox.TypeValidation, "PARAMETER", "%d users connected vehicle %s to this application; use the connection id, or send the sc-user-id header to pick one.", len(byVehicle), id)
	}
	return byVehicle[0], nil
}

// Connection serves GET /v3/connections/{id}.
func (a *API) Connection(w http.ResponseWriter, r *http.Request) error {
	g, err := a.findConnection(r)
	if err != nil {
		return err
	}
	scapi.WriteJSON(w, http.StatusOK, ConnectionBody{Data: a.connection(g)})
	return nil
}

// DeleteConnection serves DELETE /v3/connections/{id}: 204, and the connection ends as a
// v2.0 disconnect ends it (endConnections).
func (a *API) DeleteConnection(w http.ResponseWriter, r *http.Request) error {
	g, err := a.findConnection(r)
	if err != nil {
		return err
	}
	if err := a.endConnections(store.GrantFilter{ClientID: g.ClientID, UserID: g.UserID, VehicleID: g.VehicleID}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// DeleteUser serves DELETE /v3/users/{userId}: every connection of the user to this
// application ends (RMUSER: "All connections and other data is purged"), 204. A user with no
// connection to the application is a 404.
func (a *API) DeleteUser(w http.ResponseWriter, r *http.Request) error {
	userID := mux.Vars(r)["userId"]
	f, err := a.connectionScope(r)
	if err != nil {
		return err
	}
	if f.UserID != "" && f.UserID != userID {
		return sandbox.Errorf(sandbox.TypePermission, "", "This access token belongs to another user than %s.", userID)
	}
	f.UserID = userID
	if len(a.Store.Grants(f)) == 0 {
		return sandbox.Errorf(sandbox.TypeResourceNotFound, "PATH", "User %s has no connection to this application.", userID)
	}
	if err := a.endConnections(f); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// endConnections ends the grants f (one application and user) matches the way a v2.0
// disconnect ends them (store.DisconnectByToken): the grants go, so every token is refused on
// those vehicles at once and refresh tokens that reach nothing are dropped; and each of the
// user's authorizations whose tokens then reach none of their vehicles ends, so its access
// tokens answer 401 everywhere, /v2.0/user included. The authorizations are read from the
// store's refresh tokens and its record of issued access tokens; the grants and those
// authorizations end in one save (store.EndConnections).
func (a *API) endConnections(f store.GrantFilter) error {
	vehiclesOf := map[uint64][]string{} // authorization → the vehicles its tokens name
	add := func(clientID, userID string, auth uint64, ids []string) {
		if clientID == f.ClientID && userID == f.UserID && auth != 0 {
			vehiclesOf[auth] = append(vehiclesOf[auth], ids...)
		}
	}
	for _, t := range a.Store.RefreshTokens() {
		add(t.ClientID, t.UserID, t.Authorization, t.VehicleIDs)
	}
	for _, t := range a.Store.IssuedTokens() {
		add(t.ClientID, t.UserID, t.Authorization, t.VehicleIDs)
	}
	return a.Store.EndConnections(f, vehiclesOf)
}
