// Command sandbox-bench measures the sandbox on loopback: it builds and starts the real
// smartcar-sandbox binary, loads it (vehicle reads, batch, token refresh, full Connect flows),
// compares the read with a minimal baseline server, times start-up and reads resident
// memory, measures state-changing requests in memory and with -data-dir (fresh and with
// -durable-users signed-in users), and prints Markdown tables (see BENCHMARKS.md). Run it from the module root:
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
	"time"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/bench"
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
	durableUsers := fs.Int("durable-users", 10000, "signed-in users in the big database of the -data-dir phase (negative: skip the -data-dir phase)")
	pgURL := fs.String("pg", "", "an empty PostgreSQL database (postgres://...) to measure -store on too")
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
	var rep *bench.Report
	if !*durableOnly {
		if rep, err = bench.RunAll(ctx, o); err != nil {
			return err
		}
	}
	var durable []bench.DurableRow
	if *durableUsers >= 0 {
		users := []int{0}
		if *durableUsers > 0 {
			users = append(users, *durableUsers)
		}
		if durable, err = bench.RunDurable(ctx, o, users, *pgURL); err != nil {
			return err
		}
	}
	fmt.Println()
	if rep != nil {
		rep.Write(os.Stdout)
	}
	if durable != nil {
		bench.WriteDurable(os.Stdout, o, durable)
	}
	return nil
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
