package reliability_test

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/connect/connecttest"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
)

// This file holds the tests of a grant's life seen from outside: a disconnect or an admin
// revoke ends the tokens of that grant for good (a later Connect does not bring them back),
// an ended token is refused on every door, and a change the sandbox could not save is not
// made at all.

// connectedVehicles lists the vehicles a token may still use (GET /v2.0/vehicles).
func connectedVehicles(t *testing.T, h *sandboxtest.Harness, tok string) []string {
	t.Helper()
	res := h.Do(t, http.MethodGet, "/v2.0/vehicles", tok, nil)
	if res.Status != http.StatusOK {
		t.Fatalf("GET /v2.0/vehicles: %d %s", res.Status, res.Body)
	}
	var list struct{ Vehicles []string }
	res.JSON(t, &list)
	if len(list.Vehicles) == 0 {
		t.Fatal("the flow connected no vehicle")
	}
	return list.Vehicles
}

// wantUnauthenticated fails unless res is a 401 AUTHENTICATION error.
func wantUnauthenticated(t *testing.T, what string, res *sandboxtest.Response) {
	t.Helper()
	var e struct {
		Type   string
		Errors []struct{ Type string } // v3's shape
	}
	_ = json.Unmarshal(res.Body, &e)
	if len(e.Errors) == 1 {
		e.Type = e.Errors[0].Type
	}
	if res.Status != http.StatusUnauthorized || e.Type != "AUTHENTICATION" {
		t.Errorf("%s: %d %s, want 401 AUTHENTICATION", what, res.Status, res.Body)
	}
}

func mustFlow(t *testing.T, h *sandboxtest.Harness) tokens {
	t.Helper()
	tk, err := connectFlow(t, h.URL, h.Client)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func disconnect(t *testing.T, h *sandboxtest.Harness, tok, id string) {
	t.Helper()
	if res := h.Do(t, http.MethodDelete, "/v2.0/vehicles/"+id+"/application", tok, nil); res.Status != http.StatusOK {
		t.Fatalf("disconnect %s: %d %s", id, res.Status, res.Body)
	}
}

func security(id string) string { return "/v2.0/vehicles/" + id + "/security" }

// TestDisconnectEndsTokensForGood: after a disconnect the same user connects again; the
// tokens from before the disconnect stay dead, only the new ones work.
func TestDisconnectEndsTokensForGood(t *testing.T) {
	t.Run("every vehicle", func(t *testing.T) {
		h := sandboxtest.MustStart(t)
		old := mustFlow(t, h)
		ids := connectedVehicles(t, h, old.Access)
		for _, id := range ids {
			disconnect(t, h, old.Access, id)
		}
		fresh := mustFlow(t, h)
		for _, id := range ids {
			if res := h.Do(t, http.MethodGet, security(id), fresh.Access, nil); res.Status != http.StatusOK {
				t.Fatalf("new token on %s: %d %s", id, res.Status, res.Body)
			}
			wantUnauthenticated(t, "old token on "+id+" after reconnecting", h.Do(t, http.MethodGet, security(id), old.Access, nil))
		}
		if tk, err := refresh(h.Client, h.URL, old.Refresh); err == nil {
			t.Errorf("the old refresh token still works after reconnecting: got %+v", tk)
		} else if !strings.Contains(err.Error(), "invalid_grant") {
			t.Errorf("old refresh token: %v, want invalid_grant", err)
		}
	})
	t.Run("one vehicle", func(t *testing.T) {
		h := sandboxtest.MustStart(t)
		old := mustFlow(t, h)
		ids := connectedVehicles(t, h, old.Access)
		if len(ids) < 2 {
			t.Fatalf("the demo flow connected %v; this test needs two vehicles", ids)
		}
		gone, kept := ids[0], ids[1]
		disconnect(t, h, old.Access, gone)
		mustFlow(t, h)
		wantUnauthenticated(t, "old token on the vehicle disconnected and reconnected", h.Do(t, http.MethodGet, security(gone), old.Access, nil))
		if res := h.Do(t, http.MethodGet, security(kept), old.Access, nil); res.Status != http.StatusOK {
			t.Errorf("old token on a vehicle never disconnected: %d %s", res.Status, res.Body)
		}
		// The old chain still covers the vehicle it never lost, and only that one.
		next, err := refresh(h.Client, h.URL, old.Refresh)
		if err != nil {
			t.Fatal(err)
		}
		if c, err := h.Tokens.Verify(next.Access); err != nil || c.HasVehicle(gone) || !c.HasVehicle(kept) {
			t.Errorf("token refreshed from the old chain names %v (%v), want %s without %s", c.VehicleIDs, err, kept, gone)
		}
		if res := h.Do(t, http.MethodGet, security(gone), next.Access, nil); res.Status != http.StatusForbidden {
			t.Errorf("token refreshed from the old chain on the reconnected vehicle: %d %s, want 403 (not in the token)", res.Status, res.Body)
		}
		if res := h.Do(t, http.MethodGet, security(kept), next.Access, nil); res.Status != http.StatusOK {
			t.Errorf("refreshed old chain on the vehicle it kept: %d %s", res.Status, res.Body)
		}
	})
}

// TestAdminRevokeEndsTheAuthorization: revoking an access token through the admin API ends
// everything issued from the same Connect approval: the token, its refresh token, and every
// token refreshed from it, and connecting again does not bring them back.
func TestAdminRevokeEndsTheAuthorization(t *testing.T) {
	h := sandboxtest.MustStart(t)
	old := mustFlow(t, h)
	ids := connectedVehicles(t, h, old.Access)
	c, err := h.Tokens.Verify(old.Access)
	if err != nil {
		t.Fatal(err)
	}
	if res := h.Admin(t, http.MethodPost, "/admin/tokens/"+c.ID+"/revoke", nil); res.Status != http.StatusOK {
		t.Fatalf("revoke: %d %s", res.Status, res.Body)
	}
	wantUnauthenticated(t, "revoked token", h.Do(t, http.MethodGet, security(ids[0]), old.Access, nil))
	if _, err := refresh(h.Client, h.URL, old.Refresh); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("refresh token of a revoked access token: %v, want invalid_grant", err)
	}
	mustFlow(t, h)
	wantUnauthenticated(t, "revoked token after reconnecting", h.Do(t, http.MethodGet, security(ids[0]), old.Access, nil))
	wantUnauthenticated(t, "revoked token on /user after reconnecting", h.Do(t, http.MethodGet, "/v2.0/user", old.Access, nil))
	if _, err := refresh(h.Client, h.URL, old.Refresh); err == nil {
		t.Fatal("the revoked chain's refresh token works again after reconnecting")
	}
}

