package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/app"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/config"
)

// TestProfile is how the fixes in BENCHMARKS.md were found: it runs one phase against a
// sandbox started in this process (logging to a file, as the real binary logs to stderr)
// and writes a CPU profile of both, and a heap profile of what is left alive after it. Skipped unless BENCH_PROFILE names the phase:
//
//	BENCH_PROFILE=read go test -run TestProfile ./internal/bench   (read, batch, refresh, lock, flows)
//
// BENCH_DATA_DIR=1 runs the sandbox with -data-dir on a fresh database (the durable phase's
// state-changing requests: refresh, lock).
//
// BENCH_PROFILE=startup profiles the sandbox's start with -data-dir on a database of 10,000
// signed-in users (see SeedUsers; BENCH_STARTUP_DB=DIR reads a copy of DIR/sandbox.db
// instead of seeding one), from app.Start to the first 200 from /healthz.
//
//	go tool pprof -top -cum /tmp/bench-read.cpu
//	go tool pprof -sample_index=inuse_space -top /tmp/bench-read.heap
func TestProfile(t *testing.T) {
	phase := os.Getenv("BENCH_PROFILE")
	if phase == "" {
		t.Skip("set BENCH_PROFILE=read|batch|refresh|flows|startup to profile a phase")
	}
	if phase == "startup" {
		profileStartup(t)
		return
	}
	logf, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	// The binary's defaults (request log, admin API, simulator), so the profile shows what
	// make bench measures.
	args := []string{"-addr", "127.0.0.1:0", "-log-format", "text"}
	if os.Getenv("BENCH_DATA_DIR") != "" {
		args = append(args, "-data-dir", t.TempDir())
	}
	cfg, err := config.Parse(args, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Start(cfg, logf)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Shutdown(context.Background())
	ctx := context.Background()
	c := &Client{Base: a.Origin, HTTP: NewClient(64), App: DemoApp, Scope: durableScope}
	tok, err := c.Flow(ctx, DemoUser)
	if err != nil {
		t.Fatal(err)
	}
	var op Op
	switch phase {
	case "read":
		op = c.Read("/v2.0/vehicles/"+tok.VehicleID+"/odometer", tok.Access)
	case "batch":
		op = c.Batch(tok.VehicleID, tok.Access)
	case "refresh":
		chains := make([]string, 64)
		for i := range chains {
			tk, err := c.Flow(ctx, DemoUser)
			if err != nil {
				t.Fatal(err)
			}
			chains[i] = tk.Refresh
		}
		op = func(ctx context.Context, w int) error {
			tk, err := c.Refresh(ctx, chains[w])
			chains[w] = tk.Refresh
			return err
		}
	case "lock":
		op = c.Lock(tok.VehicleID, tok.Access)
	case "flows":
		op = func(ctx context.Context, w int) error {
			_, err := c.Flow(ctx, fmt.Sprintf("bench-user-%d@sandbox.test", w))
			return err
		}
	default:
		t.Fatalf("unknown phase %q", phase)
	}
	out, err := os.Create("/tmp/bench-" + phase + ".cpu")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if err := pprof.StartCPUProfile(out); err != nil {
		t.Fatal(err)
	}
	r, err := Run(ctx, Load{Concurrency: 64, Duration: 5 * time.Second}, op)
	pprof.StopCPUProfile()
	if err != nil {
		t.Fatal(err)
	}
	heap, err := os.Create("/tmp/bench-" + phase + ".heap")
	if err != nil {
		t.Fatal(err)
	}
	defer heap.Close()
	runtime.GC() // the heap profile then shows what the phase left alive
	if err := pprof.WriteHeapProfile(heap); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %.0f/s, p50 %v, p99 %v, %d errors (%v)", phase, r.PerSecond(), r.Latency.Quantile(0.5), r.Latency.Quantile(0.99), r.Errors, r.FirstErr)
}

func profileStartup(t *testing.T) {
	dir := t.TempDir()
	if src := os.Getenv("BENCH_STARTUP_DB"); src != "" {
		b, err := os.ReadFile(filepath.Join(src, "sandbox.db"))
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, "sandbox.db"), b, 0o600)
		}
		if err != nil {
			t.Fatal(err)
		}
	} else if err := SeedUsers(dir, 10000); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse([]string{"-addr", "127.0.0.1:0", "-log-format", "text", "-data-dir", dir}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create("/tmp/bench-startup.cpu")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	runtime.GC() // the seeding's garbage is not the start's
	if err := pprof.StartCPUProfile(out); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	a, err := app.Start(cfg, io.Discard)
	if err == nil {
		err = waitHealthy(context.Background(), a.Origin+"/healthz", 15*time.Second)
	}
	took := time.Since(t0)
	pprof.StopCPUProfile()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Shutdown(context.Background())
	t.Logf("startup: %v to the first 200 from /healthz", took)
}
