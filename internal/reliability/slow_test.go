package reliability_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/app"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/config"
)

// TestSlowHeadersAreCut opens connections that send their request headers a byte a second (a
// slowloris) against a sandbox started by app.Start, so the server's real timeouts apply (no
// test knob: ReadHeaderTimeout is 5 s, so this test takes about 5 s and runs in parallel).
// Each slow connection must be closed after ReadHeaderTimeout, and meanwhile the sandbox must
// keep answering other clients promptly.
func TestSlowHeadersAreCut(t *testing.T) {
	t.Parallel()
	const readHeaderTimeout = 5 * time.Second // app.Start's value
	a, err := app.Start(config.Config{Addr: "127.0.0.1:0", LogFormat: "text"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.Shutdown(ctx)
	})

	const slow = 20
	began := time.Now()
	closedAfter := make([]time.Duration, slow)
	answered := make([]string, slow)
	var wg sync.WaitGroup
	for i := range slow {
		c, err := net.Dial("tcp", a.Addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		wg.Add(2)
		go func() { // the slow writer: never finishes the header block
			defer wg.Done()
			if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: sandbox\r\nX-Slow: "); err != nil {
				return
			}
			for range 30 {
				time.Sleep(time.Second)
				if _, err := c.Write([]byte("a")); err != nil {
					return
				}
			}
		}()
		go func() { // the reader: waits for the server to give up on the connection
			defer wg.Done()
			_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
			b, _ := io.ReadAll(c)
			closedAfter[i], answered[i] = time.Since(began), string(b)
		}()
	}

	// Other clients are served while the slow ones hang.
	client := &http.Client{Timeout: time.Second}
	for time.Since(began) < readHeaderTimeout+time.Second {
		res, err := client.Get(a.Origin + "/healthz")
		if err != nil {
			t.Fatalf("healthz while slow clients hang: %v", err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("healthz while slow clients hang: %d", res.StatusCode)
		}
		time.Sleep(250 * time.Millisecond)
	}
	wg.Wait()
	for i, d := range closedAfter {
		if d < readHeaderTimeout-500*time.Millisecond || d > readHeaderTimeout+3*time.Second {
			t.Errorf("slow connection %d closed after %v, want about %v", i, d.Round(time.Millisecond), readHeaderTimeout)
		}
		if strings.Contains(answered[i], " 200 ") {
			t.Errorf("slow connection %d was answered: %q", i, answered[i])
		}
	}
	t.Logf("%d slow connections closed after %v..%v", slow, minDur(closedAfter).Round(time.Millisecond), maxDur(closedAfter).Round(time.Millisecond))
}

func minDur(ds []time.Duration) time.Duration {
	m := ds[0]
	for _, d := range ds {
		m = min(m, d)
	}
	return m
}

func maxDur(ds []time.Duration) time.Duration {
	m := ds[0]
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}
