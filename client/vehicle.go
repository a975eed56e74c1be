package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Paging is the offset paging of /vehicles and /permissions.
type Paging struct {
	Count  int `json:"count"`
	Offset int `json:"offset"`
}

// User is GET /user.
type User struct {
	ID   string `json:"id"`
	Meta Meta   `json:"-"`
}

// VehicleIDs is GET /vehicles.
type VehicleIDs struct {
	Vehicles []string `json:"vehicles"`
	Paging   Paging   `json:"paging"`
	Meta     Meta     `json:"-"`
}

// Attributes is GET /vehicles/{id}.
type Attributes struct {
	ID    string `json:"id"`
	Make  string `json:"make"`
	Model string `json:"model"`
	Year  int    `json:"year"`
	Meta  Meta   `json:"-"`
}

// VIN is GET /vehicles/{id}/vin.
type VIN struct {
	VIN  string `json:"vin"`
	Meta Meta   `json:"-"`
}

// Odometer is GET /vehicles/{id}/odometer (km or miles).
type Odometer struct {
	Distance float64 `json:"distance"`
	Meta     Meta    `json:"-"`
}

// Location is GET /vehicles/{id}/location.
type Location struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Meta      Meta    `json:"-"`
}

// Fuel is GET /vehicles/{id}/fuel; PercentRemaining is 0..1.
type Fuel struct {
	Range            float64 `json:"range"`
	PercentRemaining float64 `json:"percentRemaining"`
	AmountRemaining  float64 `json:"amountRemaining"`
	Meta             Meta    `json:"-"`
}

// Battery is GET /vehicles/{id}/battery; PercentRemaining is 0..1.
type Battery struct {
	Range            float64 `json:"range"`
	PercentRemaining float64 `json:"percentRemaining"`
	Meta             Meta    `json:"-"`
}

// BatteryCapacity is GET /vehicles/{id}/battery/capacity (kWh).
type BatteryCapacity struct {
	Capacity float64 `json:"capacity"`
	Meta     Meta    `json:"-"`
}

// Charge is GET /vehicles/{id}/charge; State is CHARGING, FULLY_CHARGED or NOT_CHARGING.
type Charge struct {
	IsPluggedIn bool   `json:"isPluggedIn"`
	State       string `json:"state"`
	Meta        Meta   `json:"-"`
}

// ChargeLimit is GET /vehicles/{id}/charge/limit (0..1).
type ChargeLimit struct {
	Limit float64 `json:"limit"`
	Meta  Meta    `json:"-"`
}

// EngineOil is GET /vehicles/{id}/engine/oil (0..1).
type EngineOil struct {
	LifeRemaining float64 `json:"lifeRemaining"`
	Meta          Meta    `json:"-"`
}

// TirePressure is GET /vehicles/{id}/tires/pressure (kPa or psi).
type TirePressure struct {
	FrontLeft  float64 `json:"frontLeft"`
	FrontRight float64 `json:"frontRight"`
	BackLeft   float64 `json:"backLeft"`
	BackRight  float64 `json:"backRight"`
	Meta       Meta    `json:"-"`
}

// OpeningStatus is one door, window, sunroof, storage or charging port.
type OpeningStatus struct {
	Type   string `json:"type"`
	Status string `json:"status"`
}

// Security is GET /vehicles/{id}/security (the lock status).
type Security struct {
	IsLocked     bool            `json:"isLocked"`
	Doors        []OpeningStatus `json:"doors"`
	Windows      []OpeningStatus `json:"windows"`
	Sunroof      []OpeningStatus `json:"sunroof"`
	Storage      []OpeningStatus `json:"storage"`
	ChargingPort []OpeningStatus `json:"chargingPort"`
	Meta         Meta            `json:"-"`
}

// Permissions is GET /vehicles/{id}/permissions.
type Permissions struct {
	Permissions []string `json:"permissions"`
	Paging      Paging   `json:"paging"`
	Meta        Meta     `json:"-"`
}

// ActionResult is the answer to commands (lock, charge, disconnect, …).
type ActionResult struct {
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
	Meta    Meta   `json:"-"`
}

// User returns the Smartcar user id behind an access token (GET /v2.0/user).
func (c *Client) User(ctx context.Context, accessToken string) (*User, error) {
	var u User
	m, err := c.apiGet(ctx, accessToken, "", "/v2.0/user", nil, "User", &u)
	u.Meta = m
	return ret(&u, err)
}

