package sandbox_test

import (
	"testing"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	defaultfixtures "github.com/smartcar-sandbox/smartcar-sandbox/fixtures"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/fixtures"
)

func TestMakeFromVIN(t *testing.T) {
	tests := []struct {
		vin, want string
		ok        bool
	}{
		{"5YJXCDE22HF068739", "TESLA", true}, // the Node SDK e2e's Tesla (Model X)
		{"WAUAFAFL1GN014882", "AUDI", true},  // the Node SDK e2e's Audi (A4)
		{"5yjxcde22hf068739", "TESLA", true}, // case does not matter
		{"1HGCM82633A004352", "HONDA", true}, // an Accord, the textbook check-digit example
		{"1N4AZ0CP5DC400000", "NISSAN", true},
		{"KNDJP3A57H7000000", "KIA", true},
		{"WP0AB2A99KS000000", "PORSCHE", true},
		{"SALGS2SE5LA000000", "LAND_ROVER", true},
		{"7FCTGAAL5NN000000", "RIVIAN", true},
		{"1GKS2CKJ5LR000000", "GMC", true},
		{"3LN6L5LU5HR000000", "LINCOLN", true},
		// Shared FCA/Stellantis codes: position 5 names the brand.
		{"1C4RJFAG0EC000000", "JEEP", true},     // Grand Cherokee
		{"1C4RDJAG5EC000000", "DODGE", true},    // Durango, same WMI
		{"2C3CDXBG5EH000000", "DODGE", true},    // Charger
		{"2C3CCAAG0EH000000", "CHRYSLER", true}, // 300, same WMI
		{"1C6RR7LT5ES000000", "RAM", true},      // 1500
		{"1C4AAAAA5EC000000", "JEEP", true},     // position 5 names no brand: the code's usual one
		// Smartcar's test-mode VINs carry the make's name after 0SC.
		{"0SCAUDI037A5ADB1C", "AUDI", true},
		{"0SCLR0002EDAB90A7", "LAND_ROVER", true},
		{"0SCGMCT0386A85356", "GMC", true},
		{"0SCXX000000000000", "", false},
		{"1M8GDM9AXKP042788", "", false}, // a coach builder: no make of the catalogue
		{"5YJXCDE22HF06873", "", false},  // 16 characters
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := sandbox.MakeFromVIN(tt.vin)
		if got != tt.want || ok != tt.ok {
			t.Errorf("MakeFromVIN(%q) = %q, %v; want %q, %v", tt.vin, got, ok, tt.want, tt.ok)
		}
	}
}

// TestFixtureVINsDecode checks the WMI table and the year code against the hand-written default
// fixtures: every vehicle's VIN decodes to the make and model year the fixture states.
func TestFixtureVINsDecode(t *testing.T) {
	ds, err := fixtures.Load(defaultfixtures.FS)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Vehicles) == 0 {
		t.Fatal("no fixture vehicles")
	}
	for _, v := range ds.Vehicles {
		if m, ok := sandbox.MakeFromVIN(v.VIN); !ok || m != v.Make {
			t.Errorf("%s (%s %s): MakeFromVIN = %q, %v", v.VIN, v.Make, v.Model, m, ok)
		}
		if y, ok := sandbox.VINModelYear(v.VIN, v.Year+1); !ok || y != v.Year {
			t.Errorf("%s (%d %s %s): VINModelYear = %d, %v", v.VIN, v.Year, v.Make, v.Model, y, ok)
		}
	}
}
