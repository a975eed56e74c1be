package dashboard

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/mux"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/simulator"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
)

// event is one server-sent event.
type event struct{ name, data string }

// hub fans events out to the open event streams. A slow page loses events rather than
// slowing the store (the store's hooks run on the updater's goroutine): each stream has a
// small buffer and the page re-reads through the admin API on what it does get.
type hub struct {
	mu   sync.Mutex
	subs map[chan event]struct{}
}

func newHub() *hub { return &hub{subs: make(map[chan event]struct{})} }

func (h *hub) subscribe() chan event {
	c := make(chan event, 64)
	h.mu.Lock()
	h.subs[c] = struct{}{}
	h.mu.Unlock()
	return c
}

func (h *hub) unsubscribe(c chan event) {
	h.mu.Lock()
	delete(h.subs, c)
	h.mu.Unlock()
}

// watched reports whether any stream is open.
func (h *hub) watched() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs) > 0
}

func (h *hub) publish(e event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.subs {
		select {
		case c <- e:
		default: // full: this page is behind; it catches up at its next event
		}
	}
}

// vehicleChanged is the store's change hook: the vehicle as GET /admin/vehicles/{id} shows it.
// It runs on every vehicle update, so with no page open it does no more than look.
func (d *Dashboard) vehicleChanged(_, after sandbox.Vehicle) {
	if !d.hub.watched() {
		return
	}
	d.hub.publish(event{name: "vehicle", data: string(mustJSON(after))})
}

// streamLifetime ends a stream before the server's write timeout would cut it; the browser's
// EventSource reconnects by itself.
const streamLifetime = 25 * time.Second

// requestsPoll is how often a stream looks for a new request log entry. Watching from the
// stream, rather than hooking every API request, keeps the API's hot path free of dashboard
// work; a person does not notice a quarter of a second.
const requestsPoll = 250 * time.Millisecond

// events is the server-sent event stream: "vehicle" with the changed vehicle, "requests"
// when the request log has a new entry (or was cleared), and a comment every few seconds to
// keep it open.
func (d *Dashboard) events(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	c := d.hub.subscribe()
	defer d.hub.unsubscribe(c)
	if _, err := fmt.Fprint(w, "retry: 1000\n: connected\n\n"); err != nil || rc.Flush() != nil {
		return
	}
	end := time.NewTimer(streamLifetime)
	defer end.Stop()
	ping := time.NewTicker(10 * time.Second)
	defer ping.Stop()
	poll := time.NewTicker(requestsPoll)
	defer poll.Stop()
	newest := d.newestRequest()
	for {
		var err error
		select {
		case <-poll.C:
			n := d.newestRequest()
			if n == newest {
				continue
			}
			newest = n
			_, err = fmt.Fprint(w, "event: requests\ndata: {}\n\n")
		case <-r.Context().Done():
			return
		case <-d.o.Stopping: // nil (never) unless the server set it
			return
		case <-end.C:
			return
		case <-ping.C:
			_, err = fmt.Fprint(w, ": ping\n\n")
		case e := <-c:
			_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.name, e.data)
		}
		if err != nil || rc.Flush() != nil {
			return
		}
	}
}

// newestRequest identifies the request log's newest entry ("" when empty).
func (d *Dashboard) newestRequest() string {
	if l := d.o.Requests.List(1); len(l) > 0 {
		return l[0].RequestID + l[0].Time.String()
	}
	return ""
}

// --- vehicle commands ---

// command runs lock, unlock, start-charge or stop-charge on a vehicle with the rules the
// vehicle APIs use, without a token: the admin has every permission. A refusal (a driving
// car cannot lock) answers with the Smartcar error the API would give.
func (d *Dashboard) command(w http.ResponseWriter, r *http.Request) {
	id, cmd := mux.Vars(r)["id"], mux.Vars(r)["command"]
	var apply func(v *sandbox.Vehicle) *sandbox.Error
	switch cmd {
	case "lock", "unlock":
		action := sandbox.CommandLock
		if cmd == "unlock" {
			action = sandbox.CommandUnlock
		}
		apply = func(v *sandbox.Vehicle) *sandbox.Error {
			if e := sandbox.CommandRefusal(*v, action); e != nil {
				return e
			}
			v.State.Security.SetLocked(action == sandbox.CommandLock)
			return nil
		}
	case "start-charge", "stop-charge":
		action := sandbox.CommandStartCharge
		if cmd == "stop-charge" {
			action = sandbox.CommandStopCharge
		}
		apply = func(v *sandbox.Vehicle) *sandbox.Error { return v.ChargeCommand(action) }
	default:
		writeErr(w, r, http.StatusNotFound, "not_found", "no command "+cmd+"; want lock, unlock, start-charge or stop-charge")
		return
	}
	now := d.o.Now().UTC()
	v, err := d.o.Store.UpdateVehicle(id, func(v *sandbox.Vehicle) error {
		if e := apply(v); e != nil {
			return e
		}
		v.State.UpdatedAt = now
		return nil
	})
	var se *sandbox.Error
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeErr(w, r, http.StatusNotFound, "not_found", "no vehicle "+id)
	case errors.As(err, &se):
		writeErr(w, r, se.Status(), se.Type+":"+se.Code, se.Description)
	case err != nil:
		writeErr(w, r, http.StatusInternalServerError, "internal", "the sandbox failed: "+err.Error())
	default:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(mustJSON(v))
	}
}

// route answers a simulated vehicle's loop, as the simulator drives it, for the page's SVG:
// {"simulated": true, "route": [{"latitude":…,"longitude":…}, …]}.
func (d *Dashboard) route(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	v, ok := d.o.Store.Vehicle(id)
	if !ok {
		writeErr(w, r, http.StatusNotFound, "not_found", "no vehicle "+id)
		return
	}
	type point struct {
		Latitude  float64 `json:"latitude"`
		Longitude float64 `json:"longitude"`
	}
	out := struct {
		Simulated bool    `json:"simulated"`
		Route     []point `json:"route"`
	}{Simulated: v.Simulated(), Route: []point{}}
	// Before its first tick a simulated vehicle has not joined: its loop starts where it is.
	start := v.State.Trip.Start.Location
	if v.State.Trip.JoinedAt.IsZero() {
		start = v.State.Location
	}
	if out.Simulated {
		for _, p := range simulator.NewProfile(d.o.SimSeed, v.ID, start).Route {
			out.Route = append(out.Route, point{p.Latitude, p.Longitude})
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(mustJSON(out))
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(`{}`)
	}
	return b
}
