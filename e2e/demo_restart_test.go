package e2e_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/connect/connecttest"
)

// TestDemoRestartIsInvisibleToPhones is a workshop host's restart: `make demo` (scripts/demo.sh,
// both processes, their default persistence in a data folder), 20 phones connected through the
// real Connect pages, each with its own cookies, and one more phone with a Connect page open;
// then the demo is stopped and started again. Every connected phone's next /vehicle answers its
// own car without going through Connect, and the open Connect page completes.
func TestDemoRestartIsInvisibleToPhones(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		needTool(t, "bash", "scripts/demo.sh needs it")
	}
	if testing.Short() {
		t.Skip("builds and runs the demo's two binaries")
	}
	d := &demo{t: t, root: repoRoot(t), dataDir: filepath.Join(t.TempDir(), "demo-data"),
		sandboxPort: freePort(t), backendPort: freePort(t)}
	d.start()

	const phones = 20
	type phoneState struct {
		client  *http.Client
		vehicle string
	}
	var connected []phoneState
	seen := map[string]int{}
	for i := range phones {
		p := phoneState{client: phone(t)}
		p.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		code := d.connect(t, p.client, fmt.Sprintf("phone-%d@workshop.test", i), nil)
		if status, body := getBody(t, p.client, d.backend()+"/exchange?code="+url.QueryEscape(code)); status != http.StatusOK {
			t.Fatalf("phone %d: /exchange = %d %s", i, status, body)
		}
		p.vehicle = d.vehicleID(t, p.client, i)
		if other, dup := seen[p.vehicle]; dup {
			t.Fatalf("phones %d and %d are shown the same car %s", other, i, p.vehicle)
		}
		seen[p.vehicle] = i
		connected = append(connected, p)
	}

	// One more phone stops on the sign-in page: the host restarts while it is open.
	late := phone(t)
	late.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	var signIn *connecttest.Page
	var browser *connecttest.Browser
	d.connect(t, late, "late@workshop.test", func(b *connecttest.Browser, p *connecttest.Page) { browser, signIn = b, p })

	d.stop()
	d.start()

	for i, p := range connected {
		if got := d.vehicleID(t, p.client, i); got != p.vehicle {
			t.Errorf("phone %d: after the restart /vehicle shows %s, before it %s", i, got, p.vehicle)
		}
	}
	page := browser.Submit(t, signIn, "/connect/login", url.Values{"username": {"late@workshop.test"}, "password": {"pw"}})
	if !page.Has(`id="approval-button"`) {
		t.Fatalf("the sign-in page loaded before the restart, submitted after it: %d\n%s", page.Status, page.Body)
	}
	page = browser.Submit(t, page, "/connect/consent", url.Values{"action": {"allow"},
		"vehicle": connecttest.Checked(page, "vehicle"), "permission": connecttest.Checked(page, "permission")})
	code := d.code(t, page)
	if status, body := getBody(t, late, d.backend()+"/exchange?code="+url.QueryEscape(code)); status != http.StatusOK {
		t.Fatalf("late phone: /exchange = %d %s", status, body)
	}
	v := d.vehicleID(t, late, phones)
	if other, dup := seen[v]; dup {
		t.Errorf("the late phone is shown phone %d's car %s", other, v)
	}
}

// demo runs scripts/demo.sh as a host would, on free ports, with its state in dataDir.
type demo struct {
	t                        *testing.T
	root, dataDir            string
	sandboxPort, backendPort int
	cmd                      *exec.Cmd
	log                      *os.File
	runs                     int
}

func (d *demo) backend() string { return "http://127.0.0.1:" + strconv.Itoa(d.backendPort) }

func (d *demo) start() {
	t := d.t
	t.Helper()
	d.runs++
	logPath := filepath.Join(filepath.Dir(d.dataDir), fmt.Sprintf("demo-%d.log", d.runs))
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	d.log = f
	cmd := exec.Command("bash", "scripts/demo.sh")
	cmd.Dir = d.root
	cmd.Env = append(os.Environ(), "SANDBOX_PORT="+strconv.Itoa(d.sandboxPort), "TUTORIAL_PORT="+strconv.Itoa(d.backendPort),
		"DEMO_DATA_DIR="+d.dataDir, "SANDBOX_PUBLIC_URL=")
	cmd.Stdout, cmd.Stderr = f, f
	// Its own process group, so a test that fails half way can still stop both servers.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d.cmd = cmd
	t.Cleanup(func() {
		if d.cmd == cmd {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			_ = cmd.Wait()
		}
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("demo run %d output:\n%s", d.runs, b)
		}
	})
	// The first start builds both binaries.
	c := &http.Client{Timeout: 2 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		if res, err := c.Get(d.backend() + "/login"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusFound {
				return
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logPath)
			t.Fatalf("the demo did not start:\n%s", b)
		}
	}
}

// stop is Ctrl-C on the demo: its script stops both servers and waits for them.
func (d *demo) stop() {
	t := d.t
	t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the demo did not stop within 30 s of Ctrl-C")
	}
	d.cmd = nil
	d.log.Close()
}

// connect walks a phone through Connect as the app does: the backend's /login, then the
// Connect pages in a browser with its own cookies. With stopAt it stops on the sign-in page
// and hands it over; otherwise it returns the code the redirect carries.
func (d *demo) connect(t *testing.T, p *http.Client, username string, stopAt func(*connecttest.Browser, *connecttest.Page)) string {
	t.Helper()
	res, err := p.Get(d.backend() + "/login")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || res.StatusCode != http.StatusFound {
		t.Fatalf("/login = %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	b := connecttest.NewBrowser(loc.Scheme + "://" + loc.Host)
	if stopAt == nil {
		return d.code(t, b.Flow(t, loc.Query(), "TESLA", username))
	}
	page := b.Authorize(t, loc.Query())
	page = b.Submit(t, page, "/connect/start", nil)
	if page.Has(`class="brand-list-item"`) {
		page = b.Submit(t, page, "/connect/brand", url.Values{"make": {"TESLA"}})
	}
	if !page.Has(`id="sign-in-button"`) {
		t.Fatalf("expected the sign-in page, got %d:\n%s", page.Status, page.Body)
	}
	stopAt(b, page)
	return ""
}

// code is the authorization code of Connect's redirect to the app.
func (d *demo) code(t *testing.T, p *connecttest.Page) string {
	t.Helper()
	loc := p.Location(t)
	if p.Status != http.StatusFound || loc == nil || loc.Scheme != "scsandbox-demo" || loc.Query().Get("code") == "" {
		t.Fatalf("Connect ended in %d (Location %v), want a redirect to the app with a code:\n%.500s", p.Status, loc, p.Body)
	}
	return loc.Query().Get("code")
}

// vehicleID is the car /vehicle shows the phone.
func (d *demo) vehicleID(t *testing.T, p *http.Client, i int) string {
	t.Helper()
	status, body := getBody(t, p, d.backend()+"/vehicle")
	var v struct {
		ID string `json:"id"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &v) != nil || v.ID == "" {
		t.Fatalf("phone %d: /vehicle = %d %s", i, status, body)
	}
	return v.ID
}

// freePort is a loopback port nothing listens on (demo.sh takes ports, not listeners).
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
