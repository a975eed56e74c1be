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

// CommandSuccess is the body of every command sent to the vehicle (lock, unlock, charge,
// charge limit, destination): the SDKs read status, the Node suite compares message word for
// word, the Python SDK's Action type has both, and the Go SDK fails on anything but a 200
// with a JSON body.
type CommandSuccess struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

// CommandSentMessage is Smartcar's message for a command sent to the vehicle.
const CommandSentMessage = "Successfully sent request to vehicle"

// Success is the body of what is not a vehicle command (disconnecting the application):
// status only, as the Node suite's disconnect test requires.
type Success struct {
	Status string `json:"status"`
}

func writeCommandSent(w http.ResponseWriter) error {
	scapi.WriteJSON(w, http.StatusOK, CommandSuccess{Status: "success", Message: CommandSentMessage})
	return nil
}

func writeSuccess(w http.ResponseWriter) error {
	scapi.WriteJSON(w, http.StatusOK, Success{Status: "success"})
	return nil
}

// validation is VALIDATION with code null, for a malformed request: a body that is not the
// JSON asked for, a field missing or of the wrong JSON type. A well-formed value out of its
// range is sandbox.InvalidParameter (VALIDATION:PARAMETER).
func validation(format string, args ...any) *sandbox.Error {
	return sandbox.InvalidRequest(fmt.Sprintf(format, args...))
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
			return validation("The field %q must be a %s, not a JSON %s.", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
		}
		var fe *fieldError
		if errors.As(err, &fe) {
			return sandbox.InvalidParameter(fe.msg)
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
		return "", validation("The body must have an \"action\" field: one of %s.", strings.Join(allowed, ", "))
	}
	for _, a := range allowed {
		if *b.Action == a {
			return a, nil
		}
	}
	return "", sandbox.InvalidParameter(fmt.Sprintf("The action %q is not valid here; use one of %s.", *b.Action, strings.Join(allowed, ", ")))
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
		return sandbox.Errorf(sandbox.TypeResourceNotFound, "PATH", "Vehicle %s does not exist in this sandbox.", id)
	}
	return err
}

// Security is POST /vehicles/{id}/security {"action":"LOCK"|"UNLOCK"}.
func (a *API) Security(w http.ResponseWriter, r *http.Request) error {
	c, id, err := a.authenticate(r)
	if err != nil {
		return err
	}
	action, err := readAction(r, "LOCK", "UNLOCK")
	if err != nil {
		return err
	}
	acc, err := a.Auth.Authorize(r, c, id, "control_security", scapi.ConnectOnly)
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
	return writeCommandSent(w)
}

// ChargeCommand is POST /vehicles/{id}/charge {"action":"START"|"STOP"}.
func (a *API) ChargeCommand(w http.ResponseWriter, r *http.Request) error {
	c, id, err := a.authenticate(r)
	if err != nil {
		return err
	}
	action, err := readAction(r, "START", "STOP")
	if err != nil {
		return err
	}
	acc, err := a.Auth.Authorize(r, c, id, "control_charge", scapi.ConnectOnly)
	if err != nil {
		return err
	}
	if _, err := charge(acc.Vehicle); err != nil {
		return err
	}
	if err := a.update(acc.Vehicle.ID, func(v *sandbox.Vehicle) error {
		if e := v.ChargeCommand(action + "_CHARGE"); e != nil {
			return e
		}
		return nil
	}); err != nil {
		return err
	}
	return writeCommandSent(w)
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
	c, id, err := a.authenticate(r)
	if err != nil {
		return err
	}
	var body struct {
		Limit flexNumber `json:"limit"`
	}
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	if !body.Limit.set {
		return validation("The body must have a \"limit\" field between 0 and 1, e.g. {\"limit\":0.8}.")
	}
	limit := body.Limit.val
	if !(limit > 0 && limit <= 1) {
		return sandbox.InvalidParameter(fmt.Sprintf("limit must be greater than 0 and at most 1, got %s.", body.Limit.raw))
	}
	acc, err := a.Auth.Authorize(r, c, id, "control_charge", scapi.ConnectOnly)
	if err != nil {
		return err
	}
	if _, err := charge(acc.Vehicle); err != nil {
		return err
	}
	if err := a.update(acc.Vehicle.ID, func(v *sandbox.Vehicle) error {
		if e := v.SetChargeLimit(limit); e != nil {
			return e
		}
		return nil
	}); err != nil {
		return err
	}
	return writeCommandSent(w)
}

// Destination is POST /vehicles/{id}/navigation/destination {"latitude":n,"longitude":n}.
// The sandbox has no navigation state to change, so a valid destination is acknowledged.
// Coordinates out of range get the words the Node SDK uses when it refuses them itself
// (its sendDestination checks the range before sending), so a client without that check
// reads the same.
func (a *API) Destination(w http.ResponseWriter, r *http.Request) error {
	c, id, err := a.authenticate(r)
	if err != nil {
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
		return validation("The body must have numeric \"latitude\" and \"longitude\" fields.")
	}
	if lat := *body.Latitude; lat < -90 || lat > 90 {
		return sandbox.InvalidParameter(fmt.Sprintf("latitude %v is outside -90..90", lat)).WithDescription(InvalidLatitude)
	}
	if lng := *body.Longitude; lng < -180 || lng > 180 {
		return sandbox.InvalidParameter(fmt.Sprintf("longitude %v is outside -180..180", lng)).WithDescription(InvalidLongitude)
	}
	if _, err := a.Auth.Authorize(r, c, id, "control_navigation", scapi.ConnectOnly); err != nil {
		return err
	}
	return writeCommandSent(w)
}

// Smartcar's words for coordinates out of range (the Node SDK's, see Destination).
const (
	InvalidLatitude  = "Invalid latitude value. It must be between -90 and 90."
	InvalidLongitude = "Invalid longitude value. It must be between -180 and 180."
)

// Disconnect is DELETE /vehicles/{id}/application: the application loses the vehicle at
// once, for every token it holds, because every call checks the grant.
func (a *API) Disconnect(w http.ResponseWriter, r *http.Request) error {
	c, id, err := a.authenticate(r)
	if err != nil {
		return err
	}
	acc, err := a.Auth.Authorize(r, c, id, "", scapi.ConnectOnly)
	if err != nil {
		return err
	}
	f := store.GrantFilter{ClientID: acc.Claims.ClientID, UserID: acc.UserID, VehicleID: acc.Vehicle.ID}
	if err := a.Store.DisconnectByToken(f, acc.Claims.VehicleIDs, acc.Claims.Authorization); err != nil {
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
