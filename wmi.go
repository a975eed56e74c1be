package sandbox

import "strings"

// World manufacturer identifiers (ISO 3780): the first three characters of a VIN name the
// manufacturer and, often, the plant's country and the vehicle type. This table maps the
// well-known WMIs of the makes in Makes to their make id. It is not exhaustive (manufacturers
// hold many more, and small-volume plants get codes with a 9 in position 3); a VIN whose WMI is
// not here decodes to no make.
var wmiMakes = map[string]string{
	// Acura: US (Ohio, Alabama) plants and Japan.
	"19U": "ACURA", "5J8": "ACURA", "JH4": "ACURA", "2HN": "ACURA",
	// Audi: Germany (cars, SUVs, quattro GmbH) and Hungary.
	"WAU": "AUDI", "WA1": "AUDI", "WUA": "AUDI", "TRU": "AUDI",
	// BMW: Germany (cars, M, i), the US Spartanburg plant (SUVs) and its earlier code.
	"WBA": "BMW", "WBS": "BMW", "WBY": "BMW", "WBX": "BMW", "5UX": "BMW", "5YM": "BMW", "4US": "BMW",
	// GM brands: US, Canada, Mexico, Korea and China plants.
	"1G4": "BUICK", "2G4": "BUICK", "5GA": "BUICK", "KL4": "BUICK", "LRB": "BUICK",
	"1G6": "CADILLAC", "1GY": "CADILLAC",
	"1G1": "CHEVROLET", "1GC": "CHEVROLET", "1GN": "CHEVROLET", "1GB": "CHEVROLET", "2G1": "CHEVROLET",
	"2GN": "CHEVROLET", "3G1": "CHEVROLET", "3GC": "CHEVROLET", "3GN": "CHEVROLET", "KL7": "CHEVROLET", "KL8": "CHEVROLET",
	"1GT": "GMC", "1GK": "GMC", "1GD": "GMC", "2GK": "GMC", "2GT": "GMC", "3GK": "GMC", "3GT": "GMC",
	// Chrysler, Dodge, Jeep, Ram: the older brand-specific codes. The shared FCA/Stellantis codes
	// are in stellantisWMIs below.
	"1J4": "JEEP", "1J8": "JEEP", "ZAC": "JEEP",
	"1B3": "DODGE", "2B3": "DODGE",
	"3D7": "RAM",
	// Ford and Lincoln: US, Canada, Mexico, Germany, Turkey.
	"1FA": "FORD", "1FB": "FORD", "1FD": "FORD", "1FM": "FORD", "1FT": "FORD", "1ZV": "FORD",
	"2FA": "FORD", "2FM": "FORD", "2FT": "FORD", "3FA": "FORD", "3FM": "FORD", "3FT": "FORD",
	"WF0": "FORD", "NM0": "FORD",
	"1LN": "LINCOLN", "2LM": "LINCOLN", "3LN": "LINCOLN", "5LM": "LINCOLN",
	// Honda: US (Ohio, Alabama, Indiana), Canada, Mexico, Japan, UK.
	"1HG": "HONDA", "19X": "HONDA", "5FN": "HONDA", "5J6": "HONDA", "7FA": "HONDA", "2HG": "HONDA",
	"2HK": "HONDA", "3CZ": "HONDA", "JHM": "HONDA", "SHH": "HONDA", "SHS": "HONDA",
	// Hyundai: Korea, the US Alabama plant, the Czech Republic, Turkey.
	"KMH": "HYUNDAI", "KM8": "HYUNDAI", "5NP": "HYUNDAI", "5NM": "HYUNDAI", "5NT": "HYUNDAI", "TMA": "HYUNDAI", "NLH": "HYUNDAI",
	// Kia: Korea, the US Georgia plant, Mexico, Slovakia.
	"KNA": "KIA", "KND": "KIA", "5XX": "KIA", "5XY": "KIA", "3KP": "KIA", "U5Y": "KIA", "U6Y": "KIA",
	// Jaguar Land Rover: UK.
	"SAJ": "JAGUAR", "SAD": "JAGUAR", "SAL": "LAND_ROVER",
	// Lexus and Toyota: Japan, US, Canada, Mexico, UK, France, Turkey.
	"JTH": "LEXUS", "JTJ": "LEXUS", "2T2": "LEXUS", "58A": "LEXUS",
	"JT2": "TOYOTA", "JT3": "TOYOTA", "JTD": "TOYOTA", "JTE": "TOYOTA", "JTM": "TOYOTA", "JTN": "TOYOTA",
	"1NX": "TOYOTA", "2T1": "TOYOTA", "2T3": "TOYOTA", "3TM": "TOYOTA", "4T1": "TOYOTA", "4T3": "TOYOTA",
	"5TD": "TOYOTA", "5TF": "TOYOTA", "5YF": "TOYOTA", "7MU": "TOYOTA", "SB1": "TOYOTA", "VNK": "TOYOTA", "NMT": "TOYOTA",
	// Mercedes-Benz: Germany (the older W-D codes and the newer W1 ones) and the US Alabama plant.
	"WDB": "MERCEDES_BENZ", "WDC": "MERCEDES_BENZ", "WDD": "MERCEDES_BENZ", "WDF": "MERCEDES_BENZ",
	"W1K": "MERCEDES_BENZ", "W1N": "MERCEDES_BENZ", "W1V": "MERCEDES_BENZ", "4JG": "MERCEDES_BENZ",
	// MINI: UK and the plants building for it in the Netherlands and Austria.
	"WMW": "MINI", "WMZ": "MINI",
	// Nissan: Japan, the US Tennessee and Mississippi plants, Mexico, UK, Spain.
	"JN1": "NISSAN", "JN8": "NISSAN", "1N4": "NISSAN", "1N6": "NISSAN", "5N1": "NISSAN",
	"3N1": "NISSAN", "3N6": "NISSAN", "SJN": "NISSAN", "VSK": "NISSAN",
	// Porsche: Germany (cars, SUVs).
	"WP0": "PORSCHE", "WP1": "PORSCHE",
	// Rivian: Illinois (pickup, SUV).
	"7FC": "RIVIAN", "7PD": "RIVIAN",
	// Tesla: Fremont, Austin, the Cybertruck code, Shanghai, Berlin, and the Lotus-built Roadster.
	"5YJ": "TESLA", "7SA": "TESLA", "7G2": "TESLA", "LRW": "TESLA", "XP7": "TESLA", "SFZ": "TESLA",
	// Volkswagen: Germany (cars, SUVs, vans), the US Chattanooga plant, Mexico.
	"WVW": "VOLKSWAGEN", "WVG": "VOLKSWAGEN", "WV1": "VOLKSWAGEN", "WV2": "VOLKSWAGEN",
	"1VW": "VOLKSWAGEN", "1V2": "VOLKSWAGEN", "3VW": "VOLKSWAGEN", "3VV": "VOLKSWAGEN",
	// Volvo: Sweden (cars, SUVs), the US Ridgeville plant, China.
	"YV1": "VOLVO", "YV4": "VOLVO", "7JR": "VOLVO", "LVY": "VOLVO", "LYV": "VOLVO",
}

