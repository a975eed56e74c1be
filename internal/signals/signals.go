// Package signals is the catalogue of v3 signals: each signal's code, name, group and
// permission, whether a vehicle has the hardware for it, and how its body is computed from the
// one stored vehicle state. The v3 API serves it (single reads and lists) and webhooks carry it
// (VEHICLE_STATE payloads), so a payload and a GET of the signal can never disagree.
package signals

import (
	"hash/fnv"
	"iter"
	"math"
	"strings"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/scapi"
)

// Info describes one signal the sandbox serves.
type Info struct {
	Code       string // e.g. odometer-traveleddistance
	Name       string // e.g. TraveledDistance
	Group      string // e.g. Odometer
	Permission string // the v2.0 permission that gates it
	// Unconfirmed marks signals whose code or body Smartcar's public docs do not show; the
	// sandbox's best reading (docs/api-v3.md).
	Unconfirmed bool
}

// Signal is a signal and how to compute it from the one stored state. has says whether the
// vehicle has the hardware at all (no → COMPATIBILITY); body renders the value.
type Signal struct {
	Info
	has  func(v sandbox.Vehicle) bool
	body func(v sandbox.Vehicle, u scapi.Units) any
}

// Has reports whether the vehicle has the hardware for the signal.
func (s *Signal) Has(v sandbox.Vehicle) bool { return s.has(v) }

// Body is the signal's value for the vehicle in the unit system; only call it when Has.
func (s *Signal) Body(v sandbox.Vehicle, u scapi.Units) any { return s.body(v, u) }

// Body shapes shared by many signals.
type unitValue struct {
	Unit  string  `json:"unit"`
	Value float64 `json:"value"`
}

type boolValue struct {
	Value bool `json:"value"`
}

type stringValue struct {
	Value string `json:"value"`
}

type stringValues struct {
	Values []string `json:"values"`
}

type preciseLocation struct {
	Latitude     float64 `json:"latitude"`
	Longitude    float64 `json:"longitude"`
	Heading      float64 `json:"heading"`
	Direction    string  `json:"direction"`
	LocationType string  `json:"locationType"`
}

type gridCell struct {
	Row      int   `json:"row"`
	Column   int   `json:"column"`
	IsOpen   bool  `json:"isOpen"`
	IsLocked *bool `json:"isLocked,omitempty"` // doors only
}

type grid struct {
	Values      []gridCell `json:"values"`
	RowCount    int        `json:"rowCount"`
	ColumnCount int        `json:"columnCount"`
}

type openLock struct {
	IsOpen   bool `json:"isOpen"`
	IsLocked bool `json:"isLocked"`
}

type openOnly struct {
	IsOpen bool `json:"isOpen"`
}

type rangeBody struct {
	Unit             string      `json:"unit"`
	Value            float64     `json:"value"`
	AdditionalValues []unitValue `json:"additionalValues"`
}

type capacityOption struct {
	Capacity    float64 `json:"capacity"`
	Description *string `json:"description"`
}

type nominalCapacity struct {
	Source              string           `json:"source"`
	Capacity            float64          `json:"capacity"`
	AvailableCapacities []capacityOption `json:"availableCapacities"`
	Unit                string           `json:"unit"`
}

type chargeLimit struct {
	Type      string  `json:"type"`
	Limit     float64 `json:"limit"`
	Condition any     `json:"condition"`
}

type chargeLimits struct {
	Values      []chargeLimit `json:"values"`
	ActiveLimit *float64      `json:"activeLimit"`
	Unit        string        `json:"unit"`
}

const unitPercent = "percent"

// percent turns a stored 0..1 fraction into the 0..100 v3 signals use.
func percent(f float64) float64 { return round2(f * 100) }

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// compass names a heading with the 8 directions of location-preciselocation.
func compass(heading float64) string {
	dirs := [...]string{"N", "NE", "E", "SE", "S", "SW", "W", "NW"}
	h := math.Mod(heading, 360)
	if h < 0 {
		h += 360
	}
	return dirs[int(math.Round(h/45))%8]
}

