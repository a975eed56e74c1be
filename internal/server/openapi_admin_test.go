package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/webhooks"
)

// TestOpenAPIAdminResponses calls every documented admin operation through the real app with
// a valid request and validates the answer against the schema the document gives its status,
// so the admin API's documented shapes cannot drift from what the handlers write. Each step
// feeds the next (a headless Connect makes the grant, tokens and code the later steps act on).
func TestOpenAPIAdminResponses(t *testing.T) {
	validate := responseValidator(t)
	h := sandboxtest.MustStartWith(t, sandboxtest.Options{Reload: func() (store.ReloadResult, error) {
		// What a reload that set a vehicle's grant aside reports.
		return store.ReloadResult{GrantsKept: 1, GrantsDropped: 1, DroppedVehicleIDs: []string{"d21b0a03-5c3f-5c86-8c05-122d6fde0b3c"}, GrantsWaiting: 1}, nil
	}})
	called := map[string]bool{}
	// call sends one admin request, checks the status the step expects and validates the body
	// against the documented schema; it returns the body decoded.
	call := func(t *testing.T, op, path string, body any, want int) map[string]any {
		t.Helper()
		method, _, _ := strings.Cut(op, " ")
		res := h.Admin(t, method, path, body)
		if res.Status != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, res.Status, res.Body, want)
		}
		called[op] = true
		validate(t, op, res.Status, res.Body)
		if len(res.Body) == 0 {
			return nil
		}
		var m map[string]any
		if err := json.Unmarshal(res.Body, &m); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		return m
	}
	// first returns the first object of a list property, failing when the list is empty (a
	// schema's items are only checked when there are items).
	first := func(t *testing.T, m map[string]any, key string) map[string]any {
		t.Helper()
		list, _ := m[key].([]any)
		if len(list) == 0 {
			t.Fatalf("%s: empty, want at least one to validate", key)
		}
		return list[0].(map[string]any)
	}

	call(t, "GET /admin", "/admin", nil, http.StatusOK)
	conn := call(t, "POST /admin/connect", "/admin/connect", map[string]any{"clientId": sandboxtest.ClientID, "redirectUri": sandboxtest.RedirectURI,
		"username": sandboxtest.DemoUser, "scope": []string{"read_odometer", "read_vehicle_info"}, "state": "s1", "exchange": true}, http.StatusOK)
	tokens, _ := conn["tokens"].(map[string]any)
	refresh, _ := tokens["refresh_token"].(string)
	if refresh == "" {
		t.Fatalf("headless Connect with exchange gave no refresh token: %v", conn)
	}
	// A second flow without the exchange leaves an unused code.
	unused := call(t, "POST /admin/connect", "/admin/connect", map[string]any{"clientId": sandboxtest.ClientID, "redirectUri": sandboxtest.RedirectURI,
		"username": sandboxtest.DemoUser, "scope": "read_odometer"}, http.StatusOK)

	call(t, "GET /admin/applications", "/admin/applications", nil, http.StatusOK)
	// The application declares a webhook at a receiver here, so the delivery log has an entry.
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	t.Cleanup(recv.Close)
	const hookID = "5d1e3c0a-7f53-4c3e-9a53-2f0c5b9b1f11"
	app := map[string]any{"clientId": "schema-app", "name": "Schema app", "redirectUris": []string{"schema-app://exchange"},
		"webhooks": []map[string]any{{"id": hookID, "name": "schema hook", "url": recv.URL + "/hooks", "signals": []string{"odometer-traveleddistance"}}}}
	call(t, "POST /admin/applications", "/admin/applications", app, http.StatusCreated)
	call(t, "POST /admin/applications", "/admin/applications", app, http.StatusOK) // replaced

	first(t, call(t, "GET /admin/accounts", "/admin/accounts", nil, http.StatusOK), "accounts")
	acct := map[string]any{"username": "schema@sandbox.test", "vehicles": []map[string]any{{"make": "TESLA", "model": "Model 3", "year": 2024, "powertrain": "BEV"}}}
	added := call(t, "POST /admin/accounts", "/admin/accounts", acct, http.StatusCreated)
	vid := first(t, added, "vehicles")["id"].(string)
	acct["vehicleIds"], acct["vehicles"] = []string{vid}, []any{}
	call(t, "POST /admin/accounts", "/admin/accounts", acct, http.StatusOK) // replaced

	first(t, call(t, "GET /admin/vehicles", "/admin/vehicles", nil, http.StatusOK), "vehicles")
	call(t, "GET /admin/vehicles/{id}", "/admin/vehicles/"+vid, nil, http.StatusOK)
	call(t, "PATCH /admin/vehicles/{id}", "/admin/vehicles/"+vid, map[string]any{"odometerKm": 1234.5}, http.StatusOK)

	first(t, call(t, "GET /admin/grants", "/admin/grants?clientId="+sandboxtest.ClientID, nil, http.StatusOK), "grants")

	// Before the revocation below, which ends the authorization's refresh token too.
	first(t, call(t, "GET /admin/refresh-tokens", "/admin/refresh-tokens", nil, http.StatusOK), "refreshTokens")
	call(t, "POST /admin/refresh-tokens/{token}/expire", "/admin/refresh-tokens/"+url.PathEscape(refresh)+"/expire", nil, http.StatusOK)

	tok := first(t, call(t, "GET /admin/tokens", "/admin/tokens", nil, http.StatusOK), "tokens")
	id := url.PathEscape(tok["id"].(string))
	call(t, "POST /admin/tokens/{id}/expire", "/admin/tokens/"+id+"/expire", nil, http.StatusOK)
	call(t, "POST /admin/tokens/{id}/revoke", "/admin/tokens/"+id+"/revoke", nil, http.StatusOK)

	first(t, call(t, "GET /admin/codes", "/admin/codes", nil, http.StatusOK), "codes")
	call(t, "POST /admin/codes/{code}/expire", "/admin/codes/"+url.PathEscape(unused["code"].(string))+"/expire", nil, http.StatusOK)

	call(t, "GET /admin/clock", "/admin/clock", nil, http.StatusOK)
	call(t, "POST /admin/clock", "/admin/clock", map[string]any{"advance": "1h"}, http.StatusOK)

	// A Smartcar request for the log to show.
	h.Do(t, http.MethodGet, "/v2.0/vehicles", "not-a-token", nil)
	first(t, call(t, "GET /admin/requests", "/admin/requests", nil, http.StatusOK), "requests")
	call(t, "DELETE /admin/requests", "/admin/requests", nil, http.StatusNoContent)
	call(t, "PATCH /admin/requests", "/admin/requests", map[string]any{"size": 50}, http.StatusOK)

	rule := call(t, "POST /admin/faults", "/admin/faults", map[string]any{"path": "/v2.0/vehicles/*/location", "method": "GET", "count": 1,
		"error": map[string]any{"type": "RATE_LIMIT", "code": "VEHICLE"}, "latency": map[string]any{"min": "1ms", "max": "2ms"}}, http.StatusCreated)
	first(t, call(t, "GET /admin/faults", "/admin/faults", nil, http.StatusOK), "faults")
	call(t, "DELETE /admin/faults/{id}", "/admin/faults/"+url.PathEscape(rule["id"].(string)), nil, http.StatusNoContent)
	call(t, "DELETE /admin/faults", "/admin/faults", nil, http.StatusNoContent)

	// Subscribing a vehicle sends the webhook's VERIFY delivery (asynchronously): wait for
	// the log to show it.
	hookTok, hookAcct := h.Connect(t, "schema-app", sandboxtest.DemoUser, "read_odometer")
	if res := h.Do(t, http.MethodPost, "/v2.0/vehicles/"+hookAcct.VehicleIDs[0]+"/webhooks/"+hookID, hookTok, nil); res.Status != http.StatusOK {
		t.Fatalf("subscribe: %d %s", res.Status, res.Body)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if len(h.Webhooks.FindDeliveries(webhooks.DeliveryFilter{WebhookID: hookID})) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no webhook delivery logged")
		}
	}
	first(t, call(t, "GET /admin/webhooks/deliveries", "/admin/webhooks/deliveries?webhookId="+hookID, nil, http.StatusOK), "deliveries")

	call(t, "POST /admin/reload", "/admin/reload", nil, http.StatusOK)
	call(t, "POST /admin/reset", "/admin/reset", nil, http.StatusOK)

	// Every documented admin operation was called: a new one needs a step here.
	for p, item := range loadOpenAPI(t).Paths {
		if p != "/admin" && !strings.HasPrefix(p, "/admin/") {
			continue
		}
		for m := range operations(item) {
			if op := strings.ToUpper(m) + " " + p; !called[op] {
				t.Errorf("%s is documented but this test does not call it", op)
			}
		}
	}
}
