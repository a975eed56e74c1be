package store

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	jsonv1 "github.com/go-json-experiment/json/v1"
	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
)

// state is everything the store holds, in plain maps. Only tx changes it.
type state struct {
	fixtures sandbox.Dataset

	apps     map[string]*sandbox.Application // by client id
	accounts map[string]*sandbox.Account     // by lower-cased username
	users    map[string]string               // user id -> lower-cased username
	vehicles map[string]*sandbox.Vehicle     // by id
	grants   map[grantKey]*sandbox.Grant
	parked   map[grantKey]*sandbox.Grant  // grants whose vehicle a reload removed (see Reload); memory only
	codes    map[string]*sandbox.AuthCode // unused and used ones (see AuthCode.UsedAt)
	refresh  *refreshTokens
	revoked  map[string]time.Time // access token ids (jti) revoked -> when they expire anyway

	// authSeq is the last authorization number handed out (see Authorize). It never goes
	// back, not even on Reset: a token signed before a reset must not meet a grant made after
	// it with a number it passes.
	authSeq uint64
	// revokedAuth holds the authorizations ended early (a replayed code, an admin revoke) ->
	// when the last access token issued under them expires anyway.
	revokedAuth map[uint64]time.Time

	issued     []issuedRec          // newest last, bounded (see tokens.go)
	issuedSeq  uint64               // the number of the newest issued token (see issuedRec)
	expiredNow map[string]time.Time // access token ids expired early by the admin API -> when they expire anyway

	keys map[string][]byte // named secrets (see Key)

	webhookSubs      map[string]WebhookSubscription // by WebhookSubscription.key (see webhooks.go)
	webhooksVerified map[string]bool                // webhook id -> passed its challenge

	control controlState // fault rules and settings (see control.go)
}

// tx is one change to the store. Store.tx runs it under the write lock and commits it before
// the lock is released, so no reader sees a change the backend does not hold. Each record a
// change touches is named with touch before it changes (or written with write); with a
// durable backend that names the rows to commit and keeps the old value, so a failed commit
// puts memory back exactly (undo, newest first). In memory there is nothing to commit and
// nothing can fail, so touch does nothing and a transaction costs no more than the lock.
// Transactions that arrive together share one backend commit (see groupTx).
type tx struct {
	s       *Store
	durable bool
	full    bool // the whole state changed (Reset, Reload): commit it all
	touched map[recKey]bool
	dirty   []recKey
	writes  []Record // records given with their value (issued tokens)
	undo    []func()
}

type recKey struct{ kind, key string }

// tx runs fn as one transaction: under the write lock, committed to the backend before the
// lock is released. When fn fails nothing is committed and its error is returned as is; fn
// must not change anything before it fails (in memory there is no undo). When the commit
// fails the change is undone and ErrNotSaved is returned.
func (s *Store) tx(fn func(t *tx) error) error {
	if s.backend != nil {
		return s.groupTx(fn)
	}
	s.mu.Lock()
	defer s.mu.Unlock() // deferred: a panicking fn must not leave the store locked for good
	// One transaction runs at a time, so the in-memory store keeps one tx and reuses it: a
	// request's change allocates nothing for it.
	t := &s.txn
	*t = tx{s: s}
	return fn(t)
}

// txPanic is a panic in a transaction of a group (see commitGroup), carried to the writer
// whose transaction it was, who panics again with it once the group is answered: a bug in one
// request's change then costs that request (the server answers it 500) and is undone, instead
// of leaving the lock held and every other writer waiting for good.
type txPanic struct{ value any }

func (p *txPanic) Error() string { return fmt.Sprint("store: a transaction panicked: ", p.value) }

// result is what a writer of a group returns: its error, or its transaction's panic again.
func result(err error) error {
	if p, ok := err.(*txPanic); ok {
		panic(p.value)
	}
	return err
}

// pendingTx is a transaction waiting for the group commit.
type pendingTx struct {
	fn   func(t *tx) error
	done chan txResult // buffered: one result, or the lead
}

type txResult struct {
	err  error
	lead bool // no result yet: commit the queue
}

