package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/config"
)

func TestStartMemoryLimitCoversTheFixtureLoad(t *testing.T) {
	dir := t.TempDir()
	// One file, so all of it is parsed at once: 22 times its size for the node tree, twice for
	// the dataset (fixtures.Measure). Over the 16 MiB default, so -max-fixtures-mb decides.
	const size = 20 << 20
	if err := os.WriteFile(filepath.Join(dir, "big.yaml"), []byte(strings.Repeat("#\n", size/2)), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  config.Config
		want int64
	}{
		{"embedded fixtures", config.Config{}, baseMemoryLimit},
		{"folder over the size limit: refused unread", config.Config{FixturesDir: dir}, baseMemoryLimit},
		{"folder within a raised limit", config.Config{FixturesDir: dir, MaxFixturesMB: 32}, 24*size + 64<<20},
		{"missing folder: the start reports it", config.Config{FixturesDir: filepath.Join(dir, "nope")}, baseMemoryLimit},
	}
	for _, tt := range tests {
		if got := startMemoryLimit(tt.cfg); got != tt.want {
			t.Errorf("%s: startMemoryLimit = %d MiB, want %d MiB", tt.name, got>>20, tt.want>>20)
		}
	}
}
