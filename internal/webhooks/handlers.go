package webhooks

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/requestid"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/scapi"
)

// SubscribeResponse is the body of a subscription (NODE subscribe reads both).
type SubscribeResponse struct {
	WebhookID string `json:"webhookId"`
	VehicleID string `json:"vehicleId"`
}

func webhookNotFound(id string) *sandbox.Error {
	return sandbox.Errorf(sandbox.ErrResourceNotFound, "PATH", "Webhook %s does not exist for this application; webhooks are declared in the application's fixtures.", id)
}

// Subscribe serves POST /v2.0/vehicles/{id}/webhooks/{webhookId} with the vehicle's access
// token. The webhook must belong to the token's application.
func (s *Service) Subscribe(auth *scapi.Auth) scapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		vars := mux.Vars(r)
		acc, err := auth.Vehicle(r, vars["id"], "", false)
		if err != nil {
			return err
		}
		app, hook, ok := s.webhook(vars["webhookId"])
		if !ok || app.ClientID != acc.Claims.ClientID {
			return webhookNotFound(vars["webhookId"])
		}
		s.subscribe(app.ClientID, acc.UserID, hook.ID, acc.Vehicle.ID)
		scapi.WriteJSON(w, http.StatusOK, SubscribeResponse{WebhookID: hook.ID, VehicleID: acc.Vehicle.ID})
		return nil
	}
}

// Unsubscribe serves DELETE /v2.0/vehicles/{id}/webhooks/{webhookId} with
// "Authorization: Bearer <application management token>". Unsubscribing a vehicle that is
// not subscribed succeeds too: the end state is the one asked for.
func (s *Service) Unsubscribe(w http.ResponseWriter, r *http.Request) error {
	vars := mux.Vars(r)
	h := r.Header.Get("Authorization")
	scheme, raw, ok := strings.Cut(h, " ")
	if h == "" || !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
		return sandbox.ErrUnauthenticated("Unsubscribing needs 'Authorization: Bearer <application management token>'.")
	}
	app, ok := s.o.Store.ApplicationByManagementToken(strings.TrimSpace(raw))
	if !ok {
		return sandbox.ErrUnauthenticated("The bearer token is not an application management token this sandbox knows.")
	}
	owner, hook, ok := s.webhook(vars["webhookId"])
	if !ok || owner.ClientID != app.ClientID {
		return webhookNotFound(vars["webhookId"])
	}
	if _, ok := s.o.Store.Vehicle(vars["id"]); !ok {
		return sandbox.Errorf(sandbox.ErrResourceNotFound, "PATH", "Vehicle %s does not exist in this sandbox.", vars["id"])
	}
	s.unsubscribe(hook.ID, vars["id"])
	scapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "success"})
	return nil
}

// adminError is the admin API's error shape (internal/admin), so the delivery log answers
// like the rest of /admin.
type adminError struct {
	Error     string `json:"error"`
	Message   string `json:"message"`
	RequestID string `json:"requestId"`
}

// DeliveriesHandler serves GET /admin/webhooks/deliveries (newest first), protected by the
// admin token like the rest of /admin. Query: webhookId, vehicleId, eventType narrow it;
// limit (default 100, at most the log size) caps it.
func (s *Service) DeliveriesHandler(adminToken string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		fail := func(status int, code, msg string) {
			if status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="smartcar-sandbox admin"`)
			}
			scapi.WriteJSON(w, status, adminError{Error: code, Message: msg, RequestID: requestid.From(r.Context())})
		}
		scheme, raw, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if adminToken == "" || !ok || !strings.EqualFold(scheme, "Bearer") ||
			subtle.ConstantTimeCompare([]byte(strings.TrimSpace(raw)), []byte(adminToken)) != 1 {
			fail(http.StatusUnauthorized, "unauthorized", "send the admin token as 'Authorization: Bearer <admin token>'")
			return
		}
		q := r.URL.Query()
		limit := 100
		if l := q.Get("limit"); l != "" {
			n, err := strconv.Atoi(l)
			if err != nil || n < 1 {
				fail(http.StatusBadRequest, "bad_request", "limit must be a whole number ≥ 1, got "+strconv.Quote(l))
				return
			}
			limit = n
		}
		out := []Delivery{}
		for _, d := range s.Deliveries() {
			if len(out) == limit {
				break
			}
			if (q.Get("webhookId") == "" || strings.EqualFold(q.Get("webhookId"), d.WebhookID)) &&
				(q.Get("vehicleId") == "" || q.Get("vehicleId") == d.VehicleID) &&
				(q.Get("eventType") == "" || q.Get("eventType") == d.EventType) {
				out = append(out, d)
			}
		}
		scapi.WriteJSON(w, http.StatusOK, map[string]any{"deliveries": out})
	})
}
