package store

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
)

// The state file holds everything that is not in the fixtures or that changed since: vehicles
// with their state, accounts (generated ones included), applications, grants, codes, refresh
// tokens and revocations. It is small (a few hundred KB for a thousand vehicles), so each
// change rewrites it whole: simpler to get crash-safe than an append log.
const stateFile = "state.json"

const snapshotVersion = 1

type snapshot struct {
	Version      int                    `json:"version"`
	Applications []sandbox.Application  `json:"applications"`
	Accounts     []sandbox.Account      `json:"accounts"`
	Vehicles     []sandbox.Vehicle      `json:"vehicles"`
	Grants       []sandbox.Grant        `json:"grants"`
	Codes        []sandbox.AuthCode     `json:"codes"`
	RefreshTkns  []sandbox.RefreshToken `json:"refreshTokens"`
	Revoked      map[string]time.Time   `json:"revoked"` // jti -> when it expires anyway
	Issued       []IssuedToken          `json:"issuedTokens,omitempty"`
	ExpiredNow   map[string]time.Time   `json:"expiredNow,omitempty"` // jti -> when it expires anyway
}

type disk struct {
	dir     string
	mu      sync.Mutex // serialises writers
	written uint64     // seq of the newest snapshot on disk
}

func openDisk(dir string) (*disk, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	// A crash between creating a temp file and renaming it leaves the temp file behind; it is
	// never read, so clear them at start rather than let every crash add one.
	if stale, err := filepath.Glob(filepath.Join(dir, stateFile+".tmp-*")); err == nil {
		for _, f := range stale {
			_ = os.Remove(f)
		}
	}
	return &disk{dir: dir}, nil
}

func (d *disk) load() (*snapshot, error) {
	b, err := os.ReadFile(filepath.Join(d.dir, stateFile))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	var snap snapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		return nil, fmt.Errorf("data dir: %s is not a valid state file (%v); move it away to start fresh", filepath.Join(d.dir, stateFile), err)
	}
	if snap.Version != snapshotVersion {
		return nil, fmt.Errorf("data dir: %s has version %d, this sandbox reads version %d", filepath.Join(d.dir, stateFile), snap.Version, snapshotVersion)
	}
	return &snap, nil
}

// write replaces the state file atomically: write a temp file, fsync it, rename it over the
// old one, fsync the directory. A crash at any point leaves either the old or the new file.
func (d *disk) write(seq uint64, b []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if seq <= d.written {
		return nil // a newer snapshot, which includes this change, is already durable
	}
	tmp, err := os.CreateTemp(d.dir, stateFile+".tmp-*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(b)
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return werr
	}
	if err := os.Rename(tmp.Name(), filepath.Join(d.dir, stateFile)); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if dirf, err := os.Open(d.dir); err == nil {
		_ = dirf.Sync()
		dirf.Close()
	}
	d.written = seq
	return nil
}

// commitAndUnlock records a change made under s.mu (held for writing), releases the lock and,
// with a data dir, makes the change durable before returning.
func (s *Store) commitAndUnlock() error {
	s.seq++
	if s.disk == nil {
		s.mu.Unlock()
		return nil
	}
	seq := s.seq
	b, err := json.Marshal(s.snapshotLocked())
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("store: encode state: %w", err)
	}
	if err := s.disk.write(seq, b); err != nil {
		return fmt.Errorf("store: save state: %w", err)
	}
	return nil
}

func (s *Store) snapshotLocked() snapshot {
	snap := snapshot{Version: snapshotVersion, Revoked: make(map[string]time.Time, len(s.revoked))}
	for _, a := range s.apps {
		snap.Applications = append(snap.Applications, *a)
	}
	for _, a := range s.accounts {
		snap.Accounts = append(snap.Accounts, *a)
	}
	for _, v := range s.vehicles {
		snap.Vehicles = append(snap.Vehicles, *v)
	}
	for _, g := range s.grants {
		snap.Grants = append(snap.Grants, *g)
	}
	for _, c := range s.codes {
		snap.Codes = append(snap.Codes, *c)
	}
	snap.RefreshTkns = s.refresh.all()
	for k, v := range s.revoked {
		snap.Revoked[k] = v
	}
	s.snapshotTokensLocked(&snap)
	return snap
}

// restore lays a saved snapshot over the seeded fixtures: saved records win, fixture records
// the snapshot does not know (added to the fixtures since) stay.
func (s *Store) restore(snap *snapshot) {
	for _, a := range snap.Applications {
		a := a
		s.apps[a.ClientID] = &a
	}
	for _, v := range snap.Vehicles {
		v := v
		s.vehicles[v.ID] = &v
	}
	for _, a := range snap.Accounts {
		s.putAccountLocked(a)
	}
	for _, g := range snap.Grants {
		g := g
		s.grants[grantKey{g.ClientID, g.UserID, g.VehicleID}] = &g
	}
	for _, c := range snap.Codes {
		c := c
		s.codes[c.Code] = &c
	}
	for _, t := range snap.RefreshTkns {
		s.refresh.put(t)
	}
	for k, v := range snap.Revoked {
		s.revoked[k] = v
	}
	s.restoreTokens(snap)
}
