package requestid_test

import (
	"context"
	"testing"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/requestid"
)

func TestNewIsUniqueUUIDv4(t *testing.T) {
	seen := make(map[string]bool)
	for range 10000 {
		id := requestid.New()
		if !sandbox.IsUUID(id) {
			t.Fatalf("New() = %q, not the 8-4-4-4-12 hex shape", id)
		}
		if got, want := id[14], byte('4'); got != want {
			t.Fatalf("New() = %q: version digit %c, want %c", id, got, want)
		}
		if got := id[19]; got != '8' && got != '9' && got != 'a' && got != 'b' {
			t.Fatalf("New() = %q: variant digit %c, want one of 8 9 a b", id, got)
		}
		for _, c := range id {
			if c >= 'A' && c <= 'F' {
				t.Fatalf("New() = %q: upper-case hex", id)
			}
		}
		if seen[id] {
			t.Fatalf("New() repeated %q", id)
		}
		seen[id] = true
	}
}

func TestWithFrom(t *testing.T) {
	tests := []struct {
		name string
		ctx  context.Context
		want string
	}{
		{"set", requestid.With(context.Background(), "abc"), "abc"},
		{"unset", context.Background(), ""},
	}
	for _, tt := range tests {
		if got := requestid.From(tt.ctx); got != tt.want {
			t.Errorf("%s: From = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = requestid.New()
	}
}

func BenchmarkNewUUID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = sandbox.NewUUID()
	}
}
