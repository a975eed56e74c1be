package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
)

func testDataset() sandbox.Dataset {
	v := sandbox.Vehicle{ID: "11111111-1111-4111-8111-111111111111", Make: "TESLA", Model: "Model 3", Year: 2022,
		VIN: "5YJSA1E14FF101307", Powertrain: sandbox.BEV,
		State: sandbox.VehicleState{OdometerKm: 100, Security: sandbox.Security{Doors: []sandbox.Opening{{Type: "frontLeft", Status: sandbox.StatusUnlocked}}}}}
	return sandbox.Dataset{
		Applications: []sandbox.Application{{ClientID: "app", ClientSecret: "secret", RedirectURIs: []string{"scapp://exchange"}, ManagementToken: "amt"}},
		Accounts:     []sandbox.Account{{Username: "Alice@Example.com", UserID: "u1", VehicleIDs: []string{v.ID}}},
		Vehicles:     []sandbox.Vehicle{v},
	}
}

// testGarage makes a one-vehicle garage for any username.
func testGarage(u, _ string) (sandbox.Account, []sandbox.Vehicle) {
	v := sandbox.Vehicle{ID: sandbox.NameUUID("vehicle", u), Make: "KIA", Model: "EV6", Year: 2023, Powertrain: sandbox.BEV}
	return sandbox.Account{Username: u, UserID: sandbox.NameUUID("user", u), VehicleIDs: []string{v.ID}, Generated: true}, []sandbox.Vehicle{v}
}