// Vehicles lists the vehicle ids an access token may use (GET /v2.0/vehicles). limit and offset
// are sent when positive (Smartcar allows limit ≤ 50).
func (c *Client) Vehicles(ctx context.Context, accessToken string, limit, offset int) (*VehicleIDs, error) {
	var v VehicleIDs
	m, err := c.apiGet(ctx, accessToken, "", "/v2.0/vehicles", pagingQuery(limit, offset), "Vehicles", &v)
	v.Meta = m
	return ret(&v, err)
}

func pagingQuery(limit, offset int) url.Values {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if offset > 0 {
		q.Set("offset", strconv.Itoa(offset))
	}
	return q
}

// ret drops the half-filled value on error, so callers never see both.
func ret[T any](v *T, err error) (*T, error) {
	if err != nil {
		return nil, err
	}
	return v, nil
}

func (c *Client) apiGet(ctx context.Context, token string, unit UnitSystem, path string, q url.Values, what string, v any) (Meta, error) {
	return c.apiCall(ctx, "GET", token, unit, path, q, nil, what, v)
}

func (c *Client) apiCall(ctx context.Context, method, token string, unit UnitSystem, path string, q url.Values, body any, what string, v any) (Meta, error) {
	if token == "" {
		return Meta{}, fmt.Errorf("smartcar: %s: empty access token", what)
	}
	r := request{method: method, url: c.cfg.APIOrigin + path, query: q, jsonBody: body, bearer: token}
	if unit != "" {
		r.header = http.Header{"SC-Unit-System": {string(unit)}}
	}
	resp, err := c.do(ctx, r)
	if err != nil {
		return Meta{}, err
	}
	if err := resp.decode(what, v); err != nil {
		return Meta{}, err
	}
	return resp.meta(), nil
}

// Vehicle is one vehicle seen through one access token.
type Vehicle struct {
	c           *Client
	id          string
	accessToken string
	unit        UnitSystem
}

// Vehicle returns a handle for vehicle id used with accessToken. It makes no request.
func (c *Client) Vehicle(id, accessToken string) *Vehicle {
	return &Vehicle{c: c, id: id, accessToken: accessToken}
}

// ID is the vehicle id.
func (v *Vehicle) ID() string { return v.id }

// WithUnitSystem returns a copy that sends SC-Unit-System: u on every request ("" sends none,
// and Smartcar answers in metric).
func (v *Vehicle) WithUnitSystem(u UnitSystem) *Vehicle {
	cp := *v
	cp.unit = u
	return &cp
}

func (v *Vehicle) path(sub string) string {
	return "/v2.0/vehicles/" + url.PathEscape(v.id) + sub
}

func (v *Vehicle) call(ctx context.Context, method, sub string, q url.Values, body any, what string, out any) (Meta, error) {
	if v.id == "" {
		return Meta{}, fmt.Errorf("smartcar: %s: empty vehicle id", what)
	}
	return v.c.apiCall(ctx, method, v.accessToken, v.unit, v.path(sub), q, body, what, out)
}

// get is the shared body of the simple GET readers.
func get[T any](ctx context.Context, v *Vehicle, sub, what string, setMeta func(*T, Meta)) (*T, error) {
	var out T
	m, err := v.call(ctx, "GET", sub, nil, nil, what, &out)
	if err != nil {
		return nil, err
	}
	setMeta(&out, m)
	return &out, nil
}

// Attributes is GET /vehicles/{id} (make, model, year).
func (v *Vehicle) Attributes(ctx context.Context) (*Attributes, error) {
	return get(ctx, v, "", "Attributes", func(x *Attributes, m Meta) { x.Meta = m })
}

// VIN is GET /vehicles/{id}/vin.
func (v *Vehicle) VIN(ctx context.Context) (*VIN, error) {
	return get(ctx, v, "/vin", "VIN", func(x *VIN, m Meta) { x.Meta = m })
}

// Odometer is GET /vehicles/{id}/odometer.
func (v *Vehicle) Odometer(ctx context.Context) (*Odometer, error) {
	return get(ctx, v, "/odometer", "Odometer", func(x *Odometer, m Meta) { x.Meta = m })
}

// Location is GET /vehicles/{id}/location.
func (v *Vehicle) Location(ctx context.Context) (*Location, error) {
	return get(ctx, v, "/location", "Location", func(x *Location, m Meta) { x.Meta = m })
}

