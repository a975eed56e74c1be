package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
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
