package admin

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/faults"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/fixtures"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/requestlog"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/webhooks"
)

// --- state ---

func (a *API) reset(w http.ResponseWriter, r *http.Request) error {
	// The fault rules are part of a test's setup: the reset clears them too (store.Reset).
	if err := a.o.Store.Reset(nil); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"reset": true, "applications": len(a.o.Store.Applications()),
		"accounts": len(a.o.Store.Accounts()), "vehicles": len(a.o.Store.Vehicles())})
	return nil
}

func (a *API) reload(w http.ResponseWriter, r *http.Request) error {
	if a.o.Reload == nil {
		return &Error{Status: http.StatusConflict, Code: "no_fixture_folder", Message: "the sandbox runs on its embedded fixtures; start it with -fixtures DIR to reload from disk"}
	}
	res, err := a.o.Reload()
	if err != nil {
		return invalid("the fixture folder", err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"reloaded": true, "grantsKept": res.GrantsKept, "grantsRestored": res.GrantsRestored,
		"grantsDropped": res.GrantsDropped, "droppedVehicleIds": append([]string{}, res.DroppedVehicleIDs...), "grantsWaiting": res.GrantsWaiting})
	return nil
}

// --- applications ---

func (a *API) listApplications(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"applications": a.o.Store.Applications()})
	return nil
}

func (a *API) addApplication(w http.ResponseWriter, r *http.Request) error {
	var app sandbox.Application
	if err := decode(r, &app); err != nil {
		return err
	}
	if app.ClientID == "" {
		app.ClientID = sandbox.NewUUID()
	}
	if app.ClientSecret == "" {
		app.ClientSecret = sandbox.RandomToken(24)
	}
	if app.Name == "" {
		app.Name = "Application " + app.ClientID
	}
	app.Source = "admin API"
	var errs []error
	if strings.ContainsAny(app.ClientID, " \t\r\n/:") {
		errs = append(errs, fmt.Errorf("clientId %q must not contain spaces, '/' or ':'", app.ClientID))
	}
	if len(app.RedirectURIs) == 0 {
		errs = append(errs, errors.New("redirectUris: give at least one redirect URI, e.g. [\"myapp://exchange\"]"))
	}
	for _, u := range app.RedirectURIs {
		if p, err := url.Parse(u); err != nil || p.Scheme == "" {
			errs = append(errs, fmt.Errorf("redirectUris: %q is not an absolute URI", u))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return invalid("the application", err)
	}
	_, existed := a.o.Store.Application(app.ClientID)
	if err := a.o.Store.PutApplication(app); err != nil {
		return err
	}
	writeJSON(w, createdOrOK(existed), app)
	return nil
}

func createdOrOK(existed bool) int {
	if existed {
		return http.StatusOK
	}
	return http.StatusCreated
}

// --- accounts ---

func (a *API) listAccounts(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"accounts": a.o.Store.Accounts()})
	return nil
}

type accountBody struct {
	Username   string            `json:"username"`
	UserID     string            `json:"userId"`
	VehicleIDs []string          `json:"vehicleIds"`
	Vehicles   []sandbox.Vehicle `json:"vehicles"`
}

func (a *API) addAccount(w http.ResponseWriter, r *http.Request) error {
	var b accountBody
	if err := decode(r, &b); err != nil {
		return err
	}
	var errs []error
	if strings.TrimSpace(b.Username) == "" {
		errs = append(errs, errors.New("username is required"))
	}
	if b.UserID == "" {
		b.UserID = sandbox.NameUUID("user", strings.ToLower(b.Username))
	}
	for _, id := range b.VehicleIDs {
		if _, ok := a.o.Store.Vehicle(id); !ok {
			errs = append(errs, fmt.Errorf("vehicleIds: no vehicle %s (add new ones under \"vehicles\")", id))
		}
	}
	ids := append([]string(nil), b.VehicleIDs...)
	for i := range b.Vehicles {
		v := &b.Vehicles[i]
		if verrs := a.completeVehicle(v); len(verrs) > 0 {
			for _, err := range verrs {
				errs = append(errs, fmt.Errorf("vehicles[%d]: %w", i, err))
			}
			continue
		}
		ids = append(ids, v.ID)
	}
	if err := errors.Join(errs...); err != nil {
		return invalid("the account", err)
	}
	_, existed := a.o.Store.AccountByUserID(b.UserID)
	acct := sandbox.Account{Username: b.Username, UserID: b.UserID, VehicleIDs: ids}
	if err := a.o.Store.PutAccount(acct, b.Vehicles); err != nil {
		return err
	}
	writeJSON(w, createdOrOK(existed), map[string]any{"account": acct, "vehicles": b.Vehicles})
	return nil
}

