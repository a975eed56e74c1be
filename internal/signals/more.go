package signals

import (
	"hash/fnv"
	"math"
	"strconv"
	"strings"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/scapi"
)

// The rest of Smartcar's v3 signal catalogue (the spec's 93 codes, see smartcar-api-v3-2026.md
// §3). Each is computed from the one stored vehicle state: where the sandbox stores the value
// (charging, ports, tires, gear while driving) it is read from there; where it stores nothing
// (temperatures, firmware, colour) it is a pure function of the vehicle, like lowVoltageSoC,
// so every read and every restart agree. A signal the powertrain has no hardware for is
// COMPATIBILITY/VEHICLE_NOT_CAPABLE, as for the first signals. Bodies Smartcar's pages do not
// show are marked Unconfirmed (docs/api-v3.md lists them).

// Charging power the sandbox's "charger" delivers: a 32 A, 240 V single-phase AC charger.
const (
	chargeAmps      = 32.0
	chargeVolts     = 240.0
	chargeAmpsMax   = 48.0
	chargePhases    = 1
	chargeKW        = chargeAmps * chargeVolts / 1000
	cabinTargetTemp = 21.0 // °C
)

type unitIntValue struct {
	Unit  string `json:"unit"`
	Value int    `json:"value"`
}

type intValue struct {
	Value int `json:"value"`
}

type anyValues struct {
	Values []any `json:"values"`
}

type diagnostic struct {
	Status string `json:"status"`
}

type driveMode struct {
	Canonical      string `json:"canonical"`
	OemDisplayName string `json:"oemDisplayName"`
}

type tire struct {
	Row      int     `json:"row"`
	Column   int     `json:"column"`
	Pressure float64 `json:"pressure"`
	Unit     string  `json:"unit"`
}

type tireGrid struct {
	Values      []tire `json:"values"`
	RowCount    int    `json:"rowCount"`
	ColumnCount int    `json:"columnCount"`
}

// vehicleHash is a stable number per vehicle for values the sandbox does not store.
func vehicleHash(v sandbox.Vehicle, salt string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(salt + "\x00" + v.VIN + v.ID))
	return h.Sum32()
}

func charging(v sandbox.Vehicle) bool {
	return v.State.Charge != nil && v.State.Charge.State == sandbox.ChargeCharging
}

func driving(v sandbox.Vehicle) bool { return v.State.Trip.Stage == sandbox.TripDriving }

// temperature renders °C in the unit system (fahrenheit for imperial).
func temperature(u scapi.Units, c float64) unitValue {
	if u == scapi.Imperial {
		return unitValue{"fahrenheit", round2(c*9/5 + 32)}
	}
	return unitValue{"celsius", round2(c)}
}

// externalTemp is 5..25 °C, per vehicle.
func externalTemp(v sandbox.Vehicle) float64 { return float64(5 + vehicleHash(v, "temp")%21) }

func hasChargingPort(v sandbox.Vehicle) bool { return len(v.State.Security.ChargingPort) > 0 }
func isICE(v sandbox.Vehicle) bool           { return v.State.Fuel != nil || v.State.EngineOil != nil }
func isTesla(v sandbox.Vehicle) bool         { return strings.EqualFold(v.Make, "TESLA") }

// chargeMinutesLeft is how long a charging vehicle needs to reach its limit at chargeKW.
func chargeMinutesLeft(v sandbox.Vehicle) int {
	b, c := v.State.Battery, v.State.Charge
	if b == nil || c == nil || !charging(v) || b.PercentRemaining >= c.Limit {
		return 0
	}
	return int(math.Ceil((c.Limit - b.PercentRemaining) * b.CapacityKWh / chargeKW * 60))
}

func value[T any](f func(v sandbox.Vehicle) T) func(sandbox.Vehicle, scapi.Units) any {
	return func(v sandbox.Vehicle, _ scapi.Units) any { return f(v) }
}

func constant(body any) func(sandbox.Vehicle, scapi.Units) any {
	return func(sandbox.Vehicle, scapi.Units) any { return body }
}

func whileCharging(unit string, x float64) func(sandbox.Vehicle, scapi.Units) any {
	return value(func(v sandbox.Vehicle) any {
		if charging(v) {
			return unitValue{unit, round2(x)}
		}
		return unitValue{unit, 0}
	})
}

