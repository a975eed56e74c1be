package app

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/config"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/fixtures"
)

// A fixture folder over -max-fixtures-mb is refused at start, before parsing, with a message
// naming the limit and the flag that raises it.
func TestFixtureFolderOverTheLimitIsRefused(t *testing.T) {
	dir := t.TempDir()
	data, err := fixtures.Marshal(fixtures.GenerateDataset(1000)) // ~1.1 MiB
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "generated.yaml"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	if len(data) <= 1<<20 {
		t.Fatalf("generated %d bytes, want more than 1 MiB", len(data))
	}
	_, err = Start(config.Config{Addr: "127.0.0.1:0", FixturesDir: dir, LogFormat: "text", MaxFixturesMB: 1}, io.Discard)
	if err == nil {
		t.Fatal("started on a folder over the limit")
	}
	for _, want := range []string{filepath.Join(dir, "generated.yaml"), "more than the limit of 1 MiB", "-max-fixtures-mb"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("start error lacks %q:\n%v", want, err)
		}
	}
	// Raised, the same folder starts.
	a := MustStart(t, config.Config{FixturesDir: dir, MaxFixturesMB: 2})
	if n := len(a.Store.Vehicles()); n != 1000 {
		t.Errorf("started with %d vehicles, want 1000", n)
	}
}
