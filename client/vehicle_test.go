package client

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"
)

var testMetaHeaders = map[string]string{
	"Content-Type":   "application/json",
	"SC-Request-Id":  "req-1",
	"SC-Data-Age":    "2026-01-02T03:00:00.000Z",
	"SC-Fetched-At":  "2026-01-02T03:04:00.000Z",
	"SC-Unit-System": "imperial",
}

var testMeta = Meta{
	RequestID:  "req-1",
	DataAge:    time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC),
	FetchedAt:  time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC),
	UnitSystem: Imperial,
}

func TestVehicleAPI(t *testing.T) {
	ctx := context.Background()
	type call func(c *Client, v *Vehicle) (any, error)
	tests := []struct {
		name                   string
		call                   call
		method, path, rawQuery string
		reqBody                string // JSON; "" means no body
		respBody               string
		want                   any
	}{
		{"user", func(c *Client, v *Vehicle) (any, error) { return c.User(ctx, "tok") },
			"GET", "/v2.0/user", "", "", `{"id":"u1"}`, &User{ID: "u1", Meta: testMeta}},
		{"vehicles", func(c *Client, v *Vehicle) (any, error) { return c.Vehicles(ctx, "tok", 5, 10) },
			"GET", "/v2.0/vehicles", "limit=5&offset=10", "", `{"vehicles":["a","b"],"paging":{"count":12,"offset":10}}`,
			&VehicleIDs{Vehicles: []string{"a", "b"}, Paging: Paging{Count: 12, Offset: 10}, Meta: testMeta}},
		{"vehicles no paging", func(c *Client, v *Vehicle) (any, error) { return c.Vehicles(ctx, "tok", 0, 0) },
			"GET", "/v2.0/vehicles", "", "", `{"vehicles":[],"paging":{"count":0,"offset":0}}`,
			&VehicleIDs{Vehicles: []string{}, Meta: testMeta}},
		{"attributes", func(c *Client, v *Vehicle) (any, error) { return v.Attributes(ctx) },
			"GET", "/v2.0/vehicles/veh-1", "", "", `{"id":"veh-1","make":"TESLA","model":"Model S","year":2014}`,
			&Attributes{ID: "veh-1", Make: "TESLA", Model: "Model S", Year: 2014, Meta: testMeta}},
		{"vin", func(c *Client, v *Vehicle) (any, error) { return v.VIN(ctx) },
			"GET", "/v2.0/vehicles/veh-1/vin", "", "", `{"vin":"1234A67Q90F2T4567"}`, &VIN{VIN: "1234A67Q90F2T4567", Meta: testMeta}},
		{"odometer", func(c *Client, v *Vehicle) (any, error) { return v.Odometer(ctx) },
			"GET", "/v2.0/vehicles/veh-1/odometer", "", "", `{"distance":104.32}`, &Odometer{Distance: 104.32, Meta: testMeta}},
		{"location", func(c *Client, v *Vehicle) (any, error) { return v.Location(ctx) },
			"GET", "/v2.0/vehicles/veh-1/location", "", "", `{"latitude":37.4292,"longitude":-122.1382}`,
			&Location{Latitude: 37.4292, Longitude: -122.1382, Meta: testMeta}},
		{"fuel", func(c *Client, v *Vehicle) (any, error) { return v.Fuel(ctx) },
			"GET", "/v2.0/vehicles/veh-1/fuel", "", "", `{"range":40.5,"percentRemaining":0.3,"amountRemaining":53.2}`,
			&Fuel{Range: 40.5, PercentRemaining: 0.3, AmountRemaining: 53.2, Meta: testMeta}},
		{"battery", func(c *Client, v *Vehicle) (any, error) { return v.Battery(ctx) },
			"GET", "/v2.0/vehicles/veh-1/battery", "", "", `{"range":40.5,"percentRemaining":0.3}`,
			&Battery{Range: 40.5, PercentRemaining: 0.3, Meta: testMeta}},
		{"battery capacity", func(c *Client, v *Vehicle) (any, error) { return v.BatteryCapacity(ctx) },
			"GET", "/v2.0/vehicles/veh-1/battery/capacity", "", "", `{"capacity":28}`, &BatteryCapacity{Capacity: 28, Meta: testMeta}},
		{"charge", func(c *Client, v *Vehicle) (any, error) { return v.Charge(ctx) },
			"GET", "/v2.0/vehicles/veh-1/charge", "", "", `{"isPluggedIn":true,"state":"FULLY_CHARGED"}`,
			&Charge{IsPluggedIn: true, State: "FULLY_CHARGED", Meta: testMeta}},
		{"charge limit", func(c *Client, v *Vehicle) (any, error) { return v.ChargeLimit(ctx) },
			"GET", "/v2.0/vehicles/veh-1/charge/limit", "", "", `{"limit":0.8}`, &ChargeLimit{Limit: 0.8, Meta: testMeta}},
		{"engine oil", func(c *Client, v *Vehicle) (any, error) { return v.EngineOil(ctx) },
			"GET", "/v2.0/vehicles/veh-1/engine/oil", "", "", `{"lifeRemaining":0.86}`, &EngineOil{LifeRemaining: 0.86, Meta: testMeta}},
		{"tire pressure", func(c *Client, v *Vehicle) (any, error) { return v.TirePressure(ctx) },
			"GET", "/v2.0/vehicles/veh-1/tires/pressure", "", "", `{"frontLeft":219.3,"frontRight":219.4,"backLeft":219.5,"backRight":219.6}`,
			&TirePressure{FrontLeft: 219.3, FrontRight: 219.4, BackLeft: 219.5, BackRight: 219.6, Meta: testMeta}},
		{"lock status", func(c *Client, v *Vehicle) (any, error) { return v.LockStatus(ctx) },
			"GET", "/v2.0/vehicles/veh-1/security", "", "",
			`{"isLocked":true,"doors":[{"type":"frontLeft","status":"LOCKED"}],"windows":[{"type":"frontLeft","status":"CLOSED"}],"sunroof":[{"type":"sunroof","status":"CLOSED"}],"storage":[{"type":"rear","status":"CLOSED"}],"chargingPort":[{"type":"chargingPort","status":"CLOSED"}]}`,
			&Security{IsLocked: true, Doors: []OpeningStatus{{"frontLeft", "LOCKED"}}, Windows: []OpeningStatus{{"frontLeft", "CLOSED"}},
				Sunroof: []OpeningStatus{{"sunroof", "CLOSED"}}, Storage: []OpeningStatus{{"rear", "CLOSED"}},
				ChargingPort: []OpeningStatus{{"chargingPort", "CLOSED"}}, Meta: testMeta}},
		{"permissions", func(c *Client, v *Vehicle) (any, error) { return v.Permissions(ctx, 10, 0) },
			"GET", "/v2.0/vehicles/veh-1/permissions", "limit=10", "", `{"permissions":["read_vin"],"paging":{"count":1,"offset":0}}`,
			&Permissions{Permissions: []string{"read_vin"}, Paging: Paging{Count: 1}, Meta: testMeta}},
		{"lock", func(c *Client, v *Vehicle) (any, error) { return v.Lock(ctx) },
			"POST", "/v2.0/vehicles/veh-1/security", "", `{"action":"LOCK"}`, `{"status":"success"}`, &ActionResult{Status: "success", Meta: testMeta}},
		{"unlock", func(c *Client, v *Vehicle) (any, error) { return v.Unlock(ctx) },
			"POST", "/v2.0/vehicles/veh-1/security", "", `{"action":"UNLOCK"}`, `{"status":"success"}`, &ActionResult{Status: "success", Meta: testMeta}},
		{"start charge", func(c *Client, v *Vehicle) (any, error) { return v.StartCharge(ctx) },
			"POST", "/v2.0/vehicles/veh-1/charge", "", `{"action":"START"}`, `{"status":"success"}`, &ActionResult{Status: "success", Meta: testMeta}},
		{"stop charge", func(c *Client, v *Vehicle) (any, error) { return v.StopCharge(ctx) },
			"POST", "/v2.0/vehicles/veh-1/charge", "", `{"action":"STOP"}`, `{"status":"success"}`, &ActionResult{Status: "success", Meta: testMeta}},
		{"set charge limit", func(c *Client, v *Vehicle) (any, error) { return v.SetChargeLimit(ctx, 0.8) },
			"POST", "/v2.0/vehicles/veh-1/charge/limit", "", `{"limit":0.8}`, `{"status":"success","message":"ok"}`,
			&ActionResult{Status: "success", Message: "ok", Meta: testMeta}},
		{"disconnect", func(c *Client, v *Vehicle) (any, error) { return v.Disconnect(ctx) },
			"DELETE", "/v2.0/vehicles/veh-1/application", "", "", `{"status":"success"}`, &ActionResult{Status: "success", Meta: testMeta}},
		{"connections", func(c *Client, v *Vehicle) (any, error) {
			return c.Connections(ctx, "amt", ConnectionsFilter{UserID: "u1"}, ConnectionsPaging{Limit: 2, Cursor: "cur"})
		}, "GET", "/v2.0/management/connections", "cursor=cur&limit=2&user_id=u1", "",
			`{"connections":[{"userId":"u1","vehicleId":"v1","connectedAt":"2026-01-01T00:00:00.000Z"}],"paging":{"cursor":"next"}}`,
			func() any {
				c := &Connections{Connections: []Connection{{UserID: "u1", VehicleID: "v1", ConnectedAt: "2026-01-01T00:00:00.000Z"}}, Meta: testMeta}
				c.Paging.Cursor = "next"
				return c
			}()},
		{"delete connections", func(c *Client, v *Vehicle) (any, error) {
			return c.DeleteConnections(ctx, "amt", ConnectionsFilter{VehicleID: "v1"})
		}, "DELETE", "/v2.0/management/connections", "vehicle_id=v1", "", `{"connections":[{"userId":"u1","vehicleId":"v1"}]}`,
			&DeletedConnections{Connections: []Connection{{UserID: "u1", VehicleID: "v1"}}, Meta: testMeta}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, 200, tt.respBody, testMetaHeaders)
			c := newTestClient(t, f.URL)
			got, err := tt.call(c, c.Vehicle("veh-1", "tok").WithUnitSystem(Imperial))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			r := f.last(t)
			if r.Method != tt.method || r.Path != tt.path || r.RawQuery != tt.rawQuery {
				t.Errorf("request = %s %s?%s, want %s %s?%s", r.Method, r.Path, r.RawQuery, tt.method, tt.path, tt.rawQuery)
			}
			wantAuth := "Bearer tok"
			if tt.path == "/v2.0/management/connections" {
				wantAuth = basic("default", "amt")
			}
			if a := r.Header.Get("Authorization"); a != wantAuth {
				t.Errorf("Authorization = %q, want %q", a, wantAuth)
			}
			isVehicle := len(tt.path) > len("/v2.0/vehicles/") && tt.path[:len("/v2.0/vehicles/")] == "/v2.0/vehicles/"
			if u := r.Header.Get("SC-Unit-System"); isVehicle && u != "imperial" {
				t.Errorf("SC-Unit-System = %q", u)
			}
			if tt.reqBody == "" {
				if r.Body != "" {
					t.Errorf("unexpected body %q", r.Body)
				}
				return
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			var gotBody, wantBody any
			if err := json.Unmarshal([]byte(r.Body), &gotBody); err != nil {
				t.Fatalf("body %q: %v", r.Body, err)
			}
			json.Unmarshal([]byte(tt.reqBody), &wantBody)
			if !reflect.DeepEqual(gotBody, wantBody) {
				t.Errorf("body = %s, want %s", r.Body, tt.reqBody)
			}
		})
	}
}

