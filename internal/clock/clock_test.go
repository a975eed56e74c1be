package clock

import (
	"errors"
	"testing"
	"time"
)

func TestAdvance(t *testing.T) {
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c := New(func() time.Time { return base })
	if got := c.Now(); !got.Equal(base) {
		t.Fatalf("Now = %v, want %v", got, base)
	}
	if err := c.Advance(2 * time.Hour); err != nil {
		t.Fatal(err)
	}
	if got, want := c.Now(), base.Add(2*time.Hour); !got.Equal(want) {
		t.Errorf("Now = %v, want %v", got, want)
	}
	if got := c.Offset(); got != 2*time.Hour {
		t.Errorf("Offset = %v, want 2h", got)
	}
	for _, d := range []time.Duration{0, -time.Second} {
		if err := c.Advance(d); !errors.Is(err, ErrBackwards) {
			t.Errorf("Advance(%v) = %v, want ErrBackwards", d, err)
		}
	}
	if got := c.Offset(); got != 2*time.Hour {
		t.Errorf("Offset after refused moves = %v, want 2h", got)
	}
}
