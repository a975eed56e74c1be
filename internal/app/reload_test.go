package app

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/config"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/testlog"
)

// waitFor polls cond until it holds or the watcher has had far longer than it needs.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(4*(WatchInterval+WatchSettle) + 2*time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// An editor that empties accounts.yaml and writes it back only later (long enough for the
// watcher to load the empty file) must not log everybody out for good: the grants come back
// with their vehicles, the old access token works again, and the log names what was dropped.
func TestReloadOfAnEmptiedFileKeepsGrantsForWhenItIsWrittenBack(t *testing.T) {
	dir := copyFixtures(t)
	var logs testlog.Buffer
	a := mustStartLogging(t, config.Config{FixturesDir: dir, RequestLogSize: 10}, &logs)
	acct, err := a.Store.Account("demo@sandbox.test")
	if err != nil {
		t.Fatal(err)
	}
	tok := connect(t, a, acct.UserID, acct.VehicleIDs)
	odo := a.Origin + "/v2.0/vehicles/" + demoTesla + "/odometer"
	if st, m := call(t, http.MethodGet, odo, tok, ""); st != 200 {
		t.Fatalf("before: %d %v", st, m)
	}

	path := filepath.Join(dir, "accounts.yaml")
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the watcher to load the emptied file", func() bool { _, ok := a.Store.Vehicle(demoTesla); return !ok })
	if st, _ := call(t, http.MethodGet, odo, tok, ""); st == 200 {
		t.Errorf("token works while its vehicle is out of the fixtures")
	}
	waitFor(t, "the reload's log line", func() bool { return strings.Contains(logs.String(), "grants_dropped=3") })
	line := logLine(logs.String(), "grants_dropped=3")
	for _, want := range append([]string{"level=WARN", "set aside", "dropped_vehicles=3", "trigger=\"folder changed\""}, acct.VehicleIDs...) {
		if !strings.Contains(line, want) {
			t.Errorf("reload log line lacks %q:\n%s", want, line)
		}
	}

	// Asked for again while the file is still empty: nothing new is set aside, three wait.
	st, m := call(t, http.MethodPost, a.Origin+"/admin/reload", a.AdminToken, "")
	if st != 200 || m["grantsDropped"] != 0.0 || m["grantsWaiting"] != 3.0 || m["grantsRestored"] != 0.0 || len(m["droppedVehicleIds"].([]any)) != 0 {
		t.Errorf("POST /admin/reload on the emptied file = %d %v, want 200 with 0 dropped, 3 waiting", st, m)
	}

	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the watcher to load the file written back", func() bool { _, ok := a.Store.Vehicle(demoTesla); return ok })
	for _, vid := range acct.VehicleIDs {
		if _, ok := a.Store.Grant("sandbox-demo", acct.UserID, vid); !ok {
			t.Errorf("grant of %s did not come back with its vehicle", vid)
		}
	}
	if st, m := call(t, http.MethodGet, odo, tok, ""); st != 200 {
		t.Errorf("token after the file was written back: %d %v", st, m)
	}
	waitFor(t, "the restoring reload's log line", func() bool { return strings.Contains(logs.String(), "grants_restored=3") })
}

// The watcher waits for the folder to stop changing: a file emptied and written again within
// the settle time is loaded once, written, never empty.
func TestWatcherWaitsForTheFolderToSettle(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "accounts.yaml")
	if err := os.WriteFile(path, []byte("accounts: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []string
	stop := watch(dir, 10*time.Millisecond, time.Second, func() {
		b, _ := os.ReadFile(path)
		mu.Lock()
		seen = append(seen, string(b))
		mu.Unlock()
	})
	defer stop()
	time.Sleep(50 * time.Millisecond) // let the watcher take its first fingerprint

	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // ten polls of the emptied file
	if err := os.WriteFile(path, []byte("accounts: [] # edited\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // room for a second, wrong, call
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || seen[0] != "accounts: [] # edited\n" {
		t.Errorf("watcher called back with %q, want once with the written file", seen)
	}
}

func logLine(log, marker string) string {
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, marker) {
			return l
		}
	}
	return ""
}
