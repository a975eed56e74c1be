package vehicleapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
)

// What the official Node SDK's end-to-end suite (test/end-to-end/vehicle.js, util.js) compares
// word for word, and the versions it talks: /v2.0 and /v1.0 (setApiVersion('1.0')).
const (
	descAuthentication = "The authorization header is missing or malformed, or it contains invalid or expired authentication credentials. Please check for missing parameters, spelling and casing mistakes, and other syntax issues."
	descValidation     = "Request invalid or malformed. Please check for missing parameters, spelling and casing mistakes, and other syntax issues."
	descPermission     = "Your application has insufficient permissions to access the requested resource. Please prompt the user to re-authenticate using Smartcar Connect."
	descUnknownState   = "The vehicle was unable to perform your request due to an unknown issue."
	descVehicleMissing = "This vehicle is no longer associated with the user's connected services account. Please prompt the user to re-add the vehicle to their account."
)

var versions = []string{"/v2.0", "/v1.0"}

// wireError is a Smartcar error body as the SDKs read it.
type wireError struct {
	Type        string  `json:"type"`
	Code        *string `json:"code"`
	Description string  `json:"description"`
	DocURL      string  `json:"docURL"`
	StatusCode  int     `json:"statusCode"`
	RequestID   string  `json:"requestId"`
	Resolution  struct {
		Type *string `json:"type"`
	} `json:"resolution"`
}

// sdkMessage is the Node SDK's SmartcarError.message for the body: type:code - description.
func (e wireError) sdkMessage() string {
	code := "null"
	if e.Code != nil {
		code = *e.Code
	}
	return e.Type + ":" + code + " - " + e.Description
}

func (e wireError) resolution() string {
	if e.Resolution.Type == nil {
		return "<null>"
	}
	return *e.Resolution.Type
}

func wireErrorOf(t *testing.T, res *sandboxtest.Response) wireError {
	t.Helper()
	errorOf(t, res) // every key present, statusCode = HTTP status
	var e wireError
	res.JSON(t, &e)
	if e.RequestID != res.Header.Get("SC-Request-Id") || len(e.RequestID) != 36 {
		t.Errorf("requestId %q, SC-Request-Id %q", e.RequestID, res.Header.Get("SC-Request-Id"))
	}
	return e
}

// Commands answer Smartcar's message; the application disconnect answers status alone (the
// Node suite's disconnect test allows no other key).
func TestCommandsAnswerSmartcarsMessage(t *testing.T) {
	for _, ver := range versions {
		h := sandboxtest.MustStart(t)
		tok, _ := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, sandboxtest.AllPermissions()...)
		v := ver + "/vehicles/" + teslaID
		tests := []struct {
			name, path string
			body       any
		}{
			{"lock", "/security", map[string]string{"action": "LOCK"}},
			{"unlock", "/security", map[string]string{"action": "UNLOCK"}},
			{"stop charge", "/charge", map[string]string{"action": "STOP"}},
			{"start charge", "/charge", map[string]string{"action": "START"}},
			{"set charge limit (Node: a string)", "/charge/limit", map[string]string{"limit": "0.9"}},
			{"set charge limit (Python: a number)", "/charge/limit", map[string]float64{"limit": 0.8}},
			{"send destination", "/navigation/destination", map[string]float64{"latitude": 37.7749, "longitude": -122.4194}},
		}
		for _, tt := range tests {
			t.Run(ver+" "+tt.name, func(t *testing.T) {
				res := h.Do(t, http.MethodPost, v+tt.path, tok, tt.body)
				if res.Status != http.StatusOK || string(res.Body) != commandSent {
					t.Errorf("got %d %s, want 200 %s", res.Status, res.Body, commandSent)
				}
			})
		}
		t.Run(ver+" disconnect", func(t *testing.T) {
			res := h.Do(t, http.MethodDelete, v+"/application", tok, nil)
			if res.Status != http.StatusOK || string(res.Body) != `{"status":"success"}` {
				t.Errorf("got %d %s, want 200 {\"status\":\"success\"}", res.Status, res.Body)
			}
		})
	}
}

