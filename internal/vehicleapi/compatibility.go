package vehicleapi

// The compatibility API: GET /v2.0/compatibility (one VIN) and GET /v2.0/compatibility/matrix
// (models by region), both with Basic client_id:client_secret. docs/api-v2.md "Compatibility"
// states the rules below for users; keep the two in step.
//
// A VIN is judged in this order:
//  1. mode=test (or test_mode_compatibility_level without mode): the level decides, whatever
//     the VIN, as Smartcar's test mode does.
//  2. A VIN the sandbox holds is a vehicle it serves: its make, year and powertrain are known,
//     and its capabilities are its powertrain's (the rule VEHICLE_NOT_CAPABLE errors follow).
//  3. Any other VIN is decoded: make from the WMI, model year from position 10. The make must be
//     connected by Smartcar in the country's region (else MAKE_NOT_COMPATIBLE), the model year
//     must have the OEM's telematics (else VEHICLE_NOT_COMPATIBLE), and each capability needs a
//     model year Smartcar's integration for the make serves (else SMARTCAR_NOT_CAPABLE). The
//     powertrain is unknown except for makes that build only electric cars, so fuel and battery
//     endpoints count as capable: Smartcar's API prefers false positives to false negatives.
//
// Capabilities are reported for the United States only; elsewhere Smartcar answers compatible
// true or false alone.

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"sort"
	"strings"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/scapi"
)

// endpoint is one v2.0 vehicle endpoint as compatibility reports it.
type endpoint struct {
	path       string // without leading slash; "" is the attributes
	permission string
}

// commandEndpoints are the POST endpoints; reads come from the signals table.
var commandEndpoints = []endpoint{
	{"security", "control_security"},
	{"charge", "control_charge"},
	{"charge/limit", "control_charge"},
	{"navigation/destination", "control_navigation"},
}

// endpointsByPermission lists, per permission, the endpoints it opens, in table order.
var endpointsByPermission = func() map[string][]string {
	m := map[string][]string{}
	for _, s := range signals {
		if s.Permission != "" {
			m[s.Permission] = append(m[s.Permission], s.Path)
		}
	}
	for _, e := range commandEndpoints {
		m[e.permission] = appendUnique(m[e.permission], e.path)
	}
	return m
}()

