package webhooks

import (
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/scapi"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/token"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/vehicleapiv3"
)

// Smartcar's management API v3 (management.api.smartcar.com/v3), served under /v3 on the
// sandbox's one origin (no path overlaps the vehicle API) with the same bearer token as the
// vehicle API v3. It drives the same engine as v2.0's subscribe: one subscription per webhook
// and vehicle, the same deliveries. Webhooks are still declared in fixtures; the API lists
// them and manages subscriptions. Readings where the docs are silent are in docs/api-v3.md.

// List paging of the management API (WHLIST, SUBS: page[size] at most 100; 50 for webhooks,
// 25 for subscriptions).
const (
	MaxPageSize                  = 100
	DefaultWebhookPageSize       = 50
	DefaultSubscriptionPageSize  = 25
	subscriptionCreationResponse = "subscription creation in progress"
)

// managementClient authenticates a management request: a v3 application token (what the
// docs say: the same bearer token), or the application's management token (v2.0's).
func (s *Service) managementClient(auth *scapi.Auth, r *http.Request) (sandbox.Application, error) {
	h := r.Header.Get("Authorization")
	if scheme, raw, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
		if app, ok := s.o.Store.ApplicationByManagementToken(strings.TrimSpace(raw)); ok {
			return app, nil
		}
	}
	c, err := auth.Bearer(r)
	if err != nil {
		return sandbox.Application{}, err
	}
	if c.Kind != token.KindApplication {
		return sandbox.Application{}, sandbox.Unauthenticated("The management API takes the application token from POST /oauth2/token (or the application management token), not a vehicle's Connect token.")
	}
	app, ok := s.o.Store.Application(c.ClientID)
	if !ok {
		return sandbox.Application{}, sandbox.Unauthenticated("The application of this token no longer exists.")
	}
	return app, nil
}

// WebhookResource is a v3 webhook.
type WebhookResource struct {
	ID         string            `json:"id"`
	Type       string            `json:"type"`
	Attributes WebhookAttributes `json:"attributes"`
	Links      selfLink          `json:"links"`
}

// WebhookAttributes: name, callbackUri, isEnabled and autoSubscribe are the list filters
// WHLIST documents; the rest say what the fixture declares.
type WebhookAttributes struct {
	Name          string   `json:"name"`
	CallbackURI   string   `json:"callbackUri"`
	IsEnabled     bool     `json:"isEnabled"`
	AutoSubscribe bool     `json:"autoSubscribe"`
	EventTypes    []string `json:"eventTypes"`
	Signals       []string `json:"signals"`
	IsVerified    bool     `json:"isVerified"`
}

type selfLink struct {
	Self string `json:"self"`
}

type relatedLink struct {
	Related string `json:"related"`
}

func (s *Service) webhookResource(w sandbox.Webhook) WebhookResource {
	events := w.Events
	if len(events) == 0 {
		events = []string{sandbox.EventVehicleState, sandbox.EventVehicleError}
	}
	return WebhookResource{ID: w.ID, Type: "webhook", Links: selfLink{"/webhooks/" + w.ID},
		Attributes: WebhookAttributes{Name: w.Name, CallbackURI: w.URL, IsEnabled: true, AutoSubscribe: false,
			EventTypes: append([]string{}, events...), Signals: append([]string{}, w.Signals...), IsVerified: s.Verified(w.ID)}}
}

type listBody[T any] struct {
	Data  []T                    `json:"data"`
	Meta  vehicleapiv3.ListMeta  `json:"meta"`
	Links vehicleapiv3.ListLinks `json:"links"`
}

func page[T any](l vehicleapiv3.ListRequest, path string, all []T) listBody[T] {
	lo, hi := l.Window(len(all))
	return listBody[T]{Data: append([]T{}, all[lo:hi]...), Meta: l.Meta(len(all)), Links: l.Links(path, len(all))}
}

func boolFilter(l vehicleapiv3.ListRequest, name string) (*bool, error) {
	v := l.Filter(name)
	if v == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, sandbox.Errorf(sandbox.TypeValidation, "PARAMETER", "filter[%s] must be true or false, got %q.", name, v)
	}
	return &b, nil
}