// completeVehicle fills what a new vehicle may leave out (id, VIN, the signals its powertrain
// has) and validates the rest, returning every problem.
func (a *API) completeVehicle(v *sandbox.Vehicle) []error {
	var errs []error
	if v.ID == "" {
		v.ID = sandbox.NewUUID()
	} else if !sandbox.IsUUID(v.ID) {
		errs = append(errs, fmt.Errorf("id %q is not a UUID", v.ID))
	} else if _, ok := a.o.Store.Vehicle(v.ID); ok {
		errs = append(errs, fmt.Errorf("id %s is taken; change an existing vehicle with PATCH /admin/vehicles/{id}", v.ID))
	}
	if v.Make == "" || v.Model == "" {
		errs = append(errs, errors.New("make and model are required"))
	}
	if v.Year < 1900 || v.Year > 2100 {
		errs = append(errs, fmt.Errorf("year %d: want 1900..2100", v.Year))
	}
	if !v.Powertrain.Valid() {
		errs = append(errs, fmt.Errorf("powertrain %q: want BEV, PHEV, HEV or ICE", v.Powertrain))
	}
	if v.VIN == "" {
		v.VIN = vinFor(v.ID)
	} else if !sandbox.ValidVIN(strings.ToUpper(v.VIN)) {
		errs = append(errs, fmt.Errorf("vin %q: want 17 characters with a correct check digit (or leave it out)", v.VIN))
	}
	v.VIN = strings.ToUpper(v.VIN)
	if v.Mode == "" {
		v.Mode = "live"
	}
	if len(errs) > 0 {
		return errs
	}
	// Whatever the body leaves out comes from the same defaults a fixture vehicle starts from.
	st, def := &v.State, fixtures.DefaultState(v.Powertrain)
	if st.Fuel == nil && v.Powertrain.HasFuel() {
		st.Fuel = def.Fuel
	}
	if st.EngineOil == nil && v.Powertrain.HasFuel() {
		st.EngineOil = def.EngineOil
	}
	if st.Battery == nil && v.Powertrain.HasBattery() {
		st.Battery = def.Battery
	}
	if st.Charge == nil && v.Powertrain.HasBattery() {
		st.Charge = def.Charge
	}
	if st.Tires == (sandbox.Tires{}) {
		st.Tires = def.Tires
	}
	if st.Location == (sandbox.Location{}) {
		st.Location = def.Location
	}
	if st.Security.Doors == nil {
		st.Security = def.Security
	}
	if st.UpdatedAt.IsZero() {
		st.UpdatedAt = a.o.Now().UTC()
	}
	return stateErrors(st.Validate(v.Powertrain), "state.")
}

// vinFor derives a valid VIN from a vehicle id, so the same id always gets the same VIN.
func vinFor(id string) string {
	const alphabet = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ" // no I, O, Q: never in VINs
	h := sandbox.NameUUID("vin", id)
	var b strings.Builder
	b.WriteString("5SB") // made-up manufacturer code for sandbox vehicles
	for i := 0; b.Len() < 17; i++ {
		b.WriteByte(alphabet[int(h[i%len(h)])%len(alphabet)])
	}
	vin, _ := sandbox.FixVINCheckDigit(b.String())
	return vin
}

