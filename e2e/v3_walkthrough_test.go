package e2e_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/app"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/config"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/connect/connecttest"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/webhooks"
)

// The walk-through of docs/api-v3.md, step by step over HTTP against a real sandbox whose demo
// application declares one webhook (pointing at a receiver here): Connect (user_id), the IAM
// token (JSON body), connections, the vehicle, signals, every command, a command execution,
// the management API (webhooks, a subscription and its deliveries), and the deletes.
const (
	walkWebhookID = "5b7c1f7e-7a1d-4c55-9a57-3c2d2b1f0e01"
	walkAMT       = "sandbox-demo-management-token"
)

// hookReceiver answers the VERIFY challenge (v2 or v3 form) and records every event.
type hookReceiver struct {
	mu     sync.Mutex
	events []map[string]any
	got    chan struct{}
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var p map[string]any
	_ = json.Unmarshal(body, &p)
	h.mu.Lock()
	h.events = append(h.events, p)
	h.mu.Unlock()
	h.got <- struct{}{}
	if p["eventType"] == "VERIFY" {
		challenge, _ := p["data"].(map[string]any)["challenge"].(string)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"challenge":%q}`, webhooks.Sign(walkAMT, []byte(challenge)))
		return
	}
	w.WriteHeader(http.StatusOK)
}

// wait returns the first n events, failing after 5 s.
func (h *hookReceiver) wait(t *testing.T, n int) []map[string]any {
	t.Helper()
	events := h.until(t, fmt.Sprintf("%d events", n), func(events []map[string]any) bool { return len(events) >= n })
	return events[:n]
}

// waitFor waits until an event the receiver got matches, failing after 5 s.
func (h *hookReceiver) waitFor(t *testing.T, what string, match func(map[string]any) bool) {
	t.Helper()
	h.until(t, what, func(events []map[string]any) bool { return slices.ContainsFunc(events, match) })
}

// until waits until the events received so far satisfy done and returns a copy of them,
// failing after 5 s.
func (h *hookReceiver) until(t *testing.T, what string, done func([]map[string]any) bool) []map[string]any {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		h.mu.Lock()
		events := slices.Clone(h.events)
		h.mu.Unlock()
		if done(events) {
			return events
		}
		select {
		case <-h.got:
		case <-deadline:
			t.Fatalf("the webhook received %d events, waiting for %s", len(events), what)
		}
	}
}

// fixturesWithWebhook copies the default fixtures and gives the demo application a webhook.
func fixturesWithWebhook(t *testing.T, url string) string {
	t.Helper()
	src := filepath.Join(repoRoot(t), "fixtures")
	dir := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == "applications.yaml" {
			const anchor = "    management_token: sandbox-demo-management-token\n"
			if !bytes.Contains(b, []byte(anchor)) {
				t.Fatalf("fixtures/applications.yaml no longer has %q", anchor)
			}
			b = bytes.Replace(b, []byte(anchor), []byte(anchor+
				"    webhooks:\n      - id: "+walkWebhookID+"\n        name: Walk-through\n        url: "+url+"\n        signals: [closure-islocked, charge-chargelimits]\n"), 1)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type walk struct {
	t      *testing.T
	origin string
	token  string
	user   string
}

// call sends a v3 request with the application token (and sc-user-id when withUser), and
// fails unless the status is want; it returns the decoded body (nil for 204).
func (w walk) call(method, path string, body any, withUser bool, want int) map[string]any {
	w.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, w.origin+path, rd)
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+w.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if withUser {
		req.Header.Set("sc-user-id", w.user)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		w.t.Fatalf("%s %s: %d, want %d: %s", method, path, res.StatusCode, want, raw)
	}
	if len(raw) == 0 {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		w.t.Fatalf("%s %s: not JSON: %s", method, path, raw)
	}
	return m
}

func attrsBody(kv ...any) map[string]any {
	a := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		a[kv[i].(string)] = kv[i+1]
	}
	return map[string]any{"data": map[string]any{"attributes": a}}
}

func dig(m any, path ...string) any {
	for _, k := range path {
		mm, _ := m.(map[string]any)
		m = mm[k]
	}
	return m
}

func TestV3WalkThrough(t *testing.T) {
	recv := &hookReceiver{got: make(chan struct{}, 100)}
	hook := httptest.NewServer(recv)
	t.Cleanup(hook.Close)
	a, err := app.Start(config.Config{Addr: "127.0.0.1:0", LogFormat: "text", FixturesDir: fixturesWithWebhook(t, hook.URL+"/hooks")}, testLogWriter{t})
	if err != nil {
		t.Fatalf("start sandbox: %v", err)
	}
	t.Cleanup(func() { _ = a.Shutdown(t.Context()) })
	origin := a.Origin

	// 1. Connect: the final redirect carries user_id (and code, for v2.0).
	q := url.Values{"response_type": {"code"}, "client_id": {demoClientID}, "redirect_uri": {demoAppRedirect},
		"scope": {"required:read_vehicle_info read_odometer read_battery read_charge read_security read_location control_security control_charge control_navigation"},
		"state": {"walk"}}
	p := connecttest.NewBrowser(origin).Flow(t, q, "TESLA", demoUser)
	if p.Status != http.StatusFound {
		t.Fatalf("Connect ended with %d:\n%s", p.Status, p.Body)
	}
	back := p.Location(t).Query()
	userID := back.Get("user_id")
	if userID == "" || back.Get("code") == "" || back.Get("state") != "walk" {
		t.Fatalf("redirect query %v: want user_id, code and state", back)
	}

	// 2. The IAM token, JSON body with the credentials in it.
	res, err := http.Post(origin+"/oauth2/token", "application/json",
		strings.NewReader(`{"grant_type":"client_credentials","client_id":"`+demoClientID+`","client_secret":"`+demoClientSecret+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		Refresh     string `json:"refresh_token"`
	}
	_ = json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	if res.StatusCode != 200 || tok.AccessToken == "" || tok.ExpiresIn != 3600 || tok.Refresh != "" {
		t.Fatalf("/oauth2/token: %d %+v", res.StatusCode, tok)
	}
	w := walk{t: t, origin: origin, token: tok.AccessToken, user: userID}

	// 3. Connections of that user: the Tesla's (plugged in and charging in the fixtures).
	conns := w.call("GET", "/v3/connections?filter[userId]="+userID, nil, false, 200)
	list, _ := conns["data"].([]any)
	var conn any
	for _, c := range list {
		if dig(c, "attributes", "vehicle", "make") == "TESLA" {
			conn = c
		}
	}
	if conn == nil {
		t.Fatalf("no Tesla among the connections of user %s: %v", userID, conns)
	}
	connID, _ := dig(conn, "id").(string)
	vid, _ := dig(conn, "relationships", "vehicle", "data", "id").(string)
	if connID == "" || vid == "" || dig(conn, "relationships", "user", "data", "id") != userID {
		t.Fatalf("connection %v", conn)
	}
	w.call("GET", "/v3/connections/"+connID, nil, false, 200)

	// 4. The vehicle and its signals.
	if v := w.call("GET", "/v3/vehicles/"+vid, nil, false, 200); dig(v, "data", "attributes", "make") != "TESLA" {
		t.Errorf("vehicle %v", v)
	}
	sigs := w.call("GET", "/v3/vehicles/"+vid+"/signals?page[size]=100", nil, true, 200)
	if n, _ := dig(sigs, "meta", "totalCount").(float64); n < 10 {
		t.Errorf("only %v signals", n)
	}
	w.call("GET", "/v3/vehicles/"+vid+"/signals/tractionbattery-stateofcharge", nil, true, 200)

	// 5. The management API: the webhook, and a subscription (202), verified with v3's VERIFY
	// and then a first delivery.
	if hooks := w.call("GET", "/v3/webhooks", nil, false, 200); len(hooks["data"].([]any)) != 1 {
		t.Errorf("webhooks %v", hooks)
	}
	w.call("GET", "/v3/webhooks/"+walkWebhookID, nil, false, 200)
	w.call("POST", "/v3/subscriptions", attrsBody("webhookId", walkWebhookID, "vehicleId", vid, "userId", userID), false, 202)
	ev := recv.wait(t, 2)
	if ev[0]["eventType"] != "VERIFY" || ev[1]["eventType"] != "VEHICLE_STATE" {
		t.Fatalf("events %v", ev)
	}
	subs := w.call("GET", "/v3/subscriptions?filter[vehicleId]="+vid, nil, false, 200)
	subList, _ := subs["data"].([]any)
	if len(subList) != 1 {
		t.Fatalf("subscriptions %v", subs)
	}
	subID, _ := dig(subList[0], "id").(string)
	w.call("GET", "/v3/subscriptions/"+subID, nil, false, 200)

	// 6. Every command at its documented path and body; the lock and the limit reach the webhook.
	cmd := func(path string, body any, want int) map[string]any {
		t.Helper()
		return w.call("POST", "/v3/vehicles/"+vid+"/commands/"+path, body, true, want)
	}
	lock := cmd("security/lock", nil, 200)
	if dig(lock, "data", "attributes", "commandType") != "security-lock" {
		t.Errorf("lock %v", lock)
	}
	cmd("security/unlock", nil, 200)
	cmd("charge/stop", nil, 200)
	cmd("charge/start", nil, 200)
	limit := cmd("charge/set-limit", attrsBody("percent", 80), 200)
	if dig(limit, "data", "attributes", "parameters", "percent") != 80.0 {
		t.Errorf("set-limit %v", limit)
	}
	cmd("navigation/set-destination", attrsBody("latitude", 37.7749, "longitude", -122.4194), 200)
	cmd("charge-port/open", nil, 200)
	if e := cmd("charge-port/close", nil, 409); dig(e["errors"].([]any)[0], "code") != "CHARGING_PLUG_CONNECTED" {
		t.Errorf("closing the port over the cable: %v", e)
	}
	sched := w.call("POST", "/v3/vehicles/"+vid+"/charge-schedules/daily", attrsBody("startTime", "22:00", "stopTime", "06:00"), true, 200)
	schedID, _ := dig(sched, "data", "attributes", "parameters", "scheduleId").(string)
	if timers := w.call("GET", "/v3/vehicles/"+vid+"/signals/charge-chargetimers", nil, true, 200); !strings.Contains(fmt.Sprint(dig(timers, "attributes", "body")), schedID) {
		t.Errorf("charge-chargetimers %v lacks schedule %s", dig(timers, "attributes", "body"), schedID)
	}
	w.call("DELETE", "/v3/vehicles/"+vid+"/charge-schedules/"+schedID, nil, true, 200)
	execID, _ := dig(limit, "data", "id").(string)
	w.call("GET", "/v3/vehicles/"+vid+"/command-executions/"+execID, nil, true, 200)
	// Deliveries after the first one come in no fixed order: the refused charge-port/close
	// sends an error event (no triggers) that may arrive before the lock's delivery.
	recv.waitFor(t, "a delivery for the lock", func(e map[string]any) bool {
		triggers, _ := e["triggers"].([]any)
		return slices.ContainsFunc(triggers, func(tr any) bool { return dig(tr, "signal", "code") == "closure-islocked" })
	})
	if sig := w.call("GET", "/v3/vehicles/"+vid+"/signals/charge-chargelimits", nil, true, 200); dig(sig, "attributes", "body", "activeLimit") != 80.0 {
		t.Errorf("charge limits after set-limit 80: %v", dig(sig, "attributes", "body"))
	}
	w.call("DELETE", "/v3/subscriptions/"+subID, nil, false, 204)

	// 7. Deleting the connection and the user ends them; the user's reads are refused.
	w.call("DELETE", "/v3/connections/"+connID, nil, false, 204)
	if e := w.call("GET", "/v3/vehicles/"+vid+"/signals", nil, true, 403); dig(e["errors"].([]any)[0], "type") != "PERMISSION" {
		t.Errorf("signals after the delete: %v", e)
	}
	if rest := w.call("GET", "/v3/connections?filter[userId]="+userID, nil, false, 200); len(rest["data"].([]any)) > 0 {
		w.call("DELETE", "/v3/users/"+userID, nil, false, 204)
	}
	w.call("DELETE", "/v3/users/"+userID, nil, false, 404)
}
