package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// WorkshopOptions configure the workshop phase: a room of phones running the tutorial app's
// flow at once against `make demo`'s two processes (the sandbox and the tutorial backend).
type WorkshopOptions struct {
	Sandbox, Backend string // the two binaries (see Build)
	WorkDir          string // scratch: logs, the data folders with Persist
	Phones           int
	// Persist gives both servers a data folder, as `make demo` does by default.
	Persist bool
	// Ramp spreads the phones' starts over this long (a room signing in in the same minute).
	Ramp time.Duration
	// Polls is how many times each phone asks /vehicle after connecting, PollEvery apart (the
	// tutorial app's refresh).
	Polls     int
	PollEvery time.Duration
	Progress  io.Writer
}

// Workshop step names, in the report's order.
const (
	StepConnectPage = "Connect page"
	StepExchange    = "/exchange"
	StepVehicle     = "/vehicle"
)

// WorkshopResult is one run of the workshop phase.
type WorkshopResult struct {
	Opts  WorkshopOptions
	Steps map[string]*Histogram // per step, every request of every phone
	// Completed counts phones that went through Connect and every poll; Failed the others,
	// with the first failure in FirstErr. Crossed counts phones shown a car that is not the
	// one their own sign-in shared (another phone's): it must be 0.
	Completed, Failed, Crossed int
	FirstErr                   error
	Wall                       time.Duration
	// Peak resident memory and CPU used (as a share of one core over the run) per process.
	SandboxRSS, BackendRSS int64
	SandboxCPU, BackendCPU float64
	// TimeWait is the number of sockets to or from the sandbox's port in TIME_WAIT when the
	// last phone finished (each lingers 60 s): connections opened and closed rather than reused.
	TimeWait int
}

// RunWorkshop starts the sandbox and the tutorial backend as `make demo` does, plays
// o.Phones phones through the tutorial app's flow, each with its own cookie jar and
// connections: the backend's /login, the Connect pages (a new username per phone, one car),
// /exchange, then /vehicle o.Polls times. It checks that every phone is shown the car its own
// sign-in shared.
func RunWorkshop(ctx context.Context, o WorkshopOptions) (*WorkshopResult, error) {
	sbArgs := []string{"-addr", "127.0.0.1:0"} // make demo's flags
	var beArgs []string
	if o.Persist {
		dir := filepath.Join(o.WorkDir, fmt.Sprintf("workshop-%d-data", o.Phones))
		sbArgs = append(sbArgs, "-data-dir", filepath.Join(dir, "sandbox"))
		beArgs = append(beArgs, "-data-dir", filepath.Join(dir, "backend"))
	}
	sb, err := StartProc(ctx, o.Sandbox, sbArgs, CleanEnv(), o.WorkDir, true)
	if err != nil {
		return nil, err
	}
	defer sb.Stop()
	env := append(CleanEnv(),
		"SMARTCAR_CLIENT_ID="+DemoApp.ClientID, "SMARTCAR_CLIENT_SECRET="+DemoApp.ClientSecret,
		"SMARTCAR_REDIRECT_URI="+DemoApp.RedirectURI, "SMARTCAR_API_ORIGIN="+sb.Origin,
		"SMARTCAR_AUTH_ORIGIN="+sb.Origin, "SMARTCAR_CONNECT_ORIGIN="+sb.Origin, "SMARTCAR_MANAGEMENT_API_ORIGIN="+sb.Origin)
	be, err := StartProc(ctx, o.Backend, append([]string{"-addr", "127.0.0.1:0"}, beArgs...), env, o.WorkDir, false)
	if err != nil {
		return nil, err
	}
	defer be.Stop()

	res := &WorkshopResult{Opts: o, Steps: map[string]*Histogram{}}
	for _, s := range []string{StepConnectPage, StepExchange, StepVehicle} {
		res.Steps[s] = new(Histogram)
	}
	cpu0s, err := sb.CPUTime()
	if err != nil {
		return nil, err
	}
	cpu0b, err := be.CPUTime()
	if err != nil {
		return nil, err
	}
	stopSampling := sampleRSS(sb, be, &res.SandboxRSS, &res.BackendRSS)

	t0 := time.Now()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range o.Phones {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var delay time.Duration
			if o.Ramp > 0 {
				delay = time.Duration(rand.Int64N(int64(o.Ramp)))
			}
			select {
			case <-time.After(delay):
			case <-ctx.Done():
				return
			}
			ph := newPhone(be.Origin, fmt.Sprintf("workshop-phone-%d@sandbox.test", i))
			err := ph.run(ctx, o.Polls, o.PollEvery)
			mu.Lock()
			defer mu.Unlock()
			for s, h := range ph.steps {
				res.Steps[s].Merge(h)
			}
			switch {
			case errors.Is(err, errCrossed):
				res.Crossed++
				fallthrough
			case err != nil:
				res.Failed++
				if res.FirstErr == nil {
					res.FirstErr = fmt.Errorf("phone %d: %w", i, err)
				}
			default:
				res.Completed++
			}
		}()
	}
	wg.Wait()
	res.Wall = time.Since(t0)
	stopSampling()
	if res.TimeWait, err = timeWaitSockets(sb.Origin); err != nil {
		return nil, err
	}
	cpu1s, err := sb.CPUTime()
	if err != nil {
		return nil, err
	}
	cpu1b, err := be.CPUTime()
	if err != nil {
		return nil, err
	}
	res.SandboxCPU = float64(cpu1s-cpu0s) / float64(res.Wall)
	res.BackendCPU = float64(cpu1b-cpu0b) / float64(res.Wall)
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, "workshop, %d phones, %s: %d completed, %d failed, %d shown another's car; %s; %d sockets to the sandbox in TIME_WAIT\n",
			o.Phones, res.Storage(), res.Completed, res.Failed, res.Crossed, res.stepsLine(), res.TimeWait)
	}
	return res, ctx.Err()
}