// groupTx runs fn with a durable backend. Writers that arrive while a commit is on its way
// queue up; the next leader runs every queued transaction under the write lock, one after
// the other, and commits them as one backend transaction (one fsync for all), then answers
// each and hands the lead to the first writer that queued meanwhile. No reader sees a change
// before it is durable (see commitGroup); if the commit fails every transaction of the group
// is undone (newest first) and each gets ErrNotSaved.
func (s *Store) groupTx(fn func(t *tx) error) error {
	p := &pendingTx{fn: fn, done: make(chan txResult, 1)}
	s.qmu.Lock()
	s.queue = append(s.queue, p)
	lead := !s.committing
	s.committing = true
	s.qmu.Unlock()
	if !lead {
		if r := <-p.done; !r.lead {
			return result(r.err)
		}
	}
	s.qmu.Lock()
	group := s.queue
	s.queue = nil
	s.qmu.Unlock()
	s.commitGroup(group)
	s.qmu.Lock()
	if len(s.queue) > 0 {
		s.queue[0].done <- txResult{lead: true}
	} else {
		s.committing = false
	}
	s.qmu.Unlock()
	return result((<-p.done).err)
}

// commitGroup runs and commits a group of transactions, answering each.
//
// With a backend of its own (SQLite) the group runs under the write lock, and then, before
// the lock is let go for the commit, its changes are taken back out of memory (the undo
// every transaction keeps) and a redo is kept: readers meanwhile see the state as it was
// before the group, which is what the backend holds, instead of waiting for the fsync; the
// redo puts the changes back under the lock once they are committed, before any writer of
// the group is answered. So no reader ever sees a change the backend does not hold, and a
// failed commit has nothing left to undo. Writers still wait: the next group runs only
// after this one is back in memory.
//
// With a shared backend the group runs inside the backend's writing transaction, after the
// other sandboxes' writes since the last one have been applied, all under the lock: a
// catch-up while the lock was out could apply another sandbox's newer write of a record that
// the redo would then overwrite.
//
// A transaction whose fn panics is undone and its writer gets the panic back (txPanic); a
// panic anywhere else in the group (encoding a record) undoes the whole group and every
// writer gets it. Either way every writer is answered and the lock is let go.
func (s *Store) commitGroup(group []*pendingTx) {
	errs := make([]error, len(group))
	func() {
		defer func() {
			if v := recover(); v != nil {
				s.log.Error("a store commit panicked; its group was undone", "panic", v, "stack", string(debug.Stack()))
				for i := range errs {
					errs[i] = &txPanic{v}
				}
			}
		}()
		s.runGroup(group, errs)
	}()
	for i, p := range group {
		p.done <- txResult{err: errs[i]}
	}
}

// runTx runs fn on t; a panic comes back as a *txPanic error, to be undone like a failure.
func (s *Store) runTx(t *tx, fn func(t *tx) error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("a store transaction panicked; it was undone", "panic", v, "stack", string(debug.Stack()))
			err = &txPanic{v}
		}
	}()
	return fn(t)
}

// runGroup runs and commits the group under the write lock (see commitGroup), setting each
// transaction's error in errs.
func (s *Store) runGroup(group []*pendingTx, errs []error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var applied []*tx
	var appliedAt []int
	defer func() { // runs before the unlock: nothing a panic interrupted stays in memory
		if v := recover(); v != nil {
			rollback(applied)
			panic(v)
		}
	}()
	full := false
	run := func() {
		for i, p := range group {
			t := &tx{s: s, durable: true}
			if err := s.runTx(t, p.fn); err != nil {
				t.rollback()
				errs[i] = err
				continue
			}
			applied = append(applied, t)
			appliedAt = append(appliedAt, i)
			full = full || t.full
		}
	}
	var err error
	if s.shared != nil {
		var v int64
		v, err = s.shared.Sync(s.version, func(changed []Record) (bool, []Record, error) {
			s.apply(changed)
			run()
			changes := s.changesOf(applied, full)
			if s.saveFault != nil {
				if err := s.saveFault(); err != nil {
					return false, nil, err
				}
			}
			return full, changes, nil
		})
		if err == nil {
			s.version = v
		} else {
			s.log.Error("saving changes failed; they were undone", "error", err)
			err = fmt.Errorf("%w (%s)", ErrNotSaved, causeWithoutPath(err))
			for i := range group { // the group did not run when the database could not be reached
				if errs[i] == nil && !slices.ContainsFunc(appliedAt, func(j int) bool { return j == i }) {
					errs[i] = err
				}
			}
		}
	} else {
		run()
		changes := s.changesOf(applied, full)
		redo := s.redoOf(applied, full)
		rollback(applied)
		applied = nil // out of memory already: nothing to undo
		s.mu.Unlock()
		err = func() error {
			defer s.mu.Lock() // even if the commit panics: the deferred unlock above needs it
			return s.commit(changes, full)
		}()
		if err == nil {
			for _, f := range redo {
				f()
			}
		}
	}
	if err != nil {
		rollback(applied)
		for _, i := range appliedAt {
			errs[i] = err
		}
	}
}

