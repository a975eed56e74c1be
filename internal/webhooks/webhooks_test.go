package webhooks_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	defaultfixtures "github.com/smartcar-sandbox/smartcar-sandbox/fixtures"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/fixtures"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/webhooks"
)

const (
	amt       = "sandbox-demo-management-token"
	otherAMT  = "other-management-token"
	hookID    = "5b7c1f7e-0000-4000-8000-000000000001" // sandbox-demo's webhook
	otherHook = "5b7c1f7e-0000-4000-8000-000000000002" // another application's webhook
	ford      = "9cc77f46-e827-55cd-885e-69909bdeafb0" // demo@sandbox.test, ICE with doors
	rav4      = "7e9389b9-16d5-5f58-a771-81255727b063" // demo@sandbox.test, PHEV unplugged
)

type env struct {
	h    *sandboxtest.Harness
	svc  *webhooks.Service
	recv *receiver
	tok  string // demo@sandbox.test's access token for sandbox-demo
}

// start runs a sandbox whose sandbox-demo application declares one webhook (pointing at a
// receiver on 127.0.0.1), plus another application with its own webhook; flags are more of
// the binary's (-webhook-attempts, -webhook-retry-base).
func start(t *testing.T, hook sandbox.Webhook, flags ...string) *env {
	t.Helper()
	return startOn(t, newReceiver(t, amt), hook, sandboxtest.Options{Flags: flags})
}

// startOn is start with the harness's options (a data dir, a -store, a save fault) and a given
// receiver, which several sandboxes may share (one restarted, replicas on one database).
func startOn(t *testing.T, recv *receiver, hook sandbox.Webhook, o sandboxtest.Options) *env {
	t.Helper()
	ds := hookFixtures(t, recv, hook)
	o.Dataset = &ds
	// Retries 20 ms apart unless flags say otherwise (a later flag wins).
	o.Flags = append([]string{"-webhook-retry-base=20ms"}, o.Flags...)
	h := sandboxtest.MustStartWith(t, o)
	tok, _ := h.Connect(t, "sandbox-demo", "demo@sandbox.test", sandboxtest.AllPermissions()...)
	return &env{h: h, svc: h.Webhooks, recv: recv, tok: tok}
}

// hookFixtures are the default fixtures with hook as sandbox-demo's webhook, delivering to
// recv, and another application with a webhook of its own.
func hookFixtures(t *testing.T, recv *receiver, hook sandbox.Webhook) sandbox.Dataset {
	t.Helper()
	ds, err := fixtures.Load(defaultfixtures.FS)
	if err != nil {
		t.Fatal(err)
	}
	hook.ID, hook.URL = hookID, recv.srv.URL+"/hooks"
	if hook.Name == "" {
		hook.Name = "test hook"
	}
	for i := range ds.Applications {
		if ds.Applications[i].ClientID == "sandbox-demo" {
			ds.Applications[i].Webhooks = []sandbox.Webhook{hook}
		}
	}
	ds.Applications = append(ds.Applications, sandbox.Application{Name: "Other", ClientID: "other", ClientSecret: "s",
		RedirectURIs: []string{"other://cb"}, ManagementToken: otherAMT,
		Webhooks: []sandbox.Webhook{{ID: otherHook, Name: "other", URL: recv.srv.URL + "/other"}}})
	return ds
}

func (e *env) subscribe(t *testing.T, vehicleID string) {
	t.Helper()
	res := e.h.Do(t, "POST", "/v2.0/vehicles/"+vehicleID+"/webhooks/"+hookID, e.tok, nil)
	var got webhooks.SubscribeResponse
	res.JSON(t, &got)
	if res.Status != 200 || got.WebhookID != hookID || got.VehicleID != vehicleID {
		t.Fatalf("subscribe: %d %s", res.Status, res.Body)
	}
}

func signalCodes(p map[string]any) []string {
	var out []string
	for _, s := range p["data"].(map[string]any)["signals"].([]any) {
		out = append(out, s.(map[string]any)["code"].(string))
	}
	return out
}

