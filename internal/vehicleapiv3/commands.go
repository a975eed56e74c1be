package vehicleapiv3

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/scapi"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
)

// Charge limit bounds, in percent. Smartcar's v2.0 set-charge-limit accepts 50..100 %; the
// v3 page gives no range, so the sandbox keeps the v2.0 one.
const (
	MinChargeLimit = 50
	MaxChargeLimit = 100
)

// CommandExecution is the body of a command response: wrapped in "data" as the CMDS
// unlock-doors example shows (unlike the unwrapped vehicle and signal resources).
type CommandExecution struct {
	Data CommandExecutionResource `json:"data"`
}

type CommandExecutionResource struct {
	ID         string            `json:"id"`
	Type       string            `json:"type"`
	Attributes CommandAttributes `json:"attributes"`
	Meta       CommandMeta       `json:"meta"`
}

type CommandAttributes struct {
	CommandType   string       `json:"commandType"`
	Status        SignalStatus `json:"status"`
	ExecutionMode string       `json:"executionMode"`
}

// CommandMeta times are ISO-8601 (the CMDS example), unlike signal meta (epoch ms).
type CommandMeta struct {
	ExecutedAt        string  `json:"executedAt"`
	CompletedAt       string  `json:"completedAt"`
	DurationInSeconds float64 `json:"durationInSeconds"`
}

// command runs change on the vehicle atomically, after checking permission, and answers
// with the command execution. The sandbox's "vehicle" reacts at once, so every command is
// synchronous (200, executionMode sync) and takes no time.
func (a *API) command(w http.ResponseWriter, r *http.Request, commandType, permission string, change func(*sandbox.Vehicle) error) error {
	id := mux.Vars(r)["id"]
	acc, err := a.Auth.Vehicle(r, id, permission, true)
	if err != nil {
		return err
	}
	now := a.Now().UTC()
	_, err = a.Store.UpdateVehicle(acc.Vehicle.ID, func(v *sandbox.Vehicle) error {
		if err := change(v); err != nil {
			return err
		}
		// The vehicle records new data when it acts; signals' oemUpdatedAt and v2.0's
		// SC-Data-Age both read this one field.
		v.State.UpdatedAt = now
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return sandbox.Errorf(sandbox.ErrResourceNotFound, "PATH", "Vehicle %s does not exist in this sandbox.", id)
	}
	if err != nil {
		return err
	}
	newID := a.NewID
	if newID == nil {
		newID = sandbox.NewUUID
	}
	at := now.Format(time.RFC3339)
	scapi.WriteJSON(w, http.StatusOK, CommandExecution{Data: CommandExecutionResource{
		ID:   "exec_" + newID(),
		Type: "command-execution",
		Attributes: CommandAttributes{
			CommandType:   commandType,
			Status:        SignalStatus{"SUCCESS"},
			ExecutionMode: "sync",
		},
		Meta: CommandMeta{ExecutedAt: at, CompletedAt: at, DurationInSeconds: 0},
	}})
	return nil
}

func setLocked(locked bool) func(*sandbox.Vehicle) error {
	return func(v *sandbox.Vehicle) error {
		if len(v.State.Security.Doors) == 0 {
			return sandbox.ErrVehicleNotCapable("door locks")
		}
		cmd := sandbox.CommandUnlock
		if locked {
			cmd = sandbox.CommandLock
		}
		if e := sandbox.CommandRefusal(*v, cmd); e != nil {
			return e
		}
		v.State.Security.SetLocked(locked)
		return nil
	}
}

// Lock serves POST /v3/vehicles/{id}/commands/security/lock.
func (a *API) Lock(w http.ResponseWriter, r *http.Request) error {
	return a.command(w, r, "security-lock", "control_security", setLocked(true))
}

// Unlock serves POST /v3/vehicles/{id}/commands/security/unlock.
func (a *API) Unlock(w http.ResponseWriter, r *http.Request) error {
	return a.command(w, r, "security-unlock", "control_security", setLocked(false))
}

// StartCharge serves POST /v3/vehicles/{id}/commands/charging/start (path unconfirmed).
func (a *API) StartCharge(w http.ResponseWriter, r *http.Request) error {
	return a.command(w, r, "charging-start", "control_charge", chargeCommand(sandbox.CommandStartCharge))
}

// StopCharge serves POST /v3/vehicles/{id}/commands/charging/stop (path unconfirmed).
func (a *API) StopCharge(w http.ResponseWriter, r *http.Request) error {
	return a.command(w, r, "charging-stop", "control_charge", chargeCommand(sandbox.CommandStopCharge))
}

// chargeCommand is the domain's charge rule (sandbox.Vehicle.ChargeCommand), shared with v2.0.
func chargeCommand(command string) func(*sandbox.Vehicle) error {
	return func(v *sandbox.Vehicle) error {
		if e := v.ChargeCommand(command); e != nil {
			return e
		}
		return nil
	}
}

// SetChargeLimit serves POST /v3/vehicles/{id}/commands/charging/limit with {"limit": 80}
// in percent (path and body unconfirmed). Authorization runs first (inside command); the
// body is validated inside the atomic update, before the vehicle's capability is checked.
func (a *API) SetChargeLimit(w http.ResponseWriter, r *http.Request) error {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return sandbox.NewError(sandbox.ErrValidation, "PARAMETER", "The request body could not be read (it may exceed the size limit).")
	}
	return a.command(w, r, "charging-limit", "control_charge", func(v *sandbox.Vehicle) error {
		limit, err := parseLimit(raw)
		if err != nil {
			return err
		}
		if e := v.SetChargeLimit(limit / 100); e != nil {
			return e
		}
		return nil
	})
}

// parseLimit reads {"limit": 80}. A numeric string ("80") is accepted too, since Smartcar's
// Node SDK sends the v2.0 limit as a string.
func parseLimit(raw []byte) (float64, error) {
	bad := func(why string) error {
		e := sandbox.Errorf(sandbox.ErrValidation, "PARAMETER", "The body must be {\"limit\": <percent from %d to %d>}: %s", MinChargeLimit, MaxChargeLimit, why)
		e.Detail = []map[string]any{{"field": "limit", "message": why}}
		return e
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return 0, bad("the body is empty")
	}
	var body struct {
		Limit json.RawMessage `json:"limit"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return 0, bad("the body is not a JSON object")
	}
	if len(body.Limit) == 0 || string(body.Limit) == "null" {
		return 0, bad("limit is missing")
	}
	var n float64
	if err := json.Unmarshal(body.Limit, &n); err != nil {
		var s string
		if json.Unmarshal(body.Limit, &s) != nil {
			return 0, bad("limit is not a number")
		}
		if n, err = strconv.ParseFloat(strings.TrimSpace(s), 64); err != nil {
			return 0, bad("limit is not a number")
		}
	}
	if n < MinChargeLimit || n > MaxChargeLimit {
		return 0, bad("limit " + strconv.FormatFloat(n, 'f', -1, 64) + " is out of range")
	}
	return n, nil
}
