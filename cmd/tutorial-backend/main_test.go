package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/testlog"
)

func lookupFrom(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestRunReportsEveryProblem(t *testing.T) {
	env := map[string]string{"SMARTCAR_API_ORIGIN": "localhost:4000"}
	err := run(context.Background(), nil, lookupFrom(env), io.Discard, io.Discard)
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	for _, want := range []string{"SMARTCAR_CLIENT_ID", "SMARTCAR_CLIENT_SECRET", "SMARTCAR_REDIRECT_URI", "APIOrigin"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
	if err := run(context.Background(), []string{"-mode", "demo"}, lookupFrom(map[string]string{
		"SMARTCAR_CLIENT_ID": "a", "SMARTCAR_CLIENT_SECRET": "b", "SMARTCAR_REDIRECT_URI": "http://x/exchange",
	}), io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "Mode") {
		t.Errorf("bad mode: err = %v", err)
	}
}

func TestRunServesAndShutsDown(t *testing.T) {
	env := map[string]string{
		"SMARTCAR_CLIENT_ID": "cid", "SMARTCAR_CLIENT_SECRET": "secret",
		"SMARTCAR_REDIRECT_URI": "http://127.0.0.1:8000/exchange", "SMARTCAR_API_ORIGIN": "http://127.0.0.1:4000",
		"TUTORIAL_ADDR": "127.0.0.1:0",
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &testlog.Buffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, lookupFrom(env), out, io.Discard) }()

	re := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)
	var base string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
			break
		}
	}
	if base == "" || strings.HasSuffix(base, ":0") {
		cancel()
		t.Fatalf("no port printed: %q", out.String())
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// Connect falls back to SMARTCAR_API_ORIGIN, like the Node SDK.
	if loc := resp.Header.Get("Location"); resp.StatusCode != 302 || !strings.HasPrefix(loc, "http://127.0.0.1:4000/oauth/authorize?") || !strings.Contains(loc, "mode=test") {
		t.Errorf("login = %d %s", resp.StatusCode, loc)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no graceful shutdown")
	}
	if !strings.Contains(out.String(), "stopped") {
		t.Errorf("output = %q", out.String())
	}
}

func TestRunPrintsAQRCodeWithoutConfiguration(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), []string{"-qr", "http://192.168.1.20:8000/login"}, lookupFrom(nil), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) < 10 || !strings.ContainsAny(out.String(), "█▀▄") {
		t.Errorf("no QR code printed:\n%s", out.String())
	}
}
