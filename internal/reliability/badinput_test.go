package reliability_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/server"
)

// door is which part of the sandbox a path belongs to; each answers errors in its own shape.
type door string

const (
	doorV1      door = "v1.0"    // Smartcar error JSON (v2.0's shape; see docs/api-v2.md)
	doorV2      door = "v2.0"    // Smartcar error JSON
	doorV3      door = "v3"      // Smartcar error JSON
	doorOAuth   door = "oauth"   // {"error","error_description"}
	doorAdmin   door = "admin"   // {"error","message","requestId"}
	doorConnect door = "connect" // an HTML error page
	doorPage    door = "page"    // the sandbox's own pages: HTML
	// doorDashboard answers its pages in HTML and its API (the admin API's, in process) in
	// the admin JSON shape.
	doorDashboard door = "dashboard"
)

// doorOf classifies a route. A route it does not know fails the test, so whoever mounts a new
// kind of endpoint has to say here what its errors look like.
func doorOf(path string) (door, bool) {
	switch {
	case strings.HasPrefix(path, "/v1.0/"):
		return doorV1, true
	case strings.HasPrefix(path, "/v2.0/"):
		return doorV2, true
	case strings.HasPrefix(path, "/v3/"):
		return doorV3, true
	case path == "/oauth/token" || path == "/oauth2/token":
		return doorOAuth, true
	case path == "/admin" || strings.HasPrefix(path, "/admin/"):
		return doorAdmin, true
	case path == "/oauth/authorize" || strings.HasPrefix(path, "/connect/"):
		return doorConnect, true
	case path == "/" || path == "/healthz" || path == "/readyz" || path == "/metrics" || path == "/openapi.json" || strings.HasPrefix(path, "/javascript-sdk/"):
		return doorPage, true
	case path == "/dashboard" || strings.HasPrefix(path, "/dashboard/"):
		return doorDashboard, true
	}
	return "", false
}

// badCase is one bad request.
type badCase struct {
	name        string
	method      string
	path        string // with query
	contentType string
	body        []byte
	auth        bool // send the door's valid credentials
}

