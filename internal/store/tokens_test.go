package store

import (
	"errors"
	"testing"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
)

func TestIssuedTokensExpireAndSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := MustOpen(t, dir, func() time.Time { return now })
	for _, id := range []string{"a", "b"} {
		if err := s.RecordIssuedToken(IssuedToken{ID: id, Kind: "vehicle", ClientID: "app", ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.IssuedTokens(); len(got) != 2 || got[0].ID != "b" {
		t.Fatalf("IssuedTokens = %+v, want b then a", got)
	}
	if err := s.ExpireAccessToken("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("ExpireAccessToken(unknown) = %v, want ErrNotFound", err)
	}
	if err := s.ExpireAccessToken("a"); err != nil {
		t.Fatal(err)
	}
	expired := func(s *Store, jti string) bool { _, e := s.AccessTokenEnded(jti, 0); return e }
	if !expired(s, "a") || expired(s, "b") {
		t.Errorf("expired: a=%v b=%v, want true false", expired(s, "a"), expired(s, "b"))
	}
	s2 := MustOpen(t, dir, func() time.Time { return now })
	if !expired(s2, "a") || len(s2.IssuedTokens()) != 2 {
		t.Errorf("after restart: expired(a)=%v tokens=%d, want true 2", expired(s2, "a"), len(s2.IssuedTokens()))
	}
}

func TestIssuedTokensAreBounded(t *testing.T) {
	s := MustOpen(t, "", nil)
	for i := 0; i < MaxIssuedTokens+5; i++ {
		if err := s.RecordIssuedToken(IssuedToken{ID: sandbox.NewUUID()}); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(s.IssuedTokens()); got != MaxIssuedTokens {
		t.Errorf("len = %d, want %d", got, MaxIssuedTokens)
	}
}

func TestExpireCodeAndRefreshToken(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := MustOpen(t, "", func() time.Time { return now })
	if err := s.SaveCode(sandbox.AuthCode{Code: "c1", ExpiresAt: now.Add(10 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveRefreshToken(sandbox.RefreshToken{Token: "r1", ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	c, err := s.ExpireCode("c1")
	if err != nil || c.ExpiresAt.After(now) {
		t.Errorf("ExpireCode = %+v, %v; want expiry before now", c, err)
	}
	if _, err := s.ExpireCode("zz"); !errors.Is(err, ErrNotFound) {
		t.Errorf("ExpireCode(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := s.ExpireRefreshToken("r1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RotateRefreshToken("r1", "", nil); !errors.Is(err, ErrExpired) {
		t.Errorf("RotateRefreshToken after expire = %v, want ErrExpired", err)
	}
	if got := len(s.Codes()) + len(s.RefreshTokens()); got != 2 {
		t.Errorf("listed %d codes+refresh tokens, want 2", got)
	}
}

func TestReloadKeepsGrantsOfVehiclesStillPresent(t *testing.T) {
	s := MustOpen(t, "", nil)
	ds := testDataset()
	kept := ds.Vehicles[0].ID
	gen, err := s.Account("zed") // generated garage: survives a reload
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Connect(
		sandbox.Grant{ClientID: "app", UserID: "u1", VehicleID: kept},
		sandbox.Grant{ClientID: "app", UserID: gen.UserID, VehicleID: gen.VehicleIDs[0]},
	); err != nil {
		t.Fatal(err)
	}
	// A second fixture vehicle that the next dataset drops.
	gone := sandbox.Vehicle{ID: "22222222-2222-4222-8222-222222222222", Make: "BMW", Model: "i3", Year: 2020, Powertrain: sandbox.BEV}
	if err := s.PutAccount(sandbox.Account{Username: "bob", UserID: "u2", VehicleIDs: []string{gone.ID}}, []sandbox.Vehicle{gone}); err != nil {
		t.Fatal(err)
	}
	if err := s.Connect(sandbox.Grant{ClientID: "app", UserID: "u2", VehicleID: gone.ID}); err != nil {
		t.Fatal(err)
	}
	ds.Vehicles[0].State.OdometerKm = 999
	res, err := s.Reload(ds)
	if err != nil {
		t.Fatal(err)
	}
	if res.GrantsKept != 2 || res.GrantsDropped != 1 {
		t.Errorf("Reload = %+v, want 2 kept 1 dropped", res)
	}
	if _, ok := s.Grant("app", "u1", kept); !ok {
		t.Error("grant of a vehicle still present was dropped")
	}
	if v, _ := s.Vehicle(kept); v.State.OdometerKm != 999 {
		t.Errorf("odometer = %v, want the reloaded 999", v.State.OdometerKm)
	}
	if _, ok := s.AccountByUserID(gen.UserID); !ok {
		t.Error("generated account was dropped")
	}
	if _, ok := s.Vehicle(gone.ID); ok {
		t.Error("vehicle no longer in the fixtures is still there")
	}
}
