package vehicleapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
)

func TestReadsGolden(t *testing.T) {
	h := sandboxtest.MustStart(t)
	tok, _ := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, sandboxtest.AllPermissions()...)
	famTok, _ := h.Connect(t, sandboxtest.ClientID, "family@sandbox.test", sandboxtest.AllPermissions()...)
	tests := []struct {
		name, tok, vehicle, path, units string
	}{
		{"attributes", tok, teslaID, "", ""},
		{"attributes_trailing_slash", tok, teslaID, "/", ""},
		{"vin", tok, teslaID, "/vin", ""},
		{"odometer", tok, teslaID, "/odometer", ""},
		{"odometer_imperial", tok, teslaID, "/odometer", "imperial"},
		{"location", tok, teslaID, "/location", ""},
		{"fuel", tok, fordID, "/fuel", ""},
		{"fuel_imperial", tok, fordID, "/fuel", "imperial"},
		{"battery", tok, teslaID, "/battery", ""},
		{"battery_imperial", tok, teslaID, "/battery", "imperial"},
		{"battery_capacity", tok, teslaID, "/battery/capacity", ""},
		{"battery_nominal_capacity", tok, teslaID, "/battery/nominal_capacity", ""},
		{"charge", tok, teslaID, "/charge", ""},
		{"charge_limit", tok, teslaID, "/charge/limit", ""},
		{"engine_oil", tok, fordID, "/engine/oil", ""},
		{"tires_pressure", tok, fordID, "/tires/pressure", "metric"},
		{"tires_pressure_imperial", tok, fordID, "/tires/pressure", "imperial"},
		{"security", tok, teslaID, "/security", ""},
		{"security_open_window", famTok, civicID, "/security", ""},
		{"permissions", tok, teslaID, "/permissions", ""},
		{"permissions_paged", tok, teslaID, "/permissions?limit=3&offset=2", ""},
		{"service_history", tok, fordID, "/service/history", ""},
		{"service_history_filtered", tok, fordID, "/service/history?start_date=2023-01-01&end_date=2023-12-31", ""},
		{"system_status", famTok, civicID, "/diagnostics/system_status", ""},
		{"system_status_bev", tok, teslaID, "/diagnostics/system_status", ""},
		{"dtcs", famTok, civicID, "/diagnostics/dtcs", ""},
		{"dtcs_none", tok, teslaID, "/diagnostics/dtcs", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hdr []string
			if tt.units != "" {
				hdr = []string{"SC-Unit-System", tt.units}
			}
			res := h.Do(t, http.MethodGet, "/v2.0/vehicles/"+tt.vehicle+tt.path, tt.tok, nil, hdr...)
			if res.Status != http.StatusOK {
				t.Fatalf("status %d: %s", res.Status, res.Body)
			}
			want := tt.units
			if want == "" {
				want = "metric"
			}
			if got := res.Header.Get("SC-Unit-System"); got != want {
				t.Errorf("SC-Unit-System = %q, want %q", got, want)
			}
			if got, want := res.Header.Get("SC-Fetched-At"), h.Clock.Now().UTC().Format("2006-01-02T15:04:05.000Z"); got != want {
				t.Errorf("SC-Fetched-At = %q, want %q", got, want)
			}
			golden(t, "read_"+tt.name, res)
		})
	}
}

func TestUnitConversion(t *testing.T) {
	h := sandboxtest.MustStart(t)
	tok, _ := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, "read_odometer", "read_fuel", "read_tires")
	v, _ := h.Store.Vehicle(fordID)
	tests := []struct {
		path, field string
		metric      float64
		factor      float64
	}{
		{"/odometer", "distance", v.State.OdometerKm, 0.621371192237334},
		{"/fuel", "amountRemaining", v.State.Fuel.AmountLiters, 0.264172052358148},
		{"/fuel", "range", v.State.Fuel.RangeKm, 0.621371192237334},
		{"/tires/pressure", "frontLeft", v.State.Tires.FrontLeft, 0.145037737730209},
	}
	for _, tt := range tests {
		m := h.Do(t, "GET", "/v2.0/vehicles/"+fordID+tt.path, tok, nil).Map(t)
		i := h.Do(t, "GET", "/v2.0/vehicles/"+fordID+tt.path, tok, nil, "SC-Unit-System", "imperial").Map(t)
		if got := m[tt.field].(float64); got != tt.metric {
			t.Errorf("%s %s metric = %v, want %v", tt.path, tt.field, got, tt.metric)
		}
		want := float64(int64(tt.metric*tt.factor*100+0.5)) / 100
		if got := i[tt.field].(float64); got != want {
			t.Errorf("%s %s imperial = %v, want %v", tt.path, tt.field, got, want)
		}
	}
}

