package bench

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/app"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/config"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/token"
)

func TestHistogramQuantiles(t *testing.T) {
	var h Histogram
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{
		{0.5, 500 * time.Microsecond},
		{0.99, 990 * time.Microsecond},
		{1, 1000 * time.Microsecond},
	} {
		got := h.Quantile(tc.q)
		// The buckets are 1/64 of the value wide, so the answer is within 1.6 %.
		if diff := got - tc.want; diff < -tc.want/64 || diff > tc.want/64 {
			t.Errorf("Quantile(%v) = %v, want %v ± 1.6%%", tc.q, got, tc.want)
		}
	}
	if h.Count() != 1000 || h.Max() != time.Millisecond {
		t.Errorf("Count, Max = %d, %v; want 1000, 1ms", h.Count(), h.Max())
	}
	var empty Histogram
	if got := empty.Quantile(0.5); got != 0 {
		t.Errorf("empty Quantile = %v, want 0", got)
	}
}

func TestBucketsCoverEveryValue(t *testing.T) {
	for _, v := range []uint64{0, 1, 63, 64, 65, 127, 128, 1000, 1 << 40, 1<<63 - 1} {
		i := bucketOf(v)
		if i < 0 || i >= len(Histogram{}.counts) {
			t.Fatalf("bucketOf(%d) = %d, out of range", v, i)
		}
		mid := bucketMid(i)
		if lo, hi := v-v/64, v+v/64+1; mid < lo || mid > hi {
			t.Errorf("bucketMid(bucketOf(%d)) = %d, want within 1/64", v, mid)
		}
	}
}

func TestRunBoundsAndCounts(t *testing.T) {
	for _, tc := range []struct {
		name     string
		load     Load
		failEach int64
		wantOps  int64
		wantErrs int64
	}{
		{"count bound", Load{Concurrency: 4, MaxOps: 100}, 0, 100, 0},
		{"errors counted", Load{Concurrency: 3, MaxOps: 90}, 3, 60, 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n [8]int64
			op := func(_ context.Context, w int) error {
				n[w]++
				if tc.failEach > 0 && n[w]%tc.failEach == 0 {
					return errors.New("boom")
				}
				return nil
			}
			r, err := Run(context.Background(), tc.load, op)
			if err != nil {
				t.Fatal(err)
			}
			// With failures the split across workers varies; the total never does.
			if tc.failEach == 0 && (r.Ops != tc.wantOps || r.Errors != 0) {
				t.Errorf("Ops, Errors = %d, %d; want %d, 0", r.Ops, r.Errors, tc.wantOps)
			}
			if r.Ops+r.Errors != tc.load.MaxOps || int64(r.Latency.Count()) != r.Ops {
				t.Errorf("Ops %d + Errors %d != %d, or histogram count %d", r.Ops, r.Errors, tc.load.MaxOps, r.Latency.Count())
			}
			if tc.wantErrs > 0 && (r.Errors == 0 || r.FirstErr == nil) {
				t.Errorf("Errors = %d, FirstErr = %v; want some", r.Errors, r.FirstErr)
			}
		})
	}
	start := time.Now()
	r, err := Run(context.Background(), Load{Concurrency: 2, Duration: 50 * time.Millisecond}, func(ctx context.Context, _ int) error {
		time.Sleep(time.Millisecond)
		return nil
	})
	if err != nil || r.Ops == 0 || time.Since(start) > 2*time.Second {
		t.Errorf("time-bounded run: %v ops in %v, %v", r, time.Since(start), err)
	}
	if _, err := Run(context.Background(), Load{Concurrency: 1}, nil); err == nil {
		t.Error("a load with no bound was accepted")
	}
}

func TestClientRefusesNonLoopback(t *testing.T) {
	c := &Client{Base: "http://192.0.2.1:80", HTTP: NewClient(1), App: DemoApp}
	err := c.Read("/healthz", "x")(context.Background(), 0)
	if err == nil || !strings.Contains(err.Error(), "only loopback") {
		t.Fatalf("err = %v, want a loopback refusal", err)
	}
}

