package server

import (
	"net/http"
	"net/http/httptest"
	"testing"

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
	if err := mount(r, withDefaults(Deps{Store: st})); err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/v2.0/vehicles/0b7c6a4e-1f2a-4c3b-9d8e-7f6a5b4c3d2e/odometer", nil)
	b.ReportAllocs()
	for b.Loop() {
		var m mux.RouteMatch
		if !r.Match(req, &m) || m.MatchErr != nil {
			b.Fatal("no match")
		}
	}
}
