package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// nodeSuiteTimeout bounds the whole Node run; it takes a few seconds.
const nodeSuiteTimeout = 2 * time.Minute

// TestNodeSDK runs the official Smartcar Node SDK (e2e/node, smartcar@10.4.0, unmodified) against
// a real sandbox. The SDK is pointed at it only through its own SMARTCAR_* variables.
func TestNodeSDK(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		needTool(t, "node", "install Node.js 20 or newer")
	}
	dir := filepath.Join(repoRoot(t), "e2e", "node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "smartcar", "package.json")); err != nil {
		needTool(t, "e2e/node/node_modules (the smartcar SDK)", "run `make test` or `npm ci --prefix e2e/node`")
	}
	sb := startSandbox(t)
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
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err = cmd.Run()
	if err != nil {
		t.Fatalf("node --test sdk.test.mjs: %v (after %s)\n%s", err, time.Since(start).Round(time.Millisecond), out.String())
	}
	t.Logf("Node SDK suite passed in %s\n%s", time.Since(start).Round(time.Millisecond), out.String())
}