// Storage names how the servers kept their state.
func (r *WorkshopResult) Storage() string {
	if r.Opts.Persist {
		return "with -data-dir"
	}
	return "in memory"
}

func (r *WorkshopResult) stepsLine() string {
	var parts []string
	for _, s := range []string{StepConnectPage, StepExchange, StepVehicle} {
		h := r.Steps[s]
		parts = append(parts, fmt.Sprintf("%s p50 %s p99 %s", s, ms(h.Quantile(0.5)), ms(h.Quantile(0.99))))
	}
	return strings.Join(parts, ", ")
}

// sampleRSS records the peak resident memory of both processes until the returned func is called.
func sampleRSS(sb, be *Proc, sbPeak, bePeak *int64) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			if r, err := sb.RSS(); err == nil && r > *sbPeak {
				*sbPeak = r
			}
			if r, err := be.RSS(); err == nil && r > *bePeak {
				*bePeak = r
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// timeWaitSockets counts the TCP sockets in TIME_WAIT whose local or remote port is the port
// of origin (Linux: /proc/net/tcp and tcp6; everything here is on loopback).
func timeWaitSockets(origin string) (int, error) {
	u, err := url.Parse(origin)
	if err != nil {
		return 0, err
	}
	port, err := strconv.ParseUint(u.Port(), 10, 16)
	if err != nil {
		return 0, fmt.Errorf("origin %s: %v", origin, err)
	}
	hexPort := fmt.Sprintf(":%04X", port)
	n := 0
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		raw, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, err
		}
		for _, line := range strings.Split(string(raw), "\n")[1:] {
			// sl local_address rem_address st ...; TIME_WAIT is state 06.
			fs := strings.Fields(line)
			if len(fs) > 3 && fs[3] == "06" && (strings.HasSuffix(fs[1], hexPort) || strings.HasSuffix(fs[2], hexPort)) {
				n++
			}
		}
	}
	return n, nil
}

// errCrossed marks a phone shown a car that is not its own.
var errCrossed = errors.New("shown a car that is not the phone's own")

// phone is one participant's device: its own cookie jar (the backend's session cookie,
// Connect's CSRF cookies) and its own connections, as Safari and the app have.
type phone struct {
	backend, username string
	http              *http.Client
	steps             map[string]*Histogram
	offered           []string // the cars the phone's sign-in shared
}

func newPhone(backend, username string) *phone {
	c := NewClient(2)
	c.Jar, _ = cookiejar.New(nil) // never fails without options
	return &phone{backend: backend, username: username, http: c,
		steps: map[string]*Histogram{StepConnectPage: new(Histogram), StepExchange: new(Histogram), StepVehicle: new(Histogram)}}
}

