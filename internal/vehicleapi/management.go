package vehicleapi

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/scapi"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
)

// managementApp authenticates Basic base64("default:" + management token).
func (a *API) managementApp(r *http.Request) (sandbox.Application, error) {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return sandbox.Application{}, sandbox.Unauthenticated("The management API needs 'Authorization: Basic base64(\"default:\" + application management token)'.")
	}
	if user != "default" {
		return sandbox.Application{}, sandbox.Unauthenticated("The Basic auth user name of the management API must be 'default'.")
	}
	app, ok := a.Store.ApplicationByManagementToken(pass)
	if !ok {
		return sandbox.Application{}, sandbox.Unauthenticated("The management token does not belong to any application of this sandbox.")
	}
	return app, nil
}

// Connection is one connection of the management API.
type Connection struct {
	UserID      string `json:"userId"`
	VehicleID   string `json:"vehicleId"`
	ConnectedAt string `json:"connectedAt,omitempty"`
}

// ConnectionsPage is GET /management/connections.
type ConnectionsPage struct {
	Connections []Connection `json:"connections"`
	Paging      CursorPaging `json:"paging"`
}

// CursorPaging carries the cursor of the next page, null on the last page.
type CursorPaging struct {
	Cursor *string `json:"cursor"`
}

// Cursors name the last grant of a page by its sort key rather than an offset, so a page
// boundary survives connections added or deleted between calls.
func encodeCursor(g sandbox.Grant) string {
	raw := g.ConnectedAt.UTC().Format(time.RFC3339Nano) + "|" + g.VehicleID + "|" + g.UserID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

type cursorKey struct {
	at                time.Time
	vehicleID, userID string
}

func decodeCursor(s string) (cursorKey, error) {
	bad := sandbox.Errorf(sandbox.TypeValidation, "PARAMETER", "The cursor %q is not one this API returned.", s)
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursorKey{}, bad
	}
	parts := strings.Split(string(b), "|")
	if len(parts) != 3 {
		return cursorKey{}, bad
	}
	at, err := time.Parse(time.RFC3339Nano, parts[0])
	if err != nil {
		return cursorKey{}, bad
	}
	return cursorKey{at, parts[1], parts[2]}, nil
}

// after reports whether g sorts after the cursor in the store's order (newest first, then
// vehicle id, then user id).
func (k cursorKey) after(g sandbox.Grant) bool {
	if !g.ConnectedAt.Equal(k.at) {
		return g.ConnectedAt.Before(k.at)
	}
	if g.VehicleID != k.vehicleID {
		return g.VehicleID > k.vehicleID
	}
	return g.UserID > k.userID
}

// Connections is GET /management/connections?user_id&vehicle_id&limit&cursor.
func (a *API) Connections(w http.ResponseWriter, r *http.Request) error {
	app, err := a.managementApp(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	limit := 10
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			return sandbox.Errorf(sandbox.TypeValidation, "PARAMETER", "limit must be an integer from 1 to 100, got %q.", s)
		}
		limit = n
	}
	grants := a.Store.Grants(store.GrantFilter{ClientID: app.ClientID, UserID: q.Get("user_id"), VehicleID: q.Get("vehicle_id")})
	if s := q.Get("cursor"); s != "" {
		k, err := decodeCursor(s)
		if err != nil {
			return err
		}
		i := 0
		for i < len(grants) && !k.after(grants[i]) {
			i++
		}
		grants = grants[i:]
	}
	out := ConnectionsPage{Connections: []Connection{}}
	for i, g := range grants {
		if i == limit {
			c := encodeCursor(grants[i-1])
			out.Paging.Cursor = &c
			break
		}
		out.Connections = append(out.Connections, Connection{UserID: g.UserID, VehicleID: g.VehicleID, ConnectedAt: g.ConnectedAt.UTC().Format(scapi.TimeFormat)})
	}
	scapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

// DeletedConnections is DELETE /management/connections.
type DeletedConnections struct {
	Connections []Connection `json:"connections"`
}

// DeleteConnections is DELETE /management/connections?user_id=…|vehicle_id=…: exactly one
// filter, as the Node SDK enforces, so one call can never wipe every connection.
func (a *API) DeleteConnections(w http.ResponseWriter, r *http.Request) error {
	app, err := a.managementApp(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	userID, vehicleID := q.Get("user_id"), q.Get("vehicle_id")
	switch {
	case userID != "" && vehicleID != "":
		return sandbox.NewError(sandbox.TypeValidation, "PARAMETER", "Give either user_id or vehicle_id, not both.")
	case userID == "" && vehicleID == "":
		return sandbox.NewError(sandbox.TypeValidation, "PARAMETER", "Give user_id or vehicle_id to choose the connections to delete.")
	}
	deleted, err := a.Store.Disconnect(store.GrantFilter{ClientID: app.ClientID, UserID: userID, VehicleID: vehicleID})
	if err != nil {
		return err
	}
	out := DeletedConnections{Connections: make([]Connection, 0, len(deleted))}
	for _, g := range deleted {
		out.Connections = append(out.Connections, Connection{UserID: g.UserID, VehicleID: g.VehicleID})
	}
	scapi.WriteJSON(w, http.StatusOK, out)
	return nil
}
