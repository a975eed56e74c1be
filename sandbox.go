// Package sandbox holds the domain of smartcar-sandbox: applications, accounts, vehicles and
// their state, grants, and the Smartcar API error. Adapters (HTTP doors, fixtures, store) live
// in internal/ and speak in these types, so the wire formats stay at the edges.
package sandbox

import "time"

// Powertrain is how a vehicle is driven; it decides which signals the vehicle has.
type Powertrain string

const (
	BEV  Powertrain = "BEV"  // battery electric: battery and charge, no fuel or engine oil
	PHEV Powertrain = "PHEV" // plug-in hybrid: everything
	HEV  Powertrain = "HEV"  // hybrid: fuel and engine oil, no plug
	ICE  Powertrain = "ICE"  // combustion: fuel and engine oil
)

// Valid reports whether p is one of the known powertrains.
func (p Powertrain) Valid() bool {
	switch p {
	case BEV, PHEV, HEV, ICE:
		return true
	}
	return false
}

// HasFuel reports whether the vehicle has a fuel tank and an engine.
func (p Powertrain) HasFuel() bool { return p != BEV }

// HasBattery reports whether the vehicle has a traction battery with a charge port.
func (p Powertrain) HasBattery() bool { return p == BEV || p == PHEV }

// Application is a developer's registered Smartcar application.
type Application struct {
	Name            string   `json:"name" yaml:"name"`
	ClientID        string   `json:"clientId" yaml:"client_id"`
	ClientSecret    string   `json:"clientSecret" yaml:"client_secret"`
	RedirectURIs    []string `json:"redirectUris" yaml:"redirect_uris,flow"`
	ManagementToken string   `json:"managementToken" yaml:"management_token,omitempty"`
	// Webhooks are the application's declared webhooks (sandbox_webhooks.go).
	Webhooks []Webhook `json:"webhooks,omitempty" yaml:"webhooks,omitempty"`
	// Source says where the application was registered (fixture file:line, env), so error
	// pages can tell a user which line to fix.
	Source string `json:"source,omitempty" yaml:"-"`
}

// AllowsRedirect reports whether uri exactly matches one registered redirect URI. Exact
// matching is what keeps Connect from being an open redirect.
func (a Application) AllowsRedirect(uri string) bool {
	for _, r := range a.RedirectURIs {
		if r == uri {
			return true
		}
	}
	return false
}

// Account is a connected-services account: what a car owner logs in to on Connect.
type Account struct {
	Username   string   `json:"username"`
	UserID     string   `json:"userId"`
	VehicleIDs []string `json:"vehicleIds"`
	// Generated is true for garages made up for usernames no fixture names.
	Generated bool `json:"generated,omitempty"`
}

// Vehicle is a car with its fixed attributes and its mutable state. The store owns the only
// copy of the state; every API (v2.0, v3) renders views of it.
type Vehicle struct {
	ID         string       `json:"id" yaml:"id"`
	Make       string       `json:"make" yaml:"make"`
	Model      string       `json:"model" yaml:"model"`
	Year       int          `json:"year" yaml:"year"`
	VIN        string       `json:"vin" yaml:"vin"`
	Powertrain Powertrain   `json:"powertrain" yaml:"powertrain"`
	Mode       string       `json:"mode,omitempty" yaml:"mode,omitempty"` // live (default), simulated, or test (ModeTest)
	State      VehicleState `json:"state" yaml:",inline"`
}

// VehicleState is everything about a vehicle that changes. Metric units throughout (km,
// litres, kPa); conversion happens when a response is rendered.
type VehicleState struct {
	OdometerKm float64   `json:"odometerKm" yaml:"odometer_km"`
	Location   Location  `json:"location" yaml:"location,flow"`
	Fuel       *Fuel     `json:"fuel,omitempty" yaml:"fuel,omitempty,flow"`            // nil on BEV
	Battery    *Battery  `json:"battery,omitempty" yaml:"battery,omitempty,flow"`      // nil without traction battery
	Charge     *Charge   `json:"charge,omitempty" yaml:"charge,omitempty,flow"`        // nil without charge port
	EngineOil  *Oil      `json:"engineOil,omitempty" yaml:"engine_oil,omitempty,flow"` // nil on BEV
	Tires      Tires     `json:"tires" yaml:"tires_kpa,flow"`
	Security   Security  `json:"security" yaml:"security"`
	UpdatedAt  time.Time `json:"updatedAt" yaml:"updated_at"` // when the "vehicle" last recorded data (sc-data-age)
	Trip       Trip      `json:"trip,omitzero" yaml:"-"`      // simulated vehicles only (sandbox_simulation.go)
}

type Location struct {
	Latitude  float64 `json:"latitude" yaml:"latitude"`
	Longitude float64 `json:"longitude" yaml:"longitude"`
	Heading   float64 `json:"heading" yaml:"heading"` // degrees, 0 = north
}