func TestUserAndVehicles(t *testing.T) {
	h := sandboxtest.MustStart(t)
	tok, acct := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, "read_vehicle_info")
	res := h.Do(t, "GET", "/v2.0/user/", tok, nil)
	if got := res.Map(t)["id"]; got != acct.UserID {
		t.Errorf("user id = %v, want %s", got, acct.UserID)
	}
	golden(t, "user", res)
	golden(t, "vehicles", h.Do(t, "GET", "/v2.0/vehicles/", tok, nil))

	tests := []struct {
		query string
		want  []string
	}{
		{"", acct.VehicleIDs},
		{"?limit=2", acct.VehicleIDs[:2]},
		{"?limit=2&offset=2", acct.VehicleIDs[2:]},
		{"?offset=5", nil},
		{"?limit=50", acct.VehicleIDs},
	}
	for _, tt := range tests {
		var got struct {
			Vehicles []string `json:"vehicles"`
			Paging   struct{ Count, Offset int }
		}
		h.Do(t, "GET", "/v2.0/vehicles"+tt.query, tok, nil).JSON(t, &got)
		if fmt.Sprint(got.Vehicles) != fmt.Sprint(tt.want) && !(len(got.Vehicles) == 0 && len(tt.want) == 0) {
			t.Errorf("%s: vehicles = %v, want %v", tt.query, got.Vehicles, tt.want)
		}
		if got.Paging.Count != len(acct.VehicleIDs) {
			t.Errorf("%s: count = %d, want the total %d", tt.query, got.Paging.Count, len(acct.VehicleIDs))
		}
	}
	for _, q := range []string{"?limit=51", "?limit=0", "?limit=x", "?offset=-1"} {
		res := h.Do(t, "GET", "/v2.0/vehicles"+q, tok, nil)
		if e := errorOf(t, res); e.Type != "VALIDATION" {
			t.Errorf("%s: %d %s, want VALIDATION", q, res.Status, e.Type)
		}
	}
}

func TestErrors(t *testing.T) {
	h := sandboxtest.MustStart(t)
	tok, _ := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, "read_vehicle_info", "read_fuel", "read_battery")
	evTok, _ := h.Connect(t, sandboxtest.ClientID, "ev@sandbox.test", "control_charge", "read_charge")
	odo := "/v2.0/vehicles/" + teslaID + "/odometer"
	tests := []struct {
		name, method, path, tok string
		body                    any
		hdr                     []string
		status                  int
		typ, code               string
	}{
		{"auth_missing", "GET", odo, "", nil, nil, 401, "AUTHENTICATION", "<null>"},
		{"auth_malformed", "GET", odo, "", nil, []string{"Authorization", "Token abc"}, 401, "AUTHENTICATION", "<null>"},
		{"auth_invalid", "GET", odo, "not-a-token", nil, nil, 401, "AUTHENTICATION", "<null>"},
		{"permission", "GET", odo, tok, nil, nil, 403, "PERMISSION", "<null>"},
		{"vehicle_not_in_token", "GET", "/v2.0/vehicles/" + boltID, tok, nil, nil, 403, "PERMISSION", "<null>"},
		{"path_not_found", "GET", "/v2.0/vehicles/" + teslaID + "/warp_drive", tok, nil, nil, 404, "RESOURCE_NOT_FOUND", "PATH"},
		{"invalid_unit_system", "GET", "/v2.0/vehicles/" + teslaID, tok, nil, []string{"SC-Unit-System", "furlongs"}, 400, "VALIDATION", "PARAMETER"},
		{"fuel_on_bev", "GET", "/v2.0/vehicles/" + teslaID + "/fuel", tok, nil, nil, 501, "COMPATIBILITY", "VEHICLE_NOT_CAPABLE"},
		{"battery_on_ice", "GET", "/v2.0/vehicles/" + fordID + "/battery", tok, nil, nil, 501, "COMPATIBILITY", "VEHICLE_NOT_CAPABLE"},
		{"charge_unplugged", "POST", "/v2.0/vehicles/" + boltID + "/charge", evTok, map[string]string{"action": "START"}, nil, 409, "VEHICLE_STATE", "CHARGING_PLUG_NOT_CONNECTED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.Do(t, tt.method, tt.path, tt.tok, tt.body, tt.hdr...)
			e := errorOf(t, res)
			if res.Status != tt.status || e.Type != tt.typ || code(e) != tt.code {
				t.Fatalf("got %d %s:%s, want %d %s:%s (%s)", res.Status, e.Type, code(e), tt.status, tt.typ, tt.code, e.Description)
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q", ct)
			}
			golden(t, "error_"+tt.name, res)
		})
	}

	t.Run("auth_expired", func(t *testing.T) {
		h.Clock.Advance(2*time.Hour + time.Second)
		res := h.Do(t, "GET", "/v2.0/vehicles/"+teslaID, tok, nil)
		if e := errorOf(t, res); res.Status != 401 || e.Type != "AUTHENTICATION" {
			t.Fatalf("got %d %s %q, want 401 AUTHENTICATION", res.Status, e.Type, e.Description)
		}
		// Why is the sandbox's note, in the request log; the description is Smartcar's.
		if note := h.Note(t, res); !strings.Contains(note, "expired") {
			t.Errorf("note %q does not say the token expired", note)
		}
	})
}

