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
	TypeAuthentication           = "AUTHENTICATION"
	TypePermission               = "PERMISSION"
	TypeValidation               = "VALIDATION"
	TypeResourceNotFound         = "RESOURCE_NOT_FOUND"
	TypeConnectedServicesAccount = "CONNECTED_SERVICES_ACCOUNT"
	TypeVehicleState             = "VEHICLE_STATE"
	TypeRateLimit                = "RATE_LIMIT"
	TypeBilling                  = "BILLING"
	TypeCompatibility            = "COMPATIBILITY"
	TypeUpstream                 = "UPSTREAM"
	TypeServer                   = "SERVER"
)

// statusByType is the one table from error type to HTTP status.
var statusByType = map[string]int{
	TypeAuthentication:           http.StatusUnauthorized,
	TypePermission:               http.StatusForbidden,
	TypeValidation:               http.StatusBadRequest,
	TypeResourceNotFound:         http.StatusNotFound,
	TypeConnectedServicesAccount: http.StatusBadRequest,
	TypeVehicleState:             http.StatusConflict,
	TypeRateLimit:                http.StatusTooManyRequests,
	TypeBilling:                  430,
	TypeCompatibility:            http.StatusNotImplemented,
	TypeUpstream:                 http.StatusBadGateway,
	TypeServer:                   http.StatusInternalServerError,
}

// docPageByType is the page of Smartcar's error docs for each type; the code is the anchor
// (see DocURL).
var docPageByType = map[string]string{
	TypeAuthentication:           "authentication-errors",
	TypePermission:               "permission-errors",
	TypeValidation:               "validation-errors",
	TypeResourceNotFound:         "resource-not-found-errors",
	TypeConnectedServicesAccount: "connected-services-account-errors",
	TypeVehicleState:             "vehicle-state-errors",
	TypeRateLimit:                "rate-limit-errors",
	TypeBilling:                  "billing-errors",
	TypeCompatibility:            "compatibility-errors",
	TypeUpstream:                 "upstream-errors",
	TypeServer:                   "server-errors",
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
	TypeAuthentication:            {"The authorization header is missing or malformed, or it contains invalid or expired authentication credentials. Please check for missing parameters, spelling and casing mistakes, and other syntax issues.", "", "Please reconnect your vehicle to this application."},
	TypePermission:                {"Your application has insufficient permissions to access the requested resource. Please prompt the user to re-authenticate using Smartcar Connect.", ResolutionReauthenticate, "This application does not have permission for this action. Please reconnect your vehicle and grant it."},
	TypeValidation:                {"Request invalid or malformed. Please check for missing parameters, spelling and casing mistakes, and other syntax issues.", "", userRetry},
	TypeValidation + ":PARAMETER": {"Your request is formatted correctly, but one or more of the provided parameters is incorrect.", "", userRetry},

	// (sandbox wording; the docs' overview only says "Thrown if the requested path does not exist.")
	TypeResourceNotFound + ":PATH":    {"The requested resource does not exist. Please check the URL and try again.", "", userRetry},
	TypeResourceNotFound + ":VERSION": {"The requested API version does not exist. Please check the URL and try again.", "", userRetry},

	TypeConnectedServicesAccount + ":ACCOUNT_ISSUE":   {"Action needed in the user’s connected services account. Please prompt the user to log into their connected services account and complete any outstanding tasks.", "", "Action required in your connected services account. Please log into your connected services app or web portal and complete any outstanding tasks (e.g. finish activating your account or accept the Terms of Service)."},
	TypeConnectedServicesAccount + ":VEHICLE_MISSING": {"This vehicle is no longer associated with the user's connected services account. Please prompt the user to re-add the vehicle to their account.", "", "Your car is no longer associated with your connected services account. Please log into your connected services app or web portal and re-add it."},

	TypeVehicleState + ":ASLEEP":                      {"The vehicle is in a sleep state and temporarily unable to perform your request.", "", "Your vehicle is in a sleep state. This request was not sent to preserve battery life."},
	TypeVehicleState + ":CHARGING_IN_PROGRESS":        {"The vehicle is currently charging and unable to perform your request.", "", "Your vehicle is already charging."},
	TypeVehicleState + ":CHARGING_PLUG_CONNECTED":     {"The vehicle is connected to an EV charger and unable to perform your request.", "", "We’re unable to issue the command because the vehicle is currently plugged in. Please ensure that you have unplugged the vehicle from an EV charger."},
	TypeVehicleState + ":CHARGING_PLUG_NOT_CONNECTED": {"The vehicle is not connected to an EV charger and unable to perform your request.", "", "We’re unable to issue the command because the vehicle is not plugged in. Please plug the vehicle into an EV charger."}, // (docs prose)
	TypeVehicleState + ":IN_MOTION":                   {"The vehicle is currently in motion and unable to perform your request.", "", "We’re unable to issue the command because the vehicle is in motion. Please try again once the vehicle is parked."},                // (sandbox wording)
	TypeVehicleState + ":UNKNOWN":                     {"The vehicle was unable to perform your request due to an unknown issue.", ResolutionRetryLater, userRetry},

	TypeRateLimit + ":SMARTCAR_API": {"Your application has exceeded its rate limit. Please retry your request in a few minutes.", ResolutionRetryLater, userRetry},
	TypeRateLimit + ":VEHICLE":      {"You have reached the throttling rate limit for this vehicle. Please see the retry-after header (seconds) for when to retry the request.", ResolutionRetryLater, userRetry},

	TypeBilling + ":INVALID_PLAN":          {"The feature you are trying to use is not included in your current pricing plan. Please visit our pricing page to learn more about our plans and features.", ResolutionContactSupport, userRetry},
	TypeBilling + ":VEHICLE_LIMIT":         {"You have exceeded your active vehicle limit for the current billing period. Please log into the Smartcar dashboard and visit the Billing tab to learn more.", ResolutionContactSupport, userRetry},
	TypeBilling + ":VEHICLE_REQUEST_LIMIT": {"You have exceeded the number of API requests that are allowed for this vehicle in the current billing period. Please log into the Smartcar dashboard and visit the Billing tab to learn more.", ResolutionContactSupport, userRetry},

	TypeCompatibility + ":MAKE_NOT_COMPATIBLE":  {"Smartcar is not yet compatible with this vehicle’s make in the country you specified.", "", "This app is not yet able to connect to your car brand."},
	TypeCompatibility + ":SMARTCAR_NOT_CAPABLE": {"Smartcar does not yet support this feature for this vehicle.", "", "We’re currently unable to support this feature for your car."},
	TypeCompatibility + ":VEHICLE_NOT_CAPABLE":  {"The vehicle is incapable of performing your request.", "", "Your car is unable to perform this request."},

	// (docs prose)
	TypeUpstream + ":INVALID_DATA":  {"One of Smartcar’s upstream sources provided data that is malformed, invalid, or logically invalid.", ResolutionRetryLater, userRetry},
	TypeUpstream + ":KNOWN_ISSUE":   {"Smartcar received an error from an upstream source.", ResolutionRetryLater, userRetry},
	TypeUpstream + ":NO_RESPONSE":   {"One of Smartcar’s upstream sources failed to respond.", ResolutionRetryLater, userRetry},
	TypeUpstream + ":RATE_LIMIT":    {"Your application’s requests have exceeded this vehicle’s rate limit.", ResolutionRetryLater, userRetry},
	TypeUpstream + ":UNKNOWN_ISSUE": {"Smartcar received an unknown error from an upstream source.", ResolutionRetryLater, userRetry}, // (sandbox wording)

	TypeServer + ":INTERNAL":         {"An internal Smartcar error has occurred. Our team has been notified and is working to resolve this issue.", ResolutionRetryLater, userRetry},
	TypeServer + ":RECORD_NOT_FOUND": {"Smartcar was unable to locate a battery capacity record for this vehicle.", ResolutionContactSupport, userRetry},
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
		page = docPageByType[TypeServer]
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
	if typ == TypeValidation && note != "" {
		e.Detail = []map[string]any{{"message": note}}
	}
	return e
}

