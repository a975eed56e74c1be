package store

import sandbox "github.com/smartcar-sandbox/smartcar-sandbox"

// cloneVehicle is sandbox.Vehicle.Clone in two allocations instead of up to nine, for the
// read accessors every vehicle API request goes through: the four optional parts share one
// box, and the five opening lists one backing array. Each list is cut with a full slice
// expression (capacity = length), so an append by the caller reallocates instead of writing
// into the next list. Like Clone, an empty list comes back nil and a nil part stays nil, so
// the copy renders and compares exactly like Clone's and shares nothing with the store.
func cloneVehicle(v *sandbox.Vehicle) sandbox.Vehicle {
	var c sandbox.Vehicle
	cloneVehicleInto(&c, v)
	return c
}

// cloneVehicleInto is cloneVehicle writing the copy into *dst, so a caller that keeps the
// copy in a struct of its own (scapi.Access) does not move the ~450-byte Vehicle through
// its stack frame twice; dst must not be v.
func cloneVehicleInto(dst, v *sandbox.Vehicle) {
	*dst = *v
	c := dst
	st := &v.State
	if st.Fuel != nil || st.Battery != nil || st.Charge != nil || st.EngineOil != nil {
		box := new(struct {
			fuel    sandbox.Fuel
			battery sandbox.Battery
			charge  sandbox.Charge
			oil     sandbox.Oil
		})
		if st.Fuel != nil {
			box.fuel = *st.Fuel
			c.State.Fuel = &box.fuel
		}
		if st.Battery != nil {
			box.battery = *st.Battery
			c.State.Battery = &box.battery
		}
		if st.Charge != nil {
			box.charge = *st.Charge
			c.State.Charge = &box.charge
		}
		if st.EngineOil != nil {
			box.oil = *st.EngineOil
			c.State.EngineOil = &box.oil
		}
	}
	s := st.Security
	var all []sandbox.Opening
	if n := len(s.Doors) + len(s.Windows) + len(s.Sunroof) + len(s.Storage) + len(s.ChargingPort); n > 0 {
		all = make([]sandbox.Opening, 0, n)
	}
	c.State.Security = sandbox.Security{
		Doors:        cut(&all, s.Doors),
		Windows:      cut(&all, s.Windows),
		Sunroof:      cut(&all, s.Sunroof),
		Storage:      cut(&all, s.Storage),
		ChargingPort: cut(&all, s.ChargingPort),
	}
}

// cut copies src onto the end of *all (which has room for it) and returns that part, with
// its capacity limited to its length; nil for an empty src.
func cut(all *[]sandbox.Opening, src []sandbox.Opening) []sandbox.Opening {
	if len(src) == 0 {
		return nil
	}
	start := len(*all)
	*all = append(*all, src...)
	return (*all)[start:len(*all):len(*all)]
}
