package server_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/scapi"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/server"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/testlog"
)

func TestHealthzAndRequestID(t *testing.T) {
	h := sandboxtest.MustStart(t)
	for _, path := range []string{"/healthz", "/healthz/"} {
		res := h.Do(t, "GET", path, "", nil)
		if res.Status != http.StatusOK || res.Map(t)["status"] != "ok" {
			t.Fatalf("GET %s = %d %s", path, res.Status, res.Body)
		}
		if id := res.Header.Get("SC-Request-Id"); len(id) != 36 {
			t.Fatalf("SC-Request-Id = %q, want a UUID", id)
		}
	}
}

func TestUnknownAPIPathIsASmartcarError(t *testing.T) {
	h := sandboxtest.MustStart(t)
	res := h.Do(t, "GET", "/v2.0/nothing/here", "", nil)
	m := res.Map(t)
	if res.Status != http.StatusNotFound || m["type"] != "RESOURCE_NOT_FOUND" || m["code"] != "PATH" || m["requestId"] != res.Header.Get("SC-Request-Id") {
		t.Fatalf("got %d %s", res.Status, res.Body)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q", ct)
	}
	res = h.Do(t, "GET", "/nope", "", nil)
	if res.Status != http.StatusNotFound || !strings.Contains(string(res.Body), "Not found") {
		t.Fatalf("GET /nope = %d %s", res.Status, res.Body)
	}
}

func TestLandingPageShowsEnvLines(t *testing.T) {
	h := sandboxtest.MustStart(t)
	res := h.Do(t, "GET", "/", "", nil)
	if res.Status != http.StatusOK || !strings.Contains(string(res.Body), "SMARTCAR_API_ORIGIN="+h.URL) {
		t.Fatalf("landing = %d %s", res.Status, res.Body)
	}
}

const teslaID = "d21b0a03-5c3f-5c86-8c05-122d6fde0b3c" // demo@sandbox.test (fixtures/accounts.yaml)

// smartcarError decodes a Smartcar error body, failing unless it is one whose statusCode and
// requestId match the response: v3's errors array under /v3, the v2.0 body elsewhere.
func smartcarError(t *testing.T, path string, res *sandboxtest.Response) (typ, code string) {
	t.Helper()
	if v, _ := scapi.VersionOf(path); v == scapi.V3 {
		e := res.V3Error(t)
		return e.Type, e.Code
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, want Smartcar error JSON: %.200s", ct, res.Body)
	}
	var e struct {
		Type        string  `json:"type"`
		Code        *string `json:"code"`
		Description string  `json:"description"`
		StatusCode  int     `json:"statusCode"`
		RequestID   string  `json:"requestId"`
	}
	res.JSON(t, &e)
	if e.Type == "" || e.Description == "" || e.StatusCode != res.Status || e.RequestID != res.Header.Get("SC-Request-Id") {
		t.Fatalf("not a Smartcar error for a %d: %s", res.Status, res.Body)
	}
	if e.Code == nil {
		return e.Type, "<null>"
	}
	return e.Type, *e.Code
}

