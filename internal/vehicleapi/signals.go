package vehicleapi

import (
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/scapi"
)

// readCtx is everything a render function may look at: one snapshot of the vehicle (so a
// batch renders every item from the same state), the unit system and the query.
type readCtx struct {
	acc   *scapi.Access
	units scapi.Units
	query url.Values
}

// signal is one readable resource under /v2.0/vehicles/{id}.
type signal struct {
	Path       string // sub-path without leading slash; "" is the attributes
	Permission string // "" means any valid token for the vehicle
	Render     func(readCtx) (any, error)
	// Query validates the query before the permission is checked; nil: the signal reads none.
	// Render parses the same query again (it cannot fail then).
	Query func(url.Values) error
}

// validate checks the query of a read (see signal.Query).
func (s signal) validate(q url.Values) error {
	if s.Query == nil {
		return nil
	}
	return s.Query(q)
}

// signals is the one table of v2.0 reads, used by the routes and by batch.
var signals = []signal{
	{"", "read_vehicle_info", renderAttributes, nil},
	{"vin", "read_vin", renderVIN, nil},
	{"odometer", "read_odometer", renderOdometer, nil},
	{"location", "read_location", renderLocation, nil},
	{"fuel", "read_fuel", renderFuel, nil},
	{"battery", "read_battery", renderBattery, nil},
	{"battery/capacity", "read_battery", renderBatteryCapacity, nil},
	{"battery/nominal_capacity", "read_battery", renderNominalCapacity, nil},
	{"charge", "read_charge", renderCharge, nil},
	{"charge/limit", "read_charge", renderChargeLimit, nil},
	{"engine/oil", "read_engine_oil", renderEngineOil, nil},
	{"tires/pressure", "read_tires", renderTires, nil},
	{"security", "read_security", renderSecurity, nil},
	{"permissions", "", renderPermissions, permissionsQuery},
	{"service/history", "read_service_history", renderServiceHistory, serviceHistoryQuery},
	{"diagnostics/system_status", "read_diagnostics", renderSystemStatus, nil},
	{"diagnostics/dtcs", "read_diagnostics", renderDTCs, nil},
}

var signalByPath = scapi.Index(signals, func(s *signal) string { return s.Path })

// SignalPaths lists the readable sub-paths ("" is the attributes) in table order, for
// callers that document or mount them.
func SignalPaths() []string { return scapi.Column(signals, func(s *signal) string { return s.Path }) }

// --- bodies (field names are the wire names) ---

type Attributes struct {
	ID    string `json:"id"`
	Make  string `json:"make"`
	Model string `json:"model"`
	Year  int    `json:"year"`
}

type VIN struct {
	VIN string `json:"vin"`
}

type Odometer struct {
	Distance float64 `json:"distance"`
}

type Location struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
}

type Fuel struct {
	Range            float64 `json:"range"`
	PercentRemaining float64 `json:"percentRemaining"`
	AmountRemaining  float64 `json:"amountRemaining"`
}

type Battery struct {
	Range            float64 `json:"range"`
	PercentRemaining float64 `json:"percentRemaining"`
}

type BatteryCapacity struct {
	Capacity float64 `json:"capacity"`
}

// NominalCapacity is battery/nominal_capacity. The sandbox knows each battery's capacity, so
// it answers the way Smartcar does once a capacity is settled: the capacity object filled
// in and no url to ask the owner.
type NominalCapacity struct {
	AvailableCapacities []AvailableCapacity `json:"availableCapacities"`
	Capacity            *NominalValue       `json:"capacity"`
	URL                 *string             `json:"url"`
}

type AvailableCapacity struct {
	Capacity    float64 `json:"capacity"`
	Description *string `json:"description"`
}

type NominalValue struct {
	Nominal float64 `json:"nominal"`
	Source  string  `json:"source"`
}

type Charge struct {
	IsPluggedIn bool   `json:"isPluggedIn"`
	State       string `json:"state"`
}

type ChargeLimit struct {
	Limit float64 `json:"limit"`
}

type EngineOil struct {
	LifeRemaining float64 `json:"lifeRemaining"`
}

