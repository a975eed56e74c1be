// Package config reads the sandbox's settings from flags with environment fallbacks and
// validates them all at once, so a user sees every mistake in one go.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/fixtures"
)

// Config is everything main needs to start a sandbox.
type Config struct {
	Addr        string
	FixturesDir string // "" = the embedded defaults
	PublicURL   string // "" = derived from the listener
	DataDir     string // "" = in memory
	// Store is a PostgreSQL URL (postgres://...) to keep the state and the signing key in,
	// instead of a data dir; "" = in memory or -data-dir.
	Store     string
	LogFormat string // text | json

	// MaxFixturesMB is the most MiB of YAML the fixture folder may hold (0: the fixtures
	// package's default); a bigger folder is refused before it is parsed.
	MaxFixturesMB int

	// AdminToken protects the admin API; "" makes Start generate one (printed in the banner).
	AdminToken string
	// NoAdmin leaves the admin API unmounted.
	NoAdmin bool
	// FaultHeader honours the SC-Sandbox-Fault request header (one-shot faults from tests).
	FaultHeader bool
	// RequestLogSize is how many API and token requests GET /admin/requests keeps (0: none).
	RequestLogSize int

	// SimSpeedup is simulated time per real time for simulated vehicles (60: a minute is an
	// hour); SimSeed makes their trip profiles (same seed, same trips).
	SimSpeedup float64
	SimSeed    int
	// WebhookAttempts bounds the tries of one webhook delivery; WebhookRetryBase is the wait
	// after the first failure, doubling after each.
	WebhookAttempts  int
	WebhookRetryBase time.Duration

	// TLS serves HTTPS with a certificate from the sandbox's local CA (see internal/app/tls.go),
	// kept in DataDir or, without one, in the user's config folder.
	TLS bool

	// Healthcheck makes the binary probe a running sandbox's /readyz at Addr and exit; the
	// Docker HEALTHCHECK uses it because the image has no curl.
	Healthcheck bool

	// EnvApplication is registered on top of the fixtures when SMARTCAR_CLIENT_ID is set, so
	// one .env file drives both the sandbox and the tutorial backend. It replaces a fixture
	// application with the same client id.
	EnvApplication *sandbox.Application
	// AppName is EnvApplication's display name (Connect pages, the banner); "" gives
	// DefaultEnvAppName.
	AppName string
}

// DefaultEnvAppName is the name of the application from the environment when -app-name
// (SMARTCAR_APP_NAME) is not set.
const DefaultEnvAppName = "Application from environment"

