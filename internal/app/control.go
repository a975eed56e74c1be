package app

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/config"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/faults"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/fixtures"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/requestlog"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/server"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
)

// WatchInterval is how often the fixture folder's modification times are polled.
const WatchInterval = time.Second

// setupControl builds the admin API, fault and request-log wiring from the flags, records
// issued tokens, and starts the fixture watcher when -fixtures is set.
func (a *App) setupControl(cfg config.Config, log *slog.Logger) {
	a.Tokens.OnIssue = server.RecordTokens(a.Store, log)
	c := &server.Control{
		Faults:      faults.NewSet(),
		FaultHeader: cfg.FaultHeader,
		Requests:    requestlog.New(cfg.RequestLogSize, a.Clock.Now),
		Advance:     a.Clock.Advance,
	}
	if !cfg.NoAdmin {
		a.AdminToken = cfg.AdminToken
		if a.AdminToken == "" {
			a.AdminToken = sandbox.RandomToken(24)
		}
		c.AdminToken = a.AdminToken
	}
	if cfg.FixturesDir != "" {
		dir, env, opts := cfg.FixturesDir, cfg.EnvApplication, cfg.FixtureOptions()
		var mu sync.Mutex // one reload at a time: the watcher and POST /admin/reload may race
		c.Reload = func() (store.ReloadResult, error) {
			mu.Lock()
			defer mu.Unlock()
			ds, err := fixtures.LoadDir(dir, opts)
			if err != nil {
				return store.ReloadResult{}, err
			}
			if env != nil {
				ds.Applications = append(ds.Applications, *env)
			}
			return a.Store.Reload(ds)
		}
		a.stopWatch = watch(dir, WatchInterval, func() {
			res, err := c.Reload()
			if err != nil {
				log.Error("fixtures changed but do not load; keeping the previous ones", "dir", dir, "problems", err.Error())
				return
			}
			log.Info("fixtures reloaded", "dir", dir, "grants_kept", res.GrantsKept, "grants_dropped", res.GrantsDropped)
		})
	}
	a.Control = c
}

// watch calls changed whenever the names, sizes or modification times of the YAML files in
// dir change, polling every interval (polling needs no OS-specific notify API and works on
// bind mounts in containers). The returned func stops it.
func watch(dir string, interval time.Duration, changed func()) (stop func()) {
	done := make(chan struct{})
	var once sync.Once
	go func() {
		last := fingerprint(dir)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if fp := fingerprint(dir); fp != last {
					last = fp
					changed()
				}
			}
		}
	}()
	return func() { once.Do(func() { close(done) }) }
}

func fingerprint(dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "error: " + err.Error()
	}
	var b strings.Builder
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		fmt.Fprintf(&b, "%s|%d|%d\n", e.Name(), info.Size(), info.ModTime().UnixNano())
	}
	return b.String()
}

// bannerControl prints how to reach the admin API.
func (a *App) bannerControl(w io.Writer) {
	if a.AdminToken == "" {
		fmt.Fprintf(w, "Admin API: off (-no-admin).\n\n")
		return
	}
	fmt.Fprintf(w, "Admin API: %s/admin (docs/admin.md)\n  SANDBOX_ADMIN_TOKEN=%s\n  curl -H 'Authorization: Bearer %s' %s/admin/vehicles\n\n", a.Origin, a.AdminToken, a.AdminToken, a.Origin)
}