type TirePressure struct {
	FrontLeft  float64 `json:"frontLeft"`
	FrontRight float64 `json:"frontRight"`
	BackLeft   float64 `json:"backLeft"`
	BackRight  float64 `json:"backRight"`
}

type SecurityStatus struct {
	IsLocked     bool              `json:"isLocked"`
	Doors        []sandbox.Opening `json:"doors"`
	Windows      []sandbox.Opening `json:"windows"`
	Sunroof      []sandbox.Opening `json:"sunroof"`
	Storage      []sandbox.Opening `json:"storage"`
	ChargingPort []sandbox.Opening `json:"chargingPort"`
}

type PermissionsPage struct {
	Permissions []string `json:"permissions"`
	Paging      Paging   `json:"paging"`
}

// Paging is offset paging; Count is the total number of items, not the page size.
type Paging struct {
	Count  int `json:"count"`
	Offset int `json:"offset"`
}

type ServiceRecord struct {
	ServiceID        int            `json:"serviceId"`
	ServiceDate      string         `json:"serviceDate"`
	OdometerDistance float64        `json:"odometerDistance"`
	ServiceTasks     []ServiceTask  `json:"serviceTasks"`
	ServiceDetails   ServiceDetails `json:"serviceDetails"`
	ServiceCost      ServiceCost    `json:"serviceCost"`
}

type ServiceTask struct {
	TaskID          string `json:"taskId"`
	TaskDescription string `json:"taskDescription"`
}

type ServiceDetails struct {
	Type string `json:"type"`
}

type ServiceCost struct {
	TotalCost float64 `json:"totalCost"`
	Currency  string  `json:"currency"`
}

type SystemStatus struct {
	Systems []SystemState `json:"systems"`
}

type SystemState struct {
	SystemID    string  `json:"systemId"`
	Status      string  `json:"status"` // OK or ALERT
	Description *string `json:"description"`
}

type DTCs struct {
	ActiveCodes []DTC `json:"activeCodes"`
}

type DTC struct {
	Code      string `json:"code"`
	Timestamp string `json:"timestamp"`
}

// --- render functions ---

func renderAttributes(c readCtx) (any, error) {
	v := c.acc.Vehicle
	return Attributes{ID: v.ID, Make: v.Make, Model: v.Model, Year: v.Year}, nil
}

func renderVIN(c readCtx) (any, error) { return VIN{VIN: c.acc.Vehicle.VIN}, nil }

func renderOdometer(c readCtx) (any, error) {
	return Odometer{Distance: c.units.Distance(c.acc.Vehicle.State.OdometerKm)}, nil
}

func renderLocation(c readCtx) (any, error) {
	l := c.acc.Vehicle.State.Location
	return Location{Latitude: l.Latitude, Longitude: l.Longitude}, nil
}

func renderFuel(c readCtx) (any, error) {
	f := c.acc.Vehicle.State.Fuel
	if f == nil || !c.acc.Vehicle.Powertrain.HasFuel() {
		return nil, sandbox.VehicleNotCapable("fuel tank")
	}
	return Fuel{Range: c.units.Distance(f.RangeKm), PercentRemaining: f.PercentRemaining, AmountRemaining: c.units.Volume(f.AmountLiters)}, nil
}

func battery(v sandbox.Vehicle) (*sandbox.Battery, error) {
	if v.State.Battery == nil || !v.Powertrain.HasBattery() {
		return nil, sandbox.VehicleNotCapable("high-voltage battery")
	}
	return v.State.Battery, nil
}

func renderBattery(c readCtx) (any, error) {
	b, err := battery(c.acc.Vehicle)
	if err != nil {
		return nil, err
	}
	return Battery{Range: c.units.Distance(b.RangeKm), PercentRemaining: b.PercentRemaining}, nil
}

func renderBatteryCapacity(c readCtx) (any, error) {
	b, err := battery(c.acc.Vehicle)
	if err != nil {
		return nil, err
	}
	return BatteryCapacity{Capacity: b.CapacityKWh}, nil
}

func renderNominalCapacity(c readCtx) (any, error) {
	b, err := battery(c.acc.Vehicle)
	if err != nil {
		return nil, err
	}
	return NominalCapacity{
		AvailableCapacities: []AvailableCapacity{{Capacity: b.CapacityKWh}},
		Capacity:            &NominalValue{Nominal: b.CapacityKWh, Source: "OEM"},
	}, nil
}

