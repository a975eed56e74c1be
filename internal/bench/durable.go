package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	defaultfixtures "github.com/smartcar-sandbox/smartcar-sandbox/fixtures"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/fixtures"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
)

// DurableRow is one store measured under state-changing load: refresh grants, LOCK/UNLOCK
// commands and code exchanges at Options.Concurrency connections.
type DurableRow struct {
	Store    string // "in memory", "-data-dir" or "-store postgres"
	Users    int    // signed-in users the database held before the load
	Startup  time.Duration
	Refresh  *Result
	Lock     *Result
	Exchange *Result
}

// codesPerConnection is how many codes the code-exchange phase exchanges per connection. A
// code is made by Connect's five pages beforehand, so the phase is bounded by a count rather
// than by -d: enough for percentiles, without making the run minutes longer.
const codesPerConnection = 40

// durableScope adds the LOCK command's permission to the reads.
const durableScope = FlowScope + " control_security"

// RunDurable measures state-changing requests in memory and with -data-dir, the latter on a
// fresh database and on one holding each count of signed-in users in users; with pgURL (an
// empty database), also with -store on it.
func RunDurable(ctx context.Context, o Options, users []int, pgURL string) ([]DurableRow, error) {
	rows := []DurableRow{{Store: "in memory"}}
	for _, n := range users {
		rows = append(rows, DurableRow{Store: "-data-dir", Users: n})
	}
	if pgURL != "" {
		rows = append(rows, DurableRow{Store: "-store postgres"})
	}
	for i := range rows {
		r := &rows[i]
		var args []string
		switch r.Store {
		case "-store postgres":
			args = []string{"-store", pgURL}
		case "-data-dir":
			dir, err := os.MkdirTemp(o.WorkDir, "data-")
			if err != nil {
				return nil, err
			}
			defer os.RemoveAll(dir)
			if r.Users > 0 {
				o.logf("seeding a database with %d signed-in users ...", r.Users)
				if err := SeedUsers(dir, r.Users); err != nil {
					return nil, err
				}
			}
			args = []string{"-data-dir", dir}
		}
		if err := o.durableRow(ctx, r, args); err != nil {
			return nil, err
		}
	}
	return rows, nil
}

func (o *Options) durableRow(ctx context.Context, r *DurableRow, args []string) error {
	sb, err := StartProc(ctx, o.Sandbox, append([]string{"-addr", "127.0.0.1:0"}, args...), CleanEnv(), o.WorkDir, true)
	if err != nil {
		return err
	}
	defer sb.Stop()
	r.Startup = sb.Startup
	httpc := NewClient(o.Concurrency)
	defer httpc.CloseIdleConnections()
	c := &Client{Base: sb.Origin, HTTP: httpc, App: DemoApp, Scope: durableScope}
	chains := make([]string, o.Concurrency)
	var tok Tokens
	for i := range chains {
		if tok, err = c.Flow(ctx, DemoUser); err != nil {
			return fmt.Errorf("flow for refresh chain %d: %w", i, err)
		}
		chains[i] = tok.Refresh
	}
	refresh := func(ctx context.Context, w int) error {
		t, err := c.Refresh(ctx, chains[w])
		if err != nil {
			return err
		}
		chains[w] = t.Refresh
		return nil
	}
	load := Load{Concurrency: o.Concurrency, MaxOps: o.MaxOps, Duration: o.Duration}
	name := fmt.Sprintf("%s, %d users", r.Store, r.Users)
	if r.Refresh, err = o.phase(ctx, "token refresh, "+name, sb, load, refresh); err != nil {
		return err
	}
	if r.Lock, err = o.phase(ctx, "LOCK/UNLOCK, "+name, sb, load, c.Lock(tok.VehicleID, tok.Access)); err != nil {
		return err
	}
	codes, err := o.codes(ctx, c)
	if err != nil {
		return err
	}
	exchange := func(ctx context.Context, _ int) error {
		select {
		case code := <-codes:
			_, err := c.Token(ctx, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {c.App.RedirectURI}})
			return err
		default:
			return errors.New("no code left to exchange")
		}
	}
	// No warm-up: the two phases before warmed the token endpoint, and a code works once.
	r.Exchange, err = o.measure(ctx, "code exchange, "+name, sb, Load{Concurrency: o.Concurrency, MaxOps: int64(len(codes))}, exchange)
	return err
}

