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
	"syscall"
	"time"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/app"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/config"
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
