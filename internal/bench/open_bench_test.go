package bench

import (
	"syscall"
	"testing"
	"time"

	defaultfixtures "github.com/smartcar-sandbox/smartcar-sandbox/fixtures"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/fixtures"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
)

// BenchmarkOpen is the store's share of the sandbox's start-up with a big database: New on
// the SQLite database 10,000 signed-in users leave (SeedUsers, about 50,000 records),
// reading and decoding all of it. With -cpu 2, ns/op is wall time on two cores; cpu-ms/op is
// the process's CPU time (user and system) per open, which a busy machine moves less.
//
//	go test -run '^$' -bench Open -benchmem -cpu 2 ./internal/bench
func BenchmarkOpen(b *testing.B) {
	dir := b.TempDir()
	if err := SeedUsers(dir, 10000); err != nil {
		b.Fatal(err)
	}
	ds, err := fixtures.Load(defaultfixtures.FS)
	if err != nil {
		b.Fatal(err)
	}
	cpu0 := cpuTime(b)
	for b.Loop() {
		st, err := store.New(ds, store.Options{DataDir: dir, Garage: fixtures.Garage})
		if err != nil {
			b.Fatal(err)
		}
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
