// Package faults makes the sandbox misbehave on purpose, so an app's error handling can be
// tested: scripted rules (per vehicle, per application, per path; the next N calls, a share of
// calls, or every call) that fail requests with any Smartcar error or slow them down, and an
// optional one-shot request header. The rules live in the store (see Set): a durable store
// keeps them across a restart, replicas share them, and a reset clears them.
package faults

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/door"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
)

// TokenPath is the token endpoint; rules for it (and for v3's /oauth2/token, see door.Token)
// answer in the OAuth error shape.
const TokenPath = "/oauth/token"

// oauthStatus lists the OAuth error codes a token-endpoint rule may use, with their status.
var oauthStatus = map[string]int{
	"invalid_request":         400,
	"invalid_client":          401,
	"invalid_grant":           400,
	"unauthorized_client":     400,
	"unsupported_grant_type":  400,
	"invalid_scope":           400,
	"access_denied":           403,
	"server_error":            500,
	"temporarily_unavailable": 503,
}

// ErrorSpec is the error a rule answers with. Type is a Smartcar error type (VEHICLE_STATE,
// RATE_LIMIT, ...) or, for the token endpoint only, an OAuth error code (invalid_grant, ...).
type ErrorSpec struct {
	Type        string `json:"type"`
	Code        string `json:"code,omitempty"`
	Description string `json:"description,omitempty"`
	RetryAfter  int    `json:"retryAfter,omitempty"` // seconds; RATE_LIMIT defaults to 60
}

// Latency delays a matching request: Fixed, or uniformly random within [Min, Max].
type Latency struct {
	Fixed Duration `json:"fixed,omitempty"`
	Min   Duration `json:"min,omitempty"`
	Max   Duration `json:"max,omitempty"`
}

// Duration is a time.Duration written as "200ms" in JSON.
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Duration(d).String() + `"`), nil
}

func (d *Duration) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%s is not a duration like \"200ms\" or \"1.5s\"", b)
	}
	*d = Duration(v)
	return nil
}

// Rule is one scripted fault. Empty filters match everything; a rule fires on a matching
// request and answers with Error (if set) after waiting Latency (if set).
type Rule struct {
	ID        string `json:"id"`
	VehicleID string `json:"vehicleId,omitempty"`
	ClientID  string `json:"clientId,omitempty"`
	// Path is a glob (path.Match: "/v2.0/vehicles/*/odometer") when it has *, ? or [, else a
	// prefix of the URL path ("/v3/", "/oauth/token").
	Path   string `json:"path,omitempty"`
	Method string `json:"method,omitempty"`
	// Count > 0 fires on the next Count matching requests, then the rule is removed. Rate in
	// (0, 1] fires on that share of matching requests, drawn from a generator seeded with Seed
	// so a run repeats exactly. Neither: every matching request.
	Count   int        `json:"count,omitempty"`
	Rate    float64    `json:"rate,omitempty"`
	Seed    uint64     `json:"seed,omitempty"`
	Error   *ErrorSpec `json:"error,omitempty"`
	Latency *Latency   `json:"latency,omitempty"`
	// Fired counts the requests the rule has hit so far.
	Fired int `json:"fired"`
}

// MaxLatency caps injected delays below the server's write timeout.
const MaxLatency = 30 * time.Second

