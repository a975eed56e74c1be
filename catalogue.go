package sandbox

import "sort"

// Permission is one Smartcar permission with the words Connect shows the car owner.
type Permission struct {
	Name        string
	Description string // the consent-page text Smartcar uses
	Explanation string // one more line of plain words under it
}

// Permissions is the catalogue Connect accepts in `scope`. Unknown names are a Connect error.
var Permissions = []Permission{
	{"read_vehicle_info", "Know make, model, and year", "The basic facts about your car."},
	{"read_vin", "Read VIN", "Your vehicle identification number."},
	{"read_odometer", "Retrieve total distance traveled", "The odometer reading."},
	{"read_location", "Access the vehicle's location", "Where your car is parked or driving."},
	{"read_security", "Read the lock status of doors, windows, charging port, etc.", "Whether doors are locked and windows closed."},
	{"control_security", "Lock or unlock the vehicle", "Send lock and unlock commands."},
	{"read_battery", "Read an EV's high voltage battery data", "State of charge, range and capacity."},
	{"read_charge", "Read charging data", "Whether the car is plugged in and charging."},
	{"control_charge", "Control a vehicle's charge state", "Start or stop charging, set the charge limit."},
	{"read_fuel", "Read fuel tank level", "Fuel level and range."},
	{"read_tires", "Read a vehicle's tire status", "Tire pressures."},
	{"read_engine_oil", "Read vehicle engine oil health", "Remaining engine oil life."},
	{"read_diagnostics", "Read a vehicle's system status and/or Diagnostic Trouble Codes", "Warnings the car reports."},
	{"read_service_history", "Read a vehicle's dealer service history", "Past dealer service visits."},
	{"read_user_profile", "Read the information associated with a user's connected services account profile such as their email and phone number", "Your account's contact details."},
	{"read_extended_vehicle_info", "Read vehicle configuration information", "Trim and options of your car."},
	{"control_navigation", "Send commands to the vehicle's navigation system", "Send a destination to the car."},
	{"read_speedometer", "Know the vehicle's speed", "The current speed."},
	{"read_thermometer", "Read temperatures from inside and outside the vehicle", "Cabin and outside temperature."},
	{"read_compass", "Know the compass direction the vehicle is facing", "The heading."},
	{"read_climate", "Read the vehicle's climate settings", "Cabin climate settings."},
	{"control_climate", "Set the vehicle's climate settings", "Change cabin climate settings."},
	{"read_charge_locations", "Read charging locations", "Where the car charges."},
	{"read_charge_records", "Read charging records", "Past charging sessions."},
	{"read_charge_events", "Read charging events", "Charging start and stop events."},
	{"read_alerts", "Read vehicle alerts", "Alerts the car raises."},
}

var permissionByName = func() map[string]Permission {
	m := make(map[string]Permission, len(Permissions))
	for _, p := range Permissions {
		m[p.Name] = p
	}
	return m
}()

// LookupPermission finds a permission by name.
func LookupPermission(name string) (Permission, bool) {
	p, ok := permissionByName[name]
	return p, ok
}

// Make is a brand Connect offers, by Smartcar's upper-case make id.
type Make struct {
	ID   string // e.g. LAND_ROVER
	Name string // e.g. Land Rover
}

// Makes are the brands on Connect's brand page. Only TESLA, CHEVROLET, KIA, NISSAN, FORD and
// BMW are confirmed by public sources; the rest follow Smartcar's naming pattern.
var Makes = []Make{
	{"ACURA", "Acura"}, {"AUDI", "Audi"}, {"BMW", "BMW"}, {"BUICK", "Buick"},
	{"CADILLAC", "Cadillac"}, {"CHEVROLET", "Chevrolet"}, {"CHRYSLER", "Chrysler"},
	{"DODGE", "Dodge"}, {"FORD", "Ford"}, {"GMC", "GMC"}, {"HONDA", "Honda"},
	{"HYUNDAI", "Hyundai"}, {"JAGUAR", "Jaguar"}, {"JEEP", "Jeep"}, {"KIA", "Kia"},
	{"LAND_ROVER", "Land Rover"}, {"LEXUS", "Lexus"}, {"LINCOLN", "Lincoln"},
	{"MERCEDES_BENZ", "Mercedes-Benz"}, {"MINI", "MINI"}, {"NISSAN", "Nissan"},
	{"PORSCHE", "Porsche"}, {"RAM", "Ram"}, {"RIVIAN", "Rivian"}, {"TESLA", "Tesla"},
	{"TOYOTA", "Toyota"}, {"VOLKSWAGEN", "Volkswagen"}, {"VOLVO", "Volvo"},
}

var makeByID = func() map[string]Make {
	m := make(map[string]Make, len(Makes))
	for _, mk := range Makes {
		m[mk.ID] = mk
	}
	return m
}()

// LookupMake finds a make by its upper-case id.
func LookupMake(id string) (Make, bool) {
	m, ok := makeByID[id]
	return m, ok
}

// SortedPermissionNames returns names deduplicated and sorted, the canonical form stored in
// grants and tokens.
func SortedPermissionNames(names []string) []string {
	seen := make(map[string]bool, len(names))
	out := make([]string, 0, len(names))
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}