// codes makes the codes the code-exchange phase uses up, through Connect's pages at
// Options.Concurrency connections (not measured): codesPerConnection per connection, or
// -n's count if that is fewer.
func (o *Options) codes(ctx context.Context, c *Client) (chan string, error) {
	n := int64(o.Concurrency * codesPerConnection)
	if o.MaxOps > 0 {
		n = min(n, o.MaxOps)
	}
	codes := make(chan string, n)
	r, err := Run(ctx, Load{Concurrency: o.Concurrency, MaxOps: n}, func(ctx context.Context, _ int) error {
		code, err := c.Code(ctx, DemoUser)
		if err == nil {
			codes <- code
		}
		return err
	})
	if err == nil && r.Errors > 0 {
		err = fmt.Errorf("making codes: %d failed: %w", r.Errors, r.FirstErr)
	}
	return codes, err
}

// SeedUsers writes into dir's database the state n people leave who each signed in through
// Connect to the demo application (an account and garage of their own, a grant, a used code
// and a refresh token), built in memory and committed at once.
func SeedUsers(dir string, n int) error {
	ds, err := fixtures.Load(defaultfixtures.FS)
	if err != nil {
		return err
	}
	st, err := store.New(ds, store.Options{Garage: fixtures.Garage})
	if err != nil {
		return err
	}
	always := func(sandbox.AuthCode) error { return nil }
	for i := range n {
		acct, vs, err := st.SignIn(fmt.Sprintf("seed-%d@sandbox.test", i), "")
		if err != nil {
			return err
		}
		ids := make([]string, len(vs))
		for j, v := range vs {
			ids[j] = v.ID
			if err := st.Connect(sandbox.Grant{ClientID: DemoApp.ClientID, UserID: acct.UserID, VehicleID: v.ID, Permissions: []string{"read_odometer"}}); err != nil {
				return err
			}
		}
		code := sandbox.NewUUID()
		if err := st.SaveCode(sandbox.AuthCode{Code: code, ClientID: DemoApp.ClientID, UserID: acct.UserID, VehicleIDs: ids,
			Permissions: []string{"read_odometer"}, ExpiresAt: time.Now().Add(10 * time.Minute)}); err != nil {
			return err
		}
		if _, err := st.RedeemCode(code, DemoApp.ClientID, always, nil); err != nil {
			return err
		}
	}
	b, err := store.OpenSQLite(dir)
	if err != nil {
		return err
	}
	if err := st.CopyTo(b); err != nil {
		b.Close()
		return err
	}
	return b.Close()
}

// rateAndLatency is two table cells: throughput, and p50 / p99.
func rateAndLatency(r *Result) string {
	return fmt.Sprintf("%.0f req/s | %s / %s", r.PerSecond(), ms(r.Latency.Quantile(0.5)), ms(r.Latency.Quantile(0.99)))
}

// WriteDurable prints the durable rows as a Markdown table, with the targets.
func WriteDurable(w io.Writer, o Options, rows []DurableRow) {
	fmt.Fprintf(w, "\nState-changing requests, %d connections, %v per phase after %v warm-up:\n\n", o.Concurrency, o.Duration, o.Warmup)
	fmt.Fprintln(w, "| store | signed-in users | start-up | refresh | refresh p50 / p99 | LOCK/UNLOCK | LOCK p50 / p99 | code exchange | exchange p50 / p99 | errors |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %d |\n", r.Store, r.Users, ms(r.Startup),
			rateAndLatency(r.Refresh), rateAndLatency(r.Lock), rateAndLatency(r.Exchange), r.Refresh.Errors+r.Lock.Errors+r.Exchange.Errors)
	}
	if len(rows) > 1 {
		mem, disk := rows[0].Refresh.PerSecond(), rows[1].Refresh.PerSecond()
		fmt.Fprintf(w, "\nRefresh throughput with -data-dir (fresh) / in memory: %.0f %% (target ≥ 25 %%: %s).\n", 100*disk/mem, verdict(disk >= mem/4))
		for _, r := range rows[1:] {
			if r.Store != "-data-dir" {
				continue
			}
			p50 := max(r.Refresh.Latency.Quantile(0.5), r.Lock.Latency.Quantile(0.5), r.Exchange.Latency.Quantile(0.5))
			fmt.Fprintf(w, "Slowest state-changing p50 with -data-dir, %d users: %s (target < 3 ms at 64 connections: %s; in memory: %s).\n", r.Users, ms(p50),
				verdict(p50 < 3*time.Millisecond), ms(max(rows[0].Refresh.Latency.Quantile(0.5), rows[0].Lock.Latency.Quantile(0.5), rows[0].Exchange.Latency.Quantile(0.5))))
		}
	}
}
