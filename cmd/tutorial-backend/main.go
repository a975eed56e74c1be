// Command tutorial-backend is the backend of Smartcar's getting-started tutorial apps (GET /login,
// /exchange, /vehicle), pointed at the real Smartcar or at smartcar-sandbox through the standard
// SMARTCAR_* environment variables.
//
//	SMARTCAR_CLIENT_ID=… SMARTCAR_CLIENT_SECRET=… SMARTCAR_REDIRECT_URI=http://127.0.0.1:8000/exchange \
//	SMARTCAR_API_ORIGIN=http://127.0.0.1:4000 SMARTCAR_AUTH_ORIGIN=http://127.0.0.1:4000 tutorial-backend
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/smartcar-sandbox/smartcar-sandbox/client"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/qrterm"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/tutorial"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "tutorial-backend:", err)
		os.Exit(1)
	}
}

// run is main without the process: it parses args, validates the configuration (reporting every
// problem at once), serves until ctx ends, then shuts down gracefully.
func run(ctx context.Context, args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) error {
	defAddr := "127.0.0.1:8000"
	if v, ok := lookup("TUTORIAL_ADDR"); ok && v != "" {
		defAddr = v
	}
	fs := flag.NewFlagSet("tutorial-backend", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", defAddr, "listen address (env TUTORIAL_ADDR); port 0 picks a free port")
	mode := fs.String("mode", "test", "Connect mode: live, test or simulated")
	scope := fs.String("scope", "required:read_vehicle_info", "space-separated permissions for Connect")
	defDataDir, _ := lookup("TUTORIAL_DATA_DIR")
	dataDir := fs.String("data-dir", defDataDir, "keep sessions in this folder, so phones stay connected across restarts (env TUTORIAL_DATA_DIR); empty: in memory")
	qr := fs.String("qr", "", "print this URL as a QR code for a phone's camera, and exit (make demo's banner)")
	webOrigins, _ := lookup("TUTORIAL_WEB_ORIGINS")
	webOrigin := fs.String("web-origins", webOrigins, "comma-separated origins of web front-ends that call /exchange and /vehicle with the session cookie, e.g. http://localhost:3000 (env TUTORIAL_WEB_ORIGINS; docs/web.md)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if *qr != "" {
		return qrterm.Write(stdout, *qr)
	}

	cfg := client.Config{}.WithEnv(lookup)
	var problems []string
	for _, req := range []struct{ name, val string }{
		{client.EnvClientID, cfg.ClientID}, {client.EnvClientSecret, cfg.ClientSecret}, {client.EnvRedirectURI, cfg.RedirectURI},
	} {
		if req.val == "" {
			problems = append(problems, req.name+" is not set")
		}
	}
	cfg.Mode = client.Mode(*mode)
	// One connection pool for the whole room (see tutorial.NewTransport).
	cfg.HTTPClient = &http.Client{Transport: tutorial.NewTransport(tutorial.RoomIdleConns)}
	c, err := client.New(cfg)
	if err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return errors.New("invalid configuration:\n  " + strings.Join(problems, "\n  "))
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	var origins []string
	for o := range strings.SplitSeq(*webOrigin, ",") {
		if o = strings.TrimSpace(o); o != "" {
			origins = append(origins, strings.TrimSuffix(o, "/"))
		}
	}
	h, err := tutorial.NewHandler(tutorial.Config{Client: c, Scope: strings.Fields(*scope), Mode: cfg.Mode, Logger: logger, DataDir: *dataDir, WebOrigins: origins})
	if err != nil {
		return fmt.Errorf("invalid configuration: %w", err)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	eff := c.Config()
	fmt.Fprintf(stdout, "tutorial-backend listening on http://%s (auth %s, api %s, connect %s)\n",
		ln.Addr(), eff.AuthOrigin, eff.APIOrigin, eff.ConnectOrigin)
	if *dataDir != "" {
		fmt.Fprintf(stdout, "sessions kept in %s (%d loaded)\n", *dataDir, h.Sessions())
	} else {
		fmt.Fprintln(stdout, "sessions kept in memory: a restart disconnects every phone (use -data-dir to keep them)")
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	fmt.Fprintln(stdout, "tutorial-backend stopped")
	return nil
}
