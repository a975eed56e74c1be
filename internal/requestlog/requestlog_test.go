package requestlog

import (
	"fmt"
	"testing"
)

func TestRingKeepsNewest(t *testing.T) {
	l := New(3, nil)
	for i := 1; i <= 5; i++ {
		l.Add(Entry{RequestID: fmt.Sprint(i)})
	}
	for _, tc := range []struct {
		limit int
		want  string
	}{{0, "543"}, {2, "54"}, {10, "543"}} {
		got := ""
		for _, e := range l.List(tc.limit) {
			got += e.RequestID
		}
		if got != tc.want {
			t.Errorf("List(%d) = %q, want %q", tc.limit, got, tc.want)
		}
	}
	l.Clear()
	if n := len(l.List(0)); n != 0 {
		t.Errorf("after Clear: %d entries", n)
	}
	off := New(0, nil)
	off.Add(Entry{RequestID: "x"})
	if n := len(off.List(0)); n != 0 {
		t.Errorf("size 0 kept %d entries", n)
	}
}

func TestRedaction(t *testing.T) {
	if got := redactAuth("Bearer abcdefghijklmnop"); got != "Bearer …klmnop" {
		t.Errorf("redactAuth = %q", got)
	}
	if got := redactBody("grant_type=x&client_secret=s3", "application/x-www-form-urlencoded"); got != "client_secret=%5Bredacted%5D&grant_type=x" {
		t.Errorf("redactBody = %q", got)
	}
}
