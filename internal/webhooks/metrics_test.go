package webhooks_test

import (
	"strings"
	"testing"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
)

// TestOnRecordFeedsTheMetrics: every attempt the delivery log records reaches OnRecord, and so
// GET /metrics' webhook_deliveries_total (the app wires OnRecord to Metrics.WebhookDelivery).
func TestOnRecordFeedsTheMetrics(t *testing.T) {
	e := start(t, sandbox.Webhook{Signals: []string{"closure-islocked"}}, "-webhook-attempts=3")
	e.recv.failNext = 1 // the first state delivery fails once, then gets through
	e.subscribe(t, ford)
	e.recv.wait(3)
	waitLog(t, e.svc, 3)
	res := e.h.Do(t, "GET", "/metrics", "", nil)
	for _, want := range []string{
		`smartcar_sandbox_webhook_deliveries_total{event_type="VERIFY",outcome="verified"} 1`,
		`smartcar_sandbox_webhook_deliveries_total{event_type="VEHICLE_STATE",outcome="retrying"} 1`,
		`smartcar_sandbox_webhook_deliveries_total{event_type="VEHICLE_STATE",outcome="delivered"} 1`,
	} {
		if !strings.Contains(string(res.Body), want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
