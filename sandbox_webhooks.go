package sandbox

import "time"

// Webhook event types (smartcar-api-v3.md §5).
const (
	EventVerify       = "VERIFY"
	EventVehicleState = "VEHICLE_STATE"
	EventVehicleError = "VEHICLE_ERROR"
)

// Webhook is a webhook an application declares in fixtures; vehicles subscribe to it
// through POST /v2.0/vehicles/{id}/webhooks/{webhookId}. Deliveries go only to URL.
type Webhook struct {
	ID   string `json:"id" yaml:"id"` // UUID
	Name string `json:"name" yaml:"name,omitempty"`
	URL  string `json:"url" yaml:"url"`
	// Events are the event types delivered: VEHICLE_STATE and/or VEHICLE_ERROR (empty: both).
	Events []string `json:"events,omitempty" yaml:"events,omitempty,flow"`
	// Signals are the v3 signal codes that trigger a VEHICLE_STATE delivery and that it
	// carries (empty: every signal the vehicle has).
	Signals []string `json:"signals,omitempty" yaml:"signals,omitempty,flow"`
	// Interval, when > 0, is the least time between two deliveries for one vehicle; changes
	// in between are batched into one delivery.
	Interval time.Duration `json:"interval,omitempty" yaml:"interval,omitempty"`
}

// Delivers reports whether the webhook delivers events of type eventType.
func (w Webhook) Delivers(eventType string) bool {
	if len(w.Events) == 0 {
		return eventType == EventVehicleState || eventType == EventVehicleError
	}
	for _, e := range w.Events {
		if e == eventType {
			return true
		}
	}
	return false
}
