package app

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	defaultfixtures "github.com/smartcar-sandbox/smartcar-sandbox/fixtures"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/config"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/token"
)

const demoTesla = "d21b0a03-5c3f-5c86-8c05-122d6fde0b3c"

func call(t *testing.T, method, url, tok string, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return res.StatusCode, m
}

// copyFixtures writes the default fixtures into a temp folder the test can edit.
func copyFixtures(t *testing.T) string {
	dir := t.TempDir()
	for _, name := range []string{"accounts.yaml", "applications.yaml"} {
		b, err := defaultfixtures.FS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestReloadKeepsTokensOfVehiclesStillPresent(t *testing.T) {
	dir := copyFixtures(t)
	a := MustStart(t, config.Config{FixturesDir: dir, RequestLogSize: 10})
	if a.AdminToken == "" {
		t.Fatal("no admin token generated")
	}
	var banner strings.Builder
	a.Banner(&banner)
	if !strings.Contains(banner.String(), a.AdminToken) {
		t.Errorf("banner does not show the admin token:\n%s", banner.String())
	}
	acct, err := a.Store.Account("demo@sandbox.test")
	if err != nil {
		t.Fatal(err)
	}
	tok := connect(t, a, acct.UserID, acct.VehicleIDs)
	odo := a.Origin + "/v2.0/vehicles/" + demoTesla + "/odometer"
	if st, m := call(t, http.MethodGet, odo, tok, ""); st != 200 {
		t.Fatalf("before reload: %d %v", st, m)
	}

	// Edit the fixture: the Tesla's odometer changes; reload through the admin API.
	path := filepath.Join(dir, "accounts.yaml")
	b, _ := os.ReadFile(path)
	edited := strings.Replace(string(b), "odometer_km: 18342.7", "odometer_km: 20000", 1)
	if edited == string(b) {
		t.Fatal("fixture did not contain the expected odometer line")
	}
	if err := os.WriteFile(path, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	st, m := call(t, http.MethodPost, a.Origin+"/admin/reload", a.AdminToken, "")
	if st != 200 || m["grantsKept"] != float64(len(acct.VehicleIDs)) {
		t.Fatalf("reload = %d %v, want 200 keeping %d grants", st, m, len(acct.VehicleIDs))
	}
	st, m = call(t, http.MethodGet, odo+"?", tok, "")
	if st != 200 {
		t.Fatalf("after reload the token stopped working: %d %v", st, m)
	}
	if v, _ := a.Store.Vehicle(demoTesla); v.State.OdometerKm != 20000 {
		t.Errorf("odometer after reload = %v, want 20000", v.State.OdometerKm)
	}

	// A broken fixture is refused with its problems and the old state stays.
	if err := os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte("accounts: [oops\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, m = call(t, http.MethodPost, a.Origin+"/admin/reload", a.AdminToken, "")
	if st != 400 || m["error"] != "invalid" || len(m["details"].([]any)) == 0 {
		t.Errorf("broken reload = %d %v, want 400 invalid with details", st, m)
	}
	os.Remove(filepath.Join(dir, "broken.yaml"))

	// The watcher picks up a change on its own.
	edited = strings.Replace(edited, "odometer_km: 20000", "odometer_km: 21000", 1)
	if err := os.WriteFile(path, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if v, _ := a.Store.Vehicle(demoTesla); v.State.OdometerKm == 21000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the fixture watcher did not reload within 5s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st, _ := call(t, http.MethodGet, odo, tok, ""); st != 200 {
		t.Errorf("after watcher reload: %d, want 200", st)
	}
}

func connect(t *testing.T, a *App, userID string, ids []string) string {
	t.Helper()
	for _, id := range ids {
		if err := a.Store.Connect(grantFor(userID, id)); err != nil {
			t.Fatal(err)
		}
	}
	auth, err := a.Store.Authorize() // as a Connect approval gets, so the token reaches the grants
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := a.Tokens.IssueVehicle(token.VehicleGrant{ClientID: "sandbox-demo", UserID: userID, VehicleIDs: ids, Permissions: []string{"read_odometer"}, Authorization: auth})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestAdminFlags(t *testing.T) {
	const adminTok = "a-fixed-admin-token-for-tests"
	a := MustStart(t, config.Config{AdminToken: adminTok, RequestLogSize: 5})
	if st, _ := call(t, http.MethodGet, a.Origin+"/admin/vehicles", adminTok, ""); st != 200 {
		t.Errorf("with -admin-token: %d, want 200", st)
	}
	// The clock the admin API moves is the one tokens are checked against.
	acct, _ := a.Store.Account("demo@sandbox.test")
	tok := connect(t, a, acct.UserID, acct.VehicleIDs)
	if st, m := call(t, http.MethodPost, a.Origin+"/admin/clock", adminTok, `{"advance":"3h"}`); st != 200 {
		t.Fatalf("advance: %d %v", st, m)
	}
	if st, _ := call(t, http.MethodGet, a.Origin+"/v2.0/vehicles/"+demoTesla+"/odometer", tok, ""); st != 401 {
		t.Errorf("token after 3h: %d, want 401", st)
	}
	// Without -fixtures there is nothing to reload.
	if st, _ := call(t, http.MethodPost, a.Origin+"/admin/reload", adminTok, ""); st != 409 {
		t.Errorf("reload without -fixtures: %d, want 409", st)
	}

	off := MustStart(t, config.Config{NoAdmin: true})
	if st, _ := call(t, http.MethodGet, off.Origin+"/admin/vehicles", "", ""); st != 404 {
		t.Errorf("with -no-admin: %d, want 404", st)
	}
	var banner strings.Builder
	off.Banner(&banner)
	if !strings.Contains(banner.String(), "Admin API: off") {
		t.Errorf("banner with -no-admin:\n%s", banner.String())
	}
}

func grantFor(userID, vehicleID string) sandbox.Grant {
	return sandbox.Grant{ClientID: "sandbox-demo", UserID: userID, VehicleID: vehicleID, Permissions: []string{"read_odometer"}}
}

// TestShutdownWithDashboardOpen: a dashboard tab's event stream does not keep a graceful
// shutdown waiting (the stream would otherwise stay open for as long as the tab).
func TestShutdownWithDashboardOpen(t *testing.T) {
	// Not MustStart: its cleanup shuts down again, and this test shuts down itself.
	a, err := Start(config.Config{Addr: "127.0.0.1:0", LogFormat: "text", AdminToken: "dashboard-shutdown-admin-token"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	req, _ := http.NewRequest(http.MethodPost, a.Origin+"/dashboard/login", strings.NewReader("token=dashboard-shutdown-admin-token"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", a.Origin)
	if res, err := c.Do(req); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("sign in: %v %v", res, err) // 200: the redirect to the requests page was followed
	}
	res, err := c.Get(a.Origin + "/dashboard/events")
	if err != nil || res.StatusCode != http.StatusOK {
		_ = a.Shutdown(context.Background())
		t.Fatalf("event stream: %v %v", res, err)
	}
	defer res.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := a.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown with a dashboard open: %v", err)
	}
}
