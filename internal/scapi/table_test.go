package scapi

import (
	"reflect"
	"testing"
)

func TestIndexAndColumn(t *testing.T) {
	type row struct {
		key string
		n   int
	}
	tests := []struct {
		name string
		rows []row
		cols []string
	}{
		{"empty", nil, []string{}},
		{"in table order", []row{{"b", 1}, {"a", 2}, {"c", 3}}, []string{"b", "a", "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idx := Index(tt.rows, func(r *row) string { return r.key })
			if len(idx) != len(tt.rows) {
				t.Errorf("Index has %d keys, want %d", len(idx), len(tt.rows))
			}
			for i := range tt.rows {
				if got := idx[tt.rows[i].key]; got != &tt.rows[i] {
					t.Errorf("Index[%q] = %p, want the table's row %p", tt.rows[i].key, got, &tt.rows[i])
				}
			}
			if got := Column(tt.rows, func(r *row) string { return r.key }); !reflect.DeepEqual(got, tt.cols) {
				t.Errorf("Column = %q, want %q", got, tt.cols)
			}
		})
	}
}
