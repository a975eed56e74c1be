package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/fixtures"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/token"
)

// Options configure a whole benchmark run.
type Options struct {
	Sandbox string // the smartcar-sandbox binary (see BuildSandbox)
	WorkDir string // scratch folder: server logs, the generated fixtures

	// StartBaseline starts the baseline server verifying tokens signed with key and returns
	// its origin and a stop function. cmd/sandbox-bench runs it as a separate process, like
	// the sandbox; tests run it in process.
	StartBaseline func(ctx context.Context, key []byte) (*Proc, error)

	Concurrency     int           // connections for the read, batch and refresh phases
	FlowConcurrency int           // concurrent people going through Connect
	Duration        time.Duration // per measured phase
	MaxOps          int64         // per measured phase, 0 for no bound
	Warmup          time.Duration // unmeasured load before each phase (connections, caches)
	StartupRuns     int           // start-ups measured per fixture set
	Vehicles        int           // size of the generated fixture set
	Progress        io.Writer     // one line per step; nil for none
}

// PhaseRSS is the loaded sandbox's resident memory after a phase.
type PhaseRSS struct {
	Phase string
	RSS   int64
}

// Report is a run's results.
type Report struct {
	Opts                               Options
	Read, Baseline, Batch, Refresh     *Result
	Flows                              *Result
	StartDefault, StartGenerated       []time.Duration // sorted; generated: in ten files
	StartOneFile                       []time.Duration // the same vehicles in one file
	RSSStartDefault, RSSStartGenerated int64           // medians, bytes
	RSSAfterStart, RSSAfterLoad        int64           // the loaded sandbox, bytes
	RSSByPhase                         []PhaseRSS      // the loaded sandbox after each phase
}

func (o *Options) logf(format string, args ...any) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, format+"\n", args...)
	}
}

