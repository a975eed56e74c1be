package scapi

import (
	"net/http"
	"testing"
	"time"
)

func TestSetDataHeaders(t *testing.T) {
	age := time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.FixedZone("x", 3600))
	fetched := time.Date(2026, 1, 2, 3, 5, 0, 0, time.UTC)
	h := http.Header{}
	SetDataHeaders(h, Imperial, age, fetched)
	want := map[string]string{
		"SC-Data-Age":    "2026-01-02T02:04:05.006Z",
		"SC-Fetched-At":  "2026-01-02T03:05:00.000Z",
		"SC-Unit-System": "imperial",
	}
	for k, v := range want {
		if got := h.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("%s = %q, want [%q]", k, got, v)
		}
	}
	if len(h) != len(want) {
		t.Errorf("headers = %v, want only %v", h, want)
	}
	// A later Add must not write into the neighbouring value's slot.
	h.Add("SC-Data-Age", "later")
	if got := h.Get("SC-Fetched-At"); got != want["SC-Fetched-At"] {
		t.Errorf("after Add, SC-Fetched-At = %q, want %q", got, want["SC-Fetched-At"])
	}
	// A second call replaces rather than appends.
	SetDataHeaders(h, Metric, age, fetched)
	if got := h.Values("SC-Data-Age"); len(got) != 1 || got[0] != want["SC-Data-Age"] {
		t.Errorf("after a second call, SC-Data-Age = %q, want [%q]", got, want["SC-Data-Age"])
	}
}

func BenchmarkSetDataHeaders(b *testing.B) {
	age, now := time.Now().Add(-time.Minute), time.Now()
	b.ReportAllocs()
	for b.Loop() {
		SetDataHeaders(http.Header{}, Metric, age, now)
	}
}