// TestBadInputEveryRoute walks every route the router mounts (server.Routes) and sends each
// bad requests: wrong methods, wrong content types, invalid JSON and forms, giant values and
// bodies, unicode and invalid UTF-8, missing fields, bad path values, no or garbage
// credentials. No answer may be a 5xx, and every error must be in its door's shape.
func TestBadInputEveryRoute(t *testing.T) {
	h := sandboxtest.MustStart(t)
	routes, err := server.Routes(h.Deps())
	if err != nil {
		t.Fatal(err)
	}
	// Every door must be there, or the walk saw a partly mounted router.
	seen := map[door]int{}
	served := map[string]map[string]bool{} // path template -> methods ("" = all)
	for _, rt := range routes {
		if rt.Prefix {
			// A catch-all: test it on a path under it that nothing else serves.
			rt.Path += "no-such-endpoint"
		}
		d, ok := doorOf(rt.Path)
		if !ok {
			t.Errorf("route %s %s belongs to no door this test knows; teach doorOf its error shape", rt.Method, rt.Path)
			continue
		}
		seen[d]++
		if served[rt.Path] == nil {
			served[rt.Path] = map[string]bool{}
		}
		served[rt.Path][rt.Method] = true
	}
	for _, d := range []door{doorV1, doorV2, doorV3, doorOAuth, doorAdmin, doorConnect, doorPage} {
		if seen[d] == 0 {
			t.Errorf("the router mounts no %s route; the walk is incomplete", d)
		}
	}
	paths := make([]string, 0, len(served))
	for p := range served {
		paths = append(paths, p)
	}
	sort.Strings(paths)

	giant := strings.Repeat("A", 200<<10)
	huge := bytes.Repeat([]byte("x"), 2<<20) // past the 1 MiB body limit
	jsonBodies := []struct{ name, body string }{
		{"invalid JSON", `{"action":`},
		{"JSON array", `[1,2,3]`},
		{"JSON null", `null`},
		{"missing fields", `{}`},
		{"wrong types", `{"action":7,"limit":"high","requests":"all","latitude":true}`},
		{"two objects", `{} {}`},
		{"giant string", `{"action":"` + giant + `","limit":0.5}`},
		{"giant number", `{"limit":1e999999,"latitude":-1e400}`},
		{"deep nesting", strings.Repeat("[", 10000) + strings.Repeat("]", 10000)},
		{"unicode", `{"action":"ＬＯＣＫ\u202e🚗","limit":"①","requests":[{"path":"/odométer"}]}`},
		{"invalid UTF-8", "{\"action\":\"\xff\xfe\xc0\"}"},
		{"batch too long", `{"requests":[` + strings.Repeat(`{"path":"/odometer"},`, 200) + `{"path":"/vin"}]}`},
	}
	var cases []badCase
	for _, p := range paths {
		concrete := concretePath(p)
		var bodyMethods []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			if served[p][m] || served[p][""] {
				if m != http.MethodGet {
					bodyMethods = append(bodyMethods, m)
				}
				continue
			}
			cases = append(cases, badCase{name: "wrong method", method: m, path: concrete, auth: true})
		}
		getLike := http.MethodGet
		if !served[p][http.MethodGet] && !served[p][""] && len(bodyMethods) > 0 {
			getLike = bodyMethods[0]
		}
		cases = append(cases,
			badCase{name: "no credentials", method: getLike, path: concrete},
			badCase{name: "giant query", method: getLike, path: concrete + "?vin=" + giant[:16<<10] + "&scope=" + url.QueryEscape("read_odometer\u0000☃"), auth: true},
			badCase{name: "unicode query", method: getLike, path: concrete + "?make=%F0%9F%9A%97&page=-1&pageSize=99999999999999999999&client_id=%ff", auth: true},
		)
		if strings.Contains(p, "{") {
			bad := strings.NewReplacer("{id}", "%F0%9F%9A%97", "{code}", "%E2%98%83", "{token}", "%00", "{code}", "x").Replace(p)
			cases = append(cases, badCase{name: "unicode path value", method: getLike, path: bad, auth: true})
			bad = strings.NewReplacer("{id}", giant[:4<<10], "{code}", giant[:4<<10], "{token}", giant[:4<<10]).Replace(p)
			cases = append(cases, badCase{name: "giant path value", method: getLike, path: bad, auth: true})
		}
		for _, m := range bodyMethods {
			cases = append(cases,
				badCase{name: "wrong content type", method: m, path: concrete, contentType: "text/plain", body: []byte("LOCK"), auth: true},
				badCase{name: "bad form", method: m, path: concrete, contentType: "application/x-www-form-urlencoded", body: []byte("%zz=&flow=%&csrf=\xff&grant_type=" + giant), auth: true},
				badCase{name: "huge body", method: m, path: concrete, contentType: "application/json", body: huge, auth: true},
				badCase{name: "huge form", method: m, path: concrete, contentType: "application/x-www-form-urlencoded", body: append([]byte("grant_type=client_credentials&x="), huge...), auth: true},
			)
			for _, jb := range jsonBodies {
				cases = append(cases, badCase{name: jb.name, method: m, path: concrete, contentType: "application/json", body: []byte(jb.body), auth: true})
			}
		}
	}

	client := &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	began := time.Now()
	for _, c := range cases {
		// A fresh grant for each case: a bad request that still disconnects the vehicle
		// (DELETE .../application) must not turn every later case into a plain 401.
		tok, _ := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, sandboxtest.AllPermissions()...)
		res, body, err := send(client, h.URL, c, tok)
		if err != nil {
			t.Errorf("%s %s (%s): %v", c.method, short(c.path), c.name, err)
			continue
		}
		if msg := checkShape(c, res, body); msg != "" {
			t.Errorf("%s %s (%s): %d: %s\n%.400s", c.method, short(c.path), c.name, res.StatusCode, msg, body)
		}
	}
	t.Logf("%d bad requests over %d routes (%d paths) in %v", len(cases), len(routes), len(paths), time.Since(began).Round(time.Millisecond))

	// And the sandbox is still up and well.
	if res := h.Do(t, http.MethodGet, "/healthz", "", nil); res.Status != http.StatusOK {
		t.Fatalf("healthz after the bad inputs: %d", res.Status)
	}
}

// concretePath fills a route template with values that exist in the default fixtures.
func concretePath(p string) string {
	return strings.NewReplacer("{id}", teslaID, "{code}", "odometer-traveleddistance", "{token}", "no-such-token").Replace(p)
}

func short(p string) string {
	if len(p) > 90 {
		return p[:90] + fmt.Sprintf("…(%d bytes)", len(p))
	}
	return p
}

