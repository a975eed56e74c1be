package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/app"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/config"
)

// nodeSuiteTimeout bounds the whole Node run; it takes a few seconds.
const nodeSuiteTimeout = 2 * time.Minute

// TestNodeSDK runs the official Smartcar Node SDK (e2e/node, smartcar@10.4.0, unmodified) against
// a real sandbox. The SDK is pointed at it only through its own SMARTCAR_* variables.
func TestNodeSDK(t *testing.T) { runNodeSuite(t, startSandbox(t)) }

// TestNodeSDKOverTLS runs the same suite against a sandbox serving HTTPS (-tls) with only its
// local CA trusted, through Node's own NODE_EXTRA_CA_CERTS: what an app developer does.
func TestNodeSDKOverTLS(t *testing.T) {
	a, err := app.Start(config.Config{Addr: "127.0.0.1:0", LogFormat: "text", TLS: true, DataDir: t.TempDir()}, testLogWriter{t})
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
	if !strings.HasPrefix(a.Origin, "https://") {
		t.Fatalf("origin %s", a.Origin)
	}
	runNodeSuite(t, a, "NODE_EXTRA_CA_CERTS="+a.CA.CertPath())
}

func runNodeSuite(t *testing.T, sb *app.App, extraEnv ...string) {
	node, err := exec.LookPath("node")
	if err != nil {
		needTool(t, "node", "install Node.js 20 or newer")
	}
	dir := filepath.Join(repoRoot(t), "e2e", "node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "smartcar", "package.json")); err != nil {
		needTool(t, "e2e/node/node_modules (the smartcar SDK)", "run `make test` or `npm ci --prefix e2e/node`")
	}
	want := firstVehicle(t, sb.Dataset, demoUser)
	fixture, err := json.Marshal(map[string]any{
		"id": want.ID, "make": want.Make, "model": want.Model, "year": want.Year, "vin": want.VIN, "powertrain": want.Powertrain,
	})
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), nodeSuiteTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", "sdk.test.mjs", "testmode.test.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"SMARTCAR_API_ORIGIN="+sb.Origin,
		"SMARTCAR_AUTH_ORIGIN="+sb.Origin,
		"SMARTCAR_MANAGEMENT_API_ORIGIN="+sb.Origin,
		"SMARTCAR_API_V3_ORIGIN="+sb.Origin,
		"SMARTCAR_CLIENT_ID="+demoClientID,
		"SMARTCAR_CLIENT_SECRET="+demoClientSecret,
		"E2E_USERNAME="+demoUser,
		"E2E_VEHICLE="+string(fixture),
		"NO_COLOR=1",
	)
	cmd.Env = append(cmd.Env, extraEnv...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err = cmd.Run()
	if err != nil {
		t.Fatalf("node --test sdk.test.mjs: %v (after %s)\n%s", err, time.Since(start).Round(time.Millisecond), out.String())
	}
	t.Logf("Node SDK suite passed in %s\n%s", time.Since(start).Round(time.Millisecond), out.String())
}