// touch names a record about to change (kind, key) and keeps its value for undo.
func (t *tx) touch(kind, key string) {
	if !t.durable || t.full {
		return
	}
	k := recKey{kind, key}
	if t.touched[k] {
		return
	}
	if t.touched == nil {
		t.touched = make(map[recKey]bool)
	}
	t.touched[k] = true
	t.dirty = append(t.dirty, k)
	t.undo = append(t.undo, t.s.capture(kind, key))
}

// capture returns what puts the record (kind, key) back as it is now, whatever changes it
// meanwhile: a transaction's undo (captured before it changes the record) and, for a group
// committed without the lock (see commitGroup), its redo (captured after).
func (s *Store) capture(kind, key string) func() {
	switch kind {
	case kindApp:
		old, had := s.apps[key]
		return func() { restore(s.apps, key, old, had) }
	case kindAccount:
		old, had := s.accounts[key]
		var copied sandbox.Account
		if had {
			copied = *old
		}
		return func() {
			if a, ok := s.accounts[key]; ok {
				delete(s.users, a.UserID)
				delete(s.accounts, key)
			}
			if had {
				s.putAccountLocked(copied)
			}
		}
	case kindVehicle:
		old, had := s.vehicles[key]
		return func() { restore(s.vehicles, key, old, had) }
	case kindGrant:
		gk := parseGrantKey(key)
		old, had := s.grants[gk]
		var copied sandbox.Grant
		if had {
			copied = *old
		}
		return func() { restore(s.grants, gk, &copied, had) }
	case kindCode:
		old, had := s.codes[key]
		var copied sandbox.AuthCode
		if had {
			copied = *old // RedeemCode and ExpireCode change a code in place
		}
		return func() { restore(s.codes, key, &copied, had) }
	case kindRefresh:
		_, tok, _ := strings.Cut(key, "/")
		old, had := s.refresh.get(tok)
		return func() {
			s.refresh.remove(tok)
			if had {
				s.refresh.put(old)
			}
		}
	case kindRevoked:
		old, had := s.revoked[key]
		return func() { restore(s.revoked, key, old, had) }
	case kindExpiredNow:
		old, had := s.expiredNow[key]
		return func() {
			if s.expiredNow == nil {
				s.expiredNow = make(map[string]time.Time)
			}
			restore(s.expiredNow, key, old, had)
		}
	case kindRevokedAuth:
		n, _ := strconv.ParseUint(key, 10, 64)
		old, had := s.revokedAuth[n]
		return func() { restore(s.revokedAuth, n, old, had) }
	case kindMeta: // metaAuthSeq
		old := s.authSeq
		return func() { s.authSeq = old }
	case kindIssued: // the whole list, whatever the key
		old, oldSeq := s.issued, s.issuedSeq
		return func() { s.issued, s.issuedSeq = old, oldSeq }
	case kindKey:
		old, had := s.keys[key]
		return func() { restore(s.keys, key, old, had) }
	case kindWebhookSub:
		old, had := s.webhookSubs[key]
		return func() { restore(s.webhookSubs, key, old, had) }
	case kindWebhookVerified:
		old, had := s.webhooksVerified[key]
		return func() { restore(s.webhooksVerified, key, old, had) }
	case kindFault, kindSetting:
		return s.control.undoControl(kind, key)
	default:
		panic("store: touch of unknown kind " + kind)
	}
}

func restore[K comparable, V any](m map[K]V, k K, old V, had bool) {
	if had {
		m[k] = old
	} else {
		delete(m, k)
	}
}

