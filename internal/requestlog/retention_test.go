package requestlog

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
)

func ids(es []Entry) string {
	var out []string
	for _, e := range es {
		out = append(out, e.RequestID)
	}
	return strings.Join(out, ",")
}

// Resizing keeps the newest entries that fit, newest first, and the ring goes on from there.
func TestSetSizeKeepsNewest(t *testing.T) {
	l := New(4, nil)
	for i := 1; i <= 6; i++ {
		l.Add(Entry{RequestID: fmt.Sprint(i)})
	}
	for _, tc := range []struct {
		size int
		add  string
		want string
	}{
		{size: 2, want: "6,5"},
		{size: 5, add: "7", want: "7,6,5"},
		{size: 0, add: "8", want: ""},
		{size: 1, add: "9", want: "9"},
	} {
		if err := l.SetSize(tc.size); err != nil {
			t.Fatal(err)
		}
		if tc.add != "" {
			l.Add(Entry{RequestID: tc.add})
		}
		if got := ids(l.List(0)); got != tc.want || l.Size() != tc.size {
			t.Errorf("size %d: %q (size %d), want %q", tc.size, got, l.Size(), tc.want)
		}
	}
	if err := l.SetSize(MaxSize + 1); err == nil {
		t.Error("a size over MaxSize was taken")
	}
}

// With a durable store the size is kept across a restart; the default only applies while the
// store holds none; a size that cannot be saved changes nothing.
func TestSizeKeptInTheStore(t *testing.T) {
	dir := t.TempDir()
	var failing atomic.Bool
	open := func() *store.Store {
		st, err := store.New(sandbox.Dataset{}, store.Options{DataDir: dir, SaveFault: func() error {
			if failing.Load() {
				return errors.New("disk full")
			}
			return nil
		}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	st := open()
	l := FromStore(st, 200, nil)
	if l.Size() != 200 {
		t.Fatalf("size %d before any setting, want the default 200", l.Size())
	}
	if err := l.SetSize(3); err != nil {
		t.Fatal(err)
	}
	failing.Store(true)
	if err := l.SetSize(50); !errors.Is(err, store.ErrNotSaved) {
		t.Fatalf("SetSize with a failing store: %v, want ErrNotSaved", err)
	}
	failing.Store(false)
	if l.Size() != 3 {
		t.Errorf("size %d after a failed change, want 3", l.Size())
	}
	for i := 1; i <= 5; i++ {
		l.Add(Entry{RequestID: fmt.Sprint(i)})
	}
	if got := ids(l.List(0)); got != "5,4,3" {
		t.Errorf("entries %q, want 5,4,3", got)
	}
	st.Close()
	if got := FromStore(open(), 200, nil).Size(); got != 3 {
		t.Errorf("size after a restart %d, want 3 (the default 200 is only for a store without one)", got)
	}
}