// TestEndedGrantIsRefusedEverywhere: a token whose every vehicle was disconnected is
// 401 AUTHENTICATION on every route that takes it, not an empty success; and reconnecting
// does not make the old token good on them either.
func TestEndedGrantIsRefusedEverywhere(t *testing.T) {
	h := sandboxtest.MustStart(t)
	old := mustFlow(t, h)
	ids := connectedVehicles(t, h, old.Access)
	for _, id := range ids {
		disconnect(t, h, old.Access, id)
	}
	routes := []struct{ method, path string }{
		{http.MethodGet, "/v2.0/user"},
		{http.MethodGet, "/v2.0/vehicles"},
		{http.MethodGet, "/v2.0/vehicles/" + ids[0]},
		{http.MethodGet, security(ids[0])},
		{http.MethodGet, "/v3/vehicles/" + ids[0]},
		{http.MethodGet, "/v3/vehicles/" + ids[0] + "/signals"},
		{http.MethodGet, "/v3/connections"},
	}
	check := func(when string) {
		for _, r := range routes {
			wantUnauthenticated(t, when+": "+r.method+" "+r.path, h.Do(t, r.method, r.path, old.Access, nil))
		}
	}
	check("disconnected")
	fresh := mustFlow(t, h)
	check("reconnected")
	for _, r := range routes {
		if res := h.Do(t, r.method, r.path, fresh.Access, nil); res.Status != http.StatusOK {
			t.Errorf("new token: %s %s: %d %s", r.method, r.path, res.Status, res.Body)
		}
	}
}

// flowCode runs Connect for the demo user and returns the code without exchanging it.
func flowCode(t *testing.T, h *sandboxtest.Harness) string {
	t.Helper()
	q := url.Values{"response_type": {"code"}, "client_id": {sandboxtest.ClientID}, "redirect_uri": {sandboxtest.RedirectURI},
		"scope": {controlScope}, "mode": {"test"}, "approval_prompt": {"force"}}
	p := connecttest.NewBrowser(h.URL).Flow(t, q, "TESLA", sandboxtest.DemoUser)
	if p.Status != http.StatusFound {
		t.Fatalf("Connect ended in %d: %.300s", p.Status, p.Body)
	}
	code := p.Location(t).Query().Get("code")
	if code == "" {
		t.Fatal("no code in the redirect")
	}
	return code
}

// tokenPost sends a token request and returns status and body.
func tokenPost(t *testing.T, h *sandboxtest.Harness, form url.Values) (int, map[string]any) {
	t.Helper()
	res := h.Token(t, form)
	return res.Status, res.Map(t)
}

