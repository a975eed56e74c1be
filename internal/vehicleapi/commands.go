package vehicleapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/scapi"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
)

// Success is the body of every command: SDKs read status, and the Go SDK fails on anything
// but a 200 with a JSON body.
type Success struct {
	Status string `json:"status"`
}

func writeSuccess(w http.ResponseWriter) error {
	scapi.WriteJSON(w, http.StatusOK, Success{Status: "success"})
	return nil
}

func validation(format string, args ...any) *sandbox.Error {
	return sandbox.Errorf(sandbox.ErrValidation, "", format, args...)
}

// decodeBody reads a JSON object into dst, turning every way a body can be wrong into a
// VALIDATION error that says what was wrong.
func decodeBody(r *http.Request, dst any) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			return validation("The request body is too large.")
		}
		return validation("The request body could not be read.")
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return validation("The request body is empty; send a JSON object.")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			if te.Field == "" {
				return validation("The request body must be a JSON object.")
			}
			return sandbox.Errorf(sandbox.ErrValidation, "PARAMETER", "The field %q must be a %s, not a JSON %s.", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
		}
		var fe *fieldError
		if errors.As(err, &fe) {
			return sandbox.NewError(sandbox.ErrValidation, "PARAMETER", fe.msg)
		}
		return validation("The request body is not valid JSON: %v.", err)
	}
	if dec.More() {
		return validation("The request body must hold exactly one JSON object.")
	}
	return nil
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "float64", "int":
		return "number"
	case "slice":
		return "array"
	case "struct", "map":
		return "object"
	}
	return goKind
}

type actionBody struct {
	Action *string `json:"action"`
}

func readAction(r *http.Request, allowed ...string) (string, error) {
	var b actionBody
	if err := decodeBody(r, &b); err != nil {
		return "", err
	}
	if b.Action == nil {
		return "", sandbox.Errorf(sandbox.ErrValidation, "PARAMETER", "The body must have an \"action\" field: one of %s.", strings.Join(allowed, ", "))
	}
	for _, a := range allowed {
		if *b.Action == a {
			return a, nil
		}
	}
	return "", sandbox.Errorf(sandbox.ErrValidation, "PARAMETER", "The action %q is not valid here; use one of %s.", *b.Action, strings.Join(allowed, ", "))
}

// update runs fn on the vehicle in the store and stamps the data age: a command is the
// vehicle reporting new data.
func (a *API) update(id string, fn func(*sandbox.Vehicle) error) error {
	_, err := a.Store.UpdateVehicle(id, func(v *sandbox.Vehicle) error {
		if err := fn(v); err != nil {
			return err
		}
		v.State.UpdatedAt = a.Now().UTC()
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return sandbox.Errorf(sandbox.ErrResourceNotFound, "PATH", "Vehicle %s does not exist in this sandbox.", id)
	}
	return err
}

// Security is POST /vehicles/{id}/security {"action":"LOCK"|"UNLOCK"}.
func (a *API) Security(w http.ResponseWriter, r *http.Request) error {
	acc, err := a.Auth.Vehicle(r, vehicleID(r), "control_security", false)
	if err != nil {
		return err
	}
	action, err := readAction(r, "LOCK", "UNLOCK")
	if err != nil {
		return err
	}
	if err := a.update(acc.Vehicle.ID, func(v *sandbox.Vehicle) error {
		if e := sandbox.CommandRefusal(*v, action); e != nil {
			return e
		}
		v.State.Security.SetLocked(action == "LOCK")
		return nil
	}); err != nil {
		return err
	}
	return writeSuccess(w)
}

// chargeStateFor is the state a plugged-in vehicle settles in when charging is on.
func chargeStateFor(v *sandbox.Vehicle) string {
	if b := v.State.Battery; b != nil && b.PercentRemaining >= v.State.Charge.Limit {
		return sandbox.ChargeFullyCharged
	}
	return sandbox.ChargeCharging
}

// ChargeCommand is POST /vehicles/{id}/charge {"action":"START"|"STOP"}.
func (a *API) ChargeCommand(w http.ResponseWriter, r *http.Request) error {
	acc, err := a.Auth.Vehicle(r, vehicleID(r), "control_charge", false)
	if err != nil {
		return err
	}
	if _, err := charge(acc.Vehicle); err != nil {
		return err
	}
	action, err := readAction(r, "START", "STOP")
	if err != nil {
		return err
	}
	if err := a.update(acc.Vehicle.ID, func(v *sandbox.Vehicle) error {
		if e := sandbox.CommandRefusal(*v, action+"_CHARGE"); e != nil {
			return e
		}
		ch := v.State.Charge
		if !ch.IsPluggedIn {
			return sandbox.NewError(sandbox.ErrVehicleState, "CHARGING_PLUG_NOT_CONNECTED", "The charging cable is not plugged in, so charging cannot be started or stopped.")
		}
		if action == "START" {
			ch.State = chargeStateFor(v)
		} else {
			ch.State = sandbox.ChargeNotCharging
		}
		return nil
	}); err != nil {
		return err
	}
	return writeSuccess(w)
}

// fieldError is returned by custom unmarshalers so decodeBody can tell a bad field value
// (PARAMETER) from malformed JSON.
type fieldError struct{ msg string }

func (e *fieldError) Error() string { return e.msg }

// flexNumber accepts a JSON number or a string holding one: the Node SDK sends the charge
// limit as a string, Python as a number.
type flexNumber struct {
	set bool
	val float64
	raw string
}

func (f *flexNumber) UnmarshalJSON(b []byte) error {
	f.set, f.raw = true, string(b)
	if string(b) == "null" {
		f.set = false
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return &fieldError{fmt.Sprintf("limit must be a number between 0 and 1 (a number or a numeric string), got %q.", s)}
		}
		f.val = v
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return &fieldError{fmt.Sprintf("limit must be a number between 0 and 1 (a number or a numeric string), got %s.", b)}
	}
	f.val = v
	return nil
}

