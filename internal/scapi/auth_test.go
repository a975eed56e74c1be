package scapi

import (
	"reflect"
	"testing"
)

func TestIntersect(t *testing.T) {
	tests := []struct {
		have, allowed, want []string
	}{
		{[]string{"a", "b"}, []string{"b", "a", "c"}, []string{"a", "b"}},
		{[]string{"a", "b", "c"}, []string{"c", "a"}, []string{"a", "c"}},
		{[]string{"b", "a"}, []string{"a"}, []string{"a"}},
		{[]string{"a"}, nil, nil},
		{nil, []string{"a"}, nil},
		{[]string{"a", "a", "x", "a"}, []string{"a"}, []string{"a", "a", "a"}},
	}
	for _, tt := range tests {
		if got := intersect(tt.have, tt.allowed); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("intersect(%q, %q) = %q, want %q", tt.have, tt.allowed, got, tt.want)
		}
	}
}
