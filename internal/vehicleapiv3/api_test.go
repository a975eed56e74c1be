package vehicleapiv3_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/connect/connecttest"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/signals"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/vehicleapiv3"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// Fixture vehicles (fixtures/accounts.yaml) the tests lean on.
const (
	tesla = "d21b0a03-5c3f-5c86-8c05-122d6fde0b3c" // demo: BEV, plugged in, charging, locked
	rav4  = "7e9389b9-16d5-5f58-a771-81255727b063" // demo: PHEV, unplugged
	ford  = "9cc77f46-e827-55cd-885e-69909bdeafb0" // demo: ICE, unlocked
	bolt  = "21439c28-806e-5a64-9f25-afdfe2341547" // ev: BEV, unplugged
)

// execID matches the random command-execution ids wherever they appear (id, links).
var execID = regexp.MustCompile(`exec_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// scheduleID matches the random charge schedule ids of schedule executions.
var scheduleID = regexp.MustCompile(`"scheduleId":"[0-9a-f-]{36}"`)

// golden compares a JSON body with testdata/<name>.json after replacing the values that
// change per request (request ids, command execution ids).
func golden(t *testing.T, name string, body []byte) {
	t.Helper()
	body = execID.ReplaceAll(body, []byte("exec_<id>"))
	body = scheduleID.ReplaceAll(body, []byte(`"scheduleId":"<schedule-id>"`))
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%s: body is not JSON: %v\n%s", name, err, body)
	}
	if m, ok := v.(map[string]any); ok {
		if _, ok := m["requestId"]; ok {
			m["requestId"] = "<request-id>"
		}
		if errs, ok := m["errors"].([]any); ok {
			for _, e := range errs {
				if meta, ok := e.(map[string]any)["meta"].(map[string]any); ok {
					meta["requestId"] = "<request-id>"
				}
			}
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep <request-id> readable in the files
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	got := buf.Bytes()
	path := filepath.Join("testdata", name+".json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", name, path, got, want)
	}
}

// errorOf decodes a Smartcar error body and checks the status agrees with it.
func errorOf(t *testing.T, res *sandboxtest.Response) (typ, code string) {
	t.Helper()
	e := res.V3Error(t)
	return e.Type, e.Code
}

func appToken(t *testing.T, h *sandboxtest.Harness) string {
	t.Helper()
	tok, _, err := h.Tokens.IssueApplication(sandboxtest.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type signal struct {
	ID         string `json:"id"`
	Attributes struct {
		Code   string          `json:"code"`
		Group  string          `json:"group"`
		Body   json.RawMessage `json:"body"`
		Status struct {
			Value string `json:"value"`
		} `json:"status"`
	} `json:"attributes"`
	Meta struct {
		RetrievedAt  int64 `json:"retrievedAt"`
		OemUpdatedAt int64 `json:"oemUpdatedAt"`
	} `json:"meta"`
}

type signalPage struct {
	Data []signal `json:"data"`
	Meta struct {
		Page, PageSize, TotalCount int
	} `json:"meta"`
	Links struct {
		Self     string  `json:"self"`
		First    string  `json:"first"`
		Previous *string `json:"previous"`
		Next     *string `json:"next"`
		Last     string  `json:"last"`
	} `json:"links"`
}

// TestGoldenShapes pins every v3 response and error shape, in order (the commands change the
// state later cases read).
func TestGoldenShapes(t *testing.T) {
	h := sandboxtest.MustStart(t)
	tok, acct := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, sandboxtest.AllPermissions()...)
	_, ev := h.Connect(t, sandboxtest.ClientID, "ev@sandbox.test", sandboxtest.AllPermissions()...)
	readOnly, _ := h.Connect(t, "read-only-app", sandboxtest.DemoUser, "read_security", "read_charge")
	app := appToken(t, h)
	demoUser := []string{"sc-user-id", acct.UserID}
	evUser := []string{"sc-user-id", ev.UserID}
	cmd := func(id, c string) string { return "/v3/vehicles/" + id + "/commands/" + c }

	tests := []struct {
		name       string
		method     string
		path       string
		tok        string
		hdr        []string
		body       any
		wantStatus int
	}{
		// The Node SDK sends the trailing slash and a Connect token: the unwrapped resource.
		{"vehicle", "GET", "/v3/vehicles/" + tesla + "/", tok, nil, nil, 200},
		{"vehicle-app-token", "GET", "/v3/vehicles/" + tesla, app, nil, nil, 200},
		{"signal-odometer", "GET", "/v3/vehicles/" + tesla + "/signals/odometer-traveleddistance", tok, nil, nil, 200},
		{"signal-doors", "GET", "/v3/vehicles/" + ford + "/signals/closure-doors", tok, nil, nil, 200},
		{"signal-list-page", "GET", "/v3/vehicles/" + tesla + "/signals?page=2&pageSize=4", tok, []string{"sc-unit-system", "imperial"}, nil, 200},
		{"command-lock", "POST", cmd(ford, "security/lock"), app, demoUser, nil, 200},
		{"command-unlock", "POST", cmd(ford, "security/unlock"), app, demoUser, nil, 200},
		{"command-charge-stop", "POST", cmd(tesla, "charge/stop"), app, demoUser, nil, 200},
		{"command-charge-start", "POST", cmd(tesla, "charge/start"), app, demoUser, nil, 200},
		{"command-charge-set-limit", "POST", cmd(tesla, "charge/set-limit"), app, demoUser, attrs("percent", 80), 200},
		{"command-navigation-set-destination", "POST", cmd(tesla, "navigation/set-destination"), app, demoUser, attrs("latitude", 37.7749, "longitude", -122.4194), 200},
		{"command-charge-port-close", "POST", cmd(bolt, "charge-port/close"), app, evUser, nil, 200},
		{"command-charge-port-open", "POST", cmd(bolt, "charge-port/open"), app, evUser, nil, 200},
		{"connection", "GET", "/v3/connections/" + tesla, app, nil, nil, 200},
		{"connections-list", "GET", "/v3/connections?filter[userId]=" + acct.UserID + "&page[size]=2", app, nil, nil, 200},

		{"error-not-capable", "GET", "/v3/vehicles/" + tesla + "/signals/internalcombustionengine-fuellevel", tok, nil, nil, 501},
		{"error-authentication", "GET", "/v3/vehicles/" + tesla + "/signals", "", nil, nil, 401},
		{"error-permission", "POST", cmd(ford, "security/lock"), readOnly, nil, nil, 403},
		{"error-missing-sc-user-id", "GET", "/v3/vehicles/" + tesla + "/signals", app, nil, nil, 400},
		{"error-unknown-filter", "GET", "/v3/connections?filter[make]=TESLA", app, nil, nil, 400},
		{"error-set-limit-body", "POST", cmd(tesla, "charge/set-limit"), app, demoUser, map[string]any{"limit": 80}, 400},
		{"error-destination-range", "POST", cmd(tesla, "navigation/set-destination"), app, demoUser, attrs("latitude", 95, "longitude", 0), 400},
		{"error-vehicle-state", "POST", cmd(bolt, "charge/start"), app, evUser, nil, 409},
		{"error-path", "GET", "/v3/vehicles/" + tesla + "/warp-drive", app, demoUser, nil, 404},
		{"error-method", "DELETE", "/v3/vehicles/" + tesla + "/signals", app, demoUser, nil, 405},
		{"error-connection-not-found", "GET", "/v3/connections/00000000-0000-4000-8000-000000000000", app, nil, nil, 404},
		{"error-user-not-found", "DELETE", "/v3/users/00000000-0000-4000-8000-000000000000", app, nil, nil, 404},
	}
	var lastExec string
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := h.Do(t, tc.method, tc.path, tc.tok, tc.body, tc.hdr...)
			if res.Status != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", res.Status, tc.wantStatus, res.Body)
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			if res.Header.Get("SC-Request-Id") == "" {
				t.Error("no SC-Request-Id header")
			}
			if res.Status >= 400 {
				res.V3Error(t)
			}
			if strings.HasPrefix(tc.name, "command-") {
				var e struct{ Data struct{ ID string } }
				res.JSON(t, &e)
				lastExec = e.Data.ID
			}
			golden(t, tc.name, res.Body)
		})
	}
	t.Run("command-execution", func(t *testing.T) {
		res := h.Do(t, "GET", "/v3/vehicles/"+bolt+"/command-executions/"+lastExec, app, nil, evUser...)
		if res.Status != 200 {
			t.Fatalf("status %d: %s", res.Status, res.Body)
		}
		golden(t, "command-execution", res.Body)
	})
}

func TestAuthModels(t *testing.T) {
	h := sandboxtest.MustStart(t)
	tok, demo := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, sandboxtest.AllPermissions()...)
	_, ev := h.Connect(t, sandboxtest.ClientID, "ev@sandbox.test", sandboxtest.AllPermissions()...)
	app := appToken(t, h)
	odo := "/v3/vehicles/" + tesla + "/signals/odometer-traveleddistance"

	tests := []struct {
		name     string
		path     string
		tok      string
		hdr      []string
		status   int
		wantType string
	}{
		{"vehicle token", odo, tok, nil, 200, ""},
		{"app token with sc-user-id", odo, app, []string{"sc-user-id", demo.UserID}, 200, ""},
		{"app token without sc-user-id", odo, app, nil, 400, sandbox.TypeValidation},
		{"app token, user who did not connect the vehicle", odo, app, []string{"sc-user-id", ev.UserID}, 403, sandbox.TypePermission},
		{"app token, unknown user", odo, app, []string{"sc-user-id", "no-such-user"}, 403, sandbox.TypePermission},
		{"no token", odo, "", nil, 401, sandbox.TypeAuthentication},
		{"garbage token", odo, "not-a-token", nil, 401, sandbox.TypeAuthentication},
		{"vehicle token for another user's vehicle", "/v3/vehicles/" + bolt + "/signals", tok, nil, 403, sandbox.TypePermission},
		{"app token, vehicle resource without sc-user-id (OAS lists none)", "/v3/vehicles/" + tesla, app, nil, 200, ""},
		{"app token, vehicle resource, vehicle nobody connected", "/v3/vehicles/4865b890-1763-52d3-9cac-45893f822e09", app, nil, 403, sandbox.TypePermission},
		{"app token lists connections", "/v3/connections", app, nil, 200, ""},
		{"list connections without token", "/v3/connections", "", nil, 401, sandbox.TypeAuthentication},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := h.Do(t, "GET", tc.path, tc.tok, nil, tc.hdr...)
			if res.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", res.Status, tc.status, res.Body)
			}
			if tc.wantType != "" {
				if typ, _ := errorOf(t, res); typ != tc.wantType {
					t.Errorf("type %s, want %s", typ, tc.wantType)
				}
			}
		})
	}

	// A disconnect takes effect at once: the vehicle token still verifies, but its grant is
	// gone → AUTHENTICATION; the app token names a user who no longer has it → PERMISSION.
	if _, err := h.Store.Disconnect(store.GrantFilter{ClientID: sandboxtest.ClientID, VehicleID: tesla}); err != nil {
		t.Fatal(err)
	}
	res := h.Do(t, "GET", odo, tok, nil)
	if typ, _ := errorOf(t, res); res.Status != 401 || typ != sandbox.TypeAuthentication {
		t.Errorf("after disconnect, vehicle token: %d %s, want 401 AUTHENTICATION", res.Status, typ)
	}
	res = h.Do(t, "GET", odo, app, nil, "sc-user-id", demo.UserID)
	if typ, _ := errorOf(t, res); res.Status != 403 || typ != sandbox.TypePermission {
		t.Errorf("after disconnect, app token: %d %s, want 403 PERMISSION", res.Status, typ)
	}
}

func TestSignalErrors(t *testing.T) {
	h := sandboxtest.MustStart(t)
	tok, _ := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, sandboxtest.AllPermissions()...)
	tests := []struct {
		name, path, wantType, wantCode string
		status                         int
		hdr                            []string
	}{
		{"fuel on a BEV", "/v3/vehicles/" + tesla + "/signals/internalcombustionengine-range", sandbox.TypeCompatibility, "VEHICLE_NOT_CAPABLE", 501, nil},
		{"oil on a BEV", "/v3/vehicles/" + tesla + "/signals/internalcombustionengine-oillife", sandbox.TypeCompatibility, "VEHICLE_NOT_CAPABLE", 501, nil},
		{"battery on an ICE", "/v3/vehicles/" + ford + "/signals/tractionbattery-stateofcharge", sandbox.TypeCompatibility, "VEHICLE_NOT_CAPABLE", 501, nil},
		{"charge on an ICE", "/v3/vehicles/" + ford + "/signals/charge-chargelimits", sandbox.TypeCompatibility, "VEHICLE_NOT_CAPABLE", 501, nil},
		{"sunroof the F-150 lacks", "/v3/vehicles/" + ford + "/signals/closure-sunroof", sandbox.TypeCompatibility, "VEHICLE_NOT_CAPABLE", 501, nil},
		{"unknown code", "/v3/vehicles/" + tesla + "/signals/warp-drive", sandbox.TypeResourceNotFound, "PATH", 404, nil},
		{"unknown path", "/v3/vehicles/" + tesla + "/odometer", sandbox.TypeResourceNotFound, "PATH", 404, nil},
		{"bad unit system", "/v3/vehicles/" + tesla + "/signals/odometer-traveleddistance", sandbox.TypeValidation, "PARAMETER", 400, []string{"sc-unit-system", "furlongs"}},
		{"page 0", "/v3/vehicles/" + tesla + "/signals?page=0", sandbox.TypeValidation, "PARAMETER", 400, nil},
		{"pageSize too big", "/v3/vehicles/" + tesla + "/signals?pageSize=101", sandbox.TypeValidation, "PARAMETER", 400, nil},
		{"pageSize not a number", "/v3/vehicles/" + tesla + "/signals?pageSize=ten", sandbox.TypeValidation, "PARAMETER", 400, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := h.Do(t, "GET", tc.path, tok, nil, tc.hdr...)
			if res.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", res.Status, tc.status, res.Body)
			}
			typ, code := errorOf(t, res)
			if typ != tc.wantType || code != tc.wantCode {
				t.Errorf("got %s/%s, want %s/%s", typ, code, tc.wantType, tc.wantCode)
			}
		})
	}
}

// Every catalogued signal needs its permission: alone it is readable, without it PERMISSION,
// and the list shows exactly the signals the permission opens.
func TestSignalPermissions(t *testing.T) {
	h := sandboxtest.MustStart(t)
	for _, s := range signals.Infos() {
		t.Run(s.Code, func(t *testing.T) {
			// Connect replaces the grants' permissions, so each case connects afresh.
			all, acct := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, sandboxtest.AllPermissions()...)
			// A PHEV has nearly every signal; the rest (e.g. Tesla's surveillance) are on the
			// first demo vehicle that has them (TestSignalListByPowertrain: one always does).
			vehicle := rav4
			for _, id := range append([]string{rav4}, acct.VehicleIDs...) {
				if h.Do(t, "GET", "/v3/vehicles/"+id+"/signals/"+s.Code, all, nil).Status == 200 {
					vehicle = id
					break
				}
			}
			only, _ := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, s.Permission)
			res := h.Do(t, "GET", "/v3/vehicles/"+vehicle+"/signals/"+s.Code, only, nil)
			if res.Status != 200 {
				t.Fatalf("with %s: status %d: %s", s.Permission, res.Status, res.Body)
			}
			var sig signal
			res.JSON(t, &sig)
			if sig.ID != s.Code || sig.Attributes.Code != s.Code || sig.Attributes.Group != s.Group || sig.Attributes.Status.Value != "SUCCESS" {
				t.Errorf("signal %+v does not describe %+v", sig, s)
			}

			other := "read_vehicle_info"
			if s.Permission == other {
				other = "read_odometer"
			}
			without, _ := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, other)
			res = h.Do(t, "GET", "/v3/vehicles/"+vehicle+"/signals/"+s.Code, without, nil)
			if typ, _ := errorOf(t, res); res.Status != 403 || typ != sandbox.TypePermission {
				t.Errorf("without %s: %d %s, want 403 PERMISSION", s.Permission, res.Status, typ)
			}
		})
	}

	// The list holds only permitted signals.
	tok, _ := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, "read_odometer", "read_location")
	var pg signalPage
	h.Do(t, "GET", "/v3/vehicles/"+rav4+"/signals", tok, nil).JSON(t, &pg)
	var got []string
	for _, s := range pg.Data {
		got = append(got, s.ID)
	}
	if want := "odometer-traveleddistance,location-preciselocation,location-isathome"; strings.Join(got, ",") != want || pg.Meta.TotalCount != 3 {
		t.Errorf("list with odometer+location: %v (total %d), want %s", got, pg.Meta.TotalCount, want)
	}
}

// The list contains only what the powertrain has, and the catalogue is covered by the fleet.
func TestSignalListByPowertrain(t *testing.T) {
	h := sandboxtest.MustStart(t)
	tok, acct := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, sandboxtest.AllPermissions()...)
	seen := map[string]bool{}
	for _, id := range acct.VehicleIDs {
		v, _ := h.Store.Vehicle(id)
		var pg signalPage
		res := h.Do(t, "GET", "/v3/vehicles/"+id+"/signals?pageSize=100", tok, nil)
		res.JSON(t, &pg)
		for _, s := range pg.Data {
			seen[s.ID] = true
			switch g := s.Attributes.Group; {
			case g == "TractionBattery" || g == "Charge":
				if !v.Powertrain.HasBattery() {
					t.Errorf("%s (%s) lists %s", v.Model, v.Powertrain, s.ID)
				}
			case g == "InternalCombustionEngine":
				if !v.Powertrain.HasFuel() {
					t.Errorf("%s (%s) lists %s", v.Model, v.Powertrain, s.ID)
				}
			}
		}
		if len(pg.Data) != pg.Meta.TotalCount {
			t.Errorf("%s: %d signals on one page of 100, totalCount %d", v.Model, len(pg.Data), pg.Meta.TotalCount)
		}
	}
	for _, s := range signals.Infos() {
		if !seen[s.Code] {
			t.Errorf("no demo vehicle lists %s", s.Code)
		}
	}
}

func TestSignalPaging(t *testing.T) {
	h := sandboxtest.MustStart(t)
	tok, _ := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, sandboxtest.AllPermissions()...)
	base := "/v3/vehicles/" + rav4 + "/signals"
	var all signalPage
	var first signalPage
	h.Do(t, "GET", base, tok, nil).JSON(t, &first)
	if first.Meta.Page != 1 || first.Meta.PageSize != vehicleapiv3.DefaultPageSize || len(first.Data) != vehicleapiv3.DefaultPageSize {
		t.Errorf("default meta %+v with %d signals", first.Meta, len(first.Data))
	}
	// The whole catalogue fits on one page of the maximum size.
	h.Do(t, "GET", base+"?pageSize=100", tok, nil).JSON(t, &all)
	if all.Links.Previous != nil || all.Links.Next != nil {
		t.Errorf("single page has previous/next: %+v", all.Links)
	}
	// JSON:API's page[number]/page[size] are read too; anything else is refused.
	var jsonapi signalPage
	h.Do(t, "GET", base+"?page[number]=2&page[size]=5", tok, nil).JSON(t, &jsonapi)
	if jsonapi.Meta.Page != 2 || jsonapi.Meta.PageSize != 5 || len(jsonapi.Data) != 5 || jsonapi.Data[0].ID != all.Data[5].ID {
		t.Errorf("page[number]=2&page[size]=5: meta %+v", jsonapi.Meta)
	}
	if res := h.Do(t, "GET", base+"?filter[code]=odometer-traveleddistance", tok, nil); res.Status != 400 {
		t.Errorf("unknown filter on signals: %d, want 400", res.Status)
	}

	const size = 3
	var paged []string
	path := fmt.Sprintf("%s?page=1&pageSize=%d", strings.TrimPrefix(base, "/v3"), size)
	for pages := 0; ; pages++ {
		if pages > 50 {
			t.Fatal("paging does not end")
		}
		var pg signalPage
		res := h.Do(t, "GET", "/v3"+path, tok, nil)
		if res.Status != 200 {
			t.Fatalf("%s: %d %s", path, res.Status, res.Body)
		}
		res.JSON(t, &pg)
		if pg.Links.Self != path {
			t.Errorf("self %q, want %q", pg.Links.Self, path)
		}
		if pg.Meta.TotalCount != all.Meta.TotalCount {
			t.Errorf("page %d totalCount %d, want %d", pg.Meta.Page, pg.Meta.TotalCount, all.Meta.TotalCount)
		}
		if (pg.Meta.Page == 1) != (pg.Links.Previous == nil) {
			t.Errorf("page %d previous %v", pg.Meta.Page, pg.Links.Previous)
		}
		for _, s := range pg.Data {
			paged = append(paged, s.ID)
		}
		if pg.Links.Next == nil {
			if pg.Links.Self != pg.Links.Last {
				t.Errorf("last page self %q, links.last %q", pg.Links.Self, pg.Links.Last)
			}
			break
		}
		path = *pg.Links.Next
	}
	var want []string
	for _, s := range all.Data {
		want = append(want, s.ID)
	}
	if strings.Join(paged, ",") != strings.Join(want, ",") {
		t.Errorf("pages of %d: %v\nwant %v", size, paged, want)
	}

	// Past the end: an empty page, not an error.
	var past signalPage
	res := h.Do(t, "GET", base+"?page=99&pageSize=10", tok, nil)
	res.JSON(t, &past)
	if res.Status != 200 || len(past.Data) != 0 || past.Meta.TotalCount != all.Meta.TotalCount {
		t.Errorf("page 99: %d, %d signals, meta %+v", res.Status, len(past.Data), past.Meta)
	}
}

func TestUnitSystem(t *testing.T) {
	h := sandboxtest.MustStart(t)
	tok, _ := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, sandboxtest.AllPermissions()...)
	v, _ := h.Store.Vehicle(rav4)
	type uv struct {
		Unit  string  `json:"unit"`
		Value float64 `json:"value"`
	}
	read := func(code, units string) uv {
		t.Helper()
		res := h.Do(t, "GET", "/v3/vehicles/"+rav4+"/signals/"+code, tok, nil, "sc-unit-system", units)
		if res.Status != 200 {
			t.Fatalf("%s: %d %s", code, res.Status, res.Body)
		}
		if got := res.Header.Get("SC-Unit-System"); got != units {
			t.Errorf("SC-Unit-System %q, want %q", got, units)
		}
		var sig signal
		res.JSON(t, &sig)
		var b uv
		if err := json.Unmarshal(sig.Attributes.Body, &b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 0.01 }
	tests := []struct {
		code, units, unit string
		value             float64
	}{
		{"odometer-traveleddistance", "metric", "kilometers", v.State.OdometerKm},
		{"odometer-traveleddistance", "imperial", "miles", v.State.OdometerKm * 0.621371192237334},
		{"internalcombustionengine-amountremaining", "metric", "liters", v.State.Fuel.AmountLiters},
		{"internalcombustionengine-amountremaining", "imperial", "gallons", v.State.Fuel.AmountLiters * 0.264172052358148},
		{"internalcombustionengine-range", "imperial", "miles", v.State.Fuel.RangeKm * 0.621371192237334},
		{"tractionbattery-range", "imperial", "miles", v.State.Battery.RangeKm * 0.621371192237334},
		{"internalcombustionengine-fuellevel", "imperial", "percent", v.State.Fuel.PercentRemaining * 100},
		{"tractionbattery-stateofcharge", "imperial", "percent", v.State.Battery.PercentRemaining * 100},
	}
	for _, tc := range tests {
		got := read(tc.code, tc.units)
		if got.Unit != tc.unit || !near(got.Value, tc.value) {
			t.Errorf("%s in %s: %+v, want %s %.2f", tc.code, tc.units, got, tc.unit, tc.value)
		}
	}
}

// attrs builds a v3 command body {"data":{"attributes":{k: v, …}}}.
func attrs(kv ...any) map[string]any {
	a := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		a[kv[i].(string)] = kv[i+1]
	}
	return map[string]any{"data": map[string]any{"attributes": a}}
}

func TestCommands(t *testing.T) {
	h := sandboxtest.MustStart(t)
	tok, _ := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, sandboxtest.AllPermissions()...)
	evTok, _ := h.Connect(t, sandboxtest.ClientID, "ev@sandbox.test", sandboxtest.AllPermissions()...)
	readOnly, _ := h.Connect(t, "read-only-app", sandboxtest.DemoUser, "read_security", "read_charge")
	boolSignal := func(tok, id, code string) bool {
		t.Helper()
		res := h.Do(t, "GET", "/v3/vehicles/"+id+"/signals/"+code, tok, nil)
		var sig signal
		res.JSON(t, &sig)
		var b struct{ Value bool }
		if err := json.Unmarshal(sig.Attributes.Body, &b); err != nil {
			t.Fatalf("%s: %v %s", code, err, res.Body)
		}
		return b.Value
	}
	post := func(tok, id, cmd string, body any) *sandboxtest.Response {
		return h.Do(t, "POST", "/v3/vehicles/"+id+"/commands/"+cmd, tok, body)
	}

	if boolSignal(tok, ford, "closure-islocked") {
		t.Fatal("fixture F-150 should start unlocked")
	}
	h.Clock.Advance(90 * time.Second)
	if res := post(tok, ford, "security/lock", nil); res.Status != 200 {
		t.Fatalf("lock: %d %s", res.Status, res.Body)
	}
	if !boolSignal(tok, ford, "closure-islocked") {
		t.Error("closure-islocked false after lock")
	}
	if res := post(tok, ford, "security/unlock", nil); res.Status != 200 {
		t.Fatalf("unlock: %d %s", res.Status, res.Body)
	}
	if boolSignal(tok, ford, "closure-islocked") {
		t.Error("closure-islocked true after unlock")
	}

	// Charging: Tesla is plugged in and charging.
	if res := post(tok, tesla, "charge/stop", nil); res.Status != 200 {
		t.Fatalf("stop: %d %s", res.Status, res.Body)
	}
	if boolSignal(tok, tesla, "charge-ischarging") {
		t.Error("charging after stop")
	}
	if res := post(tok, tesla, "charge/start", nil); res.Status != 200 {
		t.Fatalf("start: %d %s", res.Status, res.Body)
	}
	if !boolSignal(tok, tesla, "charge-ischarging") {
		t.Error("not charging after start")
	}
	limitRes := post(tok, tesla, "charge/set-limit", attrs("percent", 75))
	if limitRes.Status != 200 {
		t.Fatalf("limit: %d %s", limitRes.Status, limitRes.Body)
	}
	var exec struct {
		Data struct {
			ID         string
			Attributes struct {
				CommandType string
				Parameters  map[string]any
			}
		}
	}
	limitRes.JSON(t, &exec)
	if exec.Data.Attributes.CommandType != "charge-set-limit" || exec.Data.Attributes.Parameters["percent"] != float64(75) {
		t.Errorf("set-limit execution: %s", limitRes.Body)
	}
	// The execution can be read back by its id, the same body, for the same user only.
	if res := h.Do(t, "GET", "/v3/vehicles/"+tesla+"/command-executions/"+exec.Data.ID, tok, nil); res.Status != 200 || !bytes.Equal(res.Body, limitRes.Body) {
		t.Errorf("execution lookup: %d %s, want %s", res.Status, res.Body, limitRes.Body)
	}
	if res := h.Do(t, "GET", "/v3/vehicles/"+tesla+"/command-executions/exec_nope", tok, nil); res.Status != 404 {
		t.Errorf("unknown execution: %d %s", res.Status, res.Body)
	}

	// Charge port: the Tesla's flap is open with the cable in; closing it is refused, opening
	// is fine; unplugged, the Bolt closes and opens its flap, and v2.0's security shows it.
	if res := post(evTok, bolt, "charge-port/close", nil); res.Status != 200 {
		t.Fatalf("close port: %d %s", res.Status, res.Body)
	}
	if v, _ := h.Store.Vehicle(bolt); v.State.Security.ChargingPort[0].Status != sandbox.StatusClosed {
		t.Errorf("charging port %+v after close", v.State.Security.ChargingPort)
	}
	if res := post(evTok, bolt, "charge-port/open", nil); res.Status != 200 {
		t.Fatalf("open port: %d %s", res.Status, res.Body)
	}
	if v, _ := h.Store.Vehicle(bolt); v.State.Security.ChargingPort[0].Status != sandbox.StatusOpen {
		t.Errorf("charging port %+v after open", v.State.Security.ChargingPort)
	}
	if res := post(tok, tesla, "navigation/set-destination", attrs("latitude", 37.77, "longitude", -122.42)); res.Status != 200 {
		t.Fatalf("destination: %d %s", res.Status, res.Body)
	}
	var limits struct {
		Values      []struct{ Limit float64 }
		ActiveLimit float64
		Unit        string
	}
	var sig signal
	h.Do(t, "GET", "/v3/vehicles/"+tesla+"/signals/charge-chargelimits", tok, nil).JSON(t, &sig)
	if err := json.Unmarshal(sig.Attributes.Body, &limits); err != nil {
		t.Fatal(err)
	}
	if limits.ActiveLimit != 75 || len(limits.Values) != 1 || limits.Values[0].Limit != 75 || limits.Unit != "percent" {
		t.Errorf("charge-chargelimits after limit 75: %+v", limits)
	}
	if v, _ := h.Store.Vehicle(tesla); v.State.Charge.Limit != 0.75 {
		t.Errorf("stored limit %v, want 0.75", v.State.Charge.Limit)
	}
	if v, _ := h.Store.Vehicle(tesla); !v.State.UpdatedAt.Equal(h.Clock.Now()) {
		t.Errorf("UpdatedAt %v after a command, want the clock %v", v.State.UpdatedAt, h.Clock.Now())
	}

	errs := []struct {
		name, tok, id, cmd string
		body               any
		status             int
		typ, code          string
	}{
		{"start unplugged", evTok, bolt, "charge/start", nil, 409, sandbox.TypeVehicleState, "CHARGING_PLUG_NOT_CONNECTED"},
		{"stop unplugged", evTok, bolt, "charge/stop", nil, 409, sandbox.TypeVehicleState, "CHARGING_PLUG_NOT_CONNECTED"},
		{"start on ICE", tok, ford, "charge/start", nil, 501, sandbox.TypeCompatibility, "VEHICLE_NOT_CAPABLE"},
		{"limit on ICE", tok, ford, "charge/set-limit", attrs("percent", 80), 501, sandbox.TypeCompatibility, "VEHICLE_NOT_CAPABLE"},
		{"limit too low", tok, tesla, "charge/set-limit", attrs("percent", 10), 400, sandbox.TypeValidation, "PARAMETER"},
		{"limit as fraction", tok, tesla, "charge/set-limit", attrs("percent", 0.8), 400, sandbox.TypeValidation, "PARAMETER"},
		{"limit not whole", tok, tesla, "charge/set-limit", attrs("percent", 80.5), 400, sandbox.TypeValidation, "PARAMETER"},
		{"limit missing", tok, tesla, "charge/set-limit", attrs(), 400, sandbox.TypeValidation, "PARAMETER"},
		{"limit v2-style body", tok, tesla, "charge/set-limit", map[string]any{"limit": 80}, 400, sandbox.TypeValidation, "PARAMETER"},
		{"limit not JSON", tok, tesla, "charge/set-limit", "percent=80", 400, sandbox.TypeValidation, "PARAMETER"},
		{"limit empty body", tok, tesla, "charge/set-limit", nil, 400, sandbox.TypeValidation, "PARAMETER"},
		{"limit not a number", tok, tesla, "charge/set-limit", attrs("percent", "lots"), 400, sandbox.TypeValidation, "PARAMETER"},
		{"destination out of range", tok, tesla, "navigation/set-destination", attrs("latitude", 91, "longitude", 0), 400, sandbox.TypeValidation, "PARAMETER"},
		{"destination missing longitude", tok, tesla, "navigation/set-destination", attrs("latitude", 1), 400, sandbox.TypeValidation, "PARAMETER"},
		{"close port over the cable", tok, tesla, "charge-port/close", nil, 409, sandbox.TypeVehicleState, "CHARGING_PLUG_CONNECTED"},
		{"open port on ICE", tok, ford, "charge-port/open", nil, 501, sandbox.TypeCompatibility, "VEHICLE_NOT_CAPABLE"},
		{"lock without control_security", readOnly, ford, "security/lock", nil, 403, sandbox.TypePermission, "FORBIDDEN"},
		{"charge without control_charge", readOnly, tesla, "charge/start", nil, 403, sandbox.TypePermission, "FORBIDDEN"},
		{"old sandbox-only path", tok, tesla, "charging/start", nil, 404, sandbox.TypeResourceNotFound, "PATH"},
		{"unknown command", tok, ford, "security/open-sesame", nil, 404, sandbox.TypeResourceNotFound, "PATH"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			res := post(tc.tok, tc.id, tc.cmd, tc.body)
			if res.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", res.Status, tc.status, res.Body)
			}
			if typ, code := errorOf(t, res); typ != tc.typ || code != tc.code {
				t.Errorf("got %s/%s, want %s/%s", typ, code, tc.typ, tc.code)
			}
		})
	}
	// v3's percent is an integer: the string v2.0's Node SDK sends for limits is refused.
	if res := post(tok, tesla, "charge/set-limit", `{"data":{"attributes":{"percent":"90"}}}`); res.Status != 400 {
		t.Errorf("percent as string: %d %s", res.Status, res.Body)
	}
}

type connectionList struct {
	Data []struct {
		ID         string `json:"id"`
		Attributes struct {
			Permissions []string `json:"permissions"`
		} `json:"attributes"`
		Relationships struct {
			User struct {
				Data struct{ ID string } `json:"data"`
			} `json:"user"`
			Vehicle struct {
				Data struct{ ID string } `json:"data"`
			} `json:"vehicle"`
		} `json:"relationships"`
	} `json:"data"`
	Meta  struct{ PageNumber, PageSize, TotalCount int } `json:"meta"`
	Links struct {
		Self, First, Last string
		Prev, Next        *string
	} `json:"links"`
}

func TestConnections(t *testing.T) {
	h := sandboxtest.MustStart(t)
	demoTok, demo := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, "read_vehicle_info", "read_odometer")
	_, ev := h.Connect(t, sandboxtest.ClientID, "ev@sandbox.test", "read_vehicle_info")
	h.Connect(t, "another-app", "family@sandbox.test", "read_vehicle_info")
	app := appToken(t, h)

	ids := func(tok, query string, hdr ...string) (string, int) {
		t.Helper()
		res := h.Do(t, "GET", "/v3/connections"+query, tok, nil, hdr...)
		if res.Status != 200 {
			t.Fatalf("%s: %d %s", query, res.Status, res.Body)
		}
		var l connectionList
		res.JSON(t, &l)
		var out []string
		for _, c := range l.Data {
			out = append(out, c.Relationships.Vehicle.Data.ID)
		}
		return strings.Join(out, ","), l.Meta.TotalCount
	}
	all := len(demo.VehicleIDs) + len(ev.VehicleIDs)
	if _, n := ids(app, ""); n != all {
		t.Errorf("app sees %d connections, want %d (its own app only)", n, all)
	}
	if got, n := ids(app, "?filter[userId]="+ev.UserID); n != len(ev.VehicleIDs) || !strings.Contains(got, bolt) {
		t.Errorf("filter[userId]: %s (%d)", got, n)
	}
	if got, _ := ids(app, "?filter%5BvehicleId%5D="+bolt); got != bolt {
		t.Errorf("filter[vehicleId] (encoded brackets): %q, want %s", got, bolt)
	}
	if _, n := ids(app, "?filter[vehicle.mode]=live"); n != all {
		t.Errorf("filter[vehicle.mode]=live: %d, want %d", n, all)
	}
	if _, n := ids(app, "?filter[vehicle.mode]=simulated"); n != 0 {
		t.Errorf("filter[vehicle.mode]=simulated: %d, want 0", n)
	}
	// A vehicle token sees only its own user's connections, even when asking for others.
	if _, n := ids(demoTok, ""); n != len(demo.VehicleIDs) {
		t.Errorf("vehicle token sees %d, want %d", n, len(demo.VehicleIDs))
	}
	if _, n := ids(demoTok, "?filter[userId]="+ev.UserID); n != 0 {
		t.Errorf("vehicle token asking for another user sees %d, want 0", n)
	}
	// Paging walks the same list, and page[size] defaults to 10 as documented.
	p1, _ := ids(app, "?page[size]=2&page[number]=1")
	p2, _ := ids(app, "?page[size]=2&page[number]=2")
	p3, _ := ids(app, "?page[size]=2&page[number]=3")
	whole, _ := ids(app, "")
	if strings.Join([]string{p1, p2, p3}, ",") != whole {
		t.Errorf("pages %s | %s | %s, whole %s", p1, p2, p3, whole)
	}
	var l connectionList
	h.Do(t, "GET", "/v3/connections?page[size]=2&filter[userId]="+demo.UserID, app, nil).JSON(t, &l)
	if l.Meta.PageSize != 2 || l.Meta.PageNumber != 1 || l.Links.Next == nil || !strings.Contains(*l.Links.Next, "filter[userId]="+demo.UserID) || l.Links.Prev != nil {
		t.Errorf("paging meta/links: %+v %+v", l.Meta, l.Links)
	}
	h.Do(t, "GET", "/v3/connections", app, nil).JSON(t, &l)
	if l.Meta.PageSize != vehicleapiv3.DefaultConnectionPageSize {
		t.Errorf("default page[size] %d, want %d", l.Meta.PageSize, vehicleapiv3.DefaultConnectionPageSize)
	}

	// One connection; a second user connecting the same vehicle makes sc-user-id necessary.
	if res := h.Do(t, "GET", "/v3/connections/"+tesla, app, nil); res.Status != 200 {
		t.Fatalf("connection: %d %s", res.Status, res.Body)
	}
	if err := h.Store.Connect(sandbox.Grant{ClientID: sandboxtest.ClientID, UserID: ev.UserID, VehicleID: tesla, Permissions: []string{"read_odometer"}}); err != nil {
		t.Fatal(err)
	}
	errs := []struct {
		name, path, tok string
		hdr             []string
		status          int
		typ             string
	}{
		{"ambiguous without sc-user-id", "/v3/connections/" + tesla, app, nil, 400, sandbox.TypeValidation},
		{"unknown vehicle", "/v3/connections/no-such-vehicle", app, nil, 404, sandbox.TypeResourceNotFound},
		{"other app's vehicle", "/v3/connections/4afacc67-be7f-54ad-85cb-dbcb702b8742", app, nil, 404, sandbox.TypeResourceNotFound},
		{"vehicle token naming another user", "/v3/connections/" + tesla, demoTok, []string{"sc-user-id", ev.UserID}, 403, sandbox.TypePermission},
		{"bad mode", "/v3/connections?filter[vehicle.mode]=sideways", app, nil, 400, sandbox.TypeValidation},
		{"sandbox test mode is not a v3 mode", "/v3/connections?filter[vehicle.mode]=test", app, nil, 400, sandbox.TypeValidation},
		{"bad page", "/v3/connections?page[number]=-1", app, nil, 400, sandbox.TypeValidation},
		{"page size over 100", "/v3/connections?page[size]=101", app, nil, 400, sandbox.TypeValidation},
		{"unknown filter", "/v3/connections?filter[make]=TESLA", app, nil, 400, sandbox.TypeValidation},
		{"pre-JSON:API parameter", "/v3/connections?userId=" + ev.UserID, app, nil, 400, sandbox.TypeValidation},
		{"repeated filter", "/v3/connections?filter[userId]=a&filter[userId]=b", app, nil, 400, sandbox.TypeValidation},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			res := h.Do(t, "GET", tc.path, tc.tok, nil, tc.hdr...)
			if res.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", res.Status, tc.status, res.Body)
			}
			if typ, _ := errorOf(t, res); typ != tc.typ {
				t.Errorf("type %s, want %s", typ, tc.typ)
			}
		})
	}
	for _, u := range []struct {
		user  string
		perms string
	}{{demo.UserID, "read_odometer,read_vehicle_info"}, {ev.UserID, "read_odometer"}} {
		res := h.Do(t, "GET", "/v3/connections/"+tesla, app, nil, "sc-user-id", u.user)
		var c struct {
			Data struct {
				ID         string
				Attributes struct{ Permissions []string }
			}
		}
		res.JSON(t, &c)
		g, _ := h.Store.Grant(sandboxtest.ClientID, u.user, tesla)
		if res.Status != 200 || c.Data.ID != vehicleapiv3.ConnectionID(g) || c.Data.ID == tesla || strings.Join(c.Data.Attributes.Permissions, ",") != u.perms {
			t.Errorf("connection for %s: %d %+v, want permissions %s", u.user, res.Status, c, u.perms)
		}
		// Its own id finds it without sc-user-id.
		byID := h.Do(t, "GET", "/v3/connections/"+c.Data.ID, app, nil)
		if byID.Status != 200 || !bytes.Equal(byID.Body, res.Body) {
			t.Errorf("connection by id %s: %d %s", c.Data.ID, byID.Status, byID.Body)
		}
	}
	// The vehicle token's own user needs no header.
	if res := h.Do(t, "GET", "/v3/connections/"+tesla, demoTok, nil); res.Status != 200 {
		t.Errorf("vehicle token, own connection: %d %s", res.Status, res.Body)
	}
}

// TestDeleteConnectionAndUser: DELETE /connections/{id} and DELETE /users/{userId} answer 204
// and end what a v2.0 disconnect ends: the grants (and with them the vehicle tokens' access to
// those vehicles) and, once a token reaches none of its vehicles, the token itself, /user
// included.
func TestDeleteConnectionAndUser(t *testing.T) {
	h := sandboxtest.MustStart(t)
	demoTok, demo := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, sandboxtest.AllPermissions()...)
	evTok, ev := h.Connect(t, sandboxtest.ClientID, "ev@sandbox.test", sandboxtest.AllPermissions()...)
	otherTok, _ := h.Connect(t, "another-app", sandboxtest.DemoUser, sandboxtest.AllPermissions()...)
	app := appToken(t, h)
	if len(demo.VehicleIDs) < 2 {
		t.Fatal("the demo user needs two vehicles for this test")
	}
	status := func(tok, path string) int { return h.Do(t, "GET", path, tok, nil).Status }
	odometer := func(id string) string { return "/v2.0/vehicles/" + id + "/odometer" }

	// One connection of several: that vehicle ends for the token, the others go on.
	g, _ := h.Store.Grant(sandboxtest.ClientID, demo.UserID, demo.VehicleIDs[0])
	if res := h.Do(t, "DELETE", "/v3/connections/"+vehicleapiv3.ConnectionID(g), app, nil); res.Status != 204 || len(res.Body) != 0 {
		t.Fatalf("delete connection: %d %s", res.Status, res.Body)
	}
	if _, ok := h.Store.Grant(sandboxtest.ClientID, demo.UserID, demo.VehicleIDs[0]); ok {
		t.Error("grant still there after DELETE /connections/{id}")
	}
	if s := status(demoTok, odometer(demo.VehicleIDs[0])); s != 401 {
		t.Errorf("token on the deleted connection's vehicle: %d, want 401", s)
	}
	if s := status(demoTok, odometer(demo.VehicleIDs[1])); s != 200 {
		t.Errorf("token on a vehicle still connected: %d, want 200", s)
	}
	if s := status(demoTok, "/v2.0/user"); s != 200 {
		t.Errorf("/user with a token that still reaches a vehicle: %d, want 200", s)
	}
	if res := h.Do(t, "DELETE", "/v3/connections/"+vehicleapiv3.ConnectionID(g), app, nil); res.Status != 404 {
		t.Errorf("second delete: %d, want 404", res.Status)
	}

	// The user: every connection to this application ends, and the token with them.
	if res := h.Do(t, "DELETE", "/v3/users/"+demo.UserID, app, nil); res.Status != 204 {
		t.Fatalf("delete user: %d %s", res.Status, res.Body)
	}
	if gs := h.Store.Grants(store.GrantFilter{ClientID: sandboxtest.ClientID, UserID: demo.UserID}); len(gs) != 0 {
		t.Errorf("%d grants left after DELETE /users/{id}", len(gs))
	}
	for _, p := range []string{"/v2.0/user", "/v2.0/vehicles", odometer(demo.VehicleIDs[1]), "/v3/vehicles/" + demo.VehicleIDs[1] + "/signals"} {
		if s := status(demoTok, p); s != 401 {
			t.Errorf("deleted user's token on %s: %d, want 401", p, s)
		}
	}
	// Other users and other applications keep theirs.
	if s := status(evTok, odometer(ev.VehicleIDs[0])); s != 200 {
		t.Errorf("another user's token: %d, want 200", s)
	}
	if s := status(otherTok, odometer(demo.VehicleIDs[1])); s != 200 {
		t.Errorf("the same user's token of another application: %d, want 200", s)
	}
	for _, tc := range []struct {
		name, path, tok string
		status          int
	}{
		{"user already deleted", "/v3/users/" + demo.UserID, app, 404},
		{"vehicle token deleting another user", "/v3/users/" + demo.UserID, evTok, 403},
		{"no token", "/v3/users/" + ev.UserID, "", 401},
		{"unknown connection", "/v3/connections/00000000-0000-4000-8000-000000000000", app, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := h.Do(t, "DELETE", tc.path, tc.tok, nil)
			if res.Status != tc.status {
				t.Fatalf("%d, want %d: %s", res.Status, tc.status, res.Body)
			}
			res.V3Error(t)
		})
	}
}

// documentedSignals are the 93 codes of Smartcar's v3 vehicle spec (smartcar-api-v3-2026.md §3).
var documentedSignals = strings.Fields(`
charge-amperage charge-amperagemax charge-amperagerequested charge-chargelimits charge-chargeportstatuscolor
charge-chargerate charge-chargerecords charge-chargerphases charge-chargetimers charge-chargingconnectortype
charge-detailedchargingstatus charge-energyadded charge-fastchargertype charge-ischarging
charge-ischargingcableconnected charge-ischargingcablelatched charge-ischargingportflapopen
charge-isfastchargerpresent charge-timetocomplete charge-voltage charge-wattage
climate-externaltemperature climate-internaltemperature
closure-doors closure-enginecover closure-fronttrunk closure-islocked closure-reartrunk closure-sunroof closure-tailgate closure-windows
connectivitysoftware-currentfirmwareversion
connectivitystatus-isasleep connectivitystatus-isdigitalkeypaired connectivitystatus-isonline
diagnostics-abs diagnostics-activesafety diagnostics-airbag diagnostics-brakefluid diagnostics-driverassistance
diagnostics-dtccount diagnostics-dtclist diagnostics-emissions diagnostics-evbatteryconditioning diagnostics-evcharging
diagnostics-evdriveunit diagnostics-evhvbattery diagnostics-lighting diagnostics-mil diagnostics-oillife
diagnostics-oilpressure diagnostics-oiltemperature diagnostics-telematics diagnostics-tirepressure
diagnostics-tirepressuremonitoring diagnostics-transmission diagnostics-washerfluid diagnostics-waterinfuel
hvac-cabintargettemperature hvac-iscabinhvacactive hvac-isfrontdefrosteractive hvac-isreardefrosteractive hvac-issteeringheateractive
internalcombustionengine-amountremaining internalcombustionengine-fuellevel internalcombustionengine-oillife internalcombustionengine-range
location-isathome location-preciselocation
lowvoltagebattery-stateofcharge lowvoltagebattery-status
motion-currentspeed
odometer-traveleddistance
service-isinservice service-records
surveillance-brand surveillance-isenabled
tractionbattery-isheateractive tractionbattery-maxrangechargecounter tractionbattery-nominalcapacity tractionbattery-range tractionbattery-stateofcharge
transmission-drivemode transmission-gearstate
vehicleidentification-exteriorcolor vehicleidentification-nickname vehicleidentification-packages vehicleidentification-trim vehicleidentification-vin
vehicleuseraccount-permissions vehicleuseraccount-role
wheel-style wheel-tires`)

// TestCatalogueIsDocumented: the sandbox serves every documented code, and beyond them only
// charge-activelimit (named by the Node SDK's docs, kept for clients that read it).
func TestCatalogueIsDocumented(t *testing.T) {
	if len(documentedSignals) != 93 {
		t.Fatalf("the documented list has %d codes, want 93", len(documentedSignals))
	}
	served := map[string]bool{}
	for _, s := range signals.Infos() {
		if served[s.Code] {
			t.Errorf("%s is catalogued twice", s.Code)
		}
		served[s.Code] = true
		if g := strings.ToLower(s.Group); !strings.HasPrefix(s.Code, g+"-") || s.Code != g+"-"+strings.ToLower(s.Name) {
			t.Errorf("%s: code is not <group>-<name> of %s/%s", s.Code, s.Group, s.Name)
		}
	}
	for _, c := range documentedSignals {
		if !served[c] {
			t.Errorf("documented signal %s is not served", c)
		}
		delete(served, c)
	}
	delete(served, "charge-activelimit")
	for c := range served {
		t.Errorf("%s is served but not documented", c)
	}
}

// TestChargeSchedules: Tesla takes every kind, other makes none (Volvo daily only), a
// test-mode car every one; a schedule is kept in the vehicle state and shows in
// charge-chargetimers; a new one of a kind replaces the old; DELETE by id removes it.
func TestChargeSchedules(t *testing.T) {
	h := sandboxtest.MustStart(t)
	tok, _ := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, sandboxtest.AllPermissions()...)
	post := func(id, kind string, body any) *sandboxtest.Response {
		return h.Do(t, "POST", "/v3/vehicles/"+id+"/charge-schedules/"+kind, tok, body)
	}
	timers := func(id string) string {
		t.Helper()
		var sig signal
		h.Do(t, "GET", "/v3/vehicles/"+id+"/signals/charge-chargetimers", tok, nil).JSON(t, &sig)
		return string(sig.Attributes.Body)
	}
	idOf := func(res *sandboxtest.Response) string {
		t.Helper()
		var e struct {
			Data struct {
				Attributes struct {
					CommandType string
					Parameters  struct{ ScheduleID string }
				}
			}
		}
		res.JSON(t, &e)
		if e.Data.Attributes.Parameters.ScheduleID == "" {
			t.Fatalf("no scheduleId: %s", res.Body)
		}
		return e.Data.Attributes.Parameters.ScheduleID
	}

	daily := post(tesla, "daily", attrs("startTime", "22:00", "stopTime", "06:00", "location", map[string]float64{"latitude": 37.77, "longitude": -122.42}))
	if daily.Status != 200 {
		t.Fatalf("daily: %d %s", daily.Status, daily.Body)
	}
	golden(t, "command-charge-schedule-daily", daily.Body)
	first := idOf(daily)
	weekly := post(tesla, "weekly", attrs("days", map[string]any{"monday": map[string]string{"startTime": "01:00", "stopTime": "05:00"}}))
	if weekly.Status != 200 {
		t.Fatalf("weekly: %d %s", weekly.Status, weekly.Body)
	}
	if res := post(tesla, "workweek", attrs("weekdays", map[string]string{"startTime": "23:00", "stopTime": "07:00"})); res.Status != 200 {
		t.Fatalf("workweek: %d %s", res.Status, res.Body)
	}
	got := timers(tesla)
	for _, want := range []string{`"scheduleId":"` + first + `","type":"daily","day":"daily","startTime":"22:00","stopTime":"06:00"`, `"day":"monday","startTime":"01:00"`, `"day":"weekdays","startTime":"23:00"`} {
		if !strings.Contains(got, want) {
			t.Errorf("charge-chargetimers %s lacks %s", got, want)
		}
	}
	// A second daily schedule replaces the first; the first's id is then unknown.
	second := idOf(post(tesla, "daily", attrs("startTime", "21:30", "stopTime", "05:30")))
	if got := timers(tesla); strings.Contains(got, first) || !strings.Contains(got, second) {
		t.Errorf("after a new daily schedule: %s", got)
	}
	if res := h.Do(t, "DELETE", "/v3/vehicles/"+tesla+"/charge-schedules/"+first, tok, nil); res.Status != 404 {
		t.Errorf("deleting the replaced schedule: %d %s", res.Status, res.Body)
	}
	// A kind's name is not an id: DELETE on it is a wrong method.
	if res := h.Do(t, "DELETE", "/v3/vehicles/"+tesla+"/charge-schedules/daily", tok, nil); res.Status != 405 || res.Header.Get("Allow") != "POST" {
		t.Errorf("DELETE …/charge-schedules/daily: %d Allow %q", res.Status, res.Header.Get("Allow"))
	}
	del := h.Do(t, "DELETE", "/v3/vehicles/"+tesla+"/charge-schedules/"+second, tok, nil)
	if del.Status != 200 || strings.Contains(timers(tesla), second) {
		t.Errorf("delete: %d %s; timers %s", del.Status, del.Body, timers(tesla))
	}
	golden(t, "command-charge-schedule-delete", del.Body)

	// Not capable: a Toyota, an ICE; a test-mode car takes it.
	for _, tc := range []struct {
		name, id, kind string
		body           any
		status         int
		code           string
	}{
		{"toyota", rav4, "daily", attrs("startTime", "22:00", "stopTime", "06:00"), 501, "VEHICLE_NOT_CAPABLE"},
		{"ice", ford, "daily", attrs("startTime", "22:00", "stopTime", "06:00"), 501, "VEHICLE_NOT_CAPABLE"},
		{"bad time", tesla, "daily", attrs("startTime", "25:00", "stopTime", "06:00"), 400, "PARAMETER"},
		{"missing stop", tesla, "daily", attrs("startTime", "22:00"), 400, "PARAMETER"},
		{"bad day", tesla, "weekly", attrs("days", map[string]any{"funday": map[string]string{"startTime": "01:00", "stopTime": "02:00"}}), 400, "PARAMETER"},
		{"empty workweek", tesla, "workweek", attrs(), 400, "PARAMETER"},
		{"bad location", tesla, "daily", attrs("startTime", "22:00", "stopTime", "06:00", "location", "home"), 400, "PARAMETER"},
		// …/charge-schedules/{scheduleId} serves DELETE only.
		{"unknown kind", tesla, "monthly", attrs(), 405, "METHOD_NOT_ALLOWED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := post(tc.id, tc.kind, tc.body)
			if res.Status != tc.status {
				t.Fatalf("%d, want %d: %s", res.Status, tc.status, res.Body)
			}
			if _, code := errorOf(t, res); code != tc.code {
				t.Errorf("code %s, want %s", code, tc.code)
			}
		})
	}
	if _, err := h.Store.UpdateVehicle(rav4, func(v *sandbox.Vehicle) error { v.Mode = sandbox.ModeTest; return nil }); err != nil {
		t.Fatal(err)
	}
	if res := post(rav4, "weekly", attrs("days", map[string]any{"sunday": map[string]string{"startTime": "10:00", "stopTime": "12:00"}})); res.Status != 200 {
		t.Errorf("test-mode Toyota: %d %s", res.Status, res.Body)
	}
}

// TestConnectionsByExternalID: the external_id an app gives Connect is kept with the connection
// (a later Connect without one keeps it), and filter[user.externalId] finds exactly those
// connections.
func TestConnectionsByExternalID(t *testing.T) {
	h := sandboxtest.MustStart(t)
	flow := func(username, externalID string) {
		t.Helper()
		q := url.Values{"response_type": {"code"}, "client_id": {sandboxtest.ClientID}, "redirect_uri": {sandboxtest.RedirectURI},
			"scope": {"read_vehicle_info"}, "mode": {"live"}, "approval_prompt": {"force"}}
		if externalID != "" {
			q.Set("external_id", externalID)
		}
		p := connecttest.NewBrowser(h.URL).Flow(t, q, "TESLA", username)
		if p.Status != 302 || p.Location(t).Query().Get("code") == "" {
			t.Fatalf("Connect for %s: %d %.300s", username, p.Status, p.Body)
		}
	}
	flow(sandboxtest.DemoUser, "crm-42")
	flow(sandboxtest.DemoUser, "") // reconnecting without one keeps it
	flow("other-user@example.com", "crm-7")
	app := appToken(t, h)
	count := func(externalID string) int {
		t.Helper()
		res := h.Do(t, "GET", "/v3/connections?filter[user.externalId]="+url.QueryEscape(externalID), app, nil)
		var body struct {
			Data []struct {
				Relationships struct {
					User struct{ Data struct{ ID string } }
				}
			}
		}
		if res.Status != 200 {
			t.Fatalf("filter[user.externalId]=%s: %d %s", externalID, res.Status, res.Body)
		}
		res.JSON(t, &body)
		return len(body.Data)
	}
	demo, _ := h.Store.Account(sandboxtest.DemoUser)
	if got, want := count("crm-42"), len(demo.VehicleIDs); got != want {
		t.Errorf("connections of external id crm-42: %d, want the demo user's %d", got, want)
	}
	if got := count("crm-7"); got != 1 {
		t.Errorf("connections of external id crm-7: %d, want 1", got)
	}
	if got := count("nobody"); got != 0 {
		t.Errorf("connections of an unknown external id: %d, want 0", got)
	}
}
