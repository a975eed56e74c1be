package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/bench"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/config"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/scapi"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store/pgtest"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/testlog"
)

// PostgreSQL restarted under load, as a client of the real app sees it over HTTP (issue 12,
// Reliability). Chains of clients, each with its own account, vehicle and refresh token,
// rotate the refresh token at POST /oauth/token, LOCK or UNLOCK their vehicle and read its
// lock status back; meanwhile PostgreSQL is stopped for a few hundred ms and started again.
//   - While it is down every change is refused with a 5xx in its door's shape (OAuth
//     server_error JSON on the token endpoint, the error table's SERVER error on the vehicle
//     API) and nothing else; reads, which need no write, are answered from this sandbox's last
//     view (docs/admin.md).
//   - The sandbox recovers on its own once PostgreSQL is back.
//   - Nothing answered 200 is lost: a fresh app on the same database reads the lock state each
//     chain was last answered 200 for, and each chain's last refresh token still rotates there
//     (and, used again within the grace minute, gives the same successor).
func TestPostgresOutageUnderLoad(t *testing.T) {
	cfg := config.Config{Store: pgtest.URL(t), Addr: "127.0.0.1:0", LogFormat: "text"}
	var logs testlog.Buffer
	a := mustStartLogging(t, cfg, &logs)
	const chains = 4
	o := &outage{http: bench.NewClient(3 * chains), origin: a.Origin}
	t.Cleanup(o.http.CloseIdleConnections)
	cs := make([]*chain, chains)
	for i := range cs {
		c := &bench.Client{Base: a.Origin, HTTP: o.http, App: bench.DemoApp, Scope: "read_vehicle_info read_security control_security"}
		tok, err := c.Flow(context.Background(), fmt.Sprintf("pg-outage-%d@sandbox.test", i))
		if err != nil {
			t.Fatalf("chain %d: Connect: %v", i, err)
		}
		cs[i] = &chain{tok: tok}
	}

	// Whatever happens below, PostgreSQL is up again before the app stops and the next test
	// starts: the package's tests share the cluster (and none runs in parallel).
	isDown := false
	t.Cleanup(func() {
		if isDown {
			pgtest.Up(t)
		}
	})
	// stop asks the chains to finish (each on a round answered 200 throughout); cancelling
	// ctx, as the deferred call does however the test ends, stops them at once. Then what
	// went wrong is reported, and whether the sandbox panicked.
	stop := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer o.report(t, &logs)
	defer wg.Wait()
	defer cancel()
	giveUp := time.Now().Add(30 * time.Second) // a chain that never gets through again ends here
	for i, c := range cs {
		wg.Go(func() { o.run(ctx, i, c, stop, giveUp) })
	}

	waitFor(t, "every chain to be answered 200 throughout 5 rounds before the outage", func() bool {
		return !slices.ContainsFunc(cs, func(c *chain) bool { return c.cleanRounds.Load() < 5 })
	})
	o.phase.Store(int32(outageStopping))
	isDown = true
	pgtest.Down(t)
	o.phase.Store(int32(outageDown))
	time.Sleep(300 * time.Millisecond) // the load goes on against a stopped database
	waitFor(t, "requests at each door run entirely while PostgreSQL is down", func() bool {
		o.mu.Lock()
		defer o.mu.Unlock()
		return !slices.Contains(o.whileDown[:], 0)
	})
	o.phase.Store(int32(outageStarting))
	pgtest.Up(t)
	isDown = false
	upAt := time.Now()
	o.phase.Store(int32(outageOver))
	waitFor(t, "a change answered 200 at each door after PostgreSQL is back", func() bool {
		o.mu.Lock()
		defer o.mu.Unlock()
		return o.okAfter[tokenDoor] > 0 && o.okAfter[lockDoor] > 0
	})
	o.recovery = time.Since(upAt)
	close(stop)
	wg.Wait()
	o.mu.Lock()
	refused := o.refusedDown
	o.mu.Unlock()
	if refused[tokenDoor] == 0 || refused[lockDoor] == 0 {
		t.Errorf("refused while PostgreSQL was down: %d at the token endpoint, %d LOCK/UNLOCK; want some of each: did the outage happen?",
			refused[tokenDoor], refused[lockDoor])
	}

	// A fresh app on the same database, started while the first still runs (so nothing the
	// first might do on its way down can help), then the first shut down: a restart.
	b := MustStart(t, cfg)
	shutdownCtx, cancelShutdown := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelShutdown()
	if err := a.Shutdown(shutdownCtx); err != nil {
		t.Fatal(err)
	}
	o.origin = b.Origin
	for i, c := range cs {
		if r := o.send(ctx, http.MethodGet, "/v2.0/vehicles/"+c.tok.VehicleID+"/security", c.tok.Access, ""); r.status != http.StatusOK || r.locked() != c.locked {
			t.Errorf("chain %d after the restart: lock status %d %s, want isLocked %v (the last LOCK/UNLOCK answered 200) with the last access token answered 200",
				i, r.status, r.body, c.locked)
		}
		first := o.refresh(ctx, c.tok.Refresh)
		again := o.refresh(ctx, c.tok.Refresh)
		if first.status != http.StatusOK || again.status != http.StatusOK || first.tokens().Refresh != again.tokens().Refresh {
			t.Errorf("chain %d after the restart: the last refresh token answered 200 gave %d %s, then within the grace minute %d %s; want 200 twice with the same successor",
				i, first.status, first.body, again.status, again.body)
		}
	}
}

