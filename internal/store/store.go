// Package store owns all mutable state of the sandbox: applications, accounts, vehicles and
// their state, grants (connections), authorization codes, refresh tokens and revocations.
// Every other package reads and changes state only through it, so there is one copy of each
// fact. It is safe for concurrent use. With a data directory, every change is written to disk
// before the call returns (and before any reader can see it), atomically, so an acknowledged
// command survives a crash; a change that cannot be written is not made (see ErrNotSaved).
package store

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
)

// The refresh-token lifetimes Smartcar documents, the store's unless Options say otherwise.
const (
	DefaultRefreshTTL   = 60 * 24 * time.Hour // a refresh token expires 60 days after it is made
	DefaultRefreshGrace = time.Minute         // a used refresh token works again for one minute
)

// ErrNotFound is returned when a record does not exist.
var ErrNotFound = errors.New("not found")

// GarageFunc makes up an account and the vehicles a sign-in under brand mk ("" when no brand
// was picked) shows, for a username no fixture names. It must be deterministic: the same
// username and brand always give the same account and vehicles. The store keeps the union of
// the vehicles every sign-in of a username was given (fixtures.Garage gives one per brand).
type GarageFunc func(username, mk string) (sandbox.Account, []sandbox.Vehicle)

// Options configure a Store.
type Options struct {
	// Garage generates accounts for unknown usernames; nil means unknown usernames have no
	// vehicles.
	Garage GarageFunc
	// DataDir, when set, makes the state survive restarts: it is kept in DataDir/sandbox.db
	// (see sqlite.go).
	DataDir string
	// Backend, when set, is where the state is kept (it wins over DataDir); the store does
	// not close a Backend it was given until Close.
	Backend Backend
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// RefreshTTL is how long a refresh token works after it is made; 0 means
	// DefaultRefreshTTL.
	RefreshTTL time.Duration
	// RefreshGrace is how long a used refresh token still gets the successor its first use
	// made (so a retry or a racing request does not fork the chain), and how long the store
	// keeps it; 0 means DefaultRefreshGrace.
	RefreshGrace time.Duration
	// SaveFault, when set, is called before each commit to a durable backend; an error from
	// it fails that commit the way a full or read-only disk would. Only tests set it.
	SaveFault func() error
}

// Store is the sandbox's state: plain maps in memory (see state), changed only by
// transactions (see tx) that a durable backend commits before they are seen.
type Store struct {
	mu        sync.RWMutex
	garage    GarageFunc
	now       func() time.Time
	backend   Backend // nil: in memory only
	shared    Shared  // backend, when other sandboxes may share it
	version   int64   // the shared backend's version the state is as of
	dataDir   string  // for the log only
	saveFault func() error
	log       *slog.Logger

	state

	lastPrune    time.Time
	refreshTTL   time.Duration // Options.RefreshTTL
	refreshGrace time.Duration // Options.RefreshGrace

	obs observers // see observe.go
	txn tx        // the in-memory transaction running (see Store.tx)

	qmu        sync.Mutex   // guards queue and committing (see groupTx)
	queue      []*pendingTx // durable transactions waiting for the next group commit
	committing bool         // a leader is running a group

	catchUps catchUps // see catchUp
}

type grantKey struct{ clientID, userID, vehicleID string }

