package store

import (
	"reflect"
	"testing"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
)

// Every token text comes back exactly, whichever map holds it.
func TestRefreshTokenTextsRoundTrip(t *testing.T) {
	rt := newRefreshTokens()
	texts := []string{
		sandbox.NewUUID(),
		"0b7c6a4e-1f2a-4c3b-9d8e-7f6a5b4c3d2e",
		"0B7C6A4E-1F2A-4C3B-9D8E-7F6A5B4C3D2E", // upper case: kept as text, a different token
		"00000000-0000-0000-0000-000000000000",
		"",
		"r1",
		"0b7c6a4e-1f2a-4c3b-9d8e-7f6a5b4c3d2x",
		"0b7c6a4e+1f2a-4c3b-9d8e-7f6a5b4c3d2e",
	}
	for _, tok := range texts {
		rt.put(sandbox.RefreshToken{Token: tok, ClientID: tok})
	}
	if rt.len() != len(texts) {
		t.Fatalf("stored %d tokens, want %d", rt.len(), len(texts))
	}
	for _, tok := range texts {
		if got, ok := rt.get(tok); !ok || got.Token != tok || got.ClientID != tok {
			t.Errorf("get(%q) = %q (client %q), %v", tok, got.Token, got.ClientID, ok)
		}
	}
	listed := map[string]bool{}
	for _, got := range rt.all() {
		listed[got.Token] = got.ClientID == got.Token
	}
	for _, tok := range texts {
		if !listed[tok] {
			t.Errorf("all() lacks %q", tok)
		}
	}
}

// A stored token comes back as it was saved (times in UTC, nil and empty lists told apart),
// tokens of one grant share one record, and the record goes with its last token.
func TestRefreshTokensStoreExactlyAndShareGrants(t *testing.T) {
	exp := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	rt := newRefreshTokens()
	want := []sandbox.RefreshToken{
		{Token: sandbox.NewUUID(), ClientID: "app", UserID: "u1", VehicleIDs: []string{"v1", "v2"}, Permissions: []string{"read_odometer"}, Mode: "live", ExpiresAt: exp},
		{Token: sandbox.NewUUID(), ClientID: "app", UserID: "u1", VehicleIDs: []string{"v1", "v2"}, Permissions: []string{"read_odometer"}, Mode: "live", ExpiresAt: exp.Add(time.Second)},
		{Token: "hand-made", ClientID: "app", UserID: "u2", VehicleIDs: []string{}, ExpiresAt: exp, UsedAt: exp.Add(-time.Minute)},
		{Token: "no-expiry"},
	}
	for _, tok := range want {
		rt.put(tok)
	}
	for _, w := range want {
		got, ok := rt.get(w.Token)
		if !ok || !reflect.DeepEqual(got, w) {
			t.Errorf("get(%q) = %+v, %v; want %+v", w.Token, got, ok, w)
		}
	}
	if got := len(rt.grants); got != 3 {
		t.Errorf("grant records = %d, want 3 (the first two tokens share one)", got)
	}
	rt.deleteIf(func(refreshRec) bool { return true })
	if rt.len() != 0 || len(rt.grants) != 0 {
		t.Errorf("after deleting every token: %d tokens, %d grant records; want none", rt.len(), len(rt.grants))
	}
}
