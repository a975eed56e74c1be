package sandbox

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is a Smartcar API error (v2.0 and v3 share the body). Handlers return it; the vehicle
// API renders it in one place, so every error carries every key the SDKs require.
type Error struct {
	Type                 string
	Code                 string // "" renders as JSON null
	Description          string
	Resolution           string // "" renders as {"type":null}
	SuggestedUserMessage string
	Detail               []map[string]any
	RetryAfter           int // seconds; sets Retry-After when > 0
	status               int // 0 means: from the type
}

func (e *Error) Error() string {
	if e.Code == "" {
		return e.Type + ": " + e.Description
	}
	return e.Type + ":" + e.Code + " - " + e.Description
}

// Smartcar error types.
const (
	ErrAuthentication           = "AUTHENTICATION"
	ErrPermission               = "PERMISSION"
	ErrValidation               = "VALIDATION"
	ErrResourceNotFound         = "RESOURCE_NOT_FOUND"
	ErrConnectedServicesAccount = "CONNECTED_SERVICES_ACCOUNT"
	ErrVehicleState             = "VEHICLE_STATE"
	ErrRateLimit                = "RATE_LIMIT"
	ErrBilling                  = "BILLING"
	ErrCompatibility            = "COMPATIBILITY"
	ErrUpstream                 = "UPSTREAM"
	ErrServer                   = "SERVER"
)

// statusByType is the one table from error type to HTTP status.
var statusByType = map[string]int{
	ErrAuthentication:           http.StatusUnauthorized,
	ErrPermission:               http.StatusForbidden,
	ErrValidation:               http.StatusBadRequest,
	ErrResourceNotFound:         http.StatusNotFound,
	ErrConnectedServicesAccount: http.StatusBadRequest,
	ErrVehicleState:             http.StatusConflict,
	ErrRateLimit:                http.StatusTooManyRequests,
	ErrBilling:                  430,
	ErrCompatibility:            http.StatusNotImplemented,
	ErrUpstream:                 http.StatusBadGateway,
	ErrServer:                   http.StatusInternalServerError,
}

// KnownErrorType reports whether t is a Smartcar error type.
func KnownErrorType(t string) bool { _, ok := statusByType[t]; return ok }

// Status is the HTTP status of the error.
func (e *Error) Status() int {
	if e.status != 0 {
		return e.status
	}
	if s, ok := statusByType[e.Type]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// WithStatus overrides the status derived from the type (e.g. 405 for a wrong method).
func (e *Error) WithStatus(status int) *Error { e.status = status; return e }

// NewError builds an error with the type's default resolution and user message.
func NewError(typ, code, description string) *Error {
	e := &Error{Type: typ, Code: code, Description: description}
	switch typ {
	case ErrAuthentication:
		e.Resolution = "REAUTHENTICATE"
		e.SuggestedUserMessage = "Please reconnect your vehicle to this application."
	case ErrPermission:
		e.Resolution = "REAUTHENTICATE"
		e.SuggestedUserMessage = "This application does not have permission for this action. Please reconnect your vehicle and grant it."
	case ErrVehicleState:
		e.Resolution = "RETRY_LATER"
		e.SuggestedUserMessage = "Your vehicle is not in a state to do this right now. Please try again later."
	case ErrRateLimit, ErrUpstream, ErrServer:
		e.Resolution = "RETRY_LATER"
		e.SuggestedUserMessage = "Something went wrong while contacting your vehicle. Please try again later."
	case ErrCompatibility:
		e.SuggestedUserMessage = "Your vehicle does not support this feature."
	case ErrConnectedServicesAccount:
		e.Resolution = "CONTACT_SUPPORT"
		e.SuggestedUserMessage = "There is a problem with your connected services account."
	default:
		e.SuggestedUserMessage = "Something went wrong. Please try again."
	}
	return e
}

// Errorf is NewError with a formatted description.
func Errorf(typ, code, format string, args ...any) *Error {
	return NewError(typ, code, fmt.Sprintf(format, args...))
}

// AsError finds a *Error in err's chain; anything else becomes SERVER/INTERNAL so that no Go
// error text reaches a client unshaped.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return NewError(ErrServer, "INTERNAL", "The sandbox hit an internal error. Check its log for the request id.")
}

// Common errors, shared by every API version.
func ErrUnauthenticated(why string) *Error {
	return NewError(ErrAuthentication, "", "The authorization header is missing or malformed, or it contains invalid or expired authentication credentials. "+why)
}

func ErrPathNotFound(path string) *Error {
	return Errorf(ErrResourceNotFound, "PATH", "The requested resource does not exist: %s. Please check the URL and try again.", path)
}

func ErrVehicleNotCapable(what string) *Error {
	return Errorf(ErrCompatibility, "VEHICLE_NOT_CAPABLE", "The vehicle is not capable of performing this request: it has no %s.", what)
}
