// Package keys keeps the sandbox's secret keys: the token signing key and the key that signs
// Connect's flow pages. With a data dir each key is a file there, made on first use and read
// back at every start, so tokens and Connect pages issued before a restart still work after
// it; without one each start makes fresh keys. Every key goes through Load, so moving them
// somewhere else (a shared store) is a change in one place.
package keys

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
)

// Size is the length of a key made here (and the least a loaded key may have).
const Size = 32

// The keys' file names under the data dir.
const (
	Signing     = "signing.key"      // access tokens (internal/token)
	ConnectFlow = "connect-flow.key" // Connect's signed flow state (internal/connect)
)

// Set is every key the sandbox uses.
type Set struct {
	Signing     []byte
	ConnectFlow []byte
}

// Load returns the sandbox's keys: kept in dir when dir is not "", fresh otherwise.
func Load(dir string) (Set, error) {
	var s Set
	var err error
	if s.Signing, err = LoadOrCreate(dir, Signing); err != nil {
		return Set{}, fmt.Errorf("signing key: %w", err)
	}
	if s.ConnectFlow, err = LoadOrCreate(dir, ConnectFlow); err != nil {
		return Set{}, fmt.Errorf("connect flow key: %w", err)
	}
	return s, nil
}

// New returns a fresh random key.
func New() []byte {
	k := make([]byte, Size)
	_, _ = rand.Read(k) // never fails (crypto/rand panics on an unusable system source instead)
	return k
}

// LoadOrCreate reads the key dir/name, creating it on first use (written to a temporary file
// and renamed, so a crash never leaves half a key). With dir "" it returns a fresh key that
// lives as long as the process.
func LoadOrCreate(dir, name string) ([]byte, error) {
	if dir == "" {
		return New(), nil
	}
	path := filepath.Join(dir, name)
	k, err := os.ReadFile(path)
	if err == nil {
		if len(k) < Size {
			return nil, fmt.Errorf("%s is too short; delete it to make a new key", path)
		}
		return k, nil
	}
	if !os.IsNotExist(err) {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	k = New()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, k, 0o600); err != nil {
		return nil, err
	}
	return k, os.Rename(tmp, path)
}

// FromStore returns the sandbox's keys from a shared store's named keys (store.Store.Key):
// made once by whichever sandbox asks first, read by every other, so replicas on one database
// sign and check tokens and Connect pages alike.
func FromStore(key func(name string, create func() ([]byte, error)) ([]byte, error)) (Set, error) {
	fresh := func() ([]byte, error) { return New(), nil }
	var s Set
	var err error
	if s.Signing, err = key("token-signing", fresh); err != nil {
		return Set{}, fmt.Errorf("signing key: %w", err)
	}
	if s.ConnectFlow, err = key("connect-flow", fresh); err != nil {
		return Set{}, fmt.Errorf("connect flow key: %w", err)
	}
	return s, nil
}
