package scapi

import (
	"math"
	"net/http"
	"strings"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
)

// Units is the unit system of a request: metric (the default) or imperial.
type Units string

const (
	Metric   Units = "metric"
	Imperial Units = "imperial"
)

// Conversion factors from the metric units the store keeps.
const (
	milesPerKm    = 0.621371192237334
	gallonsPerLtr = 0.264172052358148
	psiPerKPa     = 0.145037737730209
)

// UnitsOf reads the SC-Unit-System request header. Absent means metric; anything other than
// metric or imperial is a VALIDATION error rather than a silent default, so a typo shows.
//
// Header keys on the request path are written in their canonical form ("Sc-..."): Get
// canonicalizes any other spelling into a new string on every call.
func UnitsOf(r *http.Request) (Units, error) {
	switch v := strings.ToLower(strings.TrimSpace(r.Header.Get("Sc-Unit-System"))); v {
	case "", "metric":
		return Metric, nil
	case "imperial":
		return Imperial, nil
	default:
		return "", sandbox.Errorf(sandbox.TypeValidation, "PARAMETER", "The SC-Unit-System header must be 'metric' or 'imperial', got %q.", v)
	}
}

// Distance converts kilometres to the unit system.
func (u Units) Distance(km float64) float64 {
	if u == Imperial {
		return round(km*milesPerKm, 2)
	}
	return round(km, 2)
}

// Volume converts litres.
func (u Units) Volume(l float64) float64 {
	if u == Imperial {
		return round(l*gallonsPerLtr, 2)
	}
	return round(l, 2)
}

// Pressure converts kPa.
func (u Units) Pressure(kpa float64) float64 {
	if u == Imperial {
		return round(kpa*psiPerKPa, 2)
	}
	return round(kpa, 2)
}

// DistanceUnit, VolumeUnit and PressureUnit name the units (v3 signal bodies carry them).
func (u Units) DistanceUnit() string {
	if u == Imperial {
		return "miles"
	}
	return "kilometers"
}

func (u Units) VolumeUnit() string {
	if u == Imperial {
		return "gallons"
	}
	return "liters"
}

func (u Units) PressureUnit() string {
	if u == Imperial {
		return "psi"
	}
	return "kilopascals"
}

func round(x float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(x*p) / p
}

// TimeFormat is ISO-8601 with milliseconds and Z, which the Node and Java SDKs parse as dates.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// SetDataHeaders sets SC-Data-Age (when the vehicle recorded the data), SC-Fetched-At (when the
// sandbox "fetched" it: now) and SC-Unit-System on a data response. The keys are written in
// their canonical form, which is what Header.Set stores (and sends) anyway: spelled so, Set
// need not make a canonical copy of each on every response.
func SetDataHeaders(h http.Header, u Units, dataAge, fetchedAt time.Time) {
	h.Set("Sc-Data-Age", dataAge.UTC().Format(TimeFormat))
	h.Set("Sc-Fetched-At", fetchedAt.UTC().Format(TimeFormat))
	h.Set("Sc-Unit-System", string(u))
}
