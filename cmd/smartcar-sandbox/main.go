// Command smartcar-sandbox runs a local, offline stand-in for the Smartcar platform.
package main

import (
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/app"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/config"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/fixtures"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "init":
			if err := runInit(os.Args[2:], os.Stdout); !errors.Is(err, flag.ErrHelp) {
				exitOnError(err)
			}
			return
		case "ca":
			if err := runCA(os.Args[2:], os.Getenv, os.Stdout); !errors.Is(err, flag.ErrHelp) {
				exitOnError(err)
			}
			return
		}
	}
	cfg, err := config.Parse(os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "smartcar-sandbox: configuration problems:\n%v\n", err)
		os.Exit(2)
	}
	if cfg.Healthcheck {
		var roots *x509.CertPool
		if cfg.TLS {
			dir, err := app.CADir(cfg)
			exitOnError(err)
			ca, _, err := app.LoadOrCreateCA(dir)
			exitOnError(err)
			roots = ca.CertPool()
		}
		// The listener itself, not -public-url: inside a container the public host may not
		// route back, and the probe asks this process.
		local := config.Config{TLS: cfg.TLS}
		if err := app.Probe(local.Origin(cfg.Addr), 2*time.Second, roots); err != nil {
			fmt.Fprintf(os.Stderr, "smartcar-sandbox: unhealthy: %v\n", err)
			os.Exit(1)
		}
		return
	}
	// No collection while the fixtures load: a big set is parsed into YAML node trees that are
	// garbage a moment later (1,000 vehicles: ~44 MB allocated for ~3 MB kept), and with the
	// collector on, the heap goal starts at 4 MB and doubles cycle after cycle through the
	// load, stealing a core from the parallel parse (~25 % of start-up in make bench). One
	// collection after start-up frees it all instead. Done here, not in app.Start, because the
	// setting is process-wide and tests start many apps at once. The memory limit keeps a big
	// fixture folder safe: with the collector off, Go still collects when the heap nears it.
	gcPercent := debug.SetGCPercent(-1)
	memLimit := debug.SetMemoryLimit(startMemoryLimit(cfg))
	a, err := app.Start(cfg, os.Stderr)
	debug.SetMemoryLimit(memLimit)
	debug.SetGCPercent(gcPercent)
	if err != nil {
		fmt.Fprintf(os.Stderr, "smartcar-sandbox: not started:\n%v\n", err)
		os.Exit(1)
	}
	a.Banner(os.Stdout)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case <-ctx.Done():
	case err := <-a.Done():
		fmt.Fprintf(os.Stderr, "smartcar-sandbox: server stopped: %v\n", err)
		os.Exit(1)
	}
	// In-flight requests get up to 5 s to finish; new connections are refused at once.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.Shutdown(shutdownCtx); err != nil {
		fmt.Fprintf(os.Stderr, "smartcar-sandbox: shutdown: %v\n", err)
		os.Exit(1)
	}
}

// baseMemoryLimit is the start-up memory limit for fixture folders that need less.
const baseMemoryLimit = 256 << 20

// startMemoryLimit is the memory limit while the fixtures load with the collector off. It
// must stay above what the load holds at once (fixtures.Measure): below it the collector
// runs back to back at the limit and the start crawls (one 33 MB file: 33 s and 850 MB,
// instead of seconds). A folder the size limit refuses is never parsed, so it needs nothing.
func startMemoryLimit(cfg config.Config) int64 {
	if cfg.FixturesDir == "" {
		return baseMemoryLimit
	}
	fp, err := fixtures.Measure(cfg.FixturesDir)
	if err != nil || fp.Bytes > cfg.FixtureOptions().Limit() {
		return baseMemoryLimit // the load reports the problem
	}
	return max(baseMemoryLimit, fp.PeakMemory+64<<20) // 64 MiB for the rest of the process
}
