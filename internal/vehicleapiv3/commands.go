package vehicleapiv3

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/mux"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/scapi"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/vehicleapi"
)

// Charge limit bounds, in percent: Smartcar's v3 set-limit takes an integer from 50 to 100
// (the spec as third-party notes quote it; the same range as v2.0).
const (
	MinChargeLimit = 50
	MaxChargeLimit = 100
)

// Command types as the command execution names them. security-unlock and charge-set-limit are
// in Smartcar's examples; the others follow the same <path group>-<action> pattern (a
// reading, docs/api-v3.md).
const (
	CmdLock             = "security-lock"
	CmdUnlock           = "security-unlock"
	CmdStartCharge      = "charge-start"
	CmdStopCharge       = "charge-stop"
	CmdSetChargeLimit   = "charge-set-limit"
	CmdSetDestination   = "navigation-set-destination"
	CmdOpenChargePort   = "charge-port-open"
	CmdCloseChargePort  = "charge-port-close"
	CmdScheduleDaily    = "charge-schedule-daily"
	CmdScheduleWeekly   = "charge-schedule-weekly"
	CmdScheduleWorkweek = "charge-schedule-workweek"
	CmdScheduleDelete   = "charge-schedule-delete"
)

// CommandExecution is the body of a command response, wrapped in "data" (SETLIM, CMDS).
type CommandExecution struct {
	Data CommandExecutionResource `json:"data"`
}

type CommandExecutionResource struct {
	ID         string            `json:"id"`
	Type       string            `json:"type"`
	Attributes CommandAttributes `json:"attributes"`
	Meta       CommandMeta       `json:"meta"`
	Links      SelfLink          `json:"links"`
}

// CommandAttributes: parameters echo the request's attributes (SETLIM's example); a command
// without a body has none.
type CommandAttributes struct {
	CommandType   string         `json:"commandType"`
	Status        SignalStatus   `json:"status"`
	ExecutionMode string         `json:"executionMode"`
	Parameters    map[string]any `json:"parameters,omitempty"`
}

// CommandMeta times are ISO-8601 (the SETLIM example), unlike signal meta (epoch ms).
type CommandMeta struct {
	ExecutedAt        string  `json:"executedAt"`
	CompletedAt       string  `json:"completedAt"`
	DurationInSeconds float64 `json:"durationInSeconds"`
}

// executionPath is where a command execution is read back. Smartcar's spec has an operation
// "Retrieve the recorded result of a previously issued vehicle command" whose path was not
// captured; this is the sandbox's reading (docs/api-v3.md), the one place to change it.
func executionPath(vehicleID, execID string) string {
	return "/vehicles/" + vehicleID + "/command-executions/" + execID
}

// ExecutionsKept bounds the command executions remembered for lookup; older ones are
// forgotten (404), as a long-running sandbox must not grow without end.
const ExecutionsKept = 10000

// executionLog remembers command executions by id, with whom they belong to.
type executionLog struct {
	mu    sync.Mutex
	byID  map[string]recordedExecution
	order []string
}

type recordedExecution struct {
	clientID, userID, vehicleID string
	body                        CommandExecution
}

func (l *executionLog) add(e recordedExecution) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byID == nil {
		l.byID = map[string]recordedExecution{}
	}
	l.byID[e.body.Data.ID] = e
	l.order = append(l.order, e.body.Data.ID)
	if len(l.order) > ExecutionsKept {
		delete(l.byID, l.order[0])
		l.order = l.order[1:]
	}
}

func (l *executionLog) get(id string) (recordedExecution, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.byID[id]
	return e, ok
}

// commandSpec is one v3 command: its type, the permission it needs, how it reads its body
// (nil: it takes none) and what it does to the vehicle.
type commandSpec struct {
	commandType string
	permission  string
	// params reads the body's data.attributes into the execution's parameters; an error is
	// a VALIDATION error. It runs after authorization.
	params func(attrs map[string]json.RawMessage) (map[string]any, error)
	change func(v *sandbox.Vehicle, params map[string]any) *sandbox.Error
	// build, when set, replaces params and change for commands whose change needs more than
	// the echoed parameters (charge schedules): it reads the request (and its attributes when
	// withBody) and returns both.
	build    func(r *http.Request, attrs map[string]json.RawMessage) (map[string]any, func(*sandbox.Vehicle) *sandbox.Error, error)
	withBody bool
}

