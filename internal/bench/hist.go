// Package bench is the sandbox's load tool: a small HTTP load generator (fixed concurrency,
// keep-alive connections, a latency histogram, bounded by request count and time), a Connect
// flow driver that speaks the pages' plain HTML forms, a minimal baseline server, and the
// orchestration behind `make bench` (cmd/sandbox-bench). It only ever talks to loopback.
package bench

import (
	"math/bits"
	"time"
)

// subBits sets the histogram's precision: 2^subBits buckets per power of two, so a recorded
// latency is off by at most 1/64 (1.6 %) of itself. That is plenty for p50/p99 and keeps a
// histogram at 32 KB, small enough to give every worker its own (no sharing, no locks).
const subBits = 6

const subCount = 1 << subBits

// Histogram counts durations in log-linear buckets (the HDR histogram idea, minimal).
type Histogram struct {
	counts [(64 - subBits + 1) * subCount]uint64
	total  uint64
	max    time.Duration
}

func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	e := bits.Len64(v) - subBits - 1 // v>>e is in [subCount, 2*subCount)
	return (e+1)<<subBits + int(v>>e) - subCount
}

// bucketMid is the middle of bucket i's range, the value a quantile in it is reported as.
func bucketMid(i int) uint64 {
	if i < subCount {
		return uint64(i)
	}
	e := i>>subBits - 1
	m := uint64(i&(subCount-1) + subCount)
	return m<<e + (uint64(1)<<e)/2
}

// Record adds one duration (negative ones count as zero).
func (h *Histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d))]++
	h.total++
	if d > h.max {
		h.max = d
	}
}

// Merge adds o's counts to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	if o.max > h.max {
		h.max = o.max
	}
}

// Count is the number of durations recorded.
func (h *Histogram) Count() uint64 { return h.total }

// Max is the largest duration recorded.
func (h *Histogram) Max() time.Duration { return h.max }

// Quantile returns the duration below which a fraction q (0..1) of the recorded ones fall;
// 0 when nothing was recorded.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(q*float64(h.total) + 0.5)
	if rank < 1 {
		rank = 1
	}
	if rank > h.total {
		rank = h.total
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			v := time.Duration(bucketMid(i))
			if v > h.max {
				v = h.max
			}
			return v
		}
	}
	return h.max
}
