package tutorial

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smartcar-sandbox/smartcar-sandbox/client"
)

// restart stops the backend and starts a new one with the same configuration (and so the same
// data folder), as stopping and re-running `make demo` does. Phones keep their cookie jars;
// cookies do not depend on the port.
func (e *env) restart(t *testing.T) {
	t.Helper()
	e.backend.Close()
	h, err := NewHandler(e.h.cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.h = h
	e.backend = httptest.NewServer(h)
	t.Cleanup(e.backend.Close)
}

func sessionFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "sessions", "*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSessionsSurviveRestart(t *testing.T) {
	for _, tc := range []struct {
		name    string
		dataDir bool
		want    int // /vehicle's status after the restart
	}{
		{"with data dir", true, http.StatusOK},
		{"in memory", false, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			e := newEnv(t, func(c *Config) {
				if tc.dataDir {
					c.DataDir = dir
				}
			})
			a, b := phone(t), phone(t)
			get(t, a, e.backend.URL+"/exchange?code=code-a")
			get(t, b, e.backend.URL+"/exchange?code=code-b")

			e.restart(t)
			for _, p := range []struct {
				c   *http.Client
				veh string
			}{{a, "veh-a"}, {b, "veh-b"}} {
				status, _, body := get(t, p.c, e.backend.URL+"/vehicle")
				if status != tc.want {
					t.Fatalf("after restart: /vehicle = %d %v, want %d", status, body, tc.want)
				}
				if status == http.StatusOK && body["id"] != p.veh {
					t.Errorf("after restart a phone sees %v, want its own %s", body["id"], p.veh)
				}
			}
			if tc.dataDir {
				if n := len(sessionFiles(t, dir)); n != 2 {
					t.Errorf("%d session files, want 2", n)
				}
			}
		})
	}
}

// A refresh spends the refresh token (Smartcar rotates it): the new one must be what a restart
// finds, or the phone would have to go through Connect again.
func TestRefreshedTokensAreWhatARestartFinds(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, func(c *Config) { c.DataDir = dir })
	p := phone(t)
	get(t, p, e.backend.URL+"/exchange?code=code-a")
	for round := 1; round <= 2; round++ {
		e.clock.Advance(3 * time.Hour) // the access token expired: /vehicle refreshes
		if status, _, body := get(t, p, e.backend.URL+"/vehicle"); status != http.StatusOK {
			t.Fatalf("round %d: /vehicle = %d %v", round, status, body)
		}
		e.restart(t)
	}
	if n := e.sc.refreshCount(); n != 2 {
		t.Errorf("%d refreshes, want 2", n)
	}
	if status, _, body := get(t, p, e.backend.URL+"/vehicle"); status != http.StatusOK {
		t.Fatalf("after two refreshes and restarts: /vehicle = %d %v", status, body)
	}
}

func TestEndedSessionsLeaveTheDataDir(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, func(c *Config) { c.DataDir = dir; c.MaxSessions = 2 })
	phones := []*http.Client{phone(t), phone(t), phone(t)}
	for _, p := range phones {
		get(t, p, e.backend.URL+"/exchange?code=code-a")
	}
	if n := len(sessionFiles(t, dir)); n != 2 {
		t.Errorf("after an eviction: %d session files, want 2", n)
	}
	// A refresh token Smartcar no longer knows ends the session, on disk too.
	e.sc.mu.Lock()
	e.sc.refresh = map[string]string{}
	e.sc.mu.Unlock()
	e.clock.Advance(3 * time.Hour)
	if status, _, _ := get(t, phones[2], e.backend.URL+"/vehicle"); status != http.StatusUnauthorized {
		t.Fatalf("dead refresh token: /vehicle = %d", status)
	}
	if n := len(sessionFiles(t, dir)); n != 1 {
		t.Errorf("after a dead refresh token: %d session files, want 1", n)
	}
}

