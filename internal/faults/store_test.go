package faults_test

import (
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
)

// With -data-dir the rules, how often they fired and their numbering survive a restart: a
// "next 2 calls" rule that fired once before the restart fires once after it, then is gone.
func TestRulesSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	h, tok, v1, _ := setup(t, sandboxtest.Options{DataDir: dir})
	addRule(t, h, map[string]any{"vehicleId": v1, "count": 2, "error": map[string]any{"type": "VEHICLE_STATE", "code": "ASLEEP"}})
	addRule(t, h, map[string]any{"path": "/v3/", "latency": map[string]any{"fixed": "1ms"}})
	if got := statuses(t, h, tok, path(v1, "odometer"), 1); !equal(got, []int{409}) {
		t.Fatalf("before the restart: %v, want [409]", got)
	}

	h2 := sandboxtest.MustStartWith(t, sandboxtest.Options{DataDir: dir})
	var list struct {
		Faults []struct {
			ID    string `json:"id"`
			Fired int    `json:"fired"`
		} `json:"faults"`
	}
	h2.Admin(t, http.MethodGet, "/admin/faults", nil).JSON(t, &list)
	if len(list.Faults) != 2 || list.Faults[0].ID != "f1" || list.Faults[0].Fired != 1 || list.Faults[1].ID != "f2" {
		t.Fatalf("rules after the restart: %+v, want f1 (fired 1) and f2", list.Faults)
	}
	if got := statuses(t, h2, tok, path(v1, "odometer"), 2); !equal(got, []int{409, 200}) {
		t.Errorf("after the restart: %v, want [409 200] (one firing left)", got)
	}
	if id := addRule(t, h2, map[string]any{"latency": map[string]any{"fixed": "1ms"}}); id != "f3" {
		t.Errorf("a rule added after the restart is %s, want f3", id)
	}
}

// A change of the rules that cannot be saved answers 500 in the admin shape and changes
// nothing; a request a rule should fail, when its firing cannot be counted, answers 500 in
// the API's shape rather than passing.
func TestFailedSaveChangesNoRule(t *testing.T) {
	var failing atomic.Bool
	h, tok, v1, _ := setup(t, sandboxtest.Options{DataDir: t.TempDir(), SaveFault: func() error {
		if failing.Load() {
			return errors.New("disk full")
		}
		return nil
	}})
	id := addRule(t, h, map[string]any{"vehicleId": v1, "count": 1, "error": map[string]any{"type": "VEHICLE_STATE", "code": "ASLEEP"}})
	list := func() string { return string(h.Admin(t, http.MethodGet, "/admin/faults", nil).Body) }
	before := list()
	failing.Store(true)
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, "/admin/faults", map[string]any{"latency": map[string]any{"fixed": "1ms"}}},
		{http.MethodDelete, "/admin/faults/" + id, nil},
		{http.MethodDelete, "/admin/faults", nil},
		{http.MethodPost, "/admin/reset", nil},
	} {
		res := h.Admin(t, c.method, c.path, c.body)
		if res.Status != http.StatusInternalServerError || res.Map(t)["error"] == nil {
			t.Errorf("%s %s with a failing store: %d %s, want 500 in the admin shape", c.method, c.path, res.Status, res.Body)
		}
		if got := list(); got != before {
			t.Errorf("%s %s changed the rules although it failed: %s", c.method, c.path, got)
		}
	}
	res := h.Do(t, http.MethodGet, path(v1, "odometer"), tok, nil)
	if res.Status != http.StatusInternalServerError || res.Map(t)["type"] != "SERVER" {
		t.Errorf("a firing rule with a failing store: %d %s, want 500 SERVER", res.Status, res.Body)
	}
	failing.Store(false)
	if got := statuses(t, h, tok, path(v1, "odometer"), 2); !equal(got, []int{409, 200}) {
		t.Errorf("once the store works: %v, want [409 200] (the rule had not fired)", got)
	}
}
