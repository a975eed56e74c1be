package server

import (
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkMetricsObserve is what metrics add to one routed request: the route's counter for
// its status, its latency histogram and the fault-header check.
func BenchmarkMetricsObserve(b *testing.B) {
	m := NewMetrics()
	rm := m.newRouteMetrics("v2", "/v2.0/vehicles/{id}/odometer", "GET")
	rec := &statusRecorder{ResponseWriter: httptest.NewRecorder(), route: rm}
	rec.WriteHeader(200)
	b.ReportAllocs()
	for b.Loop() {
		m.observe(rec, "/v2.0/vehicles/x/odometer", 40*time.Microsecond)
	}
}
