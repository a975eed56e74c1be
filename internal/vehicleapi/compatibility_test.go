package vehicleapi_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
)

// The official Node SDK end-to-end test's VINs (test/end-to-end/index.js, getCompatibility).
const (
	e2eTeslaVIN = "5YJXCDE22HF068739" // TESLA, model year 2017
	e2eAudiVIN  = "WAUAFAFL1GN014882" // AUDI, model year 2016
)

type compatAnswer struct {
	Compatible   bool    `json:"compatible"`
	Reason       *string `json:"reason"`
	Capabilities []struct {
		Permission string  `json:"permission"`
		Endpoint   *string `json:"endpoint"`
		Capable    bool    `json:"capable"`
		Reason     *string `json:"reason"`
	} `json:"capabilities"`
}

// caps renders capabilities as "permission endpoint verdict" lines, the verdict being "ok" or
// the reason, so a table row can state a whole answer.
func (c compatAnswer) caps() []string {
	out := []string{}
	for _, x := range c.Capabilities {
		ep, verdict := "<null>", "ok"
		if x.Endpoint != nil {
			ep = *x.Endpoint
		}
		if !x.Capable {
			verdict = "<no reason>"
			if x.Reason != nil {
				verdict = *x.Reason
			}
		} else if x.Reason != nil {
			verdict = "ok but reason " + *x.Reason
		}
		out = append(out, x.Permission+" "+ep+" "+verdict)
	}
	return out
}

