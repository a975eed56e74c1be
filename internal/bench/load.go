package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Load bounds one measured phase. At least one of MaxOps and Duration must be set; the phase
// ends at whichever comes first.
type Load struct {
	Concurrency int           // workers, each running one operation at a time
	MaxOps      int64         // total operations (0: no bound)
	Duration    time.Duration // wall time (0: no bound)
}

// Op is one operation (a request, or a whole Connect flow). worker is 0..Concurrency-1, so
// an operation can keep per-worker state (a refresh-token chain) without locks.
type Op func(ctx context.Context, worker int) error

// Result is what a phase measured.
type Result struct {
	Ops      int64 // successful operations
	Errors   int64
	FirstErr error
	Elapsed  time.Duration
	Latency  Histogram // of successful operations
	// ServerCPU is the user+system CPU time the server process used during the phase. Unlike
	// throughput it hardly depends on what else runs on the machine.
	ServerCPU time.Duration
}

// CPUPerOp is the server's CPU time per successful operation, in microseconds.
func (r *Result) CPUPerOp() float64 {
	if r.Ops == 0 {
		return 0
	}
	return float64(r.ServerCPU.Microseconds()) / float64(r.Ops)
}

// PerSecond is successful operations per second of wall time.
func (r *Result) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Ops) / r.Elapsed.Seconds()
}

// Add folds another phase's result into r (the read's alternating rounds).
func (r *Result) Add(o *Result) {
	r.Ops += o.Ops
	r.Errors += o.Errors
	if r.FirstErr == nil {
		r.FirstErr = o.FirstErr
	}
	r.Elapsed += o.Elapsed
	r.ServerCPU += o.ServerCPU
	r.Latency.Merge(&o.Latency)
}

// Run runs op with l.Concurrency workers until the bounds are reached or ctx ends. A failed
// operation is counted (and the first error kept) but does not stop the phase: the table
// shows it, and one flaky request should not throw away a run.
func Run(ctx context.Context, l Load, op Op) (*Result, error) {
	if l.Concurrency < 1 {
		return nil, fmt.Errorf("bench: concurrency must be at least 1, got %d", l.Concurrency)
	}
	if l.MaxOps <= 0 && l.Duration <= 0 {
		return nil, errors.New("bench: a load needs a request count or a duration")
	}
	if l.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, l.Duration)
		defer cancel()
	}
	var (
		started  atomic.Int64
		errs     atomic.Int64
		firstErr error
		errOnce  sync.Once
		wg       sync.WaitGroup
	)
	hists := make([]*Histogram, l.Concurrency)
	ok := make([]int64, l.Concurrency)
	begin := time.Now()
	for w := 0; w < l.Concurrency; w++ {
		hists[w] = new(Histogram)
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			h := hists[w]
			for ctx.Err() == nil {
				if l.MaxOps > 0 && started.Add(1) > l.MaxOps {
					return
				}
				t0 := time.Now()
				err := op(ctx, w)
				if err != nil {
					if ctx.Err() != nil {
						return // cut off by the time bound: neither a success nor a failure
					}
					errs.Add(1)
					errOnce.Do(func() { firstErr = err })
					continue
				}
				h.Record(time.Since(t0))
				ok[w]++
			}
		}(w)
	}
	wg.Wait()
	r := &Result{Elapsed: time.Since(begin), Errors: errs.Load(), FirstErr: firstErr}
	for w, h := range hists {
		r.Latency.Merge(h)
		r.Ops += ok[w]
	}
	return r, nil
}

// NewClient returns a keep-alive HTTP client for conns concurrent requests that never follows
// redirects (Connect's last answer is a 302 to the app's own scheme) and refuses to dial
// anything but a loopback address.
func NewClient(conns int) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				return nil, fmt.Errorf("bench: refusing to load %s: only loopback addresses", addr)
			}
			return d.DialContext(ctx, network, addr)
		},
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