// MustOpen opens a store on the test dataset, in dir when dir is not empty.
func MustOpen(t *testing.T, dir string, now func() time.Time) *Store {
	t.Helper()
	s, err := New(testDataset(), Options{DataDir: dir, Now: now, Garage: testGarage})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAccountLookupIsCaseInsensitiveAndGenerates(t *testing.T) {
	s := MustOpen(t, "", nil)
	a, err := s.Account("alice@example.com")
	if err != nil || a.UserID != "u1" {
		t.Fatalf("Account = %+v, %v; want u1", a, err)
	}
	g1, _ := s.Account("zed")
	g2, _ := s.Account("zed")
	if g1.UserID != g2.UserID || len(g1.VehicleIDs) != 1 {
		t.Fatalf("generated accounts differ: %+v %+v", g1, g2)
	}
	if _, ok := s.Vehicle(g1.VehicleIDs[0]); !ok {
		t.Fatal("generated vehicle not stored")
	}
}

func TestUpdateVehicleErrorLeavesStateAlone(t *testing.T) {
	s := MustOpen(t, "", nil)
	id := testDataset().Vehicles[0].ID
	boom := errors.New("boom")
	_, err := s.UpdateVehicle(id, func(v *sandbox.Vehicle) error { v.State.OdometerKm = 5; return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	v, _ := s.Vehicle(id)
	if v.State.OdometerKm != 100 {
		t.Fatalf("odometer = %v, want 100 (unchanged)", v.State.OdometerKm)
	}
	if _, err := s.UpdateVehicle("nope", func(*sandbox.Vehicle) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown vehicle err = %v, want ErrNotFound", err)
	}
}

func TestCodesAreSingleUse(t *testing.T) {
	s := MustOpen(t, "", nil)
	if err := s.SaveCode(sandbox.AuthCode{Code: "c1", ClientID: "app", ExpiresAt: time.Now().Add(10 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConsumeCode("c1"); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if _, err := s.ConsumeCode("c1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second use err = %v, want ErrNotFound", err)
	}
}

// chainToken saves a refresh token of app for u1's vehicle, issued under an authorization that
// reaches u1's grant (made here if there is none yet), as the token endpoint would.
func chainToken(t *testing.T, s *Store, tok string, expires time.Time) {
	t.Helper()
	vid := testDataset().Vehicles[0].ID
	if _, ok := s.Grant("app", "u1", vid); !ok {
		if err := s.Connect(sandbox.Grant{ClientID: "app", UserID: "u1", VehicleID: vid}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.Authorize()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveRefreshToken(sandbox.RefreshToken{Token: tok, ClientID: "app", UserID: "u1", VehicleIDs: []string{vid}, ExpiresAt: expires, Authorization: n}); err != nil {
		t.Fatal(err)
	}
}

func rotate(s *Store, tok string) (sandbox.RefreshToken, error) {
	return s.RotateRefreshToken(tok, "app", nil)
}

func TestRefreshTokenGracePeriod(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := MustOpen(t, "", func() time.Time { return now })
	chainToken(t, s, "r1", now.Add(60*24*time.Hour))
	var first string
	for _, step := range []struct {
		advance time.Duration
		want    error
	}{{0, nil}, {30 * time.Second, nil}, {31 * time.Second, ErrRefreshUsed}} {
		now = now.Add(step.advance)
		next, err := rotate(s, "r1")
		if !errors.Is(err, step.want) {
			t.Fatalf("after +%v: err = %v, want %v", step.advance, err, step.want)
		}
		if err != nil {
			continue
		}
		if first == "" {
			first = next.Token
		} else if next.Token != first {
			t.Fatalf("reuse within grace gave %s, want the first use's successor %s", next.Token, first)
		}
	}
	if _, err := s.RotateRefreshToken(first, "other-app", nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another client's use: err = %v, want ErrNotFound", err)
	}
	if _, err := rotate(s, first); err != nil {
		t.Fatalf("the successor after another client's refused use: %v", err)
	}
	chainToken(t, s, "r2", now)
	if _, err := rotate(s, "r2"); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired token err = %v, want ErrExpired", err)
	}
}

// A refresh token's lifetime and grace are the store's Options (Smartcar's by default), the
// same for a code's first token, a rotation and a retry within the grace.
func TestRefreshLifetimesComeFromOptions(t *testing.T) {
	for _, tc := range []struct {
		name       string
		ttl, grace time.Duration // Options
		wantTTL    time.Duration
		retryAfter time.Duration // a second use of the rotated token this long after the first
		wantRetry  error
	}{
		{"Smartcar's", 0, 0, 60 * 24 * time.Hour, 59 * time.Second, nil},
		{"Smartcar's, retry late", 0, 0, 60 * 24 * time.Hour, 61 * time.Second, ErrRefreshUsed},
		{"set", 2 * time.Hour, 5 * time.Minute, 2 * time.Hour, 4 * time.Minute, nil},
		{"set, retry late", 2 * time.Hour, 5 * time.Minute, 2 * time.Hour, 6 * time.Minute, ErrRefreshUsed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			s, err := New(testDataset(), Options{Now: func() time.Time { return now }, RefreshTTL: tc.ttl, RefreshGrace: tc.grace})
			if err != nil {
				t.Fatal(err)
			}
			saveCode(t, s, "code")
			first, err := s.RedeemCode("code", "app", func(sandbox.AuthCode) error { return nil }, nil)
			if err != nil {
				t.Fatal(err)
			}
			if want := now.Add(tc.wantTTL); !first.ExpiresAt.Equal(want) {
				t.Errorf("code's refresh token expires %v, want %v", first.ExpiresAt, want)
			}
			now = now.Add(time.Minute)
			next, err := rotate(s, first.Token)
			if err != nil {
				t.Fatal(err)
			}
			if want := now.Add(tc.wantTTL); !next.ExpiresAt.Equal(want) {
				t.Errorf("successor expires %v, want %v", next.ExpiresAt, want)
			}
			now = now.Add(tc.retryAfter)
			again, err := rotate(s, first.Token)
			if !errors.Is(err, tc.wantRetry) {
				t.Fatalf("retry after %v: %v, want %v", tc.retryAfter, err, tc.wantRetry)
			}
			if err == nil && again.Token != next.Token {
				t.Errorf("retry within the grace gave %s, want the first use's successor %s", again.Token, next.Token)
			}
		})
	}
}

func TestDisconnectRemovesGrants(t *testing.T) {
	s := MustOpen(t, "", nil)
	vid := testDataset().Vehicles[0].ID
	if err := s.Connect(sandbox.Grant{ClientID: "app", UserID: "u1", VehicleID: vid, Permissions: []string{"read_odometer", "read_odometer"}}); err != nil {
		t.Fatal(err)
	}
	g, ok := s.Grant("app", "u1", vid)
	if !ok || len(g.Permissions) != 1 {
		t.Fatalf("grant = %+v, %v", g, ok)
	}
	if _, err := s.Disconnect(GrantFilter{VehicleID: vid}); err == nil {
		t.Fatal("disconnect without client id must be refused")
	}
	got, err := s.Disconnect(GrantFilter{ClientID: "app", VehicleID: vid})
	if err != nil || len(got) != 1 {
		t.Fatalf("Disconnect = %v, %v", got, err)
	}
	if _, ok := s.Grant("app", "u1", vid); ok {
		t.Fatal("grant still there after disconnect")
	}
}

func TestStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	s := MustOpen(t, dir, nil)
	id := testDataset().Vehicles[0].ID
	if _, err := s.UpdateVehicle(id, func(v *sandbox.Vehicle) error { v.State.Security.SetLocked(true); return nil }); err != nil {
		t.Fatal(err)
	}
	gen, _ := s.Account("bob")
	if err := s.Connect(sandbox.Grant{ClientID: "app", UserID: gen.UserID, VehicleID: gen.VehicleIDs[0]}); err != nil {
		t.Fatal(err)
	}

	s2 := MustOpen(t, dir, nil)
	v, _ := s2.Vehicle(id)
	if !v.State.Security.IsLocked() {
		t.Error("lock did not survive restart")
	}
	if _, ok := s2.Grant("app", gen.UserID, gen.VehicleIDs[0]); !ok {
		t.Error("grant did not survive restart")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), dbFile) { // the database, its WAL and shared-memory index
			t.Errorf("data dir holds %s, want only %s and its WAL files", e.Name(), dbFile)
		}
	}
}

func TestCorruptStateFileIsAClearError(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, stateFile), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(testDataset(), Options{DataDir: dir}); err == nil {
		t.Fatal("want an error for a corrupt state file")
	}
}

func TestConcurrentLockUnlock(t *testing.T) {
	s := MustOpen(t, t.TempDir(), nil)
	id := testDataset().Vehicles[0].ID
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, err := s.UpdateVehicle(id, func(v *sandbox.Vehicle) error { v.State.OdometerKm++; return nil })
			if err != nil {
				t.Error(err)
			}
			s.Vehicle(id)
			s.Account(fmt.Sprintf("user%d", i%5))
		}(i)
	}
	wg.Wait()
	v, _ := s.Vehicle(id)
	if v.State.OdometerKm != 150 {
		t.Fatalf("odometer = %v, want 150 (no lost update)", v.State.OdometerKm)
	}
	s2 := MustOpen(t, s.dataDir, nil)
	if v2, _ := s2.Vehicle(id); v2.State.OdometerKm != 150 {
		t.Fatalf("persisted odometer = %v, want 150", v2.State.OdometerKm)
	}
}

