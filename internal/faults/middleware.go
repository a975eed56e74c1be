package faults

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/door"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/oauth"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/scapi"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/token"
)

// RuleHeader names the rule that faulted a response ("header" for SC-Sandbox-Fault), so a
// test log and the request log show the failure was injected.
const RuleHeader = "SC-Sandbox-Fault-Rule"

// Middleware applies the rules (and, when enabled, the header) to the vehicle APIs and the
// token endpoint; every other path passes untouched.
type Middleware struct {
	Rules *Set
	// Tokens reads the caller's application from its bearer token (rules by clientId).
	Tokens *token.Issuer
	// Header enables the SC-Sandbox-Fault request header.
	Header bool
}

// Wrap returns next with faults applied: on the vehicle APIs and the token endpoints, in
// their own error shapes.
func (m *Middleware) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		d := door.Of(p)
		isToken := d == door.Token
		if !isToken && !d.API() {
			next.ServeHTTP(w, r)
			return
		}
		if m.Header {
			if v := r.Header.Get(headerKey); v != "" {
				m.serveHeader(w, r, v, isToken)
				return
			}
		}
		if m.Rules == nil || m.Rules.Empty() {
			next.ServeHTTP(w, r)
			return
		}
		m.serveRules(w, r, next, isToken)
	})
}

// serveHeader answers with the fault the SC-Sandbox-Fault header asks for.
func (m *Middleware) serveHeader(w http.ResponseWriter, r *http.Request, v string, isToken bool) {
	spec, err := ParseHeader(v, isToken)
	w.Header().Set(RuleHeader, "header")
	if err != nil {
		spec = &ErrorSpec{Type: sandbox.TypeValidation, Code: "PARAMETER", Description: err.Error()}
		if isToken {
			spec.Type = "invalid_request"
		}
	}
	write(w, r, isToken, spec)
}

// serveRules applies the first scripted rule that matches the request, if any.
func (m *Middleware) serveRules(w http.ResponseWriter, r *http.Request, next http.Handler, isToken bool) {
	p := r.URL.Path
	q := Request{Method: r.Method, Path: p, VehicleID: vehicleIDOf(p)}
	if isToken {
		q.ClientID = m.tokenClient(r)
	} else {
		q.ClientID = m.bearerClient(r)
	}
	hit, ok, err := m.Rules.Match(q)
	if err != nil {
		// The rules could not be counted (the store is down): a request that should have
		// failed must not pass, so it fails as the server's own error.
		writeServerError(w, r, isToken, err)
		return
	}
	if !ok {
		next.ServeHTTP(w, r)
		return
	}
	w.Header().Set(RuleHeader, hit.RuleID)
	if hit.Delay > 0 {
		t := time.NewTimer(hit.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return // the client gave up; nobody reads an answer
		}
	}
	if hit.Error == nil {
		next.ServeHTTP(w, r)
		return
	}
	write(w, r, isToken, hit.Error)
}

func write(w http.ResponseWriter, r *http.Request, isToken bool, e *ErrorSpec) {
	if !isToken {
		v, _ := scapi.VersionOf(r.URL.Path)
		scapi.WriteError(w, r, v, e.SmartcarError())
		return
	}
	status, code, desc := e.OAuth()
	if status == http.StatusTooManyRequests {
		ra := e.RetryAfter
		if ra == 0 {
			ra = 60
		}
		w.Header().Set("Retry-After", itoa(ra))
	}
	oauth.WriteError(w, &oauth.Error{Status: status, Code: code, Description: desc})
}

// writeServerError answers that the sandbox itself failed, in the door's own shape.
func writeServerError(w http.ResponseWriter, r *http.Request, isToken bool, err error) {
	if isToken {
		oauth.WriteError(w, &oauth.Error{Status: http.StatusInternalServerError, Code: "server_error", Description: err.Error()})
		return
	}
	v, _ := scapi.VersionOf(r.URL.Path)
	scapi.WriteError(w, r, v, sandbox.NewError(sandbox.TypeServer, "INTERNAL", err.Error()))
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// vehicleIDOf finds {id} in /v1.0/vehicles/{id}/..., /v2.0/vehicles/{id}/... and
// /v3/vehicles/{id}/....
func vehicleIDOf(p string) string {
	for _, prefix := range []string{"/v2.0/vehicles/", "/v3/vehicles/", "/v1.0/vehicles/"} {
		if rest, ok := strings.CutPrefix(p, prefix); ok {
			id, _, _ := strings.Cut(rest, "/")
			return id
		}
	}
	return ""
}

func (m *Middleware) bearerClient(r *http.Request) string {
	scheme, raw, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || m.Tokens == nil {
		return ""
	}
	c, err := m.Tokens.Verify(strings.TrimSpace(raw))
	if err != nil {
		return ""
	}
	return c.ClientID
}

// tokenClient finds the client id of a token request: HTTP Basic, else the form's client_id.
// The body is read and put back, so the token endpoint still sees all of it.
func (m *Middleware) tokenClient(r *http.Request) string {
	if id, _, ok := r.BasicAuth(); ok {
		return id
	}
	if r.Body == nil {
		return ""
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(b), r.Body))
	if err != nil {
		return ""
	}
	form, err := url.ParseQuery(string(b))
	if err != nil {
		return ""
	}
	return form.Get("client_id")
}
