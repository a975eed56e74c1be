package scapi

import (
	"math/rand/v2"
	"net/http"
	"testing"
	"time"
)

// The hand-written formatter must spell every time exactly as time.Format(TimeFormat) does.
func TestAppendTimeMatchesFormat(t *testing.T) {
	times := []time.Time{
		time.Date(2026, 11, 25, 23, 52, 44, 999_999_999, time.UTC), // truncated, not rounded
		time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 1_000_000, time.UTC),
		time.Date(999, 12, 31, 9, 5, 7, 12_000_000, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999_000_000, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), // beyond 4 digits: the fallback
		time.Date(-5, 3, 4, 5, 6, 7, 0, time.UTC),
		{}, // the zero time
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		times = append(times, time.Unix(r.Int64N(300_000_000_000)-62_000_000_000, r.Int64N(1e9)).UTC())
	}
	for _, tm := range times {
		if got, want := string(appendTime(nil, tm)), tm.Format(TimeFormat); got != want {
			t.Fatalf("appendTime(%v) = %q, want %q", tm, got, want)
		}
	}
}

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
