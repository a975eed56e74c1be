package sandbox

import "testing"

func TestValidVIN(t *testing.T) {
	tests := []struct {
		vin  string
		want bool
	}{
		{"1M8GDM9AXKP042788", true},  // the textbook example with an X check digit
		{"5YJSA1E14FF101307", true},  // from the Node SDK's docs
		{"5YJSA1E15FF101307", false}, // wrong check digit
		{"1M8GDM9AXKP04278", false},  // 16 characters
		{"1M8GDM9AXKP0427I8", false}, // I is not allowed
		{"", false},
	}
	for _, tt := range tests {
		if got := ValidVIN(tt.vin); got != tt.want {
			t.Errorf("ValidVIN(%q) = %v, want %v", tt.vin, got, tt.want)
		}
	}
}

func TestFixVINCheckDigit(t *testing.T) {
	got, ok := FixVINCheckDigit("1m8gdm9a0kp042788")
	if !ok || got != "1M8GDM9AXKP042788" {
		t.Fatalf("FixVINCheckDigit = %q, %v; want 1M8GDM9AXKP042788, true", got, ok)
	}
}

func TestNameUUIDIsStable(t *testing.T) {
	a, b := NameUUID("user", "alice"), NameUUID("user", "alice")
	if a != b || !IsUUID(a) {
		t.Fatalf("NameUUID not stable or malformed: %q %q", a, b)
	}
	if NameUUID("user", "bob") == a {
		t.Fatal("different names gave the same UUID")
	}
	if !IsUUID(NewUUID()) {
		t.Fatal("NewUUID malformed")
	}
}

func TestVINModelYear(t *testing.T) {
	tests := []struct {
		vin    string
		latest int
		want   int
		ok     bool
	}{
		{"5YJXCDE22HF068739", 2027, 2017, true}, // H: 1987 or 2017 (Node SDK e2e Tesla)
		{"WAUAFAFL1GN014882", 2027, 2016, true}, // G: 1986 or 2016 (Node SDK e2e Audi)
		{"1M8GDM9AXKP042788", 2027, 2019, true}, // K: 1989 or 2019
		{"5yjxcde22hf068739", 2027, 2017, true}, // lower case reads the same
		{"000000000V0000000", 2027, 2027, true}, // V: 2027 is next year, so it is plausible
		{"000000000W0000000", 2027, 1998, true}, // W: 2028 is too far ahead, so 1998
		{"000000000Y0000000", 2027, 2000, true},
		{"000000000Y0000000", 2030, 2030, true},
		{"0000000001000000", 2027, 0, false},  // 16 characters
		{"00000000000000000", 2027, 0, false}, // 0 is no year code
		{"000000000U0000000", 2027, 0, false}, // nor U, Z, I, O, Q
		{"000000000I0000000", 2027, 0, false},
		{"000000000O0000000", 2027, 0, false},
		{"000000000Z0000000", 2027, 0, false},
		{"000000000Q0000000", 2027, 0, false},
		{"000000000H0000000", 1985, 0, false}, // 1987 is the first H
	}
	for _, tt := range tests {
		got, ok := VINModelYear(tt.vin, tt.latest)
		if got != tt.want || ok != tt.ok {
			t.Errorf("VINModelYear(%q, %d) = %d, %v; want %d, %v", tt.vin, tt.latest, got, ok, tt.want, tt.ok)
		}
	}
}

// TestVINYearCodeCycle checks every year of two cycles round-trips through its code, and that
// a code read a whole cycle later still names the most recent year.
func TestVINYearCodeCycle(t *testing.T) {
	for year := 1980; year < 2070; year++ {
		c, ok := VINYearCode(year)
		if !ok {
			t.Fatalf("VINYearCode(%d) failed", year)
		}
		vin := "000000000" + string(c) + "0000000"
		for _, latest := range []int{year, year + 29} {
			if got, ok := VINModelYear(vin, latest); !ok || got != year {
				t.Errorf("year %d: code %c read with latest %d gives %d, %v", year, c, latest, got, ok)
			}
		}
		if got, _ := VINModelYear(vin, year+30); got != year+30 {
			t.Errorf("year %d: code %c read with latest %d gives %d, want %d", year, c, year+30, got, year+30)
		}
	}
	if _, ok := VINYearCode(1979); ok {
		t.Error("VINYearCode(1979) succeeded; the cycle starts in 1980")
	}
}
