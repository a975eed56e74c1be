package store

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/brianvoe/gofakeit/v7"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
)

// Records are written with encoding/json and read back with JSON v2 (decodeRecord): reading
// must give back everything that was written, for every type a record holds, with every field
// set (random values) and with every field empty.
func TestRecordReadsBackWhatWasWritten(t *testing.T) {
	for _, tc := range []struct {
		name string
		new  func() any // a pointer to a zero value of the record's type
		fix  func(any)  // makes a randomly filled value one the store could write, if need be
	}{
		{"application", func() any { return new(sandbox.Application) }, nil},
		{"account", func() any { return new(sandbox.Account) }, nil},
		{"vehicle", func() any { return new(sandbox.Vehicle) }, nil},
		{"grant", func() any { return new(sandbox.Grant) }, nil},
		{"code", func() any { return new(sandbox.AuthCode) }, nil},
		{"refresh", func() any { return new(sandbox.RefreshToken) }, nil},
		{"issued", func() any { return new(issuedRec) }, nil},
		{"revoked", func() any { return new(time.Time) }, nil},
		{"key", func() any { return new([]byte) }, nil},
		{"webhook subscription", func() any { return new(WebhookSubscription) }, nil},
		{"webhook verified", func() any { return new(bool) }, nil},
		{"counter", func() any { return new(uint64) }, nil},
		{"fault rule", func() any { return new(FaultRule) }, func(v any) {
			v.(*FaultRule).Rule = json.RawMessage(`{"path":"/v2.0/vehicles/{id}/odometer","status":429,"delay":"1.5s"}`)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check := func(v any) {
				t.Helper()
				written := mustJSON(v)
				back := tc.new()
				if err := decodeRecord(written, back); err != nil {
					t.Fatalf("decodeRecord(%s) = %v", written, err)
				}
				if again := mustJSON(back); !bytes.Equal(again, written) {
					t.Fatalf("wrote %s\nread back %s", written, again)
				}
			}
			check(tc.new())
			f := gofakeit.New(7)
			for range 200 {
				v := tc.new()
				if err := f.Struct(v); err != nil {
					t.Fatal(err)
				}
				if tc.fix != nil {
					tc.fix(v)
				}
				check(v)
			}
		})
	}
}
