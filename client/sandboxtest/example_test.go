package sandboxtest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/smartcar-sandbox/smartcar-sandbox/client"
	"github.com/smartcar-sandbox/smartcar-sandbox/client/sandboxtest"
)

// TestExample is the package documentation's example: a sandbox, a token without pages, and
// the client package reading the vehicle through the real API.
func TestExample(t *testing.T) {
	sb := sandboxtest.Start(t)
	tok := sb.Connect("ci@example.com", "read_vehicle_info", "read_odometer")
	c, err := client.New(sb.ClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ids, err := c.Vehicles(ctx, tok.AccessToken, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids.Vehicles, tok.VehicleIDs) || len(ids.Vehicles) != 1 {
		t.Fatalf("vehicles = %v, Connect shared %v", ids.Vehicles, tok.VehicleIDs)
	}
	odo, err := c.Vehicle(tok.VehicleIDs[0], tok.AccessToken).Odometer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if odo.Distance <= 0 {
		t.Fatalf("odometer = %v", odo.Distance)
	}
	// The permission not granted is refused as Smartcar refuses it.
	_, err = c.Vehicle(tok.VehicleIDs[0], tok.AccessToken).Location(ctx)
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Type != "PERMISSION" {
		t.Fatalf("location without read_location: %v", err)
	}
	// The refresh token works at the sandbox's token endpoint.
	if _, err := c.RefreshToken(ctx, tok.RefreshToken); err != nil {
		t.Fatal(err)
	}
}

// TestStartOptions: the options are the binary's flags and environment, and App follows them.
func TestStartOptions(t *testing.T) {
	dir := t.TempDir()
	fixture := `applications:
  - client_id: my-app
    client_secret: my-secret
    name: My App
    redirect_uris: [myapp://exchange]
accounts:
  - username: driver@example.com
    vehicles:
      - id: 2c0f3e52-7f0b-4b8e-9a4e-0d6a1c8f3b21
        make: FORD
        model: Mustang Mach-E
        year: 2023
        vin: 3FMTK3SU6PMA00001
        powertrain: BEV
`
	if err := os.WriteFile(filepath.Join(dir, "fixtures.yaml"), []byte(fixture), 0o600); err != nil {
		t.Fatal(err)
	}
	sb := sandboxtest.Start(t, sandboxtest.WithFixtures(dir))
	if sb.App.ClientID != "my-app" || sb.App.RedirectURI != "myapp://exchange" || sb.App.Name != "My App" {
		t.Fatalf("App = %+v", sb.App)
	}
	tok := sb.Connect("driver@example.com", "read_vin")
	if len(tok.VehicleIDs) != 1 || tok.AccessToken == "" {
		t.Fatalf("tokens = %+v", tok)
	}

	env := sandboxtest.Start(t, sandboxtest.WithApplication("env-app", "env-secret", "envapp://cb", "http://localhost:9/cb"))
	if env.App.ClientID != "env-app" || env.App.RedirectURI != "envapp://cb" || len(env.App.RedirectURIs) != 2 {
		t.Fatalf("App = %+v", env.App)
	}
	for _, want := range []string{"SMARTCAR_API_ORIGIN=" + env.Origin, "SMARTCAR_CLIENT_ID=env-app", "SMARTCAR_REDIRECT_URI=envapp://cb"} {
		if !slices.Contains(env.Env(), want) {
			t.Errorf("Env() lacks %s: %v", want, env.Env())
		}
	}
	// A Connect error comes back as the app's redirect would carry it.
	_, err := env.ConnectWith(sandboxtest.ConnectRequest{Username: "smartcar@vehicle-incompatible.com", Scope: []string{"read_odometer"}, State: "s1"})
	var ae *sandboxtest.AdminError
	if !errors.As(err, &ae) || ae.Code != "vehicle_incompatible" || ae.Fields["state"] != "s1" || ae.Fields["vin"] == nil {
		t.Fatalf("incompatible: %#v", err)
	}
	// The admin client reaches the rest of the admin API.
	var clock struct{ Now string }
	if err := env.Admin.Do(context.Background(), "GET", "/admin/clock", nil, &clock); err != nil || clock.Now == "" {
		t.Fatalf("GET /admin/clock: %v %+v", err, clock)
	}
}

// TestFromAnotherModule builds and runs testdata/usermodule, a module of its own that imports
// this package as a user's project would: the package must be importable from outside the
// module, which internal/ packages are not. It runs from a copy whose replace directive points
// at this checkout, offline: every module it needs is one this module's build already fetched.
func TestFromAnotherModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a second module")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range []string{"go.mod", "app_test.go"} {
		b, err := os.ReadFile(filepath.Join("testdata", "usermodule", f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "go.mod" {
			b = []byte(strings.Replace(string(b), "=> ../../../..", "=> "+root, 1))
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goBin, "test", "-count=1", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "GOPROXY=off", "GOSUMDB=off")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok") {
		t.Fatalf("go test in another module: %v\n%s", err, out)
	}
}