// Nothing under an API prefix answers an HTML page: unknown paths are Smartcar's
// RESOURCE_NOT_FOUND, for every version and the management API under /v2.0 and /v1.0.
func TestUnknownAPIPathsAreSmartcarErrors(t *testing.T) {
	h := sandboxtest.MustStart(t)
	tok, _ := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, sandboxtest.AllPermissions()...)
	for _, p := range []string{
		"/v1.0", "/v1.0/", "/v1.0/nothing", "/v1.0/vehicles/" + teslaID + "/warp_drive", "/v1.0/management/nothing",
		"/v2.0", "/v2.0/nothing/here", "/v2.0/vehicles/" + teslaID + "/warp_drive", "/v2.0/management/nothing", "/v2.0/management/connections/x",
		"/v3", "/v3/nothing", "/v3/vehicles/" + teslaID + "/commands/teleport",
	} {
		for _, m := range []string{http.MethodGet, http.MethodPost} {
			res := h.Do(t, m, p, tok, nil)
			if res.Status != http.StatusNotFound {
				t.Errorf("%s %s = %d, want 404: %.200s", m, p, res.Status, res.Body)
				continue
			}
			if typ, code := smartcarError(t, p, res); typ != "RESOURCE_NOT_FOUND" || code != "PATH" {
				t.Errorf("%s %s = %s:%s, want RESOURCE_NOT_FOUND:PATH", m, p, typ, code)
			}
		}
	}
	// Outside the API prefixes the 404 is the HTML page.
	for _, p := range []string{"/nope", "/v1.00/vehicles", "/v2/vehicles", "/v30"} {
		res := h.Do(t, http.MethodGet, p, "", nil)
		if res.Status != http.StatusNotFound || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			t.Errorf("GET %s = %d %s, want the HTML 404", p, res.Status, res.Header.Get("Content-Type"))
		}
	}
}

// /v1.0 is served by the same handlers as /v2.0: every v2.0 route has its v1.0 twin, which
// answers the same.
func TestV1RoutesMirrorV2(t *testing.T) {
	h := sandboxtest.MustStart(t)
	routes, err := server.Routes(h.Deps())
	if err != nil {
		t.Fatal(err)
	}
	mounted := map[string]bool{}
	for _, rt := range routes {
		mounted[rt.Method+" "+rt.Path] = true
	}
	tok, _ := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, sandboxtest.AllPermissions()...)
	n := 0
	for _, rt := range routes {
		rest, ok := strings.CutPrefix(rt.Path, "/v2.0/")
		if !ok {
			continue
		}
		n++
		if !mounted[rt.Method+" /v1.0/"+rest] {
			t.Errorf("%s %s has no /v1.0 twin", rt.Method, rt.Path)
		}
		if rt.Method != http.MethodGet || strings.Contains(rest, "webhooks") {
			continue
		}
		path := strings.ReplaceAll(rest, "{id}", teslaID)
		v2, v1 := h.Do(t, rt.Method, "/v2.0/"+path, tok, nil), h.Do(t, rt.Method, "/v1.0/"+path, tok, nil)
		b2 := strings.ReplaceAll(string(v2.Body), v2.Header.Get("SC-Request-Id"), "<id>")
		b1 := strings.ReplaceAll(string(v1.Body), v1.Header.Get("SC-Request-Id"), "<id>")
		if v1.Status != v2.Status || b1 != b2 {
			t.Errorf("GET /v1.0/%s = %d %.200s; /v2.0 = %d %.200s", path, v1.Status, b1, v2.Status, b2)
		}
	}
	if n < 30 {
		t.Fatalf("only %d /v2.0 routes mounted", n)
	}
}