func TestDisconnect(t *testing.T) {
	h := sandboxtest.MustStart(t)
	tok, acct := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, "read_odometer")
	res := h.Do(t, "DELETE", "/v2.0/vehicles/"+teslaID+"/application", tok, nil)
	if res.Status != 200 {
		t.Fatalf("disconnect: %d %s", res.Status, res.Body)
	}
	golden(t, "command_disconnect", res)
	res = h.Do(t, "GET", "/v2.0/vehicles/"+teslaID+"/odometer", tok, nil)
	if e := errorOf(t, res); res.Status != 401 || e.Type != "AUTHENTICATION" {
		t.Fatalf("after disconnect: %d %s, want 401 AUTHENTICATION", res.Status, e.Type)
	}
	golden(t, "error_after_disconnect", res)
	// The other vehicles stay connected, and the list no longer shows the disconnected one.
	if res := h.Do(t, "GET", "/v2.0/vehicles/"+fordID+"/odometer", tok, nil); res.Status != 200 {
		t.Errorf("other vehicle: %d %s", res.Status, res.Body)
	}
	var list struct{ Vehicles []string }
	h.Do(t, "GET", "/v2.0/vehicles", tok, nil).JSON(t, &list)
	if len(list.Vehicles) != len(acct.VehicleIDs)-1 || contains(list.Vehicles, teslaID) {
		t.Errorf("vehicles after disconnect = %v", list.Vehicles)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestLockUnlock(t *testing.T) {
	h := sandboxtest.MustStart(t)
	tok, _ := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, "read_security", "control_security")
	path := "/v2.0/vehicles/" + fordID + "/security"
	var sec struct {
		IsLocked bool `json:"isLocked"`
		Doors    []struct{ Type, Status string }
	}
	h.Do(t, "GET", path, tok, nil).JSON(t, &sec)
	if sec.IsLocked {
		t.Fatal("fixture F-150 should start unlocked")
	}
	for _, step := range []struct {
		action, door string
		locked       bool
	}{{"LOCK", "LOCKED", true}, {"UNLOCK", "UNLOCKED", false}, {"LOCK", "LOCKED", true}} {
		res := h.Do(t, "POST", path, tok, map[string]string{"action": step.action})
		if res.Status != 200 || string(res.Body) != commandSent {
			t.Fatalf("%s: %d %s", step.action, res.Status, res.Body)
		}
		h.Clock.Advance(time.Minute)
		res = h.Do(t, "GET", path, tok, nil)
		res.JSON(t, &sec)
		if sec.IsLocked != step.locked {
			t.Errorf("after %s isLocked = %v", step.action, sec.IsLocked)
		}
		for _, d := range sec.Doors {
			if d.Status != step.door {
				t.Errorf("after %s door %s = %s, want %s", step.action, d.Type, d.Status, step.door)
			}
		}
		if len(sec.Doors) == 0 {
			t.Error("no doors")
		}
		// A command is the vehicle reporting: the data age moves to the command's time.
		if got, want := res.Header.Get("SC-Data-Age"), h.Clock.Now().Add(-time.Minute).UTC().Format("2006-01-02T15:04:05.000Z"); got != want {
			t.Errorf("after %s SC-Data-Age = %s, want %s", step.action, got, want)
		}
	}
	golden(t, "command_lock_then_read", h.Do(t, "GET", path, tok, nil))
}