func compatQuery(vin, scope string, extra ...string) string {
	q := url.Values{}
	if vin != "" {
		q.Set("vin", vin)
	}
	if scope != "" {
		q.Set("scope", scope)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return "/v2.0/compatibility?" + q.Encode()
}

// vinOfYear is vin with position 10 set to the code of year (the check digit is left alone:
// the compatibility API does not check it, as Smartcar's test VINs have none).
func vinOfYear(t *testing.T, vin string, year int) string {
	t.Helper()
	c, ok := sandbox.VINYearCode(year)
	if !ok {
		t.Fatalf("no year code for %d", year)
	}
	return vin[:9] + string(c) + vin[10:]
}

func TestCompatibilityByVIN(t *testing.T) {
	h := sandboxtest.MustStart(t) // its clock is in 2026, so model-year codes read up to 2027
	ok := func(perm, ep string) string { return perm + " " + ep + " ok" }
	no := func(perm, ep, reason string) string { return perm + " " + ep + " " + reason }
	tests := []struct {
		name       string
		query      string
		compatible bool
		reason     string // "" is null
		caps       []string
		golden     bool
	}{
		// The Node SDK e2e: both compatible; the 2017 Tesla capable of everything, the 2016 Audi
		// of nothing, because Smartcar's Audi integration starts with model year 2017.
		{"e2e_tesla", compatQuery(e2eTeslaVIN, "read_odometer read_location"), true, "",
			[]string{ok("read_odometer", "/odometer"), ok("read_location", "/location")}, true},
		{"e2e_audi", compatQuery(e2eAudiVIN, "read_odometer read_location"), true, "",
			[]string{no("read_odometer", "/odometer", "SMARTCAR_NOT_CAPABLE"), no("read_location", "/location", "SMARTCAR_NOT_CAPABLE")}, true},
		// The same rule from the other side of the year boundary, and below the connected year.
		{"audi_2017", compatQuery(vinOfYear(t, e2eAudiVIN, 2017), "read_odometer"), true, "",
			[]string{ok("read_odometer", "/odometer")}, false},
		{"audi_2010", compatQuery(vinOfYear(t, e2eAudiVIN, 2010), "read_odometer"), false, "VEHICLE_NOT_COMPATIBLE", []string{}, false},
		// Answers keep the request's order (the Python SDK e2e reads capabilities[0] and [1]).
		{"decoded_tesla_fuel", compatQuery(e2eTeslaVIN, "read_odometer read_fuel"), true, "",
			[]string{ok("read_odometer", "/odometer"), no("read_fuel", "/fuel", "VEHICLE_NOT_CAPABLE")}, false},
		// A decoded non-electric make: powertrain unknown, so fuel and battery both count as capable.
		{"decoded_ford", compatQuery(vinOfYear(t, "1FTFW1E59MFA00777", 2020), "read_fuel read_battery"), true, "",
			[]string{ok("read_fuel", "/fuel"), ok("read_battery", "/battery"), ok("read_battery", "/battery/capacity"), ok("read_battery", "/battery/nominal_capacity")}, false},
		{"held_bev", compatQuery("5YJ3E1EA9NF100001", "read_odometer read_battery read_fuel control_charge", "country", "US"), true, "",
			[]string{ok("read_odometer", "/odometer"), ok("read_battery", "/battery"), ok("read_battery", "/battery/capacity"), ok("read_battery", "/battery/nominal_capacity"),
				no("read_fuel", "/fuel", "VEHICLE_NOT_CAPABLE"), ok("control_charge", "/charge"), ok("control_charge", "/charge/limit")}, true},
		{"held_ice", compatQuery("1FTFW1E59MFA00004", "read_fuel read_battery read_user_profile"), true, "",
			[]string{ok("read_fuel", "/fuel"), no("read_battery", "/battery", "VEHICLE_NOT_CAPABLE"), no("read_battery", "/battery/capacity", "VEHICLE_NOT_CAPABLE"),
				no("read_battery", "/battery/nominal_capacity", "VEHICLE_NOT_CAPABLE"), no("read_user_profile", "<null>", "SMARTCAR_NOT_CAPABLE")}, true},
		{"lower_case_held", compatQuery("5yj3e1ea9nf100001", "read_fuel"), true, "", []string{no("read_fuel", "/fuel", "VEHICLE_NOT_CAPABLE")}, false},
		{"trailing_slash", strings.Replace(compatQuery(e2eTeslaVIN, "read_vin"), "compatibility?", "compatibility/?", 1), true, "", []string{ok("read_vin", "/vin")}, false},
		{"repeated_scope", compatQuery(e2eTeslaVIN, "read_vin read_vin"), true, "", []string{ok("read_vin", "/vin")}, false},
		{"unknown_make", compatQuery("1M8GDM9AXKP042788", "read_odometer"), false, "MAKE_NOT_COMPATIBLE", []string{}, true},
		{"old_honda", compatQuery("1HGCM82633A004352", "read_odometer"), false, "VEHICLE_NOT_COMPATIBLE", []string{}, false},
		// Smartcar's test-mode VINs name their make; they encode no model year.
		{"test_vin_live", compatQuery("0SCAUDI037A5ADB1C", "read_odometer"), true, "", []string{ok("read_odometer", "/odometer")}, false},
		// Countries: Chevrolet is not connected in Europe; Tesla is, and outside the US Smartcar
		// answers compatible alone; a country in no region has no compatible make.
		{"chevrolet_de", compatQuery("1G1FY6S08L4100002", "read_odometer", "country", "DE"), false, "MAKE_NOT_COMPATIBLE", []string{}, false},
		{"tesla_de", compatQuery(e2eTeslaVIN, "read_odometer", "country", "DE"), true, "", []string{}, false},
		{"tesla_ca", compatQuery(e2eTeslaVIN, "read_odometer", "country", "CA"), true, "", []string{}, false},
		{"tesla_jp", compatQuery(e2eTeslaVIN, "read_odometer", "country", "JP"), false, "MAKE_NOT_COMPATIBLE", []string{}, false},
		// Test mode: the level decides, whatever the VIN (here the 2016 Audi).
		{"test_compatible", compatQuery(e2eAudiVIN, "read_fuel read_charge", "mode", "test", "test_mode_compatibility_level", "compatible"), true, "",
			[]string{ok("read_fuel", "/fuel"), ok("read_charge", "/charge"), ok("read_charge", "/charge/limit")}, false},
		{"test_phev", compatQuery(e2eAudiVIN, "read_fuel read_charge", "mode", "test", "test_mode_compatibility_level", "phev"), true, "",
			[]string{ok("read_fuel", "/fuel"), ok("read_charge", "/charge"), ok("read_charge", "/charge/limit")}, false},
		{"test_bev", compatQuery(e2eAudiVIN, "read_fuel read_charge", "mode", "test", "test_mode_compatibility_level", "bev"), true, "",
			[]string{no("read_fuel", "/fuel", "VEHICLE_NOT_CAPABLE"), ok("read_charge", "/charge"), ok("read_charge", "/charge/limit")}, true},
		{"test_fuel", compatQuery(e2eAudiVIN, "read_fuel read_charge", "mode", "test", "test_mode_compatibility_level", "fuel"), true, "",
			[]string{ok("read_fuel", "/fuel"), no("read_charge", "/charge", "VEHICLE_NOT_CAPABLE"), no("read_charge", "/charge/limit", "VEHICLE_NOT_CAPABLE")}, false},
		{"test_incompatible", compatQuery(e2eTeslaVIN, "read_odometer", "mode", "test", "test_mode_compatibility_level", "incompatible"), false, "MAKE_NOT_COMPATIBLE", []string{}, false},
		{"test_dinosaur", compatQuery(e2eTeslaVIN, "read_odometer", "mode", "test", "test_mode_compatibility_level", "dinosaur"), false, "VEHICLE_NOT_COMPATIBLE", []string{}, false},
		// A level alone means test mode (the SDKs add mode=test themselves); in live mode the
		// VIN decides.
		{"level_without_mode", compatQuery("1M8GDM9AXKP042788", "read_odometer", "test_mode_compatibility_level", "compatible"), true, "",
			[]string{ok("read_odometer", "/odometer")}, false},
		{"level_in_live_mode", compatQuery(e2eAudiVIN, "read_odometer", "mode", "live", "test_mode_compatibility_level", "compatible"), true, "",
			[]string{no("read_odometer", "/odometer", "SMARTCAR_NOT_CAPABLE")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.Do(t, "GET", tt.query, "", nil, clientAuth()...)
			if res.Status != 200 {
				t.Fatalf("status %d: %s", res.Status, res.Body)
			}
			var keys map[string]json.RawMessage
			res.JSON(t, &keys)
			if len(keys) != 3 || keys["compatible"] == nil || keys["reason"] == nil || keys["capabilities"] == nil {
				t.Errorf("body keys are not exactly compatible, reason, capabilities: %s", res.Body)
			}
			var got compatAnswer
			res.JSON(t, &got)
			reason := ""
			if got.Reason != nil {
				reason = *got.Reason
			}
			if got.Compatible != tt.compatible || reason != tt.reason {
				t.Errorf("compatible=%v reason=%q, want %v %q", got.Compatible, reason, tt.compatible, tt.reason)
			}
			if c := got.caps(); strings.Join(c, "\n") != strings.Join(tt.caps, "\n") {
				t.Errorf("capabilities:\n  %s\nwant:\n  %s", strings.Join(c, "\n  "), strings.Join(tt.caps, "\n  "))
			}
			if tt.golden {
				golden(t, "compatibility_"+tt.name, res)
			}
		})
	}
}

func TestCompatibilityByVINErrors(t *testing.T) {
	h := sandboxtest.MustStart(t)
	tests := []struct {
		name   string
		query  string
		hdr    []string
		status int
		fields []string // the parameters the error must name, in order
	}{
		{"no_auth", compatQuery(e2eTeslaVIN, "read_odometer"), nil, 401, nil},
		{"bad_secret", compatQuery(e2eTeslaVIN, "read_odometer"), []string{"Authorization", basic(sandboxtest.ClientID, "nope")}, 401, nil},
		{"no_vin", compatQuery("", "read_odometer"), clientAuth(), 400, []string{"vin"}},
		{"bad_vin", compatQuery("XYZ", "read_odometer"), clientAuth(), 400, []string{"vin"}},
		{"no_scope", compatQuery(e2eTeslaVIN, ""), clientAuth(), 400, []string{"scope"}},
		{"no_vin_no_scope", "/v2.0/compatibility", clientAuth(), 400, []string{"vin", "scope"}},
		{"unknown_scope", compatQuery(e2eTeslaVIN, "read_minds"), clientAuth(), 400, []string{"scope"}},
		{"bad_country", compatQuery(e2eTeslaVIN, "read_odometer", "country", "usa"), clientAuth(), 400, []string{"country"}},
		{"bad_mode", compatQuery(e2eTeslaVIN, "read_odometer", "mode", "demo"), clientAuth(), 400, []string{"mode"}},
		// The Python SDK e2e: test mode without a level names the field and lists the levels.
		{"test_mode_no_level", compatQuery(e2eAudiVIN, "read_vehicle_info", "mode", "test"), clientAuth(), 400, []string{"test_mode_compatibility_level"}},
		{"test_mode_bad_level", compatQuery(e2eAudiVIN, "read_vehicle_info", "mode", "test", "test_mode_compatibility_level", "pizza"), clientAuth(), 400, []string{"test_mode_compatibility_level"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.Do(t, "GET", tt.query, "", nil, tt.hdr...)
			if res.Status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.Status, tt.status, res.Body)
			}
			e := errorOf(t, res)
			if tt.status == 400 {
				checkValidation(t, res, e, tt.fields)
			}
			golden(t, "compatibility_"+tt.name, res)
		})
	}
}