// A known path asked with a method it does not serve: 405 with Allow, in the door's shape.
// HEAD works wherever GET does.
func TestMethodNotAllowed(t *testing.T) {
	h := sandboxtest.MustStart(t)
	tok, _ := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, sandboxtest.AllPermissions()...)
	v := "/vehicles/" + teslaID
	tests := []struct {
		method, path, allow string
		api                 bool
	}{
		{http.MethodPut, "/v2.0" + v + "/security", "GET, HEAD, POST", true},
		{http.MethodOptions, "/v2.0" + v + "/odometer", "GET, HEAD", true},
		{http.MethodPatch, "/v1.0" + v + "/odometer", "GET, HEAD", true},
		{http.MethodGet, "/v2.0" + v + "/batch", "POST", true},
		// Two segments after the id, like the webhook route's: a 405 all the same.
		{http.MethodDelete, "/v2.0" + v + "/engine/oil", "GET, HEAD", true},
		{http.MethodGet, "/v2.0" + v + "/navigation/destination", "POST", true},
		{http.MethodPost, "/v1.0" + v + "/service/history", "GET, HEAD", true},
		{http.MethodGet, "/v2.0" + v + "/webhooks/" + teslaID, "POST, DELETE", true},
		{http.MethodPost, "/v2.0" + v + "/application", "DELETE", true},
		{http.MethodPut, "/v2.0/management/connections", "GET, HEAD, DELETE", true},
		{http.MethodDelete, "/v3" + v + "/signals", "GET, HEAD", true},
		{http.MethodGet, "/v3" + v + "/commands/security/lock", "POST", true},
		{http.MethodPost, "/", "GET, HEAD", false},
		{http.MethodDelete, "/connect/brands", "GET, HEAD", false},
		{http.MethodGet, "/connect/login", "POST", false},
	}
	for _, tt := range tests {
		res := h.Do(t, tt.method, tt.path, tok, nil)
		if res.Status != http.StatusMethodNotAllowed || res.Header.Get("Allow") != tt.allow {
			t.Errorf("%s %s = %d Allow %q, want 405 Allow %q: %.200s", tt.method, tt.path, res.Status, res.Header.Get("Allow"), tt.allow, res.Body)
			continue
		}
		if !tt.api {
			if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
				t.Errorf("%s %s: Content-Type %q, want the HTML page", tt.method, tt.path, res.Header.Get("Content-Type"))
			}
			continue
		}
		// v3 has no null code: the status's reason stands in (scapi.V3Code).
		want := "<null>"
		if strings.HasPrefix(tt.path, "/v3") {
			want = "METHOD_NOT_ALLOWED"
		}
		if typ, code := smartcarError(t, tt.path, res); typ != "VALIDATION" || code != want {
			t.Errorf("%s %s = %s:%s, want VALIDATION:%s", tt.method, tt.path, typ, code, want)
		}
	}

	// Every GET route answers HEAD too, with GET's status and headers and no body.
	routes, err := server.Routes(h.Deps())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, rt := range routes {
		if rt.Method != http.MethodGet || rt.Prefix {
			continue
		}
		n++
		p := strings.NewReplacer("{id}", teslaID, "{code}", "odometer-traveleddistance").Replace(rt.Path)
		cred := tok
		if strings.HasPrefix(p, "/admin") {
			cred = sandboxtest.AdminToken
		}
		get, head := h.Do(t, http.MethodGet, p, cred, nil), h.Do(t, http.MethodHead, p, cred, nil)
		if head.Status != get.Status || len(head.Body) != 0 || head.Header.Get("Content-Type") != get.Header.Get("Content-Type") ||
			head.Header.Get("SC-Data-Age") != get.Header.Get("SC-Data-Age") || head.Header.Get("SC-Request-Id") == "" {
			t.Errorf("HEAD %s = %d %v %q; GET = %d %v", p, head.Status, head.Header, head.Body, get.Status, get.Header)
		}
	}
	if n < 40 {
		t.Errorf("HEAD tried on %d GET routes, want them all", n)
	}
}

