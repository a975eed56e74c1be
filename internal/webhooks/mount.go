package webhooks

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/route"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/scapi"
)

// MountVehicleAPI declares the webhook subscriptions of the vehicle API under v's prefix
// (/v2.0 or /v1.0); auth checks the vehicle's access token. The delivery log is in the admin
// API.
func (s *Service) MountVehicleAPI(r *mux.Router, v scapi.Version, auth *scapi.Auth) {
	const path = "/vehicles/{id}/webhooks/{webhookId}"
	route.Handle(r, v.Prefix()+path, scapi.Handle(v, s.Subscribe(auth))).Methods(http.MethodPost)
	route.Handle(r, v.Prefix()+path, scapi.Handle(v, s.Unsubscribe)).Methods(http.MethodDelete)
}

// Mount declares the management API v3 (management.api.smartcar.com/v3), served on the
// sandbox's origin under /v3; auth checks the application token.
func (s *Service) Mount(r *mux.Router, auth *scapi.Auth) {
	on := func(method, path string, h scapi.HandlerFunc) {
		route.Handle(r, path, scapi.Handle(scapi.V3, h)).Methods(method)
	}
	get, post, del := http.MethodGet, http.MethodPost, http.MethodDelete
	on(get, "/v3/webhooks", s.ListWebhooks(auth))
	on(get, "/v3/webhooks/{webhookId}", s.GetWebhook(auth))
	on(get, "/v3/subscriptions", s.ListSubscriptions(auth))
	on(post, "/v3/subscriptions", s.CreateSubscription(auth))
	on(get, "/v3/subscriptions/{subscriptionId}", s.GetSubscription(auth))
	on(del, "/v3/subscriptions/{subscriptionId}", s.DeleteSubscription(auth))
	on(get, "/v3/applications", s.ListApplications(auth))
	on(get, "/v3/applications/{applicationId}", s.GetApplication(auth))
	on(get, "/v3/applications/{applicationId}/secrets", s.ApplicationSecrets(auth))
}