func triggers(p map[string]any) []string {
	var out []string
	for _, tr := range p["triggers"].([]any) {
		m := tr.(map[string]any)
		if s, ok := m["signal"].(map[string]any); ok {
			out = append(out, m["type"].(string)+":"+s["code"].(string))
		} else {
			out = append(out, m["type"].(string))
		}
	}
	return out
}

func TestSubscribeVerifyAndSignedStateDeliveries(t *testing.T) {
	e := start(t, sandbox.Webhook{Signals: []string{"closure-islocked", "odometer-traveleddistance"}})
	e.subscribe(t, ford)

	got := e.recv.wait(2)
	verify, first := got[0], got[1]
	if verify.Payload["eventName"] != "verify" || verify.Payload["version"] != "2.0" || verify.Payload["webhookId"] != hookID {
		t.Errorf("first request is not the verify challenge: %s", verify.Body)
	}
	if !e.svc.Verified(hookID) {
		t.Error("webhook not marked verified after a correct answer")
	}
	if !first.SigOK {
		t.Fatalf("first delivery's signature: %s", first.SigError)
	}
	if first.Payload["eventType"] != "VEHICLE_STATE" || strings.Join(triggers(first.Payload), ",") != "FIRST_DELIVERY" {
		t.Errorf("first delivery: %s", first.Body)
	}
	if got, want := strings.Join(signalCodes(first.Payload), ","), "closure-islocked,odometer-traveleddistance"; got != want {
		t.Errorf("signals = %s, want %s", got, want)
	}
	meta := first.Payload["meta"].(map[string]any)
	if meta["webhookId"] != hookID || meta["signalCount"] != 2.0 || meta["mode"] != "LIVE" || meta["version"] != "3.0" {
		t.Errorf("meta = %v", meta)
	}
	veh := first.Payload["data"].(map[string]any)["vehicle"].(map[string]any)
	if veh["id"] != ford || veh["vin"] != "1FTFW1E59MFA00004" {
		t.Errorf("vehicle = %v", veh)
	}

	// A lock through the v2.0 API changes closure-islocked: one delivery, triggered by it,
	// carrying both subscribed signals with the new value.
	if res := e.h.Do(t, "POST", "/v2.0/vehicles/"+ford+"/security", e.tok, `{"action":"LOCK"}`); res.Status != 200 {
		t.Fatalf("lock: %d %s", res.Status, res.Body)
	}
	lock := e.recv.wait(3)[2]
	if !lock.SigOK {
		t.Fatalf("signature: %s", lock.SigError)
	}
	if got, want := strings.Join(triggers(lock.Payload), ","), "SIGNAL_UPDATED:closure-islocked"; got != want {
		t.Errorf("triggers = %s, want %s", got, want)
	}
	sig0 := lock.Payload["data"].(map[string]any)["signals"].([]any)[0].(map[string]any)
	if body := sig0["body"].(map[string]any); body["value"] != true {
		t.Errorf("closure-islocked body = %v, want value true", body)
	}

	// A change to a signal the webhook does not carry (tires) sends nothing.
	if _, err := e.h.Store.UpdateVehicle(ford, func(v *sandbox.Vehicle) error { v.State.Tires.FrontLeft++; return nil }); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if n := e.recv.count(); n != 3 {
		t.Errorf("a tire change sent a delivery: %d requests", n)
	}

	// Unsubscribed: changes are no longer delivered.
	res := e.h.Do(t, "DELETE", "/v2.0/vehicles/"+ford+"/webhooks/"+hookID, amt, nil)
	if m := res.Map(t); res.Status != 200 || m["status"] != "success" {
		t.Fatalf("unsubscribe: %d %s", res.Status, res.Body)
	}
	e.h.Do(t, "POST", "/v2.0/vehicles/"+ford+"/security", e.tok, `{"action":"UNLOCK"}`)
	time.Sleep(100 * time.Millisecond)
	if n := e.recv.count(); n != 3 {
		t.Errorf("delivered after unsubscribing: %d requests", n)
	}
}