// Validate checks a rule and lists every problem.
func (r *Rule) Validate() error {
	var errs []error
	if r.Error == nil && r.Latency == nil {
		errs = append(errs, errors.New("a rule needs an error, a latency or both"))
	}
	if r.Count < 0 {
		errs = append(errs, errors.New("count must be 0 (no limit) or more"))
	}
	if r.Rate < 0 || r.Rate > 1 {
		errs = append(errs, fmt.Errorf("rate %v must be within 0..1 (0 = every matching call)", r.Rate))
	}
	if r.Path != "" {
		if !strings.HasPrefix(r.Path, "/") {
			errs = append(errs, fmt.Errorf("path %q must start with /, e.g. /v2.0/vehicles/*/odometer", r.Path))
		} else if _, err := path.Match(r.Path, ""); err != nil {
			errs = append(errs, fmt.Errorf("path %q is not a valid glob: %v", r.Path, err))
		}
	}
	if r.Method != "" && strings.ToUpper(r.Method) != r.Method {
		r.Method = strings.ToUpper(r.Method)
	}
	if e := r.Error; e != nil {
		if err := e.validate(door.Of(r.Path) == door.Token); err != nil {
			errs = append(errs, err)
		}
	}
	if l := r.Latency; l != nil {
		switch {
		case l.Fixed != 0 && (l.Min != 0 || l.Max != 0):
			errs = append(errs, errors.New("latency: give fixed or min and max, not both"))
		case l.Fixed < 0 || l.Min < 0 || l.Max < 0:
			errs = append(errs, errors.New("latency: durations must not be negative"))
		case l.Fixed == 0 && l.Max == 0:
			errs = append(errs, errors.New(`latency: give fixed ("200ms") or min and max ("100ms", "300ms")`))
		case l.Fixed == 0 && l.Min > l.Max:
			errs = append(errs, errors.New("latency: min must not exceed max"))
		case time.Duration(max(l.Fixed, l.Max)) > MaxLatency:
			errs = append(errs, fmt.Errorf("latency: at most %v", MaxLatency))
		}
	}
	return errors.Join(errs...)
}

func (e *ErrorSpec) validate(tokenEndpoint bool) error {
	if e.RetryAfter < 0 {
		return errors.New("error.retryAfter must be 0 or more seconds")
	}
	if sandbox.KnownErrorType(e.Type) {
		return nil
	}
	if _, ok := oauthStatus[e.Type]; ok {
		if tokenEndpoint {
			return nil
		}
		return fmt.Errorf("error.type %q is an OAuth error code: it needs \"path\": %q (or %q)", e.Type, TokenPath, "/oauth2/token")
	}
	return fmt.Errorf("error.type %q is not a Smartcar error type (%s)", e.Type, strings.Join(Types(), ", "))
}

// Types lists the Smartcar error types a rule or header may name.
func Types() []string {
	return []string{sandbox.TypeAuthentication, sandbox.TypePermission, sandbox.TypeValidation, sandbox.TypeResourceNotFound,
		sandbox.TypeConnectedServicesAccount, sandbox.TypeVehicleState, sandbox.TypeRateLimit, sandbox.TypeBilling,
		sandbox.TypeCompatibility, sandbox.TypeUpstream, sandbox.TypeServer}
}

// Request is what rules match on.
type Request struct {
	Method    string
	Path      string
	VehicleID string // "" when the path names none
	ClientID  string // "" when the caller is unknown
}

func (r *Rule) matches(q Request) bool {
	if r.VehicleID != "" && r.VehicleID != q.VehicleID {
		return false
	}
	if r.ClientID != "" && r.ClientID != q.ClientID {
		return false
	}
	if r.Method != "" && r.Method != q.Method {
		return false
	}
	if r.Path != "" {
		if strings.ContainsAny(r.Path, "*?[") {
			if ok, _ := path.Match(r.Path, q.Path); !ok {
				return false
			}
		} else if !strings.HasPrefix(q.Path, r.Path) {
			return false
		}
	}
	return true
}

// Hit is what a fired rule (or header) does to one request.
type Hit struct {
	RuleID string // "" for the header
	Delay  time.Duration
	Error  *ErrorSpec
}

// Set holds the rules, in the store: each change (an added, deleted or used-up rule, a rule
// firing) is one store transaction, so with a durable store the rules survive a restart, and
// sandboxes sharing one PostgreSQL share them ("the next 2 calls" means 2 calls across all of
// them). It is safe for concurrent use.
type Set struct {
	st *store.Store
	// rngs draw the rate rules' shares, one generator per rule seeded from its seed and
	// number, so a run on one sandbox repeats exactly. They are this sandbox's own: with
	// replicas each draws its own share.
	mu   sync.Mutex
	rngs map[string]*rand.Rand
}

// FromStore returns the rule set kept in st.
func FromStore(st *store.Store) *Set { return &Set{st: st, rngs: make(map[string]*rand.Rand)} }

