package store

import (
	"bytes"
	"errors"
	"io/fs"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
)

// A grant reached by a token must be the one its authorization was issued under: a disconnect
// and a new Connect make a grant that older tokens never reach, while a Connect repeated
// without a disconnect keeps the grant (and the tokens working).
func TestGrantGenerations(t *testing.T) {
	s := MustOpen(t, "", nil)
	vid := testDataset().Vehicles[0].ID
	connect := func() {
		t.Helper()
		if err := s.Connect(sandbox.Grant{ClientID: "app", UserID: "u1", VehicleID: vid, Permissions: []string{"read_odometer"}}); err != nil {
			t.Fatal(err)
		}
	}
	authorize := func() uint64 {
		t.Helper()
		n, err := s.Authorize()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	reaches := func(n uint64) bool {
		_, ok := s.TokenGrant("app", "u1", vid, n)
		return ok
	}
	before := authorize() // issued before any grant: reaches none
	connect()
	first := authorize()
	if reaches(before) || !reaches(first) {
		t.Fatalf("first grant: before reaches %v, first %v; want false true", reaches(before), reaches(first))
	}
	connect() // approved again while connected: same connection
	if !reaches(first) {
		t.Fatal("a repeated Connect ended the tokens of the connection it repeats")
	}
	if _, err := s.Disconnect(GrantFilter{ClientID: "app", VehicleID: vid}); err != nil {
		t.Fatal(err)
	}
	connect()
	second := authorize()
	if reaches(first) || !reaches(second) {
		t.Fatalf("after disconnect and reconnect: first reaches %v, second %v; want false true", reaches(first), reaches(second))
	}
	ids := []string{vid, "not-granted"}
	if got := s.ConnectedVehicles("app", "u1", ids, second); len(got) != 1 || got[0] != vid {
		t.Errorf("ConnectedVehicles = %v, want [%s]", got, vid)
	}
	if got := s.ConnectedVehicles("app", "u1", ids, first); len(got) != 0 {
		t.Errorf("ConnectedVehicles for the ended authorization = %v, want none", got)
	}
	// Reset keeps the numbers going up: a token from before the reset does not reach a grant
	// made after it.
	if err := s.Reset(nil); err != nil {
		t.Fatal(err)
	}
	connect()
	if reaches(second) {
		t.Error("a token from before a reset reaches a grant made after it")
	}
}

// A disconnect deletes the refresh tokens it leaves without any grant they can reach.
func TestDisconnectDropsDeadRefreshTokens(t *testing.T) {
	s := MustOpen(t, "", nil)
	exp := time.Now().Add(time.Hour)
	chainToken(t, s, "r1", exp)
	if _, err := s.Disconnect(GrantFilter{ClientID: "app", UserID: "u1"}); err != nil {
		t.Fatal(err)
	}
	if got := s.RefreshTokens(); len(got) != 0 {
		t.Errorf("refresh tokens after the disconnect = %+v, want none", got)
	}
}

func saveCode(t *testing.T, s *Store, code string) sandbox.AuthCode {
	t.Helper()
	vid := testDataset().Vehicles[0].ID
	if _, ok := s.Grant("app", "u1", vid); !ok {
		if err := s.Connect(sandbox.Grant{ClientID: "app", UserID: "u1", VehicleID: vid}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SaveCode(sandbox.AuthCode{Code: code, ClientID: "app", UserID: "u1", VehicleIDs: []string{vid}, ExpiresAt: s.now().Add(10 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	for _, c := range s.Codes() {
		if c.Code == code {
			return c
		}
	}
	t.Fatalf("code %s not listed", code)
	return sandbox.AuthCode{}
}

func TestRedeemCode(t *testing.T) {
	s := MustOpen(t, "", nil)
	c := saveCode(t, s, "c1")
	ok := func(sandbox.AuthCode) error { return nil }
	refuse := errors.New("refused by the caller")
	// Refusals leave the code as it was.
	if _, err := s.RedeemCode("c1", "other-app", ok, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another client's code: %v, want ErrNotFound", err)
	}
	if _, err := s.RedeemCode("c1", "app", func(sandbox.AuthCode) error { return refuse }, nil); !errors.Is(err, refuse) {
		t.Fatalf("caller's check: %v, want its error", err)
	}
	if len(s.Codes()) != 1 || len(s.RefreshTokens()) != 0 {
		t.Fatalf("after refusals: codes %v, refresh tokens %v; want the code untouched and no token", s.Codes(), s.RefreshTokens())
	}
	rt, err := s.RedeemCode("c1", "app", ok, nil)
	if err != nil || rt.Authorization != c.Authorization || rt.Authorization == 0 || len(rt.VehicleIDs) != 1 {
		t.Fatalf("RedeemCode = %+v, %v; want a token of authorization %d", rt, err, c.Authorization)
	}
	next, err := rotate(s, rt.Token)
	if err != nil || next.Authorization != c.Authorization {
		t.Fatalf("rotate = %+v, %v", next, err)
	}
	// Another authorization of the same user stays out of the replay's reach.
	saveCode(t, s, "c2")
	other, err := s.RedeemCode("c2", "app", ok, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A replay by another client changes nothing; by its own client it ends the authorization.
	if _, err := s.RedeemCode("c1", "other-app", ok, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another client's replay: %v, want ErrNotFound", err)
	}
	if revoked, _ := s.AccessTokenEnded("jti", c.Authorization); revoked {
		t.Fatal("another client's replay revoked the authorization")
	}
	if _, err := s.RedeemCode("c1", "app", ok, nil); !errors.Is(err, ErrCodeUsed) {
		t.Fatalf("replay: %v, want ErrCodeUsed", err)
	}
	if revoked, _ := s.AccessTokenEnded("jti", c.Authorization); !revoked {
		t.Error("the replay did not revoke the authorization's access tokens")
	}
	for _, tok := range []string{rt.Token, next.Token} {
		if _, err := rotate(s, tok); !errors.Is(err, ErrNotFound) {
			t.Errorf("refresh token %s after the replay: %v, want ErrNotFound", tok, err)
		}
	}
	if _, err := rotate(s, other.Token); err != nil {
		t.Errorf("another authorization's refresh token after the replay: %v", err)
	}
	if revoked, _ := s.AccessTokenEnded("jti", other.Authorization); revoked {
		t.Error("the replay revoked another authorization")
	}
}

// Revocations outlive a reset and a restart, and go once their tokens have expired anyway.
func TestRevocationsLastAsLongAsTheirTokens(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	dir := t.TempDir()
	s := MustOpen(t, dir, clock)
	n, err := s.Authorize()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAuthorization(n); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAccessToken("app-token", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAuthorization(0); err == nil {
		t.Error("RevokeAuthorization(0) must be refused")
	}
	if err := s.Reset(nil); err != nil {
		t.Fatal(err)
	}
	s2 := MustOpen(t, dir, clock)
	for _, st := range []*Store{s, s2} {
		if r, _ := st.AccessTokenEnded("x", n); !r {
			t.Error("authorization revocation lost on reset or restart")
		}
		if r, _ := st.AccessTokenEnded("app-token", 0); !r {
			t.Error("access token revocation lost on reset or restart")
		}
	}
	now = now.Add(3 * time.Hour)
	saveCode(t, s2, "sweep") // saving sweeps
	if r, _ := s2.AccessTokenEnded("x", n); r {
		t.Error("authorization revocation kept after its tokens expired")
	}
}

// stateJSON is the store's whole state as records (what a full commit writes), sorted so two
// equal states compare equal.
func stateJSON(t *testing.T, s *Store) string {
	t.Helper()
	s.mu.RLock()
	recs := s.records()
	s.mu.RUnlock()
	lines := make([]string, len(recs))
	for i, r := range recs {
		lines[i] = r.Kind + " " + r.Key + " " + string(r.Value)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// TestFailedSaveChangesNothing: with a data dir that cannot be written, every change fails
// with ErrNotSaved and leaves the state exactly as it was (for readers and for the next
// start), and the error names no path.
func TestFailedSaveChangesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var failing atomic.Bool
	s, err := New(testDataset(), Options{DataDir: dir, Now: func() time.Time { return now }, Garage: testGarage, SaveFault: func() error {
		if failing.Load() {
			return &pathErr
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	s.SetLogger(slog.New(slog.NewTextHandler(&log, nil)))
	vid := testDataset().Vehicles[0].ID
	saveCode(t, s, "code")
	chainToken(t, s, "rt", now.Add(time.Hour))
	if err := s.RecordIssuedToken(IssuedToken{ID: "jti", Kind: "vehicle", ClientID: "app", ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	ok := func(sandbox.AuthCode) error { return nil }
	changes := []struct {
		name string
		do   func() error
	}{
		{"UpdateVehicle", func() error {
			_, err := s.UpdateVehicle(vid, func(v *sandbox.Vehicle) error { v.State.Security.SetLocked(!v.State.Security.IsLocked()); return nil })
			return err
		}},
		{"RedeemCode", func() error { _, err := s.RedeemCode("code", "app", ok, nil); return err }},
		{"RotateRefreshToken", func() error { _, err := rotate(s, "rt"); return err }},
		{"Connect", func() error { return s.Connect(sandbox.Grant{ClientID: "app2", UserID: "u1", VehicleID: vid}) }},
		{"Disconnect", func() error { _, err := s.Disconnect(GrantFilter{ClientID: "app"}); return err }},
		{"DisconnectByToken", func() error { return s.DisconnectByToken(GrantFilter{ClientID: "app"}, []string{vid}, 1) }},
		{"EndConnections", func() error { return s.EndConnections(GrantFilter{ClientID: "app"}, map[uint64][]string{1: {vid}}) }},
		{"SaveCode", func() error { return s.SaveCode(sandbox.AuthCode{Code: "c2", ClientID: "app"}) }},
		{"ConsumeCode", func() error { _, err := s.ConsumeCode("code"); return err }},
		{"Authorize", func() error { _, err := s.Authorize(); return err }},
		{"RevokeAuthorization", func() error { return s.RevokeAuthorization(1) }},
		{"RevokeAccessToken", func() error { return s.RevokeAccessToken("jti", now.Add(time.Hour)) }},
		{"ExpireAccessToken", func() error { return s.ExpireAccessToken("jti") }},
		{"ExpireCode", func() error { _, err := s.ExpireCode("code"); return err }},
		{"ExpireRefreshToken", func() error { _, err := s.ExpireRefreshToken("rt"); return err }},
		{"RecordIssuedToken", func() error { return s.RecordIssuedToken(IssuedToken{ID: "jti2"}) }},
		{"PutApplication", func() error { return s.PutApplication(sandbox.Application{ClientID: "app3"}) }},
		{"PutAccount", func() error { return s.PutAccount(sandbox.Account{Username: "carol", UserID: "u3"}, nil) }},
		{"Account (generated)", func() error { _, err := s.Account("dave"); return err }},
		{"Reset", func() error { return s.Reset(&sandbox.Dataset{}) }},
		{"Reload", func() error { _, err := s.Reload(sandbox.Dataset{}); return err }},
	}
	for _, c := range changes {
		t.Run(c.name, func(t *testing.T) {
			before := stateJSON(t, s)
			failing.Store(true)
			err := c.do()
			failing.Store(false)
			if !errors.Is(err, ErrNotSaved) {
				t.Fatalf("err = %v, want ErrNotSaved", err)
			}
			if strings.Contains(err.Error(), dir) || strings.Contains(err.Error(), pathErr.Path) {
				t.Errorf("error names a path: %v", err)
			}
			if after := stateJSON(t, s); after != before {
				t.Errorf("the state changed although the save failed:\nbefore %s\nafter  %s", before, after)
			}
			restarted := MustOpen(t, dir, func() time.Time { return now })
			if got := stateJSON(t, restarted); got != before {
				t.Errorf("a restart sees another state:\nwant %s\ngot  %s", before, got)
			}
		})
	}
	// The log has what the errors leave out.
	if !strings.Contains(log.String(), pathErr.Path) || !strings.Contains(log.String(), dir) {
		t.Errorf("the log lacks the failed file and the data dir:\n%s", log.String())
	}
	// And with the disk back, the same changes go through.
	if _, err := s.RedeemCode("code", "app", ok, nil); err != nil {
		t.Errorf("the code after its failed exchange: %v", err)
	}
	if _, err := rotate(s, "rt"); err != nil {
		t.Errorf("the refresh token after its failed use: %v", err)
	}
}

// pathErr is what a full disk says, with a path the error shown to clients must not carry.
var pathErr = fs.PathError{Op: "write", Path: "/srv/secret/state.json.tmp-1", Err: syscall.ENOSPC}
