package store_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	defaultfixtures "github.com/smartcar-sandbox/smartcar-sandbox/fixtures"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/fixtures"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/token"
)

// BenchmarkDurableWrites is the store's side of make bench's durable phase: the token
// endpoint's refresh (rotation and access-token record, one transaction) and a LOCK/UNLOCK
// (one vehicle update), from 64 goroutines, in memory and on a fresh SQLite database. With
// -cpu 2, ns/op is wall time per write on two cores; the allocations are the store's.
//
//	go test -run '^$' -bench DurableWrites -cpu 2 ./internal/store
func BenchmarkDurableWrites(b *testing.B) {
	for _, backend := range []string{"memory", "sqlite"} {
		for _, op := range []string{"refresh", "lock"} {
			b.Run(backend+"/"+op, func(b *testing.B) {
				ds, err := fixtures.Load(defaultfixtures.FS)
				if err != nil {
					b.Fatal(err)
				}
				opts := store.Options{Garage: fixtures.Garage}
				if backend == "sqlite" {
					opts.DataDir = b.TempDir()
				}
				st, err := store.New(ds, opts)
				if err != nil {
					b.Fatal(err)
				}
				defer st.Close()
				iss, err := token.NewIssuer(make([]byte, 32), nil)
				if err != nil {
					b.Fatal(err)
				}
				acct := ds.Accounts[0]
				vid := acct.VehicleIDs[0]
				app := ds.Applications[0].ClientID
				mint := func(rt sandbox.RefreshToken) *token.Claims {
					return iss.VehicleClaims(token.VehicleGrant{ClientID: rt.ClientID, UserID: rt.UserID, VehicleIDs: rt.VehicleIDs,
						Permissions: rt.Permissions, Mode: rt.Mode, Authorization: rt.Authorization})
				}
				if err := st.Connect(sandbox.Grant{ClientID: app, UserID: acct.UserID, VehicleID: vid, Permissions: []string{"read_odometer"}}); err != nil {
					b.Fatal(err)
				}
				var worker atomic.Int64
				b.SetParallelism(32)
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					w := worker.Add(1)
					code := fmt.Sprintf("code-%d", w)
					if err := st.SaveCode(sandbox.AuthCode{Code: code, ClientID: app, UserID: acct.UserID, VehicleIDs: []string{vid},
						ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
						b.Error(err)
						return
					}
					rt, err := st.RedeemCode(code, app, func(sandbox.AuthCode) error { return nil }, mint)
					if err != nil {
						b.Error(err)
						return
					}
					for i := 0; pb.Next(); i++ {
						if op == "refresh" {
							rt, err = st.RotateRefreshToken(rt.Token, app, mint)
						} else {
							_, err = st.UpdateVehicle(vid, func(v *sandbox.Vehicle) error { v.State.Security.SetLocked(i%2 == 0); return nil })
						}
						if err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}
