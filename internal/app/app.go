// Package app assembles a running sandbox from a Config: fixtures, store, signing key, router,
// listener. main only parses flags and waits for a signal; tests start real sandboxes on
// 127.0.0.1:0 through the same code.
package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	defaultfixtures "github.com/smartcar-sandbox/smartcar-sandbox/fixtures"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/clock"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/config"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/fixtures"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/keys"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/server"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/simulator"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/token"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/webhooks"
)

// App is a running sandbox.
type App struct {
	Addr    string // the address it listens on (the real port when 127.0.0.1:0 was asked)
	Origin  string
	Store   *store.Store
	Tokens  *token.Issuer
	Dataset sandbox.Dataset
	// Clock is the shared clock the admin API moves forward.
	Clock *clock.Clock
	// CA is the local CA the HTTPS certificate comes from (-tls); nil without TLS.
	CA *CA
	// AdminToken is the admin API's token ("" with -no-admin).
	AdminToken string
	Control    *server.Control
	// Simulator moves simulated vehicles; Webhooks delivers webhooks (see simulation.go).
	Simulator *simulator.Simulator
	Webhooks  *webhooks.Service
	// Metrics is what GET /metrics serves.
	Metrics *server.Metrics
	// ready is what GET /readyz reports: set once everything has loaded, cleared when
	// Shutdown begins.
	ready atomic.Bool
	deps  server.Deps
	srv   *http.Server
	logs  *server.LogWriter
	done  chan error
	// shutdownOnce makes Shutdown safe to call twice.
	shutdownOnce sync.Once
	shutdownErr  error
	stopWatch    func()
}

// Option sets what a test needs beyond the binary's flags; the binary passes none, so a test
// sandbox is this same wiring with these few things given instead of read or made.
type Option func(*options)

type options struct {
	now       func() time.Time
	dataset   *sandbox.Dataset
	reload    func() (store.ReloadResult, error)
	saveFault func() error
}

// FixedClock starts the clock at t and keeps it there until the admin API (or Clock.Advance)
// moves it forward, so tests see the same times on every run.
func FixedClock(t time.Time) Option {
	return func(o *options) { o.now = func() time.Time { return t } }
}

// WithDataset serves ds instead of loading the fixtures (-fixtures or the embedded defaults).
func WithDataset(ds sandbox.Dataset) Option { return func(o *options) { o.dataset = &ds } }

// WithReload makes f what POST /admin/reload calls (without it: re-reading -fixtures, if set).
func WithReload(f func() (store.ReloadResult, error)) Option {
	return func(o *options) { o.reload = f }
}

// WithSaveFault is the store's Options.SaveFault: an error from f fails a commit the way a
// full disk does.
func WithSaveFault(f func() error) Option { return func(o *options) { o.saveFault = f } }

