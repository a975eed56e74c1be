package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
)

// runInit is `smartcar-sandbox init [DIR]`: a starter project the sandbox starts on as written
// (DIR/fixtures: one application with a webhook, one account with two vehicles) and DIR/.env,
// which the tutorial backend, the SDKs and the client package read. Existing files are never
// overwritten.
func runInit(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("smartcar-sandbox init", flag.ContinueOnError)
	fs.SetOutput(out)
	origin := fs.String("origin", "http://127.0.0.1:8080", "the sandbox's origin written into .env")
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: smartcar-sandbox init [-origin URL] [DIR]\n\nWrites DIR/fixtures (applications.yaml, accounts.yaml) and DIR/.env; DIR defaults to the current folder.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return fmt.Errorf("init takes one folder, got %q", fs.Args())
	}
	dir := "."
	if fs.NArg() == 1 {
		dir = fs.Arg(0)
	}
	files := starterFiles(strings.TrimSuffix(*origin, "/"), sandbox.RandomToken(24), sandbox.RandomToken(24))
	var exist []string
	for _, f := range files {
		if _, err := os.Lstat(filepath.Join(dir, f.name)); err == nil {
			exist = append(exist, filepath.Join(dir, f.name))
		}
	}
	if len(exist) > 0 {
		return errors.New("init writes nothing over existing files; these are there already: " + strings.Join(exist, ", "))
	}
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(f.body), f.mode); err != nil {
			return err
		}
		fmt.Fprintf(out, "wrote %s\n", p)
	}
	fmt.Fprintf(out, `
Start the sandbox on it:      smartcar-sandbox -fixtures %s
Point your backend at it:     set -a; . %s; set +a   (the tutorial backend, the SDKs and client read these)
Sign in on Connect as driver@example.com (any password), or get tokens without pages:
  curl -H "Authorization: Bearer $SANDBOX_ADMIN_TOKEN" %s/admin/connect \
       -d '{"clientId":"my-app","username":"driver@example.com","scope":["read_vehicle_info","read_odometer"],"exchange":true}'
`, filepath.Join(dir, "fixtures"), filepath.Join(dir, ".env"), strings.TrimSuffix(*origin, "/"))
	return nil
}

type starterFile struct {
	name string
	mode os.FileMode
	body string
}

// starterFiles are init's files. The vehicle ids and VINs are fixed (valid check digits), the
// client secret and management token fresh for each project.
func starterFiles(origin, secret, mgmt string) []starterFile {
	return []starterFile{
		{"fixtures/applications.yaml", 0o644, `# Applications that may use Connect on this sandbox. Every field: docs/fixtures.md.
applications:
  - name: My App                      # shown on the Connect pages
    client_id: my-app                 # SMARTCAR_CLIENT_ID in ../.env
    client_secret: "` + secret + `"   # SMARTCAR_CLIENT_SECRET in ../.env
    redirect_uris:                    # Connect redirects only to these, matched exactly
      - myapp://exchange              # a mobile app's custom scheme
      - http://127.0.0.1:8000/exchange  # the tutorial backend (SMARTCAR_REDIRECT_URI in ../.env)
    management_token: "` + mgmt + `"   # the management API's token; it also signs webhooks
    webhooks:                         # docs/simulator-webhooks.md
      - id: 6f1d8c2a-3b4e-4f5a-9c6d-7e8f9a0b1c2d
        name: Odometer and location
        url: http://127.0.0.1:9000/webhooks   # your receiver; deliveries are logged at GET /admin/webhooks/deliveries
        events: [VEHICLE_STATE]
        signals: [odometer-traveleddistance, location-preciselocation]
        interval: 30s                 # at most one delivery per vehicle every 30 s
`},
		{"fixtures/accounts.yaml", 0o644, `# Car owners and their vehicles. Any password works on Connect's sign-in page; a username
# not listed here gets a made-up test-mode car of the brand picked. Every field: docs/fixtures.md.
accounts:
  - username: driver@example.com
    vehicles:
      - id: 3c1a7f0e-5b2d-4e8a-9f61-0a2b3c4d5e6f   # a UUID, unique
        make: TESLA
        model: Model 3
        year: 2022
        vin: 5YJ3E1EA9NF100001       # 17 characters with a valid check digit
        powertrain: BEV
        odometer_km: 12500
        location: {latitude: 52.5200, longitude: 13.4050, heading: 90}
        battery: {range_km: 320, percent_remaining: 0.72, capacity_kwh: 75}
        charge: {is_plugged_in: true, state: CHARGING, limit: 0.9}
      - id: 8d2e4f6a-1b3c-4d5e-8f70-1a2b3c4d5e6f
        make: FORD
        model: F-150
        year: 2021
        vin: 1FTFW1E59MFA00004
        powertrain: ICE
        mode: simulated              # drives a loop, parks and refuels: docs/simulator-webhooks.md
        odometer_km: 64210
        location: {latitude: 52.5163, longitude: 13.3777, heading: 180}
        fuel: {range_km: 540, percent_remaining: 0.6, amount_liters: 60}
`},
		{".env", 0o600, `# Read by the tutorial backend (cmd/tutorial-backend), Smartcar's SDKs and the client package:
# set -a; . ./.env; set +a. The application itself is in fixtures/applications.yaml; start the
# sandbox with -fixtures fixtures (not with this file sourced: SMARTCAR_CLIENT_ID there would
# register a copy of the application without its webhook).
SMARTCAR_CLIENT_ID=my-app
SMARTCAR_CLIENT_SECRET=` + secret + `
SMARTCAR_REDIRECT_URI=http://127.0.0.1:8000/exchange
SMARTCAR_API_ORIGIN=` + origin + `
SMARTCAR_AUTH_ORIGIN=` + origin + `
SMARTCAR_CONNECT_ORIGIN=` + origin + `
SMARTCAR_MANAGEMENT_API_ORIGIN=` + origin + `
SMARTCAR_MANAGEMENT_TOKEN=` + mgmt + `
`},
	}
}