// cell places a v2.0 opening type (frontLeft, backRight, ...) in v3's row/column grid: row 0
// is the front, column 0 the left (driver's side in left-hand-drive markets). Types that are
// not a corner are not placed.
func cell(typ string) (row, col int, ok bool) {
	t := strings.ToLower(typ)
	switch {
	case strings.HasPrefix(t, "front"):
		row = 0
	case strings.HasPrefix(t, "back"), strings.HasPrefix(t, "rear"):
		row = 1
	default:
		return 0, 0, false
	}
	switch {
	case strings.HasSuffix(t, "left"):
		col = 0
	case strings.HasSuffix(t, "right"):
		col = 1
	default:
		return 0, 0, false
	}
	return row, col, true
}

func openingGrid(os []sandbox.Opening, doors bool) grid {
	g := grid{Values: []gridCell{}}
	for _, o := range os {
		row, col, ok := cell(o.Type)
		if !ok {
			continue
		}
		c := gridCell{Row: row, Column: col, IsOpen: o.Status == sandbox.StatusOpen}
		if doors {
			// v2.0 keeps only LOCKED/UNLOCKED for doors, so a door is never reported open.
			locked := o.Status == sandbox.StatusLocked
			c.IsOpen = false
			c.IsLocked = &locked
		}
		g.Values = append(g.Values, c)
		g.RowCount = max(g.RowCount, row+1)
		g.ColumnCount = max(g.ColumnCount, col+1)
	}
	return g
}

func storage(s sandbox.Security, typ string) (sandbox.Opening, bool) {
	for _, o := range s.Storage {
		if o.Type == typ {
			return o, true
		}
	}
	return sandbox.Opening{}, false
}

// lowVoltageSoC derives the 12 V battery's charge from the VIN: the sandbox stores no such
// value, so it must be a pure function of the vehicle to stay stable across reads and
// restarts. Range 60..95 percent.
func lowVoltageSoC(v sandbox.Vehicle) float64 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(v.VIN + v.ID))
	return float64(60 + h.Sum32()%36)
}

// lowVoltageStatus grades lowVoltageSoC: GOOD from 70 percent, WARN from 50, else BAD.
func lowVoltageStatus(soc float64) string {
	switch {
	case soc >= 70:
		return "GOOD"
	case soc >= 50:
		return "WARN"
	}
	return "BAD"
}

func always(sandbox.Vehicle) bool         { return true }
func hasDoors(v sandbox.Vehicle) bool     { return len(v.State.Security.Doors) > 0 }
func hasBattery(v sandbox.Vehicle) bool   { return v.State.Battery != nil }
func hasCharge(v sandbox.Vehicle) bool    { return v.State.Charge != nil }
func hasFuel(v sandbox.Vehicle) bool      { return v.State.Fuel != nil }
func hasEngineOil(v sandbox.Vehicle) bool { return v.State.EngineOil != nil }
func hasWindows(v sandbox.Vehicle) bool   { return len(v.State.Security.Windows) > 0 }
func hasSunroof(v sandbox.Vehicle) bool   { return len(v.State.Security.Sunroof) > 0 }
func hasStorage(typ string) func(sandbox.Vehicle) bool {
	return func(v sandbox.Vehicle) bool { _, ok := storage(v.State.Security, typ); return ok }
}

func trunk(typ string) func(sandbox.Vehicle, scapi.Units) any {
	return func(v sandbox.Vehicle, _ scapi.Units) any {
		o, _ := storage(v.State.Security, typ)
		// Trunks lock with the doors (central locking); v2.0 stores no separate trunk lock.
		return openLock{IsOpen: o.Status == sandbox.StatusOpen, IsLocked: v.State.Security.IsLocked()}
	}
}