type Fuel struct {
	RangeKm          float64 `json:"rangeKm" yaml:"range_km"`
	PercentRemaining float64 `json:"percentRemaining" yaml:"percent_remaining"` // 0..1
	AmountLiters     float64 `json:"amountLiters" yaml:"amount_liters"`
}

type Battery struct {
	RangeKm          float64 `json:"rangeKm" yaml:"range_km"`
	PercentRemaining float64 `json:"percentRemaining" yaml:"percent_remaining"` // 0..1
	CapacityKWh      float64 `json:"capacityKWh" yaml:"capacity_kwh"`
}

// Charge states as the v2.0 API names them.
const (
	ChargeCharging     = "CHARGING"
	ChargeFullyCharged = "FULLY_CHARGED"
	ChargeNotCharging  = "NOT_CHARGING"
)

type Charge struct {
	IsPluggedIn bool    `json:"isPluggedIn" yaml:"is_plugged_in"`
	State       string  `json:"state" yaml:"state"` // CHARGING, FULLY_CHARGED, NOT_CHARGING
	Limit       float64 `json:"limit" yaml:"limit"` // 0..1
	// Schedules are the charging schedules set through v3's charge-schedules (fixtures have none).
	Schedules ChargeSchedules `json:"schedules,omitzero" yaml:"-"`
}

// ChargeSchedules holds one schedule per kind (v3's daily, weekly and workweek). Every part
// is a value (arrays, not slices), so copying a Charge copies them: no clone of the state can
// share them with the store.
type ChargeSchedules struct {
	Daily    ChargeSchedule `json:"daily,omitzero"`
	Weekly   ChargeSchedule `json:"weekly,omitzero"`
	Workweek ChargeSchedule `json:"workweek,omitzero"`
}

// ChargeSchedule is one schedule: its id and charging windows. Daily uses Windows[0]; weekly
// Monday..Sunday in [0]..[6]; workweek weekdays in [0] and weekends in [1]. A window with no
// StartTime is unset.
type ChargeSchedule struct {
	ID      string            `json:"id,omitempty"`
	Windows [7]ScheduleWindow `json:"windows"`
}

// ScheduleWindow is a charging window in the vehicle's local time, "HH:MM" 24-hour.
type ScheduleWindow struct {
	StartTime string `json:"startTime,omitempty"`
	StopTime  string `json:"stopTime,omitempty"`
}

type Oil struct {
	LifeRemaining float64 `json:"lifeRemaining" yaml:"life_remaining"` // 0..1
}

// Tires holds pressures in kPa.
type Tires struct {
	FrontLeft  float64 `json:"frontLeft" yaml:"front_left"`
	FrontRight float64 `json:"frontRight" yaml:"front_right"`
	BackLeft   float64 `json:"backLeft" yaml:"back_left"`
	BackRight  float64 `json:"backRight" yaml:"back_right"`
}

// Opening statuses. Doors are LOCKED/UNLOCKED (v2.0 reports no open/closed for doors);
// windows, sunroof, storage and charging port are OPEN/CLOSED.
const (
	StatusLocked   = "LOCKED"
	StatusUnlocked = "UNLOCKED"
	StatusOpen     = "OPEN"
	StatusClosed   = "CLOSED"
)

// Opening is one door, window, sunroof, storage compartment or charging port.
type Opening struct {
	Type   string `json:"type" yaml:"type"`
	Status string `json:"status" yaml:"status"`
}

type Security struct {
	Doors        []Opening `json:"doors" yaml:"doors,flow"`
	Windows      []Opening `json:"windows" yaml:"windows,flow"`
	Sunroof      []Opening `json:"sunroof" yaml:"sunroof,flow"`
	Storage      []Opening `json:"storage" yaml:"storage,flow"`
	ChargingPort []Opening `json:"chargingPort" yaml:"charging_port,flow"`
}

// IsLocked is derived from the doors rather than stored, so it can never disagree with them.
func (s Security) IsLocked() bool {
	if len(s.Doors) == 0 {
		return false
	}
	for _, d := range s.Doors {
		if d.Status != StatusLocked {
			return false
		}
	}
	return true
}

// SetLocked locks or unlocks every door.
func (s *Security) SetLocked(locked bool) {
	status := StatusUnlocked
	if locked {
		status = StatusLocked
	}
	for i := range s.Doors {
		s.Doors[i].Status = status
	}
}

// Clone returns a deep copy, so callers outside the store can never alias its state.
func (v Vehicle) Clone() Vehicle {
	var c Vehicle
	v.CloneInto(&c)
	return c
}

