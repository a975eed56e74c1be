package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestErrorShapes runs every error shape through a real HTTP round trip and compares the parsed
// *Error values with testdata/errors.golden.json.
func TestErrorShapes(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		headers map[string]string
		body    string
	}{
		{"v2 full", 409, map[string]string{"Content-Type": "application/json", "SC-Request-Id": "hdr-req"},
			`{"type":"VEHICLE_STATE","code":"ASLEEP","description":"The vehicle is asleep.","docURL":"https://smartcar.com/docs/errors/api-errors/vehicle-state-errors#asleep","statusCode":409,"requestId":"body-req","resolution":{"type":"RETRY_LATER","url":"https://example.com/r"},"suggestedUserMessage":"Try again later."}`},
		{"v2 null code, request id from header", 401, map[string]string{"Content-Type": "application/json", "SC-Request-Id": "hdr-req"},
			`{"type":"AUTHENTICATION","code":null,"description":"The authorization header is missing or malformed.","docURL":"d","statusCode":401,"resolution":{"type":"REAUTHENTICATE"},"suggestedUserMessage":"Reconnect."}`},
		{"validation with detail, null resolution type", 400, map[string]string{"Content-Type": "application/json"},
			`{"type":"VALIDATION","code":"PARAMETER","description":"bad","docURL":"d","statusCode":400,"requestId":"r","resolution":{"type":null},"detail":[{"field":"limit","message":"must be <= 50"}]}`},
		{"resolution as string", 500, map[string]string{"Content-Type": "application/json"},
			`{"type":"SERVER","code":"INTERNAL","description":"oops","resolution":"RETRY_LATER"}`},
		{"rate limit with retry-after", 429, map[string]string{"Content-Type": "application/json", "Retry-After": "30"},
			`{"type":"RATE_LIMIT","code":"VEHICLE","description":"throttled","statusCode":429,"requestId":"r","resolution":{"type":"RETRY_LATER"}}`},
		{"oauth", 400, map[string]string{"Content-Type": "application/json"},
			`{"error":"invalid_grant","error_description":"Invalid or expired refresh token."}`},
		{"v1 legacy", 409, map[string]string{"Content-Type": "application/json"},
			`{"error":"vehicle_state_error","message":"Doors open","code":"VS_001"}`},
		{"plain text", 502, map[string]string{"Content-Type": "text/plain", "SC-Request-Id": "hdr-req"}, "Bad Gateway from proxy\n"},
		{"html", 404, map[string]string{"Content-Type": "text/html"}, "<html>not found</html>"},
		{"empty body", 503, nil, ""},
		{"json without type or error", 418, map[string]string{"Content-Type": "application/json"}, `{"foo":"bar"}`},
		{"json array", 400, map[string]string{"Content-Type": "application/json"}, `[1,2]`},
	}
	type result struct {
		Name    string
		Message string
		Error   *Error
	}
	var results []result
	for _, tt := range tests {
		f := newFake(t, tt.status, tt.body, tt.headers)
		c := newTestClient(t, f.URL)
		_, err := c.User(context.Background(), "tok")
		var se *Error
		if !errors.As(err, &se) {
			t.Fatalf("%s: err = %v (%T), want *Error", tt.name, err, err)
		}
		if se.StatusCode != tt.status {
			t.Errorf("%s: StatusCode = %d, want %d", tt.name, se.StatusCode, tt.status)
		}
		results = append(results, result{tt.name, se.Error(), se})
	}
	checkGolden(t, "errors.golden.json", mustJSON(t, results))
}

func TestErrorFromTokenEndpoint(t *testing.T) {
	f := newFake(t, 401, `{"error":"invalid_client","error_description":"Invalid client credentials."}`,
		map[string]string{"Content-Type": "application/json"})
	_, err := newTestClient(t, f.URL).ExchangeCode(context.Background(), "c")
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("err = %v", err)
	}
	if !se.IsOAuth() || se.Type != "invalid_client" || se.Description != "Invalid client credentials." || se.StatusCode != 401 {
		t.Errorf("got %+v", se)
	}
	if !strings.Contains(se.Error(), "invalid_client") {
		t.Errorf("message %q lacks the type", se.Error())
	}
}

func TestErrorBodyIsBounded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		w.Write([]byte(strings.Repeat("x", 10000)))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL)
	_, err := c.User(context.Background(), "tok")
	if err == nil {
		t.Fatal("no error")
	}
	if n := len(err.Error()); n > 400 {
		t.Errorf("error message is %d bytes; a huge body must be truncated in the message", n)
	}
}
