package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/app"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/config"
)

// runCA is `smartcar-sandbox ca`: it makes the local CA when there is none yet and says where
// it is and how each kind of client comes to trust it.
func runCA(args []string, getenv func(string) string, out io.Writer) error {
	fs := flag.NewFlagSet("smartcar-sandbox ca", flag.ContinueOnError)
	fs.SetOutput(out)
	dataDir := fs.String("data-dir", getenv("SANDBOX_DATA_DIR"), "the -data-dir the sandbox runs with; empty: the user config folder (env SANDBOX_DATA_DIR)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	dir, err := app.CADir(config.Config{DataDir: *dataDir})
	if err != nil {
		return err
	}
	ca, created, err := app.LoadOrCreateCA(dir)
	if err != nil {
		return err
	}
	state := "kept in"
	if created {
		state = "created in"
	}
	p := ca.CertPath()
	fmt.Fprintf(out, `smartcar-sandbox local CA, %s %s
  certificate: %s (share this one; the key next to it stays here)
  %s, valid until %s

Start the sandbox with -tls (and the same -data-dir) to serve HTTPS with a certificate from this
CA for localhost, 127.0.0.1 and the -public-url host. Then trust the CA where the client runs:

  curl         curl --cacert %s https://127.0.0.1:8080/healthz
  Node         NODE_EXTRA_CA_CERTS=%s node app.js
  Go           SSL_CERT_FILE=%s go run . (Linux: replaces the system roots), or add it
               to tls.Config.RootCAs
  iOS Simulator
               xcrun simctl keychain booted add-root-cert %s
  iPhone       AirDrop or mail the certificate to the phone, install the profile (Settings >
               General > VPN & Device Management), then turn on full trust (Settings > General >
               About > Certificate Trust Settings). No App Transport Security exception needed.
  Android emulator
               adb push %s /sdcard/Download/ and install it (Settings > Security > Encryption &
               credentials > Install a certificate > CA certificate); a debug build trusts user
               CAs with <certificates src="user"/> in its network_security_config.xml.
`, state, dir, p, ca.Cert.Subject.CommonName, ca.Cert.NotAfter.Format("2006-01-02"), p, p, p, p, p)
	return nil
}

func exitOnError(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "smartcar-sandbox: %v\n", err)
		os.Exit(1)
	}
}
