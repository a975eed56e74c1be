package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
)

// Outcomes of one attempt in the delivery log.
const (
	OutcomeDelivered = "delivered" // 2xx
	OutcomeRetrying  = "retrying"  // failed; another attempt follows after a backoff
	OutcomeFailed    = "failed"    // failed and the attempts are used up (or the service stopped)
	OutcomeVerified  = "verified"  // the challenge was answered correctly
	OutcomeSkipped   = "skipped"   // nothing sent (webhook not verified, vehicle disconnected)
)

// Delivery is one attempt (or skipped delivery) in the log.
type Delivery struct {
	ID         string    `json:"id"`
	DeliveryID string    `json:"deliveryId,omitempty"` // the payload's meta.deliveryId, the same on every retry
	WebhookID  string    `json:"webhookId"`
	VehicleID  string    `json:"vehicleId,omitempty"`
	EventType  string    `json:"eventType"` // VERIFY, VEHICLE_STATE, VEHICLE_ERROR
	URL        string    `json:"url"`
	Attempt    int       `json:"attempt,omitempty"`
	Outcome    string    `json:"outcome"`
	Status     int       `json:"status,omitempty"` // the receiver's HTTP status; 0 without a response
	Error      string    `json:"error,omitempty"`
	At         time.Time `json:"at"`
	DurationMs int64     `json:"durationMs"`
	Signature  string    `json:"signature,omitempty"` // the SC-Signature header sent
	// Body is exactly the bytes sent.
	Body json.RawMessage `json:"body,omitempty"`
}

// record appends to the bounded log.
func (s *Service) record(d Delivery) {
	if d.ID == "" {
		d.ID = s.o.NewID()
	}
	if d.At.IsZero() {
		d.At = s.o.Now().UTC()
	}
	if s.o.OnRecord != nil {
		s.o.OnRecord(d)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.log) >= s.o.LogSize {
		s.log = append(s.log[:0], s.log[len(s.log)-s.o.LogSize+1:]...)
	}
	s.log = append(s.log, d)
}

// Deliveries returns the log, newest first.
func (s *Service) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Delivery, len(s.log))
	for i, d := range s.log {
		out[len(s.log)-1-i] = d
	}
	return out
}

// deliver sends an event once the webhook is verified, retrying with exponential backoff.
func (s *Service) deliver(app sandbox.Application, w sandbox.Webhook, vehicleID string, ev Event) {
	if !s.verify(app, w) {
		s.record(Delivery{DeliveryID: ev.Meta.DeliveryID, WebhookID: w.ID, VehicleID: vehicleID, EventType: ev.EventType, URL: w.URL,
			Outcome: OutcomeSkipped, Error: "the webhook has not passed the verify challenge; nothing sent"})
		return
	}
	body, err := Encode(ev)
	if err != nil {
		s.o.Logger.Error("webhook payload", "webhook", w.ID, "error", err)
		return
	}
	sig := Sign(app.ManagementToken, body)
	s.attempts(w, vehicleID, ev.EventType, ev.Meta.DeliveryID, body, sig, func(res *http.Response, _ []byte) error {
		if res.StatusCode < 200 || res.StatusCode > 299 {
			return fmt.Errorf("the receiver answered %s", res.Status)
		}
		return nil
	})
}

