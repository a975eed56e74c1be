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
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/door"
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

// VersionOf tells which vehicle API a path belongs to (door.Of decides: /v1.0, /v2.0 with the
// management API under it, /v3); ok is false for every other path.
func VersionOf(path string) (v Version, ok bool) {
	switch d := door.Of(path); d {
	case door.V1:
		return V1, true
	case door.V2:
		return V2, true
	case door.Management:
		if strings.HasPrefix(path, V1.Prefix()) {
			return V1, true
		}
		return V2, true
	case door.V3:
		return V3, true
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
		u = strings.Replace(u, "/api-errors/", "/api-errors/v3/", 1)
		// v3's example links a code-less error to its type's page, without an anchor.
		return strings.TrimSuffix(u, "#null")
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

// V3ErrorBody is v3's error JSON, the JSON:API errors array of Smartcar's v3 reference
// (remove-user's example): {"errors":[{status,type,code,title,detail,links:{about}}]}.
type V3ErrorBody struct {
	Errors []V3Error `json:"errors"`
}

// V3Error is one error object. status, type, code, title, detail and links are documented;
// resolution, suggestedUserMessage and meta are listed by third-party notes of the spec, and
// carry what the v2.0 body has, so no information is lost moving to v3.
type V3Error struct {
	Status               string      `json:"status"`
	Type                 string      `json:"type"`
	Code                 string      `json:"code"`
	Title                string      `json:"title"`
	Detail               string      `json:"detail"`
	Links                V3ErrorLink `json:"links"`
	Resolution           Resolution  `json:"resolution"`
	SuggestedUserMessage string      `json:"suggestedUserMessage"`
	Meta                 V3ErrorMeta `json:"meta"`
}

type V3ErrorLink struct {
	About string `json:"about"`
}

// V3ErrorMeta: requestId (also in SC-Request-Id) and, for VALIDATION, which field was wrong
// (the v2.0 body's detail array; v3's detail is a string).
type V3ErrorMeta struct {
	RequestID string           `json:"requestId"`
	Fields    []map[string]any `json:"fields,omitempty"`
}

// V3Code is the code of a v3 error. v3 has no null code: the one example with no more
// specific code (a VALIDATION error) says BAD_REQUEST, the HTTP reason in upper snake case,
// so an error without a code gets its status's reason that way (a reading: docs/api-v3.md).
func V3Code(e *sandbox.Error) string {
	if e.Code != "" {
		return e.Code
	}
	return strings.ToUpper(strings.ReplaceAll(statusText(e.Status()), " ", "_"))
}

// statusText is http.StatusText with Smartcar's 430 (billing) named.
func statusText(status int) string {
	if status == 430 {
		return "Billing Error"
	}
	if t := http.StatusText(status); t != "" {
		return t
	}
	return "Error"
}

// NewV3ErrorBody builds v3's wire body for e: detail is Smartcar's description, title the
// status's reason (as in the documented example).
func NewV3ErrorBody(e *sandbox.Error, reqID string) V3ErrorBody {
	ve := V3Error{
		Status:               strconv.Itoa(e.Status()),
		Type:                 e.Type,
		Code:                 V3Code(e),
		Title:                statusText(e.Status()),
		Detail:               e.Description,
		Links:                V3ErrorLink{About: DocURL(V3, e.Type, e.Code)},
		SuggestedUserMessage: e.SuggestedUserMessage,
		Meta:                 V3ErrorMeta{RequestID: reqID, Fields: e.Detail},
	}
	if e.Resolution != "" {
		r := e.Resolution
		ve.Resolution.Type = &r
	}
	return V3ErrorBody{Errors: []V3Error{ve}}
}

// WriteError renders err as a Smartcar error: the one place the error JSON is written, in
// v3's errors-array shape under /v3 and the v2.0 flat shape elsewhere. The error's note (the
// sandbox's own explanation) goes to the request's log entries instead.
func WriteError(w http.ResponseWriter, r *http.Request, v Version, err error) {
	e := sandbox.AsError(err)
	requestlog.Note(w, e.Note)
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	reqID := requestid.From(r.Context())
	if v == V3 {
		WriteJSON(w, e.Status(), NewV3ErrorBody(e, reqID))
		return
	}
	WriteJSON(w, e.Status(), NewErrorBody(v, e, reqID))
}