// Start loads everything, listens and serves in the background. Nothing is served unless all
// of it loaded: bad fixtures stop the start with every problem listed.
func Start(cfg config.Config, logOut io.Writer, with ...Option) (*App, error) {
	var o options
	for _, f := range with {
		f(&o)
	}
	ds, err := loadDataset(cfg, o.dataset)
	if err != nil {
		return nil, err
	}
	replaced := withEnvApplication(&ds, cfg.EnvApplication)
	clk := clock.New(o.now)
	opts := store.Options{DataDir: cfg.DataDir, Garage: fixtures.Garage, Now: clk.Now, SaveFault: o.saveFault}
	if cfg.Store != "" {
		if opts.Backend, err = store.OpenPostgres(cfg.Store); err != nil {
			return nil, err
		}
	}
	st, err := store.New(ds, opts)
	if err != nil {
		if opts.Backend != nil {
			opts.Backend.Close()
		}
		return nil, err
	}
	started := false
	defer func() {
		if !started {
			st.Close() // the database is not left open by a start that failed
		}
	}()
	if cfg.EnvApplication != nil {
		// The environment wins over a saved state, so editing .env and restarting takes effect.
		if err := st.PutApplication(*cfg.EnvApplication); err != nil {
			return nil, err
		}
	}
	// Every key lives with the rest of the state: files under the data dir (internal/keys), or
	// named keys in the database with -store (made by the first start, read by every later
	// one, so replicas share them); fresh ones without either.
	var ks keys.Set
	if cfg.Store != "" {
		ks, err = keys.FromStore(st.Key)
	} else {
		ks, err = keys.Load(cfg.DataDir)
	}
	if err != nil {
		return nil, err
	}
	issuer, err := token.NewIssuer(ks.Signing, clk.Now)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	a := &App{Addr: ln.Addr().String(), Store: st, Tokens: issuer, Dataset: ds, Clock: clk, done: make(chan error, 1), stopWatch: func() {},
		Metrics: server.NewMetrics()}
	a.Origin = cfg.Origin(a.Addr)
	if cfg.TLS {
		tln, ca, err := tlsListener(ln, cfg)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("tls: %w", err)
		}
		ln, a.CA = tln, ca
	}

	// Every log line, the access line of each request among them, goes through one buffered
	// writer (one write per FlushEvery instead of one per request); Shutdown writes out the rest.
	a.logs = server.NewLogWriter(logOut)
	logger := server.NewLogger(a.logs, cfg.LogFormat)
	logReplaced(logger, replaced, cfg.EnvApplication, cfg.FixturesDir)
	st.SetLogger(logger) // a failed save's cause, with the data dir's paths, goes to the log only
	a.setupControl(cfg, logger, o.reload)
	record := issuer.OnIssue
	issuer.OnIssue = func(c *token.Claims) {
		record(c)
		a.Metrics.TokenIssued(c.Kind)
	}
	// fail undoes what was started from here on (the store is closed by the deferred check).
	fail := func(err error) (*App, error) {
		a.stopBackground()
		a.stopWatch()
		ln.Close()
		a.logs.Close()
		return nil, err
	}
	if err := a.startBackground(cfg, logger); err != nil {
		return fail(err)
	}
	a.deps = server.Deps{Store: st, Tokens: issuer, ConnectKey: ks.ConnectFlow, Logger: logger, Origin: a.Origin, Now: clk.Now, Control: a.Control, Webhooks: a.Webhooks,
		Metrics: a.Metrics, Ready: a.readiness}
	handler, err := server.New(a.deps)
	if err != nil {
		return fail(err)
	}
	a.srv = &http.Server{
		Handler: handler,
		// Timeouts keep slow or stalled clients from holding connections forever.
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	// Open dashboard pages hold event streams; a shutdown ends them rather than waiting.
	a.srv.RegisterOnShutdown(a.Control.Stop)
	a.ready.Store(true) // fixtures loaded, store open, background started
	go func() {
		err := a.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		a.done <- err
	}()
	started = true
	return a, nil
}

// loadDataset is given (a test's), the -fixtures folder's or the embedded defaults. LoadDir
// names problems dir/file:line, so the message points at the user's own file.
func loadDataset(cfg config.Config, given *sandbox.Dataset) (sandbox.Dataset, error) {
	if given != nil {
		return *given, nil
	}
	var ds sandbox.Dataset
	var err error
	if cfg.FixturesDir != "" {
		ds, err = fixtures.LoadDir(cfg.FixturesDir, cfg.FixtureOptions())
	} else {
		ds, err = fixtures.Load(defaultfixtures.FS)
	}
	if err != nil {
		return ds, fmt.Errorf("fixtures: %w", err)
	}
	return ds, nil
}

// withEnvApplication registers env (nil: none) on top of the dataset's applications. A fixture
// application with the same client id is replaced, not kept beside it, and returned so the
// replacement can be logged: a fixture whose app silently stops working is hard to debug.
func withEnvApplication(ds *sandbox.Dataset, env *sandbox.Application) (replaced *sandbox.Application) {
	if env == nil {
		return nil
	}
	apps := make([]sandbox.Application, 0, len(ds.Applications)+1)
	for _, a := range ds.Applications {
		if a.ClientID == env.ClientID {
			a := a
			replaced = &a
			continue
		}
		apps = append(apps, a)
	}
	ds.Applications = append(apps, *env)
	return replaced
}

