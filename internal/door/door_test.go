package door

import "testing"

func TestOf(t *testing.T) {
	tests := []struct {
		path string
		want Door
		api  bool
	}{
		{"/", Page, false},
		{"/healthz", Page, false},
		{"/openapi.json", Page, false},
		{"/javascript-sdk/v2/redirect", Page, false},
		{"/v2.0x/vehicles", Page, false}, // a prefix counts only as a whole segment
		{"/v3x", Page, false},
		{"/oauth/authorize", Connect, false},
		{"/connect/login", Connect, false},
		{"/connectx", Page, false},
		{"/oauth/token", Token, false},
		{"/oauth2/token", Token, false},
		{"/oauth/tokens", Page, false},
		{"/v1.0/vehicles/x/odometer", V1, true},
		{"/v2.0", V2, true},
		{"/v2.0/vehicles", V2, true},
		{"/v2.0/management/connections", Management, true},
		{"/v1.0/management/connections", Management, true},
		{"/v2.0/managementx", V2, true},
		{"/v3/vehicles/x/signals", V3, true},
		{"/v3/webhooks", V3, true},
		{"/admin", Admin, false},
		{"/admin/requests", Admin, false},
		{"/administrator", Page, false},
		{"/dashboard", Dashboard, false},
		{"/dashboard/api/faults", Dashboard, false},
	}
	for _, tt := range tests {
		got := Of(tt.path)
		if got != tt.want || got.API() != tt.api {
			t.Errorf("Of(%q) = %s (API %v), want %s (API %v)", tt.path, got, got.API(), tt.want, tt.api)
		}
	}
}