// diag is a diagnostic system's status: ALERT when v2.0's diagnostics (sandbox.Vehicle.Alerts, the
// one rule) report that system, else OK. System "" never alerts (the sandbox models no fault
// there); "*" alerts on any powertrain (P) code, as a check-engine lamp does.
func diag(system string) func(sandbox.Vehicle, scapi.Units) any {
	return value(func(v sandbox.Vehicle) any {
		for _, a := range v.Alerts() {
			if a.System == system || (system == "*" && strings.HasPrefix(a.DTC, "P")) {
				return diagnostic{"ALERT"}
			}
		}
		return diagnostic{"OK"}
	})
}

var exteriorColors = [...]string{"Black", "White", "Silver", "Grey", "Blue", "Red"}

// moreSignals complete the catalogue.
var moreSignals = []Signal{
	// Charge
	{Info{"charge-amperage", "Amperage", "Charge", "read_charge", false}, hasCharge, whileCharging("amps", chargeAmps)},
	{Info{"charge-amperagemax", "AmperageMax", "Charge", "read_charge", true}, hasCharge, constant(unitValue{"amps", chargeAmpsMax})},
	{Info{"charge-amperagerequested", "AmperageRequested", "Charge", "read_charge", true}, hasCharge, whileCharging("amps", chargeAmps)},
	{Info{"charge-chargeportstatuscolor", "ChargePortStatusColor", "Charge", "read_charge", false}, hasCharge,
		value(func(v sandbox.Vehicle) any {
			switch {
			case charging(v):
				return stringValue{"GREEN"}
			case v.State.Charge.IsPluggedIn:
				return stringValue{"BLUE"}
			}
			return stringValue{"OFF"}
		})},
	{Info{"charge-chargerate", "ChargeRate", "Charge", "read_charge", true}, hasCharge, whileCharging("kilowatts", chargeKW)},
	{Info{"charge-chargerecords", "ChargeRecords", "Charge", "read_charge_records", false}, hasCharge, constant(anyValues{[]any{}})},
	{Info{"charge-chargerphases", "ChargerPhases", "Charge", "read_charge", true}, hasCharge,
		value(func(v sandbox.Vehicle) any {
			if v.State.Charge.IsPluggedIn {
				return intValue{chargePhases}
			}
			return intValue{0}
		})},
	{Info{"charge-chargetimers", "ChargeTimers", "Charge", "read_charge", true}, hasCharge, value(chargeTimers)},
	{Info{"charge-chargingconnectortype", "ChargingConnectorType", "Charge", "read_charge", true}, hasCharge,
		value(func(v sandbox.Vehicle) any {
			if isTesla(v) {
				return stringValue{"NACS"}
			}
			return stringValue{"J1772"}
		})},
	{Info{"charge-detailedchargingstatus", "DetailedChargingStatus", "Charge", "read_charge", true}, hasCharge,
		value(func(v sandbox.Vehicle) any { return stringValue{v.State.Charge.State} })},
	{Info{"charge-energyadded", "EnergyAdded", "Charge", "read_charge", true}, hasCharge, constant(unitValue{"kilowattHours", 0})},
	{Info{"charge-fastchargertype", "FastChargerType", "Charge", "read_charge", true}, hasCharge, constant(stringValue{"NONE"})},
	{Info{"charge-ischargingcablelatched", "IsChargingCableLatched", "Charge", "read_charge", true}, hasCharge,
		value(func(v sandbox.Vehicle) any { return boolValue{v.State.Charge.IsPluggedIn} })},
	{Info{"charge-ischargingportflapopen", "IsChargingPortFlapOpen", "Charge", "read_charge", true}, hasChargingPort,
		value(func(v sandbox.Vehicle) any {
			open := false
			for _, o := range v.State.Security.ChargingPort {
				open = open || o.Status == sandbox.StatusOpen
			}
			return boolValue{open}
		})},
	{Info{"charge-isfastchargerpresent", "IsFastChargerPresent", "Charge", "read_charge", true}, hasCharge, constant(boolValue{false})},
	{Info{"charge-timetocomplete", "TimeToComplete", "Charge", "read_charge", true}, hasCharge,
		value(func(v sandbox.Vehicle) any { return unitIntValue{"minutes", chargeMinutesLeft(v)} })},
	{Info{"charge-voltage", "Voltage", "Charge", "read_charge", false}, hasCharge, whileCharging("volts", chargeVolts)},
	{Info{"charge-wattage", "Wattage", "Charge", "read_charge", true}, hasCharge, whileCharging("watts", chargeAmps*chargeVolts)},

	// Climate and HVAC
	{Info{"climate-externaltemperature", "ExternalTemperature", "Climate", "read_thermometer", true}, always,
		func(v sandbox.Vehicle, u scapi.Units) any { return temperature(u, externalTemp(v)) }},
	{Info{"climate-internaltemperature", "InternalTemperature", "Climate", "read_thermometer", true}, always,
		func(v sandbox.Vehicle, u scapi.Units) any {
			// A parked cabin drifts 3 °C towards the outside from the last target.
			return temperature(u, cabinTargetTemp+(externalTemp(v)-cabinTargetTemp)*0.3)
		}},
	{Info{"hvac-cabintargettemperature", "CabinTargetTemperature", "HVAC", "read_climate", true}, always,
		func(_ sandbox.Vehicle, u scapi.Units) any { return temperature(u, cabinTargetTemp) }},
	{Info{"hvac-iscabinhvacactive", "IsCabinHVACActive", "HVAC", "read_climate", true}, always, value(func(v sandbox.Vehicle) any { return boolValue{driving(v)} })},
	{Info{"hvac-isfrontdefrosteractive", "IsFrontDefrosterActive", "HVAC", "read_climate", true}, always, constant(boolValue{false})},
	{Info{"hvac-isreardefrosteractive", "IsRearDefrosterActive", "HVAC", "read_climate", true}, always, constant(boolValue{false})},
	{Info{"hvac-issteeringheateractive", "IsSteeringHeaterActive", "HVAC", "read_climate", true}, always, constant(boolValue{false})},

	// Closure
	{Info{"closure-enginecover", "EngineCover", "Closure", "read_security", false}, always, constant(openOnly{false})},
	// The sandbox stores one rear opening ("rear"), whichever it is on the car; it answers
	// closure-reartrunk and closure-tailgate alike (a reading, docs/api-v3.md).
	{Info{"closure-tailgate", "Tailgate", "Closure", "read_security", true}, hasStorage("rear"), trunk("rear")},

	// Connectivity
	{Info{"connectivitysoftware-currentfirmwareversion", "CurrentFirmwareVersion", "ConnectivitySoftware", "read_vehicle_info", true}, always,
		value(func(v sandbox.Vehicle) any {
			h := vehicleHash(v, "firmware")
			return stringValue{"2026." + strconv.Itoa(int(h%40)+1) + "." + strconv.Itoa(int(h/40%10))}
		})},
	{Info{"connectivitystatus-isasleep", "IsAsleep", "ConnectivityStatus", "read_vehicle_info", true}, always,
		value(func(v sandbox.Vehicle) any { return boolValue{!driving(v) && !charging(v)} })},
	{Info{"connectivitystatus-isdigitalkeypaired", "IsDigitalKeyPaired", "ConnectivityStatus", "read_vehicle_info", true}, always, constant(boolValue{false})},
	{Info{"connectivitystatus-isonline", "IsOnline", "ConnectivityStatus", "read_vehicle_info", true}, always, constant(boolValue{true})},

	// Diagnostics: OK unless the stored state says otherwise.
	{Info{"diagnostics-abs", "ABS", "Diagnostics", "read_diagnostics", true}, always, diag("")},
	{Info{"diagnostics-activesafety", "ActiveSafety", "Diagnostics", "read_diagnostics", true}, always, diag("")},
	{Info{"diagnostics-airbag", "Airbag", "Diagnostics", "read_diagnostics", true}, always, diag("")},
	{Info{"diagnostics-brakefluid", "BrakeFluid", "Diagnostics", "read_diagnostics", true}, always, diag("")},
	{Info{"diagnostics-driverassistance", "DriverAssistance", "Diagnostics", "read_diagnostics", true}, always, diag("")},
	{Info{"diagnostics-dtccount", "DTCCount", "Diagnostics", "read_diagnostics", true}, always,
		value(func(v sandbox.Vehicle) any { return intValue{len(dtcs(v))} })},
	{Info{"diagnostics-dtclist", "DTCList", "Diagnostics", "read_diagnostics", true}, always,
		value(func(v sandbox.Vehicle) any { return anyValues{dtcs(v)} })},
	{Info{"diagnostics-emissions", "Emissions", "Diagnostics", "read_diagnostics", true}, isICE, diag("")},
	{Info{"diagnostics-evbatteryconditioning", "EVBatteryConditioning", "Diagnostics", "read_diagnostics", true}, hasBattery, diag("")},
	{Info{"diagnostics-evcharging", "EVCharging", "Diagnostics", "read_diagnostics", true}, hasCharge, diag("")},
	{Info{"diagnostics-evdriveunit", "EVDriveUnit", "Diagnostics", "read_diagnostics", true}, hasBattery, diag("")},
	{Info{"diagnostics-evhvbattery", "EVHVBattery", "Diagnostics", "read_diagnostics", true}, hasBattery, diag("")},
	{Info{"diagnostics-lighting", "Lighting", "Diagnostics", "read_diagnostics", true}, always, diag("")},
	{Info{"diagnostics-mil", "MIL", "Diagnostics", "read_diagnostics", true}, isICE, diag("*")},
	{Info{"diagnostics-oillife", "OilLife", "Diagnostics", "read_diagnostics", true}, hasEngineOil, diag("SYSTEM_OIL_LIFE")},
	{Info{"diagnostics-oilpressure", "OilPressure", "Diagnostics", "read_diagnostics", true}, hasEngineOil, diag("")},
	{Info{"diagnostics-oiltemperature", "OilTemperature", "Diagnostics", "read_diagnostics", true}, hasEngineOil, diag("")},
	{Info{"diagnostics-telematics", "Telematics", "Diagnostics", "read_diagnostics", true}, always, diag("")},
	{Info{"diagnostics-tirepressure", "TirePressure", "Diagnostics", "read_diagnostics", true}, always, diag("SYSTEM_TPMS")},
	{Info{"diagnostics-tirepressuremonitoring", "TirePressureMonitoring", "Diagnostics", "read_diagnostics", true}, always, diag("")},
	{Info{"diagnostics-transmission", "Transmission", "Diagnostics", "read_diagnostics", true}, always, diag("")},
	{Info{"diagnostics-washerfluid", "WasherFluid", "Diagnostics", "read_diagnostics", true}, always, diag("")},
	{Info{"diagnostics-waterinfuel", "WaterInFuel", "Diagnostics", "read_diagnostics", true}, hasFuel, diag("")},

	// Location, motion, service, surveillance
	{Info{"location-isathome", "IsAtHome", "Location", "read_location", true}, always,
		value(func(v sandbox.Vehicle) any {
			// Home is where a simulated vehicle's loop starts; other vehicles have none set.
			s := v.State.Trip.Start.Location
			return boolValue{!v.State.Trip.JoinedAt.IsZero() && !driving(v) && s == v.State.Location}
		})},
	{Info{"motion-currentspeed", "CurrentSpeed", "Motion", "read_speedometer", true}, always,
		func(v sandbox.Vehicle, u scapi.Units) any {
			unit := "kilometersPerHour"
			if u == scapi.Imperial {
				unit = "milesPerHour"
			}
			speed := 0.0
			if driving(v) {
				speed = u.Distance(50) // the simulator's town speed
			}
			return unitValue{unit, speed}
		}},
	{Info{"service-isinservice", "IsInService", "Service", "read_service_history", true}, always, constant(boolValue{false})},
	{Info{"service-records", "Records", "Service", "read_service_history", true}, always, constant(anyValues{[]any{}})},
	{Info{"surveillance-brand", "Brand", "Surveillance", "read_security", true}, isTesla, constant(stringValue{"Sentry Mode"})},
	{Info{"surveillance-isenabled", "IsEnabled", "Surveillance", "read_security", true}, isTesla, constant(boolValue{false})},

	// Traction battery
	{Info{"tractionbattery-isheateractive", "IsHeaterActive", "TractionBattery", "read_battery", false}, hasBattery,
		value(func(v sandbox.Vehicle) any { return boolValue{charging(v) && externalTemp(v) < 10} })},
	{Info{"tractionbattery-maxrangechargecounter", "MaxRangeChargeCounter", "TractionBattery", "read_battery", true}, hasBattery, constant(intValue{0})},

	// Transmission
	{Info{"transmission-drivemode", "DriveMode", "Transmission", "read_vehicle_info", false}, always, constant(driveMode{"NORMAL", "Normal"})},
	{Info{"transmission-gearstate", "GearState", "Transmission", "read_vehicle_info", false}, always,
		value(func(v sandbox.Vehicle) any {
			if driving(v) {
				return stringValue{"DRIVE"}
			}
			return stringValue{"PARK"}
		})},

	// Vehicle identification
	{Info{"vehicleidentification-exteriorcolor", "ExteriorColor", "VehicleIdentification", "read_vehicle_info", true}, always,
		value(func(v sandbox.Vehicle) any {
			return stringValue{exteriorColors[vehicleHash(v, "color")%uint32(len(exteriorColors))]}
		})},
	{Info{"vehicleidentification-nickname", "Nickname", "VehicleIdentification", "read_vehicle_info", true}, always,
		value(func(v sandbox.Vehicle) any { return stringValue{"My " + v.Model} })},
	{Info{"vehicleidentification-packages", "Packages", "VehicleIdentification", "read_extended_vehicle_info", true}, always, constant(anyValues{[]any{}})},
	{Info{"vehicleidentification-trim", "Trim", "VehicleIdentification", "read_extended_vehicle_info", true}, always, constant(stringValue{"Base"})},
	{Info{"vehicleidentification-vin", "VIN", "VehicleIdentification", "read_vin", false}, always,
		value(func(v sandbox.Vehicle) any { return stringValue{v.VIN} })},

	// Wheels
	{Info{"wheel-style", "Style", "Wheel", "read_tires", true}, always,
		value(func(v sandbox.Vehicle) any {
			return stringValue{strconv.Itoa(17+int(vehicleHash(v, "wheel")%5)) + "-inch"}
		})},
	{Info{"wheel-tires", "Tires", "Wheel", "read_tires", false}, always,
		func(v sandbox.Vehicle, u scapi.Units) any {
			t := v.State.Tires
			unit := u.PressureUnit()
			return tireGrid{[]tire{
				{0, 0, u.Pressure(t.FrontLeft), unit}, {0, 1, u.Pressure(t.FrontRight), unit},
				{1, 0, u.Pressure(t.BackLeft), unit}, {1, 1, u.Pressure(t.BackRight), unit},
			}, 2, 2}
		}},
}