func TestLoadSkipsWhatCannotBeUsed(t *testing.T) {
	dir := t.TempDir()
	sessions := filepath.Join(dir, "sessions")
	if err := os.MkdirAll(sessions, 0o700); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	d := &sessionDir{dir: sessions}
	live, expired := newID(), newID()
	if err := d.save(live, client.Access{AccessToken: "at", RefreshToken: "rt", Expiration: now.Add(time.Hour), RefreshExpiration: now.Add(time.Hour)}, now); err != nil {
		t.Fatal(err)
	}
	if err := d.save(expired, client.Access{AccessToken: "at", RefreshToken: "rt", RefreshExpiration: now.Add(-time.Second)}, now); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		newID() + ".json": `{"id":`,                                               // cut short
		newID() + ".json": fmt.Sprintf(`{"id":%q,"refresh_token":"rt"}`, newID()), // renamed
		live + ".123.tmp": "half a session",
		"notes.txt":       "not ours, left alone",
	} {
		if err := os.WriteFile(filepath.Join(sessions, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got, problems, err := d.load(now)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != live || got[0].RefreshToken != "rt" {
		t.Errorf("loaded %+v, want only the live session", got)
	}
	if len(problems) != 2 {
		t.Errorf("problems = %q, want the two unreadable files", problems)
	}
	left, _ := filepath.Glob(filepath.Join(sessions, "*"))
	want := []string{filepath.Join(sessions, live+".json"), filepath.Join(sessions, "notes.txt")}
	if fmt.Sprint(left) != fmt.Sprint(want) {
		t.Errorf("files left: %q, want %q", left, want)
	}
}

// While Smartcar (the sandbox) is down, a connected phone gets a 502 it can retry, and the
// session is kept for when the sandbox is back.
func TestSandboxDownIsARetryable502(t *testing.T) {
	e := newEnv(t, nil)
	p := phone(t)
	get(t, p, e.backend.URL+"/exchange?code=code-a")
	e.sc.Close()
	for _, path := range []string{"/vehicle", "/exchange?code=code-b"} {
		status, hdr, body := get(t, p, e.backend.URL+path)
		if status != http.StatusBadGateway || hdr.Get("Retry-After") == "" || body["hint"] == nil {
			t.Errorf("%s while down = %d Retry-After %q %v", path, status, hdr.Get("Retry-After"), body)
		}
	}
	if n := e.h.Sessions(); n != 1 {
		t.Errorf("sessions = %d, want the phone's session kept", n)
	}
}

// A room polling at once reuses its connections: a second wave of parallel requests opens no
// new connection (Go's default transport would keep 2 and open the rest again).
func TestRoomTransportReusesConnections(t *testing.T) {
	var mu sync.Mutex
	opened, waiting := 0, 0
	release := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		waiting++
		wait := release
		mu.Unlock()
		<-wait // hold every request of a wave, so the wave needs that many connections
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			opened++
			mu.Unlock()
		}
	}
	srv.Start()
	defer srv.Close()
	c := &http.Client{Transport: NewTransport(RoomIdleConns)}
	const phones = 50
	wave := func() int {
		var wg sync.WaitGroup
		mu.Lock()
		release, waiting = make(chan struct{}), 0
		wait := release
		mu.Unlock()
		for range phones {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := c.Get(srv.URL)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}()
		}
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			mu.Lock()
			n := waiting
			mu.Unlock()
			if n == phones {
				break
			}
		}
		close(wait)
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		n := opened
		opened = 0
		return n
	}
	if n := wave(); n != phones {
		t.Fatalf("first wave opened %d connections, want %d", n, phones)
	}
	if n := wave(); n != 0 {
		t.Errorf("second wave opened %d new connections, want 0 (all reused)", n)
	}
}

// The backend's share of /exchange with a data folder: one session file written atomically.
func BenchmarkSessionSave(b *testing.B) {
	d, err := openSessionDir(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	a := client.Access{AccessToken: strings.Repeat("a", 600), RefreshToken: newID(), Expiration: now.Add(2 * time.Hour), RefreshExpiration: now.Add(60 * 24 * time.Hour)}
	id := newID()
	for b.Loop() {
		if err := d.save(id, a, now); err != nil {
			b.Fatal(err)
		}
	}
}

// A restart with a lower bound keeps the newest sessions, on disk as in memory.
func TestRestartWithFewerSessionsKeepsTheNewest(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, func(c *Config) { c.DataDir = dir })
	older, newer := phone(t), phone(t)
	get(t, older, e.backend.URL+"/exchange?code=code-a")
	e.clock.Advance(time.Second)
	get(t, newer, e.backend.URL+"/exchange?code=code-b")
	e.h.cfg.MaxSessions = 1
	e.restart(t)
	if status, _, _ := get(t, newer, e.backend.URL+"/vehicle"); status != http.StatusOK {
		t.Errorf("newest session: /vehicle = %d", status)
	}
	if status, _, _ := get(t, older, e.backend.URL+"/vehicle"); status != http.StatusUnauthorized {
		t.Errorf("older session beyond the bound: /vehicle = %d", status)
	}
	if n := len(sessionFiles(t, dir)); n != 1 {
		t.Errorf("%d session files, want 1", n)
	}
}