// replaceAll marks a change of the whole state (Reset, Reload): the commit writes every
// record, and undo puts the state as it was before back. Call it before changing anything.
func (t *tx) replaceAll() {
	if !t.durable || t.full {
		return
	}
	t.full = true
	s := t.s
	before := s.state
	// The maps Reset and Reload keep are copied: the new state goes on changing them.
	before.revoked = maps.Clone(s.revoked)
	before.revokedAuth = maps.Clone(s.revokedAuth)
	before.expiredNow = maps.Clone(s.expiredNow)
	before.keys = maps.Clone(s.keys)
	before.webhookSubs = maps.Clone(s.webhookSubs)
	before.webhooksVerified = maps.Clone(s.webhooksVerified)
	before.issued = slices.Clone(s.issued)
	t.undo = append(t.undo[:0], func() { s.state = before })
}

// write records a change given with its value (nil deletes), for records with no map of
// their own to read it back from (issued tokens); undo is the caller's.
func (t *tx) write(kind, key string, v any) {
	if !t.durable || t.full {
		return
	}
	var b []byte
	if v != nil {
		b = mustJSON(v)
	}
	t.writes = append(t.writes, Record{Kind: kind, Key: key, Value: b})
}

func (t *tx) rollback() {
	for i := len(t.undo) - 1; i >= 0; i-- {
		t.undo[i]()
	}
}

// rollback undoes the transactions txs, newest first.
func rollback(txs []*tx) {
	for j := len(txs) - 1; j >= 0; j-- {
		txs[j].rollback()
	}
}

// redoOf is what puts the changes of the transactions txs back once they were undone: the
// whole state after a full change, the issued tokens, then every record they changed, each
// as it is now.
func (s *Store) redoOf(txs []*tx, full bool) []func() {
	var redo []func()
	if full {
		after := s.state
		redo = append(redo, func() { s.state = after })
	}
	redo = append(redo, s.capture(kindIssued, ""))
	for _, t := range txs {
		for _, k := range t.dirty {
			redo = append(redo, s.capture(k.kind, k.key))
		}
	}
	return redo
}

// commit writes changes in one backend transaction (with full, they are the whole state).
func (s *Store) commit(changes []Record, full bool) error {
	if !full && len(changes) == 0 {
		return nil
	}
	var err error
	if s.saveFault != nil {
		err = s.saveFault()
	}
	if err == nil {
		err = s.backend.Commit(full, changes)
	}
	if err != nil {
		s.log.Error("saving changes failed; they were undone", "dir", s.dataDir, "error", err)
		return fmt.Errorf("%w (%s)", ErrNotSaved, causeWithoutPath(err))
	}
	return nil
}

// changesOf is the records the transactions txs changed, as they are now (with full, the
// whole state).
func (s *Store) changesOf(txs []*tx, full bool) []Record {
	if full {
		return s.records()
	}
	var changes []Record
	{
		seen := make(map[recKey]bool)
		for _, t := range txs {
			for _, k := range t.dirty {
				if !seen[k] {
					seen[k] = true
					changes = append(changes, Record{Kind: k.kind, Key: k.key, Value: s.value(k.kind, k.key)})
				}
			}
			changes = append(changes, t.writes...)
		}
	}
	return changes
}

// catchUp applies what other sandboxes sharing the backend wrote since this one last looked,
// so a read sees every change committed anywhere before it began. Without a shared backend
// there is nothing to do. If the backend cannot be reached the read is served from what this
// sandbox holds (the write that follows, if any, fails clearly).
//
// Every read catches up and one request makes several reads, so concurrent catch-ups share
// their query the way writers share a commit (groupTx): a query that started after a caller
// arrived reflects everything acknowledged before it arrived, so that serves the caller. A
// caller that arrives while a query is on its way must not be served by it (that query may
// have read the database before a change acknowledged since); it waits for the next query,
// which starts once the one on its way is over and serves every caller that arrived
// meanwhile: one query per round trip, however many readers, where each reader made its own.
// The first caller of a round runs its query, once the runner of the query before lets it.
func (s *Store) catchUp() {
	if s.shared == nil {
		return
	}
	c := &s.catchUps
	c.mu.Lock()
	r := c.next
	switch {
	case r != nil: // a round that has not started yet: its query will start after we arrived
		c.mu.Unlock()
		<-r.done
		return
	case c.running: // the query on its way may have started before we arrived: the next one
		r = &catchUpRound{start: make(chan struct{}), done: make(chan struct{})}
		c.next = r
		c.mu.Unlock()
		<-r.start
	default:
		c.running = true
		c.mu.Unlock()
	}
	defer func() { // deferred: a panic in the query must not leave the callers waiting for good
		c.mu.Lock()
		next := c.next
		c.next = nil
		c.running = next != nil
		c.mu.Unlock()
		if r != nil {
			close(r.done)
		}
		if next != nil {
			close(next.start)
		}
	}()
	s.catchUpNow()
}

