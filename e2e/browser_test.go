package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/client"
)

// The ids of the Connect pages, the same as Smartcar's own Connect (the Node SDK's Selenium
// end-to-end helpers click these), so tests written against Smartcar work here.
const (
	selContinue    = "#continue-button"
	selBrandSearch = "#brand-search"
	selUsername    = "#username"
	selPassword    = "#password"
	selSignIn      = "#sign-in-button"
	selApprove     = "#approval-button"
	selDeny        = "#deny-button"
	// selPermissions is what Smartcar's own SDK test helpers wait for right after signing in:
	// the permissions page, with the vehicles to share on it.
	selPermissions = ".page-content #approval-button"
	// selAppPage is on the page the test shows in place of the app's custom-scheme URL.
	selAppPage = "#app-url"
)

// browserFlowTimeout bounds one whole Connect walk; pages are local, so this is generous.
const browserFlowTimeout = 60 * time.Second

// TestIOSTutorialInBrowser plays the iOS tutorial app: it opens the Connect URL in a real
// (headless) browser, clicks through every Connect page as a person would, catches the redirect
// to the app's custom scheme, and hands the code to the real tutorial backend like the app does.
func TestIOSTutorialInBrowser(t *testing.T) {
	chromium, ok := lookChromium()
	if !ok {
		needTool(t, "Chromium (/usr/bin/chromium)", "run `make test`, which installs Debian's chromium, or set CHROMIUM_PATH")
	}
	tests := []struct {
		name     string
		username string
		brand    string // make id of the brand button to press
		search   string // typed into #brand-search first
		deny     bool
		// wantMake/wantModel: what the app shows; empty means the fixture's first vehicle.
		wantMake, wantModel string
	}{
		{name: "approve", username: demoUser, brand: "TESLA", search: "tes"},
		{name: "deny", username: demoUser, brand: "TESLA", search: "tes", deny: true},
		// Test mode as Smartcar runs it: a username no fixture names signs in to one vehicle of
		// the brand picked (the SDK suites sign in under CHEVROLET with a random email and read
		// a Volt; they type KIA into the search box before pressing it).
		{name: "new user chevrolet", username: "e2e-" + sandbox.NewUUID() + "@email.com", brand: "CHEVROLET", search: "chev", wantMake: "CHEVROLET", wantModel: "Volt"},
		{name: "new user kia", username: "e2e-" + sandbox.NewUUID() + "@email.com", brand: "KIA", search: "KIA", wantMake: "KIA"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// A sandbox each: an earlier grant would let Connect skip the permissions page
			// (approval_prompt=auto), as Smartcar does.
			sb := startSandbox(t)
			want := firstVehicle(t, sb.Dataset, demoUser)
			be := startTutorialBackend(t, sb.Origin, []string{client.Required("read_vehicle_info")})
			state := "ios-e2e-" + tc.name
			authURL, err := be.Client.AuthURL(client.AuthURLOptions{
				Scope: []string{client.Required("read_vehicle_info"), "read_odometer"},
				State: state, Mode: client.ModeTest,
			})
			if err != nil {
				t.Fatal(err)
			}
			b := newBrowser(t, chromium, sb.Origin, "scsandbox-demo:", filepath.Join(repoRoot(t), "artifacts", "e2e", tc.name))
			appURL := b.walkConnect(authURL, tc.brand, tc.search, tc.username, tc.deny)

			if appURL.Scheme != "scsandbox-demo" || appURL.Host != "exchange" {
				t.Fatalf("redirected to %s, want scsandbox-demo://exchange?…", appURL)
			}
			q := appURL.Query()
			if got := q.Get("state"); got != state {
				t.Errorf("state = %q, want %q", got, state)
			}
			ph := phone(t)
			// The app forwards the callback's query to the backend as is, success or not.
			status, body := getBody(t, ph, be.URL+"/exchange?"+appURL.RawQuery)

			if tc.deny {
				if got := q.Get("error"); got != "access_denied" {
					t.Fatalf("error = %q in %s, want access_denied", got, appURL)
				}
				if q.Get("code") != "" {
					t.Errorf("a denied flow carries a code: %s", appURL)
				}
				if status != http.StatusBadRequest || jsonField(t, body, "error") != "access_denied" {
					t.Errorf("backend /exchange = %d %s, want 400 access_denied", status, body)
				}
				return
			}

			if q.Get("code") == "" || q.Get("error") != "" {
				t.Fatalf("no code in %s", appURL)
			}
			if status != http.StatusOK || jsonField(t, body, "status") != "connected" {
				t.Fatalf("backend /exchange = %d %s, want 200 connected", status, body)
			}
			status, body = getBody(t, ph, be.URL+"/vehicle")
			if status != http.StatusOK {
				t.Fatalf("backend /vehicle = %d %s", status, body)
			}
			var got struct {
				ID    string `json:"id"`
				Make  string `json:"make"`
				Model string `json:"model"`
				Year  int    `json:"year"`
			}
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("/vehicle body %s: %v", body, err)
			}
			switch {
			case tc.wantMake != "":
				if got.Make != tc.wantMake || tc.wantModel != "" && got.Model != tc.wantModel || !sandbox.IsUUID(got.ID) {
					t.Errorf("/vehicle = %+v, want a %s %s", got, tc.wantMake, tc.wantModel)
				}
			case got.ID != want.ID || got.Make != want.Make || got.Model != want.Model || got.Year != want.Year:
				t.Errorf("/vehicle = %+v, want %s %d %s %s", got, want.ID, want.Year, want.Make, want.Model)
			}
			// A second phone (no session cookie) is not connected.
			if status, body := getBody(t, phone(t), be.URL+"/vehicle"); status != http.StatusUnauthorized {
				t.Errorf("/vehicle without the session = %d %s, want 401", status, body)
			}
		})
	}
}

