package store

import (
	"sort"
	"time"
)

// WebhookSubscription is a vehicle's subscription to one of an application's webhooks
// (POST /v2.0/vehicles/{id}/webhooks/{webhookId}). The store keeps subscriptions and which
// webhooks passed their challenge, so both survive a restart with a durable backend; the
// webhooks package runs the deliveries.
type WebhookSubscription struct {
	WebhookID string `json:"webhookId"`
	VehicleID string `json:"vehicleId"`
	ClientID  string `json:"clientId"`
	UserID    string `json:"userId"`
	// CreatedAt is when the vehicle subscribed (sandbox clock), as the management API v3
	// shows it on every replica.
	CreatedAt time.Time `json:"createdAt,omitzero"`
	// ManagementV3 says the vehicle subscribed through the management API v3
	// (POST /v3/subscriptions), whose webhooks are challenged with v3's VERIFY event (the
	// webhooks package reads it from here, so every replica and a restarted sandbox agree).
	// Records written before it existed read as v2.0's subscriptions.
	ManagementV3 bool `json:"managementV3,omitzero"`
}

func (w WebhookSubscription) key() string { return w.WebhookID + "\x1f" + w.VehicleID }

// PutWebhookSubscription records a subscription, replacing one of the same webhook and vehicle.
func (s *Store) PutWebhookSubscription(sub WebhookSubscription) error {
	return s.tx(func(t *tx) error {
		t.touch(kindWebhookSub, sub.key())
		s.webhookSubs[sub.key()] = sub
		return nil
	})
}

// DeleteWebhookSubscription forgets a subscription; it reports whether there was one.
func (s *Store) DeleteWebhookSubscription(webhookID, vehicleID string) (bool, error) {
	k := WebhookSubscription{WebhookID: webhookID, VehicleID: vehicleID}.key()
	had := false
	err := s.tx(func(t *tx) error {
		if _, had = s.webhookSubs[k]; had {
			t.touch(kindWebhookSub, k)
			delete(s.webhookSubs, k)
		}
		return nil
	})
	return had, err
}

// WebhookSubscriptions lists the subscriptions by webhook, then vehicle.
func (s *Store) WebhookSubscriptions() []WebhookSubscription {
	s.catchUp()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.webhookSubs) == 0 {
		return nil
	}
	out := make([]WebhookSubscription, 0, len(s.webhookSubs))
	for _, sub := range s.webhookSubs {
		out = append(out, sub)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key() < out[j].key() })
	return out
}

// SetWebhookVerified records that a webhook passed its challenge.
func (s *Store) SetWebhookVerified(webhookID string) error {
	return s.tx(func(t *tx) error {
		if s.webhooksVerified[webhookID] {
			return nil
		}
		t.touch(kindWebhookVerified, webhookID)
		s.webhooksVerified[webhookID] = true
		return nil
	})
}

// WebhookVerified reports whether a webhook passed its challenge.
func (s *Store) WebhookVerified(webhookID string) bool {
	s.catchUp()
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.webhooksVerified[webhookID]
}
