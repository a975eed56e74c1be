package webhooks_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/webhooks"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares a management API body with testdata/<name>.json, the receiver's URL and
// request ids masked.
func golden(t *testing.T, e *env, name string, body []byte) {
	t.Helper()
	body = bytes.ReplaceAll(body, []byte(e.recv.srv.URL), []byte("<receiver>"))
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%s: %v %s", name, err, body)
	}
	if m, ok := v.(map[string]any); ok {
		for _, x := range asSlice(m["errors"]) {
			x.(map[string]any)["meta"].(map[string]any)["requestId"] = "<request-id>"
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", name+".json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("%s differs from %s (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", name, path, buf.Bytes(), want)
	}
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

// TestManagementAPIV3: with the v3 application token, the webhook is listed and read, a
// subscription made through POST /v3/subscriptions (202) verifies the webhook with v3's VERIFY
// event and gets the same deliveries v2.0's subscribe gets, it is listed, read and deleted
// (after which nothing is delivered), and every mistake is a v3 error.
func TestManagementAPIV3(t *testing.T) {
	e := start(t, sandbox.Webhook{Signals: []string{"closure-islocked"}})
	app, _, err := e.h.Tokens.IssueApplication("sandbox-demo")
	if err != nil {
		t.Fatal(err)
	}
	demo, err := e.h.Store.Account("demo@sandbox.test")
	if err != nil {
		t.Fatal(err)
	}
	ok := func(name, method, path string, body any, status int) *sandboxtest.Response {
		t.Helper()
		res := e.h.Do(t, method, path, app, body)
		if res.Status != status {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, res.Status, status, res.Body)
		}
		if name != "" {
			golden(t, e, name, res.Body)
		}
		return res
	}
	ok("mgmt-webhooks", "GET", "/v3/webhooks", nil, 200)
	ok("mgmt-webhook", "GET", "/v3/webhooks/"+hookID, nil, 200)
	var filtered struct{ Data []any }
	ok("", "GET", "/v3/webhooks?filter[name]=nothing", nil, 200).JSON(t, &filtered)
	if len(filtered.Data) != 0 {
		t.Errorf("filter[name]=nothing listed %d webhooks", len(filtered.Data))
	}

	sub := map[string]any{"data": map[string]any{"attributes": map[string]string{"webhookId": hookID, "vehicleId": ford, "userId": demo.UserID}}}
	ok("mgmt-subscription-created", "POST", "/v3/subscriptions", sub, 202)
	got := e.recv.wait(2)
	verify, first := got[0], got[1]
	if verify.Payload["eventType"] != "VERIFY" || verify.Payload["meta"].(map[string]any)["version"] != "4.0" || verify.Payload["meta"].(map[string]any)["webhookId"] != hookID {
		t.Errorf("v3 subscription's verify is not v3's VERIFY event: %s", verify.Body)
	}
	if first.Payload["eventType"] != "VEHICLE_STATE" || strings.Join(triggers(first.Payload), ",") != "FIRST_DELIVERY" || !first.SigOK {
		t.Errorf("first delivery: %s (%s)", first.Body, first.SigError)
	}
	subID := webhooks.SubscriptionID(hookID, ford)
	ok("mgmt-subscriptions", "GET", "/v3/subscriptions?filter[vehicleId]="+ford, nil, 200)
	ok("mgmt-subscription", "GET", "/v3/subscriptions/"+subID, nil, 200)
	var none struct{ Data []any }
	ok("", "GET", "/v3/subscriptions?filter[vehicle.mode]=simulated", nil, 200).JSON(t, &none)
	if len(none.Data) != 0 {
		t.Errorf("filter[vehicle.mode]=simulated listed a live vehicle's subscription")
	}

	// A v3 command changes the subscribed signal: one delivery, as with v2.0.
	if res := e.h.Do(t, "POST", "/v3/vehicles/"+ford+"/commands/security/lock", app, nil, "sc-user-id", demo.UserID); res.Status != 200 {
		t.Fatalf("v3 lock: %d %s", res.Status, res.Body)
	}
	if lock := e.recv.wait(3)[2]; strings.Join(triggers(lock.Payload), ",") != "SIGNAL_UPDATED:closure-islocked" {
		t.Errorf("lock delivery: %s", lock.Body)
	}
	ok("", "DELETE", "/v3/subscriptions/"+subID, nil, 204)
	e.h.Do(t, "POST", "/v3/vehicles/"+ford+"/commands/security/unlock", app, nil, "sc-user-id", demo.UserID)
	time.Sleep(100 * time.Millisecond)
	if n := e.recv.count(); n != 3 {
		t.Errorf("delivered after DELETE /v3/subscriptions: %d requests", n)
	}

	ok("mgmt-applications", "GET", "/v3/applications", nil, 200)
	ok("mgmt-application", "GET", "/v3/applications/sandbox-demo", nil, 200)
	ok("mgmt-application-secrets", "GET", "/v3/applications/sandbox-demo/secrets", nil, 200)

	for _, tc := range []struct {
		name, method, path, tok string
		body                    any
		status                  int
	}{
		{"mgmt-error-other-apps-webhook", "GET", "/v3/webhooks/" + otherHook, app, nil, 404},
		{"mgmt-error-subscription-body", "POST", "/v3/subscriptions", app, map[string]any{"webhookId": hookID}, 400},
		{"mgmt-error-unknown-filter", "GET", "/v3/subscriptions?filter[make]=FORD", app, nil, 400},
		{"mgmt-error-vehicle-token", "GET", "/v3/webhooks", e.tok, nil, 401},
		{"mgmt-error-subscription-gone", "DELETE", "/v3/subscriptions/" + subID, app, nil, 404},
		{"", "POST", "/v3/subscriptions", app, map[string]any{"data": map[string]any{"attributes": map[string]string{"webhookId": otherHook, "vehicleId": ford}}}, 404},
		{"", "POST", "/v3/subscriptions", app, map[string]any{"data": map[string]any{"attributes": map[string]string{"webhookId": hookID, "vehicleId": "4865b890-1763-52d3-9cac-45893f822e09"}}}, 404},
		{"", "GET", "/v3/applications/other", app, nil, 404},
		{"", "GET", "/v3/webhooks?filter[isEnabled]=maybe", app, nil, 400},
		{"", "GET", "/v3/webhooks", "", nil, 401},
	} {
		t.Run(tc.path, func(t *testing.T) {
			res := e.h.Do(t, tc.method, tc.path, tc.tok, tc.body)
			if res.Status != tc.status {
				t.Fatalf("%d, want %d: %s", res.Status, tc.status, res.Body)
			}
			res.V3Error(t)
			if tc.name != "" {
				golden(t, e, tc.name, res.Body)
			}
		})
	}
	// The application management token (v2.0's) is accepted as well.
	if res := e.h.Do(t, "GET", "/v3/webhooks", amt, nil); res.Status != 200 {
		t.Errorf("management token: %d %s", res.Status, res.Body)
	}
}