// report fails the test for each problem the load met and for a panic in the sandbox's log
// (a recovered panic is answered with a 500 in its door's shape too), and logs the counts.
func (o *outage) report(t *testing.T, logs *testlog.Buffer) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, p := range o.problems {
		t.Error(p)
	}
	for line := range strings.Lines(logs.String()) {
		if strings.Contains(line, "msg=panic") {
			t.Errorf("the sandbox panicked: %.2000s", line)
			break
		}
	}
	t.Logf("token endpoint: %d answered 200, %d refused (%d while PostgreSQL was down); LOCK/UNLOCK: %d answered 200, %d refused (%d while down); "+
		"%d reads while down; first change answered %v after PostgreSQL was back; slowest answer %v",
		o.ok[tokenDoor], o.refused[tokenDoor], o.refusedDown[tokenDoor], o.ok[lockDoor], o.refused[lockDoor], o.refusedDown[lockDoor],
		o.whileDown[readDoor], o.recovery.Round(time.Millisecond), o.slowest.Round(time.Millisecond))
}

// outagePhase is where the outage stands. A request that starts and ends in outageDown ran
// entirely while PostgreSQL was stopped.
type outagePhase int32

const (
	outageBefore   outagePhase = iota
	outageStopping             // pgtest.Down running
	outageDown                 // PostgreSQL stopped
	outageStarting             // pgtest.Up running
	outageOver                 // PostgreSQL back
)

// loadDoor is what a request of the load is: a change at the token endpoint, a change at the
// vehicle API, or a read there.
type loadDoor int

const (
	tokenDoor loadDoor = iota
	lockDoor
	readDoor
)

// outage is the load against one sandbox and what it saw.
type outage struct {
	http   *http.Client
	origin string
	phase  atomic.Int32 // an outagePhase

	mu          sync.Mutex
	ok, refused [3]int // by loadDoor
	refusedDown [3]int // refused while PostgreSQL was down
	okAfter     [3]int // answered 200 once PostgreSQL was back
	whileDown   [3]int // requests that ran entirely while PostgreSQL was down
	slowest     time.Duration
	recovery    time.Duration // from PostgreSQL back to the first change answered 200
	problems    []string
}

// chain is one client: its vehicle and the last tokens and lock state it was answered 200 for.
type chain struct {
	tok         bench.Tokens
	locked      bool
	cleanRounds atomic.Int64 // rounds answered 200 throughout
}

// run drives one chain until stop, and then on until a round is answered 200 throughout, so
// that the chain's last request of each kind was acknowledged. Each round rotates the refresh
// token (the same one again after a refusal), LOCKs or UNLOCKs in turn with the newest access
// token and reads the lock status back.
func (o *outage) run(ctx context.Context, i int, c *chain, stop <-chan struct{}, giveUp time.Time) {
	clean := false
	for round := 0; ctx.Err() == nil; round++ {
		select {
		case <-stop:
			if clean {
				return
			}
		default:
		}
		if time.Now().After(giveUp) {
			o.problem("chain %d: no round answered 200 throughout by the deadline", i)
			return
		}
		r := o.refresh(ctx, c.tok.Refresh)
		clean = o.note(tokenDoor, r)
		if clean {
			c.tok.Access, c.tok.Refresh = r.tokens().Access, r.tokens().Refresh
		}
		lock, action := round%2 == 0, `{"action":"UNLOCK"}`
		if lock {
			action = `{"action":"LOCK"}`
		}
		if o.note(lockDoor, o.send(ctx, http.MethodPost, "/v2.0/vehicles/"+c.tok.VehicleID+"/security", c.tok.Access, action)) {
			c.locked = lock
		} else {
			clean = false
		}
		r = o.send(ctx, http.MethodGet, "/v2.0/vehicles/"+c.tok.VehicleID+"/security", c.tok.Access, "")
		if !o.note(readDoor, r) {
			clean = false
		} else if r.down && r.locked() != c.locked {
			o.problem("chain %d: read isLocked %v while PostgreSQL was down, want %v: the last change this sandbox answered 200 for", i, r.locked(), c.locked)
		}
		if clean {
			c.cleanRounds.Add(1)
		}
	}
}