// ListWebhooks serves GET /v3/webhooks.
func (s *Service) ListWebhooks(auth *scapi.Auth) scapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		l, err := vehicleapiv3.ReadList(r, DefaultWebhookPageSize, MaxPageSize, "name", "callbackUri", "isEnabled", "autoSubscribe")
		if err != nil {
			return err
		}
		app, err := s.managementClient(auth, r)
		if err != nil {
			return err
		}
		enabled, err := boolFilter(l, "isEnabled")
		if err != nil {
			return err
		}
		auto, err := boolFilter(l, "autoSubscribe")
		if err != nil {
			return err
		}
		var out []WebhookResource
		for _, h := range app.Webhooks {
			res := s.webhookResource(h)
			a := res.Attributes
			if (l.Filter("name") != "" && a.Name != l.Filter("name")) || (l.Filter("callbackUri") != "" && a.CallbackURI != l.Filter("callbackUri")) ||
				(enabled != nil && a.IsEnabled != *enabled) || (auto != nil && a.AutoSubscribe != *auto) {
				continue
			}
			out = append(out, res)
		}
		scapi.WriteJSON(w, http.StatusOK, page(l, "/webhooks", out))
		return nil
	}
}

// GetWebhook serves GET /v3/webhooks/{webhookId}.
func (s *Service) GetWebhook(auth *scapi.Auth) scapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		app, err := s.managementClient(auth, r)
		if err != nil {
			return err
		}
		owner, hook, ok := s.webhook(mux.Vars(r)["webhookId"])
		if !ok || owner.ClientID != app.ClientID {
			return webhookNotFound(mux.Vars(r)["webhookId"])
		}
		scapi.WriteJSON(w, http.StatusOK, struct {
			Data WebhookResource `json:"data"`
		}{s.webhookResource(hook)})
		return nil
	}
}

// SubscriptionID names a subscription: one per webhook and vehicle (the engine's key), as a
// name-based UUID so it needs no storage of its own.
func SubscriptionID(webhookID, vehicleID string) string {
	return sandbox.NameUUID("smartcar-sandbox/subscription", strings.ToLower(webhookID)+"\x00"+vehicleID)
}

// SubscriptionResource is a v3 subscription (SUBS' example).
type SubscriptionResource struct {
	Type          string                    `json:"type"`
	ID            string                    `json:"id"`
	Attributes    SubscriptionAttributes    `json:"attributes"`
	Meta          SubscriptionMeta          `json:"meta"`
	Relationships SubscriptionRelationships `json:"relationships"`
	Links         selfLink                  `json:"links"`
}

type SubscriptionAttributes struct {
	Vehicle *vehicleapiv3.VehicleAttributes `json:"vehicle"`
}

type SubscriptionMeta struct {
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
}

type ref struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

type relationship struct {
	Data  ref          `json:"data"`
	Links *relatedLink `json:"links,omitempty"`
}

type SubscriptionRelationships struct {
	Webhook relationship `json:"webhook"`
	User    relationship `json:"user"`
	Vehicle relationship `json:"vehicle"`
}

// subscriptionView is a subscription as the management API sees it.
type subscriptionView struct {
	webhookID, vehicleID, clientID, userID string
	createdAt                              string
}

func (s *Service) subscriptionsOf(clientID string) []subscriptionView {
	s.sync() // those made through another replica too
	s.mu.Lock()
	var out []subscriptionView
	for k, sub := range s.subs {
		if sub.clientID == clientID {
			out = append(out, subscriptionView{k.webhookID, k.vehicleID, sub.clientID, sub.userID, sub.createdAt.UTC().Format(scapi.TimeFormat)})
		}
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].createdAt != out[j].createdAt {
			return out[i].createdAt < out[j].createdAt
		}
		return SubscriptionID(out[i].webhookID, out[i].vehicleID) < SubscriptionID(out[j].webhookID, out[j].vehicleID)
	})
	return out
}

func (s *Service) subscriptionResource(v subscriptionView) SubscriptionResource {
	id := SubscriptionID(v.webhookID, v.vehicleID)
	res := SubscriptionResource{Type: "subscription", ID: id, Links: selfLink{"/subscriptions/" + id},
		Meta: SubscriptionMeta{CreatedAt: v.createdAt, UpdatedAt: v.createdAt},
		Relationships: SubscriptionRelationships{
			Webhook: relationship{Data: ref{v.webhookID, "webhook"}, Links: &relatedLink{"/webhooks/" + v.webhookID}},
			User:    relationship{Data: ref{v.userID, "user"}},
			Vehicle: relationship{Data: ref{v.vehicleID, "vehicle"}, Links: &relatedLink{"/vehicles/" + v.vehicleID}},
		}}
	if veh, ok := s.o.Store.Vehicle(v.vehicleID); ok {
		a := vehicleapiv3.VehicleAttributesOf(veh)
		res.Attributes.Vehicle = &a
	}
	return res
}

