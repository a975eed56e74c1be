package store

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/token"
)

// The conformance suite: the behaviours every backend must show, run against each (dex's
// storage/conformance is the model). A backend under test is a way to open a store on a
// fresh backend and, for durable ones, to open it again on what the first left (a restart).

// backendUnderTest opens stores on one kind of backend.
type backendUnderTest struct {
	name string
	// open returns a store on a fresh backend, its clock at *now, and a reopen that opens
	// another store on the same backend's data (nil for a backend that keeps nothing), and
	// a switch that makes its commits fail the way a full disk does (nil when it cannot).
	open func(t *testing.T, now *time.Time) (s *Store, reopen func() *Store, fail *atomic.Bool)
}

func backendsUnderTest() []backendUnderTest {
	return []backendUnderTest{
		{name: "memory", open: func(t *testing.T, now *time.Time) (*Store, func() *Store, *atomic.Bool) {
			return openOn(t, nil, "", now), nil, nil
		}},
		{name: "sqlite", open: func(t *testing.T, now *time.Time) (*Store, func() *Store, *atomic.Bool) {
			dir := t.TempDir()
			var fail atomic.Bool
			open := func() *Store {
				b, err := OpenSQLite(dir)
				if err != nil {
					t.Fatal(err)
				}
				return openOn(t, &failingBackend{Backend: b, fail: &fail}, dir, now)
			}
			return open(), open, &fail
		}},
		{name: "postgres", open: func(t *testing.T, now *time.Time) (*Store, func() *Store, *atomic.Bool) {
			url := needPostgres(t)
			var fail atomic.Bool
			open := func() *Store {
				b, err := OpenPostgres(url)
				if err != nil {
					t.Fatal(err)
				}
				return openOn(t, &failingBackend{Backend: b, fail: &fail}, "", now)
			}
			return open(), open, &fail
		}},
	}
}

