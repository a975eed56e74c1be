package webhooks

// Payload shapes, from smartcar-api.md §7.2 (verify) and smartcar-api-v3.md §5 (VEHICLE_STATE,
// VEHICLE_ERROR). Field order is the wire order: the signature covers the bytes as sent.

// VerifyPayload is the challenge sent to a webhook before it gets deliveries.
type VerifyPayload struct {
	Version   string          `json:"version"`
	WebhookID string          `json:"webhookId"`
	EventName string          `json:"eventName"`
	Payload   VerifyChallenge `json:"payload"`
}

type VerifyChallenge struct {
	Challenge string `json:"challenge"`
}

// VerifyEventV3 is v3's VERIFY event, sent to webhooks used through the management API v3:
// {"eventId","eventType":"VERIFY","data":{"challenge"},"meta":{"version":"4.0",…}}. The answer
// is the same: {"challenge": hex(HMAC-SHA256(management token, challenge))}.
type VerifyEventV3 struct {
	EventID   string          `json:"eventId"`
	EventType string          `json:"eventType"`
	Data      VerifyChallenge `json:"data"`
	Meta      VerifyMetaV3    `json:"meta"`
}

type VerifyMetaV3 struct {
	Version     string `json:"version"`
	WebhookID   string `json:"webhookId"`
	WebhookName string `json:"webhookName"`
	DeliveryID  string `json:"deliveryId"`
	DeliveredAt int64  `json:"deliveredAt"` // epoch milliseconds
}

// Event is a VEHICLE_STATE or VEHICLE_ERROR delivery.
type Event struct {
	EventID   string    `json:"eventId"`
	EventType string    `json:"eventType"`
	Data      EventData `json:"data"`
	Triggers  []Trigger `json:"triggers,omitempty"` // VEHICLE_STATE only
	Meta      EventMeta `json:"meta"`
}

type EventData struct {
	User    EventUser     `json:"user"`
	Vehicle EventVehicle  `json:"vehicle"`
	Signals []EventSignal `json:"signals,omitempty"` // VEHICLE_STATE
	Errors  []EventError  `json:"errors,omitempty"`  // VEHICLE_ERROR
}

type EventUser struct {
	ID string `json:"id"`
}

type EventVehicle struct {
	ID    string `json:"id"`
	Make  string `json:"make"`
	Model string `json:"model"`
	Year  int    `json:"year"`
	VIN   string `json:"vin"`
}

// EventSignal is one signal, its body as GET /v3/vehicles/{id}/signals/{code} has it.
type EventSignal struct {
	Code  string     `json:"code"`
	Name  string     `json:"name"`
	Group string     `json:"group"`
	Body  any        `json:"body"`
	Meta  SignalMeta `json:"meta"`
}

// SignalMeta times are epoch milliseconds.
type SignalMeta struct {
	RetrievedAt  int64 `json:"retrievedAt"`
	OemUpdatedAt int64 `json:"oemUpdatedAt"`
}

// Trigger says why a VEHICLE_STATE was sent: SIGNAL_UPDATED (with the signal) or
// FIRST_DELIVERY (the first delivery after subscribing).
type Trigger struct {
	Type   string         `json:"type"`
	Signal *TriggerSignal `json:"signal,omitempty"`
}

type TriggerSignal struct {
	Code  string `json:"code"`
	Name  string `json:"name"`
	Group string `json:"group"`
}

// EventError is a Smartcar error the vehicle ran into (e.g. a command refused by its state).
type EventError struct {
	Type        string `json:"type"`
	Code        string `json:"code"`
	Description string `json:"description"`
	Resolution  string `json:"resolution,omitempty"`
	State       string `json:"state"` // ERROR
}

type EventMeta struct {
	Version     string `json:"version"`
	DeliveryID  string `json:"deliveryId"`
	DeliveredAt int64  `json:"deliveredAt"` // epoch milliseconds
	WebhookID   string `json:"webhookId"`
	WebhookName string `json:"webhookName"`
	SignalCount int    `json:"signalCount"`
	Mode        string `json:"mode"` // LIVE or SIMULATED
}

// Trigger types.
const (
	TriggerSignalUpdated = "SIGNAL_UPDATED"
	TriggerFirstDelivery = "FIRST_DELIVERY"
)