// firstVehicle is the fixture's first vehicle of username: what the tutorial app must show.
func firstVehicle(t *testing.T, ds sandbox.Dataset, username string) sandbox.Vehicle {
	t.Helper()
	for _, a := range ds.Accounts {
		if a.Username != username || len(a.VehicleIDs) == 0 {
			continue
		}
		for _, v := range ds.Vehicles {
			if v.ID == a.VehicleIDs[0] {
				return v
			}
		}
	}
	t.Fatalf("fixtures have no vehicle for %s", username)
	return sandbox.Vehicle{}
}

func jsonField(t *testing.T, body []byte, field string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("not JSON: %s", body)
	}
	s, _ := m[field].(string)
	return s
}

// browser is one headless Chromium tab with the app's custom-scheme redirect caught.
type browser struct {
	t        *testing.T
	tab      context.Context // outlives ctx, for the screenshot of a timed-out step
	ctx      context.Context
	shotDir  string
	shots    int
	appLinks chan *url.URL
}

// newBrowser starts Chromium with a fresh profile. Chromium cannot open the app's custom scheme,
// so responses from the sandbox are intercepted (Fetch domain, response stage): a redirect whose
// Location has appScheme is recorded and answered with a small "back in the app" page instead.
func newBrowser(t *testing.T, execPath, sandboxOrigin, appScheme, shotDir string) *browser {
	t.Helper()
	tab, ctx := startChromium(t, execPath, shotDir, 390, 844)
	b := &browser{t: t, tab: tab, ctx: ctx, shotDir: shotDir, appLinks: make(chan *url.URL, 1)}
	paused := chromedp.Events(ctx, fetch.RequestPaused)
	go func() {
		for ev, err := range paused {
			if err != nil {
				return // the flow ended
			}
			loc := header(ev.ResponseHeaders, "Location")
			if ev.ResponseStatusCode < 300 || ev.ResponseStatusCode > 399 || !strings.HasPrefix(loc, appScheme) {
				_, _ = chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
				continue
			}
			if u, err := url.Parse(loc); err == nil {
				select {
				case b.appLinks <- u:
				default: // only the first hand-over counts
				}
			}
			page := "<!doctype html><html lang=en><meta name=viewport content='width=device-width'><title>Back in the app</title>" +
				"<p>Connect handed control back to the app:</p><pre id=app-url style='white-space:pre-wrap;word-break:break-all'>" +
				html.EscapeString(loc) + "</pre></html>"
			_, _ = chromedp.Call(ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{
				RequestID: ev.RequestID, ResponseCode: http.StatusOK, Body: []byte(page),
				ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "text/html; charset=utf-8"}},
			})
		}
	}()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatalf("viewport: %v", err)
	}
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{
		{URLPattern: sandboxOrigin + "/*", RequestStage: fetch.RequestStageResponse},
	}}); err != nil {
		t.Fatalf("enable interception: %v", err)
	}
	return b
}

// startChromium starts a headless Chromium with a fresh profile and a window of w x h, and
// returns its tab and a context for one flow (browserFlowTimeout) on it; shotDir is made for
// the screenshots.
func startChromium(t *testing.T, execPath, shotDir string, w, h int) (tab, ctx context.Context) {
	t.Helper()
	if err := os.MkdirAll(shotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(execPath),
		chromedp.UserDataDir(t.TempDir()),
		// This machine has no network: without the last four, Chromium's background services
		// try to reach Google and fill the log with refused connections.
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		// Full-page screenshots of a page taller than the window are otherwise cut at the
		// scrollbar's width.
		chromedp.Flag("hide-scrollbars", true),
		chromedp.WindowSize(w, h),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tab, cancelTab := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	// The first Do starts the browser; it must not carry the flow's timeout, which would stop
	// the browser itself (chromedp.Run's rule).
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("start Chromium %s: %v", execPath, err)
	}
	ctx, cancelFlow := context.WithTimeout(tab, browserFlowTimeout)
	t.Cleanup(cancelFlow)
	return tab, ctx
}