// verify runs the challenge handshake unless the webhook passed it already. One handshake
// per webhook runs at a time; the others wait for its result.
func (s *Service) verify(app sandbox.Application, w sandbox.Webhook) bool {
	s.mu.Lock()
	m, ok := s.verifyMu[w.ID]
	if !ok {
		m = &sync.Mutex{}
		s.verifyMu[w.ID] = m
	}
	s.mu.Unlock()
	m.Lock()
	defer m.Unlock()
	if s.o.Store.WebhookVerified(w.ID) {
		return true
	}
	challenge := sandbox.RandomToken(24)
	var payload any = VerifyPayload{Version: "2.0", WebhookID: w.ID, EventName: "verify", Payload: VerifyChallenge{Challenge: challenge}}
	if s.speaksV3(w.ID) {
		// v3's VERIFY event (VERIFY page); the v2 form above is what Smartcar calls legacy.
		payload = VerifyEventV3{EventID: s.o.NewID(), EventType: sandbox.EventVerify, Data: VerifyChallenge{Challenge: challenge},
			Meta: VerifyMetaV3{Version: "4.0", WebhookID: w.ID, WebhookName: w.Name, DeliveryID: s.o.NewID(), DeliveredAt: s.o.Now().UnixMilli()}}
	}
	body, err := Encode(payload)
	if err != nil {
		return false
	}
	want := Sign(app.ManagementToken, []byte(challenge))
	ok = s.attempts(w, "", sandbox.EventVerify, "", body, Sign(app.ManagementToken, body), func(res *http.Response, b []byte) error {
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("the receiver answered %s to the verify challenge; want 200 with {\"challenge\": hex(HMAC-SHA256(management token, challenge))}", res.Status)
		}
		var got struct {
			Challenge *string `json:"challenge"`
		}
		if err := json.Unmarshal(b, &got); err != nil || got.Challenge == nil {
			return fmt.Errorf("the verify answer is not a JSON object with a challenge string: %.200q", b)
		}
		if *got.Challenge != want {
			return fmt.Errorf("the verify answer's challenge is wrong: want hex(HMAC-SHA256(key = the application management token, msg = %q))", challenge)
		}
		return nil
	})
	if ok {
		if err := s.o.Store.SetWebhookVerified(w.ID); err != nil {
			// Verified all the same for now; after a restart the challenge runs again.
			s.o.Logger.Error("recording a webhook's verification failed", "webhook", w.ID, "error", err)
		}
	}
	return ok
}

// speaksV3 reports whether a webhook's verify challenge takes v3's form (VerifyEventV3): whether
// one of its subscriptions was made through the management API v3. The store's subscriptions
// are the one record of it, so a sandbox restarted on a durable store and every sandbox sharing
// a PostgreSQL store send a webhook the same form. Where a webhook's subscriptions disagree:
//   - v3 and v2.0 subscriptions at once: v3's form (an application that manages the webhook
//     through v3 expects v3's events, whatever else subscribed);
//   - the v3 subscriptions gone (deleted, or the vehicle subscribed again through v2.0, which
//     replaces its subscription): v2.0's form, as for a webhook only ever used through v2.0.
//     A webhook that passed the challenge is not challenged again, so this matters only for
//     one that never answered it; the form follows the subscriptions there are now, the same
//     on every replica, rather than a memory of a subscription that ended.
func (s *Service) speaksV3(webhookID string) bool {
	for _, sub := range s.o.Store.WebhookSubscriptions() {
		if sub.WebhookID == webhookID && sub.ManagementV3 {
			return true
		}
	}
	return false
}

// Verified reports whether the webhook passed the verify challenge.
func (s *Service) Verified(webhookID string) bool { return s.o.Store.WebhookVerified(webhookID) }

// attempts POSTs body up to MaxAttempts times, waiting RetryBase, 2×, 4×… between tries,
// and logs each try. check decides whether a response counts as accepted.
func (s *Service) attempts(w sandbox.Webhook, vehicleID, eventType, deliveryID string, body []byte, sig string, check func(*http.Response, []byte) error) bool {
	wait := s.o.RetryBase
	for attempt := 1; attempt <= s.o.MaxAttempts; attempt++ {
		d := Delivery{DeliveryID: deliveryID, WebhookID: w.ID, VehicleID: vehicleID, EventType: eventType, URL: w.URL,
			Attempt: attempt, Signature: sig, Body: json.RawMessage(body), At: s.o.Now().UTC()}
		start := time.Now()
		status, err := s.post(w.URL, body, sig, check)
		d.DurationMs = time.Since(start).Milliseconds()
		d.Status = status
		if err == nil {
			d.Outcome = OutcomeDelivered
			if eventType == sandbox.EventVerify {
				d.Outcome = OutcomeVerified
			}
			s.record(d)
			return true
		}
		d.Error = err.Error()
		last := attempt == s.o.MaxAttempts || s.ctx.Err() != nil
		d.Outcome = OutcomeRetrying
		if last {
			d.Outcome = OutcomeFailed
		}
		s.record(d)
		s.o.Logger.Warn("webhook delivery failed", "webhook", w.ID, "event", eventType, "attempt", attempt, "error", err)
		if last || !s.sleep(wait) {
			return false
		}
		wait *= 2
	}
	return false
}

func (s *Service) post(url string, body []byte, sig string, check func(*http.Response, []byte) error) (int, error) {
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("SC-Signature", sig)
	req.Header.Set("User-Agent", "smartcar-sandbox-webhooks")
	res, err := s.o.Client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	return res.StatusCode, check(res, b)
}
