package dashboard_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
)

// teslaID is a BEV of the default fixtures.
const teslaID = "d21b0a03-5c3f-5c86-8c05-122d6fde0b3c"

// browser is a person's browser: it keeps the session cookie and sends Origin like one.
type browser struct {
	t    *testing.T
	h    *sandboxtest.Harness
	c    *http.Client
	csrf string
}

func newBrowser(t *testing.T, h *sandboxtest.Harness) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, h: h, c: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(method, path, contentType string, body []byte, hdr ...string) (*http.Response, []byte) {
	b.t.Helper()
	req, err := http.NewRequest(method, b.h.URL+path, bytes.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if method != http.MethodGet {
		req.Header.Set("Origin", b.h.URL)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res, out
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([0-9a-f]+)">`)

// signIn posts the admin token and reads the CSRF token from a page.
func (b *browser) signIn(token string) *http.Response {
	b.t.Helper()
	res, _ := b.do(http.MethodPost, "/dashboard/login", "application/x-www-form-urlencoded",
		[]byte(url.Values{"token": {token}, "next": {"/dashboard/faults"}}.Encode()))
	if res.StatusCode == http.StatusSeeOther {
		_, page := b.do(http.MethodGet, "/dashboard/requests", "", nil)
		if m := csrfMeta.FindSubmatch(page); m != nil {
			b.csrf = string(m[1])
		}
	}
	return res
}

func (b *browser) api(method, path string, body any) (*http.Response, []byte) {
	b.t.Helper()
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	return b.do(method, "/dashboard/api"+path, "application/json", raw, "X-CSRF-Token", b.csrf)
}

func TestSignIn(t *testing.T) {
	h := sandboxtest.MustStart(t)
	b := newBrowser(t, h)

	// Signed out, a page sends you to the form, and the API says 401.
	res, _ := b.do(http.MethodGet, "/dashboard/tokens", "", nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/dashboard/login?next=%2Fdashboard%2Ftokens" {
		t.Fatalf("signed-out page = %d to %q, want 303 to the sign-in form", res.StatusCode, res.Header.Get("Location"))
	}
	if res, _ := b.do(http.MethodGet, "/dashboard/api/vehicles", "", nil); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("signed-out API = %d, want 401", res.StatusCode)
	}
	tests := []struct {
		name   string
		token  string
		status int
	}{
		{"wrong token", "not-the-admin-token", http.StatusUnauthorized},
		{"empty", "", http.StatusUnauthorized},
		{"admin token", sandboxtest.AdminToken, http.StatusSeeOther},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := b.signIn(tc.token)
			if res.StatusCode != tc.status {
				t.Fatalf("sign in = %d, want %d", res.StatusCode, tc.status)
			}
			if tc.status != http.StatusSeeOther {
				return
			}
			if got := res.Header.Get("Location"); got != "/dashboard/faults" {
				t.Errorf("after sign-in to %q, want the page asked for", got)
			}
			c := res.Cookies()[0]
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/dashboard" {
				t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/dashboard", c)
			}
			if b.csrf == "" {
				t.Fatal("no CSRF token on the page")
			}
		})
	}
	// Another site cannot sign a browser in.
	req, _ := http.NewRequest(http.MethodPost, h.URL+"/dashboard/login", strings.NewReader("token="+sandboxtest.AdminToken))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site sign-in = %v %v, want 403", res, err)
	}
}

