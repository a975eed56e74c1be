package store

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// Load hands over every record as committed, and what it hands over is the caller's to keep:
// records kept from the start of a load still hold their values at the end (SQLite's Load
// copies values out of the driver's buffers into buffers of its own, ~1 MB each; the values
// here span several, and one is bigger than a buffer). An error from fn stops Load with it.
func TestLoadHandsOverRecordsToKeep(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t *testing.T) Backend
	}{
		{"sqlite", func(t *testing.T) Backend {
			b, err := OpenSQLite(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return b
		}},
		{"postgres", func(t *testing.T) Backend {
			b, err := OpenPostgres(needPostgres(t))
			if err != nil {
				t.Fatal(err)
			}
			return b
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.open(t)
			defer b.Close()
			var want []Record
			for i := range 3000 {
				// 0.3 to 1.5 KB each, every one different: 2.7 MB in all.
				want = append(want, Record{Kind: kindRevoked, Key: fmt.Sprintf("jti-%04d", i),
					Value: fmt.Appendf(nil, "%q", strings.Repeat(string(rune('a'+i%26)), 300+i%1200))})
			}
			want = append(want, Record{Kind: kindApp, Key: "big", Value: fmt.Appendf(nil, "%q", strings.Repeat("x", 3<<20/2))})
			if err := b.Commit(true, want); err != nil {
				t.Fatal(err)
			}
			var got []Record
			if err := b.Load(func(r Record) error { got = append(got, r); return nil }); err != nil {
				t.Fatal(err)
			}
			got = slices.DeleteFunc(got, func(r Record) bool { return r.Kind == kindMeta || r.Kind == kindKey })
			cmp := func(a, b Record) int { return strings.Compare(a.Kind+"/"+a.Key, b.Kind+"/"+b.Key) }
			slices.SortFunc(got, cmp)
			slices.SortFunc(want, cmp)
			if !slices.EqualFunc(got, want, func(a, b Record) bool { return cmp(a, b) == 0 && bytes.Equal(a.Value, b.Value) }) {
				t.Errorf("Load handed over %d records, not the %d committed as they were", len(got), len(want))
			}
			stop := fmt.Errorf("stop")
			n := 0
			if err := b.Load(func(Record) error { n++; return stop }); err != stop || n != 1 {
				t.Errorf("Load with fn failing = %v after %d records, want %v after 1", err, n, stop)
			}
		})
	}
}
