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
		return "", sandbox.Errorf(sandbox.ErrValidation, "PARAMETER", "The SC-Unit-System header must be 'metric' or 'imperial', got %q.", v)
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
// sandbox "fetched" it: now) and SC-Unit-System on a data response.
//
// It runs on every data response, so it allocates twice instead of eight times: both times
// are formatted by hand into one string (time.Format parses its layout on every call), the
// three values share one backing array (each a full slice expression of length and capacity
// 1, so a later Add reallocates instead of writing into its neighbour), and the keys are
// assigned in their canonical form (Header.Set would allocate a canonical copy of each
// "SC-..." key). The wire spelling of the keys is the same either way.
func SetDataHeaders(h http.Header, u Units, dataAge, fetchedAt time.Time) {
	var buf [2 * len(TimeFormat)]byte
	b := appendTime(buf[:0], dataAge.UTC())
	n := len(b)
	b = appendTime(b, fetchedAt.UTC())
	both := string(b)
	vals := &[3]string{both[:n], both[n:], string(u)}
	h["Sc-Data-Age"] = vals[0:1:1]
	h["Sc-Fetched-At"] = vals[1:2:2]
	h["Sc-Unit-System"] = vals[2:3:3]
}

// appendTime appends t (already in UTC) in TimeFormat. Years outside 0–9999 do not fit the
// fixed-width form and go through time.AppendFormat, which spells them as Format does.
func appendTime(b []byte, t time.Time) []byte {
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, TimeFormat)
	}
	hour, minute, sec := t.Clock()
	ms := t.Nanosecond() / 1e6
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, minute, 2)
	b = append(b, ':')
	b = appendDigits(b, sec, 2)
	b = append(b, '.')
	b = appendDigits(b, ms, 3)
	return append(b, 'Z')
}

// appendDigits appends v (0 <= v < 10^width) zero-padded to width digits.
func appendDigits(b []byte, v, width int) []byte {
	var d [4]byte
	for i := width - 1; i >= 0; i-- {
		d[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, d[:width]...)
}
