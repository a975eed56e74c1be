package sandbox

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Error is a Smartcar API error (v1.0, v2.0 and v3 share the body). Handlers return it; the
// vehicle API renders it in one place, so every error carries every key the SDKs require.
//
// What the client reads (Description, Resolution, SuggestedUserMessage, the docURL) is
// Smartcar's own wording for the type and code, from smartcarErrors: the official SDKs' suites
// compare it word for word. What the sandbox knows beyond that (which token was refused and
// why, which vehicle is missing) is the Note: it goes to the log and to the admin request log.
type Error struct {
	Type                 string
	Code                 string // "" renders as JSON null
	Description          string
	Resolution           string // "" renders as {"type":null}
	SuggestedUserMessage string
	Detail               []map[string]any
	// Note is the sandbox's own explanation of this error, never sent to the client.
	Note       string
	RetryAfter int // seconds; sets Retry-After when > 0
	status     int // 0 means: from the type
}

// Error formats the error the way the Node SDK builds SmartcarError.message.
func (e *Error) Error() string {
	code := e.Code
	if code == "" {
		code = "null"
	}
	return e.Type + ":" + code + " - " + e.Description
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

// docPageByType is the page of Smartcar's error docs for each type; the code is the anchor
// (see DocURL).
var docPageByType = map[string]string{
	ErrAuthentication:           "authentication-errors",
	ErrPermission:               "permission-errors",
	ErrValidation:               "validation-errors",
	ErrResourceNotFound:         "resource-not-found-errors",
	ErrConnectedServicesAccount: "connected-services-account-errors",
	ErrVehicleState:             "vehicle-state-errors",
	ErrRateLimit:                "rate-limit-errors",
	ErrBilling:                  "billing-errors",
	ErrCompatibility:            "compatibility-errors",
	ErrUpstream:                 "upstream-errors",
	ErrServer:                   "server-errors",
}

// Smartcar's resolution types.
const (
	ResolutionRetryLater     = "RETRY_LATER"
	ResolutionReauthenticate = "REAUTHENTICATE"
	ResolutionContactSupport = "CONTACT_SUPPORT"
)

// errorText is Smartcar's wording for one type and code. Resolution "" is {"type":null}.
type errorText struct {
	Description, Resolution, SuggestedUserMessage string
}

// userRetry is the suggested user message Smartcar's docs give for most errors ("<app name>"
// in the docs; the sandbox does not know which app the user sees).
const userRetry = "Your car is temporarily unable to connect to this app. Please be patient while we’re working to resolve this issue."

// smartcarErrors is the one table of Smartcar's own texts, keyed by TYPE for code null and
// TYPE:CODE otherwise. Sources: the official Node SDK's end-to-end suite (test/end-to-end
// vehicle.js and util.js compare AUTHENTICATION, VALIDATION, PERMISSION, VEHICLE_STATE:UNKNOWN
// and CONNECTED_SERVICES_ACCOUNT:VEHICLE_MISSING word for word, with their resolutions and
// docURLs) and the JSON examples of smartcar.com/docs/errors/api-errors/* (see
// /work/shared/reference/smartcar-api.md §4). Where no JSON example was found:
//   - (docs prose) is the first sentence of the code's description on its docs page, which is
//     what the docs' JSON examples use as the description elsewhere;
//   - (sandbox wording) was not found in the docs at all and is the sandbox's, in the docs'
//     style; replace it when Smartcar's text turns up.
//
// Suggested user messages the docs do not give are the sandbox's.
var smartcarErrors = map[string]errorText{
	ErrAuthentication:            {"The authorization header is missing or malformed, or it contains invalid or expired authentication credentials. Please check for missing parameters, spelling and casing mistakes, and other syntax issues.", "", "Please reconnect your vehicle to this application."},
	ErrPermission:                {"Your application has insufficient permissions to access the requested resource. Please prompt the user to re-authenticate using Smartcar Connect.", ResolutionReauthenticate, "This application does not have permission for this action. Please reconnect your vehicle and grant it."},
	ErrValidation:                {"Request invalid or malformed. Please check for missing parameters, spelling and casing mistakes, and other syntax issues.", "", userRetry},
	ErrValidation + ":PARAMETER": {"Your request is formatted correctly, but one or more of the provided parameters is incorrect.", "", userRetry},

	// (sandbox wording; the docs' overview only says "Thrown if the requested path does not exist.")
	ErrResourceNotFound + ":PATH":    {"The requested resource does not exist. Please check the URL and try again.", "", userRetry},
	ErrResourceNotFound + ":VERSION": {"The requested API version does not exist. Please check the URL and try again.", "", userRetry},

	ErrConnectedServicesAccount + ":ACCOUNT_ISSUE":   {"Action needed in the user’s connected services account. Please prompt the user to log into their connected services account and complete any outstanding tasks.", "", "Action required in your connected services account. Please log into your connected services app or web portal and complete any outstanding tasks (e.g. finish activating your account or accept the Terms of Service)."},
	ErrConnectedServicesAccount + ":VEHICLE_MISSING": {"This vehicle is no longer associated with the user's connected services account. Please prompt the user to re-add the vehicle to their account.", "", "Your car is no longer associated with your connected services account. Please log into your connected services app or web portal and re-add it."},

	ErrVehicleState + ":ASLEEP":                      {"The vehicle is in a sleep state and temporarily unable to perform your request.", "", "Your vehicle is in a sleep state. This request was not sent to preserve battery life."},
	ErrVehicleState + ":CHARGING_IN_PROGRESS":        {"The vehicle is currently charging and unable to perform your request.", "", "Your vehicle is already charging."},
	ErrVehicleState + ":CHARGING_PLUG_CONNECTED":     {"The vehicle is connected to an EV charger and unable to perform your request.", "", "We’re unable to issue the command because the vehicle is currently plugged in. Please ensure that you have unplugged the vehicle from an EV charger."},
	ErrVehicleState + ":CHARGING_PLUG_NOT_CONNECTED": {"The vehicle is not connected to an EV charger and unable to perform your request.", "", "We’re unable to issue the command because the vehicle is not plugged in. Please plug the vehicle into an EV charger."}, // (docs prose)
	ErrVehicleState + ":IN_MOTION":                   {"The vehicle is currently in motion and unable to perform your request.", "", "We’re unable to issue the command because the vehicle is in motion. Please try again once the vehicle is parked."},                // (sandbox wording)
	ErrVehicleState + ":UNKNOWN":                     {"The vehicle was unable to perform your request due to an unknown issue.", ResolutionRetryLater, userRetry},

	ErrRateLimit + ":SMARTCAR_API": {"Your application has exceeded its rate limit. Please retry your request in a few minutes.", ResolutionRetryLater, userRetry},
	ErrRateLimit + ":VEHICLE":      {"You have reached the throttling rate limit for this vehicle. Please see the retry-after header (seconds) for when to retry the request.", ResolutionRetryLater, userRetry},

	ErrBilling + ":INVALID_PLAN":          {"The feature you are trying to use is not included in your current pricing plan. Please visit our pricing page to learn more about our plans and features.", ResolutionContactSupport, userRetry},
	ErrBilling + ":VEHICLE_LIMIT":         {"You have exceeded your active vehicle limit for the current billing period. Please log into the Smartcar dashboard and visit the Billing tab to learn more.", ResolutionContactSupport, userRetry},
	ErrBilling + ":VEHICLE_REQUEST_LIMIT": {"You have exceeded the number of API requests that are allowed for this vehicle in the current billing period. Please log into the Smartcar dashboard and visit the Billing tab to learn more.", ResolutionContactSupport, userRetry},

	ErrCompatibility + ":MAKE_NOT_COMPATIBLE":  {"Smartcar is not yet compatible with this vehicle’s make in the country you specified.", "", "This app is not yet able to connect to your car brand."},
	ErrCompatibility + ":SMARTCAR_NOT_CAPABLE": {"Smartcar does not yet support this feature for this vehicle.", "", "We’re currently unable to support this feature for your car."},
	ErrCompatibility + ":VEHICLE_NOT_CAPABLE":  {"The vehicle is incapable of performing your request.", "", "Your car is unable to perform this request."},

	// (docs prose)
	ErrUpstream + ":INVALID_DATA":  {"One of Smartcar’s upstream sources provided data that is malformed, invalid, or logically invalid.", ResolutionRetryLater, userRetry},
	ErrUpstream + ":KNOWN_ISSUE":   {"Smartcar received an error from an upstream source.", ResolutionRetryLater, userRetry},
	ErrUpstream + ":NO_RESPONSE":   {"One of Smartcar’s upstream sources failed to respond.", ResolutionRetryLater, userRetry},
	ErrUpstream + ":RATE_LIMIT":    {"Your application’s requests have exceeded this vehicle’s rate limit.", ResolutionRetryLater, userRetry},
	ErrUpstream + ":UNKNOWN_ISSUE": {"Smartcar received an unknown error from an upstream source.", ResolutionRetryLater, userRetry}, // (sandbox wording)

	ErrServer + ":INTERNAL":         {"An internal Smartcar error has occurred. Our team has been notified and is working to resolve this issue.", ResolutionRetryLater, userRetry},
	ErrServer + ":RECORD_NOT_FOUND": {"Smartcar was unable to locate a battery capacity record for this vehicle.", ResolutionContactSupport, userRetry},
}

func textKey(typ, code string) string {
	if code == "" {
		return typ
	}
	return typ + ":" + code
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

// WithDescription replaces the table's description where Smartcar words one case of a code
// its own way (e.g. an out-of-range latitude), or where a fault rule scripts one.
func (e *Error) WithDescription(d string) *Error { e.Description = d; return e }

// DocURL is where Smartcar documents the type and code (v2.0 pages): the type's page, and the
// code in lower case with hyphens as the anchor ("null" for no code), e.g.
// .../connected-services-account-errors#vehicle-missing.
func DocURL(typ, code string) string {
	page, ok := docPageByType[typ]
	if !ok {
		page = docPageByType[ErrServer]
	}
	anchor := "null"
	if code != "" {
		anchor = strings.ReplaceAll(strings.ToLower(code), "_", "-")
	}
	return "https://smartcar.com/docs/errors/api-errors/" + page + "#" + anchor
}

// NewError builds the error for a type and code with Smartcar's texts from smartcarErrors;
// note is the sandbox's own explanation (see Error.Note). A VALIDATION error also carries
// the note in detail, the field Smartcar documents for saying what was invalid. A code the
// table does not know (a fault rule may script any) keeps the note as its description, since
// there is no Smartcar wording to use.
func NewError(typ, code, note string) *Error {
	e := &Error{Type: typ, Code: code, Note: note}
	if t, ok := smartcarErrors[textKey(typ, code)]; ok {
		e.Description, e.Resolution, e.SuggestedUserMessage = t.Description, t.Resolution, t.SuggestedUserMessage
	} else {
		e.Description, e.Resolution, e.SuggestedUserMessage = note, typeResolution(typ), userRetry
		if e.Description == "" {
			e.Description = fmt.Sprintf("The request failed with a %s error.", textKey(typ, code))
		}
	}
	if typ == ErrValidation && note != "" {
		e.Detail = []map[string]any{{"message": note}}
	}
	return e
}

// typeResolution is the resolution for codes smartcarErrors does not list.
func typeResolution(typ string) string {
	switch typ {
	case ErrPermission:
		return ResolutionReauthenticate
	case ErrRateLimit, ErrUpstream, ErrServer:
		return ResolutionRetryLater
	case ErrBilling:
		return ResolutionContactSupport
	}
	return ""
}

// Errorf is NewError with a formatted note.
func Errorf(typ, code, format string, args ...any) *Error {
	return NewError(typ, code, fmt.Sprintf(format, args...))
}

// AsError finds a *Error in err's chain; anything else becomes SERVER/INTERNAL so that no Go
// error text reaches a client unshaped (it stays in the note, for the log).
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	note := "internal error"
	if err != nil {
		note = err.Error()
	}
	return NewError(ErrServer, "INTERNAL", note)
}

// Common errors, shared by every API version.

// ErrUnauthenticated is AUTHENTICATION; why (which credential was refused and how) is the
// note, since Smartcar's description is the same for every cause.
func ErrUnauthenticated(why string) *Error {
	return NewError(ErrAuthentication, "", why)
}

// ErrInvalidRequest is VALIDATION with code null: the request is malformed (a body that is
// not the JSON asked for, a missing field, an id that is not an id).
func ErrInvalidRequest(why string) *Error {
	return NewError(ErrValidation, "", why)
}

// ErrInvalidParameter is VALIDATION:PARAMETER: the request is well formed but a value is out
// of its range ("formatted correctly, but one or more of the provided parameters is
// incorrect", Smartcar's validation-errors page).
func ErrInvalidParameter(why string) *Error {
	return NewError(ErrValidation, "PARAMETER", why)
}

// ErrPathNotFound is RESOURCE_NOT_FOUND:PATH for a request no route serves.
func ErrPathNotFound(path string) *Error {
	return NewError(ErrResourceNotFound, "PATH", "no endpoint at "+path)
}

func ErrVehicleNotCapable(what string) *Error {
	return Errorf(ErrCompatibility, "VEHICLE_NOT_CAPABLE", "the vehicle has no %s", what)
}