// Parse reads flags from args (without the program name), falling back to env via getenv.
// It returns flag.ErrHelp for -h.
func Parse(args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	var c Config
	fs := flag.NewFlagSet("smartcar-sandbox", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.StringVar(&c.Addr, "addr", env("SANDBOX_ADDR", "127.0.0.1:8080"), "listen address (env SANDBOX_ADDR); 127.0.0.1:0 picks a free port")
	fs.StringVar(&c.FixturesDir, "fixtures", env("SANDBOX_FIXTURES", ""), "folder of YAML fixtures replacing the embedded defaults (env SANDBOX_FIXTURES)")
	fs.IntVar(&c.MaxFixturesMB, "max-fixtures-mb", envInt(getenv, "SANDBOX_MAX_FIXTURES_MB", fixtures.DefaultMaxBytes>>20), "most MiB of YAML the -fixtures folder may hold; loading one big file takes about 24 times its size in memory (env SANDBOX_MAX_FIXTURES_MB)")
	fs.StringVar(&c.PublicURL, "public-url", env("SANDBOX_PUBLIC_URL", ""), "origin written into links and the printed env lines, e.g. http://192.168.1.20:8080 for phones on the LAN (env SANDBOX_PUBLIC_URL)")
	fs.StringVar(&c.Store, "store", env("SANDBOX_STORE", ""), "PostgreSQL URL (postgres://user@host/db) where the state and the signing key survive restarts, instead of -data-dir (env SANDBOX_STORE)")
	fs.StringVar(&c.DataDir, "data-dir", env("SANDBOX_DATA_DIR", ""), "folder where the signing key and state survive restarts; empty keeps everything in memory (env SANDBOX_DATA_DIR)")
	fs.StringVar(&c.LogFormat, "log-format", env("SANDBOX_LOG_FORMAT", "text"), "access log format: text or json (env SANDBOX_LOG_FORMAT)")
	fs.StringVar(&c.AdminToken, "admin-token", env("SANDBOX_ADMIN_TOKEN", ""), "bearer token for the admin API (/admin/...); empty generates one and prints it at start (env SANDBOX_ADMIN_TOKEN)")
	fs.BoolVar(&c.NoAdmin, "no-admin", envBool(getenv, "SANDBOX_NO_ADMIN"), "turn the admin API off: /admin/... answers 404 (env SANDBOX_NO_ADMIN=1)")
	fs.BoolVar(&c.FaultHeader, "fault-header", envBool(getenv, "SANDBOX_FAULT_HEADER"), "honour the SC-Sandbox-Fault: TYPE:CODE[:retryAfter] request header for one-shot faults (env SANDBOX_FAULT_HEADER=1)")
	fs.IntVar(&c.RequestLogSize, "request-log-size", envInt(getenv, "SANDBOX_REQUEST_LOG_SIZE", 200), "how many API and token requests GET /admin/requests keeps; 0 keeps none (env SANDBOX_REQUEST_LOG_SIZE)")
	fs.Float64Var(&c.SimSpeedup, "sim-speedup", envFloat(getenv, "SANDBOX_SIM_SPEEDUP", 60), "simulated time per real time for simulated vehicles: 60 makes a real minute a simulated hour (env SANDBOX_SIM_SPEEDUP)")
	fs.IntVar(&c.SimSeed, "sim-seed", envInt(getenv, "SANDBOX_SIM_SEED", 1), "seed of the simulated vehicles' trip profiles; the same seed gives the same trips (env SANDBOX_SIM_SEED)")
	fs.IntVar(&c.WebhookAttempts, "webhook-attempts", envInt(getenv, "SANDBOX_WEBHOOK_ATTEMPTS", 5), "tries of one webhook delivery before it is given up (env SANDBOX_WEBHOOK_ATTEMPTS)")
	fs.DurationVar(&c.WebhookRetryBase, "webhook-retry-base", envDuration(getenv, "SANDBOX_WEBHOOK_RETRY_BASE", 2*time.Second), "wait after a failed webhook delivery, doubling after each failure (env SANDBOX_WEBHOOK_RETRY_BASE)")
	fs.StringVar(&c.AppName, "app-name", env("SMARTCAR_APP_NAME", ""), "display name of the application registered from SMARTCAR_CLIENT_ID, shown on Connect's pages (env SMARTCAR_APP_NAME; default \""+DefaultEnvAppName+"\")")
	fs.BoolVar(&c.TLS, "tls", envBool(getenv, "SANDBOX_TLS"), "serve HTTPS with a certificate from a local CA the sandbox creates once and keeps (in -data-dir, else the user config folder); `smartcar-sandbox ca` says how to trust it (env SANDBOX_TLS=1)")
	fs.BoolVar(&c.Healthcheck, "healthcheck", false, "probe the sandbox at -addr (GET /readyz) and exit 0 when ready; for container health checks")
	fs.Usage = func() {
		fmt.Fprintf(usage, "smartcar-sandbox: a local, offline stand-in for Smartcar Connect, the token endpoint and the vehicle API.\n\nUsage: smartcar-sandbox [flags]\n\n")
		fs.PrintDefaults()
		fmt.Fprintf(usage, "\nAn extra application can be registered from SMARTCAR_CLIENT_ID, SMARTCAR_CLIENT_SECRET and\nSMARTCAR_REDIRECT_URI (comma-separated list), the variables the tutorial backend reads, named by\n-app-name (SMARTCAR_APP_NAME). It replaces a fixture application with the same client id.\n")
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if id := getenv("SMARTCAR_CLIENT_ID"); id != "" || getenv("SMARTCAR_CLIENT_SECRET") != "" || getenv("SMARTCAR_REDIRECT_URI") != "" {
		app := &sandbox.Application{
			Name:         DefaultEnvAppName,
			ClientID:     id,
			ClientSecret: getenv("SMARTCAR_CLIENT_SECRET"),
			Source:       "environment (SMARTCAR_CLIENT_ID, SMARTCAR_CLIENT_SECRET, SMARTCAR_REDIRECT_URI)",
		}
		for _, u := range strings.Split(getenv("SMARTCAR_REDIRECT_URI"), ",") {
			if u = strings.TrimSpace(u); u != "" {
				app.RedirectURIs = append(app.RedirectURIs, u)
			}
		}
		if name := strings.TrimSpace(c.AppName); name != "" {
			app.Name = name
		}
		c.EnvApplication = app
	}
	return c, c.Validate()
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if _, port, err := net.SplitHostPort(c.Addr); err != nil || port == "" {
		errs = append(errs, fmt.Errorf("-addr %q: want host:port, e.g. 127.0.0.1:8080", c.Addr))
	}
	if c.FixturesDir != "" {
		if st, err := os.Stat(c.FixturesDir); err != nil || !st.IsDir() {
			errs = append(errs, fmt.Errorf("-fixtures %q: not a readable folder", c.FixturesDir))
		}
	}
	if c.MaxFixturesMB < 0 || c.MaxFixturesMB > 1<<16 {
		errs = append(errs, fmt.Errorf("-max-fixtures-mb %d (SANDBOX_MAX_FIXTURES_MB): want a whole number of MiB up to 65536 (0: the default, %d)", c.MaxFixturesMB, fixtures.DefaultMaxBytes>>20))
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			errs = append(errs, fmt.Errorf("-public-url %q: want an origin like http://192.168.1.20:8080 (scheme and host, no path)", c.PublicURL))
		}
	}
	if c.Store != "" {
		if c.DataDir != "" {
			errs = append(errs, errors.New("-store (SANDBOX_STORE) and -data-dir (SANDBOX_DATA_DIR) are both set: the state goes to one place, drop one"))
		}
		if u, err := url.Parse(c.Store); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			errs = append(errs, errors.New("-store (SANDBOX_STORE): want a PostgreSQL URL, postgres://user@host:5432/dbname"))
		}
	}
	if c.NoAdmin && c.AdminToken != "" {
		errs = append(errs, errors.New("-no-admin and -admin-token (SANDBOX_ADMIN_TOKEN) are both set: drop one"))
	}
	if t := c.AdminToken; t != "" && (len(t) < 16 || strings.ContainsAny(t, " \t\r\n")) {
		errs = append(errs, errors.New("-admin-token: want at least 16 characters without spaces"))
	}
	if c.RequestLogSize < 0 || c.RequestLogSize > 100000 {
		errs = append(errs, fmt.Errorf("-request-log-size %d: want 0..100000", c.RequestLogSize))
	}
	if c.SimSpeedup <= 0 || c.SimSpeedup > 100000 || math.IsNaN(c.SimSpeedup) {
		errs = append(errs, fmt.Errorf("-sim-speedup %v (SANDBOX_SIM_SPEEDUP): want a number above 0 and at most 100000, e.g. 60", c.SimSpeedup))
	}
	if c.SimSeed < 0 {
		errs = append(errs, fmt.Errorf("-sim-seed %d (SANDBOX_SIM_SEED): want a whole number ≥ 0", c.SimSeed))
	}
	if c.WebhookAttempts < 1 || c.WebhookAttempts > 20 {
		errs = append(errs, fmt.Errorf("-webhook-attempts %d (SANDBOX_WEBHOOK_ATTEMPTS): want 1..20", c.WebhookAttempts))
	}
	if c.WebhookRetryBase < 10*time.Millisecond || c.WebhookRetryBase > 10*time.Minute {
		errs = append(errs, fmt.Errorf("-webhook-retry-base %v (SANDBOX_WEBHOOK_RETRY_BASE): want a duration from 10ms to 10m, e.g. 2s", c.WebhookRetryBase))
	}
	if c.TLS && strings.HasPrefix(c.PublicURL, "http://") {
		errs = append(errs, fmt.Errorf("-public-url %q with -tls: the sandbox serves https, so write https://", c.PublicURL))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("-log-format %q: want text or json", c.LogFormat))
	}
	if c.AppName != "" {
		if c.EnvApplication == nil {
			errs = append(errs, errors.New("-app-name (SMARTCAR_APP_NAME) names the application from the environment, but there is none: set SMARTCAR_CLIENT_ID, SMARTCAR_CLIENT_SECRET and SMARTCAR_REDIRECT_URI too"))
		}
		if n := strings.TrimSpace(c.AppName); n == "" || utf8.RuneCountInString(n) > 100 || strings.ContainsFunc(n, unicode.IsControl) {
			errs = append(errs, fmt.Errorf("-app-name %q (SMARTCAR_APP_NAME): want 1 to 100 characters on one line", c.AppName))
		}
	}
	if a := c.EnvApplication; a != nil {
		if a.ClientID == "" {
			errs = append(errs, errors.New("SMARTCAR_CLIENT_ID is empty but SMARTCAR_CLIENT_SECRET or SMARTCAR_REDIRECT_URI is set"))
		}
		if a.ClientSecret == "" {
			errs = append(errs, errors.New("SMARTCAR_CLIENT_SECRET is empty: the registered application needs a secret"))
		}
		if len(a.RedirectURIs) == 0 {
			errs = append(errs, errors.New("SMARTCAR_REDIRECT_URI is empty: give at least one redirect URI (comma-separated for several)"))
		}
		for _, r := range a.RedirectURIs {
			if u, err := url.Parse(r); err != nil || u.Scheme == "" {
				errs = append(errs, fmt.Errorf("SMARTCAR_REDIRECT_URI %q: not an absolute URI", r))
			}
		}
	}
	return errors.Join(errs...)
}

