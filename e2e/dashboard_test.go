package e2e_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/smartcar-sandbox/smartcar-sandbox/client"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/config"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/connect/connecttest"
)

// TestDashboardInBrowser is a workshop with the dashboard open in real (headless) Chromium
// while an app calls the API: sign in with the admin token, watch the app's request appear in
// the live log, set a signal and read it back through the API, add a fault and see it fire,
// expire the app's token, watch a simulated vehicle move. It then screenshots every page at
// 1280x800 and 390x844 into a temp folder it names in the output.
func TestDashboardInBrowser(t *testing.T) {
	chromium, ok := lookChromium()
	if !ok {
		needTool(t, "Chromium (/usr/bin/chromium)", "run `make test`, which installs Debian's chromium, or set CHROMIUM_PATH")
	}
	// As `smartcar-sandbox` starts by default: a request log, the simulator at 60x.
	sb := startSandboxWith(t, config.Config{Addr: "127.0.0.1:0", LogFormat: "text", RequestLogSize: 200, SimSpeedup: 60, SimSeed: 1})
	origin := sb.Origin
	car := firstVehicle(t, sb.Dataset, demoUser)

	// The app: connected through Connect (the form flow, no browser needed for that part).
	app := connectApp(t, origin)

	shotDir, err := os.MkdirTemp("", "sandbox-dashboard-shots-")
	if err != nil {
		t.Fatal(err)
	}
	failDir := filepath.Join(shotDir, "failures")
	tab, ctx := startChromium(t, chromium, failDir, 1280, 800)
	b := &browser{t: t, tab: tab, ctx: ctx, shotDir: failDir}
	b.do("viewport", chromedp.EmulateViewport(1280, 800))
	// waitJS waits until expr is truthy on the page, across navigations (which end a
	// chromedp.Poll).
	waitJS := func(step, expr string) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		var lastErr error
		for time.Now().Before(deadline) {
			ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+expr+")"))
			if err == nil && ok {
				return
			}
			lastErr = err
			time.Sleep(50 * time.Millisecond)
		}
		b.fail(step, fmt.Errorf("still false after 15s: %s (last error: %v)", expr, lastErr))
	}

	// Sign in: the dashboard sends a signed-out person to the form.
	b.do("open the dashboard", chromedp.Navigate(origin+"/dashboard"), chromedp.WaitVisible(chromedp.CSS("#token")))
	b.do("sign in", chromedp.SendKeys(chromedp.CSS("#token"), sb.AdminToken), chromedp.Click(chromedp.CSS("#sign-in")))
	waitJS("request log shown, live", `document.querySelector("#request-log") && document.querySelector("#live.on")`)

	// Another client calls the API; its request shows up without a reload.
	status, _, reqID := apiCall(t, http.MethodGet, origin+"/v2.0/vehicles/"+car.ID+"/odometer", app.AccessToken, nil)
	if status != http.StatusOK {
		t.Fatalf("odometer = %d", status)
	}
	waitJS("the app's request appears live", fmt.Sprintf(`document.querySelector('#request-log li[data-request-id=%q]')`, reqID))
	// Filtered by its application, the request stays; by a name no application has, it goes.
	b.do("filter by the app's application", chromedp.SetValue(chromedp.CSS("#filter-app"), demoClientID))
	waitJS("the filter applied", `document.querySelector("#filter-app").dispatchEvent(new Event("change"))`)
	waitJS("still shown under its application", fmt.Sprintf(`document.querySelector('#request-log li[data-request-id=%q]') && document.querySelector("#request-count").textContent.includes("(filtered)")`, reqID))
	b.do("every application again", chromedp.SetValue(chromedp.CSS("#filter-app"), ""))
	waitJS("the filter cleared", `document.querySelector("#filter-app").dispatchEvent(new Event("change"))`)

	// Set a signal on the vehicle page; the app reads it back through the API.
	b.do("vehicle page", chromedp.Navigate(origin+"/dashboard/vehicles/"+car.ID), chromedp.WaitVisible(chromedp.CSS("#set-signals")))
	b.do("set the odometer", chromedp.SetValue(chromedp.CSS("#f-odometerKm"), "42424.5"),
		chromedp.Click(chromedp.CSS("#set-signals button[type=submit]")))
	waitJS("signal set", `document.querySelector("#message").textContent === "Signals set."`)
	waitJS("the page shows it (live)", `document.querySelector('#signals dd[data-signal="Odometer"]').textContent === "42424.5 km"`)
	_, body, _ := apiCall(t, http.MethodGet, origin+"/v2.0/vehicles/"+car.ID+"/odometer", app.AccessToken, nil)
	var odo struct{ Distance float64 }
	if err := json.Unmarshal(body, &odo); err != nil || odo.Distance != 42424.5 {
		t.Errorf("the API reads the odometer as %s, want 42424.5 km", body)
	}

	// Add a fault from a preset for this vehicle, once; the app's next call gets it, and the
	// rule shows that it fired.
	b.do("faults page", chromedp.Navigate(origin+"/dashboard/faults"), chromedp.WaitVisible(chromedp.CSS("#add-fault")))
	b.do("add the 'vehicle asleep' fault", chromedp.SetValue(chromedp.CSS("#fault-preset"), "asleep"),
		chromedp.SetValue(chromedp.CSS("#fault-vehicle"), car.ID), chromedp.SetValue(chromedp.CSS("#fault-count"), "2"),
		chromedp.Click(chromedp.CSS("#add-fault button[type=submit]")))
	waitJS("fault listed", `document.querySelector("tr[data-fault-id] .fired")`)
	status, body, _ = apiCall(t, http.MethodGet, origin+"/v2.0/vehicles/"+car.ID+"/odometer", app.AccessToken, nil)
	if status != http.StatusConflict || !strings.Contains(string(body), `"ASLEEP"`) {
		t.Errorf("with the fault: %d %s, want 409 VEHICLE_STATE ASLEEP", status, body)
	}
	waitJS("the fault fired once", `document.querySelector("tr[data-fault-id] .fired").textContent === "1"`)
	b.shot("faults-fired")

	// Expire the app's token on the tokens page; the API refuses it from then on.
	jti := jwtID(t, app.AccessToken)
	b.do("tokens page", chromedp.Navigate(origin+"/dashboard/tokens"),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`tr[data-token-id=%q] button[data-action=expire]`, jti))))
	b.do("expire the token", chromedp.Click(chromedp.CSS(fmt.Sprintf(`tr[data-token-id=%q] button[data-action=expire]`, jti))))
	waitJS("token listed as expired", fmt.Sprintf(`document.querySelector('tr[data-token-id=%q]').dataset.status === "expired"`, jti))
	status, body, _ = apiCall(t, http.MethodGet, origin+"/v2.0/vehicles", app.AccessToken, nil)
	if status != http.StatusUnauthorized || !strings.Contains(string(body), "AUTHENTICATION") {
		t.Errorf("the expired token: %d %s, want 401 AUTHENTICATION", status, body)
	}

	// A simulated vehicle moves on its route while the page watches.
	simID := addSimulatedVehicle(t, origin, sb.AdminToken)
	b.do("simulated vehicle page", chromedp.Navigate(origin+"/dashboard/vehicles/"+simID), chromedp.WaitVisible(chromedp.CSS("#route svg")))
	waitJS("car drawn", `document.querySelector("#car").getAttribute("cx")`)
	first, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#car").getAttribute("cx") + "," + document.querySelector("#car").getAttribute("cy")`))
	if err != nil {
		b.fail("read the car's position", err)
	}
	waitJS("the car moves", fmt.Sprintf(`(document.querySelector("#car").getAttribute("cx") + "," + document.querySelector("#car").getAttribute("cy")) !== %q`, first))

	// Every page, on a laptop and on a phone.
	shots := []struct{ name, path, ready string }{
		{"requests", "/dashboard/requests", "#request-log li"},
		{"applications", "/dashboard/applications", "section.app"},
		{"accounts", "/dashboard/accounts", "a.vehicle-link"},
		{"vehicle", "/dashboard/vehicles/" + car.ID, "#signals dd"},
		{"simulated-vehicle", "/dashboard/vehicles/" + simID, "#car[cx]"},
		{"tokens", "/dashboard/tokens", "tr[data-token-id]"},
		{"faults", "/dashboard/faults", "tr[data-fault-id]"},
		{"webhooks", "/dashboard/webhooks", "#content p, #content ol"},
		{"clock", "/dashboard/clock", "#clock-now"},
		{"login", "/dashboard/login", "body"},
	}
	var files []string
	for _, size := range []struct{ w, h int64 }{{1280, 800}, {390, 844}} {
		for _, s := range shots {
			if s.name == "login" {
				continue // signed in, the form redirects; it is shot separately below
			}
			b.do("open "+s.name, chromedp.EmulateViewport(size.w, size.h), chromedp.Navigate(origin+s.path), chromedp.WaitVisible(chromedp.CSS(s.ready)))
			// Readable at this width: nothing makes the page scroll sideways.
			over, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const w = document.documentElement.clientWidth;
				return [...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > w + 1 && !e.closest(".nav, .table-wrap"))
					.slice(0, 5).map(e => e.tagName + "." + e.className + " " + Math.round(e.getBoundingClientRect().right) + ">" + w).join(", "); })()`))
			if err != nil || over != "" {
				t.Errorf("%s at %dx%d: wider than the screen: %s %v", s.name, size.w, size.h, over, err)
			}
			files = append(files, saveShot(t, ctx, shotDir, fmt.Sprintf("%s-%dx%d.png", s.name, size.w, size.h)))
		}
	}
	// The sign-in form, signed out (the phone's size last set).
	b.do("sign out", chromedp.Navigate(origin+"/dashboard/clock"), chromedp.WaitVisible(chromedp.CSS("#logout-form button")),
		chromedp.Click(chromedp.CSS("#logout-form button")), chromedp.WaitVisible(chromedp.CSS("#token")))
	files = append(files, saveShot(t, ctx, shotDir, "login-390x844.png"))
	t.Logf("dashboard screenshots in %s:\n  %s", shotDir, strings.Join(files, "\n  "))
}

func saveShot(t *testing.T, ctx context.Context, dir, name string) string {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG (less is JPEG)
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// connectApp connects the demo user's vehicles to the demo app through Connect's forms and
// exchanges the code, as the app's backend would.
func connectApp(t *testing.T, origin string) *client.Access {
	t.Helper()
	c, err := client.New(client.Config{ClientID: demoClientID, ClientSecret: demoClientSecret, RedirectURI: demoAppRedirect,
		ConnectOrigin: origin, AuthOrigin: origin, APIOrigin: origin, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	authURL, err := c.AuthURL(client.AuthURLOptions{Scope: []string{"read_vehicle_info", "read_odometer", "control_security"}})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(authURL)
	p := connecttest.NewBrowser(origin).Flow(t, u.Query(), "TESLA", demoUser)
	code := p.Location(t).Query().Get("code")
	if code == "" {
		t.Fatalf("Connect gave no code: %d %s", p.Status, p.Header.Get("Location"))
	}
	access, err := c.ExchangeCode(context.Background(), code)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return access
}

// apiCall sends one request as an app would and returns the status, body and SC-Request-Id.
func apiCall(t *testing.T, method, u, token string, body any) (int, []byte, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b, res.Header.Get("SC-Request-Id")
}

// jwtID is the access token's jti, the id the admin API and the dashboard list it by.
func jwtID(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %s", tok)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	var c struct {
		ID string `json:"jti"`
	}
	if err != nil || json.Unmarshal(raw, &c) != nil || c.ID == "" {
		t.Fatalf("no jti in %s", raw)
	}
	return c.ID
}

// addSimulatedVehicle adds an account with one simulated BEV through the admin API.
func addSimulatedVehicle(t *testing.T, origin, adminToken string) string {
	t.Helper()
	status, body, _ := apiCall(t, http.MethodPost, origin+"/admin/accounts", adminToken, map[string]any{
		"username": "sim@sandbox.test",
		"vehicles": []map[string]any{{"make": "TESLA", "model": "Model Y", "year": 2024, "powertrain": "BEV", "mode": "simulated"}},
	})
	var out struct {
		Vehicles []struct{ ID string } `json:"vehicles"`
	}
	if status != http.StatusCreated || json.Unmarshal(body, &out) != nil || len(out.Vehicles) != 1 {
		t.Fatalf("add a simulated vehicle: %d %s", status, body)
	}
	return out.Vehicles[0].ID
}
