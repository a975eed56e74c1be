package token

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func mustIssuer(t testing.TB, now *time.Time) *Issuer {
	t.Helper()
	i, err := NewIssuer([]byte(strings.Repeat("k", 32)), func() time.Time { return *now })
	if err != nil {
		t.Fatal(err)
	}
	return i
}

func TestIssueVerifyRoundTrip(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	i := mustIssuer(t, &now)
	raw, _, err := i.IssueVehicle(VehicleGrant{ClientID: "app", UserID: "u1", VehicleIDs: []string{"v1"}, Permissions: []string{"read_vin", "read_odometer"}, Authorization: 42})
	if err != nil {
		t.Fatal(err)
	}
	c, err := i.Verify(raw)
	if err != nil {
		t.Fatal(err)
	}
	if c.UserID() != "u1" || c.ClientID != "app" || !c.HasVehicle("v1") || c.HasVehicle("v2") || !c.HasPermission("read_odometer") || c.HasPermission("read_location") || c.Authorization != 42 {
		t.Fatalf("claims = %+v", c)
	}
	if got := c.ExpiresAt.Sub(now); got != AccessTTL {
		t.Fatalf("lifetime = %v, want %v", got, AccessTTL)
	}
	now = now.Add(AccessTTL + time.Second)
	if _, err := i.Verify(raw); !errors.Is(err, ErrExpired) {
		t.Fatalf("after expiry err = %v, want ErrExpired", err)
	}
}

func TestVerifyRejectsForgeries(t *testing.T) {
	now := time.Now()
	i := mustIssuer(t, &now)
	other := mustIssuer(t, &now)
	other.key = []byte(strings.Repeat("x", 32))
	foreign, _, _ := other.IssueVehicle(VehicleGrant{ClientID: "app", UserID: "u"})
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, &Claims{Kind: KindVehicle, ClientID: "app",
		RegisteredClaims: jwt.RegisteredClaims{Issuer: issuer, ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	for name, raw := range map[string]string{"other key": foreign, "alg none": none, "garbage": "abc", "empty": ""} {
		if _, err := i.Verify(raw); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
}

func TestLoadOrCreateKeyIsStable(t *testing.T) {
	dir := t.TempDir()
	a, err := LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadOrCreateKey(dir)
	if err != nil || string(a) != string(b) {
		t.Fatalf("key changed across loads: %v", err)
	}
}

func BenchmarkVerify(b *testing.B) {
	now := time.Now()
	i := mustIssuer(b, &now)
	raw, _, _ := i.IssueVehicle(VehicleGrant{ClientID: "app", UserID: "u1", VehicleIDs: []string{"v1", "v2"}, Permissions: []string{"read_odometer"}})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := i.Verify(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzVerify(f *testing.F) {
	now := time.Now()
	i := mustIssuer(f, &now)
	raw, _, _ := i.IssueVehicle(VehicleGrant{ClientID: "app", UserID: "u1"})
	f.Add(raw)
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := i.Verify(s)
		if err == nil && c.ClientID == "" {
			t.Fatal("accepted a token without a client id")
		}
	})
}