// NewSet returns an empty rule set of its own, in memory.
func NewSet() *Set {
	st, err := store.New(sandbox.Dataset{}, store.Options{})
	if err != nil {
		panic(err) // an in-memory store of nothing always opens
	}
	return FromStore(st)
}

// Add validates r, gives it an id and adds it; rules are tried in the order added. An error
// wrapping store.ErrNotSaved means nothing was added; any other error lists r's problems.
func (s *Set) Add(r Rule) (Rule, error) {
	if err := r.Validate(); err != nil {
		return Rule{}, err
	}
	r.Fired = 0
	_, err := s.st.AddFaultRule(func(seq uint64) (store.FaultRule, error) {
		r.ID = fmt.Sprintf("f%d", seq)
		return toRecord(r)
	})
	if err != nil {
		return Rule{}, err
	}
	return r, nil
}

func toRecord(r Rule) (store.FaultRule, error) {
	b, err := json.Marshal(r)
	return store.FaultRule{ID: r.ID, Rule: b}, err
}

// List returns the rules in the order they are tried.
func (s *Set) List() []Rule {
	recs := s.st.FaultRules()
	out := make([]Rule, 0, len(recs))
	for _, rec := range recs {
		if r, ok := fromRecord(rec); ok {
			out = append(out, r)
		}
	}
	return out
}

// fromRecord decodes a stored rule; a rule that does not decode (written by another
// version) is skipped rather than failing every request.
func fromRecord(rec store.FaultRule) (Rule, bool) {
	var r Rule
	if err := json.Unmarshal(rec.Rule, &r); err != nil {
		return Rule{}, false
	}
	r.ID = rec.ID
	return r, true
}

// Delete removes a rule; false when there is none with the id.
func (s *Set) Delete(id string) (bool, error) { return s.st.DeleteFaultRule(id) }

// Clear removes every rule.
func (s *Set) Clear() error { return s.st.ClearFaultRules() }

// Match finds the rules that fire for q, counts them, and returns what they do. Latency of
// every firing rule adds up, and the first firing error wins, so "slow and then asleep" can
// be two rules. The counts (and rules used up) are one store transaction; when it cannot be
// saved the error says so and nothing fired.
func (s *Set) Match(q Request) (Hit, bool, error) {
	// Most requests match no rule: find that out with a read, not a transaction.
	if !slices.ContainsFunc(s.List(), func(r Rule) bool { return r.matches(q) }) {
		return Hit{}, false, nil
	}
	var hit Hit
	fired := false
	err := s.st.UpdateFaultRules(func(recs []store.FaultRule) ([]store.FaultRule, []string, error) {
		hit, fired = Hit{}, false
		var changed []store.FaultRule
		var used []string
		for _, rec := range recs {
			r, ok := fromRecord(rec)
			if !ok || hit.Error != nil || !r.matches(q) || (r.Rate != 0 && s.rng(r, rec.Seq).Float64() >= r.Rate) {
				continue
			}
			fired = true
			r.Fired++
			if hit.RuleID == "" {
				hit.RuleID = r.ID
			}
			if r.Error != nil {
				e := *r.Error
				hit.Error = &e
				hit.RuleID = r.ID
			}
			if l := r.Latency; l != nil {
				hit.Delay += l.pick(s.rng(r, rec.Seq))
			}
			if r.Count > 0 && r.Fired >= r.Count {
				used = append(used, r.ID)
				continue
			}
			c, err := toRecord(r)
			if err != nil {
				return nil, nil, err
			}
			c.Seq = rec.Seq
			changed = append(changed, c)
		}
		return changed, used, nil
	})
	if err != nil {
		return Hit{}, false, err
	}
	return hit, fired, nil
}

// rng is rule r's generator, made on first use.
func (s *Set) rng(r Rule, seq uint64) *rand.Rand {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.rngs[r.ID]
	if !ok {
		seed := r.Seed
		if seed == 0 {
			seed = 1
		}
		g = rand.New(rand.NewPCG(seed, seq))
		s.rngs[r.ID] = g
	}
	return g
}