func TestCharge(t *testing.T) {
	h := sandboxtest.MustStart(t)
	tok, _ := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, "read_charge", "control_charge")
	base := "/v2.0/vehicles/" + teslaID
	state := func() string {
		var c struct{ State string }
		h.Do(t, "GET", base+"/charge", tok, nil).JSON(t, &c)
		return c.State
	}
	limit := func() float64 {
		var c struct{ Limit float64 }
		h.Do(t, "GET", base+"/charge/limit", tok, nil).JSON(t, &c)
		return c.Limit
	}
	post := func(path string, body any) {
		t.Helper()
		res := h.Do(t, "POST", base+path, tok, body)
		if res.Status != 200 || string(res.Body) != commandSent {
			t.Fatalf("POST %s %v: %d %s", path, body, res.Status, res.Body)
		}
	}
	// The Model 3 is plugged in at 73 % with a 90 % limit.
	steps := []struct {
		path      string
		body      any
		wantState string
		wantLimit float64
	}{
		{"/charge", map[string]string{"action": "STOP"}, "NOT_CHARGING", 0.9},
		{"/charge", map[string]string{"action": "START"}, "CHARGING", 0.9},
		{"/charge/limit", map[string]string{"limit": "0.7"}, "FULLY_CHARGED", 0.7}, // Node sends a string
		{"/charge/limit", map[string]float64{"limit": 0.8}, "CHARGING", 0.8},       // Python a number
		{"/charge", map[string]string{"action": "STOP"}, "NOT_CHARGING", 0.8},
		{"/charge/limit", map[string]float64{"limit": 0.5}, "NOT_CHARGING", 0.5},
		{"/charge", map[string]string{"action": "START"}, "FULLY_CHARGED", 0.5},
		{"/charge/limit", map[string]float64{"limit": 1}, "CHARGING", 1},
	}
	for i, s := range steps {
		post(s.path, s.body)
		if got := state(); got != s.wantState {
			t.Errorf("step %d: state = %s, want %s", i, got, s.wantState)
		}
		if got := limit(); got != s.wantLimit {
			t.Errorf("step %d: limit = %v, want %v", i, got, s.wantLimit)
		}
	}
	golden(t, "command_charge_limit_then_read", h.Do(t, "GET", base+"/charge/limit", tok, nil))

	// STOP on an unplugged car is a vehicle-state error too, and changes nothing.
	evTok, _ := h.Connect(t, sandboxtest.ClientID, "ev@sandbox.test", "read_charge", "control_charge")
	res := h.Do(t, "POST", "/v2.0/vehicles/"+boltID+"/charge", evTok, map[string]string{"action": "STOP"})
	if e := errorOf(t, res); res.Status != 409 || code(e) != "CHARGING_PLUG_NOT_CONNECTED" {
		t.Errorf("STOP unplugged: %d %s", res.Status, res.Body)
	}
	// Charging commands on a car without a plug.
	res = h.Do(t, "POST", "/v2.0/vehicles/"+fordID+"/charge", tok, map[string]string{"action": "START"})
	if e := errorOf(t, res); res.Status != 501 || code(e) != "VEHICLE_NOT_CAPABLE" {
		t.Errorf("START on ICE: %d %s", res.Status, res.Body)
	}
}

