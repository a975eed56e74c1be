package vehicleapiv3

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
)

// Charge schedules (CMDS' charge-schedule pages; bodies from third-party notes of the spec):
// POST /vehicles/{id}/charge-schedules/daily {"data":{"attributes":{"startTime":"22:00","stopTime":"06:00"}}},
// …/weekly {"days":{"monday":{"startTime","stopTime"},…}}, …/workweek {"weekdays":{…},"weekends":{…}},
// each with an optional "location"; DELETE …/charge-schedules/{scheduleId}. The schedule is kept
// in the vehicle's state (sandbox.Charge.Schedules, one per kind, a new one replacing the old)
// and shows in charge-chargetimers. Which makes are capable is the domain's rule
// (sandbox.Vehicle.SetChargeSchedule).

type windowBody struct {
	StartTime *string `json:"startTime"`
	StopTime  *string `json:"stopTime"`
}

// window reads {"startTime":"HH:MM","stopTime":"HH:MM"} at field.
func window(raw json.RawMessage, field string) (sandbox.ScheduleWindow, error) {
	var w windowBody
	if err := json.Unmarshal(raw, &w); err != nil || w.StartTime == nil || w.StopTime == nil {
		return sandbox.ScheduleWindow{}, badBody(field, "%s must be {\"startTime\":\"HH:MM\",\"stopTime\":\"HH:MM\"}", field)
	}
	for _, t := range []string{*w.StartTime, *w.StopTime} {
		if _, err := time.Parse("15:04", t); err != nil || len(t) != 5 {
			return sandbox.ScheduleWindow{}, badBody(field, "%s: %q is not a 24-hour HH:MM time", field, t)
		}
	}
	return sandbox.ScheduleWindow{StartTime: *w.StartTime, StopTime: *w.StopTime}, nil
}

// scheduleBuilder reads a schedule of kind and returns the execution's parameters (the
// attributes as read, and the new schedule's id) and the change that stores it.
func scheduleBuilder(kind string) func(*http.Request, map[string]json.RawMessage) (map[string]any, func(*sandbox.Vehicle) *sandbox.Error, error) {
	return func(_ *http.Request, attrs map[string]json.RawMessage) (map[string]any, func(*sandbox.Vehicle) *sandbox.Error, error) {
		s := sandbox.ChargeSchedule{ID: sandbox.NewUUID()}
		params := map[string]any{"scheduleId": s.ID}
		if raw, ok := attrs["location"]; ok {
			var loc struct{ Latitude, Longitude *float64 }
			if json.Unmarshal(raw, &loc) != nil || loc.Latitude == nil || loc.Longitude == nil {
				return nil, nil, badBody("data.attributes.location", "location must be {\"latitude\":…,\"longitude\":…}")
			}
			params["location"] = map[string]float64{"latitude": *loc.Latitude, "longitude": *loc.Longitude}
		}
		echo := func(w sandbox.ScheduleWindow) map[string]string {
			return map[string]string{"startTime": w.StartTime, "stopTime": w.StopTime}
		}
		switch kind {
		case sandbox.ScheduleDaily:
			raw, _ := json.Marshal(map[string]json.RawMessage{"startTime": attrs["startTime"], "stopTime": attrs["stopTime"]})
			w, err := window(raw, "data.attributes")
			if err != nil {
				return nil, nil, err
			}
			s.Windows[0] = w
			params["startTime"], params["stopTime"] = w.StartTime, w.StopTime
		case sandbox.ScheduleWeekly:
			var days map[string]json.RawMessage
			if json.Unmarshal(attrs["days"], &days) != nil || len(days) == 0 {
				return nil, nil, badBody("data.attributes.days", "days must be an object of monday…sunday, each {\"startTime\",\"stopTime\"}")
			}
			out := map[string]any{}
			for name := range days {
				i := dayIndex(name)
				if i < 0 {
					return nil, nil, badBody("data.attributes.days", "days: %q is not a day (monday…sunday)", name)
				}
				w, err := window(days[name], "data.attributes.days."+name)
				if err != nil {
					return nil, nil, err
				}
				s.Windows[i] = w
				out[name] = echo(w)
			}
			params["days"] = out
		case sandbox.ScheduleWorkweek:
			n := 0
			for i, part := range sandbox.ScheduleWindowNames[sandbox.ScheduleWorkweek] {
				raw, ok := attrs[part]
				if !ok {
					continue
				}
				w, err := window(raw, "data.attributes."+part)
				if err != nil {
					return nil, nil, err
				}
				s.Windows[i] = w
				params[part] = echo(w)
				n++
			}
			if n == 0 {
				return nil, nil, badBody("data.attributes", "a workweek schedule needs weekdays and/or weekends, each {\"startTime\",\"stopTime\"}")
			}
		}
		return params, func(v *sandbox.Vehicle) *sandbox.Error { return v.SetChargeSchedule(kind, s) }, nil
	}
}

func dayIndex(name string) int {
	for i, d := range sandbox.ScheduleWindowNames[sandbox.ScheduleWeekly] {
		if d == name {
			return i
		}
	}
	return -1
}

// deleteSchedule is DELETE …/charge-schedules/{scheduleId}.
func deleteSchedule(r *http.Request, _ map[string]json.RawMessage) (map[string]any, func(*sandbox.Vehicle) *sandbox.Error, error) {
	id := mux.Vars(r)["scheduleId"]
	return map[string]any{"scheduleId": id}, func(v *sandbox.Vehicle) *sandbox.Error { return v.DeleteChargeSchedule(id) }, nil
}