// SetChargeLimit is POST /vehicles/{id}/charge/limit {"limit":0.8} (or "0.8").
func (a *API) SetChargeLimit(w http.ResponseWriter, r *http.Request) error {
	acc, err := a.Auth.Vehicle(r, vehicleID(r), "control_charge", false)
	if err != nil {
		return err
	}
	if _, err := charge(acc.Vehicle); err != nil {
		return err
	}
	var body struct {
		Limit flexNumber `json:"limit"`
	}
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	if !body.Limit.set {
		return sandbox.Errorf(sandbox.ErrValidation, "PARAMETER", "The body must have a \"limit\" field between 0 and 1, e.g. {\"limit\":0.8}.")
	}
	limit := body.Limit.val
	if !(limit > 0 && limit <= 1) {
		return sandbox.Errorf(sandbox.ErrValidation, "PARAMETER", "limit must be greater than 0 and at most 1, got %s.", body.Limit.raw)
	}
	if err := a.update(acc.Vehicle.ID, func(v *sandbox.Vehicle) error {
		ch := v.State.Charge
		ch.Limit = limit
		// A charging car stops at its limit, and a full one resumes when the limit rises.
		if ch.IsPluggedIn && ch.State != sandbox.ChargeNotCharging {
			ch.State = chargeStateFor(v)
		}
		return nil
	}); err != nil {
		return err
	}
	return writeSuccess(w)
}

// Destination is POST /vehicles/{id}/navigation/destination {"latitude":n,"longitude":n}.
// The sandbox has no navigation state to change, so a valid destination is acknowledged.
func (a *API) Destination(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.Auth.Vehicle(r, vehicleID(r), "control_navigation", false); err != nil {
		return err
	}
	var body struct {
		Latitude  *float64 `json:"latitude"`
		Longitude *float64 `json:"longitude"`
	}
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	if body.Latitude == nil || body.Longitude == nil {
		return sandbox.Errorf(sandbox.ErrValidation, "PARAMETER", "The body must have numeric \"latitude\" and \"longitude\" fields.")
	}
	if *body.Latitude < -90 || *body.Latitude > 90 || *body.Longitude < -180 || *body.Longitude > 180 {
		return sandbox.Errorf(sandbox.ErrValidation, "PARAMETER", "latitude must be within -90..90 and longitude within -180..180.")
	}
	return writeSuccess(w)
}

// Disconnect is DELETE /vehicles/{id}/application: the application loses the vehicle at
// once, for every token it holds, because every call checks the grant.
func (a *API) Disconnect(w http.ResponseWriter, r *http.Request) error {
	acc, err := a.Auth.Vehicle(r, vehicleID(r), "", false)
	if err != nil {
		return err
	}
	if _, err := a.Store.Disconnect(store.GrantFilter{ClientID: acc.Claims.ClientID, UserID: acc.UserID, VehicleID: acc.Vehicle.ID}); err != nil {
		return err
	}
	return writeSuccess(w)
}

// User is GET /user.
func (a *API) User(w http.ResponseWriter, r *http.Request) error {
	c, err := a.Auth.UserFromVehicleToken(r)
	if err != nil {
		return err
	}
	scapi.WriteJSON(w, http.StatusOK, struct {
		ID string `json:"id"`
	}{c.UserID()})
	return nil
}

// VehicleList is GET /vehicles.
type VehicleList struct {
	Vehicles []string `json:"vehicles"`
	Paging   Paging   `json:"paging"`
}

// Vehicles is GET /vehicles?limit&offset: the token's vehicles still connected, in token order.
func (a *API) Vehicles(w http.ResponseWriter, r *http.Request) error {
	c, err := a.Auth.UserFromVehicleToken(r)
	if err != nil {
		return err
	}
	limit, offset, err := offsetPaging(r.URL.Query(), 10, 50)
	if err != nil {
		return err
	}
	ids := a.Store.ConnectedVehicles(c.ClientID, c.UserID(), c.VehicleIDs, c.Authorization)
	scapi.WriteJSON(w, http.StatusOK, VehicleList{Vehicles: page(ids, limit, offset), Paging: Paging{Count: len(ids), Offset: offset}})
	return nil
}
