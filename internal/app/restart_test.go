package app

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/config"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/connect/connecttest"
)

// A Connect page shown before a restart is submitted after it: with a data dir the page's
// signed flow state still opens (the key is kept there), without one the person is told the
// sandbox restarted.
func TestConnectPageOpenAcrossRestart(t *testing.T) {
	for _, tc := range []struct {
		name      string
		dataDir   bool
		completes bool
	}{
		{"with data dir", true, true},
		{"in memory", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Config{Addr: "127.0.0.1:0", LogFormat: "text"}
			if tc.dataDir {
				cfg.DataDir = t.TempDir()
			}
			a, err := Start(cfg, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			b := connecttest.NewBrowser(a.Origin)
			p := b.Authorize(t, url.Values{"response_type": {"code"}, "client_id": {"sandbox-demo"},
				"redirect_uri": {"scsandbox-demo://exchange"}, "scope": {"read_vehicle_info"}, "mode": {"test"}})
			p = b.Submit(t, p, "/connect/start", nil)
			if p.Has(`class="brand-list-item"`) {
				p = b.Submit(t, p, "/connect/brand", url.Values{"make": {"TESLA"}})
			}
			if !p.Has(`id="sign-in-button"`) {
				t.Fatalf("expected the sign-in page, got %d:\n%s", p.Status, p.Body)
			}

			// Restart on the same address, as `make demo` does.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := a.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			cfg.Addr = a.Addr
			a, err = Start(cfg, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = a.Shutdown(context.Background()) })

			p = b.Submit(t, p, "/connect/login", url.Values{"username": {"demo@sandbox.test"}, "password": {"pw"}})
			if !tc.completes {
				if p.Status != http.StatusBadRequest || !p.Has("sandbox restarted") {
					t.Fatalf("in memory, an old page got %d, want 400 naming the restart:\n%s", p.Status, p.Body)
				}
				return
			}
			if !p.Has(`id="approval-button"`) {
				t.Fatalf("expected the permissions page after the restart, got %d:\n%s", p.Status, p.Body)
			}
			p = b.Submit(t, p, "/connect/consent", url.Values{"action": {"allow"},
				"vehicle": connecttest.Checked(p, "vehicle"), "permission": connecttest.Checked(p, "permission")})
			if loc := p.Location(t); p.Status != http.StatusFound || loc == nil || loc.Query().Get("code") == "" {
				t.Fatalf("consent after restart: %d, Location %v", p.Status, loc)
			}
		})
	}
}