// Coordinates out of range: the Node SDK refuses them itself before sending, with these
// messages; the sandbox answers any other client with the same words, as a VALIDATION error.
func TestDestinationOutOfRange(t *testing.T) {
	h := sandboxtest.MustStart(t)
	tok, _ := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, "control_navigation")
	tests := []struct {
		lat, lng float64
		want     string
	}{
		{100, -122.4194, "Invalid latitude value. It must be between -90 and 90."},
		{-91, -122.4194, "Invalid latitude value. It must be between -90 and 90."},
		{100, 200, "Invalid latitude value. It must be between -90 and 90."}, // latitude first, as the SDK checks
		{37.7749, 200, "Invalid longitude value. It must be between -180 and 180."},
		{37.7749, -181, "Invalid longitude value. It must be between -180 and 180."},
	}
	for _, ver := range versions {
		for _, tt := range tests {
			res := h.Do(t, http.MethodPost, ver+"/vehicles/"+fordID+"/navigation/destination", tok, map[string]float64{"latitude": tt.lat, "longitude": tt.lng})
			e := wireErrorOf(t, res)
			if res.Status != http.StatusBadRequest || e.Type != "VALIDATION" || e.Description != tt.want {
				t.Errorf("%s (%v, %v): got %d %s %q, want 400 VALIDATION %q", ver, tt.lat, tt.lng, res.Status, e.Type, e.Description, tt.want)
			}
		}
	}
	// The edges are valid.
	res := h.Do(t, http.MethodPost, "/v2.0/vehicles/"+fordID+"/navigation/destination", tok, map[string]float64{"latitude": -90, "longitude": 180})
	if res.Status != http.StatusOK {
		t.Errorf("(-90, 180): %d %s", res.Status, res.Body)
	}
}

// Every error type the Node suite compares carries Smartcar's description, resolution and
// docURL, whatever the sandbox-specific cause; the cause goes to the request log's note.
func TestErrorsCarrySmartcarsTexts(t *testing.T) {
	h := sandboxtest.MustStartWith(t, sandboxtest.Options{FaultHeader: true})
	tok, _ := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, "read_odometer", "read_vehicle_info")
	revoked, _ := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, "read_odometer")
	var list struct {
		Tokens []struct{ ID string } `json:"tokens"`
	}
	h.Admin(t, http.MethodGet, "/admin/tokens", nil).JSON(t, &list)
	if res := h.Admin(t, http.MethodPost, "/admin/tokens/"+list.Tokens[0].ID+"/revoke", nil); res.Status != http.StatusOK {
		t.Fatalf("revoke: %d %s", res.Status, res.Body)
	}
	basicABC := basic("abc", "def") // the Node suite's 'override auth' test

	tests := []struct {
		name, method, path, tok string
		hdr                     []string
		status                  int
		message, resolution     string
		docURL                  string
		note                    string // what the request log's note must mention
	}{
		{"no authorization header", "GET", "/vehicles/" + teslaID + "/odometer", "", nil,
			401, "AUTHENTICATION:null - " + descAuthentication, "<null>", "https://smartcar.com/docs/errors/api-errors/authentication-errors#null", "No Authorization header"},
		{"Bearer abc", "GET", "/vehicles/" + teslaID + "/odometer", "abc", nil,
			401, "AUTHENTICATION:null - " + descAuthentication, "<null>", "https://smartcar.com/docs/errors/api-errors/authentication-errors#null", "not one this sandbox issued"},
		{"Basic credentials", "GET", "/vehicles/" + teslaID + "/odometer", "", []string{"Authorization", basicABC},
			401, "AUTHENTICATION:null - " + descAuthentication, "<null>", "https://smartcar.com/docs/errors/api-errors/authentication-errors#null", "Bearer"},
		{"revoked token", "GET", "/vehicles/" + teslaID + "/odometer", revoked, nil,
			401, "AUTHENTICATION:null - " + descAuthentication, "<null>", "https://smartcar.com/docs/errors/api-errors/authentication-errors#null", "revoked"},
		{"permission not granted", "GET", "/vehicles/" + teslaID + "/location", tok, nil,
			403, "PERMISSION:null - " + descPermission, "REAUTHENTICATE", "https://smartcar.com/docs/errors/api-errors/permission-errors#null", "read_location"},
		{"vehicle id not a UUID", "GET", "/vehicles/not-a-vehicle/odometer", tok, nil,
			400, "VALIDATION:null - " + descValidation, "<null>", "https://smartcar.com/docs/errors/api-errors/validation-errors#null", `"not-a-vehicle" is not a UUID`},
		{"webhook id not a UUID", "POST", "/vehicles/" + teslaID + "/webhooks/webhookID", tok, nil,
			400, "VALIDATION:null - " + descValidation, "<null>", "https://smartcar.com/docs/errors/api-errors/validation-errors#null", `"webhookID" is not a UUID`},
		{"vehicle state unknown", "GET", "/vehicles/" + teslaID + "/odometer", tok, []string{"SC-Sandbox-Fault", "VEHICLE_STATE:UNKNOWN"},
			409, "VEHICLE_STATE:UNKNOWN - " + descUnknownState, "RETRY_LATER", "https://smartcar.com/docs/errors/api-errors/vehicle-state-errors#unknown", "Injected"},
		{"vehicle missing", "GET", "/vehicles/" + teslaID + "/odometer", tok, []string{"SC-Sandbox-Fault", "CONNECTED_SERVICES_ACCOUNT:VEHICLE_MISSING"},
			400, "CONNECTED_SERVICES_ACCOUNT:VEHICLE_MISSING - " + descVehicleMissing, "<null>", "https://smartcar.com/docs/errors/api-errors/connected-services-account-errors#vehicle-missing", "Injected"},
	}
	for _, ver := range versions {
		for _, tt := range tests {
			t.Run(ver+" "+tt.name, func(t *testing.T) {
				res := h.Do(t, tt.method, ver+tt.path, tt.tok, nil, tt.hdr...)
				e := wireErrorOf(t, res)
				if res.Status != tt.status || e.sdkMessage() != tt.message {
					t.Fatalf("got %d %q, want %d %q", res.Status, e.sdkMessage(), tt.status, tt.message)
				}
				if e.resolution() != tt.resolution || e.DocURL != tt.docURL {
					t.Errorf("resolution %s docURL %s, want %s %s", e.resolution(), e.DocURL, tt.resolution, tt.docURL)
				}
				if note := h.Note(t, res); !strings.Contains(note, tt.note) {
					t.Errorf("request log note %q does not mention %q", note, tt.note)
				}
			})
		}
	}
}