// --- vehicles ---

func (a *API) listVehicles(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"vehicles": a.o.Store.Vehicles()})
	return nil
}

func (a *API) getVehicle(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	v, ok := a.o.Store.Vehicle(id)
	if !ok {
		return notFound("no vehicle %s", id)
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (a *API) patchVehicle(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	var patch map[string]any
	if err := decode(r, &patch); err != nil {
		return err
	}
	v, err := a.o.Store.UpdateVehicle(id, func(v *sandbox.Vehicle) error {
		st, err := mergeState(v.State, patch)
		if err != nil {
			return badRequest("%v", err)
		}
		if _, set := patch["updatedAt"]; !set {
			st.UpdatedAt = a.o.Now().UTC() // the "vehicle" just reported new data
		}
		if ps := st.Validate(v.Powertrain); len(ps) > 0 {
			return invalid("the vehicle state", errors.Join(stateErrors(ps, "")...))
		}
		v.State = st
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return notFound("no vehicle %s", id)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (a *API) listGrants(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	g := a.o.Store.Grants(store.GrantFilter{ClientID: q.Get("clientId"), UserID: q.Get("userId"), VehicleID: q.Get("vehicleId")})
	if g == nil {
		g = []sandbox.Grant{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"grants": g})
	return nil
}

// --- tokens ---

type tokenView struct {
	store.IssuedToken
	Status string `json:"status"` // active, expired or revoked
}

func (a *API) view(t store.IssuedToken) tokenView {
	status := "active"
	revoked, expired := a.o.Store.AccessTokenEnded(t.ID, t.Authorization)
	switch {
	case revoked:
		status = "revoked"
	case expired || !a.o.Now().Before(t.ExpiresAt):
		status = "expired"
	}
	return tokenView{IssuedToken: t, Status: status}
}

func (a *API) listTokens(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	out := []tokenView{}
	for _, t := range a.o.Store.IssuedTokens() {
		if c := q.Get("clientId"); c != "" && c != t.ClientID {
			continue
		}
		if u := q.Get("userId"); u != "" && u != t.UserID {
			continue
		}
		out = append(out, a.view(t))
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
	return nil
}

func (a *API) token(r *http.Request) (store.IssuedToken, error) {
	id := mux.Vars(r)["id"]
	t, ok := a.o.Store.IssuedToken(id)
	if !ok {
		return t, notFound("no issued access token with id %s (GET /admin/tokens lists them; the id is the JWT's jti)", id)
	}
	return t, nil
}

// revokeToken ends an access token for good. A Connect token takes its whole authorization
// with it (every access token issued from the same approval, and its refresh tokens), as a
// user revoking the app's access would: refreshing cannot bring it back, only a new Connect.
// An application token (client credentials) is revoked alone.
func (a *API) revokeToken(w http.ResponseWriter, r *http.Request) error {
	t, err := a.token(r)
	if err != nil {
		return err
	}
	if t.Authorization != 0 {
		err = a.o.Store.RevokeAuthorization(t.Authorization)
	} else {
		err = a.o.Store.RevokeAccessToken(t.ID, t.ExpiresAt)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.view(t))
	return nil
}

func (a *API) expireToken(w http.ResponseWriter, r *http.Request) error {
	t, err := a.token(r)
	if err != nil {
		return err
	}
	if err := a.o.Store.ExpireAccessToken(t.ID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.view(t))
	return nil
}

func (a *API) listCodes(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"codes": a.o.Store.Codes()})
	return nil
}

func (a *API) expireCode(w http.ResponseWriter, r *http.Request) error {
	return expire(w, r, "code", "no unused authorization code %s", a.o.Store.ExpireCode)
}

// expire ends what the store keeps under the path variable key (a code, a refresh token) and
// answers with it; notFound, worded by missing (with the key for its %s), when there is none.
func expire[T any](w http.ResponseWriter, r *http.Request, key, missing string, end func(string) (T, error)) error {
	k := mux.Vars(r)[key]
	ended, err := end(k)
	if errors.Is(err, store.ErrNotFound) {
		return notFound(missing, k)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ended)
	return nil
}

func (a *API) listRefreshTokens(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"refreshTokens": a.o.Store.RefreshTokens()})
	return nil
}

func (a *API) expireRefreshToken(w http.ResponseWriter, r *http.Request) error {
	return expire(w, r, "token", "no refresh token %s", a.o.Store.ExpireRefreshToken)
}

// --- clock ---

func (a *API) clockBody() map[string]any {
	return map[string]any{"now": a.o.Now().UTC().Format(time.RFC3339Nano)}
}

func (a *API) getClock(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, a.clockBody())
	return nil
}

func (a *API) advanceClock(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		Advance string `json:"advance"`
	}
	if err := decode(r, &b); err != nil {
		return err
	}
	d, err := time.ParseDuration(b.Advance)
	if err != nil || d <= 0 {
		return badRequest("advance %q: want a positive duration like \"2h\" or \"90s\" (the clock only moves forward)", b.Advance)
	}
	if a.o.Advance == nil {
		return &Error{Status: http.StatusConflict, Code: "fixed_clock", Message: "this sandbox's clock cannot be moved"}
	}
	if err := a.o.Advance(d); err != nil {
		return badRequest("%v", err)
	}
	writeJSON(w, http.StatusOK, a.clockBody())
	return nil
}