// TestFailedSaveChangesNothing breaks the disk (every commit fails as a full disk fails, with
// the database file's path in the error) and checks that a command, a code exchange and a
// refresh that got a 500 changed nothing: the car reads as before, the code and the refresh
// token still work once the disk is back (even after the refresh grace period), a restart
// sees the same state, and no error names the server's paths.
func TestFailedSaveChangesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	var broken atomic.Bool
	h := sandboxtest.MustStartWith(t, sandboxtest.Options{DataDir: dir, SaveFault: func() error {
		if broken.Load() {
			return &fs.PathError{Op: "write", Path: filepath.Join(dir, "sandbox.db-wal"), Err: syscall.ENOSPC}
		}
		return nil
	}})
	tk := mustFlow(t, h)
	code := flowCode(t, h)
	before, _, err := vehicleState(h.Client, h.URL, tk.Access, teslaID, false)
	if err != nil {
		t.Fatal(err)
	}
	saved, _ := h.Store.Vehicle(teslaID)
	action := "LOCK"
	if before {
		action = "UNLOCK"
	}

	broken.Store(true)
	noPath := func(what string, body []byte) {
		t.Helper()
		if strings.Contains(string(body), dir) || strings.Contains(string(body), filepath.Dir(dir)) {
			t.Errorf("%s names a server path: %s", what, body)
		}
	}

	res := h.Do(t, http.MethodPost, security(teslaID), tk.Access, map[string]string{"action": action})
	if res.Status != http.StatusInternalServerError {
		t.Fatalf("%s on a broken disk: %d %s, want 500", action, res.Status, res.Body)
	}
	noPath(action, res.Body)
	if now, _, err := vehicleState(h.Client, h.URL, tk.Access, teslaID, false); err != nil || now != before {
		t.Errorf("after a failed %s the car reads isLocked=%v (%v), want the unchanged %v", action, now, err, before)
	}
	for _, form := range []url.Values{
		{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {sandboxtest.RedirectURI}},
		{"grant_type": {"refresh_token"}, "refresh_token": {tk.Refresh}},
	} {
		st, body := tokenPost(t, h, form)
		raw, _ := json.Marshal(body)
		if st != http.StatusInternalServerError || body["error"] != "server_error" {
			t.Errorf("%s on a broken disk: %d %s, want 500 server_error", form.Get("grant_type"), st, raw)
		}
		noPath(form.Get("grant_type"), raw)
	}

	// Repair the disk; the refresh grace period passes, so only an unused token still works.
	broken.Store(false)
	h.Clock.Advance(2 * time.Minute)
	if st, body := tokenPost(t, h, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {sandboxtest.RedirectURI}}); st != http.StatusOK {
		t.Errorf("the code after its failed exchange: %d %v, want 200 (the failed exchange must not use it up)", st, body)
	}
	if st, body := tokenPost(t, h, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tk.Refresh}}); st != http.StatusOK {
		t.Errorf("the refresh token after its failed refresh: %d %v, want 200 (the failed refresh must not use it)", st, body)
	}

	// A restart reads what was saved, which is what was served.
	h2 := sandboxtest.MustStartWith(t, sandboxtest.Options{DataDir: dir})
	v, ok := h2.Store.Vehicle(teslaID)
	if !ok {
		t.Fatal("vehicle lost on restart")
	}
	if got, want := fmt.Sprint(v.State.Security.Doors), fmt.Sprint(saved.State.Security.Doors); got != want {
		t.Errorf("after restart the doors are %s, want %s: the failed %s must not have been saved", got, want, action)
	}
}

// TestManagementDeleteEndsConnectionsNotTheUser: connections deleted by the application's
// backend through the management API end every vehicle of the token (and a reconnect makes a
// new grant the old token never reaches), but the token still answers /user and an empty
// /vehicles, as Smartcar's own SDK suite expects (it lists vehicles and reads the user after
// deleteConnections by user). Only the token's own disconnect ends the token itself
// (TestEndedGrantIsRefusedEverywhere).
func TestManagementDeleteEndsConnectionsNotTheUser(t *testing.T) {
	h := sandboxtest.MustStart(t)
	old := mustFlow(t, h)
	ids := connectedVehicles(t, h, old.Access)
	user := h.Do(t, http.MethodGet, "/v2.0/user", old.Access, nil)
	var u struct{ ID string }
	user.JSON(t, &u)

	req, _ := http.NewRequest(http.MethodDelete, h.URL+"/v2.0/management/connections?user_id="+u.ID, nil)
	req.SetBasicAuth("default", sandboxtest.ManagementToken)
	res, err := h.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("DELETE management connections: %d", res.StatusCode)
	}

	if got := h.Do(t, http.MethodGet, "/v2.0/user", old.Access, nil); got.Status != http.StatusOK {
		t.Errorf("/v2.0/user after deleteConnections = %d %s, want 200", got.Status, got.Body)
	}
	list := h.Do(t, http.MethodGet, "/v2.0/vehicles", old.Access, nil)
	var vs struct{ Vehicles []string }
	list.JSON(t, &vs)
	if list.Status != http.StatusOK || len(vs.Vehicles) != 0 {
		t.Errorf("/v2.0/vehicles after deleteConnections = %d %s, want 200 with no vehicles", list.Status, list.Body)
	}
	mustFlow(t, h) // the user connects again: a new grant
	for _, id := range ids {
		if got := h.Do(t, http.MethodGet, "/v2.0/vehicles/"+id, old.Access, nil); got.Status < 400 || got.Status >= 500 {
			t.Errorf("old token on %s after delete and reconnect = %d, want refused", id, got.Status)
		}
	}
}