// CreateSubscription serves POST /v3/subscriptions with
// {"data":{"attributes":{"webhookId":…,"vehicleId":…,"userId":…}}} (the attribute names are a
// reading; userId may be left out when one user connected the vehicle). Like Smartcar it
// answers 202 {"meta":{"message":"subscription creation in progress"}}; the subscription
// then exists at once (GET /v3/subscriptions) and the engine sends its first delivery,
// verifying the webhook first with v3's VERIFY event. A subscription the store could not save
// is a server error (SERVER/INTERNAL, 500), not an accepted one: nothing changed, nothing is
// sent.
func (s *Service) CreateSubscription(auth *scapi.Auth) scapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		app, err := s.managementClient(auth, r)
		if err != nil {
			return err
		}
		a, err := subscriptionAttributes(r)
		if err != nil {
			return err
		}
		owner, hook, ok := s.webhook(a.WebhookID)
		if !ok || owner.ClientID != app.ClientID {
			return webhookNotFound(a.WebhookID)
		}
		grants := s.o.Store.Grants(store.GrantFilter{ClientID: app.ClientID, UserID: a.UserID, VehicleID: a.VehicleID})
		switch {
		case len(grants) == 0:
			return sandbox.Errorf(sandbox.TypeResourceNotFound, "PATH", "Vehicle %s is not connected to this application (by user %q).", a.VehicleID, a.UserID)
		case len(grants) > 1:
			return sandbox.Errorf(sandbox.TypeValidation, "PARAMETER", "%d users connected vehicle %s; give data.attributes.userId.", len(grants), a.VehicleID)
		}
		if err := s.subscribe(app.ClientID, grants[0].UserID, hook.ID, grants[0].VehicleID, true); err != nil {
			return err
		}
		scapi.WriteJSON(w, http.StatusAccepted, map[string]any{"meta": map[string]string{"message": subscriptionCreationResponse}})
		return nil
	}
}

type subscriptionRequest struct {
	WebhookID string `json:"webhookId"`
	VehicleID string `json:"vehicleId"`
	UserID    string `json:"userId"`
}

