package faults

import (
	"net/http"
	"testing"
)

func TestHeaderKeyIsCanonical(t *testing.T) {
	if got, want := headerKey, http.CanonicalHeaderKey(HeaderName); got != want {
		t.Errorf("headerKey = %q, want %q", got, want)
	}
}
