package store

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
)

// loadBatch is how many records of the bulk kinds a decoder takes at a time: enough that
// handing them over costs nothing next to decoding them.
const loadBatch = 256

// load lays the records each hands over (a Backend's Load) on the seeded fixtures: stored
// records win, fixture records the backend does not hold stay. Decoding JSON is most of what
// opening a big database costs, so the records of the bulk kinds (see decodeBulk) go, in
// batches, to a decoder per CPU while the backend reads on, and each decoder lays what it
// decoded over the state itself; every other record is laid there as it comes. A record
// that does not decode stops the open, named.
func (s *Store) load(each func(fn func(Record) error) error) error {
	var mu sync.Mutex // the state and issued, between the decoders and the reader
	var issued []issuedRec
	workers := runtime.GOMAXPROCS(0)
	batches := make(chan []Record, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			vals := make([]any, loadBatch)
			for batch := range batches {
				for i, r := range batch {
					if errs[w] != nil {
						break // the reader finds out at the end; the rest is drained
					}
					vals[i], errs[w] = decodeBulk(r)
					if errs[w] != nil {
						errs[w] = recordError(r, errs[w])
					}
				}
				if errs[w] != nil {
					continue
				}
				mu.Lock()
				for i, r := range batch {
					s.putBulk(r, vals[i])
				}
				mu.Unlock()
			}
		})
	}
	var batch []Record
	err := each(func(r Record) error {
		if !bulkKind(r.Kind) {
			mu.Lock()
			defer mu.Unlock()
			if err := s.loadRecord(r, &issued); err != nil {
				return recordError(r, err)
			}
			return nil
		}
		if batch = append(batch, r); len(batch) == loadBatch {
			batches <- batch
			batch = nil
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		batches <- batch
	}
	close(batches)
	wg.Wait()
	if err = errors.Join(append(errs, err)...); err != nil {
		return err
	}
	s.mergeIssued(issued)
	return nil
}

// bulkKind says whether decodeBulk decodes records of kind.
func bulkKind(kind string) bool {
	switch kind {
	case kindAccount, kindVehicle, kindGrant, kindCode, kindRefresh:
		return true
	}
	return false
}

func recordError(r Record, err error) error {
	return fmt.Errorf("store: record %s %q: %w", r.Kind, r.Key, err)
}

// each hands recs to fn one at a time, as a Backend's Load does.
func each(recs []Record) func(fn func(Record) error) error {
	return func(fn func(Record) error) error {
		for _, r := range recs {
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	}
}
