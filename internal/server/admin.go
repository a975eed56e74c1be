package server

import (
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/admin"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/connect"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/dashboard"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/door"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/faults"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/oauth"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/requestlog"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/token"
)

// Control is what a CI suite or workshop uses to steer a running sandbox: the admin API, the
// fault rules and the request log. internal/app builds it from the flags.
type Control struct {
	// AdminToken protects /admin/...; "" leaves the admin API unmounted (its paths 404).
	AdminToken string
	// Faults are the scripted fault rules (nil: none); the admin API, when mounted, needs them.
	Faults *faults.Set
	// FaultHeader enables the SC-Sandbox-Fault request header.
	FaultHeader bool
	// Requests records the last API and token requests (nil: none).
	Requests *requestlog.Log
	// Advance moves the shared clock forward; nil: the clock cannot be moved.
	Advance func(time.Duration) error
	// Reload re-reads the fixture folder; nil when the sandbox runs on embedded fixtures.
	Reload func() (store.ReloadResult, error)
	// SimSeed is the simulator's seed; the dashboard draws simulated routes with it.
	SimSeed int64

	// stopping is closed by Stop, which ends the dashboard's event streams; made once, by
	// whichever of Stop and the dashboard's mount asks first.
	makeOnce sync.Once
	stopOnce sync.Once
	stopping chan struct{}
}

// Stop ends the dashboard's open event streams, which would otherwise keep a graceful
// shutdown waiting (http.Server.Shutdown waits for every open response). The app registers it
// with RegisterOnShutdown.
func (c *Control) Stop() {
	c.stopOnce.Do(func() { close(c.stopChannel()) })
}

func (c *Control) stopChannel() chan struct{} {
	c.makeOnce.Do(func() { c.stopping = make(chan struct{}) })
	return c.stopping
}

// withControl puts the request log (outside, so it sees injected faults) and the fault
// middleware in front of the router. Both only act on the API and token paths.
func withControl(next http.Handler, d Deps) http.Handler {
	c := d.Control
	if c == nil {
		return next
	}
	if c.Faults != nil || c.FaultHeader {
		next = (&faults.Middleware{Rules: c.Faults, Tokens: d.Tokens, Header: c.FaultHeader}).Wrap(next)
	}
	if c.Requests != nil {
		next = c.Requests.Wrap(next, recordedPath)
	}
	return next
}

// recordedPath is what the request log keeps: the vehicle APIs and the token endpoints, what an
// app's test asks about (GET /admin/requests), not Connect's pages or the admin API itself.
func recordedPath(p string) bool {
	d := door.Of(p)
	return d.API() || d == door.Token
}

// mountAdmin mounts /admin/... and the dashboard (/dashboard/..., which calls the admin API's
// own handlers) when an admin token is set. run and exchange are the Connect flow and the code
// exchange POST /admin/connect runs, the very ones the pages and the token endpoint serve. The
// admin API scripts faults into Control.Faults, the set withControl applies.
func mountAdmin(r *mux.Router, d Deps, run func(connect.Request) (connect.Result, error), exchange func(clientID, code, redirectURI string) (*oauth.Response, error)) error {
	c := d.Control
	if c == nil || c.AdminToken == "" {
		return nil
	}
	o := admin.Options{Token: c.AdminToken, Store: d.Store, Faults: c.Faults, Requests: c.Requests,
		Now: d.Now, Advance: c.Advance, Reload: c.Reload, Connect: run, Exchange: exchange}
	if d.Webhooks != nil { // a nil *Service in the interface would look set
		o.Webhooks = d.Webhooks
	}
	api, err := admin.New(o)
	if err != nil {
		return err
	}
	api.Mount(r)

	// The dashboard reaches the admin API through a router of its own holding only the admin
	// routes: the same handlers, without the request log and fault middleware (which only act
	// on API paths anyway).
	adminOnly := mux.NewRouter().SkipClean(true).UseEncodedPath()
	api.Mount(adminOnly)
	dash, err := dashboard.New(dashboard.Options{Token: c.AdminToken, Admin: adminOnly, Store: d.Store,
		EnvLines: EnvLines(d.Origin), SimSeed: c.SimSeed, Now: d.Now, Stopping: c.stopChannel(), Requests: c.Requests})
	if err != nil {
		return err
	}
	dash.Mount(r)
	return nil
}

// RecordTokens is the token.Issuer OnIssue hook that remembers issued access tokens in the
// store, so the admin API can list, expire and revoke them. A token the store recorded in the
// transaction it was minted in (the token endpoint's, see store.Mint) is not recorded again.
func RecordTokens(st *store.Store, log interface{ Error(string, ...any) }) func(*token.Claims) {
	return func(c *token.Claims) {
		if c.Recorded {
			return
		}
		if err := st.RecordIssuedToken(store.IssuedFromClaims(c)); err != nil && log != nil {
			log.Error("recording an issued token", "error", err)
		}
	}
}