// command authorizes, reads the body, runs change on the vehicle atomically and answers with
// the command execution. The sandbox's "vehicle" reacts at once, so every command is
// synchronous (200, executionMode sync): the documented 202 is for real cars that take long.
func (a *API) command(w http.ResponseWriter, r *http.Request, spec commandSpec) error {
	id := mux.Vars(r)["id"]
	acc, err := a.Auth.Vehicle(r, id, spec.permission, scapi.ConnectOrApp)
	if err != nil {
		return err
	}
	var params map[string]any
	change := func(v *sandbox.Vehicle) *sandbox.Error { return spec.change(v, params) }
	if spec.params != nil || spec.withBody {
		attrs, err := readAttributes(r)
		if err != nil {
			return err
		}
		if spec.params != nil {
			if params, err = spec.params(attrs); err != nil {
				return err
			}
		} else if params, change, err = spec.build(r, attrs); err != nil {
			return err
		}
	} else if spec.build != nil {
		if params, change, err = spec.build(r, nil); err != nil {
			return err
		}
	}
	now := a.Now().UTC()
	_, err = a.Store.UpdateVehicle(acc.Vehicle.ID, func(v *sandbox.Vehicle) error {
		if e := change(v); e != nil {
			return e
		}
		// The vehicle records new data when it acts; signals' oemUpdatedAt and v2.0's
		// SC-Data-Age both read this one field.
		v.State.UpdatedAt = now
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return sandbox.Errorf(sandbox.TypeResourceNotFound, "PATH", "Vehicle %s does not exist in this sandbox.", id)
	}
	if err != nil {
		return err
	}
	newID := a.NewID
	if newID == nil {
		newID = sandbox.NewUUID
	}
	execID := "exec_" + newID()
	at := now.Format(time.RFC3339)
	body := CommandExecution{Data: CommandExecutionResource{
		ID:   execID,
		Type: "command-execution",
		Attributes: CommandAttributes{
			CommandType:   spec.commandType,
			Status:        SignalStatus{"SUCCESS"},
			ExecutionMode: "sync",
			Parameters:    params,
		},
		Meta:  CommandMeta{ExecutedAt: at, CompletedAt: at, DurationInSeconds: 0},
		Links: SelfLink{Self: executionPath(acc.Vehicle.ID, execID)},
	}}
	a.executions.add(recordedExecution{clientID: acc.Claims.ClientID, userID: acc.UserID, vehicleID: acc.Vehicle.ID, body: body})
	scapi.WriteJSON(w, http.StatusOK, body)
	return nil
}

// CommandExecution serves GET /v3/vehicles/{id}/command-executions/{executionId}: the recorded
// result of an earlier command, for the application and user that issued it.
func (a *API) CommandExecution(w http.ResponseWriter, r *http.Request) error {
	id, execID := mux.Vars(r)["id"], mux.Vars(r)["executionId"]
	acc, err := a.Auth.Vehicle(r, id, "", scapi.ConnectOrApp)
	if err != nil {
		return err
	}
	e, ok := a.executions.get(execID)
	if !ok || e.vehicleID != acc.Vehicle.ID || e.clientID != acc.Claims.ClientID || e.userID != acc.UserID {
		return sandbox.Errorf(sandbox.TypeResourceNotFound, "PATH", "No command execution %s for vehicle %s and this user (executions are kept in memory: the last %d, until a restart).", execID, id, ExecutionsKept)
	}
	scapi.WriteJSON(w, http.StatusOK, e.body)
	return nil
}

// badBody is the VALIDATION error of a command body; field names the attribute.
func badBody(field, format string, args ...any) error {
	why := fmt.Sprintf(format, args...)
	e := sandbox.NewError(sandbox.TypeValidation, "PARAMETER", why)
	e.Detail = []map[string]any{{"field": field, "message": why}}
	return e
}

// readAttributes reads a command body {"data":{"attributes":{...}}}, the JSON:API form every
// documented v3 command body takes.
func readAttributes(r *http.Request) (map[string]json.RawMessage, error) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, sandbox.NewError(sandbox.TypeValidation, "PARAMETER", "The request body could not be read (it may exceed the size limit).")
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, badBody("data", `the body is empty; send {"data":{"attributes":{…}}}`)
	}
	var body struct {
		Data *struct {
			Attributes map[string]json.RawMessage `json:"attributes"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return nil, badBody("data", `the body is not a JSON object; send {"data":{"attributes":{…}}}`)
	}
	if body.Data == nil || body.Data.Attributes == nil {
		return nil, badBody("data.attributes", `the body has no data.attributes object; send {"data":{"attributes":{…}}}`)
	}
	return body.Data.Attributes, nil
}

// number reads attrs[name] as a finite JSON number.
func number(attrs map[string]json.RawMessage, name string) (float64, error) {
	raw, ok := attrs[name]
	if !ok || string(raw) == "null" {
		return 0, badBody("data.attributes."+name, "%s is missing", name)
	}
	var n float64
	if err := json.Unmarshal(raw, &n); err != nil || math.IsInf(n, 0) || math.IsNaN(n) {
		return 0, badBody("data.attributes."+name, "%s is not a number", name)
	}
	return n, nil
}

func limitParams(attrs map[string]json.RawMessage) (map[string]any, error) {
	p, err := number(attrs, "percent")
	if err != nil {
		return nil, err
	}
	if p != math.Trunc(p) || p < MinChargeLimit || p > MaxChargeLimit {
		return nil, badBody("data.attributes.percent", "percent must be a whole number from %d to %d, got %v", MinChargeLimit, MaxChargeLimit, p)
	}
	return map[string]any{"percent": int(p)}, nil
}

// destinationParams checks the coordinates with Smartcar's own words for out-of-range values
// (the same as v2.0's send-destination).
func destinationParams(attrs map[string]json.RawMessage) (map[string]any, error) {
	lat, err := number(attrs, "latitude")
	if err != nil {
		return nil, err
	}
	lng, err := number(attrs, "longitude")
	if err != nil {
		return nil, err
	}
	if lat < -90 || lat > 90 {
		return nil, sandbox.InvalidParameter(fmt.Sprintf("latitude %v is outside -90..90", lat)).WithDescription(vehicleapi.InvalidLatitude)
	}
	if lng < -180 || lng > 180 {
		return nil, sandbox.InvalidParameter(fmt.Sprintf("longitude %v is outside -180..180", lng)).WithDescription(vehicleapi.InvalidLongitude)
	}
	return map[string]any{"latitude": lat, "longitude": lng}, nil
}

func setLocked(locked bool) func(*sandbox.Vehicle, map[string]any) *sandbox.Error {
	return func(v *sandbox.Vehicle, _ map[string]any) *sandbox.Error {
		if len(v.State.Security.Doors) == 0 {
			return sandbox.VehicleNotCapable("door locks")
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

// chargeCommand is the domain's charge rule (sandbox.Vehicle.ChargeCommand), shared with v2.0.
func chargeCommand(command string) func(*sandbox.Vehicle, map[string]any) *sandbox.Error {
	return func(v *sandbox.Vehicle, _ map[string]any) *sandbox.Error { return v.ChargeCommand(command) }
}

func chargePort(open bool) func(*sandbox.Vehicle, map[string]any) *sandbox.Error {
	return func(v *sandbox.Vehicle, _ map[string]any) *sandbox.Error { return v.ChargePortCommand(open) }
}

var commands = map[string]commandSpec{
	CmdLock:        {commandType: CmdLock, permission: "control_security", change: setLocked(true)},
	CmdUnlock:      {commandType: CmdUnlock, permission: "control_security", change: setLocked(false)},
	CmdStartCharge: {commandType: CmdStartCharge, permission: "control_charge", change: chargeCommand(sandbox.CommandStartCharge)},
	CmdStopCharge:  {commandType: CmdStopCharge, permission: "control_charge", change: chargeCommand(sandbox.CommandStopCharge)},
	CmdSetChargeLimit: {commandType: CmdSetChargeLimit, permission: "control_charge", params: limitParams,
		change: func(v *sandbox.Vehicle, p map[string]any) *sandbox.Error {
			return v.SetChargeLimit(float64(p["percent"].(int)) / 100)
		}},
	// The sandbox has no navigation state: a valid destination is acknowledged, as in v2.0.
	CmdSetDestination: {commandType: CmdSetDestination, permission: "control_navigation", params: destinationParams,
		change: func(*sandbox.Vehicle, map[string]any) *sandbox.Error { return nil }},
	CmdOpenChargePort:   {commandType: CmdOpenChargePort, permission: "control_charge", change: chargePort(true)},
	CmdCloseChargePort:  {commandType: CmdCloseChargePort, permission: "control_charge", change: chargePort(false)},
	CmdScheduleDaily:    {commandType: CmdScheduleDaily, permission: "control_charge", withBody: true, build: scheduleBuilder(sandbox.ScheduleDaily)},
	CmdScheduleWeekly:   {commandType: CmdScheduleWeekly, permission: "control_charge", withBody: true, build: scheduleBuilder(sandbox.ScheduleWeekly)},
	CmdScheduleWorkweek: {commandType: CmdScheduleWorkweek, permission: "control_charge", withBody: true, build: scheduleBuilder(sandbox.ScheduleWorkweek)},
	CmdScheduleDelete:   {commandType: CmdScheduleDelete, permission: "control_charge", build: deleteSchedule},
}

// Command returns the handler of one command type (Mount declares one per documented path).
func (a *API) Command(commandType string) scapi.HandlerFunc {
	spec, ok := commands[commandType]
	if !ok {
		panic("vehicleapiv3: unknown command " + commandType) // a programming error in the routes
	}
	return func(w http.ResponseWriter, r *http.Request) error { return a.command(w, r, spec) }
}

// CommandPaths maps each documented command path (after /v3/vehicles/{id}/commands/) to its
// command type: the routes Mount declares.
var CommandPaths = []struct{ Path, Type string }{
	{"security/lock", CmdLock},
	{"security/unlock", CmdUnlock},
	{"charge/start", CmdStartCharge},
	{"charge/stop", CmdStopCharge},
	{"charge/set-limit", CmdSetChargeLimit},
	{"navigation/set-destination", CmdSetDestination},
	{"charge-port/open", CmdOpenChargePort},
	{"charge-port/close", CmdCloseChargePort},
}

// SchedulePaths maps each charge-schedule path (after /v3/vehicles/{id}/charge-schedules/) to
// its command type: POST for the kinds; DELETE {scheduleId} is CmdScheduleDelete.
var SchedulePaths = []struct{ Path, Type string }{
	{sandbox.ScheduleDaily, CmdScheduleDaily},
	{sandbox.ScheduleWeekly, CmdScheduleWeekly},
	{sandbox.ScheduleWorkweek, CmdScheduleWorkweek},
}