// catchUps groups concurrent catch-ups into rounds of one query each (see catchUp).
type catchUps struct {
	mu      sync.Mutex
	running bool          // a round's query is on its way
	next    *catchUpRound // the callers waiting for it to be over, if any
}

type catchUpRound struct {
	start chan struct{} // closed when the query before this round's is over
	done  chan struct{} // closed when this round's query is over and applied
}

// catchUpNow runs one query for what the other sandboxes wrote and applies it.
func (s *Store) catchUpNow() {
	s.mu.RLock()
	since := s.version
	s.mu.RUnlock()
	changed, v, err := s.shared.Changed(since)
	if err != nil {
		s.log.Warn("reading the other sandboxes' changes failed", "error", err)
		return
	}
	if v == since {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v > s.version { // else a commit of this sandbox's got there first
		s.apply(changed)
		s.version = v
	}
}

// apply lays records other sandboxes wrote over the state (a nil Value deletes).
func (s *Store) apply(recs []Record) {
	var issued []issuedRec
	for _, r := range recs {
		if r.Value == nil {
			s.unload(r.Kind, r.Key)
			continue
		}
		if err := s.loadRecord(r, &issued); err != nil {
			s.log.Error("a record from the shared store does not decode; skipped", "kind", r.Kind, "key", r.Key, "error", err)
		}
	}
	s.mergeIssued(issued)
}

// unload deletes one record from the state.
func (s *Store) unload(kind, key string) {
	switch kind {
	case kindApp:
		delete(s.apps, key)
	case kindAccount:
		if a, ok := s.accounts[key]; ok {
			delete(s.users, a.UserID)
			delete(s.accounts, key)
		}
	case kindVehicle:
		delete(s.vehicles, key)
	case kindGrant:
		delete(s.grants, parseGrantKey(key))
	case kindCode:
		delete(s.codes, key)
	case kindRefresh:
		if t, ok := s.refresh.stored(key); ok {
			s.refresh.remove(t.Token)
		}
	case kindRevoked:
		delete(s.revoked, key)
	case kindExpiredNow:
		delete(s.expiredNow, key)
	case kindRevokedAuth:
		n, _ := strconv.ParseUint(key, 10, 64)
		delete(s.revokedAuth, n)
	case kindIssued:
		seq, _ := strconv.ParseUint(key, 10, 64)
		s.issued = slices.DeleteFunc(s.issued, func(r issuedRec) bool { return r.Seq == seq })
	case kindKey:
		delete(s.keys, key)
	case kindWebhookSub:
		delete(s.webhookSubs, key)
	case kindWebhookVerified:
		delete(s.webhooksVerified, key)
	case kindFault, kindSetting:
		s.control.unloadControl(kind, key)
	}
}

// value is the JSON of a record as the state holds it now; nil when it is gone.
func (s *Store) value(kind, key string) []byte {
	var v any
	var ok bool
	switch kind {
	case kindApp:
		v, ok = lookup(s.apps, key)
	case kindAccount:
		v, ok = lookup(s.accounts, key)
	case kindVehicle:
		v, ok = lookup(s.vehicles, key)
	case kindGrant:
		v, ok = lookup(s.grants, parseGrantKey(key))
	case kindCode:
		v, ok = lookup(s.codes, key)
	case kindRefresh:
		v, ok = s.refresh.stored(key)
	case kindRevoked:
		v, ok = lookup(s.revoked, key)
	case kindExpiredNow:
		v, ok = lookup(s.expiredNow, key)
	case kindRevokedAuth:
		n, _ := strconv.ParseUint(key, 10, 64)
		v, ok = lookup(s.revokedAuth, n)
	case kindMeta:
		v, ok = s.authSeq, true
	case kindKey:
		v, ok = lookup(s.keys, key)
	case kindWebhookSub:
		v, ok = lookup(s.webhookSubs, key)
	case kindWebhookVerified:
		v, ok = lookup(s.webhooksVerified, key)
	case kindFault, kindSetting:
		v, ok = s.control.valueOf(kind, key)
	}
	if !ok {
		return nil
	}
	return mustJSON(v)
}

func lookup[K comparable, V any](m map[K]V, k K) (any, bool) {
	v, ok := m[k]
	return v, ok
}

// decodeRecord reads a record's value into v. Records are written with encoding/json
// (mustJSON) and read with JSON v2 (github.com/go-json-experiment/json, the mirror of the
// standard library's encoding/json/v2, stable from Go 1.27), which reads what v1 writes
// (every name as tagged, times in RFC 3339) in half the time with a third of the
// allocations: decoding is most of what opening a big database costs (BENCHMARKS.md,
// "Start-up with 10,000 users"). Writing stays v1 so that a record's bytes do not change.
// v1 writes a time.Duration as its nanoseconds, which v2 reads only when told to.
// TestRecordReadsBackWhatWasWritten checks every record type both ways.
func decodeRecord(b []byte, v any) error { return jsonv2.Unmarshal(b, v, readV1Durations) }

var readV1Durations = jsonv1.FormatDurationAsNano(true)

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Every record is one of the store's own types, which always encode.
		panic("store: encoding a record: " + err.Error())
	}
	return b
}

