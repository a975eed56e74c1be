// Command smartcar-sandbox runs a local, offline stand-in for the Smartcar platform.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
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
	a, err := app.Start(cfg, os.Stderr)
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
