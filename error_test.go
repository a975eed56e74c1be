package sandbox

import (
	"net/http"
	"strings"
	"testing"
)

// Every entry of the text table names a known type, has a sentence for a description and a
// resolution Smartcar uses, and NewError hands it out with the caller's text as the note.
func TestSmartcarErrorTable(t *testing.T) {
	resolutions := map[string]bool{"": true, ResolutionRetryLater: true, ResolutionReauthenticate: true, ResolutionContactSupport: true}
	for key, text := range smartcarErrors {
		typ, code, _ := strings.Cut(key, ":")
		if !KnownErrorType(typ) {
			t.Errorf("%s: unknown type", key)
		}
		if !strings.HasSuffix(text.Description, ".") || !resolutions[text.Resolution] || text.SuggestedUserMessage == "" {
			t.Errorf("%s: %+v", key, text)
		}
		e := NewError(typ, code, "why")
		if e.Description != text.Description || e.Resolution != text.Resolution || e.Note != "why" || e.Status() != statusByType[typ] {
			t.Errorf("NewError(%s) = %+v", key, e)
		}
	}
}

// The pairs the official Node SDK's suites compare, as its SmartcarError builds them.
func TestNodeSuitePairs(t *testing.T) {
	tests := []struct {
		err                         *Error
		message, resolution, docURL string
		status                      int
	}{
		{Unauthenticated("token revoked"),
			"AUTHENTICATION:null - The authorization header is missing or malformed, or it contains invalid or expired authentication credentials. Please check for missing parameters, spelling and casing mistakes, and other syntax issues.",
			"", "https://smartcar.com/docs/errors/api-errors/authentication-errors#null", http.StatusUnauthorized},
		{InvalidRequest("webhook id"),
			"VALIDATION:null - Request invalid or malformed. Please check for missing parameters, spelling and casing mistakes, and other syntax issues.",
			"", "https://smartcar.com/docs/errors/api-errors/validation-errors#null", http.StatusBadRequest},
		{NewError(TypePermission, "", "read_location"),
			"PERMISSION:null - Your application has insufficient permissions to access the requested resource. Please prompt the user to re-authenticate using Smartcar Connect.",
			ResolutionReauthenticate, "https://smartcar.com/docs/errors/api-errors/permission-errors#null", http.StatusForbidden},
		{NewError(TypeVehicleState, "UNKNOWN", ""),
			"VEHICLE_STATE:UNKNOWN - The vehicle was unable to perform your request due to an unknown issue.",
			ResolutionRetryLater, "https://smartcar.com/docs/errors/api-errors/vehicle-state-errors#unknown", http.StatusConflict},
		{NewError(TypeConnectedServicesAccount, "VEHICLE_MISSING", ""),
			"CONNECTED_SERVICES_ACCOUNT:VEHICLE_MISSING - This vehicle is no longer associated with the user's connected services account. Please prompt the user to re-add the vehicle to their account.",
			"", "https://smartcar.com/docs/errors/api-errors/connected-services-account-errors#vehicle-missing", http.StatusBadRequest},
	}
	for _, tt := range tests {
		e := tt.err
		if e.Error() != tt.message || e.Resolution != tt.resolution || DocURL(e.Type, e.Code) != tt.docURL || e.Status() != tt.status {
			t.Errorf("got %q %q %s %d\nwant %q %q %s %d", e.Error(), e.Resolution, DocURL(e.Type, e.Code), e.Status(), tt.message, tt.resolution, tt.docURL, tt.status)
		}
	}
}

// A code the table does not know keeps the caller's text as its description (a fault rule may
// script any code), and never an empty one.
func TestUnknownCodeKeepsTheNote(t *testing.T) {
	if e := NewError(TypeVehicleState, "DOOR_OPEN", "Injected VEHICLE_STATE:DOOR_OPEN error."); e.Description != "Injected VEHICLE_STATE:DOOR_OPEN error." || e.Status() != http.StatusConflict {
		t.Errorf("%+v", e)
	}
	if e := NewError(TypeUpstream, "SOMETHING_NEW", ""); e.Description == "" || e.Resolution != ResolutionRetryLater {
		t.Errorf("%+v", e)
	}
	if e := NewError(TypeValidation, "", "the id is not a UUID"); len(e.Detail) != 1 || e.Detail[0]["message"] != "the id is not a UUID" {
		t.Errorf("VALIDATION detail = %v", e.Detail)
	}
	if e := AsError(http.ErrBodyNotAllowed); e.Type != TypeServer || e.Code != "INTERNAL" || e.Note != http.ErrBodyNotAllowed.Error() {
		t.Errorf("AsError = %+v", e)
	}
}