func TestVehicleErrorOnRefusedCommand(t *testing.T) {
	e := start(t, sandbox.Webhook{Events: []string{sandbox.EventVehicleError}})
	e.subscribe(t, rav4)
	res := e.h.Do(t, "POST", "/v2.0/vehicles/"+rav4+"/charge", e.tok, `{"action":"START"}`)
	if res.Status != 409 {
		t.Fatalf("start charge on an unplugged PHEV: %d %s", res.Status, res.Body)
	}
	// verify, then the error (no VEHICLE_STATE: the webhook only takes errors).
	got := e.recv.wait(2)[1]
	if !got.SigOK {
		t.Fatalf("signature: %s", got.SigError)
	}
	errs := got.Payload["data"].(map[string]any)["errors"].([]any)
	first := errs[0].(map[string]any)
	if got.Payload["eventType"] != "VEHICLE_ERROR" || first["type"] != "VEHICLE_STATE" || first["code"] != "CHARGING_PLUG_NOT_CONNECTED" || first["state"] != "ERROR" {
		t.Errorf("error delivery: %s", got.Body)
	}
}

func TestSubscribeAndUnsubscribeErrors(t *testing.T) {
	e := start(t, sandbox.Webhook{})
	base := "/v2.0/vehicles/" + ford + "/webhooks/"
	cases := []struct {
		name, method, path, tok string
		status                  int
		errType                 string
	}{
		{"subscribe without a token", "POST", base + hookID, "", 401, sandbox.TypeAuthentication},
		{"subscribe with a management token", "POST", base + hookID, amt, 401, sandbox.TypeAuthentication},
		{"subscribe to an unknown webhook", "POST", base + "5b7c1f7e-0000-4000-8000-0000000000ff", e.tok, 404, sandbox.TypeResourceNotFound},
		{"subscribe to another application's webhook", "POST", base + otherHook, e.tok, 404, sandbox.TypeResourceNotFound},
		{"subscribe a vehicle the token lacks", "POST", "/v2.0/vehicles/21439c28-806e-5a64-9f25-afdfe2341547/webhooks/" + hookID, e.tok, 403, sandbox.TypePermission},
		{"unsubscribe without a token", "DELETE", base + hookID, "", 401, sandbox.TypeAuthentication},
		{"unsubscribe with the vehicle token", "DELETE", base + hookID, e.tok, 401, sandbox.TypeAuthentication},
		{"unsubscribe with another application's token", "DELETE", base + hookID, otherAMT, 404, sandbox.TypeResourceNotFound},
		{"unsubscribe an unknown vehicle", "DELETE", "/v2.0/vehicles/00000000-0000-4000-8000-000000000000/webhooks/" + hookID, amt, 404, sandbox.TypeResourceNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := e.h.Do(t, c.method, c.path, c.tok, nil)
			m := res.Map(t)
			if res.Status != c.status || m["type"] != c.errType {
				t.Errorf("got %d %v, want %d %s: %s", res.Status, m["type"], c.status, c.errType, res.Body)
			}
		})
	}
	if subs := e.svc.Subscribed(hookID); len(subs) != 0 {
		t.Errorf("failed requests subscribed %v", subs)
	}
}