// run is the tutorial app: /login to Connect, the pages, /exchange with the code, then polls.
func (p *phone) run(ctx context.Context, polls int, every time.Duration) error {
	defer p.http.CloseIdleConnections()
	res, _, err := p.get(ctx, "", p.backend+"/login")
	if err != nil {
		return fmt.Errorf("/login: %w", err)
	}
	connectURL, err := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusFound || err != nil {
		return fmt.Errorf("/login: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	code, offered, err := p.connect(ctx, connectURL)
	if err != nil {
		return err
	}
	p.offered = offered
	res, body, err := p.get(ctx, StepExchange, p.backend+"/exchange?code="+url.QueryEscape(code))
	if err != nil || res.StatusCode != http.StatusOK {
		return fmt.Errorf("/exchange: %v %s", err, statusBody(res, body))
	}
	for i := range max(polls, 1) {
		if i > 0 {
			select {
			case <-time.After(every):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		res, body, err := p.get(ctx, StepVehicle, p.backend+"/vehicle")
		if err != nil || res.StatusCode != http.StatusOK {
			return fmt.Errorf("/vehicle poll %d: %v %s", i+1, err, statusBody(res, body))
		}
		var v struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(body, &v); err != nil {
			return fmt.Errorf("/vehicle poll %d: %v", i+1, err)
		}
		if !contains(offered, v.ID) {
			return fmt.Errorf("%w: /vehicle poll %d shows %s, the sign-in shared %v", errCrossed, i+1, v.ID, offered)
		}
	}
	return nil
}

// connect walks the Connect pages from the authorize URL and returns the code and the
// vehicles the permissions page offered (the phone's own cars).
func (p *phone) connect(ctx context.Context, authorize *url.URL) (code string, offered []string, err error) {
	origin := authorize.Scheme + "://" + authorize.Host
	res, raw, err := p.get(ctx, StepConnectPage, authorize.String())
	body := string(raw)
	if err != nil || res.StatusCode != http.StatusOK || !strings.Contains(body, `id="continue-button"`) {
		return "", nil, fmt.Errorf("authorize: %v %s", err, statusBody(res, raw))
	}
	steps := []struct {
		path   string
		fields url.Values
		want   string
	}{
		{"/connect/start", nil, `class="brand-list-item"`},
		{"/connect/brand", url.Values{"make": {"TESLA"}}, `id="sign-in-button"`},
		{"/connect/login", url.Values{"username": {p.username}, "password": {"workshop"}}, `id="approval-button"`},
	}
	for _, s := range steps {
		form := url.Values{"flow": {hidden(body, "flow")}, "csrf": {hidden(body, "csrf")}}
		for k, v := range s.fields {
			form[k] = v
		}
		if res, body, err = p.post(ctx, origin+s.path, form); err != nil || res.StatusCode != http.StatusOK || !strings.Contains(body, s.want) {
			return "", nil, fmt.Errorf("%s: %v %s", s.path, err, statusBody(res, []byte(body)))
		}
	}
	offered = checked(body, "vehicle")
	form := url.Values{"flow": {hidden(body, "flow")}, "csrf": {hidden(body, "csrf")}, "action": {"allow"},
		"vehicle": offered, "permission": checked(body, "permission")}
	if res, body, err = p.post(ctx, origin+"/connect/consent", form); err != nil || res.StatusCode != http.StatusFound {
		return "", nil, fmt.Errorf("consent: %v %s", err, statusBody(res, []byte(body)))
	}
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		return "", nil, fmt.Errorf("consent: redirect %q has no code", res.Header.Get("Location"))
	}
	return loc.Query().Get("code"), offered, nil
}

func (p *phone) get(ctx context.Context, step, u string) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	return p.do(step, req)
}

func (p *phone) post(ctx context.Context, u string, form url.Values) (*http.Response, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, body, err := p.do(StepConnectPage, req)
	return res, string(body), err
}

// do sends req and records its latency (to the full body) under step ("" for none).
func (p *phone) do(step string, req *http.Request) (*http.Response, []byte, error) {
	t0 := time.Now()
	res, err := p.http.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, nil, err
	}
	if step != "" {
		p.steps[step].Record(time.Since(t0))
	}
	return res, body, nil
}

func statusBody(res *http.Response, body []byte) string {
	if res == nil {
		return ""
	}
	return fmt.Sprintf("status %d: %.300s", res.StatusCode, body)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// WriteWorkshop prints workshop runs as a Markdown table: p50/p95/p99 per step.
func WriteWorkshop(w io.Writer, runs []*WorkshopResult) {
	if len(runs) == 0 {
		return
	}
	o := runs[0].Opts
	fmt.Fprintf(w, "Workshop phase: the phones start spread over %v, each walks the backend's /login, the Connect pages (its own username, its own cookies and connections), /exchange, then /vehicle %d times %v apart.\n\n", o.Ramp, o.Polls, o.PollEvery)
	fmt.Fprintln(w, "| phones | storage | step | requests | p50 | p95 | p99 | max | phones completed / shown another's car | peak RSS sandbox / backend | CPU sandbox / backend | sockets to the sandbox in TIME_WAIT at the end |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range runs {
		for i, s := range []string{StepConnectPage, StepExchange, StepVehicle} {
			h := r.Steps[s]
			outcome, mem, cpu, tw := "", "", "", ""
			if i == 0 {
				outcome = fmt.Sprintf("%d of %d / %d", r.Completed, r.Opts.Phones, r.Crossed)
				mem = mb(r.SandboxRSS) + " / " + mb(r.BackendRSS)
				cpu = fmt.Sprintf("%.0f %% / %.0f %% of a core", 100*r.SandboxCPU, 100*r.BackendCPU)
				tw = strconv.Itoa(r.TimeWait)
			}
			fmt.Fprintf(w, "| %d | %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.Opts.Phones, r.Storage(), s, h.Count(),
				ms(h.Quantile(0.5)), ms(h.Quantile(0.95)), ms(h.Quantile(0.99)), ms(h.Max()), outcome, mem, cpu, tw)
		}
	}
}
