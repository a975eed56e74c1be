package store_test

import (
	"runtime"
	"strconv"
	"testing"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	defaultfixtures "github.com/smartcar-sandbox/smartcar-sandbox/fixtures"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/fixtures"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
)

// BenchmarkRefreshRotate is one rotation of a refresh-token chain in memory (no access token
// minted), and heapB/token the live heap each stored token costs afterwards: every rotation
// leaves the used token behind for its grace period, as make bench's refresh phase does, so
// after b.N rotations the store holds b.N+1 tokens. Run it with a fixed count so both sides of
// a comparison hold as many tokens:
//
//	go test -run '^$' -bench RefreshRotate -benchmem -benchtime 200000x ./internal/store
func BenchmarkRefreshRotate(b *testing.B) {
	ds, err := fixtures.Load(defaultfixtures.FS)
	if err != nil {
		b.Fatal(err)
	}
	st, err := store.New(ds, store.Options{Garage: fixtures.Garage})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	acct, app := ds.Accounts[0], ds.Applications[0].ClientID
	for _, vid := range acct.VehicleIDs {
		if err := st.Connect(sandbox.Grant{ClientID: app, UserID: acct.UserID, VehicleID: vid, Permissions: []string{"read_odometer"}}); err != nil {
			b.Fatal(err)
		}
	}
	if err := st.SaveCode(sandbox.AuthCode{Code: "bench-code", ClientID: app, UserID: acct.UserID, VehicleIDs: acct.VehicleIDs,
		Permissions: []string{"read_odometer"}, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		b.Fatal(err)
	}
	rt, err := st.RedeemCode("bench-code", app, func(sandbox.AuthCode) error { return nil }, nil)
	if err != nil {
		b.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	for b.Loop() {
		if rt, err = st.RotateRefreshToken(rt.Token, app, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(b.N), "heapB/token")
	if n := len(st.RefreshTokens()); n != b.N+1 {
		b.Fatalf("%d refresh tokens stored after %d rotations, want %d", n, b.N, b.N+1)
	}
}

// BenchmarkRefreshSweep is the periodic sweep over 100,000 stored refresh tokens (used ones in
// their grace and their unused successors, as a busy chain leaves them) that drops none: each
// iteration moves the clock past the sweep's spacing and saves a code, which sweeps.
func BenchmarkRefreshSweep(b *testing.B) {
	ds, err := fixtures.Load(defaultfixtures.FS)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// A grace longer than the benchmark's clock runs, so the sweep keeps every token.
	st, err := store.New(ds, store.Options{Garage: fixtures.Garage, Now: func() time.Time { return now }, RefreshGrace: 1000 * time.Hour, RefreshTTL: 24 * 365 * time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	acct, app := ds.Accounts[0], ds.Applications[0].ClientID
	if err := st.Connect(sandbox.Grant{ClientID: app, UserID: acct.UserID, VehicleID: acct.VehicleIDs[0], Permissions: []string{"read_odometer"}}); err != nil {
		b.Fatal(err)
	}
	code := func(i int) string { return "bench-code-" + strconv.Itoa(i) }
	if err := st.SaveCode(sandbox.AuthCode{Code: code(0), ClientID: app, UserID: acct.UserID, VehicleIDs: acct.VehicleIDs[:1],
		ExpiresAt: now.Add(24 * 365 * time.Hour)}); err != nil {
		b.Fatal(err)
	}
	rt, err := st.RedeemCode(code(0), app, func(sandbox.AuthCode) error { return nil }, nil)
	if err != nil {
		b.Fatal(err)
	}
	for range 100_000 - 1 {
		if rt, err = st.RotateRefreshToken(rt.Token, app, nil); err != nil {
			b.Fatal(err)
		}
	}
	i := 0
	for b.Loop() {
		now = now.Add(11 * time.Second)
		i++
		if err := st.SaveCode(sandbox.AuthCode{Code: code(i), ClientID: app, UserID: acct.UserID, ExpiresAt: now.Add(time.Hour)}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if n := len(st.RefreshTokens()); n != 100_000 {
		b.Fatalf("%d refresh tokens after the sweeps, want 100000", n)
	}
}
