// Command sandbox-bench measures the sandbox on loopback: it builds and starts the real
// smartcar-sandbox binary, loads it (vehicle reads, batch, token refresh, full Connect flows),
// compares the read with a minimal baseline server, times start-up and reads resident
// memory, measures state-changing requests in memory, with -data-dir (fresh and with
// -durable-users signed-in users) and with -store on PostgreSQL (-pg, or a throwaway cluster
// it starts itself), and prints Markdown tables (see BENCHMARKS.md). Run it from the module root:
//
//	go run ./cmd/sandbox-bench            (or: make bench)
//
// With -serve-baseline it is the baseline server instead: it listens on 127.0.0.1:0, prints
// its origin and verifies tokens signed with the hex key in SANDBOX_BENCH_KEY.
package main

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/bench"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store/pgtest"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/token"
)

const keyEnv = "SANDBOX_BENCH_KEY"

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "sandbox-bench: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	o := bench.Options{Progress: os.Stderr}
	fs := flag.NewFlagSet("sandbox-bench", flag.ContinueOnError)
	fs.IntVar(&o.Concurrency, "c", 64, "connections for the read, batch and refresh phases")
	fs.IntVar(&o.FlowConcurrency, "flow-c", 64, "concurrent people going through Connect")
	fs.DurationVar(&o.Duration, "d", 5*time.Second, "duration of each measured phase")
	fs.Int64Var(&o.MaxOps, "n", 0, "bound each measured phase to this many operations (0: only -d)")
	fs.DurationVar(&o.Warmup, "warmup", time.Second, "unmeasured load before each phase")
	fs.IntVar(&o.StartupRuns, "startups", 5, "start-ups measured per fixture set")
	fs.IntVar(&o.Vehicles, "vehicles", 1000, "vehicles in the generated fixture set")
	sandboxBin := fs.String("sandbox", "", "smartcar-sandbox binary to measure (default: go build ./cmd/smartcar-sandbox into a temp dir)")
	phones := fs.String("workshop", "100,300", "workshop phase: phone counts to play, comma-separated, each in memory and with -data-dir (empty: skip the phase)")
	workshopOnly := fs.Bool("workshop-only", false, "run only the workshop phase")
	w := bench.WorkshopOptions{Progress: os.Stderr}
	fs.DurationVar(&w.Ramp, "workshop-ramp", 30*time.Second, "workshop phase: the phones' starts are spread over this long")
	fs.IntVar(&w.Polls, "workshop-polls", 15, "workshop phase: /vehicle requests per phone after connecting")
	fs.DurationVar(&w.PollEvery, "workshop-every", 2*time.Second, "workshop phase: time between a phone's /vehicle requests")
	durableUsers := fs.Int("durable-users", 10000, "signed-in users in the big database of the -data-dir phase (negative: skip the -data-dir phase)")
	pgURL := fs.String("pg", "", "an empty PostgreSQL database (postgres://...) to measure -store on too; by default a throwaway cluster when PostgreSQL's binaries are installed (see internal/store/pgtest); none: skip")
	durableOnly := fs.Bool("durable-only", false, "run only the in-memory vs -data-dir phase of state-changing requests")
	serveBaseline := fs.Bool("serve-baseline", false, "internal: be the baseline server")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *serveBaseline {
		return baseline()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	dir, err := os.MkdirTemp("", "sandbox-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	o.WorkDir = dir
	o.Sandbox = *sandboxBin
	if o.Sandbox == "" {
		fmt.Fprintln(os.Stderr, "building ./cmd/smartcar-sandbox ...")
		if o.Sandbox, err = bench.BuildSandbox(ctx, dir); err != nil {
			return err
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	o.StartBaseline = func(ctx context.Context, key []byte) (*bench.Proc, error) {
		env := append(bench.CleanEnv(), keyEnv+"="+hex.EncodeToString(key))
		return bench.StartProc(ctx, self, []string{"-serve-baseline"}, env, dir, false)
	}
	counts, err := phoneCounts(*phones)
	if err != nil {
		return err
	}
	// -workshop-only and -durable-only each run their phase alone.
	only := *workshopOnly || *durableOnly
	var rep *bench.Report
	if !only {
		if rep, err = bench.RunAll(ctx, o); err != nil {
			return err
		}
	}
	var durable []bench.DurableRow
	if *durableUsers >= 0 && !*workshopOnly {
		users := []int{0}
		if *durableUsers > 0 {
			users = append(users, *durableUsers)
		}
		pg, stopPG, err := postgresFor(*pgURL)
		if err != nil {
			return err
		}
		defer stopPG()
		if durable, err = bench.RunDurable(ctx, o, users, pg); err != nil {
			return err
		}
	}
	var runs []*bench.WorkshopResult
	if len(counts) > 0 && !*durableOnly {
		w.WorkDir, w.Sandbox = dir, o.Sandbox
		fmt.Fprintln(os.Stderr, "building ./cmd/tutorial-backend ...")
		if w.Backend, err = bench.Build(ctx, dir, "tutorial-backend"); err != nil {
			return err
		}
		for _, n := range counts {
			for _, persist := range []bool{false, true} {
				w.Phones, w.Persist = n, persist
				r, err := bench.RunWorkshop(ctx, w)
				if err != nil {
					return err
				}
				runs = append(runs, r)
			}
		}
	}
	fmt.Println()
	if rep != nil {
		rep.Write(os.Stdout)
		fmt.Println()
	}
	if durable != nil {
		bench.WriteDurable(os.Stdout, o, durable)
		fmt.Println()
	}
	bench.WriteWorkshop(os.Stdout, runs)
	return nil
}

// postgresFor is the database the durable phase measures -store on: -pg's; without -pg, an
// empty database in a throwaway cluster (pgtest's, with PostgreSQL's default durability) when
// PostgreSQL's binaries are installed, else none; -pg none skips the phase. stop removes the
// cluster.
func postgresFor(pg string) (url string, stop func(), err error) {
	none := func() {}
	switch {
	case pg == "none":
		return "", none, nil
	case pg != "":
		return pg, none, nil
	}
	if err := pgtest.Installed(); err != nil {
		fmt.Fprintf(os.Stderr, "no -store phase: %v\n", err)
		return "", none, nil
	}
	fmt.Fprintln(os.Stderr, "starting a throwaway PostgreSQL cluster ...")
	c, err := pgtest.Start(true)
	if err != nil {
		return "", none, fmt.Errorf("starting PostgreSQL for the -store phase (-pg URL to use another, -pg none to skip): %w", err)
	}
	if url, err = c.NewDatabase(); err != nil {
		c.Stop()
		return "", none, err
	}
	return url, c.Stop, nil
}

// phoneCounts parses -workshop ("100,300"; "" for none).
func phoneCounts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-workshop: %q is not a number of phones", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// baseline serves bench.BaselineHandler until interrupted.
func baseline() error {
	key, err := hex.DecodeString(os.Getenv(keyEnv))
	if err != nil {
		return fmt.Errorf("%s: %v", keyEnv, err)
	}
	iss, err := token.NewIssuer(key, nil)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("baseline listening on http://%s\n", ln.Addr())
	srv := &http.Server{Handler: bench.BaselineHandler(iss), ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
