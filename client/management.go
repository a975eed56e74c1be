package client

import (
	"context"
	"errors"
	"net/url"
	"strconv"
)

// ConnectionsFilter selects connections by user or vehicle.
type ConnectionsFilter struct {
	UserID    string
	VehicleID string
}

// ConnectionsPaging is the cursor paging of the management API (limit ≤ 100, default 10).
type ConnectionsPaging struct {
	Limit  int
	Cursor string
}

// Connection is one user–vehicle connection of the application.
type Connection struct {
	UserID      string `json:"userId"`
	VehicleID   string `json:"vehicleId"`
	ConnectedAt string `json:"connectedAt,omitempty"` // ISO-8601, as sent
	CreatedAt   string `json:"createdAt,omitempty"`   // some doc versions use this name
}

// Connections is GET /v2.0/management/connections.
type Connections struct {
	Connections []Connection `json:"connections"`
	Paging      struct {
		Cursor string `json:"cursor"`
	} `json:"paging"`
	Meta Meta `json:"-"`
}

// DeletedConnections is DELETE /v2.0/management/connections.
type DeletedConnections struct {
	Connections []Connection `json:"connections"`
	Meta        Meta         `json:"-"`
}

func (c *Client) mgmt(ctx context.Context, method, token string, q url.Values, what string, out any) (Meta, error) {
	if token == "" {
		return Meta{}, errors.New("smartcar: " + what + ": empty management token")
	}
	resp, err := c.do(ctx, request{
		method: method, url: c.cfg.ManagementOrigin + "/v2.0/management/connections", query: q,
		basicUser: "default", basicPass: token,
	})
	if err != nil {
		return Meta{}, err
	}
	if err := resp.decode(what, out); err != nil {
		return Meta{}, err
	}
	return resp.meta(), nil
}

// Connections lists the application's connections, newest first, authenticated with the
// application management token (Basic "default:<token>").
func (c *Client) Connections(ctx context.Context, managementToken string, f ConnectionsFilter, p ConnectionsPaging) (*Connections, error) {
	q := url.Values{}
	if f.UserID != "" {
		q.Set("user_id", f.UserID)
	}
	if f.VehicleID != "" {
		q.Set("vehicle_id", f.VehicleID)
	}
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	if p.Cursor != "" {
		q.Set("cursor", p.Cursor)
	}
	var out Connections
	m, err := c.mgmt(ctx, "GET", managementToken, q, "Connections", &out)
	out.Meta = m
	return ret(&out, err)
}

// DeleteConnections deletes the connections of exactly one of a user or a vehicle.
func (c *Client) DeleteConnections(ctx context.Context, managementToken string, f ConnectionsFilter) (*DeletedConnections, error) {
	q := url.Values{}
	switch {
	case f.UserID != "" && f.VehicleID != "":
		return nil, errors.New("smartcar: DeleteConnections: set UserID or VehicleID, not both")
	case f.UserID != "":
		q.Set("user_id", f.UserID)
	case f.VehicleID != "":
		q.Set("vehicle_id", f.VehicleID)
	default:
		return nil, errors.New("smartcar: DeleteConnections: set UserID or VehicleID")
	}
	var out DeletedConnections
	m, err := c.mgmt(ctx, "DELETE", managementToken, q, "DeleteConnections", &out)
	out.Meta = m
	return ret(&out, err)
}
