package tutorial

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/smartcar-sandbox/smartcar-sandbox/client"
)

// sessionDir keeps sessions on disk, one small file per session (dir/<id>.json), so a restart of
// the backend is invisible to a phone that had connected. One file each rather than one file
// for all: a room of phones exchanging in the same minute then writes a few hundred bytes per
// phone instead of rewriting everyone's tokens at every change. Each write goes to a temporary
// file that is synced and renamed over the old one, so a crash leaves the old or the new
// session, never half of one.
type sessionDir struct{ dir string }

// savedSession is a session's file. Its own field names, so the file does not change shape
// when client.Access does.
type savedSession struct {
	ID                string    `json:"id"`
	AccessToken       string    `json:"access_token"`
	RefreshToken      string    `json:"refresh_token"`
	TokenType         string    `json:"token_type,omitempty"`
	ExpiresIn         int       `json:"expires_in"`
	Expiration        time.Time `json:"expiration"`
	RefreshExpiration time.Time `json:"refresh_expiration"`
	Saved             time.Time `json:"saved"`
}

func (s savedSession) access() client.Access {
	return client.Access{AccessToken: s.AccessToken, RefreshToken: s.RefreshToken, TokenType: s.TokenType,
		ExpiresIn: s.ExpiresIn, Expiration: s.Expiration, RefreshExpiration: s.RefreshExpiration}
}

func openSessionDir(dir string) (*sessionDir, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("tutorial: session folder: %w", err)
	}
	return &sessionDir{dir: dir}, nil
}

// path is id's file; ids are 64 hex digits (validID), so they are safe file names.
func (d *sessionDir) path(id string) string { return filepath.Join(d.dir, id+".json") }

// save writes id's tokens atomically.
func (d *sessionDir) save(id string, a client.Access, now time.Time) error {
	b, _ := json.Marshal(savedSession{ID: id, AccessToken: a.AccessToken, RefreshToken: a.RefreshToken, TokenType: a.TokenType,
		ExpiresIn: a.ExpiresIn, Expiration: a.Expiration, RefreshExpiration: a.RefreshExpiration, Saved: now}) // strings and times: cannot fail
	f, err := os.CreateTemp(d.dir, id+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, d.path(id))
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

func (d *sessionDir) remove(id string) error {
	err := os.Remove(d.path(id))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// load returns the kept sessions oldest first. Files a crash left half-written (*.tmp), files
// that do not parse and sessions whose refresh token has expired are removed: none of them
// can ever be used again. problems lists what was removed for a reason worth logging.
func (d *sessionDir) load(now time.Time) (sessions []savedSession, problems []string, err error) {
	entries, err := os.ReadDir(d.dir)
	if err != nil {
		return nil, nil, fmt.Errorf("tutorial: session folder: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		path := filepath.Join(d.dir, name)
		if strings.HasSuffix(name, ".tmp") {
			os.Remove(path)
			continue
		}
		id, ok := strings.CutSuffix(name, ".json")
		if !ok || !e.Type().IsRegular() {
			continue // not ours
		}
		var s savedSession
		b, err := os.ReadFile(path)
		if err == nil {
			err = json.Unmarshal(b, &s)
		}
		if err == nil && (s.ID != id || !validID(id) || s.RefreshToken == "") {
			err = errors.New("not a tutorial session")
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v (removed)", name, err))
			os.Remove(path)
			continue
		}
		if !s.RefreshExpiration.IsZero() && !now.Before(s.RefreshExpiration) {
			os.Remove(path)
			continue
		}
		sessions = append(sessions, s)
	}
	sort.SliceStable(sessions, func(i, j int) bool { return sessions[i].Saved.Before(sessions[j].Saved) })
	return sessions, problems, nil
}
