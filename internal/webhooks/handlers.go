package webhooks

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/scapi"
)

// SubscribeResponse is the body of a subscription (NODE subscribe reads both).
type SubscribeResponse struct {
	WebhookID string `json:"webhookId"`
	VehicleID string `json:"vehicleId"`
}

func webhookNotFound(id string) *sandbox.Error {
	return sandbox.Errorf(sandbox.TypeResourceNotFound, "PATH", "Webhook %s does not exist for this application; webhooks are declared in the application's fixtures.", id)
}

// validIDs checks the ids of a webhook path, after authentication and before any lookup (the
// order of every vehicle request; see vehicleapi's authenticate).
func validIDs(vars map[string]string) error {
	if err := scapi.ValidID("vehicle", vars["id"]); err != nil {
		return err
	}
	return scapi.ValidID("webhook", vars["webhookId"])
}

// Subscribe serves POST /v2.0/vehicles/{id}/webhooks/{webhookId} with the vehicle's access
// token. The webhook must belong to the token's application.
func (s *Service) Subscribe(auth *scapi.Auth) scapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		vars := mux.Vars(r)
		c, err := auth.Bearer(r)
		if err != nil {
			return err
		}
		if err := validIDs(vars); err != nil {
			return err
		}
		acc, err := auth.Authorize(r, c, vars["id"], "", scapi.ConnectOnly)
		if err != nil {
			return err
		}
		app, hook, ok := s.webhook(vars["webhookId"])
		if !ok || app.ClientID != acc.Claims.ClientID {
			return webhookNotFound(vars["webhookId"])
		}
		if err := s.subscribe(app.ClientID, acc.UserID, hook.ID, acc.Vehicle.ID, false); err != nil {
			return err
		}
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
		return sandbox.Unauthenticated("Unsubscribing needs 'Authorization: Bearer <application management token>'.")
	}
	app, ok := s.o.Store.ApplicationByManagementToken(strings.TrimSpace(raw))
	if !ok {
		return sandbox.Unauthenticated("The bearer token is not an application management token this sandbox knows.")
	}
	if err := validIDs(vars); err != nil {
		return err
	}
	owner, hook, ok := s.webhook(vars["webhookId"])
	if !ok || owner.ClientID != app.ClientID {
		return webhookNotFound(vars["webhookId"])
	}
	if _, ok := s.o.Store.Vehicle(vars["id"]); !ok {
		return sandbox.Errorf(sandbox.TypeResourceNotFound, "PATH", "Vehicle %s does not exist in this sandbox.", vars["id"])
	}
	if err := s.unsubscribe(hook.ID, vars["id"]); err != nil {
		return err
	}
	scapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "success"})
	return nil
}

// DeliveryFilter narrows FindDeliveries; empty fields match everything.
type DeliveryFilter struct {
	WebhookID string // case-insensitive
	VehicleID string
	EventType string
	Limit     int // 0 means no limit
}

// FindDeliveries returns the delivery log, newest first, narrowed by f. The admin API serves it
// at GET /admin/webhooks/deliveries.
func (s *Service) FindDeliveries(f DeliveryFilter) []Delivery {
	out := []Delivery{}
	for _, d := range s.Deliveries() {
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
		if (f.WebhookID == "" || strings.EqualFold(f.WebhookID, d.WebhookID)) &&
			(f.VehicleID == "" || f.VehicleID == d.VehicleID) &&
			(f.EventType == "" || f.EventType == d.EventType) {
			out = append(out, d)
		}
	}
	return out
}
