// Package webhooks delivers Smartcar webhooks from the sandbox: applications declare webhooks
// in fixtures, vehicles subscribe to them (POST /v2.0/vehicles/{id}/webhooks/{webhookId}),
// a webhook is verified with the challenge handshake, and every change of a subscribed
// vehicle's signals (and every Smartcar error a command on it runs into) is POSTed to the
// webhook's URL, signed with SC-Signature, retried with exponential backoff and recorded in a
// bounded delivery log.
//
// Deliveries go only to URLs declared in fixtures (or added as applications through the
// admin API), redirects are not followed, so the sandbox cannot be steered to other hosts.
// Subscriptions (with the API each was made through, which decides the form of the verify
// challenge) and verification live in the store: with a durable store they survive a restart
// (deliveries in flight and batches waiting do not), and sandboxes sharing one PostgreSQL
// share them: the sandbox where a vehicle changes delivers (see sync).
package webhooks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/signals"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
)

// Options configure a Service.
type Options struct {
	Store *store.Store
	// Now is the sandbox clock (timestamps in payloads and the log); nil means time.Now.
	Now func() time.Time
	// Client sends deliveries; nil means a client with a 10 s timeout. Redirects are never
	// followed whatever the client says.
	Client *http.Client
	Logger *slog.Logger
	// MaxAttempts bounds the tries of one delivery (default 5).
	MaxAttempts int
	// RetryBase is the wait after the first failed try; it doubles after each (default 2 s).
	RetryBase time.Duration
	// LogSize bounds the delivery log (default 500 attempts).
	LogSize int
	// NewID makes event, delivery and log ids; nil means random UUIDs.
	NewID func() string
	// OnRecord, when set, hears every delivery attempt as it is logged (the metrics).
	OnRecord func(Delivery)
}

// Service runs subscriptions and deliveries. Close stops it.
type Service struct {
	o      Options
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	subs     map[subKey]*subscription // the store's subscriptions, with their delivery state
	verifyMu map[string]*sync.Mutex   // webhook id -> one handshake at a time
	log      []Delivery               // ring, oldest first
}

type subKey struct{ webhookID, vehicleID string }

type subscription struct {
	clientID, userID string
	createdAt        time.Time // sandbox clock
	lastSent         time.Time // sandbox clock
	pending          []Trigger // batched until the next delivery
	scheduled        bool      // a delivery of pending is on its way
	send             sync.Mutex
}

