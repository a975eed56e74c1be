package bench

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/smartcar-sandbox/smartcar-sandbox/client"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/app"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/config"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/tutorial"
)

// startDemo is `make demo` in process: a real sandbox and the real tutorial backend in front
// of it; wrap (nil: none) sits in front of the backend.
func startDemo(t *testing.T, wrap func(http.Handler) http.Handler) (backend string) {
	t.Helper()
	a, err := app.Start(config.Config{Addr: "127.0.0.1:0", LogFormat: "text"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.Shutdown(ctx)
	})
	c, err := client.New(client.Config{ClientID: DemoApp.ClientID, ClientSecret: DemoApp.ClientSecret, RedirectURI: DemoApp.RedirectURI,
		ConnectOrigin: a.Origin, AuthOrigin: a.Origin, APIOrigin: a.Origin, Mode: client.ModeTest})
	if err != nil {
		t.Fatal(err)
	}
	h, err := tutorial.NewHandler(tutorial.Config{Client: c, Mode: client.ModeTest})
	if err != nil {
		t.Fatal(err)
	}
	var handler http.Handler = h
	if wrap != nil {
		handler = wrap(h)
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestPhonesWalkTheTutorial(t *testing.T) {
	backend := startDemo(t, nil)
	const phones, polls = 4, 3
	seen := map[string]bool{}
	for i := range phones {
		p := newPhone(backend, "phone-"+string(rune('a'+i))+"@sandbox.test")
		if err := p.run(context.Background(), polls, time.Millisecond); err != nil {
			t.Fatalf("phone %d: %v", i, err)
		}
		// authorize, start, brand, sign-in, consent; one exchange; every poll.
		for step, want := range map[string]uint64{StepConnectPage: 5, StepExchange: 1, StepVehicle: polls} {
			if got := p.steps[step].Count(); got != want {
				t.Errorf("phone %d: %d %s requests recorded, want %d", i, got, step, want)
			}
		}
		car := strings.Join(p.offered, ",")
		if seen[car] {
			t.Errorf("phone %d was offered another phone's car %s", i, car)
		}
		seen[car] = true
	}
}

// A backend that shows every phone the same car is caught.
func TestPhoneShownAnotherCarIsCaught(t *testing.T) {
	const strangersCar = "00000000-0000-4000-8000-000000000000"
	backend := startDemo(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/vehicle" {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{"id":"`+strangersCar+`","make":"TESLA","model":"Model 3","year":2022}`)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	err := newPhone(backend, "victim@sandbox.test").run(context.Background(), 1, 0)
	if !errors.Is(err, errCrossed) {
		t.Fatalf("err = %v, want the crossed-car error", err)
	}
}

// Sockets closed on our side linger in TIME_WAIT; they are counted by the server's port.
func TestTimeWaitSocketsCountsClosedConnections(t *testing.T) {
	if _, err := os.Stat("/proc/net/tcp"); err != nil {
		t.Skip("no /proc/net/tcp (not Linux)")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	before, err := timeWaitSockets(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	const closed = 3
	for range closed {
		// A connection per request, closed by the client first: its side goes to TIME_WAIT.
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		res, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	// The last close handshake finishes after the response: give it a moment.
	var after int
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if after, err = timeWaitSockets(srv.URL); err != nil {
			t.Fatal(err)
		}
		if after-before >= closed || time.Now().After(deadline) {
			break
		}
	}
	if after-before < closed {
		t.Errorf("TIME_WAIT sockets on the server's port: %d before, %d after %d closed connections", before, after, closed)
	}
}