func header(h []*fetch.HeaderEntry, name string) string {
	for _, e := range h {
		if strings.EqualFold(e.Name, name) {
			return e.Value
		}
	}
	return ""
}

// do runs chromedp actions and fails the test with the step name, the page's URL and a
// screenshot of what the browser showed.
func (b *browser) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.fail(step, err)
	}
}

// fail reports a failed step with the page's URL and a screenshot, taken on the tab's own
// context since the step's may have timed out.
func (b *browser) fail(step string, err error) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.tab, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	b.shotCtx(ctx, "failed-"+strings.ReplaceAll(step, " ", "-"))
	b.t.Fatalf("%s (at %s): %v", step, loc, err)
}

// shot saves a PNG of the whole page under the artifacts folder.
func (b *browser) shot(name string) {
	b.t.Helper()
	b.shotCtx(b.ctx, name)
}

func (b *browser) shotCtx(ctx context.Context, name string) {
	b.t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	b.shots++
	p := filepath.Join(b.shotDir, fmt.Sprintf("%02d-%s.png", b.shots, name))
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Errorf("save screenshot: %v", err)
	}
}

// walkConnect opens authURL and goes through preamble, brand (typing search into
// #brand-search, then pressing the brand), login and permissions, then returns the app URL
// Connect redirected to. After signing in it does what Smartcar's SDK test helpers do: the
// very next page must hold .page-content with #approval-button.
func (b *browser) walkConnect(authURL, brand, search, username string, deny bool) *url.URL {
	b.t.Helper()
	b.do("open Connect", chromedp.Navigate(authURL), chromedp.WaitVisible(chromedp.CSS(selContinue)))
	b.shot("preamble")
	b.do("continue", chromedp.Click(chromedp.CSS(selContinue)), chromedp.WaitVisible(chromedp.CSS(selBrandSearch)))

	// Typing narrows the grid as the user types; the brand stays visible and clickable, and
	// brands that do not match are hidden.
	brandButton := "button#" + brand + ".brand-list-item"
	other := "button#FORD.brand-list-item"
	if brand == "FORD" {
		other = "button#TESLA.brand-list-item"
	}
	b.do("search brand", chromedp.SendKeys(chromedp.CSS(selBrandSearch), search),
		chromedp.WaitVisible(chromedp.CSS(brandButton)), chromedp.WaitNotVisible(chromedp.CSS(other)))
	b.shot("brand")
	b.do("pick "+brand, chromedp.Click(chromedp.CSS(brandButton)), chromedp.WaitVisible(chromedp.CSS(selUsername)))

	b.do("fill login",
		chromedp.SendKeys(chromedp.CSS(selUsername), username),
		chromedp.SendKeys(chromedp.CSS(selPassword), "any password works"))
	b.shot("login")
	b.do("sign in", chromedp.Click(chromedp.CSS(selSignIn)))

	// Connect skips the permissions page when the user already granted them
	// (approval_prompt=auto); otherwise it comes right after signing in.
	if next := b.waitFor(selPermissions, selAppPage); next == selPermissions {
		b.shot("permissions")
		if deny {
			b.do("deny", chromedp.Click(chromedp.CSS(selDeny)))
		} else {
			b.do("approve", chromedp.Click(chromedp.CSS(selApprove)))
		}
	} else if deny {
		b.t.Fatal("Connect skipped the permissions page, so access cannot be denied; use approval_prompt=force")
	}
	select {
	case u := <-b.appLinks:
		b.do("back in the app", chromedp.WaitVisible(chromedp.CSS(selAppPage)))
		b.shot("app-callback")
		return u
	case <-b.ctx.Done():
		b.fail("redirect to the app", b.ctx.Err())
		return nil
	}
}

// waitFor waits until one of the selectors is visible and returns it.
func (b *browser) waitFor(selectors ...string) string {
	b.t.Helper()
	js := "(() => { for (const s of " + mustJSON(selectors) + ") { const e = document.querySelector(s); " +
		"if (e && e.offsetParent !== null) return s; } return ''; })()"
	for {
		found, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
		if err == nil && found != "" {
			return found
		}
		select {
		case <-b.ctx.Done():
			b.fail("wait for "+strings.Join(selectors, " or "), fmt.Errorf("%w (last evaluation error: %v)", b.ctx.Err(), err))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