// catalogue is every signal the sandbox serves, in the order lists return them: the first
// signals, then moreSignals (more.go).
var catalogue = append(firstSignals, moreSignals...)

var firstSignals = []Signal{
	{Info{"odometer-traveleddistance", "TraveledDistance", "Odometer", "read_odometer", false}, always,
		func(v sandbox.Vehicle, u scapi.Units) any {
			return unitValue{u.DistanceUnit(), u.Distance(v.State.OdometerKm)}
		}},
	{Info{"location-preciselocation", "PreciseLocation", "Location", "read_location", false}, always,
		func(v sandbox.Vehicle, _ scapi.Units) any {
			l := v.State.Location
			return preciseLocation{l.Latitude, l.Longitude, l.Heading, compass(l.Heading), "LAST_PARKED"}
		}},
	{Info{"closure-islocked", "IsLocked", "Closure", "read_security", false}, hasDoors,
		func(v sandbox.Vehicle, _ scapi.Units) any {
			return boolValue{v.State.Security.IsLocked()}
		}},
	{Info{"closure-doors", "Doors", "Closure", "read_security", false}, hasDoors,
		func(v sandbox.Vehicle, _ scapi.Units) any {
			return openingGrid(v.State.Security.Doors, true)
		}},
	{Info{"closure-windows", "Windows", "Closure", "read_security", false}, hasWindows,
		func(v sandbox.Vehicle, _ scapi.Units) any {
			return openingGrid(v.State.Security.Windows, false)
		}},
	{Info{"closure-sunroof", "Sunroof", "Closure", "read_security", false}, hasSunroof,
		func(v sandbox.Vehicle, _ scapi.Units) any {
			open := false
			for _, o := range v.State.Security.Sunroof {
				open = open || o.Status == sandbox.StatusOpen
			}
			return openOnly{open}
		}},
	{Info{"closure-fronttrunk", "FrontTrunk", "Closure", "read_security", false}, hasStorage("front"), trunk("front")},
	{Info{"closure-reartrunk", "RearTrunk", "Closure", "read_security", false}, hasStorage("rear"), trunk("rear")},
	{Info{"tractionbattery-stateofcharge", "StateOfCharge", "TractionBattery", "read_battery", false}, hasBattery,
		func(v sandbox.Vehicle, _ scapi.Units) any {
			return unitValue{unitPercent, percent(v.State.Battery.PercentRemaining)}
		}},
	{Info{"tractionbattery-range", "Range", "TractionBattery", "read_battery", false}, hasBattery,
		func(v sandbox.Vehicle, u scapi.Units) any {
			return rangeBody{u.DistanceUnit(), u.Distance(v.State.Battery.RangeKm), []unitValue{}}
		}},
	{Info{"tractionbattery-nominalcapacity", "NominalCapacity", "TractionBattery", "read_battery", false}, hasBattery,
		func(v sandbox.Vehicle, _ scapi.Units) any {
			c := v.State.Battery.CapacityKWh
			return nominalCapacity{"SMARTCAR", c, []capacityOption{{Capacity: c}}, "kWhr"}
		}},
	{Info{"lowvoltagebattery-stateofcharge", "StateOfCharge", "LowVoltageBattery", "read_diagnostics", false}, always,
		func(v sandbox.Vehicle, _ scapi.Units) any {
			return unitValue{unitPercent, lowVoltageSoC(v)}
		}},
	{Info{"lowvoltagebattery-status", "Status", "LowVoltageBattery", "read_diagnostics", false}, always,
		func(v sandbox.Vehicle, _ scapi.Units) any {
			return stringValue{lowVoltageStatus(lowVoltageSoC(v))}
		}},
	{Info{"charge-ischarging", "IsCharging", "Charge", "read_charge", true}, hasCharge,
		func(v sandbox.Vehicle, _ scapi.Units) any {
			return boolValue{v.State.Charge.State == sandbox.ChargeCharging}
		}},
	{Info{"charge-ischargingcableconnected", "IsChargingCableConnected", "Charge", "read_charge", true}, hasCharge,
		func(v sandbox.Vehicle, _ scapi.Units) any {
			return boolValue{v.State.Charge.IsPluggedIn}
		}},
	{Info{"charge-chargelimits", "ChargeLimits", "Charge", "read_charge", false}, hasCharge,
		func(v sandbox.Vehicle, _ scapi.Units) any {
			l := percent(v.State.Charge.Limit)
			return chargeLimits{[]chargeLimit{{Type: "global", Limit: l}}, &l, unitPercent}
		}},
	{Info{"charge-activelimit", "ActiveLimit", "Charge", "read_charge", true}, hasCharge,
		func(v sandbox.Vehicle, _ scapi.Units) any {
			return unitValue{unitPercent, percent(v.State.Charge.Limit)}
		}},
	{Info{"internalcombustionengine-fuellevel", "FuelLevel", "InternalCombustionEngine", "read_fuel", false}, hasFuel,
		func(v sandbox.Vehicle, _ scapi.Units) any {
			return unitValue{unitPercent, percent(v.State.Fuel.PercentRemaining)}
		}},
	{Info{"internalcombustionengine-amountremaining", "AmountRemaining", "InternalCombustionEngine", "read_fuel", false}, hasFuel,
		func(v sandbox.Vehicle, u scapi.Units) any {
			return unitValue{u.VolumeUnit(), u.Volume(v.State.Fuel.AmountLiters)}
		}},
	{Info{"internalcombustionengine-range", "Range", "InternalCombustionEngine", "read_fuel", false}, hasFuel,
		func(v sandbox.Vehicle, u scapi.Units) any {
			return unitValue{u.DistanceUnit(), u.Distance(v.State.Fuel.RangeKm)}
		}},
	{Info{"internalcombustionengine-oillife", "OilLife", "InternalCombustionEngine", "read_engine_oil", false}, hasEngineOil,
		func(v sandbox.Vehicle, _ scapi.Units) any {
			return unitValue{unitPercent, percent(v.State.EngineOil.LifeRemaining)}
		}},
	{Info{"vehicleuseraccount-role", "Role", "VehicleUserAccount", "read_user_profile", false}, always,
		func(sandbox.Vehicle, scapi.Units) any {
			// The sandbox's accounts own their vehicles; there are no secondary drivers.
			return stringValue{"Owner"}
		}},
	{Info{"vehicleuseraccount-permissions", "Permissions", "VehicleUserAccount", "read_user_profile", false}, always,
		func(v sandbox.Vehicle, _ scapi.Units) any {
			return stringValues{oemPermissions(v)}
		}},
}

// oemPermissions is what the owner's connected-services account may do with the vehicle, in
// the OEM's words (made up by the sandbox, derived from the hardware the vehicle has).
func oemPermissions(v sandbox.Vehicle) []string {
	p := []string{"VEHICLE_STATUS", "VEHICLE_LOCATION"}
	if hasDoors(v) {
		p = append(p, "REMOTE_LOCK_UNLOCK")
	}
	if hasCharge(v) {
		p = append(p, "REMOTE_CHARGING")
	}
	return p
}

var byCode = scapi.Index(catalogue, func(s *Signal) string { return s.Code })

// Lookup finds a signal by its (lower-case) code.
func Lookup(code string) (*Signal, bool) {
	s, ok := byCode[code]
	return s, ok
}

// All yields every signal the sandbox serves, in list order.
func All() iter.Seq[*Signal] {
	return func(yield func(*Signal) bool) {
		for i := range catalogue {
			if !yield(&catalogue[i]) {
				return
			}
		}
	}
}

// Infos lists every signal the sandbox serves, in list order.
func Infos() []Info { return scapi.Column(catalogue, func(s *Signal) Info { return s.Info }) }
