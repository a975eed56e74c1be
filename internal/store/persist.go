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

// The state file is what a sandbox before the database kept in its data dir: the whole state
// as one JSON document, rewritten on every change (so each change cost more the more users
// had signed in). It is only read now, to import it once (see importStateFile).
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

// importStateFile imports dir/state.json, which a sandbox before the database kept, once:
// its records are committed with a marker, then the file is renamed to state.json.imported,
// so nothing a user had is lost and a crash between the two steps imports nothing twice.
// recs is what the backend held before.
func (s *Store) importStateFile(dir string, recs []Record) error {
	path := filepath.Join(dir, stateFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	done := false
	for _, r := range recs {
		done = done || (r.Kind == kindMeta && r.Key == metaImported)
	}
	if !done {
		snap, err := decodeSnapshot(b)
		if err != nil {
			return fmt.Errorf("data dir: %s %v", path, err)
		}
		s.restore(snap)
		changes := append(s.records(), Record{Kind: kindMeta, Key: metaImported, Value: mustJSON(time.Now().UTC())})
		if err := s.backend.Commit(true, changes); err != nil {
			return fmt.Errorf("data dir: importing %s: %w", path, err)
		}
		s.log.Info("imported the state file into the database", "file", path)
	}
	if err := os.Rename(path, path+".imported"); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	return nil
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

// ErrNotSaved is returned (wrapped) when a change could not be committed. The change was undone: the state is exactly what it was before the call, for every reader and
// after a restart. Its text names no path, since callers show it to clients; the full cause
// goes to the store's logger (see SetLogger).
var ErrNotSaved = errors.New("the change could not be saved, so it was not made")

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

func (s *Store) restoreTokens(snap *snapshot) {
	for _, t := range snap.Issued {
		s.issuedSeq++
		s.issued = append(s.issued, issuedRec{Seq: s.issuedSeq, Token: t})
	}
	for k, v := range snap.ExpiredNow {
		if s.expiredNow == nil {
			s.expiredNow = make(map[string]time.Time)
		}
		s.expiredNow[k] = v
	}
}