// records is the whole state as records (a full commit, and the import of a state file).
func (s *Store) records() []Record {
	var out []Record
	add := func(kind, key string, v any) { out = append(out, Record{Kind: kind, Key: key, Value: mustJSON(v)}) }
	for k, v := range s.apps {
		add(kindApp, k, v)
	}
	for k, v := range s.accounts {
		add(kindAccount, k, v)
	}
	for k, v := range s.vehicles {
		add(kindVehicle, k, v)
	}
	for k, v := range s.grants {
		add(kindGrant, k.String(), v)
	}
	for k, v := range s.codes {
		add(kindCode, k, v)
	}
	for _, t := range s.refresh.all() {
		add(kindRefresh, refreshKey(packTime(t.ExpiresAt), t.Token), t)
	}
	for k, v := range s.revoked {
		add(kindRevoked, k, v)
	}
	for k, v := range s.expiredNow {
		add(kindExpiredNow, k, v)
	}
	for k, v := range s.revokedAuth {
		add(kindRevokedAuth, strconv.FormatUint(k, 10), v)
	}
	for _, r := range s.issued {
		add(kindIssued, r.key(), r)
	}
	add(kindMeta, metaAuthSeq, s.authSeq)
	for k, v := range s.keys {
		add(kindKey, k, v)
	}
	for k, v := range s.webhookSubs {
		add(kindWebhookSub, k, v)
	}
	for k, v := range s.webhooksVerified {
		add(kindWebhookVerified, k, v)
	}
	s.control.controlRecords(add)
	return out
}

// decodeBulk decodes a record of the kinds a big database holds tens of thousands of (each
// signed-in user leaves an account, vehicles, grants, a code and refresh tokens); nil for
// another kind.
func decodeBulk(r Record) (any, error) {
	switch r.Kind {
	case kindAccount:
		return decodeNew[sandbox.Account](r.Value)
	case kindVehicle:
		return decodeNew[sandbox.Vehicle](r.Value)
	case kindGrant:
		return decodeNew[sandbox.Grant](r.Value)
	case kindCode:
		return decodeNew[sandbox.AuthCode](r.Value)
	case kindRefresh:
		return decodeNew[sandbox.RefreshToken](r.Value)
	}
	return nil, nil
}

func decodeNew[V any](b []byte) (any, error) {
	v := new(V)
	if err := decodeRecord(b, v); err != nil {
		return nil, err
	}
	return v, nil
}

// putBulk lays a record decodeBulk decoded over the state.
func (s *Store) putBulk(r Record, v any) {
	switch v := v.(type) {
	case *sandbox.Account:
		s.putAccountLocked(*v)
	case *sandbox.Vehicle:
		s.vehicles[r.Key] = v
	case *sandbox.Grant:
		s.grants[grantKey{v.ClientID, v.UserID, v.VehicleID}] = v
	case *sandbox.AuthCode:
		s.codes[r.Key] = v
	case *sandbox.RefreshToken:
		s.refresh.put(*v)
	}
}