// FixtureOptions are the options the fixture folder is loaded with, at start and on reload.
func (c Config) FixtureOptions() fixtures.Options {
	return fixtures.Options{MaxBytes: int64(c.MaxFixturesMB) << 20}
}

// Origin is the public origin for a listener address: PublicURL when set, else http://addr.
func (c Config) Origin(listenAddr string) string {
	if c.PublicURL != "" {
		return strings.TrimSuffix(c.PublicURL, "/")
	}
	host, port, err := net.SplitHostPort(listenAddr)
	if err == nil && (host == "" || host == "0.0.0.0" || host == "::") {
		listenAddr = net.JoinHostPort("127.0.0.1", port)
	}
	if c.TLS {
		return "https://" + listenAddr
	}
	return "http://" + listenAddr
}

// envBool reads a boolean environment variable: 1, true, yes or on (any case) mean true.
func envBool(getenv func(string) string, name string) bool {
	switch strings.ToLower(strings.TrimSpace(getenv(name))) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// envInt reads an integer environment variable; a value that is not a number yields -1,
// which Validate reports.
func envInt(getenv func(string) string, name string, def int) int {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return -1
	}
	return n
}

// envFloat and envDuration read a number or duration from the environment; a value that does
// not parse becomes -1, which Validate reports with the variable's name.
func envFloat(getenv func(string) string, name string, def float64) float64 {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return -1
	}
	return f
}

func envDuration(getenv func(string) string, name string, def time.Duration) time.Duration {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return -1
	}
	return d
}
