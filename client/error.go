package client

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Error is an error answered by Smartcar (or the sandbox): a v2.0 API error, an OAuth error, or a
// non-JSON error body. Use errors.As(err, &e) with e *Error to inspect it. Transport failures
// (connection refused, timeouts, cancelled contexts) are not *Error; they wrap the cause, so
// errors.Is(err, context.DeadlineExceeded) works.
type Error struct {
	// StatusCode is the HTTP status of the response (for a batch item, the item's code).
	StatusCode int

	// Fields of the v2.0 error body.
	Type                 string          // "type"; for OAuth errors the "error" value, like the Node SDK
	Code                 string          // "code"; "" when JSON null or absent
	Description          string          // "description", else "error_description", else "message"
	DocURL               string          // "docURL"
	BodyStatusCode       int             // "statusCode" from the body (0 when absent)
	RequestID            string          // "requestId", else the sc-request-id header
	Resolution           Resolution      // "resolution": an object {type,url} or a plain string
	SuggestedUserMessage string          // "suggestedUserMessage"
	Detail               json.RawMessage // "detail" (VALIDATION), verbatim

	// Fields of an OAuth error body ({"error","error_description"}), verbatim.
	OAuthError       string // "error"
	ErrorDescription string // "error_description"
	// Message is the legacy v1.0 "message".
	Message string

	// RetryAfter is the Retry-After header in seconds (0 when absent); RetryAfterRaw is verbatim.
	RetryAfter    time.Duration
	RetryAfterRaw string

	// Body is the raw response body; for non-JSON bodies it is the only information.
	Body string
}

// Resolution is the "resolution" of a Smartcar error. Type is "" when JSON null.
type Resolution struct {
	Type string `json:"type"`
	URL  string `json:"url,omitempty"`
}

// UnmarshalJSON accepts an object, a string (treated as the type, like the Node SDK) or null.
func (r *Resolution) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*r = Resolution{}
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*r = Resolution{Type: s}
		return nil
	}
	var obj struct {
		Type *string `json:"type"`
		URL  *string `json:"url"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return err
	}
	*r = Resolution{}
	if obj.Type != nil {
		r.Type = *obj.Type
	}
	if obj.URL != nil {
		r.URL = *obj.URL
	}
	return nil
}

// Error formats like the official SDKs: "<type>:<code> - <description>".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("smartcar: ")
	switch {
	case e.Type != "":
		b.WriteString(e.Type)
		if e.Code != "" {
			b.WriteString(":" + e.Code)
		}
		if e.Description != "" {
			b.WriteString(" - " + truncate(e.Description, 200))
		}
	case e.Description != "":
		b.WriteString(truncate(e.Description, 200))
	case e.Body != "":
		b.WriteString(truncate(e.Body, 200))
	default:
		b.WriteString(http.StatusText(e.StatusCode))
	}
	b.WriteString(" (HTTP " + strconv.Itoa(e.StatusCode) + ")")
	return b.String()
}

// IsOAuth reports whether the error came as an OAuth {"error","error_description"} body.
func (e *Error) IsOAuth() bool { return e.OAuthError != "" }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// errorBody is the union of the v2.0, OAuth and v1.0 error shapes.
type errorBody struct {
	Type                 *string         `json:"type"`
	Code                 json.RawMessage `json:"code"`
	Description          *string         `json:"description"`
	DocURL               *string         `json:"docURL"`
	StatusCode           json.RawMessage `json:"statusCode"`
	RequestID            *string         `json:"requestId"`
	Resolution           *Resolution     `json:"resolution"`
	SuggestedUserMessage *string         `json:"suggestedUserMessage"`
	Detail               json.RawMessage `json:"detail"`
	Error                *string         `json:"error"`
	ErrorDescription     *string         `json:"error_description"`
	Message              *string         `json:"message"`
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// newError builds an *Error from a non-2xx response. It never fails: an unparseable body is kept
// raw. get reads a header (http.Header.Get, or a batch item's header map).
func newError(status int, header http.Header, body []byte) *Error {
	return buildError(status, header.Get, body)
}

func buildError(status int, get func(string) string, body []byte) *Error {
	e := &Error{StatusCode: status, Body: string(body)}
	var eb errorBody
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '{' && json.Unmarshal(trimmed, &eb) == nil {
		e.Type = str(eb.Type)
		e.Code = scalarString(eb.Code)
		e.DocURL = str(eb.DocURL)
		if n, err := strconv.Atoi(scalarString(eb.StatusCode)); err == nil {
			e.BodyStatusCode = n
		}
		e.RequestID = str(eb.RequestID)
		if eb.Resolution != nil {
			e.Resolution = *eb.Resolution
		}
		e.SuggestedUserMessage = str(eb.SuggestedUserMessage)
		if len(eb.Detail) > 0 && string(eb.Detail) != "null" {
			e.Detail = eb.Detail
		}
		e.OAuthError = str(eb.Error)
		e.ErrorDescription = str(eb.ErrorDescription)
		e.Message = str(eb.Message)
		if e.Type == "" {
			e.Type = e.OAuthError
		}
		e.Description = str(eb.Description)
		if e.Description == "" {
			e.Description = e.ErrorDescription
		}
		if e.Description == "" {
			e.Description = e.Message
		}
	} else if len(trimmed) > 0 {
		e.Description = truncate(string(trimmed), 500)
	}
	if e.RequestID == "" {
		e.RequestID = get("sc-request-id")
	}
	if ra := strings.TrimSpace(get("retry-after")); ra != "" {
		e.RetryAfterRaw = ra
		if n, err := strconv.Atoi(ra); err == nil && n >= 0 {
			e.RetryAfter = time.Duration(n) * time.Second
		}
	}
	return e
}

// scalarString renders a JSON string or number as text; null/absent gives "".
func scalarString(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}