func charge(v sandbox.Vehicle) (*sandbox.Charge, error) {
	if v.State.Charge == nil || !v.Powertrain.HasBattery() {
		return nil, sandbox.VehicleNotCapable("charging port")
	}
	return v.State.Charge, nil
}

func renderCharge(c readCtx) (any, error) {
	ch, err := charge(c.acc.Vehicle)
	if err != nil {
		return nil, err
	}
	return Charge{IsPluggedIn: ch.IsPluggedIn, State: ch.State}, nil
}

func renderChargeLimit(c readCtx) (any, error) {
	ch, err := charge(c.acc.Vehicle)
	if err != nil {
		return nil, err
	}
	return ChargeLimit{Limit: ch.Limit}, nil
}

func renderEngineOil(c readCtx) (any, error) {
	o := c.acc.Vehicle.State.EngineOil
	if o == nil || !c.acc.Vehicle.Powertrain.HasFuel() {
		return nil, sandbox.VehicleNotCapable("combustion engine")
	}
	return EngineOil{LifeRemaining: o.LifeRemaining}, nil
}

func renderTires(c readCtx) (any, error) {
	t := c.acc.Vehicle.State.Tires
	u := c.units
	return TirePressure{FrontLeft: u.Pressure(t.FrontLeft), FrontRight: u.Pressure(t.FrontRight), BackLeft: u.Pressure(t.BackLeft), BackRight: u.Pressure(t.BackRight)}, nil
}

// nonNil keeps empty opening lists as [] on the wire: SDKs iterate them.
func nonNil(o []sandbox.Opening) []sandbox.Opening {
	if o == nil {
		return []sandbox.Opening{}
	}
	return o
}

func renderSecurity(c readCtx) (any, error) {
	s := c.acc.Vehicle.State.Security
	return SecurityStatus{
		IsLocked: s.IsLocked(), Doors: nonNil(s.Doors), Windows: nonNil(s.Windows),
		Sunroof: nonNil(s.Sunroof), Storage: nonNil(s.Storage), ChargingPort: nonNil(s.ChargingPort),
	}, nil
}

// permissionsPaging is the paging of /permissions: 25 by default, no upper bound.
func permissionsPaging(q url.Values) (limit, offset int, err error) { return offsetPaging(q, 25, 0) }

func permissionsQuery(q url.Values) error {
	_, _, err := permissionsPaging(q)
	return err
}

func renderPermissions(c readCtx) (any, error) {
	limit, offset, err := permissionsPaging(c.query)
	if err != nil {
		return nil, err
	}
	all := sandbox.SortedPermissionNames(c.acc.Permissions)
	return PermissionsPage{Permissions: page(all, limit, offset), Paging: Paging{Count: len(all), Offset: offset}}, nil
}

// page returns items[offset:offset+limit], clamped, never nil.
func page[T any](items []T, limit, offset int) []T {
	if offset > len(items) {
		offset = len(items)
	}
	end := min(offset+limit, len(items))
	return append(make([]T, 0, end-offset), items[offset:end]...)
}

// offsetPaging reads limit and offset. max 0 means no upper bound on limit.
func offsetPaging(q url.Values, def, max int) (limit, offset int, err error) {
	limit = def
	if s := q.Get("limit"); s != "" {
		n, convErr := strconv.Atoi(s)
		if convErr != nil || n < 1 || (max > 0 && n > max) {
			if max > 0 {
				return 0, 0, sandbox.Errorf(sandbox.TypeValidation, "PARAMETER", "limit must be an integer from 1 to %d, got %q.", max, s)
			}
			return 0, 0, sandbox.Errorf(sandbox.TypeValidation, "PARAMETER", "limit must be a positive integer, got %q.", s)
		}
		limit = n
	}
	if s := q.Get("offset"); s != "" {
		n, convErr := strconv.Atoi(s)
		if convErr != nil || n < 0 {
			return 0, 0, sandbox.Errorf(sandbox.TypeValidation, "PARAMETER", "offset must be a non-negative integer, got %q.", s)
		}
		offset = n
	}
	return limit, offset, nil
}

