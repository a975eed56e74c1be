package scapi

// The v2.0 reads (vehicleapi) and the v3 signal catalogue (internal/signals) are static tables
// looked up by key and listed by one column; these two helpers are how, for both.

// Index maps each row of a table to its key. The map points into rows, so build it once from a
// table that does not change afterwards.
func Index[K comparable, T any](rows []T, key func(*T) K) map[K]*T {
	m := make(map[K]*T, len(rows))
	for i := range rows {
		m[key(&rows[i])] = &rows[i]
	}
	return m
}

// Column lists one column of a table, in table order.
func Column[T, C any](rows []T, col func(*T) C) []C {
	out := make([]C, len(rows))
	for i := range rows {
		out[i] = col(&rows[i])
	}
	return out
}
