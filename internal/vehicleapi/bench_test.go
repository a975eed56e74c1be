package vehicleapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/faults"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/requestlog"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/server"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/vehicleapi"
)

// BenchmarkOdometer is a full authenticated read through the real router (middleware, token
// verification, grant check, render), in process via httptest.
func BenchmarkOdometer(b *testing.B) {
	h := sandboxtest.MustStart(b)
	tok, _ := h.Connect(b, sandboxtest.ClientID, sandboxtest.DemoUser, "read_odometer")
	handler, err := server.New(server.Deps{Store: h.Store, Tokens: h.Tokens, Origin: h.URL, Now: h.Clock.Now})
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/v2.0/vehicles/"+teslaID+"/odometer", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

// BenchmarkRenderSecurity measures JSON rendering of the largest signal body.
func BenchmarkRenderSecurity(b *testing.B) {
	h := sandboxtest.MustStart(b)
	v, _ := h.Store.Vehicle(teslaID)
	s := v.State.Security
	body := vehicleapi.SecurityStatus{IsLocked: s.IsLocked(), Doors: s.Doors, Windows: s.Windows, Sunroof: s.Sunroof, Storage: s.Storage, ChargingPort: s.ChargingPort}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOdometerDefaults is BenchmarkOdometer with the wiring the binary runs by default:
// the request log (1,000 entries), the fault middleware (no rules, header on), the admin API
// and the access line through slog on the buffered log writer, so the allocations counted here
// are the ones make bench pays.
func BenchmarkOdometerDefaults(b *testing.B) {
	h := sandboxtest.MustStart(b)
	tok, _ := h.Connect(b, sandboxtest.ClientID, sandboxtest.DemoUser, "read_odometer")
	logs := server.NewLogWriter(io.Discard)
	defer logs.Close()
	handler, err := server.New(server.Deps{Store: h.Store, Tokens: h.Tokens, Origin: h.URL, Now: h.Clock.Now, Logger: server.NewLogger(logs, "text"),
		Control: &server.Control{AdminToken: "bench", Faults: faults.NewSet(), FaultHeader: true, Requests: requestlog.New(1000, h.Clock.Now)}})
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/v2.0/vehicles/"+teslaID+"/odometer", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