// mergeIssued adds issued tokens read from the backend to the ones held, replacing any with
// the same number, all in the order they were recorded in (their Seq: a sandbox sharing the
// backend applies the others' writes before it writes, so the numbers follow the commits).
func (s *Store) mergeIssued(recs []issuedRec) {
	if len(recs) == 0 {
		return
	}
	fresh := make(map[uint64]bool, len(recs))
	for _, r := range recs {
		fresh[r.Seq] = true
	}
	all := make([]issuedRec, 0, len(s.issued)+len(recs))
	for _, r := range s.issued {
		if !fresh[r.Seq] {
			all = append(all, r)
		}
	}
	all = append(all, recs...)
	slices.SortStableFunc(all, func(a, b issuedRec) int { return cmp.Compare(a.Seq, b.Seq) })
	s.issued = all
	s.issuedSeq = max(s.issuedSeq, all[len(all)-1].Seq)
}

// loadRecord lays one record over the state; issued tokens are gathered in *issued, for
// mergeIssued to put in order at once.
func (s *Store) loadRecord(r Record, issued *[]issuedRec) error {
	switch r.Kind {
	case kindApp:
		return decodeInto(r.Value, s.apps, r.Key)
	case kindAccount, kindVehicle, kindGrant, kindCode, kindRefresh:
		v, err := decodeBulk(r)
		if err != nil {
			return err
		}
		s.putBulk(r, v)
	case kindRevoked:
		return decodeValue(r.Value, s.revoked, r.Key)
	case kindExpiredNow:
		if s.expiredNow == nil {
			s.expiredNow = make(map[string]time.Time)
		}
		return decodeValue(r.Value, s.expiredNow, r.Key)
	case kindRevokedAuth:
		n, err := strconv.ParseUint(r.Key, 10, 64)
		if err != nil {
			return err
		}
		return decodeValue(r.Value, s.revokedAuth, n)
	case kindIssued:
		var it issuedRec
		if err := decodeRecord(r.Value, &it); err != nil {
			return err
		}
		*issued = append(*issued, it)
	case kindMeta:
		if r.Key == metaAuthSeq {
			var n uint64
			if err := decodeRecord(r.Value, &n); err != nil {
				return err
			}
			s.authSeq = max(s.authSeq, n)
		}
	case kindKey:
		return decodeValue(r.Value, s.keys, r.Key)
	case kindWebhookSub:
		return decodeValue(r.Value, s.webhookSubs, r.Key)
	case kindWebhookVerified:
		return decodeValue(r.Value, s.webhooksVerified, r.Key)
	case kindFault, kindSetting:
		return s.control.loadControl(r)
	}
	return nil
}

func decodeInto[K comparable, V any](b []byte, m map[K]*V, k K) error {
	v := new(V)
	if err := decodeRecord(b, v); err != nil {
		return err
	}
	m[k] = v
	return nil
}

func decodeValue[K comparable, V any](b []byte, m map[K]V, k K) error {
	var v V
	if err := decodeRecord(b, &v); err != nil {
		return err
	}
	m[k] = v
	return nil
}

// issuedRec is an issued token's record. Seq numbers the tokens in the order they were
// recorded and is the record's key (zero-padded, so key order is record order): the newest
// token's record goes at the end of the backend's B-tree and the one it pushes out comes off
// the start, so a commit of many token requests writes a page or two of them, where keys
// spread over the whole tree (the token's id) made it write a page per token.
type issuedRec struct {
	Seq   uint64      `json:"seq"`
	Token IssuedToken `json:"token"`
}

func (r issuedRec) key() string { return fmt.Sprintf("%020d", r.Seq) }

// String is the grant's record key: the three ids, which hold no unit separator.
func (k grantKey) String() string { return k.clientID + "\x1f" + k.userID + "\x1f" + k.vehicleID }

func parseGrantKey(s string) grantKey {
	p := strings.SplitN(s, "\x1f", 3)
	for len(p) < 3 {
		p = append(p, "")
	}
	return grantKey{p[0], p[1], p[2]}
}
