package server

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/mux"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
)

// BenchmarkRouteOdometer measures only the router's match of the hottest API path.
func BenchmarkRouteOdometer(b *testing.B) {
	r := mux.NewRouter()
	st, err := store.New(sandbox.Dataset{}, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	mount(r, Deps{Store: st, Now: time.Now, Logger: slog.New(slog.DiscardHandler)})
	req := httptest.NewRequest(http.MethodGet, "/v2.0/vehicles/0b7c6a4e-1f2a-4c3b-9d8e-7f6a5b4c3d2e/odometer", nil)
	b.ReportAllocs()
	for b.Loop() {
		var m mux.RouteMatch
		if !r.Match(req, &m) || m.MatchErr != nil {
			b.Fatal("no match")
		}
	}
}