// parseDate accepts a date (2006-01-02) or an RFC 3339 timestamp.
func parseDate(name, s string) (time.Time, error) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, sandbox.Errorf(sandbox.TypeValidation, "PARAMETER", "%s must be a date like 2024-01-31 or an RFC 3339 timestamp, got %q.", name, s)
}

// serviceHistoryRange reads start_date and end_date (zero when absent).
func serviceHistoryRange(q url.Values) (from, to time.Time, err error) {
	if s := q.Get("start_date"); s != "" {
		if from, err = parseDate("start_date", s); err != nil {
			return from, to, err
		}
	}
	if s := q.Get("end_date"); s != "" {
		if to, err = parseDate("end_date", s); err != nil {
			return from, to, err
		}
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return from, to, sandbox.InvalidParameter("end_date must not be before start_date")
	}
	return from, to, nil
}

func serviceHistoryQuery(q url.Values) error {
	_, _, err := serviceHistoryRange(q)
	return err
}

// renderServiceHistory derives a dealer service history from the vehicle's fixture, since
// fixtures carry none: one visit a year after the model year and one two years after, at
// fractions of today's odometer, so the answer is stable for a given vehicle.
func renderServiceHistory(c readCtx) (any, error) {
	v := c.acc.Vehicle
	from, to, err := serviceHistoryRange(c.query)
	if err != nil {
		return nil, err
	}
	tasks := []ServiceTask{{TaskID: "1", TaskDescription: "Tire rotation"}, {TaskID: "2", TaskDescription: "Multi-point inspection"}}
	if v.Powertrain.HasFuel() {
		tasks = append([]ServiceTask{{TaskID: "3", TaskDescription: "Oil and filter change"}}, tasks...)
	}
	out := []ServiceRecord{}
	for i, frac := range []float64{0.4, 0.8} {
		date := time.Date(v.Year+i+1, time.March, 15, 0, 0, 0, 0, time.UTC)
		if (!from.IsZero() && date.Before(from)) || (!to.IsZero() && date.After(to)) {
			continue
		}
		out = append(out, ServiceRecord{
			ServiceID:        i + 1,
			ServiceDate:      date.Format(scapi.TimeFormat),
			OdometerDistance: c.units.Distance(v.State.OdometerKm * frac),
			ServiceTasks:     tasks,
			ServiceDetails:   ServiceDetails{Type: "MAINTENANCE"},
			ServiceCost:      ServiceCost{TotalCost: 89.95 + 60*float64(i), Currency: "USD"},
		})
	}
	return out, nil
}

func renderSystemStatus(c readCtx) (any, error) {
	v := c.acc.Vehicle
	systems := []string{"SYSTEM_AIRBAG", "SYSTEM_BRAKE_FLUID", "SYSTEM_TPMS"}
	if v.Powertrain.HasFuel() {
		systems = append(systems, "SYSTEM_OIL_LIFE")
	}
	if v.Powertrain.HasBattery() {
		systems = append(systems, "SYSTEM_EV_BATTERY_CONDITIONING")
	}
	sort.Strings(systems)
	byID := map[string]sandbox.Alert{}
	for _, a := range v.Alerts() {
		byID[a.System] = a
	}
	out := SystemStatus{Systems: make([]SystemState, 0, len(systems))}
	for _, id := range systems {
		st := SystemState{SystemID: id, Status: "OK"}
		if a, ok := byID[id]; ok {
			d := a.Description
			st.Status, st.Description = "ALERT", &d
		}
		out.Systems = append(out.Systems, st)
	}
	return out, nil
}

func renderDTCs(c readCtx) (any, error) {
	v := c.acc.Vehicle
	out := DTCs{ActiveCodes: []DTC{}}
	for _, a := range v.Alerts() {
		out.ActiveCodes = append(out.ActiveCodes, DTC{Code: a.DTC, Timestamp: v.State.UpdatedAt.UTC().Format(scapi.TimeFormat)})
	}
	return out, nil
}

// normalizePath turns a batch or route sub-path into the table's form: no leading or
// trailing slash, no query; "/" is the attributes.
func normalizePath(p string) (path string, query url.Values, err error) {
	raw, rawQuery, _ := strings.Cut(p, "?")
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", nil, err
	}
	return strings.Trim(raw, "/"), q, nil
}