func send(client *http.Client, base string, c badCase, vehicleToken string) (*http.Response, []byte, error) {
	var rd io.Reader
	if c.body != nil {
		rd = bytes.NewReader(c.body)
	}
	req, err := http.NewRequest(c.method, base+c.path, rd)
	if err != nil {
		return nil, nil, err
	}
	if c.contentType != "" {
		req.Header.Set("Content-Type", c.contentType)
	}
	d, _ := doorOf(templateOf(c.path))
	switch {
	case !c.auth:
	case d == doorAdmin:
		req.Header.Set("Authorization", "Bearer "+sandboxtest.AdminToken)
	case d == doorOAuth:
		req.SetBasicAuth(sandboxtest.ClientID, sandboxtest.ClientSecret)
	case d == doorV1 || d == doorV2 || d == doorV3:
		req.Header.Set("Authorization", "Bearer "+vehicleToken)
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res, body, err
}

// templateOf is enough of the route for doorOf, which only looks at prefixes.
func templateOf(p string) string {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	return p
}

// checkShape says what is wrong with an answer to a bad request ("" when nothing is).
func checkShape(c badCase, res *http.Response, body []byte) string {
	if res.StatusCode >= 500 && !notCapable(res, body) {
		return "a 5xx for a bad request"
	}
	if res.StatusCode < 400 {
		return "" // the sandbox found nothing wrong (e.g. an ignored query parameter)
	}
	d, _ := doorOf(templateOf(c.path))
	// A method a known path does not serve is a 405 naming the ones it does (the admin API,
	// and the dashboard's in-process door to it, answer their own unknown requests).
	adminLike := d == doorAdmin || strings.HasPrefix(c.path, "/dashboard/api/")
	if c.name == "wrong method" && !adminLike && (res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") == "") {
		return "a wrong method without 405 and Allow"
	}
	mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	switch d {
	case doorV3:
		// v3's JSON:API errors array (scapi.NewV3ErrorBody).
		var e struct {
			Errors []struct {
				Status string `json:"status"`
				Type   string `json:"type"`
				Code   string `json:"code"`
				Detail string `json:"detail"`
				Meta   struct {
					RequestID string `json:"requestId"`
				} `json:"meta"`
			} `json:"errors"`
		}
		if mt != "application/json" || json.Unmarshal(body, &e) != nil || len(e.Errors) != 1 {
			return "not a JSON v3 Smartcar error (Content-Type " + res.Header.Get("Content-Type") + ")"
		}
		if x := e.Errors[0]; x.Type == "" || x.Code == "" || x.Detail == "" || x.Status != strconv.Itoa(res.StatusCode) || x.Meta.RequestID == "" || x.Meta.RequestID != res.Header.Get("SC-Request-Id") {
			return "v3 Smartcar error without type/code/detail/status/requestId matching the response"
		}
	case doorV1, doorV2:
		var e struct {
			Type        string `json:"type"`
			Description string `json:"description"`
			StatusCode  int    `json:"statusCode"`
			RequestID   string `json:"requestId"`
		}
		if mt != "application/json" || json.Unmarshal(body, &e) != nil {
			return "not a JSON Smartcar error (Content-Type " + res.Header.Get("Content-Type") + ")"
		}
		if e.Type == "" || e.Description == "" || e.StatusCode != res.StatusCode || e.RequestID == "" || e.RequestID != res.Header.Get("SC-Request-Id") {
			return "Smartcar error without type/description/statusCode/requestId matching the response"
		}
	case doorOAuth:
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if mt != "application/json" || json.Unmarshal(body, &e) != nil || e.Error == "" || e.Description == "" {
			return "not an OAuth error JSON"
		}
	case doorAdmin:
		var e struct {
			Error     string `json:"error"`
			Message   string `json:"message"`
			RequestID string `json:"requestId"`
		}
		if mt != "application/json" || json.Unmarshal(body, &e) != nil || e.Error == "" || e.Message == "" || e.RequestID == "" {
			return "not an admin error JSON"
		}
	case doorDashboard:
		var e struct {
			Error     string `json:"error"`
			Message   string `json:"message"`
			RequestID string `json:"requestId"`
		}
		isAdminShape := mt == "application/json" && json.Unmarshal(body, &e) == nil && e.Error != "" && e.Message != "" && e.RequestID != ""
		if !isAdminShape && (mt != "text/html" || len(bytes.TrimSpace(body)) == 0) {
			return "neither an HTML page nor an admin error JSON (Content-Type " + res.Header.Get("Content-Type") + ")"
		}
	case doorConnect, doorPage:
		if mt != "text/html" || len(bytes.TrimSpace(body)) == 0 {
			return "not an HTML error page (Content-Type " + res.Header.Get("Content-Type") + ")"
		}
	}
	return ""
}

// notCapable is Smartcar's 501 COMPATIBILITY error (a BEV has no fuel tank): a faithful
// answer about the vehicle, not a server failure, so the 5xx rule does not apply to it.
func notCapable(res *http.Response, body []byte) bool {
	var e struct {
		Type string `json:"type"`
	}
	return res.StatusCode == http.StatusNotImplemented && json.Unmarshal(body, &e) == nil && e.Type == "COMPATIBILITY"
}
