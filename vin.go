package sandbox

import "strings"

// VIN rules (ISO 3779 / North American check digit): 17 characters from the alphabet without
// I, O and Q; position 9 is a check digit computed from the others.

var vinWeights = [17]int{8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2}

func vinValue(c byte) (int, bool) {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0'), true
	case c >= 'A' && c <= 'H':
		return int(c-'A') + 1, true
	case c >= 'J' && c <= 'N':
		return int(c-'J') + 1, true
	case c == 'P':
		return 7, true
	case c == 'R':
		return 9, true
	case c >= 'S' && c <= 'Z':
		return int(c-'S') + 2, true
	}
	return 0, false
}

// VINCheckDigit computes the check digit for a 17-character VIN (position 9 is ignored).
func VINCheckDigit(vin string) (byte, bool) {
	if len(vin) != 17 {
		return 0, false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v, ok := vinValue(vin[i])
		if !ok {
			return 0, false
		}
		sum += v * vinWeights[i]
	}
	r := sum % 11
	if r == 10 {
		return 'X', true
	}
	return byte('0' + r), true
}

// ValidVIN reports whether vin is 17 valid characters with a correct check digit.
func ValidVIN(vin string) bool {
	d, ok := VINCheckDigit(vin)
	return ok && vin[8] == d
}

// FixVINCheckDigit returns vin (upper-cased) with position 9 set to its check digit. It is for
// generating VINs; ok is false when vin has the wrong length or characters.
func FixVINCheckDigit(vin string) (string, bool) {
	vin = strings.ToUpper(vin)
	d, ok := VINCheckDigit(vin)
	if !ok {
		return "", false
	}
	return vin[:8] + string(d) + vin[9:], true
}

// vinYearCycle is position 10 of a VIN, the model year code: index i is model year 1980+i,
// and the 30 codes repeat every 30 years (A is 1980, 2010 and 2040). Letters I, O, Q, U, Z
// and the digit 0 are never year codes.
const vinYearCycle = "ABCDEFGHJKLMNPRSTVWXY123456789"

// VINModelYear decodes the model year from position 10. The code alone is ambiguous across
// 30-year cycles, so it returns the most recent year of the cycle that is not after latest
// (callers pass next year: manufacturers sell next year's models from the summer on). ok is
// false for a string of the wrong length or a position 10 that is no year code.
func VINModelYear(vin string, latest int) (year int, ok bool) {
	if len(vin) != 17 {
		return 0, false
	}
	i := strings.IndexByte(vinYearCycle, upperASCII(vin[9]))
	if i < 0 || latest < 1980+i {
		return 0, false
	}
	year = 1980 + i
	year += (latest - year) / 30 * 30
	return year, true
}

// VINYearCode is the position-10 code of a model year from 1980 on.
func VINYearCode(year int) (byte, bool) {
	if year < 1980 {
		return 0, false
	}
	return vinYearCycle[(year-1980)%30], true
}

func upperASCII(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}