// TestToolAgainstRealSandbox drives every phase's operation a few hundred times against a
// sandbox started in process (the real router and fixtures) and the baseline server.
func TestToolAgainstRealSandbox(t *testing.T) {
	a, err := app.Start(config.Config{Addr: "127.0.0.1:0", LogFormat: "text"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.Shutdown(ctx)
	})
	ctx := context.Background()
	c := &Client{Base: a.Origin, HTTP: NewClient(8), App: DemoApp}
	tok, err := c.Flow(ctx, DemoUser)
	if err != nil {
		t.Fatal(err)
	}
	if tok.VehicleID != "d21b0a03-5c3f-5c86-8c05-122d6fde0b3c" {
		t.Errorf("first vehicle = %s, want the demo TESLA", tok.VehicleID)
	}

	key := token.NewKey()
	iss, _ := token.NewIssuer(key, nil)
	base := httptest.NewServer(BaselineHandler(iss))
	defer base.Close()
	baseTok, err := mirrorToken(key, tok.Access)
	if err != nil {
		t.Fatal(err)
	}
	bc := &Client{Base: base.URL, HTTP: c.HTTP}

	chains := make([]string, 4)
	for i := range chains {
		tk, err := c.Flow(ctx, "bench-user@sandbox.test")
		if err != nil {
			t.Fatal(err)
		}
		chains[i] = tk.Refresh
	}
	read := "/v2.0/vehicles/" + tok.VehicleID + "/odometer"
	for _, tc := range []struct {
		name string
		n    int64
		op   Op
	}{
		{"read", 300, c.Read(read, tok.Access)},
		{"baseline", 300, bc.Read(read, baseTok)},
		{"baseline refuses the sandbox's token", 0, bc.Read(read, tok.Access)},
		{"batch", 200, c.Batch(tok.VehicleID, tok.Access)},
		{"refresh", 100, func(ctx context.Context, w int) error {
			tk, err := c.Refresh(ctx, chains[w])
			chains[w] = tk.Refresh
			return err
		}},
		{"flow", 20, func(ctx context.Context, w int) error {
			_, err := c.Flow(ctx, DemoUser)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			max := tc.n
			if max == 0 {
				max = 4
			}
			r, err := Run(ctx, Load{Concurrency: 4, MaxOps: max}, tc.op)
			if err != nil {
				t.Fatal(err)
			}
			if tc.n == 0 {
				if r.Errors != max {
					t.Errorf("%d errors, want %d", r.Errors, max)
				}
				return
			}
			if r.Ops != tc.n || r.Errors != 0 || r.Latency.Quantile(0.5) <= 0 {
				t.Errorf("ops %d, errors %d (first: %v), p50 %v; want %d ops, no errors", r.Ops, r.Errors, r.FirstErr, r.Latency.Quantile(0.5), tc.n)
			}
		})
	}
}

func TestReadRSS(t *testing.T) {
	rss, err := ReadRSS(os.Getpid())
	if err != nil || rss < 1<<20 {
		t.Fatalf("ReadRSS(self) = %d, %v; want more than 1 MB", rss, err)
	}
	if _, err := ReadRSS(-1); err == nil {
		t.Error("ReadRSS(-1) gave no error")
	}
	before, err := ReadCPUTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Spin until the tick-granular counter moves; on a busy machine that can take a while.
	after := before
	for end := time.Now().Add(5 * time.Second); after <= before && time.Now().Before(end); {
		if after, err = ReadCPUTime(os.Getpid()); err != nil {
			t.Fatal(err)
		}
	}
	if after <= before {
		t.Errorf("ReadCPUTime did not move in 5 s of spinning: %v then %v", before, after)
	}
}

func TestWriteGeneratedFixtures(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gen")
	if err := WriteGeneratedFixtures(dir, 9, 2); err != nil {
		t.Fatal(err)
	}
	a, err := app.Start(config.Config{Addr: "127.0.0.1:0", LogFormat: "text", FixturesDir: dir}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Shutdown(context.Background())
	if got := len(a.Dataset.Vehicles); got != 9 {
		t.Errorf("%d vehicles loaded, want 9", got)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*.yaml")); len(files) != 2 {
		t.Errorf("files %v, want 2", files)
	}
}
