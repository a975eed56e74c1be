package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/config"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
)

// send sends a request to a's origin and returns the status and body.
func send(t *testing.T, a *App, method, path, bearer string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, a.Origin+path, rd)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// TestMetricsAfterKnownRequests runs a known sequence of requests and reads the counters back
// from GET /metrics: requests by door, route and status, latency counts, Connect flows, token
// grants, issued tokens, faults fired and the store's size.
func TestMetricsAfterKnownRequests(t *testing.T) {
	a := MustStart(t, config.Config{RequestLogSize: 10})
	const odo = "/v2.0/vehicles/d21b0a03-5c3f-5c86-8c05-122d6fde0b3c/odometer"

	status, body := send(t, a, "POST", "/admin/connect", a.AdminToken, map[string]any{"clientId": "sandbox-demo", "redirectUri": "scsandbox-demo://exchange",
		"username": "demo@sandbox.test", "scope": "read_odometer", "exchange": true})
	var conn struct {
		Tokens struct {
			AccessToken  string `json:"access_token"`
			RefreshToken string `json:"refresh_token"`
		}
	}
	if err := json.Unmarshal(body, &conn); err != nil || status != http.StatusOK {
		t.Fatalf("connect: %d %s", status, body)
	}
	if status, body := send(t, a, "POST", "/admin/connect", a.AdminToken, map[string]any{"clientId": "sandbox-demo", "redirectUri": "scsandbox-demo://exchange",
		"username": "demo@sandbox.test", "scope": "read_odometer", "deny": true}); status != http.StatusBadRequest {
		t.Fatalf("deny: %d %s", status, body)
	}
	for range 3 {
		if status, body := send(t, a, "GET", odo, conn.Tokens.AccessToken, nil); status != http.StatusOK {
			t.Fatalf("odometer: %d %s", status, body)
		}
	}
	if status, _ := send(t, a, "GET", odo, "not-a-token", nil); status != http.StatusUnauthorized {
		t.Fatalf("bad token: %d", status)
	}
	req, _ := http.NewRequest("POST", a.Origin+"/oauth/token", strings.NewReader("grant_type=refresh_token&refresh_token="+conn.Tokens.RefreshToken))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("sandbox-demo", "sandbox-demo-secret")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("refresh: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	if status, body := send(t, a, "POST", "/admin/faults", a.AdminToken, map[string]any{"count": 1, "error": map[string]string{"type": "VEHICLE_STATE", "code": "ASLEEP"}}); status != http.StatusCreated {
		t.Fatalf("fault: %d %s", status, body)
	}
	faulted, _ := send(t, a, "GET", odo, conn.Tokens.AccessToken, nil)
	if faulted == http.StatusOK {
		t.Fatal("the fault rule did not fire")
	}
	if status, _ := send(t, a, "GET", "/nope", "", nil); status != http.StatusNotFound {
		t.Fatalf("/nope: %d", status)
	}
	if status, body := send(t, a, "GET", "/readyz", "", nil); status != http.StatusOK || !strings.Contains(string(body), `"ready"`) {
		t.Fatalf("readyz: %d %s", status, body)
	}

	status, body = send(t, a, "GET", "/metrics", "", nil)
	if status != http.StatusOK {
		t.Fatalf("metrics: %d", status)
	}
	text := string(body)
	for _, want := range []string{
		`smartcar_sandbox_http_requests_total{door="v2",method="GET",route="/v2.0/vehicles/{id}/odometer",status="200"} 3`,
		`smartcar_sandbox_http_requests_total{door="v2",method="GET",route="/v2.0/vehicles/{id}/odometer",status="401"} 1`,
		fmt.Sprintf(`smartcar_sandbox_http_requests_total{door="v2",method="*",route="none",status="%d"} 1`, faulted),
		`smartcar_sandbox_http_requests_total{door="sandbox",method="*",route="none",status="404"} 1`,
		`smartcar_sandbox_http_requests_total{door="admin",method="POST",route="/admin/connect",status="200"} 1`,
		`smartcar_sandbox_http_requests_total{door="admin",method="POST",route="/admin/connect",status="400"} 1`,
		`smartcar_sandbox_http_requests_total{door="auth",method="*",route="/oauth/token",status="200"} 1`,
		`smartcar_sandbox_http_requests_total{door="sandbox",method="GET",route="/readyz",status="200"} 1`,
		`smartcar_sandbox_http_request_duration_seconds_count{door="v2",method="GET",route="/v2.0/vehicles/{id}/odometer"} 4`,
		`smartcar_sandbox_connect_flows_total{event="started"} 2`,
		`smartcar_sandbox_connect_flows_total{event="completed"} 1`,
		`smartcar_sandbox_connect_flows_total{event="access_denied"} 1`,
		`smartcar_sandbox_token_grants_total{grant_type="authorization_code"} 1`,
		`smartcar_sandbox_token_grants_total{grant_type="refresh_token"} 1`,
		`smartcar_sandbox_access_tokens_issued_total{kind="vehicle"} 2`,
		`smartcar_sandbox_fault_rules_fired_total 1`,
		fmt.Sprintf(`smartcar_sandbox_store_objects{kind="vehicles"} %d`, len(a.Store.Vehicles())),
		fmt.Sprintf(`smartcar_sandbox_store_objects{kind="grants"} %d`, len(a.Store.Grants(store.GrantFilter{}))),
		"go_goroutines ", "process_resident_memory_bytes ",
	} {
		if !strings.Contains(text, want+"\n") && !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", grepLines(text, "smartcar_sandbox_"))
	}
}

// TestReadyzWhileStopping: /readyz answers 503 once Shutdown has begun, /healthz stays 200
// for what is still in flight.
func TestReadyzWhileStopping(t *testing.T) {
	a := MustStart(t, config.Config{})
	a.ready.Store(false) // what Shutdown does first
	if status, body := send(t, a, "GET", "/readyz", "", nil); status != http.StatusServiceUnavailable || !strings.Contains(string(body), "stopping") {
		t.Fatalf("readyz: %d %s", status, body)
	}
	if status, _ := send(t, a, "GET", "/healthz", "", nil); status != http.StatusOK {
		t.Fatalf("healthz: %d", status)
	}
}

func grepLines(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
