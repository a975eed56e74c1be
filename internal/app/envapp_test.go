package app

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/config"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/testlog"
)

// parseConfig builds a Config the way main does, from flags and an environment.
func parseConfig(t *testing.T, args []string, env map[string]string) config.Config {
	t.Helper()
	cfg, err := config.Parse(append([]string{"-addr", "127.0.0.1:0"}, args...), func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestEnvApplicationName follows SMARTCAR_APP_NAME from the environment to the banner and to the
// Connect page the application's users see.
func TestEnvApplicationName(t *testing.T) {
	cfg := parseConfig(t, nil, map[string]string{
		"SMARTCAR_CLIENT_ID": "fleet-app", "SMARTCAR_CLIENT_SECRET": "s3cret",
		"SMARTCAR_REDIRECT_URI": "scfleet-app://exchange", "SMARTCAR_APP_NAME": "Fleet Tracker & Co",
	})
	a := MustStart(t, cfg)
	var banner strings.Builder
	a.Banner(&banner)
	if !strings.Contains(banner.String(), `Application "Fleet Tracker & Co"`) {
		t.Errorf("banner does not name the application:\n%s", banner.String())
	}
	q := url.Values{"response_type": {"code"}, "client_id": {"fleet-app"}, "redirect_uri": {"scfleet-app://exchange"}, "scope": {"read_vehicle_info"}, "mode": {"test"}}
	res, err := http.Get(a.Origin + "/oauth/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "Fleet Tracker &amp; Co wants to connect to your vehicle") {
		t.Errorf("Connect page (%d) does not show the name:\n%s", res.StatusCode, body)
	}
}

// TestEnvApplicationReplacingAFixtureIsLogged registers from the environment a client id the
// fixtures define, at start and on reload: the environment's application wins, once, and a log
// line names the client id and the fixture's file.
func TestEnvApplicationReplacingAFixtureIsLogged(t *testing.T) {
	dir := t.TempDir()
	fixture := "applications:\n  - name: Fixture App\n    client_id: shared-app\n    client_secret: fixture-secret\n    redirect_uris: [scshared-app://exchange]\n" +
		"  - name: Other App\n    client_id: other-app\n    client_secret: other-secret\n    redirect_uris: [scother-app://exchange]\n"
	if err := os.WriteFile(filepath.Join(dir, "apps.yaml"), []byte(fixture), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := parseConfig(t, []string{"-fixtures", dir, "-app-name", "From Env"}, map[string]string{
		"SMARTCAR_CLIENT_ID": "shared-app", "SMARTCAR_CLIENT_SECRET": "env-secret", "SMARTCAR_REDIRECT_URI": "scshared-app://exchange",
	})
	var log testlog.Buffer
	a, err := Start(cfg, &log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Shutdown(t.Context()) })

	check := func(when string, wantLines int) {
		t.Helper()
		app, ok := a.Store.Application("shared-app")
		if !ok || app.ClientSecret != "env-secret" || app.Name != "From Env" {
			t.Errorf("%s: shared-app = %+v, want the environment's", when, app)
		}
		if _, ok := a.Store.Application("other-app"); !ok {
			t.Errorf("%s: the other fixture application is gone", when)
		}
		n := 0
		for _, app := range a.Store.Applications() {
			if app.ClientID == "shared-app" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s: %d applications with client id shared-app", when, n)
		}
		var lines []string
		for _, l := range strings.Split(log.String(), "\n") {
			if strings.Contains(l, "replaces the fixture application") {
				lines = append(lines, l)
			}
		}
		if len(lines) != wantLines {
			t.Fatalf("%s: %d replacement log lines, want %d:\n%s", when, len(lines), wantLines, log.String())
		}
		for _, want := range []string{"client_id=shared-app", "fixture=" + filepath.Join(dir, "apps.yaml") + ":2", `fixture_name="Fixture App"`} {
			if !strings.Contains(lines[len(lines)-1], want) {
				t.Errorf("%s: log line lacks %s: %s", when, want, lines[len(lines)-1])
			}
		}
	}
	check("start", 1)
	if _, err := a.Control.Reload(); err != nil {
		t.Fatal(err)
	}
	check("reload", 2)
}

// TestEnvApplicationWithNewClientIDIsNotLogged: nothing is replaced, nothing is said.
func TestEnvApplicationWithNewClientIDIsNotLogged(t *testing.T) {
	cfg := parseConfig(t, nil, map[string]string{
		"SMARTCAR_CLIENT_ID": "brand-new", "SMARTCAR_CLIENT_SECRET": "s", "SMARTCAR_REDIRECT_URI": "scbrand-new://exchange",
	})
	var log testlog.Buffer
	a, err := Start(cfg, &log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Shutdown(t.Context()) })
	if strings.Contains(log.String(), "replaces") {
		t.Errorf("a new client id was logged as a replacement:\n%s", log.String())
	}
	if _, ok := a.Store.Application("sandbox-demo"); !ok {
		t.Error("the fixtures' demo application is gone")
	}
}
