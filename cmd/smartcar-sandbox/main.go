// Command smartcar-sandbox runs a local, offline stand-in for the Smartcar platform.
package main

import (
	"context"
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
)

func main() {
	cfg, err := config.Parse(os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "smartcar-sandbox: configuration problems:\n%v\n", err)
		os.Exit(2)
	}
	if cfg.Healthcheck {
		if err := app.Probe(cfg.Origin(cfg.Addr), 2*time.Second); err != nil {
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
	// setting is process-wide and tests start many apps at once. The memory limit keeps a huge
	// fixture folder safe: with the collector off, Go still collects when the heap nears it.
	gcPercent := debug.SetGCPercent(-1)
	memLimit := debug.SetMemoryLimit(256 << 20)
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
