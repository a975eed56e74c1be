package app

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/config"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/faults"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/fixtures"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store/pgtest"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/token"
)

// MustStart starts an App from cfg on a free loopback port and stops it at test end.
func MustStart(t *testing.T, cfg config.Config) *App {
	t.Helper()
	return mustStartLogging(t, cfg, io.Discard)
}

// mustStartLogging is MustStart with the app's log written to log, and the given options.
func mustStartLogging(t *testing.T, cfg config.Config, log io.Writer, with ...Option) *App {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.LogFormat == "" {
		cfg.LogFormat = "text"
	}
	a, err := Start(cfg, log, with...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.Shutdown(ctx)
	})
	return a
}

func TestStartOnFreePortPrintsBanner(t *testing.T) {
	a := MustStart(t, config.Config{})
	if strings.HasSuffix(a.Addr, ":0") {
		t.Fatalf("Addr = %s, want the real port", a.Addr)
	}
	res, err := http.Get(a.Origin + "/healthz")
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", res, err)
	}
	res.Body.Close()
	var b strings.Builder
	a.Banner(&b)
	for _, want := range []string{
		"SMARTCAR_API_ORIGIN=" + a.Origin, "SMARTCAR_AUTH_ORIGIN=" + a.Origin, "SMARTCAR_CONNECT_ORIGIN=" + a.Origin,
		"SMARTCAR_MANAGEMENT_API_ORIGIN=" + a.Origin, "SMARTCAR_CLIENT_ID=sandbox-demo", "SMARTCAR_CLIENT_SECRET=sandbox-demo-secret",
		"scsandbox-demo://exchange", "http://localhost:8000/exchange",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, b.String())
		}
	}
}

func TestPublicURLIsUsedInBanner(t *testing.T) {
	a := MustStart(t, config.Config{PublicURL: "http://192.168.1.20:8080"})
	if a.Origin != "http://192.168.1.20:8080" {
		t.Fatalf("Origin = %s", a.Origin)
	}
}

func TestEnvApplicationIsRegistered(t *testing.T) {
	a := MustStart(t, config.Config{EnvApplication: &sandbox.Application{ClientID: "env-app", ClientSecret: "s", RedirectURIs: []string{"scenv-app://exchange"}}})
	if _, ok := a.Store.Application("env-app"); !ok {
		t.Fatal("env application not registered")
	}
}

func TestBadFixturesStopTheStart(t *testing.T) {
	dir := t.TempDir()
	bad := "applications:\n  - client_id: x\n    colour: red\naccounts:\n  - username: a\n    vehicles:\n      - id: not-a-uuid\n        make: NOPE\n"
	if err := os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Start(config.Config{Addr: "127.0.0.1:0", FixturesDir: dir, LogFormat: "text"}, io.Discard)
	if err == nil {
		t.Fatal("started on bad fixtures")
	}
	for _, want := range []string{"bad.yaml:3: unknown field", "bad.yaml:7: vehicle id", "bad.yaml:8: unknown make"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %s:\n%v", want, err)
		}
	}
}

// TestDurableStoresKeepStateAndKeyAcrossRestart: with -data-dir (SQLite and a key file) and
// with -store (PostgreSQL, the key in the database), a restart keeps the state and the signing
// key.
func TestDurableStoresKeepStateAndKeyAcrossRestart(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  func(t *testing.T) config.Config
	}{
		{"data-dir", func(t *testing.T) config.Config { return config.Config{DataDir: t.TempDir()} }},
		{"store postgres", func(t *testing.T) config.Config { return config.Config{Store: pgtest.URL(t)} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg(t)
			cfg.Addr, cfg.LogFormat = "127.0.0.1:0", "text"
			keepsStateAndKey(t, cfg)
		})
	}
}