// A used refresh token is forgotten once its grace is over (so long runs stay bounded); a
// replay then fails with ErrNotFound, while tokens in their grace and unused ones stay.
func TestUsedRefreshTokensForgottenAfterGrace(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := MustOpen(t, "", func() time.Time { return now })
	exp := now.Add(60 * 24 * time.Hour)
	for _, tok := range []string{"old", "recent", "unused"} {
		chainToken(t, s, tok, exp)
	}
	if _, err := rotate(s, "old"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(30 * time.Second)
	if _, err := rotate(s, "recent"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(31 * time.Second) // "old" used 61 s ago, "recent" 31 s ago
	chainToken(t, s, "next", exp)   // saving sweeps
	s.mu.RLock()
	got := s.refresh.len()
	s.mu.RUnlock()
	if want := 5; got != want { // recent, unused, next and the two successors
		t.Errorf("refresh tokens kept = %d, want %d", got, want)
	}
	for _, c := range []struct {
		token string
		want  error
	}{{"old", ErrNotFound}, {"recent", nil}, {"unused", nil}, {"next", nil}} {
		if _, err := rotate(s, c.token); !errors.Is(err, c.want) {
			t.Errorf("RotateRefreshToken(%q) err = %v, want %v", c.token, err, c.want)
		}
	}
}

// Used tokens restored from disk are forgotten by the sweep after their grace all the same.
func TestRestoredUsedRefreshTokenForgottenBySweep(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	dir := t.TempDir()
	s := MustOpen(t, dir, clock)
	exp := now.Add(60 * 24 * time.Hour)
	chainToken(t, s, "r1", exp)
	if _, err := rotate(s, "r1"); err != nil {
		t.Fatal(err)
	}
	s2 := MustOpen(t, dir, clock)
	now = now.Add(2 * time.Minute)
	if _, err := rotate(s2, "r1"); !errors.Is(err, ErrRefreshUsed) {
		t.Fatalf("before the sweep: err = %v, want ErrRefreshUsed", err)
	}
	chainToken(t, s2, "r2", exp)
	if _, err := rotate(s2, "r1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after the sweep: err = %v, want ErrNotFound", err)
	}
}

// TestSignInAddsOneVehiclePerBrand: a made-up account is the union of what each sign-in under
// a brand was given; each sign-in shares only its own brand's vehicles; a fixture account
// shares exactly its vehicles whatever the brand.
func TestSignInAddsOneVehiclePerBrand(t *testing.T) {
	garage := func(u, mk string) (sandbox.Account, []sandbox.Vehicle) {
		v := sandbox.Vehicle{ID: sandbox.NameUUID("vehicle", u+"#"+mk), Make: mk, Model: "M", Year: 2023, Powertrain: sandbox.BEV}
		return sandbox.Account{Username: u, UserID: sandbox.NameUUID("user", u), VehicleIDs: []string{v.ID}, Generated: true}, []sandbox.Vehicle{v}
	}
	s, err := New(testDataset(), Options{DataDir: t.TempDir(), Garage: garage})
	if err != nil {
		t.Fatal(err)
	}
	makes := func(vs []sandbox.Vehicle) []string {
		var out []string
		for _, v := range vs {
			out = append(out, v.Make)
		}
		return out
	}
	steps := []struct {
		mk          string
		wantShared  []string
		wantAccount int
	}{
		{"CHEVROLET", []string{"CHEVROLET"}, 1},
		{"FORD", []string{"FORD"}, 2},
		{"CHEVROLET", []string{"CHEVROLET"}, 2}, // the same vehicle again, nothing added
	}
	var userID string
	for _, st := range steps {
		acct, shared, err := s.SignIn("New@Example.com", st.mk)
		if err != nil {
			t.Fatal(err)
		}
		if got := makes(shared); !slices.Equal(got, st.wantShared) {
			t.Errorf("SignIn under %s shares %v, want %v", st.mk, got, st.wantShared)
		}
		if len(acct.VehicleIDs) != st.wantAccount {
			t.Errorf("after SignIn under %s the account has %d vehicles, want %d", st.mk, len(acct.VehicleIDs), st.wantAccount)
		}
		if userID != "" && acct.UserID != userID {
			t.Errorf("user id changed between sign-ins: %s, then %s", userID, acct.UserID)
		}
		userID = acct.UserID
	}
	// The account as a whole (both brands) is what Account and AccountByUserID see.
	if a, ok := s.AccountByUserID(userID); !ok || len(a.VehicleIDs) != 2 {
		t.Errorf("AccountByUserID = %+v, %v; want the account with both vehicles", a, ok)
	}

	fixture := testDataset().Accounts[0]
	acct, shared, err := s.SignIn(fixture.Username, "NISSAN")
	if err != nil {
		t.Fatal(err)
	}
	if acct.Generated || len(shared) != len(fixture.VehicleIDs) {
		t.Errorf("fixture account under NISSAN: generated=%v, shares %d vehicles; want all %d of its own", acct.Generated, len(shared), len(fixture.VehicleIDs))
	}
}

// A state.json from the sandbox before the database is imported once, whole, and renamed.
func TestStateFileImportedOnce(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	v := testDataset().Vehicles[0]
	v.State.Security.SetLocked(true)
	snap := snapshot{Version: snapshotVersion,
		Vehicles:    []sandbox.Vehicle{v},
		Grants:      []sandbox.Grant{{ClientID: "app", UserID: "u1", VehicleID: v.ID, Generation: 3}},
		RefreshTkns: []sandbox.RefreshToken{{Token: "rt", ClientID: "app", UserID: "u1", VehicleIDs: []string{v.ID}, ExpiresAt: now.Add(time.Hour), Authorization: 3}},
		Revoked:     map[string]time.Time{"jti": now.Add(time.Hour)},
		Issued:      []IssuedToken{{ID: "jti", ClientID: "app", ExpiresAt: now.Add(time.Hour)}},
		AuthSeq:     3,
	}
	b, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, stateFile), b, 0o600); err != nil {
		t.Fatal(err)
	}
	for i := range 2 { // the second start must not import again (nor fail for want of the file)
		s := MustOpen(t, dir, func() time.Time { return now })
		if got, _ := s.Vehicle(v.ID); !got.State.Security.IsLocked() {
			t.Errorf("start %d: the vehicle's state was not imported", i)
		}
		if _, ok := s.TokenGrant("app", "u1", v.ID, 3); !ok {
			t.Errorf("start %d: the grant was not imported", i)
		}
		if r, _ := s.AccessTokenEnded("jti", 0); !r || len(s.IssuedTokens()) != 1 {
			t.Errorf("start %d: revocation or issued tokens not imported", i)
		}
		if n, _ := s.Authorize(); n <= 3 {
			t.Errorf("start %d: Authorize = %d, want above the imported 3", i, n)
		}
		if i == 0 {
			if _, err := rotate(s, "rt"); err != nil {
				t.Fatalf("the imported refresh token: %v", err)
			}
		}
		s.Close()
		if _, err := os.Stat(filepath.Join(dir, stateFile)); !os.IsNotExist(err) {
			t.Errorf("start %d: state.json is still there (%v)", i, err)
		}
		if _, err := os.Stat(filepath.Join(dir, stateFile+".imported")); err != nil {
			t.Errorf("start %d: state.json.imported: %v", i, err)
		}
	}
}
