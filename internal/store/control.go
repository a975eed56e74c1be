package store

import (
	"encoding/json"
	"slices"
	"strings"
	"sync/atomic"
)

// Control records are what the sandbox's own tools hold beside Smartcar's state: the
// scripted fault rules (internal/faults) and settings such as the request log's size
// (internal/requestlog). They live in the store like every other record, so a durable
// backend keeps them across a restart, replicas on one PostgreSQL share them, and each change
// is one transaction committed before it is seen. The store orders and keeps a fault rule as
// its owner's JSON; the faults package knows what it means.
const (
	kindFault   = "fault"   // rule id -> FaultRule
	kindSetting = "setting" // setting name -> its JSON value
)

// settingFaultSeq is the last fault rule number handed out: ids are not reused after a
// delete or a clear, so a test that deletes "f1" never deletes a later rule by mistake.
const settingFaultSeq = "fault_seq"

// FaultRule is a fault rule as the store keeps it.
type FaultRule struct {
	ID   string          `json:"id"`
	Seq  uint64          `json:"seq"` // the order rules were added in, which is the order they are tried
	Rule json.RawMessage `json:"rule"`
}

// controlState is the control records. gen counts their changes (committed, undone or
// caught up from another sandbox), so a reader that keeps a decoded copy (the request log's
// size) knows when to read again without a lookup per request.
type controlState struct {
	faultRules map[string]FaultRule
	settings   map[string]json.RawMessage
	gen        *atomic.Uint64
}

func newControlState() controlState {
	return controlState{faultRules: make(map[string]FaultRule), settings: make(map[string]json.RawMessage), gen: new(atomic.Uint64)}
}

// ControlGeneration changes whenever a fault rule or a setting may have changed.
func (s *Store) ControlGeneration() uint64 { return s.control.gen.Load() }

// undoControl keeps a control record's value and returns what puts it back: a transaction's
// undo, or the redo of a commit in flight (see Store.capture).
func (c *controlState) undoControl(kind, key string) func() {
	if kind == kindFault {
		old, had := c.faultRules[key]
		return func() { restore(c.faultRules, key, old, had); c.gen.Add(1) }
	}
	old, had := c.settings[key]
	return func() { restore(c.settings, key, old, had); c.gen.Add(1) }
}

func (c *controlState) unloadControl(kind, key string) {
	if kind == kindFault {
		delete(c.faultRules, key)
	} else {
		delete(c.settings, key)
	}
	c.gen.Add(1)
}

func (c *controlState) valueOf(kind, key string) (any, bool) {
	if kind == kindFault {
		return lookup(c.faultRules, key)
	}
	return lookup(c.settings, key)
}

func (c *controlState) loadControl(r Record) error {
	c.gen.Add(1)
	if r.Kind == kindFault {
		return decodeValue(r.Value, c.faultRules, r.Key)
	}
	return decodeValue(r.Value, c.settings, r.Key)
}

func (c *controlState) controlRecords(add func(kind, key string, v any)) {
	for k, v := range c.faultRules {
		add(kindFault, k, v)
	}
	for k, v := range c.settings {
		add(kindSetting, k, v)
	}
}

// --- fault rules ---

// HasFaultRules reports whether any fault rule is set: the fault middleware asks on every
// API request, so in memory it costs a read lock and nothing else.
func (s *Store) HasFaultRules() bool {
	s.catchUp()
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.control.faultRules) > 0
}

// FaultRules lists the fault rules in the order they were added.
func (s *Store) FaultRules() []FaultRule {
	s.catchUp()
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.faultRulesLocked()
}

func (s *Store) faultRulesLocked() []FaultRule {
	out := make([]FaultRule, 0, len(s.control.faultRules))
	for _, r := range s.control.faultRules {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b FaultRule) int { return cmpUint(a.Seq, b.Seq) })
	return out
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// AddFaultRule numbers a new rule (after every rule ever added, across replicas) and keeps
// what make returns for that number, in one transaction.
func (s *Store) AddFaultRule(build func(seq uint64) (FaultRule, error)) (FaultRule, error) {
	var added FaultRule
	err := s.tx(func(t *tx) error {
		var seq uint64
		if raw, ok := s.control.settings[settingFaultSeq]; ok {
			if err := decodeRecord(raw, &seq); err != nil {
				return err
			}
		}
		seq++
		r, err := build(seq)
		if err != nil {
			return err
		}
		r.Seq = seq
		t.touch(kindSetting, settingFaultSeq)
		t.touch(kindFault, r.ID)
		s.control.settings[settingFaultSeq] = mustJSON(seq)
		s.control.faultRules[r.ID] = r
		s.control.gen.Add(1)
		added = r
		return nil
	})
	return added, err
}

// UpdateFaultRules runs fn on the rules, in order, as one transaction (a request that fires
// rules counts them here, so a "next 2 calls" rule fires twice across every replica). fn
// returns the rules it changed and the ids of those to remove; returning neither writes
// nothing.
func (s *Store) UpdateFaultRules(fn func(rules []FaultRule) (changed []FaultRule, removed []string, err error)) error {
	return s.tx(func(t *tx) error {
		changed, removed, err := fn(s.faultRulesLocked())
		if err != nil {
			return err
		}
		for _, r := range changed {
			if _, ok := s.control.faultRules[r.ID]; ok {
				t.touch(kindFault, r.ID)
				s.control.faultRules[r.ID] = r
			}
		}
		for _, id := range removed {
			if _, ok := s.control.faultRules[id]; ok {
				t.touch(kindFault, id)
				delete(s.control.faultRules, id)
			}
		}
		s.control.gen.Add(1)
		return nil
	})
}

// DeleteFaultRule removes one rule; it reports whether there was one.
func (s *Store) DeleteFaultRule(id string) (bool, error) {
	had := false
	err := s.UpdateFaultRules(func(rules []FaultRule) ([]FaultRule, []string, error) {
		had = slices.ContainsFunc(rules, func(r FaultRule) bool { return r.ID == id })
		return nil, []string{id}, nil
	})
	return had && err == nil, err
}

// ClearFaultRules removes every rule.
func (s *Store) ClearFaultRules() error {
	return s.tx(func(t *tx) error {
		s.clearFaultRules(t)
		return nil
	})
}

func (s *Store) clearFaultRules(t *tx) {
	for id := range s.control.faultRules {
		t.touch(kindFault, id)
	}
	clear(s.control.faultRules)
	s.control.gen.Add(1)
}

// --- settings ---

// Setting decodes the setting called name into v; false when it was never set.
func (s *Store) Setting(name string, v any) bool {
	s.catchUp()
	s.mu.RLock()
	defer s.mu.RUnlock()
	raw, ok := s.control.settings[name]
	return ok && decodeRecord(raw, v) == nil
}

// PutSetting sets the setting called name to v (any JSON value), in one transaction.
func (s *Store) PutSetting(name string, v any) error {
	if strings.HasPrefix(name, "fault_") {
		panic("store: setting " + name + " belongs to the fault rules")
	}
	raw := mustJSON(v)
	return s.tx(func(t *tx) error {
		t.touch(kindSetting, name)
		s.control.settings[name] = raw
		s.control.gen.Add(1)
		return nil
	})
}