func subscriptionAttributes(r *http.Request) (subscriptionRequest, error) {
	bad := func(why string) error {
		e := sandbox.NewError(sandbox.TypeValidation, "PARAMETER", why)
		e.Detail = []map[string]any{{"field": "data.attributes", "message": why}}
		return e
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return subscriptionRequest{}, bad("the request body could not be read")
	}
	var body struct {
		Data *struct {
			Attributes *subscriptionRequest `json:"attributes"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &body); err != nil || body.Data == nil || body.Data.Attributes == nil {
		return subscriptionRequest{}, bad(`the body must be {"data":{"attributes":{"webhookId":…,"vehicleId":…,"userId":…}}}`)
	}
	a := *body.Data.Attributes
	if a.WebhookID == "" || a.VehicleID == "" {
		return subscriptionRequest{}, bad("data.attributes needs webhookId and vehicleId")
	}
	if err := scapi.ValidID("webhook", a.WebhookID); err != nil {
		return subscriptionRequest{}, err
	}
	if err := scapi.ValidID("vehicle", a.VehicleID); err != nil {
		return subscriptionRequest{}, err
	}
	return a, nil
}

// ListSubscriptions serves GET /v3/subscriptions.
func (s *Service) ListSubscriptions(auth *scapi.Auth) scapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		l, err := vehicleapiv3.ReadList(r, DefaultSubscriptionPageSize, MaxPageSize, "userId", "webhookId", "vehicleId", "vehicle.mode")
		if err != nil {
			return err
		}
		app, err := s.managementClient(auth, r)
		if err != nil {
			return err
		}
		mode := strings.ToLower(l.Filter("vehicle.mode"))
		if mode != "" && mode != vehicleapiv3.ModeLive && mode != vehicleapiv3.ModeSimulated {
			return sandbox.Errorf(sandbox.TypeValidation, "PARAMETER", "filter[vehicle.mode] must be live or simulated, got %q.", mode)
		}
		var out []SubscriptionResource
		for _, v := range s.subscriptionsOf(app.ClientID) {
			if (l.Filter("userId") != "" && v.userID != l.Filter("userId")) || (l.Filter("vehicleId") != "" && v.vehicleID != l.Filter("vehicleId")) ||
				(l.Filter("webhookId") != "" && !strings.EqualFold(v.webhookID, l.Filter("webhookId"))) {
				continue
			}
			res := s.subscriptionResource(v)
			if mode != "" && (res.Attributes.Vehicle == nil || res.Attributes.Vehicle.Mode != mode) {
				continue
			}
			out = append(out, res)
		}
		scapi.WriteJSON(w, http.StatusOK, page(l, "/subscriptions", out))
		return nil
	}
}

func (s *Service) findSubscription(clientID, id string) (subscriptionView, bool) {
	for _, v := range s.subscriptionsOf(clientID) {
		if SubscriptionID(v.webhookID, v.vehicleID) == id {
			return v, true
		}
	}
	return subscriptionView{}, false
}

func subscriptionNotFound(id string) *sandbox.Error {
	return sandbox.Errorf(sandbox.TypeResourceNotFound, "PATH", "No subscription %s for this application.", id)
}

// GetSubscription serves GET /v3/subscriptions/{subscriptionId}.
func (s *Service) GetSubscription(auth *scapi.Auth) scapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		app, err := s.managementClient(auth, r)
		if err != nil {
			return err
		}
		id := mux.Vars(r)["subscriptionId"]
		v, ok := s.findSubscription(app.ClientID, id)
		if !ok {
			return subscriptionNotFound(id)
		}
		scapi.WriteJSON(w, http.StatusOK, struct {
			Data SubscriptionResource `json:"data"`
		}{s.subscriptionResource(v)})
		return nil
	}
}

// DeleteSubscription serves DELETE /v3/subscriptions/{subscriptionId}: 204, deliveries stop
// (or a server error, the subscription kept, when the store could not save its end).
func (s *Service) DeleteSubscription(auth *scapi.Auth) scapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		app, err := s.managementClient(auth, r)
		if err != nil {
			return err
		}
		id := mux.Vars(r)["subscriptionId"]
		v, ok := s.findSubscription(app.ClientID, id)
		if !ok {
			return subscriptionNotFound(id)
		}
		if err := s.unsubscribe(v.webhookID, v.vehicleID); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// ApplicationResource is a v3 application (the spec's /applications; fields a reading).
type ApplicationResource struct {
	ID         string                `json:"id"`
	Type       string                `json:"type"`
	Attributes ApplicationAttributes `json:"attributes"`
	Links      selfLink              `json:"links"`
}

type ApplicationAttributes struct {
	Name         string   `json:"name"`
	RedirectURIs []string `json:"redirectUris"`
}

func applicationResource(a sandbox.Application) ApplicationResource {
	return ApplicationResource{ID: a.ClientID, Type: "application", Links: selfLink{"/applications/" + a.ClientID},
		Attributes: ApplicationAttributes{Name: a.Name, RedirectURIs: append([]string{}, a.RedirectURIs...)}}
}

// ListApplications serves GET /v3/applications: the token's own application (a token is
// one application's).
func (s *Service) ListApplications(auth *scapi.Auth) scapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		l, err := vehicleapiv3.ReadList(r, DefaultWebhookPageSize, MaxPageSize)
		if err != nil {
			return err
		}
		app, err := s.managementClient(auth, r)
		if err != nil {
			return err
		}
		scapi.WriteJSON(w, http.StatusOK, page(l, "/applications", []ApplicationResource{applicationResource(app)}))
		return nil
	}
}

func (s *Service) ownApplication(auth *scapi.Auth, r *http.Request) (sandbox.Application, error) {
	app, err := s.managementClient(auth, r)
	if err != nil {
		return app, err
	}
	if id := mux.Vars(r)["applicationId"]; id != app.ClientID {
		return app, sandbox.Errorf(sandbox.TypeResourceNotFound, "PATH", "No application %s for this token (its own is %s).", id, app.ClientID)
	}
	return app, nil
}

// GetApplication serves GET /v3/applications/{applicationId}.
func (s *Service) GetApplication(auth *scapi.Auth) scapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		app, err := s.ownApplication(auth, r)
		if err != nil {
			return err
		}
		scapi.WriteJSON(w, http.StatusOK, struct {
			Data ApplicationResource `json:"data"`
		}{applicationResource(app)})
		return nil
	}
}

// SecretResource describes a client secret without revealing it (its last four characters).
type SecretResource struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	Attributes struct {
		Hint string `json:"hint"`
	} `json:"attributes"`
}

// ApplicationSecrets serves GET /v3/applications/{applicationId}/secrets.
func (s *Service) ApplicationSecrets(auth *scapi.Auth) scapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		app, err := s.ownApplication(auth, r)
		if err != nil {
			return err
		}
		sec := SecretResource{ID: sandbox.NameUUID("smartcar-sandbox/secret", app.ClientID), Type: "secret"}
		hint := app.ClientSecret
		if len(hint) > 4 {
			hint = hint[len(hint)-4:]
		}
		sec.Attributes.Hint = "…" + hint
		scapi.WriteJSON(w, http.StatusOK, struct {
			Data []SecretResource `json:"data"`
		}{[]SecretResource{sec}})
		return nil
	}
}
