package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/faults"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/server"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/server/openapi"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/webhooks"
)

type openAPIDoc struct {
	OpenAPI string `json:"openapi"`
	// Paths: path → method → operation; "parameters" (a path's template parameters) sits
	// beside the methods and is not one.
	Paths map[string]map[string]any `json:"paths"`
}

// operations returns a path item's operations by method, leaving out "parameters".
func operations(item map[string]any) map[string]map[string]any {
	ops := map[string]map[string]any{}
	for k, v := range item {
		if k == "parameters" {
			continue
		}
		op, _ := v.(map[string]any)
		ops[k] = op
	}
	return ops
}

func loadOpenAPI(t *testing.T) openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(openapi.JSON(), &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestOpenAPIMatchesRouter walks the real router and the document both ways: every route
// the sandbox serves is documented with its method, and every documented operation is served.
func TestOpenAPIMatchesRouter(t *testing.T) {
	doc := loadOpenAPI(t)
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi = %q", doc.OpenAPI)
	}
	st, err := store.New(sandbox.Dataset{}, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	wh, err := webhooks.New(webhooks.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	// Everything mounted: the admin API and webhooks included.
	routes, err := server.Routes(server.Deps{Store: st, Now: time.Now, Control: &server.Control{AdminToken: "x", Faults: faults.NewSet()}, Webhooks: wh})
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]bool{}    // "METHOD path"
	anyMethod := map[string]bool{} // paths whose handler takes every method
	for _, r := range routes {
		if r.Prefix {
			continue // the admin API's catch-all for unknown paths
		}
		if r.Method == "" {
			anyMethod[r.Path] = true
			continue
		}
		served[r.Method+" "+r.Path] = true
	}
	documented := map[string]bool{}
	for p, item := range doc.Paths {
		for m := range operations(item) {
			documented[strings.ToUpper(m)+" "+p] = true
		}
	}
	for op := range served {
		if !documented[op] {
			t.Errorf("%s is served but not in openapi.yaml", op)
		}
	}
	for p := range anyMethod {
		if len(operations(doc.Paths[p])) == 0 && !served["GET "+p] {
			t.Errorf("%s (any method) is served but not in openapi.yaml", p)
		}
	}
	for op := range documented {
		_, p, _ := strings.Cut(op, " ")
		if !served[op] && !anyMethod[p] {
			t.Errorf("%s is in openapi.yaml but not served", op)
		}
	}
}

// TestOpenAPIPathParameters: a templated path declares each of its {parameters} as a
// required string in the path, and nothing else.
func TestOpenAPIPathParameters(t *testing.T) {
	template := regexp.MustCompile(`\{([^}]+)\}`)
	for p, item := range loadOpenAPI(t).Paths {
		var want []string
		for _, m := range template.FindAllStringSubmatch(p, -1) {
			want = append(want, m[1])
		}
		raw, _ := json.Marshal(item["parameters"])
		var params []struct {
			Name, In string
			Required bool
			Schema   struct{ Type string }
		}
		if err := json.Unmarshal(raw, &params); err != nil {
			t.Errorf("%s: parameters: %v", p, err)
			continue
		}
		var got []string
		for _, pr := range params {
			if pr.In != "path" || !pr.Required || pr.Schema.Type != "string" {
				t.Errorf("%s: parameter %+v, want in: path, required, type string", p, pr)
			}
			got = append(got, pr.Name)
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: parameters %v, want %v (the template's, in order)", p, got, want)
		}
	}
}

// TestOpenAPIServed: GET /openapi.json answers the document.
func TestOpenAPIServed(t *testing.T) {
	h := sandboxtest.MustStart(t)
	res := h.Do(t, http.MethodGet, "/openapi.json", "", nil)
	if res.Status != http.StatusOK || !bytes.Equal(res.Body, openapi.JSON()) || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /openapi.json: %d %s", res.Status, res.Header)
	}
}

// golden is one stored response and the operation it answers.
type golden struct {
	file   string // relative to internal/
	key    string // entry in a file of several (oauth's token.golden.json); "" for one
	op     string // "METHOD path template"
	status int    // 0: the file's own "status"
}

// goldens maps every golden response file to its operation. TestOpenAPIGoldens fails when a
// golden file is not listed, so a new one gets validated too.
func goldens() []golden {
	var out []golden
	v2 := "vehicleapi/testdata/golden/"
	veh := "/v2.0/vehicles/{id}"
	for name, sub := range map[string]string{
		"attributes": "", "attributes_trailing_slash": "", "battery": "/battery", "battery_capacity": "/battery/capacity",
		"battery_imperial": "/battery", "battery_nominal_capacity": "/battery/nominal_capacity", "charge": "/charge",
		"charge_limit": "/charge/limit", "dtcs": "/diagnostics/dtcs", "dtcs_none": "/diagnostics/dtcs", "engine_oil": "/engine/oil",
		"fuel": "/fuel", "fuel_imperial": "/fuel", "location": "/location", "odometer": "/odometer", "odometer_imperial": "/odometer",
		"permissions": "/permissions", "permissions_paged": "/permissions", "security": "/security", "security_open_window": "/security",
		"service_history": "/service/history", "service_history_filtered": "/service/history", "system_status": "/diagnostics/system_status",
		"system_status_bev": "/diagnostics/system_status", "tires_pressure": "/tires/pressure", "tires_pressure_imperial": "/tires/pressure",
		"vin": "/vin",
	} {
		out = append(out, golden{file: v2 + "read_" + name + ".json", op: "GET " + veh + sub})
	}
	for file, op := range map[string]string{
		"user": "GET /v2.0/user", "vehicles": "GET /v2.0/vehicles", "batch_mixed": "POST " + veh + "/batch",
		"command_charge_limit_then_read": "GET " + veh + "/charge/limit", "command_destination": "POST " + veh + "/navigation/destination",
		"command_disconnect": "DELETE " + veh + "/application", "command_lock_then_read": "GET " + veh + "/security",
		"management_connections": "GET /v2.0/management/connections", "management_delete": "DELETE /v2.0/management/connections",
		"error_after_disconnect": "GET " + veh + "/odometer", "error_auth_invalid": "GET " + veh + "/odometer",
		"error_auth_malformed": "GET " + veh + "/odometer", "error_auth_missing": "GET " + veh + "/odometer",
		"error_battery_on_ice": "GET " + veh + "/battery", "error_charge_unplugged": "POST " + veh + "/charge",
		"error_fuel_on_bev": "GET " + veh + "/fuel", "error_invalid_unit_system": "GET " + veh + "/odometer",
		"error_path_not_found": "GET " + veh + "/odometer", "error_permission": "GET " + veh + "/location",
		"error_validation_action": "POST " + veh + "/security", "error_vehicle_not_in_token": "GET " + veh + "/odometer",
	} {
		out = append(out, golden{file: v2 + file + ".json", op: op})
	}
	matches, _ := filepath.Glob(filepath.Join("..", "vehicleapi", "testdata", "golden", "compatibility_*.json"))
	for _, m := range matches {
		m, _ = filepath.Rel("..", m)
		op := "GET /v2.0/compatibility"
		if strings.HasPrefix(filepath.Base(m), "compatibility_matrix_") {
			op = "GET /v2.0/compatibility/matrix"
		}
		out = append(out, golden{file: m, op: op})
	}
	v3 := "vehicleapiv3/testdata/"
	vv := "/v3/vehicles/{id}"
	cmd := "POST " + vv + "/commands/"
	for file, g := range map[string]golden{
		"vehicle":                            {op: "GET " + vv, status: 200},
		"vehicle-app-token":                  {op: "GET " + vv, status: 200},
		"signal-doors":                       {op: "GET " + vv + "/signals/{code}", status: 200},
		"signal-list-page":                   {op: "GET " + vv + "/signals", status: 200},
		"signal-odometer":                    {op: "GET " + vv + "/signals/{code}", status: 200},
		"command-lock":                       {op: cmd + "security/lock", status: 200},
		"command-unlock":                     {op: cmd + "security/unlock", status: 200},
		"command-charge-start":               {op: cmd + "charge/start", status: 200},
		"command-charge-stop":                {op: cmd + "charge/stop", status: 200},
		"command-charge-set-limit":           {op: cmd + "charge/set-limit", status: 200},
		"command-navigation-set-destination": {op: cmd + "navigation/set-destination", status: 200},
		"command-charge-port-open":           {op: cmd + "charge-port/open", status: 200},
		"command-charge-port-close":          {op: cmd + "charge-port/close", status: 200},
		"command-charge-schedule-daily":      {op: "POST " + vv + "/charge-schedules/daily", status: 200},
		"command-charge-schedule-delete":     {op: "DELETE " + vv + "/charge-schedules/{scheduleId}", status: 200},
		"command-execution":                  {op: "GET " + vv + "/command-executions/{executionId}", status: 200},
		"connection":                         {op: "GET /v3/connections/{id}", status: 200},
		"connections-list":                   {op: "GET /v3/connections", status: 200},
		"error-authentication":               {op: "GET " + vv + "/signals", status: 401},
		"error-connection-not-found":         {op: "GET /v3/connections/{id}", status: 404},
		"error-destination-range":            {op: cmd + "navigation/set-destination", status: 400},
		"error-missing-sc-user-id":           {op: "GET " + vv + "/signals", status: 400},
		"error-not-capable":                  {op: "GET " + vv + "/signals/{code}", status: 501},
		"error-permission":                   {op: cmd + "security/lock", status: 403},
		"error-set-limit-body":               {op: cmd + "charge/set-limit", status: 400},
		"error-unknown-filter":               {op: "GET /v3/connections", status: 400},
		"error-user-not-found":               {op: "DELETE /v3/users/{userId}", status: 404},
		"error-vehicle-state":                {op: cmd + "charge/start", status: 409},
		// The router's answers for a path no operation serves (…/warp-drive) and for a method
		// the path does not serve (DELETE …/signals): checked against the nearest operation's
		// 404 and 405, which are the same V3Error, as the v2.0 path_not_found golden is.
		"error-path":   {op: "GET " + vv, status: 404},
		"error-method": {op: "GET " + vv + "/signals", status: 405},
	} {
		g.file = v3 + file + ".json"
		out = append(out, g)
	}
	mgmt := "webhooks/testdata/"
	for file, g := range map[string]golden{
		"mgmt-webhooks":                  {op: "GET /v3/webhooks", status: 200},
		"mgmt-webhook":                   {op: "GET /v3/webhooks/{webhookId}", status: 200},
		"mgmt-subscription-created":      {op: "POST /v3/subscriptions", status: 202},
		"mgmt-subscriptions":             {op: "GET /v3/subscriptions", status: 200},
		"mgmt-subscription":              {op: "GET /v3/subscriptions/{subscriptionId}", status: 200},
		"mgmt-applications":              {op: "GET /v3/applications", status: 200},
		"mgmt-application":               {op: "GET /v3/applications/{applicationId}", status: 200},
		"mgmt-application-secrets":       {op: "GET /v3/applications/{applicationId}/secrets", status: 200},
		"mgmt-error-other-apps-webhook":  {op: "GET /v3/webhooks/{webhookId}", status: 404},
		"mgmt-error-subscription-body":   {op: "POST /v3/subscriptions", status: 400},
		"mgmt-error-unknown-filter":      {op: "GET /v3/subscriptions", status: 400},
		"mgmt-error-vehicle-token":       {op: "GET /v3/webhooks", status: 401},
		"mgmt-error-subscription-gone":   {op: "DELETE /v3/subscriptions/{subscriptionId}", status: 404},
		"mgmt-error-subscribe-not-saved": {op: "POST /v3/subscriptions", status: 500},
	} {
		g.file = mgmt + file + ".json"
		out = append(out, g)
	}
	return out
}

// responseValidator returns a check of a body against the schema the document gives an
// operation ("METHOD path template") and status; a status documented without content (204)
// wants an empty body.
func responseValidator(t *testing.T) func(t *testing.T, op string, status int, body json.RawMessage) {
	t.Helper()
	doc := loadOpenAPI(t)
	const base = "https://sandbox.test/openapi.json"
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	raw, err := jsonschema.UnmarshalJSON(bytes.NewReader(openapi.JSON()))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource(base, raw); err != nil {
		t.Fatal(err)
	}
	return func(t *testing.T, op string, status int, body json.RawMessage) {
		t.Helper()
		method, path, _ := strings.Cut(op, " ")
		responses, _ := operations(doc.Paths[path])[strings.ToLower(method)]["responses"].(map[string]any)
		resp, ok := responses[fmt.Sprint(status)].(map[string]any)
		if !ok {
			t.Fatalf("%s: status %d is not documented", op, status)
		}
		// Follow a response $ref by hand: compiled as a schema it would check nothing.
		ptr := "/paths/" + escape(path) + "/" + strings.ToLower(method) + "/responses/" + fmt.Sprint(status)
		if ref, ok := resp["$ref"].(string); ok {
			ptr = strings.TrimPrefix(ref, "#")
			name := ref[strings.LastIndex(ref, "/")+1:]
			var comp struct {
				Components struct{ Responses map[string]map[string]any }
			}
			_ = json.Unmarshal(openapi.JSON(), &comp)
			resp = comp.Components.Responses[name]
		}
		if resp["content"] == nil && status == http.StatusNoContent {
			if len(body) != 0 {
				t.Errorf("%s %d: documented without a body, answered %q", op, status, body)
			}
			return
		}
		if _, ok := resp["content"].(map[string]any)["application/json"]; !ok {
			t.Fatalf("%s %d: no application/json schema", op, status)
		}
		sch, err := c.Compile(base + "#" + ptr + "/content/application~1json/schema")
		if err != nil {
			t.Fatal(err)
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(inst); err != nil {
			t.Errorf("%s %d: the body does not fit the documented schema: %v", op, status, err)
		}
	}
}

// TestOpenAPIGoldens validates every golden response against the schema the document gives
// its operation and status, so a response shape cannot change without the document.
func TestOpenAPIGoldens(t *testing.T) {
	validate := responseValidator(t)

	listed := map[string]bool{}
	for _, g := range goldens() {
		listed[filepath.Clean(g.file)] = true
		t.Run(filepath.Base(g.file), func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("..", g.file))
			if err != nil {
				t.Fatal(err)
			}
			if g.status != 0 {
				validate(t, g.op, g.status, b)
				return
			}
			var rec struct {
				Status int
				Body   json.RawMessage
			}
			if err := json.Unmarshal(b, &rec); err != nil || rec.Status == 0 {
				t.Fatalf("not a golden response record: %v", err)
			}
			validate(t, g.op, rec.Status, rec.Body)
		})
	}
	// The token endpoints' goldens: one file, an entry per case; the iam_ cases are v3's
	// application-token endpoint.
	b, err := os.ReadFile(filepath.Join("..", "oauth", "testdata", "token.golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases map[string]struct {
		Status int
		Body   json.RawMessage
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	for name, rec := range cases {
		op := "POST /oauth/token"
		if strings.HasPrefix(name, "iam_") {
			op = "POST /oauth2/token"
		}
		t.Run("token/"+name, func(t *testing.T) { validate(t, op, rec.Status, rec.Body) })
	}

	var unlisted []string
	for _, dir := range []string{"vehicleapi/testdata/golden", "vehicleapiv3/testdata", "webhooks/testdata"} {
		files, _ := filepath.Glob(filepath.Join("..", dir, "*.json"))
		for _, f := range files {
			rel, _ := filepath.Rel("..", f)
			if !listed[rel] {
				unlisted = append(unlisted, rel)
			}
		}
	}
	sort.Strings(unlisted)
	if len(unlisted) > 0 {
		t.Errorf("golden files not mapped to an operation in goldens(): %v", unlisted)
	}
}

func escape(p string) string { return strings.ReplaceAll(strings.ReplaceAll(p, "~", "~0"), "/", "~1") }