// checkValidation checks a VALIDATION error keeps Smartcar's description and names each bad
// field, in order, as a detail item (where Smartcar's validation errors name them).
func checkValidation(t *testing.T, res *sandboxtest.Response, e scError, fields []string) {
	t.Helper()
	if e.Type != "VALIDATION" {
		t.Errorf("type %s, want VALIDATION", e.Type)
	}
	var body struct {
		Detail []struct{ Field, Message string } `json:"detail"`
	}
	res.JSON(t, &body)
	var got []string
	for _, d := range body.Detail {
		got = append(got, d.Field)
		if d.Message == "" {
			t.Errorf("detail for %s has no message", d.Field)
		}
	}
	if strings.Join(got, ",") != strings.Join(fields, ",") {
		t.Errorf("detail fields %v, want %v", got, fields)
	}
	if want := sandbox.NewError(sandbox.TypeValidation, "PARAMETER", "").Description; e.Description != want {
		t.Errorf("description %q, want Smartcar's %q", e.Description, want)
	}
	for _, d := range body.Detail {
		if d.Field == "test_mode_compatibility_level" && d.Message != "Field must be one of: [compatible,phev,incompatible,fuel,dinosaur,bev]" {
			t.Errorf("level message %q", d.Message)
		}
	}
}

func TestCompatibilityMatrix(t *testing.T) {
	h := sandboxtest.MustStart(t)
	tests := []struct {
		name, query string
		status      int
		fields      []string
	}{
		{"all", "?region=US", 200, nil},
		{"tesla", "?region=US&make=TESLA", 200, nil},
		{"europe", "?region=EUROPE", 200, nil},
		{"bev_charge", "?region=US&type=BEV&scope=control_charge", 200, nil},
		{"fuel_scope", "?region=US&scope=read_fuel%20read_battery", 200, nil},
		{"no_region", "?type=BEV", 400, []string{"region"}},
		{"bad_region", "?region=MARS", 400, []string{"region"}},
		{"bad_type", "?region=US&type=STEAM", 400, []string{"type"}},
		{"bad_make", "?region=US&make=DELOREAN", 400, []string{"make"}},
		{"bad_everything", "?region=CANADA&make=DELOREAN&type=STEAM&scope=read_minds", 400, []string{"region", "make", "type", "scope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.Do(t, "GET", "/v2.0/compatibility/matrix"+tt.query, "", nil, clientAuth()...)
			if res.Status != tt.status {
				t.Fatalf("%d %s", res.Status, res.Body)
			}
			if tt.status != 200 {
				checkValidation(t, res, errorOf(t, res), tt.fields)
			}
			golden(t, "compatibility_matrix_"+tt.name, res)
		})
	}
}