type dtc struct {
	Code      string `json:"code"`
	Timestamp int64  `json:"timestamp"` // epoch ms, like signal meta
}

// dtcs lists the trouble codes of v2.0's diagnostics/dtcs (sandbox.Vehicle.Alerts), stamped with
// when the vehicle last recorded data.
func dtcs(v sandbox.Vehicle) []any {
	out := []any{}
	for _, a := range v.Alerts() {
		out = append(out, dtc{a.DTC, v.State.UpdatedAt.UnixMilli()})
	}
	return out
}

// chargeTimers is the charge-chargetimers body: the stored schedules, one entry per window.
func chargeTimers(v sandbox.Vehicle) any {
	type timer struct {
		ScheduleID string `json:"scheduleId"`
		Type       string `json:"type"`
		Day        string `json:"day"`
		StartTime  string `json:"startTime"`
		StopTime   string `json:"stopTime"`
	}
	values := []any{}
	s := v.State.Charge.Schedules
	for _, k := range []struct {
		kind string
		s    sandbox.ChargeSchedule
	}{{sandbox.ScheduleDaily, s.Daily}, {sandbox.ScheduleWeekly, s.Weekly}, {sandbox.ScheduleWorkweek, s.Workweek}} {
		if k.s.ID == "" {
			continue
		}
		for i, name := range sandbox.ScheduleWindowNames[k.kind] {
			if w := k.s.Windows[i]; w.StartTime != "" {
				values = append(values, timer{k.s.ID, k.kind, name, w.StartTime, w.StopTime})
			}
		}
	}
	return anyValues{values}
}