// New builds a store seeded with the dataset. With Options.DataDir it opens (or makes) the
// SQLite database in that directory and lays what it holds over the fixtures (stored records
// win over the fixtures for every record they hold); a state.json an older sandbox left there
// is imported once and renamed.
func New(ds sandbox.Dataset, opts Options) (*Store, error) {
	s := &Store{garage: opts.Garage, now: opts.Now, log: slog.New(slog.DiscardHandler), saveFault: opts.SaveFault,
		refreshTTL: opts.RefreshTTL, refreshGrace: opts.RefreshGrace}
	if s.refreshTTL <= 0 {
		s.refreshTTL = DefaultRefreshTTL
	}
	if s.refreshGrace <= 0 {
		s.refreshGrace = DefaultRefreshGrace
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.fixtures = ds
	s.seed(ds)
	s.revoked = make(map[string]time.Time)
	s.revokedAuth = make(map[uint64]time.Time)
	s.keys = make(map[string][]byte)
	s.webhookSubs = make(map[string]WebhookSubscription)
	s.webhooksVerified = make(map[string]bool)
	s.control = newControlState()
	b := opts.Backend
	if b == nil && opts.DataDir != "" {
		var err error
		if b, err = OpenSQLite(opts.DataDir); err != nil {
			return nil, err
		}
		s.dataDir = opts.DataDir
	}
	if b == nil {
		return s, nil
	}
	s.backend = b
	load := b.Load
	var err error
	if sh, ok := b.(Shared); ok {
		s.shared = sh
		var recs []Record
		recs, s.version, err = sh.Snapshot()
		load = each(recs)
	}
	imported := false // a state file was imported into the database before
	if err == nil {
		err = s.load(func(fn func(Record) error) error {
			return load(func(r Record) error {
				imported = imported || (r.Kind == kindMeta && r.Key == metaImported)
				return fn(r)
			})
		})
	}
	if err == nil && opts.DataDir != "" {
		err = s.importStateFile(opts.DataDir, imported)
	}
	if err != nil {
		b.Close()
		return nil, err
	}
	return s, nil
}

// Close releases the backend (a durable store must not be used after it).
func (s *Store) Close() error {
	if s.backend == nil {
		return nil
	}
	return s.backend.Close()
}

// SetLogger sets where a failed save's full cause goes (paths and all: the error returned to
// callers names none, since it reaches clients). Call it before the store is used.
func (s *Store) SetLogger(l *slog.Logger) {
	s.mu.Lock()
	s.log = l
	s.mu.Unlock()
}

func (s *Store) seed(ds sandbox.Dataset) {
	s.apps = make(map[string]*sandbox.Application)
	s.accounts = make(map[string]*sandbox.Account)
	s.users = make(map[string]string)
	s.vehicles = make(map[string]*sandbox.Vehicle)
	s.grants = make(map[grantKey]*sandbox.Grant)
	s.codes = make(map[string]*sandbox.AuthCode)
	s.refresh = newRefreshTokens()
	for _, a := range ds.Applications {
		a := a
		s.apps[a.ClientID] = &a
	}
	for _, v := range ds.Vehicles {
		v := v.Clone()
		s.vehicles[v.ID] = &v
	}
	for _, a := range ds.Accounts {
		s.putAccountLocked(a)
	}
}

func (s *Store) putAccountLocked(a sandbox.Account) {
	a.VehicleIDs = append([]string(nil), a.VehicleIDs...)
	key := strings.ToLower(a.Username)
	s.accounts[key] = &a
	s.users[a.UserID] = key
}

// Reset drops every change and grant and goes back to the fixtures the store started with (or
// ds, when given). Revocations and the authorization numbers stay: tokens issued before the
// reset are signed all the same, and must not work again (see Grant.Generation). The fault
// rules go too; webhook subscriptions and settings stay.
func (s *Store) Reset(ds *sandbox.Dataset) error {
	return s.tx(func(t *tx) error {
		t.replaceAll()
		if ds != nil {
			s.fixtures = *ds
		}
		s.seed(s.fixtures)
		s.parked = nil
		// Fault rules are part of a test's setup, so a reset between tests clears them too
		// (a new map: undo puts the old one back). Settings stay.
		s.control.faultRules = make(map[string]FaultRule)
		s.control.gen.Add(1)
		return nil
	})
}

// --- applications ---

// Application returns the application with the client id.
func (s *Store) Application(clientID string) (sandbox.Application, bool) {
	s.catchUp()
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.apps[clientID]
	if !ok {
		return sandbox.Application{}, false
	}
	return *a, true
}

// ApplicationByManagementToken finds the application whose management token is tok.
func (s *Store) ApplicationByManagementToken(tok string) (sandbox.Application, bool) {
	s.catchUp()
	if tok == "" {
		return sandbox.Application{}, false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, a := range s.apps {
		if a.ManagementToken == tok {
			return *a, true
		}
	}
	return sandbox.Application{}, false
}

// Applications lists applications sorted by client id.
func (s *Store) Applications() []sandbox.Application {
	s.catchUp()
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]sandbox.Application, 0, len(s.apps))
	for _, a := range s.apps {
		out = append(out, *a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ClientID < out[j].ClientID })
	return out
}