// Paths with "." or ".." segments are a 404 in the door's shape, never a redirect (which
// turns an SDK's POST into a GET); an encoded slash in an id is part of the id.
func TestDotSegmentsAndEncodedSlashes(t *testing.T) {
	h := sandboxtest.MustStart(t)
	tok, _ := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, sandboxtest.AllPermissions()...)
	v := "/v2.0/vehicles/" + teslaID
	tests := []struct {
		method, path string
		status       int
		typ          string // "" for the HTML page
	}{
		{http.MethodPost, "/v2.0/vehicles/x/../" + teslaID + "/security", 404, "RESOURCE_NOT_FOUND"},
		{http.MethodGet, v + "/./odometer", 404, "RESOURCE_NOT_FOUND"},
		{http.MethodGet, "/v2.0/vehicles/..", 404, "RESOURCE_NOT_FOUND"},
		{http.MethodGet, "/v2.0/vehicles/%2e%2e/odometer", 404, "RESOURCE_NOT_FOUND"},
		{http.MethodGet, "/v1.0/./vehicles", 404, "RESOURCE_NOT_FOUND"},
		{http.MethodGet, "/v3/vehicles/" + teslaID + "/signals/..", 404, "RESOURCE_NOT_FOUND"},
		{http.MethodGet, "/connect/../healthz", 404, ""},
		{http.MethodGet, "/./healthz", 404, ""},
		// An encoded slash does not split the id: the id is malformed, not the path unknown.
		{http.MethodGet, v + "%2Fodometer", 400, "VALIDATION"},
		{http.MethodGet, "/v2.0/vehicles/abc%2Fdef/odometer", 400, "VALIDATION"},
		{http.MethodPost, "/v1.0/vehicles/abc%2F..%2Fdef/security", 400, "VALIDATION"},
	}
	for _, tt := range tests {
		res := h.Do(t, tt.method, tt.path, tok, `{"action":"LOCK"}`)
		if res.Status != tt.status {
			t.Errorf("%s %s = %d (Location %q), want %d: %.200s", tt.method, tt.path, res.Status, res.Header.Get("Location"), tt.status, res.Body)
			continue
		}
		if tt.typ == "" {
			if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
				t.Errorf("%s %s: Content-Type %q, want the HTML page", tt.method, tt.path, res.Header.Get("Content-Type"))
			}
			continue
		}
		if typ, _ := smartcarError(t, tt.path, res); typ != tt.typ {
			t.Errorf("%s %s = %s, want %s", tt.method, tt.path, typ, tt.typ)
		}
	}
}

// An error's note (the sandbox's own explanation) is on the access line, not in the body.
func TestErrorNoteGoesToTheAccessLog(t *testing.T) {
	var out testlog.Buffer
	h := sandboxtest.MustStartWith(t, sandboxtest.Options{Log: &out})
	res := h.Do(t, http.MethodGet, "/v2.0/vehicles/"+teslaID+"/odometer", "", nil, "Authorization", "Token nope")
	const note = "The Authorization header must be 'Bearer <access token>'."
	if strings.Contains(string(res.Body), "Bearer <access token>") {
		t.Errorf("the note reached the body: %s", res.Body)
	}
	// The log is written out at least every server.FlushEvery.
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(out.String(), "status=401") && time.Now().Before(deadline); {
		time.Sleep(server.FlushEvery)
	}
	if line := out.String(); !strings.Contains(line, "status=401") || !strings.Contains(line, `note="`+note+`"`) {
		t.Errorf("access line %q lacks the note %q", line, note)
	}
}

// A door that cannot be built is New's error, not a panic.
func TestNewReportsADoorThatCannotBeBuilt(t *testing.T) {
	st, err := store.New(sandbox.Dataset{}, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, d := range map[string]server.Deps{
		"no store":                      {},
		"admin API without a fault set": {Store: st, Control: &server.Control{AdminToken: "x"}},
	} {
		if h, err := server.New(d); err == nil || h != nil {
			t.Errorf("%s: New = %v, %v; want no handler and an error", name, h, err)
		}
	}
}

// Listing the routes changes nothing of what it is given (it once filled in a missing fault
// set), and gives the same list every time.
func TestRoutesHasNoSideEffects(t *testing.T) {
	st, err := store.New(sandbox.Dataset{}, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := &server.Control{AdminToken: "x"}
	if _, err := server.Routes(server.Deps{Store: st, Control: c}); err == nil || c.Faults != nil {
		t.Errorf("Routes with an admin token and no fault set: error %v, fault set %v; want an error and the Control left alone", err, c.Faults)
	}
	h := sandboxtest.MustStart(t)
	first, err := server.Routes(h.Deps())
	if err != nil {
		t.Fatal(err)
	}
	again, err := server.Routes(h.Deps())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(first, again) || len(first) < 40 {
		t.Errorf("two listings differ (%d and %d routes)", len(first), len(again))
	}
}