// Fuel is GET /vehicles/{id}/fuel.
func (v *Vehicle) Fuel(ctx context.Context) (*Fuel, error) {
	return get(ctx, v, "/fuel", "Fuel", func(x *Fuel, m Meta) { x.Meta = m })
}

// Battery is GET /vehicles/{id}/battery.
func (v *Vehicle) Battery(ctx context.Context) (*Battery, error) {
	return get(ctx, v, "/battery", "Battery", func(x *Battery, m Meta) { x.Meta = m })
}

// BatteryCapacity is GET /vehicles/{id}/battery/capacity.
func (v *Vehicle) BatteryCapacity(ctx context.Context) (*BatteryCapacity, error) {
	return get(ctx, v, "/battery/capacity", "BatteryCapacity", func(x *BatteryCapacity, m Meta) { x.Meta = m })
}

// Charge is GET /vehicles/{id}/charge.
func (v *Vehicle) Charge(ctx context.Context) (*Charge, error) {
	return get(ctx, v, "/charge", "Charge", func(x *Charge, m Meta) { x.Meta = m })
}

// ChargeLimit is GET /vehicles/{id}/charge/limit.
func (v *Vehicle) ChargeLimit(ctx context.Context) (*ChargeLimit, error) {
	return get(ctx, v, "/charge/limit", "ChargeLimit", func(x *ChargeLimit, m Meta) { x.Meta = m })
}

// EngineOil is GET /vehicles/{id}/engine/oil.
func (v *Vehicle) EngineOil(ctx context.Context) (*EngineOil, error) {
	return get(ctx, v, "/engine/oil", "EngineOil", func(x *EngineOil, m Meta) { x.Meta = m })
}

// TirePressure is GET /vehicles/{id}/tires/pressure.
func (v *Vehicle) TirePressure(ctx context.Context) (*TirePressure, error) {
	return get(ctx, v, "/tires/pressure", "TirePressure", func(x *TirePressure, m Meta) { x.Meta = m })
}

// LockStatus is GET /vehicles/{id}/security.
func (v *Vehicle) LockStatus(ctx context.Context) (*Security, error) {
	return get(ctx, v, "/security", "LockStatus", func(x *Security, m Meta) { x.Meta = m })
}

// Permissions is GET /vehicles/{id}/permissions; limit and offset are sent when positive.
func (v *Vehicle) Permissions(ctx context.Context, limit, offset int) (*Permissions, error) {
	var p Permissions
	m, err := v.call(ctx, "GET", "/permissions", pagingQuery(limit, offset), nil, "Permissions", &p)
	p.Meta = m
	return ret(&p, err)
}

func (v *Vehicle) action(ctx context.Context, method, sub string, body any, what string) (*ActionResult, error) {
	var a ActionResult
	m, err := v.call(ctx, method, sub, nil, body, what, &a)
	a.Meta = m
	return ret(&a, err)
}

type actionBody struct {
	Action string `json:"action"`
}

// Lock is POST /vehicles/{id}/security {"action":"LOCK"}.
func (v *Vehicle) Lock(ctx context.Context) (*ActionResult, error) {
	return v.action(ctx, "POST", "/security", actionBody{"LOCK"}, "Lock")
}

// Unlock is POST /vehicles/{id}/security {"action":"UNLOCK"}.
func (v *Vehicle) Unlock(ctx context.Context) (*ActionResult, error) {
	return v.action(ctx, "POST", "/security", actionBody{"UNLOCK"}, "Unlock")
}

// StartCharge is POST /vehicles/{id}/charge {"action":"START"}.
func (v *Vehicle) StartCharge(ctx context.Context) (*ActionResult, error) {
	return v.action(ctx, "POST", "/charge", actionBody{"START"}, "StartCharge")
}

// StopCharge is POST /vehicles/{id}/charge {"action":"STOP"}.
func (v *Vehicle) StopCharge(ctx context.Context) (*ActionResult, error) {
	return v.action(ctx, "POST", "/charge", actionBody{"STOP"}, "StopCharge")
}