// CloneInto is Clone writing the copy into *dst (which must not be v), so a caller that
// keeps the copy in a struct of its own (every vehicle API request does) does not move the
// ~450-byte Vehicle through its stack twice. It makes two allocations where a part-by-part
// copy makes up to nine: the four optional parts share one box, and the five opening lists
// one array, each list cut with capacity = length so an append to one reallocates instead of
// writing into the next. An empty list comes back nil and a nil part stays nil.
func (v *Vehicle) CloneInto(dst *Vehicle) {
	*dst = *v
	st := &v.State
	if st.Fuel != nil || st.Battery != nil || st.Charge != nil || st.EngineOil != nil {
		box := new(struct {
			fuel    Fuel
			battery Battery
			charge  Charge
			oil     Oil
		})
		if st.Fuel != nil {
			box.fuel = *st.Fuel
			dst.State.Fuel = &box.fuel
		}
		if st.Battery != nil {
			box.battery = *st.Battery
			dst.State.Battery = &box.battery
		}
		if st.Charge != nil {
			box.charge = *st.Charge
			dst.State.Charge = &box.charge
		}
		if st.EngineOil != nil {
			box.oil = *st.EngineOil
			dst.State.EngineOil = &box.oil
		}
	}
	s := st.Security
	var all []Opening
	if n := len(s.Doors) + len(s.Windows) + len(s.Sunroof) + len(s.Storage) + len(s.ChargingPort); n > 0 {
		all = make([]Opening, 0, n)
	}
	dst.State.Security = Security{
		Doors:        cutOpenings(&all, s.Doors),
		Windows:      cutOpenings(&all, s.Windows),
		Sunroof:      cutOpenings(&all, s.Sunroof),
		Storage:      cutOpenings(&all, s.Storage),
		ChargingPort: cutOpenings(&all, s.ChargingPort),
	}
}

// cutOpenings copies src onto the end of *all (which has room for it) and returns that part,
// its capacity limited to its length; nil for an empty src.
func cutOpenings(all *[]Opening, src []Opening) []Opening {
	if len(src) == 0 {
		return nil
	}
	start := len(*all)
	*all = append(*all, src...)
	return (*all)[start:len(*all):len(*all)]
}

// Grant (a "connection" in Smartcar's words) records that a user let an application access a
// vehicle with some permissions. A vehicle API call is allowed only while its grant exists,
// which is what makes a disconnect take effect at once even for unexpired tokens.
type Grant struct {
	ClientID    string    `json:"clientId"`
	UserID      string    `json:"userId"`
	VehicleID   string    `json:"vehicleId"`
	Permissions []string  `json:"permissions"`
	ConnectedAt time.Time `json:"connectedAt"`
	Mode        string    `json:"mode,omitempty"`
	// Generation is the authorization number the store handed out when this connection began
	// (a Connect after a disconnect begins a new one; a Connect while connected keeps it).
	// Tokens carry the number of the authorization they come from, and one numbered lower was
	// issued under an earlier connection, which has ended: it never works for this one.
	Generation uint64 `json:"generation,omitempty"`
	// ExternalID is the app's own id for the user, given to Connect as external_id (v3
	// connections filter on it); a later Connect without one keeps it.
	ExternalID string `json:"externalId,omitempty"`
}

// Dataset is what fixtures describe and what the store starts from (and resets to).
type Dataset struct {
	Applications []Application
	Accounts     []Account
	Vehicles     []Vehicle
}

// AuthCode is an authorization code issued by Connect: single use, short-lived.
type AuthCode struct {
	Code        string    `json:"code"`
	ClientID    string    `json:"clientId"`
	RedirectURI string    `json:"redirectUri"`
	UserID      string    `json:"userId"`
	VehicleIDs  []string  `json:"vehicleIds"`
	Permissions []string  `json:"permissions"`
	Mode        string    `json:"mode,omitempty"`
	ExpiresAt   time.Time `json:"expiresAt"`
	// Authorization is the number the store gave this approval: every token obtained from the
	// code carries it, so they can be found and ended together (see Grant.Generation).
	Authorization uint64 `json:"authorization,omitempty"`
	// UsedAt is when the code was exchanged. A used code is kept until it would have expired,
	// so that presenting it again can be recognised and end the tokens issued from it.
	UsedAt time.Time `json:"usedAt,omitzero"`
}

// RefreshToken is an opaque refresh token. It rotates: once used it keeps working only for a
// short grace period, so a client that lost the response can retry.
type RefreshToken struct {
	Token       string    `json:"token"`
	ClientID    string    `json:"clientId"`
	UserID      string    `json:"userId"`
	VehicleIDs  []string  `json:"vehicleIds"`
	Permissions []string  `json:"permissions"`
	Mode        string    `json:"mode,omitempty"`
	ExpiresAt   time.Time `json:"expiresAt"`
	UsedAt      time.Time `json:"usedAt,omitzero"`
	// Authorization is the number of the Connect approval the chain of refresh tokens comes
	// from (see AuthCode.Authorization); every rotation keeps it.
	Authorization uint64 `json:"authorization,omitempty"`
	// Next is the refresh token this one was rotated into on its first use: a retry within
	// the grace period gets the same one back, so a chain never forks.
	Next string `json:"next,omitempty"`
}
