package e2e_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/smartcar-sandbox/smartcar-sandbox/client"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/websdk"
)

// TestWebSDKInBrowser is Smartcar's web quick start offline: a page using the official
// @smartcar/auth package (e2e/web, installed from its lock file) opens Connect in a popup
// against the sandbox; the sandbox's stand-in for the SDK's hosted redirect page hands the
// code back to the page, whose onComplete gives it to the tutorial backend, which exchanges it
// and answers the vehicle. Headless Chromium plays the person.
func TestWebSDKInBrowser(t *testing.T) {
	chromium, ok := lookChromium()
	if !ok {
		needTool(t, "Chromium (/usr/bin/chromium)", "run `make test`, which installs Debian's chromium, or set CHROMIUM_PATH")
	}
	web := filepath.Join(repoRoot(t), "e2e", "web")
	sdk := filepath.Join(web, "node_modules", "@smartcar", "auth", "dist", "npm", "sdk.js")
	if _, err := os.Stat(sdk); err != nil {
		needTool(t, "e2e/web/node_modules (@smartcar/auth)", "run `make test` or `npm ci --prefix e2e/web`")
	}
	sb := startSandbox(t)
	want := firstVehicle(t, sb.Dataset, demoUser)

	// The web app's own origin: its page, its script and the SDK as npm installed it.
	files := map[string]string{"/": filepath.Join(web, "index.html"), "/app.js": filepath.Join(web, "app.js"), "/sdk.js": sdk}
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		http.ServeFile(w, r, f)
	}))
	t.Cleanup(page.Close)

	// The app registers the sandbox's redirect page for its origin, as a web app registers
	// Smartcar's https://javascript-sdk.smartcar.com/v2/redirect?app_origin=… (docs/web.md).
	redirect := sb.Origin + websdk.PathRedirect + "?app_origin=" + page.URL
	webApp := client.Config{ClientID: "web-quickstart", ClientSecret: "web-quickstart-secret", RedirectURI: redirect}
	status, body, _ := apiCall(t, http.MethodPost, sb.Origin+"/admin/applications", sb.AdminToken, map[string]any{
		"name": "Web quick start", "clientId": webApp.ClientID, "clientSecret": webApp.ClientSecret, "redirectUris": []string{redirect}})
	if status != http.StatusCreated {
		t.Fatalf("register the web app: %d %s", status, body)
	}
	be := startTutorialBackendFor(t, sb.Origin, webApp, []string{client.Required("read_vehicle_info")}, []string{page.URL})

	shotDir := filepath.Join(repoRoot(t), "artifacts", "e2e", "web-sdk")
	tab, ctx := startChromium(t, chromium, shotDir, 1280, 800)
	b := &browser{t: t, tab: tab, ctx: ctx, shotDir: shotDir}
	q := url.Values{"sandbox": {sb.Origin}, "backend": {be.URL}, "clientId": {webApp.ClientID}, "redirectUri": {redirect}}
	b.do("open the web app", chromedp.Navigate(page.URL+"/?"+q.Encode()), chromedp.WaitVisible(chromedp.CSS("#connect")))

	// The SDK's openDialog opens Connect in a popup; the person goes through it there.
	popups := chromedp.WaitNewTarget(ctx, func(i *target.Info) bool { return i.Type == "page" && i.OpenerID != "" })
	b.do("press Connect", chromedp.Click(chromedp.CSS("#connect")))
	var popupID target.ID
	select {
	case popupID = <-popups:
	case <-time.After(10 * time.Second):
		b.fail("popup", errors.New("the SDK opened no popup within 10s"))
	}
	pctx, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(popupID))
	defer cancel()
	p := &browser{t: t, tab: pctx, ctx: pctx, shotDir: shotDir}
	p.do("Connect in the popup", chromedp.WaitVisible(chromedp.CSS(selContinue)))
	p.shot("popup-preamble")
	p.do("continue", chromedp.Click(chromedp.CSS(selContinue)), chromedp.WaitVisible(chromedp.CSS(selBrandSearch)))
	p.do("pick TESLA", chromedp.SendKeys(chromedp.CSS(selBrandSearch), "tes"),
		chromedp.Click(chromedp.CSS("button#TESLA.brand-list-item")), chromedp.WaitVisible(chromedp.CSS(selUsername)))
	p.do("sign in", chromedp.SendKeys(chromedp.CSS(selUsername), demoUser), chromedp.SendKeys(chromedp.CSS(selPassword), "any password works"),
		chromedp.Click(chromedp.CSS(selSignIn)), chromedp.WaitVisible(chromedp.CSS(selPermissions)))
	p.shot("popup-permissions")
	// Approving ends in the redirect page, which posts to the opener and closes the popup, so
	// the click may see its window go away: the app page below says whether it worked.
	if err := chromedp.Do(pctx, chromedp.Click(chromedp.CSS(selApprove))); err != nil {
		t.Logf("approve (the popup closes itself): %v", err)
	}

	// onComplete got the code; the backend exchanged it and answered the vehicle.
	done, err := chromedp.Run(ctx, chromedp.Poll[string](`document.body.dataset.done`, chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		b.fail("onComplete and the backend", err)
	}
	b.shot("web-app-connected")
	info, _ := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](
		`({status: document.querySelector("#status").textContent, result: document.querySelector("#result").textContent, code: document.body.dataset.code || "", state: document.body.dataset.state || ""})`))
	if done != "ok" {
		t.Fatalf("the web app says %q (%s)", info["status"], done)
	}
	if info["code"] == "" || info["state"] != "web-e2e" {
		t.Errorf("onComplete got code %q and state %q, want a code and the page's state web-e2e", info["code"], info["state"])
	}
	var got struct {
		ID, Make, Model string
		Year            int
	}
	if err := json.Unmarshal([]byte(info["result"]), &got); err != nil {
		t.Fatalf("vehicle %q: %v", info["result"], err)
	}
	if got.ID != want.ID || got.Make != want.Make || got.Model != want.Model || got.Year != want.Year {
		t.Errorf("the backend answered %+v, want %s %d %s %s", got, want.ID, want.Year, want.Make, want.Model)
	}
}
