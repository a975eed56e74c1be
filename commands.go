package sandbox

import "strings"

// The rules every command follows, whichever API (v2.0, v3) or door (the dashboard) sends it:
// one implementation, so the answers agree.

// ModeTest marks a vehicle made up by Smartcar's test mode (a username no fixture names): it
// takes every command, as Smartcar's test-mode cars do, while fixture and simulated vehicles
// (a test-mode car that joined the simulation included) keep the state rules (CommandRefusal,
// ChargeCommand).
const ModeTest = "test"

// Command names for CommandRefusal.
const (
	CommandLock        = "LOCK"
	CommandUnlock      = "UNLOCK"
	CommandStartCharge = "START_CHARGE"
	CommandStopCharge  = "STOP_CHARGE"
	CommandChargePort  = "CHARGE_PORT"
)

// CommandRefusal is the one rule, shared by the v2.0 and v3 command handlers, that refuses a
// command because of what the vehicle is doing (smartcar-api.md §7.3: LOCK while driving →
// VEHICLE_STATE/IN_MOTION). It returns nil when the vehicle's state allows the command;
// capability checks stay with the handlers, the plug rule is ChargeCommand's.
func CommandRefusal(v Vehicle, command string) *Error {
	if v.State.Trip.Stage != TripDriving {
		return nil
	}
	switch command {
	case CommandLock, CommandUnlock:
		return NewError(TypeVehicleState, "IN_MOTION", "The vehicle is in motion; it cannot lock or unlock its doors until it is parked.")
	case CommandStartCharge, CommandStopCharge:
		return NewError(TypeVehicleState, "CHARGING_PLUG_NOT_CONNECTED", "The vehicle is driving, so no charging cable is connected.")
	case CommandChargePort:
		return NewError(TypeVehicleState, "IN_MOTION", "The vehicle is in motion; it cannot open or close its charging port until it is parked.")
	}
	return nil
}

// ChargeCommand applies START_CHARGE or STOP_CHARGE to v, the one rule the v2.0 and v3
// handlers share. A vehicle with no charge port is not capable; a driving one refuses
// (CommandRefusal); an unplugged one refuses with CHARGING_PLUG_NOT_CONNECTED unless it is a
// test-mode car (ModeTest), which Smartcar's test mode never refuses: START plugs it in.
// Charging settles at the limit (FULLY_CHARGED); stopping a full car changes nothing.
func (v *Vehicle) ChargeCommand(command string) *Error {
	ch := v.State.Charge
	if ch == nil {
		return VehicleNotCapable("charge port")
	}
	if e := CommandRefusal(*v, command); e != nil {
		return e
	}
	if !ch.IsPluggedIn {
		if v.Mode != ModeTest || v.Simulated() {
			return NewError(TypeVehicleState, "CHARGING_PLUG_NOT_CONNECTED", "The charging cable is not plugged in, so charging cannot be started or stopped.")
		}
		ch.IsPluggedIn = command == CommandStartCharge
	}
	switch {
	case command == CommandStartCharge:
		ch.State = v.chargingState()
	case ch.State == ChargeCharging:
		ch.State = ChargeNotCharging
	}
	return nil
}

// SetChargeLimit sets the charge limit (a fraction in (0, 1]); a charging car stops at its new
// limit and a full one resumes when the limit rises.
func (v *Vehicle) SetChargeLimit(limit float64) *Error {
	ch := v.State.Charge
	if ch == nil {
		return VehicleNotCapable("charge port")
	}
	ch.Limit = limit
	if ch.IsPluggedIn && ch.State != ChargeNotCharging {
		ch.State = v.chargingState()
	}
	return nil
}

// chargingState is where a plugged-in car with charging on settles.
func (v *Vehicle) chargingState() string {
	if b := v.State.Battery; b != nil && b.PercentRemaining >= v.State.Charge.Limit {
		return ChargeFullyCharged
	}
	return ChargeCharging
}

// ChargePortCommand opens or closes the charging port flap, the one rule for v3's
// charge-port/open and /close. A vehicle without a charging port is not capable; a driving
// one refuses (CommandRefusal); closing the flap over a plugged-in cable is refused with
// CHARGING_PLUG_CONNECTED, except on a test-mode car (ModeTest), which takes every command.
func (v *Vehicle) ChargePortCommand(open bool) *Error {
	if len(v.State.Security.ChargingPort) == 0 {
		return VehicleNotCapable("charging port flap")
	}
	if e := CommandRefusal(*v, CommandChargePort); e != nil {
		return e
	}
	if !open && v.State.Charge != nil && v.State.Charge.IsPluggedIn && v.Mode != ModeTest {
		return NewError(TypeVehicleState, "CHARGING_PLUG_CONNECTED", "The charging cable is plugged in, so the charging port cannot be closed.")
	}
	status := StatusClosed
	if open {
		status = StatusOpen
	}
	for i := range v.State.Security.ChargingPort {
		v.State.Security.ChargingPort[i].Status = status
	}
	return nil
}

// Charge schedule kinds (v3's POST /vehicles/{id}/charge-schedules/{kind}).
const (
	ScheduleDaily    = "daily"
	ScheduleWeekly   = "weekly"
	ScheduleWorkweek = "workweek"
)

// ScheduleWindowNames names each kind's windows in ChargeSchedule.Windows order: v3's bodies
// use them (a weekly schedule's days, a workweek's parts) and charge-chargetimers lists each
// set window under its name.
var ScheduleWindowNames = map[string][]string{
	ScheduleDaily:    {"daily"},
	ScheduleWeekly:   {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"},
	ScheduleWorkweek: {"weekdays", "weekends"},
}

// chargeScheduleSlot is where a kind's schedule is kept.
func (s *ChargeSchedules) slot(kind string) *ChargeSchedule {
	switch kind {
	case ScheduleDaily:
		return &s.Daily
	case ScheduleWeekly:
		return &s.Weekly
	case ScheduleWorkweek:
		return &s.Workweek
	}
	return nil
}

// SetChargeSchedule sets the vehicle's schedule of a kind, replacing the one it had. Smartcar
// documents charge schedules for Tesla (every kind) and Volvo (daily); other makes are not
// capable, except test-mode cars (ModeTest), which take every command. A vehicle with no
// charge port is never capable.
func (v *Vehicle) SetChargeSchedule(kind string, s ChargeSchedule) *Error {
	ch := v.State.Charge
	slot := (&ChargeSchedules{}).slot(kind)
	if ch == nil || slot == nil {
		return VehicleNotCapable("charge schedules")
	}
	capable := v.Mode == ModeTest || strings.EqualFold(v.Make, "TESLA") || (strings.EqualFold(v.Make, "VOLVO") && kind == ScheduleDaily)
	if !capable {
		return VehicleNotCapable(kind + " charge schedules on a " + v.Make)
	}
	*ch.Schedules.slot(kind) = s
	return nil
}

// DeleteChargeSchedule removes the schedule with the id; an unknown id is RESOURCE_NOT_FOUND.
func (v *Vehicle) DeleteChargeSchedule(id string) *Error {
	if ch := v.State.Charge; ch != nil && id != "" {
		for _, kind := range []string{ScheduleDaily, ScheduleWeekly, ScheduleWorkweek} {
			if s := ch.Schedules.slot(kind); s.ID == id {
				*s = ChargeSchedule{}
				return nil
			}
		}
	}
	return NewError(TypeResourceNotFound, "PATH", "The vehicle has no charge schedule "+id+".")
}