// PutApplication registers or replaces an application.
func (s *Store) PutApplication(a sandbox.Application) error {
	a.RedirectURIs = append([]string(nil), a.RedirectURIs...)
	return s.tx(func(t *tx) error {
		t.touch(kindApp, a.ClientID)
		s.apps[a.ClientID] = &a
		return nil
	})
}

// --- accounts ---

// Account returns the account for username. A username no account has yet gets one made up,
// as a sign-in with no brand would; an existing account is returned as it is.
func (s *Store) Account(username string) (sandbox.Account, error) {
	if a, ok := s.account(strings.ToLower(username)); ok {
		return a, nil
	}
	a, _, err := s.SignIn(username, "")
	return a, err
}

// account returns a copy of the account under key (a lower-cased username), if there is one.
func (s *Store) account(key string) (sandbox.Account, bool) {
	s.catchUp()
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.accounts[key]
	if !ok {
		return sandbox.Account{}, false
	}
	return *a, true
}

// fixtureAccount returns the account under key and copies of its vehicles when a fixture
// made it: signing in with it changes nothing.
func (s *Store) fixtureAccount(key string) (sandbox.Account, []sandbox.Vehicle, bool) {
	s.catchUp()
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.accounts[key]
	if !ok || a.Generated {
		return sandbox.Account{}, nil, false
	}
	return *a, s.vehiclesLocked(a.VehicleIDs), true
}

// SignIn is a Connect sign-in of username under brand mk: it returns the account and the
// vehicles this sign-in shares. A fixture account shares exactly its vehicles, whatever the
// brand. A username no fixture names gets the garage Options.Garage makes for (username, mk),
// added to what earlier sign-ins under other brands gave the same account.
func (s *Store) SignIn(username, mk string) (sandbox.Account, []sandbox.Vehicle, error) {
	key := strings.ToLower(username)
	if a, vs, ok := s.fixtureAccount(key); ok {
		return a, vs, nil
	}
	if s.garage == nil {
		return sandbox.Account{}, nil, ErrNotFound
	}
	// Generate outside the lock: it can take a while for big test garages, and it is
	// deterministic, so two racing sign-ins produce the same thing.
	acct, vehicles := s.garage(username, mk)
	var vs []sandbox.Vehicle
	err := s.tx(func(t *tx) error {
		if a, ok := s.accounts[key]; ok {
			if !a.Generated { // a fixture reload named the username meanwhile
				acct, vs = *a, s.vehiclesLocked(a.VehicleIDs)
				return nil
			}
			acct = *a
			acct.VehicleIDs = append([]string(nil), a.VehicleIDs...)
			for _, v := range vehicles {
				if !slices.Contains(acct.VehicleIDs, v.ID) {
					acct.VehicleIDs = append(acct.VehicleIDs, v.ID)
				}
			}
		}
		ids := make([]string, len(vehicles))
		for i, v := range vehicles {
			ids[i] = v.ID
			if _, exists := s.vehicles[v.ID]; !exists {
				t.touch(kindVehicle, v.ID)
				v := v.Clone()
				s.vehicles[v.ID] = &v
			}
		}
		if old, ok := s.accounts[key]; !ok || len(old.VehicleIDs) != len(acct.VehicleIDs) {
			t.touch(kindAccount, key)
			s.putAccountLocked(acct)
		}
		vs = s.vehiclesLocked(ids)
		return nil
	})
	if err != nil {
		return sandbox.Account{}, nil, err
	}
	return acct, vs, nil
}

// vehiclesLocked copies the vehicles with these ids, in order, skipping any that is gone.
func (s *Store) vehiclesLocked(ids []string) []sandbox.Vehicle {
	out := make([]sandbox.Vehicle, 0, len(ids))
	for _, id := range ids {
		if v, ok := s.vehicles[id]; ok {
			out = append(out, v.Clone())
		}
	}
	return out
}

// AccountByUserID returns the account a user id belongs to.
func (s *Store) AccountByUserID(userID string) (sandbox.Account, bool) {
	s.catchUp()
	s.mu.RLock()
	defer s.mu.RUnlock()
	key, ok := s.users[userID]
	if !ok {
		return sandbox.Account{}, false
	}
	return *s.accounts[key], true
}

// Accounts lists accounts sorted by username.
func (s *Store) Accounts() []sandbox.Account {
	s.catchUp()
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]sandbox.Account, 0, len(s.accounts))
	for _, a := range s.accounts {
		out = append(out, *a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Username < out[j].Username })
	return out
}

