// Package reliability_test holds the cross-cutting fault tests of the sandbox: concurrency
// under -race, kill -9 in the middle of writes, graceful shutdown, slow and huge requests,
// and a bad-input table over every route. They run against the real router (sandboxtest),
// the real app (app.Start) or the real binary (built with go build), whichever the fault
// needs.
package reliability_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/connect/connecttest"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
)

// Demo account vehicles (fixtures/accounts.yaml): every one has doors; the first two have a
// charge port.
const (
	teslaID = "d21b0a03-5c3f-5c86-8c05-122d6fde0b3c"
	rav4ID  = "7e9389b9-16d5-5f58-a771-81255727b063"
	fordID  = "9cc77f46-e827-55cd-885e-69909bdeafb0"
)

// controlScope is what the flows ask for: enough to read and change locks and charge limits.
const controlScope = "read_vehicle_info read_security control_security read_charge control_charge"

// tokens is the answer of the token endpoint.
type tokens struct {
	Access  string `json:"access_token"`
	Refresh string `json:"refresh_token"`
}

// connectFlow runs the real Connect pages for the demo user and exchanges the code, the
// way an app would. It returns an error rather than failing so goroutines can use it.
func connectFlow(t testing.TB, base string, client *http.Client) (tokens, error) {
	q := url.Values{"response_type": {"code"}, "client_id": {sandboxtest.ClientID}, "redirect_uri": {sandboxtest.RedirectURI},
		"scope": {controlScope}, "mode": {"test"}, "approval_prompt": {"force"}}
	p := connecttest.NewBrowser(base).Flow(t, q, "TESLA", sandboxtest.DemoUser)
	if p.Status != http.StatusFound {
		return tokens{}, fmt.Errorf("connect ended in %d: %.300s", p.Status, p.Body)
	}
	loc, err := url.Parse(p.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		return tokens{}, fmt.Errorf("no code in redirect %q", p.Header.Get("Location"))
	}
	return tokenRequest(client, base, url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {sandboxtest.RedirectURI}})
}

// refresh trades a refresh token for a new pair.
func refresh(client *http.Client, base, rt string) (tokens, error) {
	return tokenRequest(client, base, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}

func tokenRequest(client *http.Client, base string, form url.Values) (tokens, error) {
	req, err := http.NewRequest(http.MethodPost, base+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return tokens{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(sandboxtest.ClientID, sandboxtest.ClientSecret)
	res, err := client.Do(req)
	if err != nil {
		return tokens{}, err
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var tk tokens
	if res.StatusCode != http.StatusOK || json.Unmarshal(raw, &tk) != nil || tk.Access == "" || tk.Refresh == "" {
		return tokens{}, fmt.Errorf("token endpoint (%s): %d %s", form.Get("grant_type"), res.StatusCode, raw)
	}
	return tk, nil
}

// call sends one API request and returns status and body; err is a transport error only.
func call(client *http.Client, method, u, tok, body string) (int, []byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	return res.StatusCode, raw, err
}

// vehicleState reads isLocked and the charge limit through the v2.0 API.
func vehicleState(client *http.Client, base, tok, id string, withCharge bool) (locked bool, limit float64, err error) {
	st, raw, err := call(client, http.MethodGet, base+"/v2.0/vehicles/"+id+"/security", tok, "")
	if err != nil || st != http.StatusOK {
		return false, 0, fmt.Errorf("GET security of %s: %d %s %v", id, st, raw, err)
	}
	var sec struct {
		IsLocked bool `json:"isLocked"`
	}
	if err := json.Unmarshal(raw, &sec); err != nil {
		return false, 0, err
	}
	if !withCharge {
		return sec.IsLocked, 0, nil
	}
	st, raw, err = call(client, http.MethodGet, base+"/v2.0/vehicles/"+id+"/charge/limit", tok, "")
	if err != nil || st != http.StatusOK {
		return false, 0, fmt.Errorf("GET charge/limit of %s: %d %s %v", id, st, raw, err)
	}
	var lim struct {
		Limit float64 `json:"limit"`
	}
	if err := json.Unmarshal(raw, &lim); err != nil {
		return false, 0, err
	}
	return sec.IsLocked, lim.Limit, nil
}

// buildBinary compiles cmd/smartcar-sandbox into a temp dir: the crash and shutdown tests need
// a real process to signal. The build cache makes this quick after the first time.
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		if goBin, err = exec.LookPath("go"); err != nil {
			t.Skip("no go command to build the binary with")
		}
	}
	bin := filepath.Join(t.TempDir(), "smartcar-sandbox")
	out, err := exec.Command(goBin, "build", "-o", bin, "github.com/smartcar-sandbox/smartcar-sandbox/cmd/smartcar-sandbox").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// proc is a running sandbox binary.
type proc struct {
	cmd    *exec.Cmd
	Origin string
	exited chan struct{} // closed when the process has exited; then err is set
	err    error
	logs   string // path of its stderr (the access log)
}

var listeningRE = regexp.MustCompile(`listening on (http://\S+)`)

// startBinary runs bin with args (-addr 127.0.0.1:0 is added) and waits for its banner. The
// process is killed when the test ends if it is still running.
func startBinary(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	logs := filepath.Join(t.TempDir(), "stderr.log")
	lf, err := os.Create(logs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lf.Close() })
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), "SMARTCAR_CLIENT_ID=", "SMARTCAR_CLIENT_SECRET=", "SMARTCAR_REDIRECT_URI=")
	cmd.Stderr = lf
	// An io.Pipe (not StdoutPipe) so Wait may run while the scanner is still reading.
	stdout, pw := io.Pipe()
	cmd.Stdout = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, exited: make(chan struct{}), logs: logs}
	origin := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listeningRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case origin <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() {
		p.err = cmd.Wait()
		pw.Close()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = cmd.Process.Kill()
			<-p.exited
		}
	})
	select {
	case p.Origin = <-origin:
	case <-p.exited:
		b, _ := os.ReadFile(logs)
		t.Fatalf("sandbox exited before listening: %v\n%s", p.err, b)
	case <-time.After(20 * time.Second):
		t.Fatal("sandbox printed no banner within 20 s")
	}
	return p
}

// signal sends sig to the process.
func (p *proc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// wait waits up to d for the process to exit and reports whether it did.
func (p *proc) wait(d time.Duration) bool {
	select {
	case <-p.exited:
		return true
	case <-time.After(d):
		return false
	}
}