// Smartcar's order of checks, everywhere: authentication (401), then the request's own
// validity (400: ids, body, query), then lookups (404) and the permission (403).
func TestChecksInSmartcarsOrder(t *testing.T) {
	h := sandboxtest.MustStart(t)
	// Only read_odometer: every command below lacks its permission.
	tok, _ := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, "read_odometer")
	unknownUUID := "0b7c6a4e-1f2a-4c3b-9d8e-7f6a5b4c3d2e"
	mgmtBearer := []string{"Authorization", "Bearer " + sandboxtest.ManagementToken}
	tests := []struct {
		name, method, path, tok string
		body                    any
		hdr                     []string
		status                  int
		typ                     string
	}{
		// The Node suite's two webhook error tests.
		{"subscribe to a malformed webhook id", "POST", "/vehicles/" + teslaID + "/webhooks/webhookID", tok, nil, nil, 400, "VALIDATION"},
		{"unsubscribe with a bogus token", "DELETE", "/vehicles/" + teslaID + "/webhooks/webhookID", "amt", nil, nil, 401, "AUTHENTICATION"},
		{"unsubscribe, malformed webhook id", "DELETE", "/vehicles/" + teslaID + "/webhooks/webhookID", "", nil, mgmtBearer, 400, "VALIDATION"},
		{"unsubscribe, malformed vehicle id", "DELETE", "/vehicles/x/webhooks/" + unknownUUID, "", nil, mgmtBearer, 400, "VALIDATION"},
		{"unsubscribe, unknown webhook", "DELETE", "/vehicles/" + teslaID + "/webhooks/" + unknownUUID, "", nil, mgmtBearer, 404, "RESOURCE_NOT_FOUND"},
		{"subscribe, unknown webhook", "POST", "/vehicles/" + teslaID + "/webhooks/" + unknownUUID, tok, nil, nil, 404, "RESOURCE_NOT_FOUND"},
		// Authentication before validation.
		{"malformed id, no token", "GET", "/vehicles/not-a-uuid/odometer", "", nil, nil, 401, "AUTHENTICATION"},
		{"bad body, no token", "POST", "/vehicles/" + teslaID + "/security", "", `{"action":"OPEN"}`, nil, 401, "AUTHENTICATION"},
		// Validation before lookup and permission.
		{"malformed id", "GET", "/vehicles/not-a-uuid/odometer", tok, nil, nil, 400, "VALIDATION"},
		{"malformed id with an encoded slash", "GET", "/vehicles/" + teslaID + "%2Fodometer", tok, nil, nil, 400, "VALIDATION"},
		{"bad action without control_security", "POST", "/vehicles/" + teslaID + "/security", tok, `{"action":"OPEN"}`, nil, 400, "VALIDATION"},
		{"bad limit without control_charge", "POST", "/vehicles/" + teslaID + "/charge/limit", tok, `{"limit":7}`, nil, 400, "VALIDATION"},
		{"bad coordinates without control_navigation", "POST", "/vehicles/" + teslaID + "/navigation/destination", tok, `{"latitude":91,"longitude":0}`, nil, 400, "VALIDATION"},
		{"bad date without read_service_history", "GET", "/vehicles/" + fordID + "/service/history?start_date=soon", tok, nil, nil, 400, "VALIDATION"},
		{"bad unit system without read_location", "GET", "/vehicles/" + teslaID + "/location", tok, nil, []string{"SC-Unit-System", "furlongs"}, 400, "VALIDATION"},
		{"batch without requests", "POST", "/vehicles/not-a-uuid/batch", tok, `{}`, nil, 400, "VALIDATION"},
		// Then lookups and permissions.
		{"well-formed action without control_security", "POST", "/vehicles/" + teslaID + "/security", tok, `{"action":"LOCK"}`, nil, 403, "PERMISSION"},
		{"vehicle not in the token", "GET", "/vehicles/" + unknownUUID + "/odometer", tok, nil, nil, 403, "PERMISSION"},
	}
	for _, ver := range versions {
		for _, tt := range tests {
			t.Run(ver+" "+tt.name, func(t *testing.T) {
				res := h.Do(t, tt.method, ver+tt.path, tt.tok, tt.body, tt.hdr...)
				e := wireErrorOf(t, res)
				if res.Status != tt.status || e.Type != tt.typ {
					t.Errorf("got %d %s, want %d %s: %s", res.Status, e.Type, tt.status, tt.typ, res.Body)
				}
				if tt.typ == "VALIDATION" && e.Description != descValidation && !strings.HasPrefix(e.Description, "Invalid ") &&
					e.Description != "Your request is formatted correctly, but one or more of the provided parameters is incorrect." {
					t.Errorf("VALIDATION description %q is not Smartcar's", e.Description)
				}
			})
		}
	}
}