func TestRetriesWithBackoffAndTheDeliveryLog(t *testing.T) {
	const base = 40 * time.Millisecond
	e := start(t, sandbox.Webhook{Signals: []string{"closure-islocked"}}, "-webhook-attempts=3", "-webhook-retry-base="+base.String())
	e.recv.failNext = 2 // the first delivery fails twice, then gets through
	e.subscribe(t, ford)
	got := e.recv.wait(4) // verify + three tries of the first delivery
	if got[1].Status != 500 || got[2].Status != 500 || got[3].Status != 200 {
		t.Fatalf("statuses %d %d %d, want 500 500 200", got[1].Status, got[2].Status, got[3].Status)
	}
	if !(string(got[1].Body) == string(got[3].Body)) {
		t.Error("a retry sent a different body")
	}
	if gap1, gap2 := got[2].At.Sub(got[1].At), got[3].At.Sub(got[2].At); gap1 < base || gap2 < 2*base {
		t.Errorf("backoff gaps %v, %v; want ≥ %v and ≥ %v", gap1, gap2, base, 2*base)
	}

	// The log, newest first, through the admin endpoint.
	waitLog(t, e.svc, 4)
	res := e.h.Do(t, "GET", "/admin/webhooks/deliveries?webhookId="+hookID, "", nil)
	if res.Status != 401 {
		t.Errorf("log without the admin token: %d", res.Status)
	}
	res = e.h.Do(t, "GET", "/admin/webhooks/deliveries?webhookId="+hookID, sandboxtest.AdminToken, nil)
	var log struct{ Deliveries []webhooks.Delivery }
	res.JSON(t, &log)
	var outcomes []string
	for _, d := range log.Deliveries {
		outcomes = append(outcomes, d.EventType+"/"+d.Outcome)
	}
	if got, want := strings.Join(outcomes, ","), "VEHICLE_STATE/delivered,VEHICLE_STATE/retrying,VEHICLE_STATE/retrying,VERIFY/verified"; got != want {
		t.Errorf("log = %s\nwant  %s", got, want)
	}
	if d := log.Deliveries; len(d) == 4 && (d[0].DeliveryID != d[1].DeliveryID || d[0].Attempt != 3 || d[1].Status != 500) {
		t.Errorf("retries should share the delivery id and count attempts: %+v", d[:2])
	}
	if res := e.h.Do(t, "GET", "/admin/webhooks/deliveries?limit=x", sandboxtest.AdminToken, nil); res.Status != 400 {
		t.Errorf("limit=x: %d", res.Status)
	}

	// A receiver that keeps failing: the delivery gives up after MaxAttempts.
	e.recv.mu.Lock()
	e.recv.failNext = 10
	e.recv.mu.Unlock()
	e.h.Do(t, "POST", "/v2.0/vehicles/"+ford+"/security", e.tok, `{"action":"LOCK"}`)
	e.recv.wait(7)
	waitLog(t, e.svc, 7)
	if d := e.svc.Deliveries()[0]; d.Outcome != webhooks.OutcomeFailed || d.Attempt != 3 {
		t.Errorf("last log entry = %s attempt %d, want failed attempt 3", d.Outcome, d.Attempt)
	}
}

func TestUnverifiedWebhookGetsNothing(t *testing.T) {
	e := start(t, sandbox.Webhook{}, "-webhook-attempts=1")
	e.recv.badVerify = true
	e.subscribe(t, ford)
	e.recv.wait(1)
	waitLog(t, e.svc, 2)
	if n := e.recv.count(); n != 1 {
		t.Errorf("sent %d requests to a webhook that failed the challenge, want only the challenge", n)
	}
	d := e.svc.Deliveries()
	if len(d) != 2 || d[0].Outcome != webhooks.OutcomeSkipped || d[1].Outcome != webhooks.OutcomeFailed || !strings.Contains(d[1].Error, "challenge is wrong") {
		t.Errorf("log = %+v", d)
	}
}

func TestIntervalBatchesChanges(t *testing.T) {
	const interval = 300 * time.Millisecond
	e := start(t, sandbox.Webhook{Signals: []string{"closure-islocked", "odometer-traveleddistance"}, Interval: interval})
	e.subscribe(t, ford)
	e.recv.wait(2)
	// Two changes inside the interval: one delivery with both triggers. (The interval is
	// measured on the sandbox clock, which this test does not move.)
	e.h.Do(t, "POST", "/v2.0/vehicles/"+ford+"/security", e.tok, `{"action":"LOCK"}`)
	if _, err := e.h.Store.UpdateVehicle(ford, func(v *sandbox.Vehicle) error { v.State.OdometerKm += 10; return nil }); err != nil {
		t.Fatal(err)
	}
	got := e.recv.wait(3)[2]
	time.Sleep(interval / 2)
	if n := e.recv.count(); n != 3 {
		t.Errorf("%d requests, want one batched delivery", n)
	}
	if got, want := strings.Join(triggers(got.Payload), ","), "SIGNAL_UPDATED:closure-islocked,SIGNAL_UPDATED:odometer-traveleddistance"; got != want {
		t.Errorf("triggers = %s, want %s", got, want)
	}
}

