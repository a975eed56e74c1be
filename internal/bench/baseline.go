package bench

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/token"
)

// BaselineHandler is the floor the sandbox's vehicle read is compared with: net/http and the
// same JWT verification (token.Issuer.Verify, the sandbox's own code) answering
// GET /v2.0/vehicles/{id}/odometer, and nothing else: no router, middleware, store or log.
func BaselineHandler(tokens *token.Issuer) http.Handler {
	mux := http.NewServeMux()
	body, _ := json.Marshal(map[string]float64{"distance": 18342.7})
	mux.HandleFunc("GET /v2.0/vehicles/{id}/odometer", func(w http.ResponseWriter, r *http.Request) {
		raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			http.Error(w, `{"error":"unauthenticated"}`, http.StatusUnauthorized)
			return
		}
		c, err := tokens.Verify(raw)
		if err != nil {
			http.Error(w, `{"error":"unauthenticated"}`, http.StatusUnauthorized)
			return
		}
		if !c.HasVehicle(r.PathValue("id")) || !c.HasPermission("read_odometer") {
			http.Error(w, `{"error":"permission"}`, http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	return mux
}
