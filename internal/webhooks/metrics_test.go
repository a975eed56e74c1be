package webhooks_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/server"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/webhooks"
)

// TestOnRecordFeedsTheMetrics: every attempt the delivery log records reaches OnRecord, and so
// GET /metrics' webhook_deliveries_total (the app wires OnRecord to Metrics.WebhookDelivery).
func TestOnRecordFeedsTheMetrics(t *testing.T) {
	m := server.NewMetrics()
	e := start(t, sandbox.Webhook{Signals: []string{"closure-islocked"}}, webhooks.Options{MaxAttempts: 3, OnRecord: m.WebhookDelivery})
	e.recv.failNext = 1 // the first state delivery fails once, then gets through
	e.subscribe(t, ford)
	e.recv.wait(3)
	waitLog(t, e.svc, 3)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{
		`smartcar_sandbox_webhook_deliveries_total{event_type="VERIFY",outcome="verified"} 1`,
		`smartcar_sandbox_webhook_deliveries_total{event_type="VEHICLE_STATE",outcome="retrying"} 1`,
		`smartcar_sandbox_webhook_deliveries_total{event_type="VEHICLE_STATE",outcome="delivered"} 1`,
	} {
		if !strings.Contains(rec.Body.String(), want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