// New checks the webhooks every application declares (signal codes the sandbox serves) and
// starts listening to the store's vehicle changes and errors.
func New(o Options) (*Service, error) {
	if o.Store == nil {
		return nil, errors.New("webhooks: a store is required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.RetryBase <= 0 {
		o.RetryBase = 2 * time.Second
	}
	if o.LogSize <= 0 {
		o.LogSize = 500
	}
	if o.NewID == nil {
		o.NewID = sandbox.NewUUID
	}
	client := &http.Client{Timeout: 10 * time.Second}
	if o.Client != nil {
		c := *o.Client
		client = &c
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	o.Client = client
	if err := CheckApplications(o.Store.Applications()); err != nil {
		return nil, err
	}
	s := &Service{o: o, subs: map[subKey]*subscription{}, verifyMu: map[string]*sync.Mutex{}}
	s.sync()
	s.ctx, s.cancel = context.WithCancel(context.Background())
	o.Store.OnVehicleChange(s.vehicleChanged)
	o.Store.OnVehicleError(s.vehicleError)
	return s, nil
}

// CheckApplications reports webhooks naming signals the sandbox does not serve, all at once,
// with the application's source (fixture file:line).
func CheckApplications(apps []sandbox.Application) error {
	var errs []error
	for _, a := range apps {
		for _, w := range a.Webhooks {
			for _, c := range w.Signals {
				if !signals.Known(c) {
					errs = append(errs, fmt.Errorf("%s: webhook %s: unknown signal %q (docs/api-v3.md lists the codes)", a.Source, w.ID, c))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// Close stops retries and waits for deliveries in flight to end.
func (s *Service) Close() {
	s.cancel()
	s.wg.Wait()
}

// go runs fn in the background unless the service is closed.
func (s *Service) spawn(fn func()) {
	if s.ctx.Err() != nil {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn()
	}()
}

// sleep waits d or until Close; it reports whether the wait ran to the end.
func (s *Service) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.ctx.Done():
		return false
	}
}

// webhook finds a declared webhook and its application (looked up each time, so webhooks of
// applications added or reloaded later work too).
func (s *Service) webhook(id string) (sandbox.Application, sandbox.Webhook, bool) {
	id = strings.ToLower(id)
	for _, a := range s.o.Store.Applications() {
		for _, w := range a.Webhooks {
			if w.ID == id {
				return a, w, true
			}
		}
	}
	return sandbox.Application{}, sandbox.Webhook{}, false
}

// subscribe records a subscription (in the store first: an error means nothing changed) and
// sends its first delivery; subscribing again restarts it. v3 says it is made through the
// management API v3 (see speaksV3).
func (s *Service) subscribe(clientID, userID, webhookID, vehicleID string, v3 bool) error {
	k := subKey{webhookID, vehicleID}
	now := s.o.Now()
	if err := s.o.Store.PutWebhookSubscription(store.WebhookSubscription{WebhookID: webhookID, VehicleID: vehicleID, ClientID: clientID, UserID: userID,
		CreatedAt: now, ManagementV3: v3}); err != nil {
		return err
	}
	s.mu.Lock()
	sub := &subscription{clientID: clientID, userID: userID, createdAt: now}
	s.subs[k] = sub
	s.mu.Unlock()
	app, w, ok := s.webhook(webhookID)
	if !ok {
		return nil
	}
	if w.Delivers(sandbox.EventVehicleState) {
		// The first delivery verifies the webhook first when it has not been yet.
		s.schedule(k, sub, []Trigger{{Type: TriggerFirstDelivery}})
		return nil
	}
	s.spawn(func() { s.verify(app, w) })
	return nil
}

// unsubscribe forgets a subscription (in the store first: an error means nothing changed).
func (s *Service) unsubscribe(webhookID, vehicleID string) error {
	if _, err := s.o.Store.DeleteWebhookSubscription(webhookID, vehicleID); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.subs, subKey{webhookID, vehicleID})
	return nil
}

// sync brings the subscriptions in line with the store's, which are the truth: those made
// before a restart, or through another sandbox sharing the store, join (and carry on: no new
// first delivery), those ended elsewhere leave. The store catches up with the other sandboxes
// on the way, so a subscription made through one is delivered by the one where the vehicle
// changes, without a restart. (One Service per store: two on one store would both deliver.)
func (s *Service) sync() {
	stored := s.o.Store.WebhookSubscriptions()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(stored) == 0 && len(s.subs) == 0 {
		return // the usual case, on every vehicle change: nothing to do, nothing allocated
	}
	want := make(map[subKey]store.WebhookSubscription, len(stored))
	for _, sub := range stored {
		want[subKey{sub.WebhookID, sub.VehicleID}] = sub
	}
	for k := range s.subs {
		if _, ok := want[k]; !ok {
			delete(s.subs, k)
		}
	}
	for k, sub := range want {
		// A subscription made again (here or elsewhere) starts afresh.
		if cur, ok := s.subs[k]; !ok || cur.clientID != sub.ClientID || cur.userID != sub.UserID || !cur.createdAt.Equal(sub.CreatedAt) {
			s.subs[k] = &subscription{clientID: sub.ClientID, userID: sub.UserID, createdAt: sub.CreatedAt}
		}
	}
}

// Subscribed lists the vehicle ids subscribed to a webhook (for tests and the admin API).
func (s *Service) Subscribed(webhookID string) []string {
	s.sync()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k := range s.subs {
		if k.webhookID == strings.ToLower(webhookID) {
			out = append(out, k.vehicleID)
		}
	}
	return out
}

func (s *Service) subsOf(vehicleID string) map[subKey]*subscription {
	s.sync()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[subKey]*subscription{}
	for k, sub := range s.subs {
		if k.vehicleID == vehicleID {
			out[k] = sub
		}
	}
	return out
}

// vehicleChanged is the store observer: a subscribed vehicle whose webhook signals changed
// gets a VEHICLE_STATE (batched by the webhook's interval).
func (s *Service) vehicleChanged(before, after sandbox.Vehicle) {
	for k, sub := range s.subsOf(after.ID) {
		_, w, ok := s.webhook(k.webhookID)
		if !ok || !w.Delivers(sandbox.EventVehicleState) {
			continue
		}
		if triggers := changedSignals(before, after, w.Signals); len(triggers) > 0 {
			s.schedule(k, sub, triggers)
		}
	}
}

// changedSignals compares the rendered signals, so a change shows exactly when a GET of the
// signal would show it.
func changedSignals(before, after sandbox.Vehicle, codes []string) []Trigger {
	old := map[string]string{}
	for _, sv := range signals.Values(before, codes) {
		b, _ := Encode(sv.Body)
		old[sv.Code] = string(b)
	}
	var out []Trigger
	for _, sv := range signals.Values(after, codes) {
		if b, _ := Encode(sv.Body); old[sv.Code] != string(b) {
			out = append(out, Trigger{Type: TriggerSignalUpdated, Signal: &TriggerSignal{Code: sv.Code, Name: sv.Name, Group: sv.Group}})
		}
	}
	return out
}

// vehicleError is the store observer for refused updates: a VEHICLE_ERROR, not batched.
func (s *Service) vehicleError(v sandbox.Vehicle, e *sandbox.Error) {
	for k, sub := range s.subsOf(v.ID) {
		app, w, ok := s.webhook(k.webhookID)
		if !ok || !w.Delivers(sandbox.EventVehicleError) {
			continue
		}
		ev := s.event(w, sub, v, sandbox.EventVehicleError)
		ev.Data.Errors = []EventError{{Type: e.Type, Code: e.Code, Description: e.Description, Resolution: e.Resolution, State: "ERROR"}}
		s.spawn(func() {
			sub.send.Lock()
			defer sub.send.Unlock()
			s.deliver(app, w, v.ID, ev)
		})
	}
}

// schedule adds triggers to the subscription's batch and makes sure a delivery of it is on
// its way: at once, or when the webhook's interval since the last delivery has passed.
func (s *Service) schedule(k subKey, sub *subscription, triggers []Trigger) {
	_, w, ok := s.webhook(k.webhookID)
	if !ok {
		return
	}
	s.mu.Lock()
	sub.pending = mergeTriggers(sub.pending, triggers)
	if sub.scheduled {
		s.mu.Unlock()
		return
	}
	sub.scheduled = true
	var wait time.Duration
	if w.Interval > 0 && !sub.lastSent.IsZero() {
		wait = w.Interval - s.o.Now().Sub(sub.lastSent)
	}
	s.mu.Unlock()
	s.spawn(func() {
		if wait > 0 && !s.sleep(wait) {
			return
		}
		s.flush(k, sub)
	})
}

func mergeTriggers(have, add []Trigger) []Trigger {
	seen := map[string]bool{}
	for _, t := range have {
		seen[triggerKey(t)] = true
	}
	for _, t := range add {
		if !seen[triggerKey(t)] {
			seen[triggerKey(t)] = true
			have = append(have, t)
		}
	}
	return have
}

func triggerKey(t Trigger) string {
	if t.Signal != nil {
		return t.Type + "/" + t.Signal.Code
	}
	return t.Type
}

// flush sends the batched VEHICLE_STATE with the vehicle's current signals.
func (s *Service) flush(k subKey, sub *subscription) {
	sub.send.Lock() // deliveries of one subscription go out in order
	defer sub.send.Unlock()
	s.mu.Lock()
	triggers := sub.pending
	sub.pending, sub.scheduled = nil, false
	current := s.subs[k] == sub
	if len(triggers) > 0 {
		sub.lastSent = s.o.Now()
	}
	s.mu.Unlock()
	if !current || len(triggers) == 0 {
		return // unsubscribed (or re-subscribed) meanwhile, or nothing left to say
	}
	app, w, ok := s.webhook(k.webhookID)
	if !ok {
		return
	}
	// A disconnected vehicle's subscriptions end: its data is no longer the application's.
	if _, ok := s.o.Store.Grant(sub.clientID, sub.userID, k.vehicleID); !ok {
		if err := s.unsubscribe(k.webhookID, k.vehicleID); err != nil {
			s.o.Logger.Error("ending a disconnected vehicle's webhook subscription failed", "webhook", w.ID, "vehicle", k.vehicleID, "error", err)
		}
		s.record(Delivery{WebhookID: w.ID, VehicleID: k.vehicleID, EventType: sandbox.EventVehicleState, URL: w.URL,
			Outcome: OutcomeSkipped, Error: "the vehicle is no longer connected to the application; subscription ended"})
		return
	}
	v, ok := s.o.Store.Vehicle(k.vehicleID)
	if !ok {
		return
	}
	ev := s.event(w, sub, v, sandbox.EventVehicleState)
	ev.Triggers = triggers
	for _, sv := range signals.Values(v, w.Signals) {
		ev.Data.Signals = append(ev.Data.Signals, EventSignal{Code: sv.Code, Name: sv.Name, Group: sv.Group, Body: sv.Body,
			Meta: SignalMeta{RetrievedAt: ev.Meta.DeliveredAt, OemUpdatedAt: v.State.UpdatedAt.UnixMilli()}})
	}
	ev.Meta.SignalCount = len(ev.Data.Signals)
	s.deliver(app, w, k.vehicleID, ev)
}

func (s *Service) event(w sandbox.Webhook, sub *subscription, v sandbox.Vehicle, eventType string) Event {
	mode := "LIVE"
	if v.Simulated() {
		mode = "SIMULATED"
	}
	return Event{
		EventID:   s.o.NewID(),
		EventType: eventType,
		Data: EventData{
			User:    EventUser{ID: sub.userID},
			Vehicle: EventVehicle{ID: v.ID, Make: v.Make, Model: v.Model, Year: v.Year, VIN: v.VIN},
		},
		Meta: EventMeta{Version: "3.0", DeliveryID: s.o.NewID(), DeliveredAt: s.o.Now().UnixMilli(),
			WebhookID: w.ID, WebhookName: w.Name, Mode: mode},
	}
}
