package config

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestSimulationAndWebhookSettings(t *testing.T) {
	c, err := Parse(nil, envOf(nil), io.Discard)
	if err != nil || c.SimSpeedup != 60 || c.SimSeed != 1 || c.WebhookAttempts != 5 || c.WebhookRetryBase != 2*time.Second {
		t.Fatalf("defaults = %+v, %v", c, err)
	}
	c, err = Parse([]string{"-sim-seed", "7"}, envOf(map[string]string{"SANDBOX_SIM_SPEEDUP": "120", "SANDBOX_SIM_SEED": "3",
		"SANDBOX_WEBHOOK_ATTEMPTS": "2", "SANDBOX_WEBHOOK_RETRY_BASE": "50ms"}), io.Discard)
	if err != nil || c.SimSpeedup != 120 || c.SimSeed != 7 || c.WebhookAttempts != 2 || c.WebhookRetryBase != 50*time.Millisecond {
		t.Fatalf("env and flags = %+v, %v", c, err)
	}
	// Every bad value is reported at once, naming its variable.
	_, err = Parse(nil, envOf(map[string]string{"SANDBOX_SIM_SPEEDUP": "fast", "SANDBOX_SIM_SEED": "x",
		"SANDBOX_WEBHOOK_ATTEMPTS": "0", "SANDBOX_WEBHOOK_RETRY_BASE": "soon"}), io.Discard)
	if err == nil {
		t.Fatal("bad settings accepted")
	}
	for _, want := range []string{"SANDBOX_SIM_SPEEDUP", "SANDBOX_SIM_SEED", "SANDBOX_WEBHOOK_ATTEMPTS", "SANDBOX_WEBHOOK_RETRY_BASE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s:\n%v", want, err)
		}
	}
}