func (l *Latency) pick(rng *rand.Rand) time.Duration {
	if l.Fixed > 0 {
		return time.Duration(l.Fixed)
	}
	span := int64(l.Max - l.Min)
	if span <= 0 {
		return time.Duration(l.Min)
	}
	return time.Duration(int64(l.Min) + rng.Int64N(span+1))
}

// HeaderName is the request header for one-shot faults, honoured only when enabled.
const HeaderName = "SC-Sandbox-Fault"

// headerKey is HeaderName in canonical form, the spelling http.Header stores: Get with any
// other spelling allocates the canonical one on every request.
const headerKey = "Sc-Sandbox-Fault"

// ParseHeader reads "TYPE[:CODE[:retryAfterSeconds]]".
func ParseHeader(v string, tokenEndpoint bool) (*ErrorSpec, error) {
	parts := strings.Split(strings.TrimSpace(v), ":")
	if len(parts) > 3 || parts[0] == "" {
		return nil, fmt.Errorf("%s %q: want TYPE, TYPE:CODE or TYPE:CODE:retryAfterSeconds, e.g. VEHICLE_STATE:ASLEEP", HeaderName, v)
	}
	e := &ErrorSpec{Type: strings.TrimSpace(parts[0])}
	if len(parts) > 1 {
		e.Code = strings.TrimSpace(parts[1])
	}
	if len(parts) > 2 {
		n, err := parseSeconds(parts[2])
		if err != nil {
			return nil, fmt.Errorf("%s %q: retry-after %q is not a number of seconds", HeaderName, v, parts[2])
		}
		e.RetryAfter = n
	}
	if err := e.validate(tokenEndpoint); err != nil {
		return nil, fmt.Errorf("%s %q: %v", HeaderName, v, err)
	}
	return e, nil
}

func parseSeconds(s string) (int, error) {
	var n int
	if _, err := fmt.Sscanf(strings.TrimSpace(s), "%d", &n); err != nil || n < 0 || fmt.Sprint(n) != strings.TrimSpace(s) {
		return 0, errors.New("bad seconds")
	}
	return n, nil
}

// SmartcarError turns the spec into the Smartcar error the vehicle API renders: Smartcar's
// own texts for the type and code (sandbox.NewError), unless the rule scripts a description,
// and Retry-After on RATE_LIMIT. The note says the failure was injected.
func (e *ErrorSpec) SmartcarError() *sandbox.Error {
	out := sandbox.NewError(e.Type, e.Code, injectedNote(e.Type, e.Code))
	if e.Description != "" {
		out.WithDescription(e.Description)
	}
	out.RetryAfter = e.RetryAfter
	if e.Type == sandbox.TypeRateLimit && out.RetryAfter == 0 {
		out.RetryAfter = 60
	}
	return out
}

// injectedNote is the note of an injected error, and its description when Smartcar has no
// wording for the code.
func injectedNote(typ, code string) string {
	if code == "" {
		return fmt.Sprintf("Injected %s error (sandbox fault injection).", typ)
	}
	return fmt.Sprintf("Injected %s:%s error (sandbox fault injection).", typ, code)
}

// OAuth renders the spec for the token endpoint: the status and the {error,
// error_description} body. Smartcar types map to the nearest OAuth code.
func (e *ErrorSpec) OAuth() (status int, code, description string) {
	desc := e.Description
	if desc == "" {
		desc = "Injected " + e.Type + " error (sandbox fault injection)."
	}
	if s, ok := oauthStatus[e.Type]; ok {
		return s, e.Type, desc
	}
	switch e.Type {
	case sandbox.TypeAuthentication:
		return 401, "invalid_client", desc
	case sandbox.TypeValidation:
		return 400, "invalid_request", desc
	case sandbox.TypePermission:
		return 403, "access_denied", desc
	case sandbox.TypeRateLimit:
		return 429, "rate_limit", desc
	}
	se := sandbox.NewError(e.Type, e.Code, desc)
	if se.Status() >= 500 {
		return se.Status(), "server_error", desc
	}
	return se.Status(), strings.ToLower(e.Type), desc
}