// PutAccount adds or replaces an account together with vehicles it brings along.
func (s *Store) PutAccount(a sandbox.Account, vehicles []sandbox.Vehicle) error {
	brought := make(map[string]bool, len(vehicles))
	for _, v := range vehicles {
		brought[v.ID] = true
	}
	return s.tx(func(t *tx) error {
		for _, id := range a.VehicleIDs {
			if _, ok := s.vehicles[id]; !ok && !brought[id] {
				return fmt.Errorf("account %s: vehicle %s: %w", a.Username, id, ErrNotFound)
			}
		}
		for _, v := range vehicles {
			t.touch(kindVehicle, v.ID)
			v := v.Clone()
			s.vehicles[v.ID] = &v
		}
		t.touch(kindAccount, strings.ToLower(a.Username))
		s.putAccountLocked(a)
		return nil
	})
}

// --- vehicles ---

// Vehicle returns a copy of the vehicle with its current state.
func (s *Store) Vehicle(id string) (sandbox.Vehicle, bool) {
	s.catchUp()
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.vehicles[id]
	if !ok {
		return sandbox.Vehicle{}, false
	}
	return v.Clone(), true
}

// VehicleInto is Vehicle writing the copy into *dst (left alone when the id is unknown), for
// the per-request read path, which keeps the copy in a struct of its own.
func (s *Store) VehicleInto(id string, dst *sandbox.Vehicle) bool {
	s.catchUp()
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.vehicles[id]
	if ok {
		v.CloneInto(dst)
	}
	return ok
}

// VehicleByVIN finds a vehicle by VIN (case-insensitive).
func (s *Store) VehicleByVIN(vin string) (sandbox.Vehicle, bool) {
	s.catchUp()
	vin = strings.ToUpper(vin)
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, v := range s.vehicles {
		if v.VIN == vin {
			return v.Clone(), true
		}
	}
	return sandbox.Vehicle{}, false
}

