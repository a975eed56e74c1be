package vehicleapiv3

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/scapi"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/signals"
)

// SignalResource is one v3 signal (unwrapped, as GETSIG and the SDKs show it).
type SignalResource struct {
	ID         string           `json:"id"`
	Type       string           `json:"type"`
	Attributes SignalAttributes `json:"attributes"`
	Meta       SignalMeta       `json:"meta"`
	Links      SignalLinks      `json:"links"`
}

type SignalAttributes struct {
	Code   string       `json:"code"`
	Name   string       `json:"name"`
	Group  string       `json:"group"`
	Status SignalStatus `json:"status"`
	Body   any          `json:"body"`
}

type SignalStatus struct {
	Value string `json:"value"`
}

// SignalMeta times are epoch milliseconds, as the SDK fixtures and webhook docs show.
type SignalMeta struct {
	RetrievedAt  int64 `json:"retrievedAt"`
	OemUpdatedAt int64 `json:"oemUpdatedAt"`
}

type SignalLinks struct {
	Self    string `json:"self"`
	Vehicle string `json:"vehicle"`
}

func (a *API) signalResource(d *signals.Signal, acc *scapi.Access, u scapi.Units) SignalResource {
	v := acc.Vehicle
	return SignalResource{
		ID:   d.Code,
		Type: "signal",
		Attributes: SignalAttributes{
			Code: d.Code, Name: d.Name, Group: d.Group,
			Status: SignalStatus{"SUCCESS"},
			Body:   d.Body(v, u),
		},
		Meta:  SignalMeta{RetrievedAt: epochMillis(a.Now()), OemUpdatedAt: epochMillis(v.State.UpdatedAt)},
		Links: SignalLinks{Self: "/vehicles/" + v.ID + "/signals/" + d.Code, Vehicle: "/vehicles/" + v.ID},
	}
}

// Signal serves GET /v3/vehicles/{id}/signals/{code}.
func (a *API) Signal(w http.ResponseWriter, r *http.Request) error {
	vars := mux.Vars(r)
	u, err := scapi.UnitsOf(r)
	if err != nil {
		return err
	}
	acc, err := a.Auth.Vehicle(r, vars["id"], "", scapi.ConnectOrApp)
	if err != nil {
		return err
	}
	code := strings.ToLower(vars["code"])
	d, ok := signals.Lookup(code)
	if !ok {
		return sandbox.Errorf(sandbox.TypeResourceNotFound, "PATH", "Unknown signal %q. GET /v3/vehicles/%s/signals lists the signals this vehicle has.", vars["code"], acc.Vehicle.ID)
	}
	if !acc.Has(d.Permission) {
		return sandbox.Errorf(sandbox.TypePermission, "", "Reading signal %s needs the %s permission, which was not granted for vehicle %s.", d.Code, d.Permission, acc.Vehicle.ID)
	}
	if !d.Has(acc.Vehicle) {
		return sandbox.Errorf(sandbox.TypeCompatibility, "VEHICLE_NOT_CAPABLE", "The vehicle is not capable of this request: a %s (%s) has no %s signal.", acc.Vehicle.Powertrain, acc.Vehicle.Make+" "+acc.Vehicle.Model, d.Code)
	}
	scapi.SetDataHeaders(w.Header(), u, acc.Vehicle.State.UpdatedAt, a.Now())
	scapi.WriteJSON(w, http.StatusOK, a.signalResource(d, acc, u))
	return nil
}

// SignalList is the page GET /v3/vehicles/{id}/signals returns.
type SignalList struct {
	Data     []SignalResource `json:"data"`
	Meta     PageMeta         `json:"meta"`
	Links    PageLinks        `json:"links"`
	Included Included         `json:"included"`
}

// Included is an object keyed by kind, not a JSON:API array (GETSIGS, Java SDK fixture).
type Included struct {
	Vehicle VehicleResource `json:"vehicle"`
}

// Signals serves GET /v3/vehicles/{id}/signals: the signals the vehicle has and the grant
// permits, in catalogue order, paged.
func (a *API) Signals(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	u, err := scapi.UnitsOf(r)
	if err != nil {
		return err
	}
	q, err := readQuery(r, "page", "pageSize", "page[number]", "page[size]")
	if err != nil {
		return err
	}
	pg, err := q.page([]string{"page[number]", "page"}, []string{"page[size]", "pageSize"}, DefaultPageSize, MaxPageSize)
	if err != nil {
		return err
	}
	acc, err := a.Auth.Vehicle(r, id, "", scapi.ConnectOrApp)
	if err != nil {
		return err
	}
	var visible []*signals.Signal
	for d := range signals.All() {
		if d.Has(acc.Vehicle) && acc.Has(d.Permission) {
			visible = append(visible, d)
		}
	}
	lo, hi := pg.window(len(visible))
	out := SignalList{
		Data:     make([]SignalResource, 0, hi-lo),
		Meta:     pg.meta(len(visible)),
		Links:    pg.links("/vehicles/"+acc.Vehicle.ID+"/signals", nil, len(visible)),
		Included: Included{Vehicle: vehicleResource(acc.Vehicle)},
	}
	for _, d := range visible[lo:hi] {
		out.Data = append(out.Data, a.signalResource(d, acc, u))
	}
	scapi.SetDataHeaders(w.Header(), u, acc.Vehicle.State.UpdatedAt, a.Now())
	scapi.WriteJSON(w, http.StatusOK, out)
	return nil
}