// typeResolution is the resolution for codes smartcarErrors does not list.
func typeResolution(typ string) string {
	switch typ {
	case TypePermission:
		return ResolutionReauthenticate
	case TypeRateLimit, TypeUpstream, TypeServer:
		return ResolutionRetryLater
	case TypeBilling:
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
	return NewError(TypeServer, "INTERNAL", note)
}

// Common errors, shared by every API version.

// Unauthenticated is AUTHENTICATION; why (which credential was refused and how) is the
// note, since Smartcar's description is the same for every cause.
func Unauthenticated(why string) *Error {
	return NewError(TypeAuthentication, "", why)
}

// InvalidRequest is VALIDATION with code null: the request is malformed (a body that is
// not the JSON asked for, a missing field, an id that is not an id).
func InvalidRequest(why string) *Error {
	return NewError(TypeValidation, "", why)
}

// InvalidParameter is VALIDATION:PARAMETER: the request is well formed but a value is out
// of its range ("formatted correctly, but one or more of the provided parameters is
// incorrect", Smartcar's validation-errors page).
func InvalidParameter(why string) *Error {
	return NewError(TypeValidation, "PARAMETER", why)
}

// PathNotFound is RESOURCE_NOT_FOUND:PATH for a request no route serves.
func PathNotFound(path string) *Error {
	return NewError(TypeResourceNotFound, "PATH", "no endpoint at "+path)
}

func VehicleNotCapable(what string) *Error {
	return Errorf(TypeCompatibility, "VEHICLE_NOT_CAPABLE", "the vehicle has no %s", what)
}