// stellantisWMIs are the codes FCA (now Stellantis) shares between Chrysler, Dodge, Jeep and
// Ram since model year 2011; position 5 then names the brand. The value is the brand to assume
// when position 5 is not one of those letters (older VINs, other brands of the group).
var stellantisWMIs = map[string]string{
	"1C3": "CHRYSLER", "2C3": "DODGE", "1C4": "JEEP", "2C4": "CHRYSLER", "3C4": "JEEP",
	"1C6": "RAM", "3C6": "RAM", "3C7": "RAM",
}

var stellantisBrand = map[byte]string{'C': "CHRYSLER", 'D': "DODGE", 'J': "JEEP", 'R': "RAM"}

// TestVINPrefix starts the VINs of Smartcar's test-mode vehicles (0SCAUDI037A5ADB1C,
// 0SCLR0002EDAB90A7): no real WMI begins with 0, and the make's name follows the prefix.
const TestVINPrefix = "0SC"

// testVINMakeNames are the short names test-mode VINs use where the make id would not fit.
var testVINMakeNames = map[string]string{"LR": "LAND_ROVER", "MB": "MERCEDES_BENZ", "VW": "VOLKSWAGEN"}

// MakeFromVIN names the make of a VIN from its world manufacturer identifier, or from the
// name after TestVINPrefix for Smartcar's test-mode VINs. ok is false when the VIN is not 17
// characters or its WMI belongs to no make in Makes.
func MakeFromVIN(vin string) (makeID string, ok bool) {
	if len(vin) != 17 {
		return "", false
	}
	vin = strings.ToUpper(vin)
	if rest, test := strings.CutPrefix(vin, TestVINPrefix); test {
		return testVINMake(rest)
	}
	wmi := vin[:3]
	if m, ok := wmiMakes[wmi]; ok {
		return m, true
	}
	if fallback, ok := stellantisWMIs[wmi]; ok {
		if m, ok := stellantisBrand[vin[4]]; ok {
			return m, true
		}
		return fallback, true
	}
	return "", false
}

// testVINMake finds the make whose id (or short name) starts rest; the longest match wins, so
// a later make whose id extends another's is still told apart.
func testVINMake(rest string) (string, bool) {
	best, bestLen := "", 0
	consider := func(name, id string) {
		if strings.HasPrefix(rest, name) && len(name) > bestLen {
			best, bestLen = id, len(name)
		}
	}
	for _, mk := range Makes {
		consider(mk.ID, mk.ID)
	}
	for short, id := range testVINMakeNames {
		consider(short, id)
	}
	return best, best != ""
}

// IsTestVIN reports whether vin is one of Smartcar's test-mode VINs, whose position 10 is not
// a model year.
func IsTestVIN(vin string) bool {
	return len(vin) == 17 && strings.HasPrefix(strings.ToUpper(vin), TestVINPrefix)
}