// endpointNames are the names the compatibility matrix lists: Smartcar's matrix names features
// ("EV battery", "Lock & unlock"), not paths. Keyed by permission and path, because one path is
// both a read and a command (GET and POST /security).
var endpointNames = map[endpoint]string{
	{"", "read_vehicle_info"}:                         "Vehicle info",
	{"vin", "read_vin"}:                               "VIN",
	{"odometer", "read_odometer"}:                     "Odometer",
	{"location", "read_location"}:                     "Location",
	{"fuel", "read_fuel"}:                             "Fuel tank",
	{"battery", "read_battery"}:                       "EV battery",
	{"battery/capacity", "read_battery"}:              "EV battery capacity",
	{"battery/nominal_capacity", "read_battery"}:      "EV nominal battery capacity",
	{"charge", "read_charge"}:                         "EV charging status",
	{"charge/limit", "read_charge"}:                   "EV charge limit",
	{"engine/oil", "read_engine_oil"}:                 "Engine oil life",
	{"tires/pressure", "read_tires"}:                  "Tire pressure",
	{"security", "read_security"}:                     "Lock status",
	{"service/history", "read_service_history"}:       "Service history",
	{"diagnostics/system_status", "read_diagnostics"}: "Diagnostic system status",
	{"diagnostics/dtcs", "read_diagnostics"}:          "Diagnostic trouble codes",
	{"security", "control_security"}:                  "Lock & unlock",
	{"charge", "control_charge"}:                      "EV start & stop charge",
	{"charge/limit", "control_charge"}:                "EV set charge limit",
	{"navigation/destination", "control_navigation"}:  "Send destination",
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// capable reports whether a powertrain has what the endpoint reads or controls; this is the
// same rule the render functions enforce with VEHICLE_NOT_CAPABLE.
func capable(p sandbox.Powertrain, path string) bool {
	switch {
	case path == "fuel" || path == "engine/oil":
		return p.HasFuel()
	case path == "battery" || strings.HasPrefix(path, "battery/") || path == "charge" || strings.HasPrefix(path, "charge/"):
		return p.HasBattery()
	}
	return true
}

// Compatibility answers and reasons (Smartcar's compatibility-by-VIN enums).
const (
	reasonMakeNotCompatible    = "MAKE_NOT_COMPATIBLE"    // not connected for the make in that country
	reasonVehicleNotCompatible = "VEHICLE_NOT_COMPATIBLE" // no hardware for internet connectivity
	reasonSmartcarNotCapable   = "SMARTCAR_NOT_CAPABLE"   // Smartcar does not serve the feature for it
	reasonVehicleNotCapable    = "VEHICLE_NOT_CAPABLE"    // the vehicle physically cannot
)

// Regions of the compatibility matrix; the by-VIN API maps a country onto one.
const (
	regionUS     = "US"
	regionCanada = "CA"
	regionEurope = "EUROPE"
)

// europe are the countries (EU, EEA, the UK and Switzerland) of the EUROPE region.
var europe = map[string]bool{
	"AT": true, "BE": true, "BG": true, "CH": true, "CY": true, "CZ": true, "DE": true, "DK": true,
	"EE": true, "ES": true, "FI": true, "FR": true, "GB": true, "GR": true, "HR": true, "HU": true,
	"IE": true, "IS": true, "IT": true, "LI": true, "LT": true, "LU": true, "LV": true, "MT": true,
	"NL": true, "NO": true, "PL": true, "PT": true, "RO": true, "SE": true, "SI": true, "SK": true,
}

// regionOf maps an ISO 3166-1 alpha-2 country onto a matrix region; "" is a country in none.
func regionOf(country string) string {
	switch {
	case country == "US":
		return regionUS
	case country == "CA":
		return regionCanada
	case europe[country]:
		return regionEurope
	}
	return ""
}

// makeSupport is what the sandbox assumes about Smartcar's coverage of one make. The years are
// approximations from public knowledge of each OEM's connected-services platforms, not
// Smartcar's data: connected is the first model year whose telematics the OEM's app reaches,
// supported the first model year of the platform generation Smartcar's integration serves.
type makeSupport struct {
	regions   []string
	connected int
	supported int
}

var (
	northAmerica = []string{regionUS, regionCanada}
	naAndEurope  = []string{regionUS, regionCanada, regionEurope}
)

// makeSupportTable has a row for every make of sandbox.Makes (a test checks it).
var makeSupportTable = map[string]makeSupport{
	"ACURA":         {northAmerica, 2014, 2018},
	"AUDI":          {naAndEurope, 2011, 2017},
	"BMW":           {naAndEurope, 2011, 2014},
	"BUICK":         {northAmerica, 2011, 2014},
	"CADILLAC":      {northAmerica, 2011, 2014},
	"CHEVROLET":     {northAmerica, 2011, 2014},
	"CHRYSLER":      {northAmerica, 2013, 2018},
	"DODGE":         {northAmerica, 2013, 2018},
	"FORD":          {naAndEurope, 2013, 2015},
	"GMC":           {northAmerica, 2011, 2014},
	"HONDA":         {northAmerica, 2014, 2016},
	"HYUNDAI":       {naAndEurope, 2015, 2018},
	"JAGUAR":        {naAndEurope, 2014, 2017},
	"JEEP":          {naAndEurope, 2013, 2018},
	"KIA":           {naAndEurope, 2015, 2018},
	"LAND_ROVER":    {naAndEurope, 2014, 2017},
	"LEXUS":         {naAndEurope, 2013, 2015},
	"LINCOLN":       {northAmerica, 2013, 2015},
	"MERCEDES_BENZ": {naAndEurope, 2014, 2016},
	"MINI":          {naAndEurope, 2011, 2014},
	"NISSAN":        {naAndEurope, 2011, 2011},
	"PORSCHE":       {naAndEurope, 2014, 2017},
	"RAM":           {northAmerica, 2013, 2018},
	"RIVIAN":        {northAmerica, 2022, 2022},
	"TESLA":         {naAndEurope, 2012, 2012},
	"TOYOTA":        {naAndEurope, 2013, 2015},
	"VOLKSWAGEN":    {naAndEurope, 2014, 2017},
	"VOLVO":         {naAndEurope, 2013, 2015},
}

// electricOnly are the makes whose every model is a BEV, so a decoded VIN's powertrain is known.
var electricOnly = map[string]bool{"TESLA": true, "RIVIAN": true}

func (s makeSupport) in(region string) bool {
	for _, r := range s.regions {
		if r == region {
			return true
		}
	}
	return false
}

// Capability is one item of a compatibility answer.
type Capability struct {
	Permission string  `json:"permission"`
	Endpoint   *string `json:"endpoint"`
	Capable    bool    `json:"capable"`
	Reason     *string `json:"reason"`
}

// Compatibility is GET /compatibility's body. The SDKs add meta from the headers, so the body
// has exactly these keys.
type Compatibility struct {
	Compatible   bool         `json:"compatible"`
	Reason       *string      `json:"reason"`
	Capabilities []Capability `json:"capabilities"`
}

func strPtr(s string) *string { return &s }

func incompatible(reason string) Compatibility {
	return Compatibility{Compatible: false, Reason: strPtr(reason), Capabilities: []Capability{}}
}

// vehicleFacts is what is known about the vehicle behind a VIN. Zero values mean unknown.
type vehicleFacts struct {
	make       string
	year       int
	powertrain sandbox.Powertrain
	// served: the sandbox holds the vehicle, so no model-year rule applies: it is connected
	// and Smartcar serves it.
	served bool
}

// judge applies the rules of the file comment to known facts.
func judge(f vehicleFacts, country string, scope []string) Compatibility {
	support, known := makeSupportTable[f.make]
	if !known || !support.in(regionOf(country)) {
		return incompatible(reasonMakeNotCompatible)
	}
	if !f.served && f.year != 0 && f.year < support.connected {
		return incompatible(reasonVehicleNotCompatible)
	}
	smartcarServes := f.served || f.year == 0 || f.year >= support.supported
	return compatible(country, scope, f.powertrain, smartcarServes)
}

// compatible is the answer for a compatible vehicle: per permission in scope (request order)
// every endpoint it opens, capable unless the powertrain (when known) lacks what it needs or
// Smartcar does not serve it. Permissions without a v2.0 endpoint in the sandbox are
// SMARTCAR_NOT_CAPABLE with a null endpoint.
func compatible(country string, scope []string, p sandbox.Powertrain, smartcarServes bool) Compatibility {
	out := Compatibility{Compatible: true, Capabilities: []Capability{}}
	if country != "US" {
		return out
	}
	for _, perm := range scope {
		paths, ok := endpointsByPermission[perm]
		if !ok {
			out.Capabilities = append(out.Capabilities, Capability{Permission: perm, Reason: strPtr(reasonSmartcarNotCapable)})
			continue
		}
		for _, path := range paths {
			c := Capability{Permission: perm, Endpoint: strPtr("/" + path), Capable: true}
			switch {
			case p != "" && !capable(p, path):
				c.Capable, c.Reason = false, strPtr(reasonVehicleNotCapable)
			case !smartcarServes:
				c.Capable, c.Reason = false, strPtr(reasonSmartcarNotCapable)
			}
			out.Capabilities = append(out.Capabilities, c)
		}
	}
	return out
}

// testLevel is one of Smartcar's test_mode_compatibility_level values.
type testLevel struct {
	name       string
	powertrain sandbox.Powertrain // the capabilities of a compatible level
	reason     string             // why an incompatible level is; "" for a compatible one
}

// testLevels are in the order Smartcar's validation message lists them. compatible and phev
// have every permission, fuel a gasoline car's, bev a battery-electric car's; incompatible is a
// make Smartcar does not connect, dinosaur a car without connectivity hardware.
var testLevels = []testLevel{
	{"compatible", sandbox.PHEV, ""},
	{"phev", sandbox.PHEV, ""},
	{"incompatible", "", reasonMakeNotCompatible},
	{"fuel", sandbox.ICE, ""},
	{"dinosaur", "", reasonVehicleNotCompatible},
	{"bev", sandbox.BEV, ""},
}

func lookupTestLevel(name string) (*testLevel, bool) {
	for i := range testLevels {
		if testLevels[i].name == name {
			return &testLevels[i], true
		}
	}
	return nil, false
}

func testLevelNames() string {
	names := make([]string, len(testLevels))
	for i, l := range testLevels {
		names[i] = l.name
	}
	return strings.Join(names, ",")
}

// judge is the test-mode answer: the level decides, the VIN does not matter.
func (l *testLevel) judge(country string, scope []string) Compatibility {
	if l.reason != "" {
		return incompatible(l.reason)
	}
	return compatible(country, scope, l.powertrain, true)
}

// problem is one bad query parameter: a detail item for the SDKs and a sentence for people.
type problem struct{ field, message, sentence string }

// paramProblems turns problems into one VALIDATION error naming every parameter, with Smartcar's
// detail list of {field, message}.
func paramProblems(ps []problem) error {
	if len(ps) == 0 {
		return nil
	}
	sentences := make([]string, len(ps))
	detail := make([]map[string]any, len(ps))
	for i, p := range ps {
		sentences[i] = p.sentence
		detail[i] = map[string]any{"field": p.field, "message": p.message}
	}
	e := sandbox.NewError(sandbox.TypeValidation, "PARAMETER", strings.Join(sentences, " "))
	e.Detail = detail
	return e
}

// clientApp authenticates Basic client_id:client_secret.
func (a *API) clientApp(r *http.Request) (sandbox.Application, error) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		return sandbox.Application{}, sandbox.Unauthenticated("The compatibility API needs 'Authorization: Basic base64(client_id:client_secret)'.")
	}
	app, found := a.Store.Application(id)
	if !found || subtle.ConstantTimeCompare([]byte(app.ClientSecret), []byte(secret)) != 1 {
		return sandbox.Application{}, sandbox.Unauthenticated("The client id and secret do not match an application of this sandbox.")
	}
	return app, nil
}

