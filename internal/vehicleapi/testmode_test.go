package vehicleapi_test

import (
	"net/http"
	"testing"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
)

// TestTestModeCarsTakeEveryCommand: as in Smartcar's test mode, a made-up car (a username no
// fixture names) takes START charge even unplugged, and the next read shows it; a fixture car
// that is unplugged keeps refusing, since its author set that state on purpose.
func TestTestModeCarsTakeEveryCommand(t *testing.T) {
	h := sandboxtest.MustStart(t)
	// Find a made-up car with a charge port, unplugged: the brand picks a plug-in model.
	_, shared, err := h.Store.SignIn("testmode-commands@example.com", "KIA")
	if err != nil || len(shared) != 1 || shared[0].State.Charge == nil {
		t.Fatalf("SignIn under KIA: %+v, %v", shared, err)
	}
	v := shared[0]
	if _, err := h.Store.UpdateVehicle(v.ID, func(sv *sandbox.Vehicle) error {
		sv.State.Charge.IsPluggedIn = false
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	tok, _ := h.Connect(t, sandboxtest.ClientID, "testmode-commands@example.com", "control_charge", "read_charge")

	for _, action := range []string{"STOP", "START"} {
		res := h.Do(t, "POST", "/v2.0/vehicles/"+v.ID+"/charge", tok, map[string]any{"action": action})
		if res.Status != http.StatusOK {
			t.Fatalf("%s charge on an unplugged test-mode car = %d %s, want 200", action, res.Status, res.Body)
		}
	}
	var charge struct {
		IsPluggedIn bool   `json:"isPluggedIn"`
		State       string `json:"state"`
	}
	h.Do(t, "GET", "/v2.0/vehicles/"+v.ID+"/charge", tok, nil).JSON(t, &charge)
	if !charge.IsPluggedIn || charge.State == "NOT_CHARGING" {
		t.Errorf("after START the test-mode car reads %+v, want plugged in and charging", charge)
	}

	demoTok, _ := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, "control_charge")
	res := h.Do(t, "POST", "/v2.0/vehicles/"+rav4ID+"/charge", demoTok, map[string]any{"action": "START"})
	if res.Status != http.StatusConflict {
		t.Errorf("START on the unplugged fixture RAV4 = %d %s, want 409 VEHICLE_STATE", res.Status, res.Body)
	}
}
