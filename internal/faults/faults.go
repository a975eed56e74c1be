// Package faults makes the sandbox misbehave on purpose, so an app's error handling can be
// tested: scripted rules (per vehicle, per application, per path; the next N calls, a share of
// calls, or every call) that fail requests with any Smartcar error or slow them down, and an
// optional one-shot request header. The rules live in memory only: they are test scaffolding,
// not Smartcar state, and a restart or reset clears them.
package faults

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"path"
	"strings"
	"sync"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/door"
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

	rng *rand.Rand
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

// Set holds the rules. It is safe for concurrent use.
type Set struct {
	mu    sync.Mutex
	rules []*Rule
	next  int
}

// NewSet returns an empty rule set.
func NewSet() *Set { return &Set{} }

// Add validates r, gives it an id and adds it; rules are tried in the order added.
func (s *Set) Add(r Rule) (Rule, error) {
	if err := r.Validate(); err != nil {
		return Rule{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	r.ID = fmt.Sprintf("f%d", s.next)
	r.Fired = 0
	seed := r.Seed
	if seed == 0 {
		seed = 1
	}
	r.rng = rand.New(rand.NewPCG(seed, uint64(s.next)))
	s.rules = append(s.rules, &r)
	return r.public(), nil
}

func (r *Rule) public() Rule { c := *r; c.rng = nil; return c }

// List returns the rules in the order they are tried.
func (s *Set) List() []Rule {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Rule, 0, len(s.rules))
	for _, r := range s.rules {
		out = append(out, r.public())
	}
	return out
}

// Delete removes a rule; false when there is none with the id.
func (s *Set) Delete(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.rules {
		if r.ID == id {
			s.rules = append(s.rules[:i], s.rules[i+1:]...)
			return true
		}
	}
	return false
}

// Clear removes every rule.
func (s *Set) Clear() {
	s.mu.Lock()
	s.rules = nil
	s.mu.Unlock()
}

// Match finds the first rule that fires for q, counts it, and returns what it does. Latency
// of every firing rule adds up, and the first firing error wins, so "slow and then asleep" can
// be two rules.
func (s *Set) Match(q Request) (Hit, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var hit Hit
	fired := false
	kept := s.rules[:0]
	for _, r := range s.rules {
		fire := hit.Error == nil && r.matches(q) && (r.Rate == 0 || r.rng.Float64() < r.Rate)
		if fire {
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
				hit.Delay += l.pick(r.rng)
			}
		}
		if r.Count > 0 && r.Fired >= r.Count {
			continue // used up
		}
		kept = append(kept, r)
	}
	for i := len(kept); i < len(s.rules); i++ {
		s.rules[i] = nil
	}
	s.rules = kept
	return hit, fired
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
