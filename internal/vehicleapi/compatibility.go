package vehicleapi

import (
	"crypto/subtle"
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

// Capability is one item of a compatibility answer.
type Capability struct {
	Permission string  `json:"permission"`
	Endpoint   *string `json:"endpoint"`
	Capable    bool    `json:"capable"`
	Reason     *string `json:"reason"`
}

// Compatibility is GET /compatibility's body.
type Compatibility struct {
	Compatible   bool         `json:"compatible"`
	Reason       *string      `json:"reason"`
	Capabilities []Capability `json:"capabilities"`
}

func strPtr(s string) *string { return &s }

// clientApp authenticates Basic client_id:client_secret.
func (a *API) clientApp(r *http.Request) (sandbox.Application, error) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		return sandbox.Application{}, sandbox.ErrUnauthenticated("The compatibility API needs 'Authorization: Basic base64(client_id:client_secret)'.")
	}
	app, found := a.Store.Application(id)
	if !found || subtle.ConstantTimeCompare([]byte(app.ClientSecret), []byte(secret)) != 1 {
		return sandbox.Application{}, sandbox.ErrUnauthenticated("The client id and secret do not match an application of this sandbox.")
	}
	return app, nil
}

// splitList splits a space, plus or comma separated query value.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '+' })
}

func parseScope(s string, required bool) ([]string, error) {
	perms := splitList(s)
	if len(perms) == 0 && required {
		return nil, sandbox.NewError(sandbox.ErrValidation, "PARAMETER", "scope is required: a space-separated list of permissions, e.g. read_odometer read_vin.")
	}
	for _, p := range perms {
		if _, ok := sandbox.LookupPermission(p); !ok {
			return nil, sandbox.Errorf(sandbox.ErrValidation, "PARAMETER", "scope names an unknown permission %q.", p)
		}
	}
	return sandbox.SortedPermissionNames(perms), nil
}

func validVINShape(vin string) bool {
	if len(vin) != 17 {
		return false
	}
	for _, c := range strings.ToUpper(vin) {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') || c == 'I' || c == 'O' || c == 'Q' {
			return false
		}
	}
	return true
}

// capabilities lists, per permission in scope, each endpoint it opens and whether a vehicle
// with the powertrain can serve it. Permissions without a v2.0 endpoint in the sandbox are
// reported as SMARTCAR_NOT_CAPABLE.
func capabilities(p sandbox.Powertrain, scope []string) []Capability {
	out := []Capability{}
	for _, perm := range scope {
		paths, ok := endpointsByPermission[perm]
		if !ok {
			out = append(out, Capability{Permission: perm, Capable: false, Reason: strPtr("SMARTCAR_NOT_CAPABLE")})
			continue
		}
		for _, path := range paths {
			c := Capability{Permission: perm, Endpoint: strPtr("/" + path), Capable: capable(p, path)}
			if !c.Capable {
				c.Reason = strPtr("VEHICLE_NOT_CAPABLE")
			}
			out = append(out, c)
		}
	}
	return out
}

// CompatibilityByVIN is GET /compatibility?vin&scope&country: vehicles the sandbox knows are
// compatible, with capabilities by powertrain; any other VIN is not.
func (a *API) CompatibilityByVIN(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.clientApp(r); err != nil {
		return err
	}
	q := r.URL.Query()
	vin := strings.TrimSpace(q.Get("vin"))
	if vin == "" {
		return sandbox.NewError(sandbox.ErrValidation, "PARAMETER", "vin is required.")
	}
	if !validVINShape(vin) {
		return sandbox.Errorf(sandbox.ErrValidation, "PARAMETER", "vin %q is not a VIN: 17 letters and digits without I, O or Q.", vin)
	}
	scope, err := parseScope(q.Get("scope"), true)
	if err != nil {
		return err
	}
	if c := q.Get("country"); c != "" && (len(c) != 2 || strings.ToUpper(c) != c) {
		return sandbox.Errorf(sandbox.ErrValidation, "PARAMETER", "country must be a two-letter upper-case ISO 3166 code like US, got %q.", c)
	}
	v, ok := a.Store.VehicleByVIN(vin)
	if !ok {
		scapi.WriteJSON(w, http.StatusOK, Compatibility{Compatible: false, Reason: strPtr("MAKE_NOT_COMPATIBLE"), Capabilities: []Capability{}})
		return nil
	}
	scapi.WriteJSON(w, http.StatusOK, Compatibility{Compatible: true, Capabilities: capabilities(v.Powertrain, scope)})
	return nil
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

var regions = map[string]bool{"US": true, "CANADA": true, "EUROPE": true}

// supported lists the permissions and endpoints a powertrain can serve.
func supported(p sandbox.Powertrain) (perms, endpoints []string) {
	for _, perm := range sandbox.Permissions {
		for _, path := range endpointsByPermission[perm.Name] {
			if capable(p, path) {
				perms = appendUnique(perms, perm.Name)
				endpoints = appendUnique(endpoints, "/"+path)
			}
		}
	}
	sort.Strings(perms)
	sort.Strings(endpoints)
	return perms, endpoints
}

// CompatibilityMatrix is GET /compatibility/matrix?region&make&type&scope, built from the
// vehicles the sandbox holds: makes → models grouped by model and powertrain. With scope,
// only models capable of every listed permission appear.
func (a *API) CompatibilityMatrix(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.clientApp(r); err != nil {
		return err
	}
	q := r.URL.Query()
	if reg := strings.ToUpper(q.Get("region")); reg != "" && !regions[reg] {
		return sandbox.Errorf(sandbox.ErrValidation, "PARAMETER", "region must be US, CANADA or EUROPE, got %q.", q.Get("region"))
	}
	makes := map[string]bool{}
	for _, m := range splitList(strings.ToUpper(q.Get("make"))) {
		makes[m] = true
	}
	types := map[sandbox.Powertrain]bool{}
	for _, t := range splitList(strings.ToUpper(q.Get("type"))) {
		if !sandbox.Powertrain(t).Valid() {
			return sandbox.Errorf(sandbox.ErrValidation, "PARAMETER", "type must be BEV, PHEV, HEV or ICE, got %q.", t)
		}
		types[sandbox.Powertrain(t)] = true
	}
	scope, err := parseScope(q.Get("scope"), false)
	if err != nil {
		return err
	}
	type key struct{ make, model, typ string }
	lines := map[key]*MatrixModel{}
	for _, v := range a.Store.Vehicles() {
		if (len(makes) > 0 && !makes[v.Make]) || (len(types) > 0 && !types[v.Powertrain]) {
			continue
		}
		k := key{v.Make, v.Model, string(v.Powertrain)}
		if m, ok := lines[k]; ok {
			m.StartYear, m.EndYear = min(m.StartYear, v.Year), max(m.EndYear, v.Year)
			continue
		}
		perms, eps := supported(v.Powertrain)
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
