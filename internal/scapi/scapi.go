// Package scapi is the Smartcar API wire layer shared by the v2.0 and v3 vehicle APIs: JSON
// responses, the Smartcar error body (rendered here and nowhere else), the sc-* headers, unit
// systems, and bearer-token checks against the store. Handlers return errors; this package
// turns them into what the official SDKs parse.
package scapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/requestid"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/requestlog"
)

// Version is the API version a handler serves; it decides the docURL of errors.
type Version int

const (
	// V1 is api.smartcar.com/v1.0: the SDKs' setApiVersion('1.0'). It is served by the v2.0
	// handlers (same bodies for everything the SDKs read) and answers errors in the v2.0
	// shape; see docs/api-v2.md for why the legacy v1.0 error shape is not imitated.
	V1 Version = 1
	V2 Version = 2
	V3 Version = 3
)

// Prefix is the path prefix of the version ("/v2.0").
func (v Version) Prefix() string {
	switch v {
	case V1:
		return "/v1.0"
	case V3:
		return "/v3"
	}
	return "/v2.0"
}

// VersionOf tells which vehicle API a path belongs to, by its prefix (/v1.0, /v2.0 with the
// management API under it, /v3); ok is false for every other path.
func VersionOf(path string) (v Version, ok bool) {
	for _, v := range [...]Version{V2, V3, V1} {
		p := v.Prefix()
		if strings.HasPrefix(path, p) && (len(path) == len(p) || path[len(p)] == '/') {
			return v, true
		}
	}
	return 0, false
}

// HandlerFunc is a vehicle API handler: it writes a success response or returns an error.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Handle adapts h to http.Handler, rendering a returned error as a Smartcar error.
func Handle(v Version, h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			WriteError(w, r, v, err)
		}
	})
}

// WriteJSON writes a 200 (or status) JSON body. Smartcar's SDKs treat some non-200 2xx as
// failures, so success is 200 unless a caller has a documented reason.
func WriteJSON(w http.ResponseWriter, status int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		// Only programming errors land here (unmarshalable types); keep the wire shape.
		b = []byte(`{"type":"SERVER","code":"INTERNAL","description":"response encoding failed"}`)
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// ErrorBody is the Smartcar error JSON. Every key is always present (code may be null),
// because the Java SDK reads them unconditionally and Python takes statusCode/requestId from it.
type ErrorBody struct {
	Type                 string           `json:"type"`
	Code                 *string          `json:"code"`
	Description          string           `json:"description"`
	DocURL               string           `json:"docURL"`
	StatusCode           int              `json:"statusCode"`
	RequestID            string           `json:"requestId"`
	Resolution           Resolution       `json:"resolution"`
	SuggestedUserMessage string           `json:"suggestedUserMessage"`
	Detail               []map[string]any `json:"detail,omitempty"`
}

// Resolution is {"type": ...} with a null type when there is nothing to do.
type Resolution struct {
	Type *string `json:"type"`
}

// DocURL is where Smartcar documents the error: sandbox.DocURL, with v3's own section.
func DocURL(v Version, typ, code string) string {
	u := sandbox.DocURL(typ, code)
	if v == V3 {
		return strings.Replace(u, "/api-errors/", "/api-errors/v3/", 1)
	}
	return u
}

// NewErrorBody builds the wire body for e.
func NewErrorBody(v Version, e *sandbox.Error, reqID string) ErrorBody {
	body := ErrorBody{
		Type:                 e.Type,
		Description:          e.Description,
		DocURL:               DocURL(v, e.Type, e.Code),
		StatusCode:           e.Status(),
		RequestID:            reqID,
		SuggestedUserMessage: e.SuggestedUserMessage,
		Detail:               e.Detail,
	}
	if e.Code != "" {
		c := e.Code
		body.Code = &c
	}
	if e.Resolution != "" {
		r := e.Resolution
		body.Resolution.Type = &r
	}
	return body
}

// WriteError renders err as a Smartcar error: the one place the error JSON is written. The
// error's note (the sandbox's own explanation) goes to the request's log entries instead.
func WriteError(w http.ResponseWriter, r *http.Request, v Version, err error) {
	e := sandbox.AsError(err)
	requestlog.Note(w, e.Note)
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	WriteJSON(w, e.Status(), NewErrorBody(v, e, requestid.From(r.Context())))
}