// Vehicles returns copies of all vehicles sorted by id.
func (s *Store) Vehicles() []sandbox.Vehicle {
	s.catchUp()
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]sandbox.Vehicle, 0, len(s.vehicles))
	for _, v := range s.vehicles {
		out = append(out, v.Clone())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// SimulatedVehicleIDs are the vehicles the simulator moves, in id order: simulated by their
// fixture or already in the simulation (sandbox.Vehicle.Simulated), or shared through a grant
// made with mode=simulated. The simulator asks every tick, so this reads the maps in place
// rather than copying every vehicle and grant (20,000 copies a second with 10,000 users).
func (s *Store) SimulatedVehicleIDs() []string {
	s.catchUp()
	s.mu.RLock()
	defer s.mu.RUnlock()
	var ids []string
	for id, v := range s.vehicles {
		if v.Simulated() {
			ids = append(ids, id)
		}
	}
	for _, g := range s.grants {
		if _, ok := s.vehicles[g.VehicleID]; ok && g.Mode == sandbox.ModeSimulated {
			ids = append(ids, g.VehicleID)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// UpdateVehicle applies fn to the vehicle atomically. If fn returns an error nothing changes
// and the error is returned as is (so a handler can return a Smartcar error from inside).
// The change is durable when UpdateVehicle returns nil; when it cannot be saved it is not
// made (ErrNotSaved).
func (s *Store) UpdateVehicle(id string, fn func(*sandbox.Vehicle) error) (sandbox.Vehicle, error) {
	var cur, next *sandbox.Vehicle
	var out sandbox.Vehicle
	var refused error
	err := s.tx(func(t *tx) error {
		var ok bool
		if cur, ok = s.vehicles[id]; !ok {
			return ErrNotFound
		}
		n := cur.Clone()
		if err := fn(&n); err != nil {
			refused = err
			return err
		}
		n.ID = cur.ID // the id is the key; fn may not move a vehicle
		t.touch(kindVehicle, id)
		next = &n
		s.vehicles[id] = next
		out = n.Clone()
		return nil
	})
	if refused != nil {
		s.notifyError(cur, refused)
	}
	if err != nil {
		return sandbox.Vehicle{}, err // not saved, so not made: the vehicle is as it was
	}
	s.notifyChange(cur, next)
	return out, nil
}

// --- grants (connections) ---

// Connect records grants, replacing earlier ones for the same application, user and vehicle.
// A grant that replaces a live one keeps its generation (the user approved again: tokens
// issued since the connection began keep working, with the new permissions); a grant for a
// vehicle not connected now begins a new generation, which no earlier token reaches. The
// Generation field of the grants given is ignored.
func (s *Store) Connect(grants ...sandbox.Grant) error {
	return s.tx(func(t *tx) error {
		for _, g := range grants {
			g.Permissions = sandbox.SortedPermissionNames(g.Permissions)
			if g.ConnectedAt.IsZero() {
				g.ConnectedAt = s.now().UTC()
			}
			k := grantKey{g.ClientID, g.UserID, g.VehicleID}
			if old, ok := s.grants[k]; ok {
				g.Generation = old.Generation
				if g.ExternalID == "" {
					g.ExternalID = old.ExternalID
				}
			} else {
				g.Generation = t.nextAuthorization()
			}
			t.touch(kindGrant, k.String())
			s.grants[k] = &g
		}
		return nil
	})
}

// Grant returns the grant of a user's vehicle to an application.
func (s *Store) Grant(clientID, userID, vehicleID string) (sandbox.Grant, bool) {
	s.catchUp()
	s.mu.RLock()
	defer s.mu.RUnlock()
	g, ok := s.grants[grantKey{clientID, userID, vehicleID}]
	if !ok {
		return sandbox.Grant{}, false
	}
	return *g, true
}

// GrantFilter narrows Grants and Disconnect; empty fields match everything.
type GrantFilter struct {
	ClientID  string
	UserID    string
	VehicleID string
}

func (f GrantFilter) match(g *sandbox.Grant) bool {
	return (f.ClientID == "" || f.ClientID == g.ClientID) &&
		(f.UserID == "" || f.UserID == g.UserID) &&
		(f.VehicleID == "" || f.VehicleID == g.VehicleID)
}

// Grants lists matching grants, newest first (ties by vehicle id, for stable paging).
func (s *Store) Grants(f GrantFilter) []sandbox.Grant {
	s.catchUp()
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []sandbox.Grant
	for _, g := range s.grants {
		if f.match(g) {
			out = append(out, *g)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].ConnectedAt.Equal(out[j].ConnectedAt) {
			return out[i].ConnectedAt.After(out[j].ConnectedAt)
		}
		if out[i].VehicleID != out[j].VehicleID {
			return out[i].VehicleID < out[j].VehicleID
		}
		return out[i].UserID < out[j].UserID
	})
	return out
}

// Disconnect deletes matching grants and returns them. A filter without ClientID is refused:
// one application must never disconnect another's vehicles.
func (s *Store) Disconnect(f GrantFilter) ([]sandbox.Grant, error) {
	if f.ClientID == "" {
		return nil, errors.New("store: disconnect needs a client id")
	}
	var out []sandbox.Grant
	err := s.tx(func(t *tx) error {
		out = t.disconnect(f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DisconnectByToken is a vehicle's own disconnect (DELETE /vehicles/{id}/application) with a
// Connect token of authorization that names tokenVehicles: the grant ends, and when the token
// then reaches none of its vehicles, its authorization ends with it in the same save (its
// access tokens are refused everywhere, /user and /vehicles included, and its refresh tokens
// are gone). Connections deleted through the management API (Disconnect) end only the
// connections: the user's token still answers /user and an empty /vehicles, as Smartcar's
// own SDK suite expects after deleteConnections.
func (s *Store) DisconnectByToken(f GrantFilter, tokenVehicles []string, authorization uint64) error {
	if f.ClientID == "" {
		return errors.New("store: disconnect needs a client id")
	}
	return s.tx(func(t *tx) error {
		t.disconnect(f)
		if !s.anyConnectedLocked(f.ClientID, f.UserID, tokenVehicles, authorization) {
			t.revokeAuthorization(authorization)
		}
		return nil
	})
}

// EndConnections deletes the grants f (one application, and a user) matches and, in the same
// save, ends each of the given authorizations (number -> the vehicles its tokens name) whose
// tokens then reach none of their vehicles: API v3's DELETE /connections/{id} and
// /users/{userId}. One save, so a failure leaves every grant and token as it was.
func (s *Store) EndConnections(f GrantFilter, vehiclesOf map[uint64][]string) error {
	if f.ClientID == "" {
		return errors.New("store: disconnect needs a client id")
	}
	return s.tx(func(t *tx) error {
		t.disconnect(f)
		for n, ids := range vehiclesOf {
			if n != 0 && !s.anyConnectedLocked(f.ClientID, f.UserID, ids, n) {
				t.revokeAuthorization(n)
			}
		}
		return nil
	})
}

// disconnect deletes the grants f matches (set-aside ones too) and returns them.
func (t *tx) disconnect(f GrantFilter) []sandbox.Grant {
	s := t.s
	var out []sandbox.Grant
	for k, g := range s.grants {
		if f.match(g) {
			out = append(out, *g)
			t.touch(kindGrant, k.String())
			delete(s.grants, k)
		}
	}
	for k, g := range s.parked {
		if f.match(g) {
			delete(s.parked, k) // it must not come back with its vehicle after a disconnect
		}
	}
	if len(out) == 0 {
		return nil
	}
	t.dropUnusableRefreshTokens(f.ClientID)
	sort.Slice(out, func(i, j int) bool { return out[i].VehicleID < out[j].VehicleID })
	return out
}

// pruneEvery spaces the sweeps of prune: a sweep on every save would make each login
// O(tokens); this often, a used refresh token outlives its grace by at most 10 s.
const pruneEvery = 10 * time.Second

// prune drops codes an hour past their expiry (used ones are kept until then, so a
// replay is recognised), expired refresh tokens, used refresh tokens past their grace period
// and revocations of tokens that have expired anyway, at most every pruneEvery, so long runs stay bounded.
// The refresh-token sweep compares packed integers: ~2 ms per 100,000 tokens (BenchmarkRefreshSweep).
func (t *tx) prune() {
	s := t.s
	now := s.now()
	if now.Sub(s.lastPrune) < pruneEvery {
		return
	}
	s.lastPrune = now
	for k, c := range s.codes {
		if now.After(c.ExpiresAt.Add(time.Hour)) {
			t.touch(kindCode, k)
			delete(s.codes, k)
		}
	}
	nowPacked := packTime(now)
	graceStart := packTime(now.Add(-s.refreshGrace)) // used before this: grace over
	t.deleteRefreshIf(func(r refreshRec) bool {
		// Expired, or used and past its grace: such a token can never be used again, and
		// forgetting it changes only the error a replay gets (ErrNotFound instead of
		// ErrRefreshUsed, both invalid_grant on the wire), so it is not kept for the rest of
		// its 60 days (a long run refreshing all the time would otherwise grow without bound).
		return nowPacked > r.expires || (r.used != noTime && r.used < graceStart)
	})
	for k, exp := range s.revokedAuth {
		if now.After(exp) {
			t.touch(kindRevokedAuth, strconv.FormatUint(k, 10))
			delete(s.revokedAuth, k)
		}
	}
	for k, exp := range s.revoked {
		if now.After(exp) {
			t.touch(kindRevoked, k)
			delete(s.revoked, k)
		}
	}
}

// --- named keys ---

// Key returns the secret named name, made by create the first time it is asked for and kept
// from then on like every other record (with a data dir, in the database; Reset keeps it).
// Asking is atomic: racing callers all get the one secret the first of them made. It is where
// keys that must outlive a restart belong (token signing, Connect's flow state, CSRF), so a
// backend shared by several processes gives them all the same keys.
func (s *Store) Key(name string, create func() ([]byte, error)) ([]byte, error) {
	s.catchUp()
	s.mu.RLock()
	k, ok := s.keys[name]
	s.mu.RUnlock()
	if ok {
		return slices.Clone(k), nil
	}
	fresh, err := create()
	if err != nil {
		return nil, err
	}
	err = s.tx(func(t *tx) error {
		if k, ok = s.keys[name]; ok {
			return nil // another caller made it meanwhile: theirs wins
		}
		t.touch(kindKey, name)
		k = slices.Clone(fresh)
		s.keys[name] = k
		return nil
	})
	if err != nil {
		return nil, err
	}
	return slices.Clone(k), nil
}

// CopyTo writes the whole state into b in one transaction, replacing what b held (named keys
// aside): to seed a database, or to move a sandbox's state from one backend to another.
func (s *Store) CopyTo(b Backend) error {
	s.mu.RLock()
	recs := s.records()
	s.mu.RUnlock()
	return b.Commit(true, recs)
}