// TestCompatibilityMatrixNodeE2E is the official Node SDK's getCompatibilityMatrix check: region
// US, scope read_battery and read_charge, make NISSAN, type BEV.
func TestCompatibilityMatrixNodeE2E(t *testing.T) {
	h := sandboxtest.MustStart(t)
	res := h.Do(t, "GET", "/v2.0/compatibility/matrix?region=US&scope=read_battery%20read_charge&make=NISSAN&type=BEV", "", nil, clientAuth()...)
	if res.Status != 200 {
		t.Fatalf("%d %s", res.Status, res.Body)
	}
	var got map[string][]map[string]json.RawMessage
	res.JSON(t, &got)
	if len(got) != 1 || len(got["NISSAN"]) == 0 {
		t.Fatalf("want NISSAN models only: %s", res.Body)
	}
	for _, m := range got["NISSAN"] {
		var keys []string
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if fmt.Sprint(keys) != "[endYear endpoints model permissions startYear type]" {
			t.Errorf("model keys %v", keys)
		}
		var typ string
		var perms []string
		if err := json.Unmarshal(m["type"], &typ); err != nil || typ != "BEV" {
			t.Errorf("type %s", m["type"])
		}
		if err := json.Unmarshal(m["permissions"], &perms); err != nil || !contains(perms, "read_battery") || !contains(perms, "read_charge") {
			t.Errorf("permissions %s", m["permissions"])
		}
	}
}
