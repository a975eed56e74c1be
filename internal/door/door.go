// Package door says which part of the sandbox a URL path belongs to. Each door answers its
// errors in its own shape (Smartcar error JSON on the vehicle APIs, OAuth error JSON on the
// token endpoints, the admin API's JSON, HTML pages elsewhere), and metrics, faults and the
// request log all need to know which; this is the one place that decides.
package door

import "strings"

// Door is a part of the sandbox's URL space.
type Door int

const (
	Page       Door = iota // the sandbox's own pages: landing page, probes, 404s
	Connect                // connect.smartcar.com: /oauth/authorize and /connect/...
	Token                  // the token endpoints: /oauth/token (auth.smartcar.com) and /oauth2/token (v3's IAM)
	V1                     // api.smartcar.com/v1.0
	V2                     // api.smartcar.com/v2.0
	Management             // management API: /v2.0/management/... (and /v1.0/management/...)
	V3                     // vehicle.api.smartcar.com/v3 (the v3 management API included)
	Admin                  // the sandbox's control API: /admin/...
	Dashboard              // the sandbox's dashboard: /dashboard/...
)

// Of returns the door of path. A prefix counts only as a whole segment: /v2.0x is a Page.
func Of(path string) Door {
	switch {
	case under(path, "/v2.0/management"), under(path, "/v1.0/management"):
		return Management
	case under(path, "/v2.0"):
		return V2
	case under(path, "/v3"):
		return V3
	case under(path, "/v1.0"):
		return V1
	case path == "/oauth/token", path == "/oauth2/token":
		return Token
	case path == "/oauth/authorize", under(path, "/connect"):
		return Connect
	case under(path, "/admin"):
		return Admin
	case under(path, "/dashboard"):
		return Dashboard
	}
	return Page
}

// under reports whether path is prefix or below it.
func under(path, prefix string) bool {
	return strings.HasPrefix(path, prefix) && (len(path) == len(prefix) || path[len(prefix)] == '/')
}

// API reports whether the door is a vehicle API (or the management API), whose answers are
// Smartcar error JSON.
func (d Door) API() bool { return d == V1 || d == V2 || d == Management || d == V3 }

// String is the door's name in metrics and logs.
func (d Door) String() string {
	switch d {
	case Connect:
		return "connect"
	case Token:
		return "auth"
	case V1:
		return "v1"
	case V2:
		return "v2"
	case Management:
		return "management"
	case V3:
		return "v3"
	case Admin:
		return "admin"
	case Dashboard:
		return "dashboard"
	}
	return "sandbox"
}
