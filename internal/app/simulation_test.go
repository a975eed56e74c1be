package app

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/config"
)

const simFixture = `applications:
  - client_id: sim-app
    client_secret: s
    redirect_uris: [simapp://cb]
    management_token: sim-amt
    webhooks:
      - id: 5b7c1f7e-0000-4000-8000-000000000009
        url: http://127.0.0.1:1/hooks
        signals: [%s]
accounts:
  - username: sim@sandbox.test
    vehicles:
      - id: 11111111-1111-4111-8111-111111111111
        make: TESLA
        model: Model 3
        year: 2022
        vin: 5YJ3E1EA9NF100001
        powertrain: BEV
        mode: simulated
        odometer_km: 100
        location: {latitude: 37.7749, longitude: -122.4194, heading: 90}
`

func writeSimFixture(t *testing.T, signal string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "sim.yaml"), []byte(strings.Replace(simFixture, "%s", signal, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestSimulatedFixtureVehicleDrivesOnItsOwn(t *testing.T) {
	// The first tick joins the vehicle (DRIVING from its fixture state); at 60× the next
	// ticks move it on by about a simulated minute each, so the odometer grows.
	a := MustStart(t, config.Config{FixturesDir: writeSimFixture(t, "odometer-traveleddistance"), SimSpeedup: 60, SimSeed: 3})
	const id = "11111111-1111-4111-8111-111111111111"
	deadline := time.Now().Add(5 * time.Second)
	for {
		v, _ := a.Store.Vehicle(id)
		if v.State.Trip.Stage == sandbox.TripDriving && v.State.OdometerKm > 100 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the simulated vehicle did not start driving: %+v", v.State.Trip)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if a.Webhooks == nil {
		t.Error("no webhook service")
	}
}

func TestUnknownWebhookSignalStopsTheStart(t *testing.T) {
	_, err := Start(config.Config{Addr: "127.0.0.1:0", LogFormat: "text", FixturesDir: writeSimFixture(t, "odometer-nope")}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `unknown signal "odometer-nope"`) {
		t.Errorf("err = %v, want the unknown signal named", err)
	}
}
