package e2e_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smartcar-sandbox/smartcar-sandbox/client"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/app"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/config"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/tutorial"
)

// The demo application of the default fixtures (fixtures/applications.yaml) and the user whose
// first vehicle is a 2022 TESLA Model 3 (fixtures/accounts.yaml).
const (
	demoClientID     = "sandbox-demo"
	demoClientSecret = "sandbox-demo-secret"
	demoAppRedirect  = "scsandbox-demo://exchange"
	demoUser         = "demo@sandbox.test"
)

// inCI reports whether the suite runs in CI, where a missing tool is a failure, not a skip.
func inCI() bool { return os.Getenv("CI") == "true" }

// needTool fails (CI) or skips (locally) when a tool outside Go is missing.
func needTool(t *testing.T, what, hint string) {
	t.Helper()
	msg := what + " is not available; " + hint
	if inCI() {
		t.Fatal("CI=true: " + msg)
	}
	t.Skip(msg)
}

// startSandbox runs a real sandbox on a free loopback port; its log goes to the test log only
// when the test fails (-v shows it always), so a failing flow shows what the server saw.
func startSandbox(t *testing.T) *app.App {
	t.Helper()
	return startSandboxWith(t, config.Config{Addr: "127.0.0.1:0", LogFormat: "text"})
}

// startSandboxWith is startSandbox with a configuration of the test's own.
func startSandboxWith(t *testing.T, cfg config.Config) *app.App {
	t.Helper()
	a, err := app.Start(cfg, testLogWriter{t})
	if err != nil {
		t.Fatalf("start sandbox: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := a.Shutdown(ctx); err != nil {
			t.Errorf("sandbox shutdown: %v", err)
		}
	})
	return a
}

// testLogWriter sends server logs to t.Log, line by line. Writes after the test ended are dropped
// (t.Log would panic), which can happen for a request still finishing during shutdown.
type testLogWriter struct{ t *testing.T }

func (w testLogWriter) Write(p []byte) (int, error) {
	defer func() { _ = recover() }()
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// tutorialBackend is the real tutorial backend (the handler cmd/tutorial-backend serves) on an
// httptest server, configured as `make demo` configures it: the demo app, the iOS redirect URI,
// every origin pointing at the sandbox.
type tutorialBackend struct {
	URL    string
	Client *client.Client // the same client configuration, for building the Connect URL
}

func startTutorialBackend(t *testing.T, sandboxOrigin string, scope []string) *tutorialBackend {
	t.Helper()
	return startTutorialBackendFor(t, sandboxOrigin, client.Config{ClientID: demoClientID, ClientSecret: demoClientSecret,
		RedirectURI: demoAppRedirect}, scope, nil)
}

// startTutorialBackendFor runs the tutorial backend for another application (app's client id,
// secret and redirect URI), letting webOrigins call it with the session cookie.
func startTutorialBackendFor(t *testing.T, sandboxOrigin string, app client.Config, scope, webOrigins []string) *tutorialBackend {
	t.Helper()
	c, err := client.New(client.Config{
		ClientID:      app.ClientID,
		ClientSecret:  app.ClientSecret,
		RedirectURI:   app.RedirectURI,
		ConnectOrigin: sandboxOrigin,
		AuthOrigin:    sandboxOrigin,
		APIOrigin:     sandboxOrigin,
		Mode:          client.ModeTest,
		Timeout:       10 * time.Second,
	})
	if err != nil {
		t.Fatalf("client config: %v", err)
	}
	h, err := tutorial.NewHandler(tutorial.Config{
		Client: c, Scope: scope, Mode: client.ModeTest, WebOrigins: webOrigins,
		Logger: slog.New(slog.NewTextHandler(testLogWriter{t}, nil)),
	})
	if err != nil {
		t.Fatalf("tutorial handler: %v", err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &tutorialBackend{URL: srv.URL, Client: c}
}

// phone is the HTTP client of the app: it keeps the backend's session cookie, like URLSession.
func phone(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

// getBody GETs u and returns the status and body.
func getBody(t *testing.T, c *http.Client, u string) (int, []byte) {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", u, err)
	}
	return res.StatusCode, b
}

// repoRoot is the module root (the tests run in e2e/).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// lookChromium finds the browser: $CHROMIUM_PATH, else chromium / chromium-browser on PATH.
func lookChromium() (string, bool) {
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		p, err := exec.LookPath(p)
		return p, err == nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, true
		}
	}
	return "", false
}
