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