func TestCommandValidation(t *testing.T) {
	h := sandboxtest.MustStart(t)
	tok, _ := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, "control_security", "control_charge", "control_navigation", "read_odometer")
	v := "/v2.0/vehicles/" + teslaID
	huge := `{"action":"LOCK","pad":"` + strings.Repeat("x", 2<<20) + `"}`
	// The description is Smartcar's for the type and code; what was wrong is in detail.
	tests := []struct {
		name, path string
		body       any
		wantDetail string
	}{
		{"missing_action", "/security", `{}`, `"action"`},
		{"unknown_action", "/security", `{"action":"OPEN_SESAME"}`, "OPEN_SESAME"},
		{"lowercase_action", "/charge", `{"action":"start"}`, "start"},
		{"malformed_json", "/security", `{"action":`, "not valid JSON"},
		{"not_an_object", "/security", `["LOCK"]`, "JSON object"},
		{"wrong_type", "/security", `{"action":1}`, `"action"`},
		{"empty_body", "/charge", ``, "empty"},
		{"two_objects", "/security", `{"action":"LOCK"}{"action":"LOCK"}`, "exactly one"},
		{"oversize", "/security", huge, "too large"},
		{"limit_zero", "/charge/limit", `{"limit":0}`, "greater than 0"},
		{"limit_above_one", "/charge/limit", `{"limit":"1.5"}`, "at most 1"},
		{"limit_not_number", "/charge/limit", `{"limit":"lots"}`, "lots"},
		{"limit_bool", "/charge/limit", `{"limit":true}`, "number"},
		{"limit_missing", "/charge/limit", `{}`, `"limit"`},
		{"destination_missing", "/navigation/destination", `{"latitude":1}`, "longitude"},
		{"destination_range", "/navigation/destination", `{"latitude":91,"longitude":0}`, "outside -90..90"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.Do(t, "POST", v+tt.path, tok, tt.body)
			e := errorOf(t, res)
			if res.Status != 400 || e.Type != "VALIDATION" {
				t.Fatalf("got %d %s, want 400 VALIDATION: %s", res.Status, e.Type, res.Body)
			}
			if d := detailMessage(t, res); !strings.Contains(d, tt.wantDetail) {
				t.Errorf("detail %q does not mention %q", d, tt.wantDetail)
			}
			if c := code(e); c != "<null>" && c != "PARAMETER" {
				t.Errorf("code = %s", c)
			}
		})
	}
	golden(t, "error_validation_action", h.Do(t, "POST", v+"/security", tok, `{"action":"OPEN_SESAME"}`))
	// Nothing above changed the vehicle.
	got, _ := h.Store.Vehicle(teslaID)
	if got.State.Charge.Limit != 0.9 {
		t.Errorf("charge limit changed to %v by invalid requests", got.State.Charge.Limit)
	}
	res := h.Do(t, "POST", v+"/navigation/destination", tok, map[string]float64{"latitude": 37.4, "longitude": -122.1})
	if res.Status != 200 || string(res.Body) != commandSent {
		t.Errorf("destination: %d %s", res.Status, res.Body)
	}
	golden(t, "command_destination", res)
}

func TestBatch(t *testing.T) {
	h := sandboxtest.MustStart(t)
	// No read_location: that item must fail alone.
	tok, _ := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, "read_vehicle_info", "read_odometer", "read_battery", "read_fuel", "read_tires")
	paths := []string{"/odometer", "location", "/", "/battery/capacity/", "/fuel", "/warp_drive", "/permissions?limit=2", "/tires/pressure"}
	var reqs []map[string]string
	for _, p := range paths {
		reqs = append(reqs, map[string]string{"path": p})
	}
	res := h.Do(t, "POST", "/v2.0/vehicles/"+teslaID+"/batch", tok, map[string]any{"requests": reqs}, "SC-Unit-System", "imperial")
	if res.Status != 200 {
		t.Fatalf("batch: %d %s", res.Status, res.Body)
	}
	golden(t, "batch_mixed", res)

	var got struct {
		Responses []struct {
			Path    string
			Code    int
			Headers map[string]string
			Body    json.RawMessage
		}
	}
	res.JSON(t, &got)
	wantCodes := []int{200, 403, 200, 200, 501, 404, 200, 200}
	if len(got.Responses) != len(paths) {
		t.Fatalf("%d responses for %d requests", len(got.Responses), len(paths))
	}
	for i, item := range got.Responses {
		if item.Path != paths[i] || item.Code != wantCodes[i] {
			t.Errorf("item %d: %s %d, want %s %d", i, item.Path, item.Code, paths[i], wantCodes[i])
		}
		if item.Headers["content-type"] == "" || item.Headers["sc-request-id"] == "" || len(item.Body) == 0 || item.Body[0] != '{' {
			t.Errorf("item %d: headers %v body %s", i, item.Headers, item.Body)
		}
	}
	// Each success body is exactly what the single endpoint answers.
	for i, p := range []string{"/odometer", "", "/battery/capacity", "/permissions?limit=2", "/tires/pressure"} {
		idx := []int{0, 2, 3, 6, 7}[i]
		single := h.Do(t, "GET", "/v2.0/vehicles/"+teslaID+p, tok, nil, "SC-Unit-System", "imperial")
		if string(single.Body) != string(got.Responses[idx].Body) {
			t.Errorf("%s: batch body %s, single body %s", p, got.Responses[idx].Body, single.Body)
		}
	}

	tooMany := make([]map[string]string, 26)
	for i := range tooMany {
		tooMany[i] = map[string]string{"path": "/odometer"}
	}
	for name, body := range map[string]any{
		"too_many":      map[string]any{"requests": tooMany},
		"no_requests":   `{}`,
		"empty":         `{"requests":[]}`,
		"path_not_text": `{"requests":[{"path":7}]}`,
		"no_path":       `{"requests":[{}]}`,
	} {
		res := h.Do(t, "POST", "/v2.0/vehicles/"+teslaID+"/batch", tok, body)
		if e := errorOf(t, res); res.Status != 400 || e.Type != "VALIDATION" {
			t.Errorf("%s: %d %s, want 400 VALIDATION", name, res.Status, e.Type)
		}
	}
}

