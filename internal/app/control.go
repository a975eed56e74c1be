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

// WatchInterval is how often the fixture folder's file names, sizes and modification times
// are polled. WatchSettle is how long they must then stay the same before the folder is
// reloaded: an editor that empties a file before writing it, or a copy in progress, changes
// them several times in a row, and a reload in the middle would load a half-written folder.
const (
	WatchInterval = time.Second
	WatchSettle   = time.Second
)

// maxLoggedIDs bounds the vehicle ids a reload's log line lists; the count is always there.
const maxLoggedIDs = 20

// setupControl builds the admin API, fault and request-log wiring from the flags, records
// issued tokens, and starts the fixture watcher when -fixtures is set. reload, when set, is
// what POST /admin/reload calls instead (a test's).
func (a *App) setupControl(cfg config.Config, log *slog.Logger, reload func() (store.ReloadResult, error)) {
	a.Tokens.OnIssue = server.RecordTokens(a.Store, log)
	c := &server.Control{
		Faults:      faults.FromStore(a.Store),
		FaultHeader: cfg.FaultHeader,
		Requests:    requestlog.FromStore(a.Store, cfg.RequestLogSize, a.Clock.Now),
		Advance:     a.Clock.Advance,
		SimSeed:     int64(cfg.SimSeed),
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
		reload := func(trigger string) (store.ReloadResult, error) {
			mu.Lock()
			defer mu.Unlock()
			ds, err := fixtures.LoadDir(dir, opts)
			if err != nil {
				return store.ReloadResult{}, err
			}
			logReplaced(log, withEnvApplication(&ds, env), env, dir)
			res, err := a.Store.Reload(ds)
			if err == nil {
				logReload(log, dir, trigger, res)
			}
			return res, err
		}
		c.Reload = func() (store.ReloadResult, error) { return reload("POST /admin/reload") }
		a.stopWatch = watch(dir, WatchInterval, WatchSettle, func() {
			if _, err := reload("folder changed"); err != nil {
				log.Error("fixtures changed but do not load; keeping the previous ones", "dir", dir, "problems", err.Error())
			}
		})
	}
	if reload != nil {
		c.Reload = reload
	}
	a.Control = c
}

// logReload says what a reload did to the grants: a grant set aside (its vehicle is gone)
// makes that vehicle's tokens answer 401 until a later reload brings it back, and the person
// running the sandbox should be able to tell why from the log.
func logReload(log *slog.Logger, dir, trigger string, res store.ReloadResult) {
	attrs := []any{"dir", dir, "trigger", trigger, "grants_kept", res.GrantsKept, "grants_restored", res.GrantsRestored}
	if res.GrantsDropped == 0 {
		log.Info("fixtures reloaded", append(attrs, "grants_waiting", res.GrantsWaiting)...)
		return
	}
	ids := res.DroppedVehicleIDs
	listed := strings.Join(ids[:min(len(ids), maxLoggedIDs)], ",")
	if len(ids) > maxLoggedIDs {
		listed += fmt.Sprintf(" and %d more", len(ids)-maxLoggedIDs)
	}
	log.Warn("fixtures reloaded; grants of vehicles no longer in the fixtures are set aside until a reload brings the vehicle back",
		append(attrs, "grants_dropped", res.GrantsDropped, "dropped_vehicles", len(ids), "dropped_vehicle_ids", listed, "grants_waiting", res.GrantsWaiting)...)
}

// watch calls changed whenever the names, sizes or modification times of the YAML files in
// dir change and then stay the same for settle, polling every interval (polling needs no
// OS-specific notify API and works on bind mounts in containers). The returned func stops it.
func watch(dir string, interval, settle time.Duration, changed func()) (stop func()) {
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
			}
			fp := fingerprint(dir)
			if fp == last {
				continue
			}
			for { // wait until the folder stops changing
				select {
				case <-done:
					return
				case <-time.After(settle):
				}
				next := fingerprint(dir)
				if next == fp {
					break
				}
				fp = next
			}
			last = fp
			changed()
		}
	}()
	return func() { once.Do(func() { close(done) }) }
}

// fingerprint lists the fixture files' names, sizes and modification times. A symbolic link
// counts as what it leads to, so editing the linked file reloads too.
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
		info, err := os.Stat(filepath.Join(dir, e.Name()))
		if err != nil {
			fmt.Fprintf(&b, "%s|%v\n", e.Name(), err) // a broken link; fixing it is a change
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
