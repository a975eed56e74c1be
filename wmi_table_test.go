package sandbox

import "testing"

// TestWMITableMatchesMakes keeps the WMI tables and the make catalogue in step: every code
// names a make Connect offers, and every make Connect offers can be recognised from a VIN.
func TestWMITableMatchesMakes(t *testing.T) {
	covered := map[string]bool{}
	check := func(table, wmi, id string) {
		if _, ok := LookupMake(id); !ok {
			t.Errorf("%s: %s names unknown make %q", table, wmi, id)
		}
		if len(wmi) != 3 {
			t.Errorf("%s: WMI %q is not 3 characters", table, wmi)
		}
		covered[id] = true
	}
	for wmi, id := range wmiMakes {
		check("wmiMakes", wmi, id)
		if _, dup := stellantisWMIs[wmi]; dup {
			t.Errorf("%s is in both tables", wmi)
		}
	}
	for wmi, id := range stellantisWMIs {
		check("stellantisWMIs", wmi, id)
	}
	for letter, id := range stellantisBrand {
		if _, ok := LookupMake(id); !ok {
			t.Errorf("stellantisBrand: %c names unknown make %q", letter, id)
		}
		covered[id] = true
	}
	for _, mk := range Makes {
		if !covered[mk.ID] {
			t.Errorf("no WMI decodes to %s", mk.ID)
		}
	}
}