// TestChangesGoThroughTheAdminAPI: every answer of /dashboard/api/X is the admin API's own
// for /admin/X, errors included, and a change needs the CSRF token.
func TestChangesGoThroughTheAdminAPI(t *testing.T) {
	h := sandboxtest.MustStart(t)
	b := newBrowser(t, h)
	b.signIn(sandboxtest.AdminToken)

	tests := []struct {
		name, method, path string
		body               any
	}{
		{"list vehicles", http.MethodGet, "/vehicles", nil},
		{"set a signal", http.MethodPatch, "/vehicles/" + teslaID, map[string]any{"odometerKm": 12345}},
		{"impossible signal", http.MethodPatch, "/vehicles/" + teslaID, map[string]any{"battery": map[string]any{"percentRemaining": 7}}},
		{"unknown vehicle", http.MethodGet, "/vehicles/no-such-vehicle", nil},
		{"bad fault", http.MethodPost, "/faults", map[string]any{"count": 1}},
		{"clock", http.MethodGet, "/clock", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, got := b.api(tc.method, tc.path, tc.body)
			want := h.Admin(t, tc.method, "/admin"+tc.path, tc.body)
			if res.StatusCode != want.Status || dropRequestID(got) != dropRequestID(want.Body) {
				t.Errorf("dashboard %d %s\nadmin API %d %s", res.StatusCode, got, want.Status, want.Body)
			}
		})
	}
	// The signal set through the dashboard is what the admin API reads back.
	var v struct {
		State struct {
			OdometerKm float64 `json:"odometerKm"`
		} `json:"state"`
	}
	h.Admin(t, http.MethodGet, "/admin/vehicles/"+teslaID, nil).JSON(t, &v)
	if v.State.OdometerKm != 12345 {
		t.Errorf("odometer after the dashboard set it: %v", v.State.OdometerKm)
	}

	// Without the CSRF token (or from another origin) nothing changes.
	res, _ := b.do(http.MethodPatch, "/dashboard/api/vehicles/"+teslaID, "application/json", []byte(`{"odometerKm":1}`))
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("PATCH without CSRF token = %d, want 403", res.StatusCode)
	}
	res, _ = b.do(http.MethodPatch, "/dashboard/api/vehicles/"+teslaID, "application/json", []byte(`{"odometerKm":1}`),
		"X-CSRF-Token", b.csrf, "Origin", "https://evil.example")
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("PATCH from another origin = %d, want 403", res.StatusCode)
	}
	h.Admin(t, http.MethodGet, "/admin/vehicles/"+teslaID, nil).JSON(t, &v)
	if v.State.OdometerKm != 12345 {
		t.Errorf("a refused change changed the odometer to %v", v.State.OdometerKm)
	}
}

func dropRequestID(b []byte) string {
	return regexp.MustCompile(`"requestId":"[^"]*"`).ReplaceAllString(string(b), "")
}

func TestCommands(t *testing.T) {
	h := sandboxtest.MustStart(t)
	b := newBrowser(t, h)
	b.signIn(sandboxtest.AdminToken)
	// Unplugged first, so a charging command has a reason to refuse.
	h.Admin(t, http.MethodPatch, "/admin/vehicles/"+teslaID, map[string]any{"charge": map[string]any{"isPluggedIn": false, "state": "NOT_CHARGING"}})

	tests := []struct {
		command   string
		status    int
		wantError string
		locked    bool
	}{
		{"lock", http.StatusOK, "", true},
		{"unlock", http.StatusOK, "", false},
		{"start-charge", http.StatusConflict, "VEHICLE_STATE:CHARGING_PLUG_NOT_CONNECTED", false},
		{"fly", http.StatusNotFound, "not_found", false},
	}
	for _, tc := range tests {
		t.Run(tc.command, func(t *testing.T) {
			res, body := b.api(http.MethodPost, "/vehicles/"+teslaID+"/commands/"+tc.command, nil)
			if res.StatusCode != tc.status {
				t.Fatalf("%s = %d %s, want %d", tc.command, res.StatusCode, body, tc.status)
			}
			var e struct{ Error string }
			_ = json.Unmarshal(body, &e)
			if e.Error != tc.wantError {
				t.Errorf("error = %q, want %q", e.Error, tc.wantError)
			}
			var v struct {
				State struct {
					Security struct {
						Doors []struct{ Status string } `json:"doors"`
					} `json:"security"`
				} `json:"state"`
			}
			h.Admin(t, http.MethodGet, "/admin/vehicles/"+teslaID, nil).JSON(t, &v)
			for _, d := range v.State.Security.Doors {
				if (d.Status == "LOCKED") != tc.locked {
					t.Errorf("door %s after %s, want locked=%v", d.Status, tc.command, tc.locked)
				}
			}
		})
	}
}