func TestVehicleBadInput(t *testing.T) {
	ctx := context.Background()
	f := newFake(t, 200, `{}`, nil)
	c := newTestClient(t, f.URL)
	checks := map[string]func() error{
		"empty id":           func() error { _, err := c.Vehicle("", "tok").Odometer(ctx); return err },
		"empty token":        func() error { _, err := c.Vehicle("v", "").Odometer(ctx); return err },
		"limit > 1":          func() error { _, err := c.Vehicle("v", "tok").SetChargeLimit(ctx, 1.5); return err },
		"batch without path": func() error { _, err := c.Vehicle("v", "tok").Batch(ctx); return err },
		"delete both":        func() error { _, err := c.DeleteConnections(ctx, "amt", ConnectionsFilter{"u", "v"}); return err },
		"delete neither":     func() error { _, err := c.DeleteConnections(ctx, "amt", ConnectionsFilter{}); return err },
		"no mgmt token":      func() error { _, err := c.Connections(ctx, "", ConnectionsFilter{}, ConnectionsPaging{}); return err },
	}
	for name, fn := range checks {
		if err := fn(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) != 0 {
		t.Errorf("bad input reached the server %d times", len(f.reqs))
	}
}

func TestVehicleIDIsEscaped(t *testing.T) {
	f := newFake(t, 200, `{"distance":1}`, nil)
	c := newTestClient(t, f.URL)
	if _, err := c.Vehicle("a/b", "tok").Odometer(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The server sees the decoded path; what matters is that "/b" did not become a path segment.
	if r := f.last(t); r.Path != "/v2.0/vehicles/a/b/odometer" && r.Path != "/v2.0/vehicles/a%2Fb/odometer" {
		t.Errorf("path = %q", r.Path)
	}
}

func TestBatch(t *testing.T) {
	body := `{"responses":[
	 {"path":"/odometer","code":200,"headers":{"sc-data-age":"2026-01-02T01:00:00.000Z","sc-unit-system":"metric"},"body":{"distance":37829}},
	 {"path":"/location","code":409,"headers":{"content-type":"application/json","sc-request-id":"item-req"},
	  "body":{"type":"VEHICLE_STATE","code":"ASLEEP","description":"asleep","docURL":"d","statusCode":409,"resolution":{"type":"RETRY_LATER"},"suggestedUserMessage":"later"}}]}`
	f := newFake(t, 200, body, testMetaHeaders)
	c := newTestClient(t, f.URL)
	b, err := c.Vehicle("veh-1", "tok").Batch(context.Background(), "/odometer", "location")
	if err != nil {
		t.Fatal(err)
	}
	r := f.last(t)
	if r.Method != "POST" || r.Path != "/v2.0/vehicles/veh-1/batch" {
		t.Errorf("request = %s %s", r.Method, r.Path)
	}
	if want := `{"requests":[{"path":"/odometer"},{"path":"/location"}]}`; r.Body != want {
		t.Errorf("body = %s, want %s", r.Body, want)
	}
	if b.Meta != testMeta {
		t.Errorf("meta = %+v", b.Meta)
	}

	odo, ok := b.Get("odometer")
	if !ok {
		t.Fatal("no /odometer item")
	}
	var o Odometer
	if err := odo.Decode(&o); err != nil {
		t.Fatal(err)
	}
	if o.Distance != 37829 {
		t.Errorf("distance = %v", o.Distance)
	}
	wantMeta := Meta{RequestID: "req-1", DataAge: time.Date(2026, 1, 2, 1, 0, 0, 0, time.UTC),
		FetchedAt: testMeta.FetchedAt, UnitSystem: Metric} // item headers overlay the outer ones
	if m := odo.Meta(); m != wantMeta {
		t.Errorf("item meta = %+v, want %+v", m, wantMeta)
	}

	loc, _ := b.Get("/location")
	var l Location
	err = loc.Decode(&l)
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("failed item err = %v, want *Error", err)
	}
	if se.StatusCode != 409 || se.Type != "VEHICLE_STATE" || se.Code != "ASLEEP" || se.RequestID != "item-req" || se.Resolution.Type != "RETRY_LATER" {
		t.Errorf("item error = %+v", se)
	}
	if _, ok := b.Get("/vin"); ok {
		t.Error("Get found a path that was not requested")
	}

	f.respond(200, `{"nothing":true}`)
	if _, err := c.Vehicle("veh-1", "tok").Batch(context.Background(), "/vin"); err == nil {
		t.Error("batch response without responses accepted")
	}
}