func TestManagementConnections(t *testing.T) {
	h := sandboxtest.MustStart(t)
	_, demo := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, "read_odometer")
	h.Clock.Advance(time.Hour)
	evTok, ev := h.Connect(t, sandboxtest.ClientID, "ev@sandbox.test", "read_odometer")
	h.Connect(t, "another-app", "family@sandbox.test", "read_odometer") // not ours: never listed

	golden(t, "management_connections", h.Do(t, "GET", "/v2.0/management/connections", "", nil, mgmt()...))

	// Walk all pages of 2: newest (ev) first, every connection once, cursor null at the end.
	var seen []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		q := "?limit=2"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		var page struct {
			Connections []struct{ UserID, VehicleID, ConnectedAt string }
			Paging      struct{ Cursor *string }
		}
		h.Do(t, "GET", "/v2.0/management/connections"+q, "", nil, mgmt()...).JSON(t, &page)
		for _, c := range page.Connections {
			seen = append(seen, c.UserID+"/"+c.VehicleID)
		}
		if page.Paging.Cursor == nil {
			break
		}
		cursor = *page.Paging.Cursor
	}
	var want []string
	for _, a := range []struct {
		user string
		ids  []string
	}{{ev.UserID, ev.VehicleIDs}, {demo.UserID, demo.VehicleIDs}} {
		ids := append([]string(nil), a.ids...)
		sortStrings(ids)
		for _, id := range ids {
			want = append(want, a.user+"/"+id)
		}
	}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("paged connections\n got %v\nwant %v", seen, want)
	}

	var filtered struct{ Connections []struct{ UserID string } }
	h.Do(t, "GET", "/v2.0/management/connections?user_id="+demo.UserID, "", nil, mgmt()...).JSON(t, &filtered)
	if len(filtered.Connections) != len(demo.VehicleIDs) {
		t.Errorf("user filter: %d connections, want %d", len(filtered.Connections), len(demo.VehicleIDs))
	}

	for name, tt := range map[string]struct {
		method, query string
		hdr           []string
		status        int
	}{
		"bad_token":     {"GET", "", []string{"Authorization", basic("default", "wrong")}, 401},
		"no_auth":       {"GET", "", nil, 401},
		"bad_user":      {"GET", "", []string{"Authorization", basic("admin", sandboxtest.ManagementToken)}, 401},
		"limit_too_big": {"GET", "?limit=101", mgmt(), 400},
		"bad_cursor":    {"GET", "?cursor=notacursor", mgmt(), 400},
		"delete_both":   {"DELETE", "?user_id=" + ev.UserID + "&vehicle_id=" + boltID, mgmt(), 400},
		"delete_none":   {"DELETE", "", mgmt(), 400},
	} {
		res := h.Do(t, tt.method, "/v2.0/management/connections"+tt.query, "", nil, tt.hdr...)
		if e := errorOf(t, res); res.Status != tt.status {
			t.Errorf("%s: %d %s, want %d", name, res.Status, e.Type, tt.status)
		}
	}

	res := h.Do(t, "DELETE", "/v2.0/management/connections?vehicle_id="+boltID, "", nil, mgmt()...)
	golden(t, "management_delete", res)
	if res := h.Do(t, "GET", "/v2.0/vehicles/"+boltID+"/odometer", evTok, nil); res.Status != 401 {
		t.Errorf("deleted connection still works: %d", res.Status)
	}
	if res := h.Do(t, "GET", "/v2.0/vehicles/"+ev.VehicleIDs[1]+"/odometer", evTok, nil); res.Status != 200 {
		t.Errorf("other connection broken: %d %s", res.Status, res.Body)
	}
	res = h.Do(t, "DELETE", "/v2.0/management/connections?user_id="+demo.UserID, "", nil, mgmt()...)
	var del struct {
		Connections []struct{ UserID, VehicleID string }
	}
	res.JSON(t, &del)
	if len(del.Connections) != len(demo.VehicleIDs) {
		t.Errorf("delete by user: %s", res.Body)
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
