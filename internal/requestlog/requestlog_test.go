package requestlog

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRingKeepsNewest(t *testing.T) {
	l := New(3, nil)
	for i := 1; i <= 5; i++ {
		l.Add(Entry{RequestID: fmt.Sprint(i)})
	}
	for _, tc := range []struct {
		limit int
		want  string
	}{{0, "543"}, {2, "54"}, {10, "543"}} {
		got := ""
		for _, e := range l.List(tc.limit) {
			got += e.RequestID
		}
		if got != tc.want {
			t.Errorf("List(%d) = %q, want %q", tc.limit, got, tc.want)
		}
	}
	l.Clear()
	if n := len(l.List(0)); n != 0 {
		t.Errorf("after Clear: %d entries", n)
	}
	off := New(0, nil)
	off.Add(Entry{RequestID: "x"})
	if n := len(off.List(0)); n != 0 {
		t.Errorf("size 0 kept %d entries", n)
	}
}

func TestRedaction(t *testing.T) {
	if got := redactAuth("Bearer abcdefghijklmnop"); got != "Bearer …klmnop" {
		t.Errorf("redactAuth = %q", got)
	}
	if got := redactBody("grant_type=x&client_secret=s3", "application/x-www-form-urlencoded"); got != "client_secret=%5Bredacted%5D&grant_type=x" {
		t.Errorf("redactBody = %q", got)
	}
	// v3's /oauth2/token takes JSON too.
	for body, want := range map[string]string{
		`{"grant_type":"client_credentials","client_id":"a","client_secret":"s3"}`: `{"client_id":"a","client_secret":"[redacted]","grant_type":"client_credentials"}`,
		`{"grant_type":"client_credentials"}`:                                      `{"grant_type":"client_credentials"}`,
		`not json`:                                                                 `not json`,
	} {
		if got := redactBody(body, "application/json; charset=utf-8"); got != want {
			t.Errorf("redactBody(%s) = %s, want %s", body, got, want)
		}
	}
}

// Wrap keeps the answer's body for errors only, and the status of both.
func TestWrapKeepsErrorBodiesOnly(t *testing.T) {
	l := New(10, nil)
	h := l.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2.0/bad" {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"type":"RESOURCE_NOT_FOUND"}`))
			return
		}
		_, _ = w.Write([]byte(`{"distance":1}`))
	}), everyPath)
	for _, path := range []string{"/v2.0/ok", "/v2.0/bad"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{{"/v2.0/ok", 200, ""}, {"/v2.0/bad", 404, `{"type":"RESOURCE_NOT_FOUND"}`}} {
		var got *Entry
		for _, e := range l.List(0) {
			if e.Path == tc.path {
				got = &e
			}
		}
		if got == nil || got.Status != tc.status || got.ResponseBody != tc.body {
			t.Errorf("entry for %s = %+v, want status %d body %q", tc.path, got, tc.status, tc.body)
		}
	}
}

// Wrap records the flattened, redacted request headers and the fault rule the answer names.
func TestWrapRecordsHeadersAndFault(t *testing.T) {
	l := New(10, nil)
	h := l.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2.0/faulty" {
			w.Header().Set("SC-Sandbox-Fault-Rule", "rule-7")
		}
		w.WriteHeader(http.StatusOK)
	}), everyPath)
	for _, path := range []string{"/v2.0/plain", "/v2.0/faulty"} {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer abcdefghijklmnop")
		req.Header.Add("Accept", "a/b")
		req.Header.Add("Accept", "c/d")
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	got := l.List(0)
	if len(got) != 2 {
		t.Fatalf("%d entries, want 2", len(got))
	}
	for _, tc := range []struct {
		e         Entry
		wantFault string
	}{{got[0], "rule-7"}, {got[1], ""}} {
		if tc.e.Fault != tc.wantFault {
			t.Errorf("%s: Fault = %q, want %q", tc.e.Path, tc.e.Fault, tc.wantFault)
		}
		want := map[string]string{"Authorization": "Bearer …klmnop", "Accept": "a/b, c/d"}
		if fmt.Sprint(tc.e.RequestHeaders) != fmt.Sprint(want) {
			t.Errorf("%s: RequestHeaders = %v, want %v", tc.e.Path, tc.e.RequestHeaders, want)
		}
	}
}