// RunAll measures everything the table shows, in one run.
func RunAll(ctx context.Context, o Options) (*Report, error) {
	rep := &Report{Opts: o}

	// --- start-up: default fixtures, then o.Vehicles generated vehicles in ten files and in one ---
	tenDir := filepath.Join(o.WorkDir, "fixtures-10-files")
	oneDir := filepath.Join(o.WorkDir, "fixtures-1-file")
	if err := WriteGeneratedFixtures(tenDir, o.Vehicles, 10); err != nil {
		return nil, err
	}
	if err := WriteGeneratedFixtures(oneDir, o.Vehicles, 1); err != nil {
		return nil, err
	}
	var err error
	if rep.StartDefault, rep.RSSStartDefault, err = o.startups(ctx, nil); err != nil {
		return nil, err
	}
	o.logf("start-up, default fixtures: median %v", median(rep.StartDefault))
	if rep.StartGenerated, rep.RSSStartGenerated, err = o.startups(ctx, []string{"-fixtures", tenDir}); err != nil {
		return nil, err
	}
	o.logf("start-up, %d vehicles in 10 files: median %v", o.Vehicles, median(rep.StartGenerated))
	if rep.StartOneFile, _, err = o.startups(ctx, []string{"-fixtures", oneDir}); err != nil {
		return nil, err
	}
	o.logf("start-up, %d vehicles in 1 file: median %v", o.Vehicles, median(rep.StartOneFile))

	// --- the sandbox under load ---
	sb, err := StartProc(ctx, o.Sandbox, []string{"-addr", "127.0.0.1:0"}, CleanEnv(), o.WorkDir, true)
	if err != nil {
		return nil, err
	}
	defer sb.Stop()
	if rep.RSSAfterStart, err = sb.RSS(); err != nil {
		return nil, err
	}
	httpc := NewClient(max(o.Concurrency, o.FlowConcurrency))
	defer httpc.CloseIdleConnections()
	c := &Client{Base: sb.Origin, HTTP: httpc, App: DemoApp}
	tok, err := c.Flow(ctx, DemoUser)
	if err != nil {
		return nil, fmt.Errorf("first Connect flow: %w", err)
	}
	readPath := "/v2.0/vehicles/" + tok.VehicleID + "/odometer"
	load := Load{Concurrency: o.Concurrency, MaxOps: o.MaxOps, Duration: o.Duration}

	// --- the read, against the sandbox and the baseline (same request, same verification,
	// nothing else) in alternating rounds, so load from elsewhere on the machine hits both ---
	key := token.NewKey()
	baseTok, err := mirrorToken(key, tok.Access)
	if err != nil {
		return nil, err
	}
	bp, err := o.StartBaseline(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	defer bp.Stop()
	bc := &Client{Base: bp.Origin, HTTP: httpc, App: DemoApp}
	const rounds = 5
	round := load
	round.Duration = o.Duration / rounds
	if round.MaxOps > 0 {
		round.MaxOps = max(1, round.MaxOps/rounds)
	}
	rep.Read, rep.Baseline = new(Result), new(Result)
	for i := 0; i < rounds; i++ {
		r, err := o.phase(ctx, fmt.Sprintf("vehicle read (sandbox), round %d", i+1), sb, round, c.Read(readPath, tok.Access))
		if err != nil {
			return nil, err
		}
		rep.Read.Add(r)
		if r, err = o.phase(ctx, fmt.Sprintf("vehicle read (baseline), round %d", i+1), bp, round, bc.Read(readPath, baseTok)); err != nil {
			return nil, err
		}
		rep.Baseline.Add(r)
	}

	if err := rep.noteRSS(sb, "reads"); err != nil {
		return nil, err
	}
	if rep.Batch, err = o.phase(ctx, "batch, 5 paths", sb, load, c.Batch(tok.VehicleID, tok.Access)); err != nil {
		return nil, err
	}
	if err := rep.noteRSS(sb, "batch"); err != nil {
		return nil, err
	}

	// --- refresh: one refresh-token chain per connection, each from its own flow ---
	chains := make([]string, o.Concurrency)
	for i := range chains {
		t, err := c.Flow(ctx, DemoUser)
		if err != nil {
			return nil, fmt.Errorf("flow for refresh chain %d: %w", i, err)
		}
		chains[i] = t.Refresh
	}
	refresh := func(ctx context.Context, w int) error {
		t, err := c.Refresh(ctx, chains[w])
		if err != nil {
			return err
		}
		chains[w] = t.Refresh
		return nil
	}
	if rep.Refresh, err = o.phase(ctx, "token refresh", sb, load, refresh); err != nil {
		return nil, err
	}
	if err := rep.noteRSS(sb, "refresh"); err != nil {
		return nil, err
	}

	// --- full Connect flows, one username per concurrent person ---
	flow := func(ctx context.Context, w int) error {
		_, err := c.Flow(ctx, fmt.Sprintf("bench-user-%d@sandbox.test", w))
		return err
	}
	flowLoad := Load{Concurrency: o.FlowConcurrency, MaxOps: o.MaxOps, Duration: o.Duration}
	if rep.Flows, err = o.phase(ctx, "full Connect flows", sb, flowLoad, flow); err != nil {
		return nil, err
	}
	if err := rep.noteRSS(sb, "flows"); err != nil {
		return nil, err
	}
	rep.RSSAfterLoad = rep.RSSByPhase[len(rep.RSSByPhase)-1].RSS
	return rep, nil
}

func (r *Report) noteRSS(p *Proc, phase string) error {
	rss, err := p.RSS()
	if err != nil {
		return err
	}
	r.RSSByPhase = append(r.RSSByPhase, PhaseRSS{phase, rss})
	return nil
}

// phase warms up, then measures op under l, and the server process's CPU time meanwhile.
func (o *Options) phase(ctx context.Context, name string, server *Proc, l Load, op Op) (*Result, error) {
	if o.Warmup > 0 {
		if _, err := Run(ctx, Load{Concurrency: l.Concurrency, Duration: o.Warmup}, op); err != nil {
			return nil, err
		}
	}
	return o.measure(ctx, name, server, l, op)
}

// measure is phase without the warm-up, for operations that use up what they work on (a
// code is exchanged once).
func (o *Options) measure(ctx context.Context, name string, server *Proc, l Load, op Op) (*Result, error) {
	cpu0, err := server.CPUTime()
	if err != nil {
		return nil, err
	}
	r, err := Run(ctx, l, op)
	if err != nil {
		return nil, err
	}
	cpu1, err := server.CPUTime()
	if err != nil {
		return nil, err
	}
	r.ServerCPU = cpu1 - cpu0
	o.logf("%s: %.0f/s, p50 %v, p99 %v, server CPU %.1f µs/op, %d errors", name, r.PerSecond(), r.Latency.Quantile(0.5), r.Latency.Quantile(0.99), r.CPUPerOp(), r.Errors)
	if r.Ops == 0 {
		return nil, fmt.Errorf("%s: nothing succeeded: %v", name, r.FirstErr)
	}
	return r, nil
}

// startups starts and stops the sandbox o.StartupRuns times with extra arguments, returning
// the sorted start-up times and the median resident memory right after start.
func (o *Options) startups(ctx context.Context, extra []string) ([]time.Duration, int64, error) {
	var times []time.Duration
	var rss []int64
	for i := 0; i < max(o.StartupRuns, 1); i++ {
		p, err := StartProc(ctx, o.Sandbox, append([]string{"-addr", "127.0.0.1:0"}, extra...), CleanEnv(), o.WorkDir, true)
		if err != nil {
			return nil, 0, err
		}
		r, err := p.RSS()
		p.Stop()
		if err != nil {
			return nil, 0, err
		}
		times = append(times, p.Startup)
		rss = append(rss, r)
	}
	slices.Sort(times)
	slices.Sort(rss)
	return times, rss[len(rss)/2], nil
}

// WriteGeneratedFixtures writes fixtures.GenerateDataset(n) in the fixture format into dir,
// split by account into files files (the demo application in the first), the way a big fleet
// is kept: the sandbox loads every *.yaml in the folder and parses them concurrently.
func WriteGeneratedFixtures(dir string, n, files int) error {
	ds := fixtures.GenerateDataset(n)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	byID := make(map[string]sandbox.Vehicle, len(ds.Vehicles))
	for _, v := range ds.Vehicles {
		byID[v.ID] = v
	}
	files = max(1, min(files, len(ds.Accounts)))
	per := (len(ds.Accounts) + files - 1) / files
	for f := 0; f*per < len(ds.Accounts) || f == 0; f++ {
		part := sandbox.Dataset{Accounts: ds.Accounts[f*per : min((f+1)*per, len(ds.Accounts))]}
		if f == 0 {
			part.Applications = ds.Applications
		}
		for _, a := range part.Accounts {
			for _, id := range a.VehicleIDs {
				part.Vehicles = append(part.Vehicles, byID[id])
			}
		}
		data, err := fixtures.Marshal(part)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("generated-%02d.yaml", f)), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// mirrorToken signs, with key, a token carrying the same grant as the sandbox's token raw, so
// the baseline verifies a token of the same size and shape.
func mirrorToken(key []byte, raw string) (string, error) {
	var c token.Claims
	if _, _, err := jwt.NewParser().ParseUnverified(raw, &c); err != nil {
		return "", fmt.Errorf("reading the sandbox's token: %w", err)
	}
	iss, err := token.NewIssuer(key, nil)
	if err != nil {
		return "", err
	}
	t, _, err := iss.IssueVehicle(token.VehicleGrant{ClientID: c.ClientID, UserID: c.Subject, VehicleIDs: c.VehicleIDs, Permissions: c.Permissions, Mode: c.Mode, Authorization: c.Authorization})
	return t, err
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return ds[len(ds)/2]
}

// Machine describes where the run happened, for the report.
func Machine() string {
	model := "unknown CPU"
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(raw), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	return fmt.Sprintf("%d CPUs (%s), %s %s/%s", runtime.NumCPU(), model, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

// Write prints the report as a Markdown table.
func (r *Report) Write(w io.Writer) {
	o := r.Opts
	fmt.Fprintf(w, "Machine: %s; load tool on the same machine.\n", Machine())
	fmt.Fprintf(w, "Each load phase: %v after %v warm-up (the read: 5 alternating rounds against sandbox and baseline); %d connections (flows: %d concurrent people).\n\n", o.Duration, o.Warmup, o.Concurrency, o.FlowConcurrency)
	fmt.Fprintln(w, "| measurement | result | p50 | p99 | server CPU per op | errors | target |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	row := func(name string, res *Result, unit, target string) {
		fmt.Fprintf(w, "| %s | %.0f %s | %s | %s | %.0f µs | %d | %s |\n", name, res.PerSecond(), unit, ms(res.Latency.Quantile(0.5)), ms(res.Latency.Quantile(0.99)), res.CPUPerOp(), res.Errors, target)
	}
	ratio := r.Read.PerSecond() / r.Baseline.PerSecond()
	cpuRatio := r.Baseline.CPUPerOp() / r.Read.CPUPerOp()
	row("GET /v2.0/vehicles/{id}/odometer, sandbox", r.Read, "req/s", "")
	row("same, baseline (net/http + same JWT verify)", r.Baseline, "req/s", "")
	fmt.Fprintf(w, "| sandbox / baseline, throughput | %.0f %% | | | | | ≥ 70 %%: %s |\n", 100*ratio, verdict(ratio >= 0.70))
	fmt.Fprintf(w, "| sandbox / baseline, requests per server CPU second | %.0f %% | | | | | ≥ 70 %%: %s |\n", 100*cpuRatio, verdict(cpuRatio >= 0.70))
	row("POST batch, 5 paths", r.Batch, "req/s", "")
	row("full Connect flow: authorize, 5–6 pages, token, first API call", r.Flows, "flows/s", "≥ 1,000/s: "+verdict(r.Flows.PerSecond() >= 1000))
	row("POST /oauth/token, refresh grant", r.Refresh, "req/s", "")
	startRow := func(name string, ds []time.Duration, target string) {
		fmt.Fprintf(w, "| %s | median %s (min %s, max %s, %d runs) | | | | | %s |\n", name, ms(median(ds)), ms(ds[0]), ms(ds[len(ds)-1]), len(ds), target)
	}
	startRow("start-up to first /healthz 200, default fixtures", r.StartDefault, "")
	startRow(fmt.Sprintf("start-up to first /healthz 200, %d generated vehicles in 10 files", o.Vehicles), r.StartGenerated,
		"< 100 ms: "+verdict(median(r.StartGenerated) < 100*time.Millisecond))
	startRow(fmt.Sprintf("same %d vehicles in 1 file", o.Vehicles), r.StartOneFile, "(for comparison)")
	fmt.Fprintf(w, "| RSS after start, default fixtures / %d vehicles (median) | %s / %s | | | | | |\n", o.Vehicles, mb(r.RSSStartDefault), mb(r.RSSStartGenerated))
	var phases []string
	for _, p := range r.RSSByPhase {
		phases = append(phases, p.Phase+" "+mb(p.RSS))
	}
	fmt.Fprintf(w, "| RSS of the loaded sandbox after each phase | %s | | | | | |\n", strings.Join(phases, ", "))
	fmt.Fprintf(w, "| RSS of the loaded sandbox: after start / after all phases | %s / %s | | | | | < 40 MB after load: %s |\n",
		mb(r.RSSAfterStart), mb(r.RSSAfterLoad), verdict(r.RSSAfterLoad < 40<<20))
}