// --- request log ---

// limitParam reads ?limit=; def when absent.
func limitParam(r *http.Request, def int) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, badRequest("limit %q: want a positive number", s)
	}
	return n, nil
}

func (a *API) listRequests(w http.ResponseWriter, r *http.Request) error {
	limit, err := limitParam(r, 0)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"requests": a.o.Requests.List(limit), "size": a.o.Requests.Size()})
	return nil
}

// setRequestLogSize changes how many requests the log keeps ({"size": 500}): with a durable
// store for good, and for every replica sharing it.
func (a *API) setRequestLogSize(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Size *int `json:"size"`
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	if body.Size == nil || *body.Size < 0 || *body.Size > requestlog.MaxSize {
		return badRequest(`give how many requests to keep, 0..%d: {"size": 500}`, requestlog.MaxSize)
	}
	if err := a.o.Requests.SetSize(*body.Size); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"size": a.o.Requests.Size()})
	return nil
}

func (a *API) clearRequests(w http.ResponseWriter, r *http.Request) error {
	a.o.Requests.Clear()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// --- webhooks ---

// listDeliveries serves the webhook delivery log, newest first; webhookId, vehicleId and
// eventType narrow it, limit (default 100) caps it.
func (a *API) listDeliveries(w http.ResponseWriter, r *http.Request) error {
	if a.o.Webhooks == nil {
		return notFound("webhooks are not running in this sandbox")
	}
	limit, err := limitParam(r, 100)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": a.o.Webhooks.FindDeliveries(webhooks.DeliveryFilter{
		WebhookID: q.Get("webhookId"), VehicleID: q.Get("vehicleId"), EventType: q.Get("eventType"), Limit: limit})})
	return nil
}

// --- faults ---

func (a *API) listFaults(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"faults": a.o.Faults.List()})
	return nil
}

func (a *API) addFault(w http.ResponseWriter, r *http.Request) error {
	var rule faults.Rule
	if err := decode(r, &rule); err != nil {
		return err
	}
	added, err := a.o.Faults.Add(rule)
	if errors.Is(err, store.ErrNotSaved) {
		return err
	}
	if err != nil {
		return invalid("the fault rule", err)
	}
	writeJSON(w, http.StatusCreated, added)
	return nil
}

func (a *API) clearFaults(w http.ResponseWriter, r *http.Request) error {
	if err := a.o.Faults.Clear(); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) deleteFault(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	had, err := a.o.Faults.Delete(id)
	if err != nil {
		return err
	}
	if !had {
		return notFound("no fault rule %s", id)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
