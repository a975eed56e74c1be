package main

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smartcar-sandbox/smartcar-sandbox/client"
	"github.com/smartcar-sandbox/smartcar-sandbox/client/sandboxtest"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/app"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/config"
)

// TestInitThenStart writes a starter project, starts the sandbox on its fixtures as written,
// and uses its .env the way the tutorial backend does (client.Config.WithEnv): a Connect flow
// for the project's application, the code exchanged with .env's credentials, both vehicles read.
func TestInitThenStart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "project")
	// .env names the origin, so the sandbox must listen where init said: reserve a port.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	var out strings.Builder
	if err := runInit([]string{"-origin", "http://" + addr, dir}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "smartcar-sandbox -fixtures "+filepath.Join(dir, "fixtures")) {
		t.Errorf("init's output does not say how to start:\n%s", out.String())
	}
	if fi, err := os.Stat(filepath.Join(dir, ".env")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf(".env: %v %v", fi, err)
	}

	a, err := app.Start(config.Config{Addr: addr, FixturesDir: filepath.Join(dir, "fixtures"), LogFormat: "text", RequestLogSize: 10}, os.Stderr)
	if err != nil {
		t.Fatalf("the sandbox does not start on init's fixtures: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		a.Shutdown(ctx)
	})
	apps := a.Store.Applications()
	if len(apps) != 1 || apps[0].ClientID != "my-app" || len(apps[0].Webhooks) != 1 {
		t.Fatalf("applications = %+v", apps)
	}

	env := readEnv(t, filepath.Join(dir, ".env"))
	cfg := client.Config{}.WithEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	cfg.Mode = client.ModeTest
	c, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	adm := &sandboxtest.Admin{Origin: a.Origin, Token: a.AdminToken, HTTP: &http.Client{Timeout: 10 * time.Second}}
	var res struct{ Code string }
	if err := adm.Do(context.Background(), "POST", "/admin/connect", map[string]any{"clientId": env["SMARTCAR_CLIENT_ID"], "redirectUri": env["SMARTCAR_REDIRECT_URI"],
		"username": "driver@example.com", "scope": []string{"read_vehicle_info", "read_odometer"}}, &res); err != nil {
		t.Fatal(err)
	}
	access, err := c.ExchangeCode(context.Background(), res.Code)
	if err != nil {
		t.Fatalf("exchange with .env's credentials: %v", err)
	}
	ids, err := c.Vehicles(context.Background(), access.AccessToken, 0, 0)
	if err != nil || len(ids.Vehicles) != 2 {
		t.Fatalf("vehicles: %v %v", ids, err)
	}
	for _, id := range ids.Vehicles {
		if _, err := c.Vehicle(id, access.AccessToken).Odometer(context.Background()); err != nil {
			t.Errorf("odometer of %s: %v", id, err)
		}
	}
	conns, err := c.Connections(context.Background(), env["SMARTCAR_MANAGEMENT_TOKEN"], client.ConnectionsFilter{}, client.ConnectionsPaging{})
	if err != nil || len(conns.Connections) != 2 {
		t.Fatalf("management API with .env's token: %v %v", conns, err)
	}

	// A second init over the same folder writes nothing.
	before, _ := os.ReadFile(filepath.Join(dir, ".env"))
	if err := runInit([]string{dir}, &out); err == nil || !strings.Contains(err.Error(), ".env") {
		t.Fatalf("second init: %v", err)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, ".env")); !slices.Equal(before, after) {
		t.Fatal("the second init changed .env")
	}
}

func readEnv(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf(".env line %q is not NAME=value", line)
		}
		env[k] = v
	}
	return env
}
