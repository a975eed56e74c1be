package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
)

func addRule(t *testing.T, s *Store, body string) FaultRule {
	t.Helper()
	r, err := s.AddFaultRule(func(seq uint64) (FaultRule, error) {
		return FaultRule{ID: fmt.Sprintf("f%d", seq), Rule: json.RawMessage(body)}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func ruleIDs(rules []FaultRule) []string {
	var out []string
	for _, r := range rules {
		out = append(out, r.ID+"="+string(r.Rule))
	}
	return out
}

// Fault rules (their order, counts and numbering) and settings are kept across a restart;
// a reset clears the rules and keeps the settings and the numbering.
func testControlRecordsSurvive(t *testing.T, b backendUnderTest) {
	now := t0
	s, reopen, _ := b.open(t, &now)
	for i := range 3 {
		addRule(t, s, fmt.Sprintf(`{"n":%d}`, i))
	}
	if had, err := s.DeleteFaultRule("f2"); err != nil || !had {
		t.Fatalf("DeleteFaultRule(f2) = %v, %v", had, err)
	}
	if err := s.UpdateFaultRules(func(rules []FaultRule) ([]FaultRule, []string, error) {
		r := rules[0]
		r.Rule = json.RawMessage(`{"n":0,"fired":1}`)
		return []FaultRule{r}, nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSetting("request_log_size", 7); err != nil {
		t.Fatal(err)
	}
	want := []string{`f1={"n":0,"fired":1}`, `f3={"n":2}`}
	stores := []*Store{s}
	if reopen != nil {
		stores = append(stores, reopen())
	}
	for i, st := range stores {
		if got := ruleIDs(st.FaultRules()); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("store %d: rules %v, want %v", i, got, want)
		}
		var n int
		if !st.Setting("request_log_size", &n) || n != 7 {
			t.Errorf("store %d: setting = %d, want 7", i, n)
		}
	}
	last := stores[len(stores)-1]
	if err := last.Reset(nil); err != nil {
		t.Fatal(err)
	}
	if reopen != nil {
		last = reopen()
	}
	if last.HasFaultRules() {
		t.Errorf("rules after a reset: %v", ruleIDs(last.FaultRules()))
	}
	var n int
	if !last.Setting("request_log_size", &n) || n != 7 {
		t.Errorf("the setting after a reset = %d, want 7", n)
	}
	if r := addRule(t, last, `{}`); r.ID != "f4" {
		t.Errorf("the rule added after a reset is %s, want f4 (numbers are not reused)", r.ID)
	}
}

// Every change of the control records is one transaction: when it cannot be committed
// nothing changes, for readers and after a restart.
func testControlFailedCommit(t *testing.T, b backendUnderTest) {
	now := t0
	s, reopen, fail := b.open(t, &now)
	if fail == nil {
		t.Skip("a backend whose commits cannot fail")
	}
	addRule(t, s, `{"n":1}`)
	if err := s.PutSetting("request_log_size", 5); err != nil {
		t.Fatal(err)
	}
	changes := map[string]func() error{
		"add": func() error {
			_, err := s.AddFaultRule(func(seq uint64) (FaultRule, error) {
				return FaultRule{ID: fmt.Sprint(seq), Rule: json.RawMessage(`{}`)}, nil
			})
			return err
		},
		"fire": func() error {
			return s.UpdateFaultRules(func(rules []FaultRule) ([]FaultRule, []string, error) {
				r := rules[0]
				r.Rule = json.RawMessage(`{"fired":1}`)
				return []FaultRule{r}, nil, nil
			})
		},
		"use up":  func() error { _, err := s.DeleteFaultRule("f1"); return err },
		"clear":   s.ClearFaultRules,
		"setting": func() error { return s.PutSetting("request_log_size", 9) },
	}
	for name, change := range changes {
		before := stateJSON(t, s)
		gen := s.ControlGeneration()
		fail.Store(true)
		err := change()
		fail.Store(false)
		if !errors.Is(err, ErrNotSaved) {
			t.Fatalf("%s: err = %v, want ErrNotSaved", name, err)
		}
		if after := stateJSON(t, s); after != before {
			t.Errorf("%s: the state changed although the commit failed", name)
		}
		if s.ControlGeneration() == gen {
			t.Errorf("%s: the generation did not move, so a cached copy would keep the undone change", name)
		}
		if got := stateJSON(t, reopen()); got != before {
			t.Errorf("%s: a restart sees another state", name)
		}
	}
}
