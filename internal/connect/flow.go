package connect

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
)

// FlowTTL is how long a person has to get from the authorize URL to the redirect.
const FlowTTL = time.Hour

// flow is everything Connect knows about one authorization in progress: the authorize
// parameters plus the progress so far. It travels with the pages (hidden form fields, the
// brand search query) as an HMAC-signed, expiring token, so the server keeps no per-flow state
// and a person can go back and forth without anything going stale.
type flow struct {
	ID          string       `json:"i"` // names the CSRF cookie of this flow
	Expires     int64        `json:"x"` // unix seconds
	ClientID    string       `json:"c"`
	RedirectURI string       `json:"r"`
	Scope       []permission `json:"s"`
	Force       bool         `json:"f,omitempty"` // approval_prompt=force
	Mode        string       `json:"m"`
	State       string       `json:"st,omitempty"`
	Make        string       `json:"mk,omitempty"` // from make= or the brand page
	MakeBypass  bool         `json:"mb,omitempty"`
	Single      bool         `json:"ss,omitempty"`
	SingleVIN   string       `json:"sv,omitempty"`
	ExternalID  string       `json:"e,omitempty"`
	// Progress.
	UserID   string   `json:"u,omitempty"`
	Username string   `json:"un,omitempty"`
	Offered  []string `json:"v,omitempty"` // the vehicles the sign-in shares, to choose from on the permissions page
}

type permission struct {
	Name     string `json:"n"`
	Required bool   `json:"q,omitempty"`
}

// sealer signs and opens flow tokens with a key derived from the constructor's key, so the
// same random key could serve other purposes without the MACs being interchangeable.
type sealer struct{ key []byte }

func newSealer(key []byte) sealer {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("smartcar-sandbox connect flow v1"))
	return sealer{key: m.Sum(nil)}
}

func (s sealer) mac(payload string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

func (s sealer) seal(f *flow) string {
	b, _ := json.Marshal(f) // strings, bools and ints only: cannot fail
	p := base64.RawURLEncoding.EncodeToString(b)
	return p + "." + base64.RawURLEncoding.EncodeToString(s.mac(p))
}

var (
	errFlowInvalid = errors.New("this Connect page is not valid (the form was changed, or the sandbox restarted since it was shown)")
	errFlowExpired = errors.New("this Connect flow has expired; start again from your app")
)

func (s sealer) open(tok string, now time.Time) (*flow, error) {
	p, sig, ok := strings.Cut(tok, ".")
	if !ok {
		return nil, errFlowInvalid
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac(p)) {
		return nil, errFlowInvalid
	}
	b, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return nil, errFlowInvalid
	}
	var f flow
	if err := json.Unmarshal(b, &f); err != nil || f.ID == "" {
		return nil, errFlowInvalid
	}
	if now.Unix() >= f.Expires {
		return nil, errFlowExpired
	}
	return &f, nil
}

// csrfCookieName is per flow, so two Connect flows open in one browser do not clobber each
// other's token.
func csrfCookieName(flowID string) string { return "sc_connect_csrf_" + flowID }

// csrfCookie is the double-submit cookie: HttpOnly (scripts never need it; the page carries
// the same value in a hidden field) and SameSite=Lax (a cross-site POST does not send it).
func csrfCookie(flowID, value string, secure bool) *http.Cookie {
	return &http.Cookie{
		Name:     csrfCookieName(flowID),
		Value:    value,
		Path:     "/",
		MaxAge:   int(FlowTTL / time.Second),
		HttpOnly: true,
		Secure:   secure,
		SameSite: http.SameSiteLaxMode,
	}
}

// csrfFromCookie returns the flow's CSRF cookie value, or "".
func csrfFromCookie(r *http.Request, flowID string) string {
	c, err := r.Cookie(csrfCookieName(flowID))
	if err != nil {
		return ""
	}
	return c.Value
}

// checkCSRF compares the form's token with the cookie in constant time.
func checkCSRF(r *http.Request, f *flow, formValue string) bool {
	c := csrfFromCookie(r, f.ID)
	return c != "" && formValue != "" && subtle.ConstantTimeCompare([]byte(c), []byte(formValue)) == 1
}
