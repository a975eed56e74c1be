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
		{"under other values", context.WithValue(requestid.With(context.Background(), "def"), struct{}{}, 1), "def"},
		{"innermost wins", requestid.With(requestid.With(context.Background(), "outer"), "inner"), "inner"},
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

// The request id's context passes other values, cancellation and deadlines through.
func TestContextPassesParentThrough(t *testing.T) {
	type otherKey struct{}
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), otherKey{}, "v"))
	ctx := requestid.With(parent, "id")
	if got := ctx.Value(otherKey{}); got != "v" {
		t.Errorf("Value(otherKey) = %v, want v", got)
	}
	child, stop := context.WithCancel(ctx)
	defer stop()
	cancel()
	<-child.Done() // propagates from parent through the request id's context
	if got, want := child.Err(), context.Canceled; got != want {
		t.Errorf("child.Err() = %v, want %v", got, want)
	}
	if got := requestid.From(child); got != "id" {
		t.Errorf("From(child) = %q, want id", got)
	}
}