// logReplaced says which fixture application the one from the environment replaced; dir is
// the -fixtures folder ("" for the embedded defaults).
func logReplaced(log *slog.Logger, replaced, env *sandbox.Application, dir string) {
	if replaced == nil {
		return
	}
	if dir == "" {
		dir = "(embedded defaults)"
	}
	log.Warn("the application from the environment (SMARTCAR_CLIENT_ID) replaces the fixture application with the same client id",
		"client_id", env.ClientID, "fixture", replaced.Source, "fixtures", dir, "fixture_name", replaced.Name, "name", env.Name)
}

// Shutdown stops accepting connections and waits for in-flight requests, up to ctx's deadline.
func (a *App) Shutdown(ctx context.Context) error {
	// A second call (a test's cleanup after the test shut the app down itself) gets the first
	// call's answer instead of waiting for a serve loop that already ended.
	a.shutdownOnce.Do(func() { a.shutdownErr = a.shutdown(ctx) })
	return a.shutdownErr
}

func (a *App) shutdown(ctx context.Context) error {
	a.ready.Store(false)
	a.stopWatch()
	err := a.srv.Shutdown(ctx)
	if serr := <-a.done; err == nil {
		err = serr
	}
	a.stopBackground()
	if serr := a.Store.Close(); err == nil {
		err = serr
	}
	if aerr := a.logs.Close(); err == nil {
		err = aerr
	}
	return err
}

// readiness is GET /readyz's check.
func (a *App) readiness() error {
	if !a.ready.Load() {
		return errors.New("the sandbox is stopping")
	}
	return nil
}

// Deps are what the router was built from; server.Routes(a.Deps()) lists its routes.
func (a *App) Deps() server.Deps { return a.deps }

// Done yields the serve error if the server stops on its own.
func (a *App) Done() <-chan error { return a.done }

// Banner is what main prints on start: where the sandbox is and how to point clients at it.
func (a *App) Banner(w io.Writer) {
	fmt.Fprintf(w, "smartcar-sandbox listening on %s\n\n", a.Origin)
	if a.CA != nil {
		fmt.Fprintf(w, "HTTPS with the local CA %s\n  trust it: smartcar-sandbox ca -data-dir %s (Node: NODE_EXTRA_CA_CERTS=%s)\n\n", a.CA.CertPath(), a.CA.Dir, a.CA.CertPath())
	}
	fmt.Fprintf(w, "Point Smartcar SDKs and the tutorial backend at it:\n\n")
	for _, l := range server.EnvLines(a.Origin) {
		fmt.Fprintf(w, "  %s\n", l)
	}
	for _, app := range a.Store.Applications() {
		fmt.Fprintf(w, "\nApplication %q\n  SMARTCAR_CLIENT_ID=%s\n  SMARTCAR_CLIENT_SECRET=%s\n", app.Name, app.ClientID, app.ClientSecret)
		for _, u := range app.RedirectURIs {
			fmt.Fprintf(w, "  redirect URI: %s\n", u)
		}
		if app.ManagementToken != "" {
			fmt.Fprintf(w, "  management token: %s\n", app.ManagementToken)
		}
	}
	fmt.Fprintf(w, "\nConnect: %s/oauth/authorize?response_type=code&client_id=<id>&redirect_uri=<uri>&scope=read_vehicle_info\n", a.Origin)
	fmt.Fprintf(w, "Any username and password work on Connect.\n\n")
	a.bannerControl(w)
}

// Probe asks a running sandbox at origin for /readyz: up, fixtures loaded and not stopping.
// roots are the CAs an https origin is checked against (nil: the system's).
func Probe(origin string, timeout time.Duration, roots *x509.CertPool) error {
	c := &http.Client{Timeout: timeout, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	res, err := c.Get(origin + "/readyz")
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /readyz: %s", res.Status)
	}
	return nil
}
