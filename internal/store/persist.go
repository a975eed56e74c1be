package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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
	// Added after version 1 was out; a file without them reads as "none handed out, none
	// revoked", which is what it was.
	AuthSeq     uint64               `json:"authorizationSeq,omitempty"`
	RevokedAuth map[uint64]time.Time `json:"revokedAuthorizations,omitempty"` // -> when its tokens expire anyway
}

type disk struct {
	dir   string
	fault func() error // Options.SaveFault
	saved saved        // what the state file holds
}

// saved is the state the data dir holds: a failed save puts the store back to it.
type saved struct {
	fixtures sandbox.Dataset
	state    []byte // the state file's bytes; nil when there is none yet
}

func openDisk(dir string, fault func() error) (*disk, error) {
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
	return &disk{dir: dir, fault: fault}, nil
}

// load reads the state file: its bytes and what they say (both nil when there is none).
func (d *disk) load() ([]byte, *snapshot, error) {
	path := filepath.Join(d.dir, stateFile)
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("data dir: %w", err)
	}
	snap, err := decodeSnapshot(b)
	if err != nil {
		return nil, nil, fmt.Errorf("data dir: %s %v", path, err)
	}
	return b, snap, nil
}

func decodeSnapshot(b []byte) (*snapshot, error) {
	var snap snapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		return nil, fmt.Errorf("is not a valid state file (%v); move it away to start fresh", err)
	}
	if snap.Version != snapshotVersion {
		return nil, fmt.Errorf("has version %d, this sandbox reads version %d", snap.Version, snapshotVersion)
	}
	return &snap, nil
}

// write replaces the state file atomically: write a temp file, fsync it, rename it over the
// old one, fsync the directory. A crash at any point leaves either the old or the new file.
func (d *disk) write(b []byte) error {
	if d.fault != nil {
		if err := d.fault(); err != nil {
			return err
		}
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
	return nil
}

// ErrNotSaved is returned (wrapped) when a change could not be written to the data dir. The
// change was undone: the state is exactly what it was before the call, for every reader and
// after a restart. Its text names no path, since callers show it to clients; the full cause
// goes to the store's logger (see SetLogger).
var ErrNotSaved = errors.New("the change could not be saved to the data dir, so it was not made")

// commitAndUnlock finishes a change made under s.mu (held for writing) and releases the lock.
// With a data dir the change is written before the lock is released, so no reader ever sees
// a change that is not on disk; if the write fails the change is undone (the state goes back
// to what the data dir holds) and ErrNotSaved is returned.
func (s *Store) commitAndUnlock() error {
	defer s.mu.Unlock()
	if s.disk == nil {
		return nil
	}
	b, err := json.Marshal(s.snapshotLocked())
	if err == nil {
		err = s.disk.write(b)
	}
	if err != nil {
		s.log.Error("saving the state failed; the change was undone", "dir", s.disk.dir, "error", err)
		if rerr := s.rollbackLocked(); rerr != nil {
			// The bytes were written by this process and decoded before: only a bug lands here.
			panic("store: cannot go back to the saved state: " + rerr.Error())
		}
		return fmt.Errorf("%w (%s)", ErrNotSaved, causeWithoutPath(err))
	}
	s.disk.saved = saved{fixtures: s.fixtures, state: b}
	return nil
}

// rollbackLocked rebuilds the state from what the data dir holds. It costs as much as a
// start, which is fine for what only a failing disk causes.
func (s *Store) rollbackLocked() error {
	good := s.disk.saved
	s.fixtures = good.fixtures
	s.seed(good.fixtures)
	s.revoked = make(map[string]time.Time)
	s.revokedAuth = make(map[uint64]time.Time)
	s.issued, s.expiredNow, s.authSeq = nil, nil, 0
	if good.state == nil {
		return nil
	}
	snap, err := decodeSnapshot(good.state)
	if err != nil {
		return err
	}
	s.restore(snap)
	return nil
}

// causeWithoutPath is the part of a save error a client may see: the operation and the
// system's words ("no space left on device"), never the file's path.
func causeWithoutPath(err error) string {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Op + ": " + pe.Err.Error()
	case errors.As(err, &le):
		return le.Op + ": " + le.Err.Error()
	}
	return "write failed"
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
	snap.AuthSeq = s.authSeq
	if len(s.revokedAuth) > 0 {
		snap.RevokedAuth = make(map[uint64]time.Time, len(s.revokedAuth))
		for k, v := range s.revokedAuth {
			snap.RevokedAuth[k] = v
		}
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
	for k, v := range snap.RevokedAuth {
		s.revokedAuth[k] = v
	}
	s.authSeq = max(s.authSeq, snap.AuthSeq)
	s.restoreTokens(snap)
}