// The batch answers on v1.0 as on v2.0, with the headers the Node suite's 'vehicle request -
// batch' test reads from each item.
func TestBatchOnEveryVersion(t *testing.T) {
	h := sandboxtest.MustStart(t)
	tok, _ := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, sandboxtest.AllPermissions()...)
	bodies := map[string]string{}
	for _, ver := range versions {
		res := h.Do(t, http.MethodPost, ver+"/vehicles/"+fordID+"/batch", tok,
			map[string]any{"requests": []map[string]string{{"path": "/odometer"}, {"path": "/tires/pressure"}}})
		if res.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", ver, res.Status, res.Body)
		}
		var got struct {
			Responses []struct {
				Path    string            `json:"path"`
				Code    int               `json:"code"`
				Headers map[string]string `json:"headers"`
				Body    json.RawMessage   `json:"body"`
			} `json:"responses"`
		}
		res.JSON(t, &got)
		if len(got.Responses) != 2 {
			t.Fatalf("%s: %s", ver, res.Body)
		}
		for i, want := range []string{"/odometer", "/tires/pressure"} {
			r := got.Responses[i]
			if r.Path != want || r.Code != 200 || r.Headers["sc-unit-system"] != "metric" || r.Headers["sc-data-age"] == "" {
				t.Errorf("%s item %d: %+v", ver, i, r)
			}
			bodies[ver] += string(r.Body)
		}
	}
	if bodies["/v1.0"] != bodies["/v2.0"] {
		t.Errorf("v1.0 bodies %s differ from v2.0 %s", bodies["/v1.0"], bodies["/v2.0"])
	}
}
