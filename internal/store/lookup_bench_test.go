package store_test

import (
	"testing"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/fixtures"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
)

// BenchmarkVehicle is the fixture lookup every vehicle API request makes (a copy of the
// vehicle, so the caller cannot change the store), in a 1,000-vehicle dataset.
func BenchmarkVehicle(b *testing.B) {
	ds := fixtures.GenerateDataset(1000)
	st, err := store.New(ds, store.Options{Garage: fixtures.Garage})
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]string, len(ds.Vehicles))
	for i, v := range ds.Vehicles {
		ids[i] = v.ID
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, ok := st.Vehicle(ids[i%len(ids)]); !ok {
			b.Fatalf("vehicle %s not found", ids[i%len(ids)])
		}
		i++
	}
}