// note counts r and reports whether it was answered 200. A change answered 200 while
// PostgreSQL was down, a refusal in any other shape than its door's, or a read not answered
// is a problem.
func (o *outage) note(d loadDoor, r answer) bool {
	if errors.Is(r.err, context.Canceled) {
		return false // the test is ending
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.slowest = max(o.slowest, r.took)
	if r.down {
		o.whileDown[d]++
	}
	if r.status == http.StatusOK {
		o.ok[d]++
		if r.after {
			o.okAfter[d]++
		}
		if r.down && d != readDoor {
			o.problemLocked("%s answered 200 while PostgreSQL was down: a change that cannot have been kept", r.what)
		}
		return true
	}
	var wrong string
	switch d {
	case tokenDoor:
		wrong = oauthServerError(r)
	case lockDoor:
		wrong = smartcarServerError(r)
	default:
		wrong = "a read needs no write and is answered from this sandbox's view"
	}
	if wrong != "" {
		o.problemLocked("%s: %d %v %.300s: %s", r.what, r.status, r.err, r.body, wrong)
		return false
	}
	o.refused[d]++
	if r.down {
		o.refusedDown[d]++
	}
	return false
}

func (o *outage) problem(format string, args ...any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.problemLocked(format, args...)
}

func (o *outage) problemLocked(format string, args ...any) {
	if len(o.problems) < 20 {
		o.problems = append(o.problems, fmt.Sprintf(format, args...))
	}
}

// oauthServerError says what is wrong with r as the token endpoint's answer to a change it
// could not save ("" for nothing): RFC 6749's server_error as oauth.WriteError writes it.
func oauthServerError(r answer) string {
	var body map[string]string
	if r.status != http.StatusInternalServerError || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") ||
		r.header.Get("Cache-Control") != "no-store" || json.Unmarshal(r.body, &body) != nil {
		return "want a 500 with OAuth error JSON"
	}
	if len(body) != 2 || body["error"] != "server_error" || body["error_description"] == "" {
		return `want {"error":"server_error","error_description":…}`
	}
	return ""
}

// smartcarServerError says what is wrong with r as the vehicle API's answer to a change it
// could not save ("" for nothing): the error table's SERVER error in the v2.0 shape, for the
// request's own id.
func smartcarServerError(r answer) string {
	want := scapi.NewErrorBody(scapi.V2, sandbox.AsError(store.ErrNotSaved), r.header.Get("SC-Request-Id"))
	var got scapi.ErrorBody
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if r.status/100 != 5 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") || dec.Decode(&got) != nil {
		return "want a 5xx with Smartcar error JSON"
	}
	if want.RequestID == "" || got.StatusCode != r.status || !reflect.DeepEqual(got, want) {
		return fmt.Sprintf("want %+v", want)
	}
	return ""
}

// answer is one request of the load as its client saw it.
type answer struct {
	what        string // method and path
	status      int    // 0 when no answer came (err)
	header      http.Header
	body        []byte
	err         error
	took        time.Duration
	down, after bool // it ran entirely while PostgreSQL was stopped / it started once it was back
}

// tokens reads a token endpoint answer.
func (r answer) tokens() bench.Tokens {
	var b struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	_ = json.Unmarshal(r.body, &b)
	return bench.Tokens{Access: b.AccessToken, Refresh: b.RefreshToken}
}

// locked reads a lock status answer.
func (r answer) locked() bool {
	var b struct {
		IsLocked bool `json:"isLocked"`
	}
	_ = json.Unmarshal(r.body, &b)
	return b.IsLocked
}

// refresh rotates a refresh token as the demo application (HTTP Basic).
func (o *outage) refresh(ctx context.Context, rt string) answer {
	return o.send(ctx, http.MethodPost, "/oauth/token", "", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}.Encode())
}

// send makes one request: to the token endpoint as the demo application, elsewhere with the
// bearer token; a body goes as the form or JSON its door reads.
func (o *outage) send(ctx context.Context, method, path, bearer, body string) answer {
	r := answer{what: method + " " + path}
	req, err := http.NewRequestWithContext(ctx, method, o.origin+path, strings.NewReader(body))
	if err != nil {
		r.err = err
		return r
	}
	switch {
	case path == "/oauth/token":
		req.SetBasicAuth(bench.DemoApp.ClientID, bench.DemoApp.ClientSecret)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	case body != "":
		req.Header.Set("Content-Type", "application/json")
		fallthrough
	default:
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	began, at := time.Now(), outagePhase(o.phase.Load())
	res, err := o.http.Do(req)
	if err == nil {
		r.body, err = io.ReadAll(res.Body)
		res.Body.Close()
		r.status, r.header = res.StatusCode, res.Header
	}
	r.err, r.took = err, time.Since(began)
	r.down = at == outageDown && outagePhase(o.phase.Load()) == outageDown
	r.after = at == outageOver
	return r
}
