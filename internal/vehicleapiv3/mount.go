package vehicleapiv3

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/route"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/scapi"
)

// Mount declares the vehicle API v3 (vehicle.api.smartcar.com/v3): the vehicle, its signals,
// a route per command of CommandPaths and SchedulePaths, command executions and connections.
func (a *API) Mount(r *mux.Router) {
	on := func(method, path string, h scapi.HandlerFunc) *mux.Route {
		return route.Handle(r, path, scapi.Handle(scapi.V3, h)).Methods(method)
	}
	get, post, del := http.MethodGet, http.MethodPost, http.MethodDelete
	on(get, "/v3/vehicles/{id}", a.Vehicle)
	on(get, "/v3/vehicles/{id}/signals", a.Signals)
	on(get, "/v3/vehicles/{id}/signals/{code}", a.Signal)
	for _, c := range CommandPaths {
		on(post, "/v3/vehicles/{id}/commands/"+c.Path, a.Command(c.Type))
	}
	// A kind's name is not a schedule id: DELETE …/charge-schedules/daily is a wrong method
	// (405, Allow: POST), not a delete of schedule "daily". Declared before the kinds' POST
	// routes: gorilla/mux forgets an earlier route's method mismatch when a later route's path
	// matches, so this order is what keeps the 405.
	on(del, "/v3/vehicles/{id}/charge-schedules/{scheduleId}", a.Command(CmdScheduleDelete)).
		MatcherFunc(func(req *http.Request, _ *mux.RouteMatch) bool {
			last := req.URL.Path[strings.LastIndexByte(req.URL.Path, '/')+1:]
			for _, c := range SchedulePaths {
				if last == c.Path {
					return false
				}
			}
			return true
		})
	for _, c := range SchedulePaths {
		on(post, "/v3/vehicles/{id}/charge-schedules/"+c.Path, a.Command(c.Type))
	}
	on(get, "/v3/vehicles/{id}/command-executions/{executionId}", a.CommandExecution)
	on(get, "/v3/connections", a.Connections)
	on(get, "/v3/connections/{id}", a.Connection)
	on(del, "/v3/connections/{id}", a.DeleteConnection)
	on(del, "/v3/users/{userId}", a.DeleteUser)
}
