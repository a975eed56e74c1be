package usermodule

import (
	"context"
	"testing"

	"github.com/smartcar-sandbox/smartcar-sandbox/client"
	"github.com/smartcar-sandbox/smartcar-sandbox/client/sandboxtest"
)

func TestOdometerAgainstSandbox(t *testing.T) {
	sb := sandboxtest.Start(t)
	tok := sb.Connect("someone@example.com", "read_odometer")
	c, err := client.New(sb.ClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	odo, err := c.Vehicle(tok.VehicleIDs[0], tok.AccessToken).Odometer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if odo.Distance <= 0 {
		t.Fatalf("odometer %v", odo.Distance)
	}
}