// Entries added with headers come back with the same headers, each List its own map.
func TestAddKeepsHeaders(t *testing.T) {
	l := New(2, nil)
	l.Add(Entry{RequestID: "a", RequestHeaders: map[string]string{"Accept": "x", "User-Agent": "y"}})
	l.Add(Entry{RequestID: "b"})
	got := l.List(0)
	if len(got) != 2 || got[1].RequestID != "a" {
		t.Fatalf("List = %+v, want b then a", got)
	}
	if want := map[string]string{"Accept": "x", "User-Agent": "y"}; fmt.Sprint(got[1].RequestHeaders) != fmt.Sprint(want) {
		t.Errorf("RequestHeaders = %v, want %v", got[1].RequestHeaders, want)
	}
	if got[0].RequestHeaders != nil {
		t.Errorf("entry without headers: RequestHeaders = %v, want nil", got[0].RequestHeaders)
	}
	got[1].RequestHeaders["Accept"] = "changed"
	if again := l.List(0)[1].RequestHeaders["Accept"]; again != "x" {
		t.Errorf("after changing a listed map, the log has Accept = %q, want x", again)
	}
}

// everyPath records every request handed to Wrap.
func everyPath(string) bool { return true }

// Wrap records only the paths its predicate accepts.
func TestWrapRecordsOnlyAcceptedPaths(t *testing.T) {
	l := New(10, nil)
	h := l.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), func(p string) bool { return p == "/api" })
	for _, path := range []string{"/api", "/page"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	if got := l.List(0); len(got) != 1 || got[0].Path != "/api" {
		t.Errorf("entries = %+v, want only /api", got)
	}
}

// Note reaches the entry of the request being recorded through any wrapping writer, and does
// nothing without a note keeper.
func TestNoteReachesTheEntry(t *testing.T) {
	l := New(10, nil)
	h := l.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A writer wrapped once more, as a middleware inside the log would.
		Note(unwrapper{w}, "token revoked by the admin API")
		w.WriteHeader(http.StatusUnauthorized)
	}), everyPath)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/v2.0/vehicles/x", nil))
	if got := l.List(0); len(got) != 1 || got[0].Note != "token revoked by the admin API" {
		t.Errorf("entries = %+v, want the note", got)
	}
	Note(httptest.NewRecorder(), "nobody keeps this") // must not panic
	Note(nil, "nor this")
}

type unwrapper struct{ http.ResponseWriter }

func (u unwrapper) Unwrap() http.ResponseWriter { return u.ResponseWriter }

// TestEntriesNameTheirApplication: every entry says which application the request came from,
// as its credentials claim: a bearer token's client, Basic client authentication, or the
// client_id of a token request's form or JSON body.
func TestEntriesNameTheirApplication(t *testing.T) {
	l := New(10, nil)
	h := l.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}), everyPath)
	jwt := "eyJhbGciOiJIUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(`{"knd":"vehicle","cid":"app-bearer","sub":"u"}`)) + ".sig"
	tests := []struct {
		name, path, auth, contentType, body, want string
	}{
		{"bearer token", "/v2.0/vehicles", "Bearer " + jwt, "", "", "app-bearer"},
		{"basic", "/oauth/token", "Basic " + base64.StdEncoding.EncodeToString([]byte("app-basic:secret")), "application/x-www-form-urlencoded", "grant_type=refresh_token", "app-basic"},
		{"form body", "/oauth/token", "", "application/x-www-form-urlencoded", "grant_type=client_credentials&client_id=app-form&client_secret=s", "app-form"},
		{"json body", "/oauth2/token", "", "application/json", `{"grant_type":"client_credentials","client_id":"app-json","client_secret":"s"}`, "app-json"},
		{"no credentials", "/v2.0/vehicles", "", "", "", ""},
		{"not a JWT", "/v2.0/vehicles", "Bearer abc", "", "", ""},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(http.MethodPost, tt.path, strings.NewReader(tt.body))
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		if tt.contentType != "" {
			req.Header.Set("Content-Type", tt.contentType)
		}
		h.ServeHTTP(httptest.NewRecorder(), req)
		if got := l.List(1)[0]; got.ClientID != tt.want {
			t.Errorf("%s: clientId %q, want %q", tt.name, got.ClientID, tt.want)
		}
	}
}