// splitList splits a space, plus or comma separated query value.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '+' })
}

// parseScope returns the permissions in request order without repeats (answers list them in
// that order), adding a problem for a missing required scope or an unknown permission.
func parseScope(s string, required bool, ps *[]problem) []string {
	var perms []string
	seen := map[string]bool{}
	for _, p := range splitList(s) {
		if seen[p] {
			continue
		}
		seen[p] = true
		if _, ok := sandbox.LookupPermission(p); !ok {
			*ps = append(*ps, problem{"scope", "Unknown permission " + p + ".", fmt.Sprintf("scope names an unknown permission %q.", p)})
			continue
		}
		perms = append(perms, p)
	}
	if len(perms) == 0 && len(seen) == 0 && required {
		*ps = append(*ps, problem{"scope", "Field is required.", "scope is required: a space-separated list of permissions, e.g. read_odometer read_vin."})
	}
	return perms
}

// vinShape reports whether vin is 17 letters and digits. Smartcar's test-mode VINs need not be
// real VINs (0SCAUDI037A5ADB1C has an I), so neither the alphabet nor the check digit is
// enforced.
func vinShape(vin string) bool {
	if len(vin) != 17 {
		return false
	}
	for _, c := range strings.ToUpper(vin) {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// compatibilityQuery is a validated GET /compatibility query.
type compatibilityQuery struct {
	vin, country string
	scope        []string
	testLevel    *testLevel // set in test mode
}

func parseCompatibilityQuery(r *http.Request) (compatibilityQuery, error) {
	q := r.URL.Query()
	var ps []problem
	c := compatibilityQuery{vin: strings.ToUpper(strings.TrimSpace(q.Get("vin"))), country: q.Get("country")}
	switch {
	case c.vin == "":
		ps = append(ps, problem{"vin", "Field is required.", "vin is required: the 17-character VIN of the vehicle."})
	case !vinShape(c.vin):
		ps = append(ps, problem{"vin", "Field must be 17 letters and digits.", fmt.Sprintf("vin %q is not a VIN: it must be 17 letters and digits.", q.Get("vin"))})
	}
	c.scope = parseScope(q.Get("scope"), true, &ps)
	if c.country == "" {
		c.country = "US" // Smartcar's documented default
	} else if len(c.country) != 2 || strings.ToUpper(c.country) != c.country || !isLetters(c.country) {
		ps = append(ps, problem{"country", "Field must be an ISO 3166-1 alpha-2 country code.", fmt.Sprintf("country must be a two-letter upper-case ISO 3166 code like US, got %q.", c.country)})
	}
	level := q.Get("test_mode_compatibility_level")
	testMode := false
	switch mode := q.Get("mode"); mode {
	case "test":
		testMode = true
	case "":
		// The SDKs send mode=test with a level; a level alone still means test mode.
		testMode = level != ""
	case "live", "simulated":
		// Live and simulated vehicles are judged by their VIN; a level only applies in test mode.
	default:
		ps = append(ps, problem{"mode", "Field must be one of: [test,live,simulated]", fmt.Sprintf("mode must be test, live or simulated, got %q.", mode)})
	}
	if testMode {
		var ok bool
		if c.testLevel, ok = lookupTestLevel(level); !ok {
			ps = append(ps, testLevelProblem(level))
		}
	}
	return c, paramProblems(ps)
}

func isLetters(s string) bool {
	for _, c := range s {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

func testLevelProblem(level string) problem {
	list := testLevelNames()
	sentence := "test_mode_compatibility_level is required in test mode: one of " + list + "."
	if level != "" {
		sentence = fmt.Sprintf("test_mode_compatibility_level %q is not one of %s.", level, list)
	}
	return problem{"test_mode_compatibility_level", "Field must be one of: [" + list + "]", sentence}
}

// CompatibilityByVIN is GET /compatibility?vin&scope[&country][&mode&test_mode_compatibility_level].
func (a *API) CompatibilityByVIN(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.clientApp(r); err != nil {
		return err
	}
	q, err := parseCompatibilityQuery(r)
	if err != nil {
		return err
	}
	var answer Compatibility
	if q.testLevel != nil {
		answer = q.testLevel.judge(q.country, q.scope)
	} else {
		answer = judge(a.factsOf(q.vin), q.country, q.scope)
	}
	scapi.WriteJSON(w, http.StatusOK, answer)
	return nil
}

// factsOf finds what is known about a VIN: the sandbox's own vehicle, else what the VIN
// decodes to. The latest plausible model year is next year by the sandbox clock.
func (a *API) factsOf(vin string) vehicleFacts {
	if v, ok := a.Store.VehicleByVIN(vin); ok {
		return vehicleFacts{make: v.Make, year: v.Year, powertrain: v.Powertrain, served: true}
	}
	var f vehicleFacts
	f.make, _ = sandbox.MakeFromVIN(vin)
	if !sandbox.IsTestVIN(vin) {
		f.year, _ = sandbox.VINModelYear(vin, a.Now().Year()+1)
	}
	if electricOnly[f.make] {
		f.powertrain = sandbox.BEV
	}
	return f
}

// MatrixModel is one model line of the compatibility matrix.
type MatrixModel struct {
	Model       string   `json:"model"`
	StartYear   int      `json:"startYear"`
	EndYear     int      `json:"endYear"`
	Type        string   `json:"type"`
	Endpoints   []string `json:"endpoints"`
	Permissions []string `json:"permissions"`
}

// supported lists what a powertrain can serve: the endpoint names sorted, and the permissions
// in the order of the endpoints that need them (the order of Smartcar's matrix).
func supported(p sandbox.Powertrain) (endpoints, perms []string) {
	type named struct{ name, permission string }
	var all []named
	for _, perm := range sandbox.Permissions {
		for _, path := range endpointsByPermission[perm.Name] {
			if capable(p, path) {
				all = append(all, named{endpointNames[endpoint{path, perm.Name}], perm.Name})
			}
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].name < all[j].name })
	for _, n := range all {
		endpoints = append(endpoints, n.name)
		perms = appendUnique(perms, n.permission)
	}
	return endpoints, perms
}

// CompatibilityMatrix is GET /compatibility/matrix?region[&make&type&scope], built from the
// vehicles the sandbox holds whose make Smartcar connects in the region: makes → models grouped
// by model and powertrain, with the model years seen. With scope, only models capable of every
// listed permission appear.
func (a *API) CompatibilityMatrix(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.clientApp(r); err != nil {
		return err
	}
	q := r.URL.Query()
	var ps []problem
	region := q.Get("region")
	switch region {
	case regionUS, regionCanada, regionEurope:
	case "":
		ps = append(ps, problem{"region", "Field is required.", "region is required: US, CA or EUROPE."})
	default:
		ps = append(ps, problem{"region", "Field must be one of: [US,CA,EUROPE]", fmt.Sprintf("region must be US, CA or EUROPE, got %q.", region)})
	}
	makes := map[string]bool{}
	for _, m := range splitList(strings.ToUpper(q.Get("make"))) {
		if _, ok := sandbox.LookupMake(m); !ok {
			ps = append(ps, problem{"make", "Unknown make " + m + ".", fmt.Sprintf("make names an unknown make %q; makes are upper-case ids like TESLA or LAND_ROVER.", m)})
		}
		makes[m] = true
	}
	types := map[sandbox.Powertrain]bool{}
	for _, t := range splitList(strings.ToUpper(q.Get("type"))) {
		if !sandbox.Powertrain(t).Valid() {
			ps = append(ps, problem{"type", "Field must be one of: [BEV,PHEV,HEV,ICE]", fmt.Sprintf("type must be BEV, PHEV, HEV or ICE, got %q.", t)})
		}
		types[sandbox.Powertrain(t)] = true
	}
	scope := parseScope(q.Get("scope"), false, &ps)
	if err := paramProblems(ps); err != nil {
		return err
	}
	type key struct{ make, model, typ string }
	lines := map[key]*MatrixModel{}
	for _, v := range a.Store.Vehicles() {
		if (len(makes) > 0 && !makes[v.Make]) || (len(types) > 0 && !types[v.Powertrain]) || !makeSupportTable[v.Make].in(region) {
			continue
		}
		k := key{v.Make, v.Model, string(v.Powertrain)}
		if m, ok := lines[k]; ok {
			m.StartYear, m.EndYear = min(m.StartYear, v.Year), max(m.EndYear, v.Year)
			continue
		}
		eps, perms := supported(v.Powertrain)
		if !containsAll(perms, scope) {
			continue
		}
		lines[k] = &MatrixModel{Model: v.Model, StartYear: v.Year, EndYear: v.Year, Type: string(v.Powertrain), Endpoints: eps, Permissions: perms}
	}
	out := map[string][]MatrixModel{}
	for k, m := range lines {
		out[k.make] = append(out[k.make], *m)
	}
	for _, models := range out {
		sort.Slice(models, func(i, j int) bool {
			if models[i].Model != models[j].Model {
				return models[i].Model < models[j].Model
			}
			return models[i].Type < models[j].Type
		})
	}
	scapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

func containsAll(have, want []string) bool {
	set := make(map[string]bool, len(have))
	for _, h := range have {
		set[h] = true
	}
	for _, w := range want {
		if !set[w] {
			return false
		}
	}
	return true
}
