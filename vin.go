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