func keepsStateAndKey(t *testing.T, cfg config.Config) {
	a, err := Start(cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	acct, err := a.Store.Account("restart@sandbox.test")
	if err != nil {
		t.Fatal(err)
	}
	vid := acct.VehicleIDs[0]
	if _, err := a.Store.UpdateVehicle(vid, func(v *sandbox.Vehicle) error { v.State.OdometerKm = 4242; return nil }); err != nil {
		t.Fatal(err)
	}
	tok, _, err := a.Tokens.IssueVehicle(tokenGrant(acct))
	if err != nil {
		t.Fatal(err)
	}
	// What the sandbox's tools hold is kept too: a fault rule, the request log's size and a
	// simulated vehicle's trip (on a vehicle of its own: the simulator moves it).
	if _, err := a.Control.Faults.Add(faults.Rule{Path: "/v3/", Latency: &faults.Latency{Fixed: faults.Duration(time.Millisecond)}}); err != nil {
		t.Fatal(err)
	}
	if err := a.Control.Requests.SetSize(7); err != nil {
		t.Fatal(err)
	}
	tripAcct, err := a.Store.Account("trip@sandbox.test")
	if err != nil {
		t.Fatal(err)
	}
	trip := sandbox.Trip{Stage: sandbox.TripParked, JoinedAt: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), Start: sandbox.TripStart{OdometerKm: 10}}
	if _, err := a.Store.UpdateVehicle(tripAcct.VehicleIDs[0], func(v *sandbox.Vehicle) error { v.State.Trip = trip; return nil }); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	b := MustStart(t, cfg)
	v, ok := b.Store.Vehicle(vid)
	if !ok || v.State.OdometerKm != 4242 {
		t.Fatalf("after restart vehicle = %+v, %v; want odometer 4242", v.State, ok)
	}
	if _, err := b.Tokens.Verify(tok); err != nil {
		t.Fatalf("token from before the restart: %v", err)
	}
	if rules := b.Control.Faults.List(); len(rules) != 1 || rules[0].Path != "/v3/" {
		t.Errorf("fault rules after restart: %+v, want the /v3/ one", rules)
	}
	if n := b.Control.Requests.Size(); n != 7 {
		t.Errorf("request log size after restart %d, want 7", n)
	}
	if v, _ := b.Store.Vehicle(tripAcct.VehicleIDs[0]); !v.State.Trip.JoinedAt.Equal(trip.JoinedAt) || v.State.Trip.Start != trip.Start {
		t.Errorf("trip after restart %+v, want it to go on from %+v", v.State.Trip, trip)
	}
	// The generated garage is the same one, not a second copy.
	again, _ := b.Store.Account("restart@sandbox.test")
	want, _ := fixtures.Garage("restart@sandbox.test", "")
	if again.UserID != want.UserID || len(again.VehicleIDs) != len(want.VehicleIDs) {
		t.Fatalf("account after restart = %+v, want %+v", again, want)
	}
}
func tokenGrant(a sandbox.Account) token.VehicleGrant {
	return token.VehicleGrant{ClientID: "sandbox-demo", UserID: a.UserID, VehicleIDs: a.VehicleIDs, Permissions: []string{"read_odometer"}}
}

func TestProbe(t *testing.T) {
	a := MustStart(t, config.Config{})
	if err := Probe(a.Origin, time.Second, nil); err != nil {
		t.Fatalf("Probe of a running sandbox: %v", err)
	}
	if err := Probe("http://127.0.0.1:1", time.Second, nil); err == nil {
		t.Fatal("Probe of nothing succeeded")
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

// The options give what tests need beyond the flags, into the one wiring: the clock starts at
// the given time and moves only forward, the given dataset is served, POST /admin/reload calls
// the given hook, and the given save fault fails the data dir's commits.
func TestStartOptions(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ds := sandbox.Dataset{Applications: []sandbox.Application{{Name: "Given", ClientID: "given", ClientSecret: "given-secret", RedirectURIs: []string{"given://cb"}}}}
	full := errors.New("disk full")
	var failSaves atomic.Bool
	reloads := 0
	a := mustStartLogging(t, config.Config{DataDir: t.TempDir()}, io.Discard,
		FixedClock(at), WithDataset(ds),
		WithReload(func() (store.ReloadResult, error) { reloads++; return store.ReloadResult{}, nil }),
		WithSaveFault(func() error {
			if failSaves.Load() {
				return full
			}
			return nil
		}))
	if now := a.Clock.Now(); !now.Equal(at) {
		t.Errorf("clock at %v, want %v", now, at)
	}
	if err := a.Clock.Advance(time.Hour); err != nil || !a.Clock.Now().Equal(at.Add(time.Hour)) {
		t.Errorf("after Advance(1h): %v, %v; want %v", a.Clock.Now(), err, at.Add(time.Hour))
	}
	if apps := a.Store.Applications(); len(apps) != 1 || apps[0].ClientID != "given" {
		t.Errorf("applications %+v, want the given dataset's one", apps)
	}
	if _, err := a.Control.Reload(); err != nil || reloads != 1 {
		t.Errorf("Reload: %v, hook called %d times; want the given hook once", err, reloads)
	}
	failSaves.Store(true)
	if err := a.Store.PutApplication(sandbox.Application{Name: "More", ClientID: "more", ClientSecret: "more-secret", RedirectURIs: []string{"more://cb"}}); err == nil {
		t.Error("a save under the save fault succeeded")
	}
}

// A test that shuts the app down itself still gets MustStart's cleanup: the second Shutdown
// answers at once with the first one's result instead of waiting for a serve loop that ended.
func TestShutdownTwice(t *testing.T) {
	a := MustStart(t, config.Config{})
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatalf("first Shutdown: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Shutdown(context.Background()) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("second Shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("second Shutdown still waiting after 10 s")
	}
}