func openOn(t *testing.T, b Backend, dir string, now *time.Time) *Store {
	t.Helper()
	s, err := New(testDataset(), Options{Backend: b, Garage: testGarage, Now: func() time.Time { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	s.dataDir = dir
	t.Cleanup(func() { s.Close() })
	return s
}

// failingBackend fails every Commit while fail is set, as a full disk would, without writing.
type failingBackend struct {
	Backend
	fail *atomic.Bool
}

func (f *failingBackend) Commit(full bool, changes []Record) error {
	if f.fail.Load() {
		return &pathErr
	}
	return f.Backend.Commit(full, changes)
}

func TestConformance(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, b backendUnderTest)
	}{
		{"CodeExchangedOnceUnderRace", testCodeExchangedOnce},
		{"RefreshRotatesOnceUnderRace", testRefreshRotatesOnce},
		{"RevocationsSurviveResetAndRestart", testRevocationsSurvive},
		{"EveryChangeSurvivesRestart", testEveryChangeSurvivesRestart},
		{"BigStateSurvivesRestart", testBigStateSurvivesRestart},
		{"FailedCommitChangesNothing", testFailedCommitChangesNothing},
		{"DisconnectEndsTokens", testDisconnectEndsTokens},
		{"KeyIsMadeOnce", testKeyIsMadeOnce},
		{"ConcurrentUpdatesLoseNothing", testConcurrentUpdates},
		{"PanicCostsOnlyItsWriter", testPanicCostsOnlyItsWriter},
		{"WebhookSubscriptionsAreKept", testWebhookSubscriptions},
		{"ControlRecordsSurviveRestart", testControlRecordsSurvive},
		{"ControlFailedCommitChangesNothing", testControlFailedCommit},
	}
	for _, b := range backendsUnderTest() {
		t.Run(b.name, func(t *testing.T) {
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) { tc.run(t, b) })
			}
		})
	}
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func connectAndSaveCode(t *testing.T, s *Store, code string) {
	t.Helper()
	vid := testDataset().Vehicles[0].ID
	if err := s.Connect(sandbox.Grant{ClientID: "app", UserID: "u1", VehicleID: vid, Permissions: []string{"read_odometer"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveCode(sandbox.AuthCode{Code: code, ClientID: "app", UserID: "u1", VehicleIDs: []string{vid}, ExpiresAt: t0.Add(10 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
}

// Sixteen racing exchanges of one code: exactly one gets a refresh token, the others are
// replays, which revoke what the code gave (RFC 6749 §4.1.2).
func testCodeExchangedOnce(t *testing.T, b backendUnderTest) {
	now := t0
	s, _, _ := b.open(t, &now)
	connectAndSaveCode(t, s, "code")
	var wg sync.WaitGroup
	var won, replayed atomic.Int32
	for range 16 {
		wg.Go(func() {
			_, err := s.RedeemCode("code", "app", func(sandbox.AuthCode) error { return nil }, nil)
			switch {
			case err == nil:
				won.Add(1)
			case errors.Is(err, ErrCodeUsed):
				replayed.Add(1)
			default:
				t.Errorf("RedeemCode: %v", err)
			}
		})
	}
	wg.Wait()
	if won.Load() != 1 || replayed.Load() != 15 {
		t.Fatalf("won %d, replayed %d; want 1 and 15", won.Load(), replayed.Load())
	}
	if n := len(s.RefreshTokens()); n != 0 {
		t.Errorf("%d refresh tokens left after the replays, want 0 (the replay revokes)", n)
	}
}

// Sixteen racing uses of one refresh token all get the one successor: the chain never forks.
func testRefreshRotatesOnce(t *testing.T, b backendUnderTest) {
	now := t0
	s, reopen, _ := b.open(t, &now)
	connectAndSaveCode(t, s, "code")
	first, err := s.RedeemCode("code", "app", func(sandbox.AuthCode) error { return nil }, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	got := make([]string, 16)
	for i := range got {
		wg.Go(func() {
			next, err := s.RotateRefreshToken(first.Token, "app", nil)
			if err != nil {
				t.Errorf("RotateRefreshToken: %v", err)
			}
			got[i] = next.Token
		})
	}
	wg.Wait()
	for _, g := range got {
		if g != got[0] || g == "" {
			t.Fatalf("successors differ: %v", got)
		}
	}
	if reopen == nil {
		return
	}
	// After a restart, within grace: still the same successor; after grace: refused.
	s2 := reopen()
	if next, err := s2.RotateRefreshToken(first.Token, "app", nil); err != nil || next.Token != got[0] {
		t.Errorf("after restart: %q, %v; want the same successor %q", next.Token, err, got[0])
	}
	now = now.Add(2 * time.Minute)
	if _, err := s2.RotateRefreshToken(first.Token, "app", nil); !errors.Is(err, ErrRefreshUsed) && !errors.Is(err, ErrNotFound) {
		t.Errorf("after grace: %v, want ErrRefreshUsed or ErrNotFound", err)
	}
}

// Revocations (by id and by authorization) and the authorization counter outlive Reset and a
// restart: tokens signed before must not work again.
func testRevocationsSurvive(t *testing.T, b backendUnderTest) {
	now := t0
	s, reopen, _ := b.open(t, &now)
	n, err := s.Authorize()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAuthorization(n); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAccessToken("jti", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Reset(nil); err != nil {
		t.Fatal(err)
	}
	stores := []*Store{s}
	if reopen != nil {
		stores = append(stores, reopen())
	}
	for i, st := range stores {
		if r, _ := st.AccessTokenEnded("other", n); !r {
			t.Errorf("store %d: the authorization's revocation was lost", i)
		}
		if r, _ := st.AccessTokenEnded("jti", 0); !r {
			t.Errorf("store %d: the access token's revocation was lost", i)
		}
		if m, _ := st.Authorize(); m <= n {
			t.Errorf("store %d: Authorize after reset = %d, want above %d", i, m, n)
		}
	}
}

// Each kind of change a restart must keep.
func testEveryChangeSurvivesRestart(t *testing.T, b backendUnderTest) {
	now := t0
	s, reopen, _ := b.open(t, &now)
	if reopen == nil {
		t.Skip("a backend that keeps nothing across restarts")
	}
	vid := testDataset().Vehicles[0].ID
	if _, err := s.UpdateVehicle(vid, func(v *sandbox.Vehicle) error { v.State.Security.SetLocked(true); return nil }); err != nil {
		t.Fatal(err)
	}
	gen, err := s.Account("bob")
	if err != nil {
		t.Fatal(err)
	}
	connectAndSaveCode(t, s, "code")
	if err := s.SaveCode(sandbox.AuthCode{Code: "unused", ClientID: "app", ExpiresAt: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	rt, err := s.RedeemCode("code", "app", func(sandbox.AuthCode) error { return nil }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutApplication(sandbox.Application{ClientID: "app2", RedirectURIs: []string{"x://y"}}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"t1", "t2"} {
		if err := s.RecordIssuedToken(IssuedToken{ID: id, Kind: "vehicle", ClientID: "app", ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.ExpireAccessToken("t1"); err != nil {
		t.Fatal(err)
	}
	want := stateJSON(t, s)
	s2 := reopen()
	if got := stateJSON(t, s2); got != want {
		t.Errorf("after restart the state differs:\nwant %s\ngot  %s", want, got)
	}
	// And it works, not only reads the same.
	if v, _ := s2.Vehicle(vid); !v.State.Security.IsLocked() {
		t.Error("the lock was lost")
	}
	if _, ok := s2.AccountByUserID(gen.UserID); !ok {
		t.Error("the generated account was lost")
	}
	if _, err := s2.RotateRefreshToken(rt.Token, "app", nil); err != nil {
		t.Errorf("the refresh token after restart: %v", err)
	}
	if _, err := s2.RedeemCode("code", "app", func(sandbox.AuthCode) error { return nil }, nil); !errors.Is(err, ErrCodeUsed) {
		t.Errorf("the used code after restart: %v, want ErrCodeUsed", err)
	}
	if got := s2.IssuedTokens(); len(got) != 2 || got[0].ID != "t2" {
		t.Errorf("issued tokens after restart: %+v, want t2 then t1", got)
	}
}

// A state of many records, some big, reads back the same: records of the bulk kinds in
// many batches for the decoders (see load), values over several of the buffers SQLite's Load
// shares, and one value bigger than such a buffer.
func testBigStateSurvivesRestart(t *testing.T, b backendUnderTest) {
	now := t0
	s, reopen, _ := b.open(t, &now)
	if reopen == nil {
		t.Skip("a backend that keeps nothing across restarts")
	}
	users := 4*loadBatch + 3
	for i := range users {
		if _, err := s.Account(fmt.Sprintf("user-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	// 1.5 MB of redirect URIs in one record, after ~1 MB of others.
	uris := make([]string, 30000)
	for i := range uris {
		uris[i] = fmt.Sprintf("scapp://exchange/%040d", i)
	}
	if err := s.PutApplication(sandbox.Application{ClientID: "big", RedirectURIs: uris}); err != nil {
		t.Fatal(err)
	}
	want := stateJSON(t, s)
	s2 := reopen()
	if got := stateJSON(t, s2); got != want {
		t.Errorf("after restart the state differs (%d bytes, want %d)", len(got), len(want))
	}
	if n := len(s2.Accounts()); n != users+1 {
		t.Errorf("%d accounts after restart, want %d", n, users+1)
	}
	if a, _ := s2.Application("big"); !slices.Equal(a.RedirectURIs, uris) {
		t.Errorf("the big application's %d redirect URIs came back as %d", len(uris), len(a.RedirectURIs))
	}
}

// A commit that fails changes nothing, for readers and after a restart, and the same change
// goes through once commits work again.
func testFailedCommitChangesNothing(t *testing.T, b backendUnderTest) {
	now := t0
	s, reopen, fail := b.open(t, &now)
	if fail == nil {
		t.Skip("a backend whose commits cannot fail")
	}
	connectAndSaveCode(t, s, "code")
	vid := testDataset().Vehicles[0].ID
	var chain sandbox.RefreshToken
	var claims *token.Claims
	changes := []func() error{
		func() error {
			_, err := s.UpdateVehicle(vid, func(v *sandbox.Vehicle) error { v.State.OdometerKm++; return nil })
			return err
		},
		// A token request: the code's use, the refresh token and the access token's record
		// are one commit, so none of them stays when it fails.
		func() error {
			rt, err := s.RedeemCode("code", "app", func(sandbox.AuthCode) error { return nil }, testMint(t, &now, &claims))
			if err == nil {
				chain = rt
			}
			return err
		},
		func() error {
			rt, err := s.RotateRefreshToken(chain.Token, "app", testMint(t, &now, &claims))
			if err == nil {
				chain = rt
			}
			return err
		},
		func() error { _, err := s.Disconnect(GrantFilter{ClientID: "app"}); return err },
		func() error { _, err := s.Key("k", func() ([]byte, error) { return []byte("x"), nil }); return err },
		func() error { return s.RecordIssuedToken(IssuedToken{ID: "t"}) },
		func() error { return s.Reset(nil) },
	}
	for i, change := range changes {
		before := stateJSON(t, s)
		fail.Store(true)
		err := change()
		fail.Store(false)
		if !errors.Is(err, ErrNotSaved) {
			t.Fatalf("change %d: err = %v, want ErrNotSaved", i, err)
		}
		if strings.Contains(err.Error(), pathErr.Path) {
			t.Errorf("change %d: the error names a path: %v", i, err)
		}
		if after := stateJSON(t, s); after != before {
			t.Errorf("change %d: the state changed although the commit failed", i)
		}
		if got := stateJSON(t, reopen()); got != before {
			t.Errorf("change %d: a restart sees another state:\nwant %s\ngot  %s", i, before, got)
		}
		if err := change(); err != nil {
			t.Errorf("change %d once commits work: %v", i, err)
		}
	}
	if claims == nil || !claims.Recorded {
		t.Fatal("the token requests minted no recorded access token")
	}
	if _, ok := s.IssuedToken(claims.ID); !ok {
		t.Error("the access token of the last token request is not recorded")
	}
}

// testMint is a Mint as the token endpoint's (see oauth.Handler.mint): the claims of an access
// token for the refresh token, made by a real issuer at *now, kept in *got.
func testMint(t *testing.T, now *time.Time, got **token.Claims) Mint {
	iss, err := token.NewIssuer(make([]byte, 32), func() time.Time { return *now })
	if err != nil {
		t.Fatal(err)
	}
	return func(rt sandbox.RefreshToken) *token.Claims {
		*got = iss.VehicleClaims(token.VehicleGrant{ClientID: rt.ClientID, UserID: rt.UserID, VehicleIDs: rt.VehicleIDs,
			Permissions: rt.Permissions, Mode: rt.Mode, Authorization: rt.Authorization})
		return *got
	}
}

// A disconnect ends the grant for the tokens issued under it, and their refresh tokens go.
func testDisconnectEndsTokens(t *testing.T, b backendUnderTest) {
	now := t0
	s, reopen, _ := b.open(t, &now)
	connectAndSaveCode(t, s, "code")
	rt, err := s.RedeemCode("code", "app", func(sandbox.AuthCode) error { return nil }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Disconnect(GrantFilter{ClientID: "app", UserID: "u1"}); err != nil {
		t.Fatal(err)
	}
	stores := []*Store{s}
	if reopen != nil {
		stores = append(stores, reopen())
	}
	for i, st := range stores {
		if _, err := st.RotateRefreshToken(rt.Token, "app", nil); !errors.Is(err, ErrNotFound) {
			t.Errorf("store %d: the refresh token after disconnect: %v, want ErrNotFound", i, err)
		}
		if _, ok := st.TokenGrant("app", "u1", testDataset().Vehicles[0].ID, rt.Authorization); ok {
			t.Errorf("store %d: the grant is still reachable", i)
		}
	}
}

// Racing callers of Key all get the one secret, and it is kept (across Reset and restarts).
func testKeyIsMadeOnce(t *testing.T, b backendUnderTest) {
	now := t0
	s, reopen, _ := b.open(t, &now)
	var made atomic.Int32
	got := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() {
			k, err := s.Key("signing", func() ([]byte, error) {
				return fmt.Appendf(nil, "secret-%d", made.Add(1)), nil
			})
			if err != nil {
				t.Error(err)
			}
			got[i] = k
		})
	}
	wg.Wait()
	for _, k := range got {
		if !bytes.Equal(k, got[0]) {
			t.Fatalf("callers got different keys: %q", got)
		}
	}
	if err := s.Reset(nil); err != nil {
		t.Fatal(err)
	}
	stores := []*Store{s}
	if reopen != nil {
		stores = append(stores, reopen())
	}
	for i, st := range stores {
		k, err := st.Key("signing", func() ([]byte, error) { return []byte("another"), nil })
		if err != nil || !bytes.Equal(k, got[0]) {
			t.Errorf("store %d: Key = %q, %v; want %q kept", i, k, err, got[0])
		}
	}
}

// Racing updates of one vehicle lose none, in memory and on disk.
func testConcurrentUpdates(t *testing.T, b backendUnderTest) {
	now := t0
	s, reopen, _ := b.open(t, &now)
	vid := testDataset().Vehicles[0].ID
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			if _, err := s.UpdateVehicle(vid, func(v *sandbox.Vehicle) error { v.State.OdometerKm++; return nil }); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	stores := []*Store{s}
	if reopen != nil {
		stores = append(stores, reopen())
	}
	for i, st := range stores {
		if v, _ := st.Vehicle(vid); v.State.OdometerKm != 140 {
			t.Errorf("store %d: odometer %v, want 140", i, v.State.OdometerKm)
		}
	}
}

// A transaction that panics (a bug in a handler's change) panics in its own writer only: the
// other writers of its group are answered and their changes kept, the store stays usable
// (nothing left locked or waiting), and with a durable backend what the panicking
// transaction had already changed is undone.
func testPanicCostsOnlyItsWriter(t *testing.T, b backendUnderTest) {
	now := t0
	s, reopen, _ := b.open(t, &now)
	vid := testDataset().Vehicles[0].ID
	type boom struct{ n int }
	var wg sync.WaitGroup
	var panicked atomic.Int64
	for i := range 40 {
		wg.Go(func() {
			defer func() {
				switch v := recover(); {
				case v == boom{i}:
					panicked.Add(1)
				case v != nil:
					t.Errorf("writer %d panicked with %v", i, v)
				}
			}()
			_, err := s.UpdateVehicle(vid, func(v *sandbox.Vehicle) error {
				v.State.OdometerKm++
				if i%4 == 0 {
					panic(boom{i})
				}
				return nil
			})
			if err != nil {
				t.Errorf("writer %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if panicked.Load() != 10 {
		t.Errorf("%d writers got their transaction's panic back, want 10", panicked.Load())
	}
	want := 130.0
	if reopen != nil {
		// A transaction that changed the state itself before panicking is undone.
		func() {
			defer func() {
				if v := recover(); v != (boom{-1}) {
					t.Errorf("the transaction's writer recovered %v, want its panic", v)
				}
			}()
			s.tx(func(tx *tx) error {
				tx.touch(kindVehicle, vid)
				v := s.vehicles[vid].Clone()
				v.State.OdometerKm += 1000
				s.vehicles[vid] = &v
				panic(boom{-1})
			})
		}()
	}
	if _, err := s.UpdateVehicle(vid, func(v *sandbox.Vehicle) error { v.State.OdometerKm++; return nil }); err != nil {
		t.Fatalf("a change after the panics: %v", err)
	}
	want++
	stores := []*Store{s}
	if reopen != nil {
		stores = append(stores, reopen())
	}
	for i, st := range stores {
		if v, _ := st.Vehicle(vid); v.State.OdometerKm != want {
			t.Errorf("store %d: odometer %v, want %v", i, v.State.OdometerKm, want)
		}
	}
}

// Webhook subscriptions and verifications are kept (across Reset and restarts) until deleted.
func testWebhookSubscriptions(t *testing.T, b backendUnderTest) {
	now := t0
	s, reopen, _ := b.open(t, &now)
	subs := []WebhookSubscription{
		{WebhookID: "w1", VehicleID: "v1", ClientID: "app", UserID: "u1"},
		{WebhookID: "w1", VehicleID: "v2", ClientID: "app", UserID: "u1"},
	}
	for _, sub := range subs {
		if err := s.PutWebhookSubscription(sub); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetWebhookVerified("w1"); err != nil {
		t.Fatal(err)
	}
	if had, err := s.DeleteWebhookSubscription("w1", "v2"); err != nil || !had {
		t.Fatalf("DeleteWebhookSubscription = %v, %v; want true", had, err)
	}
	if had, err := s.DeleteWebhookSubscription("w1", "v9"); err != nil || had {
		t.Fatalf("DeleteWebhookSubscription of none = %v, %v; want false", had, err)
	}
	if err := s.Reset(nil); err != nil {
		t.Fatal(err)
	}
	stores := []*Store{s}
	if reopen != nil {
		stores = append(stores, reopen())
	}
	for i, st := range stores {
		if got := st.WebhookSubscriptions(); len(got) != 1 || got[0] != subs[0] {
			t.Errorf("store %d: subscriptions %+v, want just %+v", i, got, subs[0])
		}
		if !st.WebhookVerified("w1") || st.WebhookVerified("w2") {
			t.Errorf("store %d: verified w1=%v w2=%v, want true false", i, st.WebhookVerified("w1"), st.WebhookVerified("w2"))
		}
	}
}
