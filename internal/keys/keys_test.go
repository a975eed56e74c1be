package keys

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadKeepsKeysInTheDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state") // not there yet: Load makes it
	first, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name          string
		first, second []byte
	}{
		{Signing, first.Signing, again.Signing},
		{ConnectFlow, first.ConnectFlow, again.ConnectFlow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.first) != Size || !bytes.Equal(tc.first, tc.second) {
				t.Fatalf("key changed across loads or has the wrong size: %x then %x", tc.first, tc.second)
			}
			fi, err := os.Stat(filepath.Join(dir, tc.name))
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s has mode %v, want 0600", tc.name, fi.Mode().Perm())
			}
		})
	}
	if bytes.Equal(first.Signing, first.ConnectFlow) {
		t.Error("the signing and Connect flow keys are the same key")
	}
}

func TestLoadWithoutDataDirMakesFreshKeys(t *testing.T) {
	a, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Signing) != Size || len(a.ConnectFlow) != Size {
		t.Fatalf("sizes %d, %d; want %d", len(a.Signing), len(a.ConnectFlow), Size)
	}
	if bytes.Equal(a.Signing, b.Signing) || bytes.Equal(a.ConnectFlow, b.ConnectFlow) {
		t.Error("two starts without a data dir share a key")
	}
}

func TestLoadRefusesAShortKey(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ConnectFlow), []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil {
		t.Fatal("a truncated key file was accepted")
	}
}

// TestFromStore: with a shared store every key is made once and read back by every later
// caller (another replica, a restart), and the two keys differ.
func TestFromStore(t *testing.T) {
	saved := map[string][]byte{}
	key := func(name string, create func() ([]byte, error)) ([]byte, error) {
		if k, ok := saved[name]; ok {
			return k, nil
		}
		k, err := create()
		saved[name] = k
		return k, err
	}
	a, err := FromStore(key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := FromStore(key)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Signing, b.Signing) || !bytes.Equal(a.ConnectFlow, b.ConnectFlow) {
		t.Error("a second sandbox on the same store got other keys")
	}
	if len(a.Signing) != Size || bytes.Equal(a.Signing, a.ConnectFlow) {
		t.Errorf("keys: signing %d bytes, flow key equal to it: %v", len(a.Signing), bytes.Equal(a.Signing, a.ConnectFlow))
	}
}