func TestUnknownSignalInFixturesIsRefused(t *testing.T) {
	h := sandboxtest.MustStart(t)
	if err := h.Store.PutApplication(sandbox.Application{ClientID: "x", Source: "apps.yaml:3", Webhooks: []sandbox.Webhook{{ID: hookID, URL: "http://127.0.0.1/", Signals: []string{"odometer-nope"}}}}); err != nil {
		t.Fatal(err)
	}
	_, err := webhooks.New(webhooks.Options{Store: h.Store})
	if err == nil || !strings.Contains(err.Error(), `apps.yaml:3: webhook `+hookID+`: unknown signal "odometer-nope"`) {
		t.Errorf("err = %v", err)
	}
}

func TestEncodeIsWhatJSONStringifyWrites(t *testing.T) {
	b, err := webhooks.Encode(map[string]any{"model": "F-150 <Lariat> & co", "n": 1.5})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"model":"F-150 <Lariat> & co","n":1.5}`; got != want {
		t.Errorf("Encode = %s, want %s", got, want)
	}
}

// TestNodeSDKVerifiesDeliveries runs the official Node SDK's verifyPayload on a real
// delivery when node and the SDK (e2e/node) are installed.
func TestNodeSDKVerifiesDeliveries(t *testing.T) {
	sdk, _ := filepath.Abs("../../e2e/node/node_modules/smartcar")
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	if _, err := os.Stat(sdk); err != nil {
		t.Skip("the Node SDK is not installed under e2e/node (npm ci there)")
	}
	e := start(t, sandbox.Webhook{})
	e.subscribe(t, ford)
	got := e.recv.wait(2)
	dir := t.TempDir()
	for i, r := range got {
		file := filepath.Join(dir, "body.json")
		if err := os.WriteFile(file, r.Body, 0o600); err != nil {
			t.Fatal(err)
		}
		script := `const sc = require(process.argv[1]); const fs = require("fs");
const body = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
process.stdout.write(String(sc.verifyPayload(process.argv[3], process.argv[4], body)));`
		out, err := exec.Command("node", "-e", script, sdk, file, amt, r.Signature).CombinedOutput()
		if err != nil || string(out) != "true" {
			t.Errorf("request %d: Node verifyPayload = %s (%v) for %s", i, out, err, r.Body)
		}
	}
}

// waitLog waits until the delivery log holds n entries (an attempt is logged after its
// response arrives, so just after the receiver saw a request).
func waitLog(t *testing.T, svc *webhooks.Service, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); len(svc.Deliveries()) < n; {
		if time.Now().After(deadline) {
			t.Fatalf("delivery log has %d entries, want %d", len(svc.Deliveries()), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Subscriptions and verifications live in the store: a service started anew on it (as after
// a restart with a durable store) carries them on, and an unsubscribe ends them there too.
func TestSubscriptionsLiveInTheStore(t *testing.T) {
	e := start(t, sandbox.Webhook{Signals: []string{"closure-islocked"}})
	e.subscribe(t, ford)
	deadline := time.Now().Add(5 * time.Second)
	for !e.svc.Verified(hookID) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	again, err := webhooks.New(webhooks.Options{Store: e.h.Store, Now: e.h.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if got := again.Subscribed(hookID); len(got) != 1 || got[0] != ford {
		t.Errorf("a new service sees subscriptions %v, want [%s]", got, ford)
	}
	if !again.Verified(hookID) {
		t.Error("a new service does not know the webhook was verified")
	}
	res := e.h.Do(t, "DELETE", "/v2.0/vehicles/"+ford+"/webhooks/"+hookID, amt, nil)
	if res.Status != 200 {
		t.Fatalf("unsubscribe: %d %s", res.Status, res.Body)
	}
	if got := e.h.Store.WebhookSubscriptions(); len(got) != 0 {
		t.Errorf("the store still holds %+v after unsubscribe", got)
	}
}