// SetChargeLimit is POST /vehicles/{id}/charge/limit with limit in 0..1. The body is
// {"limit":<number>} (the Python SDK's form; the Node SDK sends a string, Smartcar accepts both).
func (v *Vehicle) SetChargeLimit(ctx context.Context, limit float64) (*ActionResult, error) {
	if !(limit >= 0 && limit <= 1) {
		return nil, fmt.Errorf("smartcar: SetChargeLimit: limit %v is not within 0..1", limit)
	}
	return v.action(ctx, "POST", "/charge/limit", map[string]float64{"limit": limit}, "SetChargeLimit")
}

// Disconnect is DELETE /vehicles/{id}/application: it revokes the application's access.
func (v *Vehicle) Disconnect(ctx context.Context) (*ActionResult, error) {
	return v.action(ctx, "DELETE", "/application", nil, "Disconnect")
}

// BatchItem is one response of a batch request.
type BatchItem struct {
	Path    string            `json:"path"`
	Code    int               `json:"code"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
	outer   http.Header
}

// Header reads an item header case-insensitively, falling back to the outer response's headers.
func (it *BatchItem) Header(name string) string {
	for k, v := range it.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	if it.outer != nil {
		return it.outer.Get(name)
	}
	return ""
}

// Meta is the item's metadata: its own headers overlaid on the batch response's.
func (it *BatchItem) Meta() Meta { return metaFrom(it.Header) }

// Err returns nil for a 2xx item and otherwise an *Error built from the item's body and headers,
// with StatusCode = the item's code (not the outer 200, unlike the Node SDK's quirk).
func (it *BatchItem) Err() error {
	if it.Code >= 200 && it.Code <= 299 {
		return nil
	}
	return buildError(it.Code, it.Header, it.Body)
}

// Decode unmarshals a successful item's body into out; for a failed item it returns Err().
func (it *BatchItem) Decode(out any) error {
	if err := it.Err(); err != nil {
		return err
	}
	if len(it.Body) == 0 || string(it.Body) == "null" {
		return fmt.Errorf("smartcar: batch item %s has no body", it.Path)
	}
	if err := json.Unmarshal(it.Body, out); err != nil {
		return fmt.Errorf("smartcar: batch item %s: %w", it.Path, err)
	}
	return nil
}

// BatchResponse is POST /vehicles/{id}/batch.
type BatchResponse struct {
	Responses []BatchItem `json:"responses"`
	Meta      Meta        `json:"-"`
}

// Get returns the item for path ("/odometer"; a missing leading slash is added).
func (b *BatchResponse) Get(path string) (*BatchItem, bool) {
	path = normalizeBatchPath(path)
	for i := range b.Responses {
		if b.Responses[i].Path == path {
			return &b.Responses[i], true
		}
	}
	return nil, false
}

func normalizeBatchPath(p string) string {
	if !strings.HasPrefix(p, "/") {
		return "/" + p
	}
	return p
}

type batchRequest struct {
	Requests []batchPath `json:"requests"`
}

type batchPath struct {
	Path string `json:"path"`
}

// Batch is POST /vehicles/{id}/batch {"requests":[{"path":"/odometer"},…]}. Paths are endpoint
// paths below the vehicle ("/" is the attributes). A failed item is not an error of Batch: check
// each item's Err or use Decode.
func (v *Vehicle) Batch(ctx context.Context, paths ...string) (*BatchResponse, error) {
	if len(paths) == 0 {
		return nil, errors.New("smartcar: Batch: no paths")
	}
	req := batchRequest{Requests: make([]batchPath, len(paths))}
	for i, p := range paths {
		req.Requests[i] = batchPath{normalizeBatchPath(strings.TrimSpace(p))}
	}
	if v.id == "" {
		return nil, errors.New("smartcar: Batch: empty vehicle id")
	}
	if v.accessToken == "" {
		return nil, errors.New("smartcar: Batch: empty access token")
	}
	r := request{method: "POST", url: v.c.cfg.APIOrigin + v.path("/batch"), jsonBody: req, bearer: v.accessToken}
	if v.unit != "" {
		r.header = http.Header{"SC-Unit-System": {string(v.unit)}}
	}
	resp, err := v.c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	var b BatchResponse
	if err := resp.decode("Batch", &b); err != nil {
		return nil, err
	}
	if b.Responses == nil {
		return nil, errors.New("smartcar: Batch: response has no \"responses\" array")
	}
	for i := range b.Responses {
		b.Responses[i].outer = resp.header
	}
	b.Meta = resp.meta()
	return &b, nil
}
