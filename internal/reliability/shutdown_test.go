package reliability_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
)

// slowTokenRequest starts POST /oauth/token with a body that arrives only as the test writes
// it: a request the server is in the middle of handling for as long as the test likes.
func slowTokenRequest(t *testing.T, origin string) (*io.PipeWriter, <-chan *http.Response, <-chan error) {
	t.Helper()
	pr, pw := io.Pipe()
	req, err := http.NewRequest(http.MethodPost, origin+"/oauth/token", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(sandboxtest.ClientID, sandboxtest.ClientSecret)
	resc, errc := make(chan *http.Response, 1), make(chan error, 1)
	client := &http.Client{Timeout: 30 * time.Second}
	go func() {
		res, err := client.Do(req)
		if err != nil {
			errc <- err
			return
		}
		resc <- res
	}()
	body := url.Values{"grant_type": {"client_credentials"}}.Encode()
	if _, err := pw.Write([]byte(body[:5])); err != nil {
		t.Fatal(err)
	}
	// Let the server read the headers and enter the handler: the connection is now active, and
	// Shutdown has to wait for it.
	time.Sleep(300 * time.Millisecond)
	t.Cleanup(func() { pw.Close() })
	return pw, resc, errc
}

// TestGracefulShutdown sends SIGTERM to the real binary while a request is half received.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)

	t.Run("in-flight request finishes, new ones are refused, exit 0", func(t *testing.T) {
		t.Parallel()
		p := startBinary(t, bin)
		pw, resc, errc := slowTokenRequest(t, p.Origin)
		sent := time.Now()
		p.signal(t, syscall.SIGTERM)

		// The listener closes at once: a new connection is refused within a second.
		addr := strings.TrimPrefix(p.Origin, "http://")
		refused := false
		for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
			c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
			if err != nil {
				refused = true
				break
			}
			c.Close()
		}
		if !refused {
			t.Error("new connections were still accepted a second after SIGTERM")
		}

		// The request in flight still gets its answer.
		body := url.Values{"grant_type": {"client_credentials"}}.Encode()
		if _, err := pw.Write([]byte(body[5:])); err != nil {
			t.Fatalf("finishing the in-flight body: %v", err)
		}
		pw.Close()
		select {
		case err := <-errc:
			t.Fatalf("in-flight request failed: %v", err)
		case res := <-resc:
			defer res.Body.Close()
			var tk struct {
				AccessToken string `json:"access_token"`
			}
			raw, _ := io.ReadAll(res.Body)
			if res.StatusCode != http.StatusOK || json.Unmarshal(raw, &tk) != nil || tk.AccessToken == "" {
				t.Fatalf("in-flight request: %d %s", res.StatusCode, raw)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("in-flight request got no answer")
		}
		if !p.wait(5 * time.Second) {
			t.Fatal("still running 5 s after SIGTERM with nothing in flight")
		}
		if p.err != nil {
			logs, _ := os.ReadFile(p.logs)
			t.Fatalf("exit: %v\n%s", p.err, logs)
		}
		t.Logf("exited %v after SIGTERM", time.Since(sent).Round(time.Millisecond))
	})

	t.Run("a stalled request does not hold the exit past 5 s", func(t *testing.T) {
		t.Parallel()
		p := startBinary(t, bin)
		_, _, _ = slowTokenRequest(t, p.Origin) // never finished
		sent := time.Now()
		p.signal(t, syscall.SIGTERM)
		if !p.wait(7 * time.Second) {
			t.Fatal("still running 7 s after SIGTERM; the shutdown deadline is 5 s")
		}
		took := time.Since(sent)
		// main gives in-flight requests 5 s, then exits 1 saying why.
		if took < 4*time.Second {
			t.Errorf("exited after %v: the stalled request was not waited for", took)
		}
		logs, _ := os.ReadFile(p.logs)
		if p.err == nil || !strings.Contains(string(logs), "shutdown") {
			t.Errorf("exit %v, want a failure naming the shutdown; stderr:\n%s", p.err, logs)
		}
		t.Logf("exited %v after SIGTERM (%v)", took.Round(time.Millisecond), p.err)
	})
}
