package store

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/token"
)

// slowBackend takes a while per commit (as an fsync does), counts commits, and fails them
// while fail is set.
type slowBackend struct {
	Backend
	commits atomic.Int32
	fail    atomic.Bool
}

func (b *slowBackend) Commit(full bool, changes []Record) error {
	b.commits.Add(1)
	time.Sleep(5 * time.Millisecond)
	if b.fail.Load() {
		return errors.New("disk full")
	}
	return b.Backend.Commit(full, changes)
}

// Writers that arrive together share a commit, and when that commit fails every one of them
// gets ErrNotSaved and none of their changes stays, in memory or on disk.
func TestGroupCommit(t *testing.T) {
	for _, failing := range []bool{false, true} {
		dir := t.TempDir()
		sq, err := OpenSQLite(dir)
		if err != nil {
			t.Fatal(err)
		}
		b := &slowBackend{Backend: sq}
		s, err := New(testDataset(), Options{Backend: b})
		if err != nil {
			t.Fatal(err)
		}
		b.fail.Store(failing)
		vid := testDataset().Vehicles[0].ID
		const writers = 32
		var wg sync.WaitGroup
		var notSaved atomic.Int32
		for range writers {
			wg.Go(func() {
				_, err := s.UpdateVehicle(vid, func(v *sandbox.Vehicle) error { v.State.OdometerKm++; return nil })
				switch {
				case errors.Is(err, ErrNotSaved):
					notSaved.Add(1)
				case err != nil:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		want := 100.0 + writers
		if failing {
			want = 100
			if notSaved.Load() != writers {
				t.Errorf("failing commits: %d writers got ErrNotSaved, want all %d", notSaved.Load(), writers)
			}
		}
		if n := b.commits.Load(); n >= writers {
			t.Errorf("failing=%v: %d commits for %d racing writers, want them grouped", failing, n, writers)
		}
		if v, _ := s.Vehicle(vid); v.State.OdometerKm != want {
			t.Errorf("failing=%v: odometer %v, want %v", failing, v.State.OdometerKm, want)
		}
		s.Close()
		s2 := MustOpen(t, dir, nil)
		if v, _ := s2.Vehicle(vid); v.State.OdometerKm != want {
			t.Errorf("failing=%v: after restart odometer %v, want %v", failing, v.State.OdometerKm, want)
		}
		s2.Close()
	}
}

// A full disk, as SQLite meets it (the database may not grow: SQLITE_FULL): the change that
// does not fit fails with ErrNotSaved, leaves nothing behind in memory or on disk, and names
// no path; a change that fits still goes through.
func TestSQLiteFullDisk(t *testing.T) {
	dir := t.TempDir()
	sq, err := OpenSQLite(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(testDataset(), Options{Backend: sq, Garage: testGarage})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var pages int
	if err := sq.db.QueryRow(`PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := sq.db.Exec(fmt.Sprintf(`PRAGMA max_page_count = %d`, pages+2)); err != nil {
		t.Fatal(err)
	}
	before := stateJSON(t, s)
	// An account with a garage far bigger than two pages.
	big := sandbox.Account{Username: "big", UserID: "u-big"}
	var vehicles []sandbox.Vehicle
	for i := range 200 {
		v := testDataset().Vehicles[0]
		v.ID, v.VIN = fmt.Sprintf("v-%03d", i), fmt.Sprintf("VIN%014d", i)
		vehicles = append(vehicles, v)
		big.VehicleIDs = append(big.VehicleIDs, v.ID)
	}
	err = s.PutAccount(big, vehicles)
	if !errors.Is(err, ErrNotSaved) {
		t.Fatalf("PutAccount on a full disk: %v, want ErrNotSaved", err)
	}
	if strings.Contains(err.Error(), dir) {
		t.Errorf("the error names the data dir: %v", err)
	}
	if after := stateJSON(t, s); after != before {
		t.Error("the state changed although the commit failed")
	}
	if _, err := s.UpdateVehicle(testDataset().Vehicles[0].ID, func(v *sandbox.Vehicle) error { v.State.OdometerKm++; return nil }); err != nil {
		t.Errorf("a small change after the failed one: %v", err)
	}
	want := stateJSON(t, s)
	s2 := MustOpen(t, dir, nil)
	defer s2.Close()
	if got := stateJSON(t, s2); got != want {
		t.Error("a restart sees another state than the one served")
	}
}

// A token request (a code's exchange, a refresh) is one commit: the code's use or the
// rotation, the new refresh token and the access token's record together; and what it
// committed is all there after a restart.
func TestTokenRequestIsOneCommit(t *testing.T) {
	dir := t.TempDir()
	sq, err := OpenSQLite(dir)
	if err != nil {
		t.Fatal(err)
	}
	now := t0
	b := &slowBackend{Backend: sq}
	s, err := New(testDataset(), Options{Backend: b, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	connectAndSaveCode(t, s, "code")
	var claims *token.Claims
	var ids []string
	requests := []struct {
		name string
		run  func(prev sandbox.RefreshToken) (sandbox.RefreshToken, error)
	}{
		{"code exchange", func(sandbox.RefreshToken) (sandbox.RefreshToken, error) {
			return s.RedeemCode("code", "app", func(sandbox.AuthCode) error { return nil }, testMint(t, &now, &claims))
		}},
		{"refresh", func(prev sandbox.RefreshToken) (sandbox.RefreshToken, error) {
			return s.RotateRefreshToken(prev.Token, "app", testMint(t, &now, &claims))
		}},
		{"refresh again within grace", func(sandbox.RefreshToken) (sandbox.RefreshToken, error) {
			prev := s.RefreshTokens()[0] // the used one: a retry gets its successor again
			for _, r := range s.RefreshTokens() {
				if !r.UsedAt.IsZero() {
					prev = r
				}
			}
			return s.RotateRefreshToken(prev.Token, "app", testMint(t, &now, &claims))
		}},
	}
	var rt sandbox.RefreshToken
	for _, r := range requests {
		before := b.commits.Load()
		if rt, err = r.run(rt); err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		if n := b.commits.Load() - before; n != 1 {
			t.Errorf("%s: %d commits, want 1", r.name, n)
		}
		if !claims.Recorded {
			t.Errorf("%s: the claims are not marked recorded", r.name)
		}
		ids = append(ids, claims.ID)
	}
	want := stateJSON(t, s)
	s.Close()
	s2 := MustOpen(t, dir, func() time.Time { return now })
	defer s2.Close()
	if got := stateJSON(t, s2); got != want {
		t.Errorf("after restart the state differs:\nwant %s\ngot  %s", want, got)
	}
	for _, id := range ids {
		if _, ok := s2.IssuedToken(id); !ok {
			t.Errorf("access token %s is not recorded after restart", id)
		}
	}
}

// A record that does not decode stops the store from opening, naming the record, whichever
// way it is decoded (the bulk kinds by the decoders while the backend reads on, the others as
// they come) and wherever it is among the others.
func TestUndecodableRecordFailsOpen(t *testing.T) {
	for _, kind := range []string{kindVehicle, kindRefresh, kindRevoked} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			b, err := OpenSQLite(dir)
			if err != nil {
				t.Fatal(err)
			}
			// Good records of both sorts before and after it, so it is not in the first batch
			// a decoder takes nor the last record read.
			var recs []Record
			for i := range 3 * loadBatch {
				if i == 2*loadBatch+5 {
					recs = append(recs, Record{Kind: kind, Key: "bad", Value: []byte(`{"truncated`)})
				}
				v := testDataset().Vehicles[0]
				v.ID = fmt.Sprint("vehicle-", i)
				recs = append(recs, Record{Kind: kindRevoked, Key: fmt.Sprint("jti-", i), Value: mustJSON(t0)},
					Record{Kind: kindVehicle, Key: v.ID, Value: mustJSON(v)})
			}
			if err := b.Commit(false, recs); err != nil {
				t.Fatal(err)
			}
			b.Close()
			_, err = New(testDataset(), Options{DataDir: dir})
			if err == nil || !strings.Contains(err.Error(), kind) || !strings.Contains(err.Error(), `"bad"`) {
				t.Errorf("New = %v, want an error naming record %s \"bad\"", err, kind)
			}
		})
	}
}

// gateBackend, once gated, holds each commit until the test lets it go (with the error to
// fail it with), and says when one has begun.
type gateBackend struct {
	Backend
	gated   atomic.Bool
	begun   chan struct{}
	release chan error
}

func (g *gateBackend) Commit(full bool, changes []Record) error {
	if !g.gated.Load() {
		return g.Backend.Commit(full, changes)
	}
	g.begun <- struct{}{}
	if err := <-g.release; err != nil {
		return err
	}
	return g.Backend.Commit(full, changes)
}

// While a group's commit is on its way (the fsync), readers are not held up and see the
// state as the backend holds it, without the group's changes; the writers get their answer
// only once the changes are committed and back in memory, and a failed commit leaves nothing.
func TestReadersDoNotWaitForCommit(t *testing.T) {
	for _, failing := range []bool{false, true} {
		t.Run(fmt.Sprintf("failing=%v", failing), func(t *testing.T) {
			sq, err := OpenSQLite(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			now := t0
			g := &gateBackend{Backend: sq, begun: make(chan struct{}), release: make(chan error)}
			s, err := New(testDataset(), Options{Backend: g, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			connectAndSaveCode(t, s, "code")
			var claims *token.Claims
			rt, err := s.RedeemCode("code", "app", func(sandbox.AuthCode) error { return nil }, testMint(t, &now, &claims))
			if err != nil {
				t.Fatal(err)
			}
			vid := testDataset().Vehicles[0].ID
			before := stateJSON(t, s)
			g.gated.Store(true)

			done := make(chan error, 2)
			go func() {
				_, err := s.UpdateVehicle(vid, func(v *sandbox.Vehicle) error { v.State.OdometerKm += 5; return nil })
				done <- err
			}()
			<-g.begun // the first group's commit is on its way
			go func() {
				_, err := s.RotateRefreshToken(rt.Token, "app", testMint(t, &now, &claims))
				done <- err
			}()
			read := make(chan string)
			go func() { read <- stateJSON(t, s) }()
			select {
			case got := <-read:
				if got != before {
					t.Errorf("a reader during the commit sees changes the backend does not hold yet")
				}
			case <-time.After(5 * time.Second):
				t.Fatal("a reader waited for the commit")
			}
			var fail error
			if failing {
				fail = errors.New("disk full")
			}
			g.release <- fail
			if err := <-done; failing != errors.Is(err, ErrNotSaved) || !failing && err != nil {
				t.Fatalf("the first writer: %v", err)
			}
			<-g.begun // the second writer's group: it ran on what the first left
			g.release <- fail
			if err := <-done; failing != errors.Is(err, ErrNotSaved) || !failing && err != nil {
				t.Fatalf("the second writer: %v", err)
			}
			v, _ := s.Vehicle(vid)
			_, issued := s.IssuedToken(claims.ID)
			_, rotated := s.refresh.rec(rt.Token)
			switch {
			case failing && stateJSON(t, s) != before:
				t.Error("the failed commits left changes behind")
			case !failing && (v.State.OdometerKm != testDataset().Vehicles[0].State.OdometerKm+5 || !issued || !rotated):
				t.Errorf("after the commits: odometer %v, access token recorded %v, refresh token kept %v", v.State.OdometerKm, issued, rotated)
			case !failing && len(s.RefreshTokens()) != 2:
				t.Errorf("after the rotation: %d refresh tokens, want the used one and its successor", len(s.RefreshTokens()))
			}
		})
	}
}