// TestEventsStream: a change to a vehicle and a recorded API request reach an open stream.
func TestEventsStream(t *testing.T) {
	h := sandboxtest.MustStart(t)
	b := newBrowser(t, h)
	b.signIn(sandboxtest.AdminToken)
	req, _ := http.NewRequest(http.MethodGet, h.URL+"/dashboard/events", nil)
	res, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	events := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var name string
		for sc.Scan() {
			line := sc.Text()
			if n, ok := strings.CutPrefix(line, "event: "); ok {
				name = n
			}
			if d, ok := strings.CutPrefix(line, "data: "); ok {
				events <- name + " " + d
			}
		}
		close(events)
	}()
	wait := func(prefix, contains string) {
		t.Helper()
		deadline := time.After(5 * time.Second)
		for {
			select {
			case e, ok := <-events:
				if !ok {
					t.Fatalf("stream ended before %s", prefix)
				}
				if strings.HasPrefix(e, prefix+" ") && strings.Contains(e, contains) {
					return
				}
			case <-deadline:
				t.Fatalf("no %s event containing %q", prefix, contains)
			}
		}
	}
	h.Admin(t, http.MethodPatch, "/admin/vehicles/"+teslaID, map[string]any{"odometerKm": 777})
	wait("vehicle", `"odometerKm":777`)
	h.Do(t, http.MethodGet, "/v2.0/vehicles", "not-a-token", nil)
	wait("requests", "{}")

	// Signed out, no stream.
	if res, _ := newBrowser(t, h).do(http.MethodGet, "/dashboard/events", "", nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("signed-out stream = %d, want 401", res.StatusCode)
	}
}

// TestShutdownEndsStreams: an open dashboard tab must not keep a graceful shutdown waiting.
func TestShutdownEndsStreams(t *testing.T) {
	h := sandboxtest.MustStart(t)
	b := newBrowser(t, h)
	b.signIn(sandboxtest.AdminToken)
	res, err := b.c.Get(h.URL + "/dashboard/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	ended := make(chan error, 1)
	go func() { _, err := io.Copy(io.Discard, res.Body); ended <- err }()
	h.Control.Stop()
	select {
	case err := <-ended:
		if err != nil {
			t.Errorf("stream ended with %v, want a clean end", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the event stream is still open after Stop")
	}
}

// TestPagesLoadNothingFromElsewhere: every page is the embedded shell with the embedded
// script and style only (no inline script, nothing from the network), never framed.
func TestPagesLoadNothingFromElsewhere(t *testing.T) {
	h := sandboxtest.MustStart(t)
	b := newBrowser(t, h)
	b.signIn(sandboxtest.AdminToken)
	inline := regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`)
	remote := regexp.MustCompile(`(?:src|href|action)="(?:https?:)?//`)
	for _, p := range []string{"/requests", "/applications", "/accounts", "/tokens", "/faults", "/webhooks", "/clock", "/vehicles/" + teslaID, "/login"} {
		res, body := b.do(http.MethodGet, "/dashboard"+p, "", nil)
		if p == "/login" { // signed in, the form sends you on
			res, body = newBrowser(t, h).do(http.MethodGet, "/dashboard/login", "", nil)
		}
		csp := res.Header.Get("Content-Security-Policy")
		if res.StatusCode != http.StatusOK || !strings.Contains(csp, "script-src 'self';") || !strings.Contains(csp, "frame-ancestors 'none'") ||
			!strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s: %d, CSP %q", p, res.StatusCode, csp)
		}
		if inline.Match(body) || remote.Match(body) {
			t.Errorf("%s has an inline script or loads from another origin:\n%s", p, body)
		}
	}
	for _, f := range []string{"app.js", "app.css"} {
		if res, _ := b.do(http.MethodGet, "/dashboard/static/"+f, "", nil); res.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", f, res.StatusCode)
		}
	}
}

func TestOffWithNoAdmin(t *testing.T) {
	h := sandboxtest.MustStartWith(t, sandboxtest.Options{NoAdmin: true})
	for _, p := range []string{"/dashboard", "/dashboard/login", "/dashboard/requests", "/dashboard/static/app.js"} {
		if res := h.Do(t, http.MethodGet, p, "", nil); res.Status != http.StatusNotFound {
			t.Errorf("GET %s with -no-admin = %d, want 404", p, res.Status)
		}
	}
}
