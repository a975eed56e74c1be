package connect

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
)

// Request is a whole Connect flow asked for in one call (the admin API's POST /admin/connect):
// the authorize URL's parameters, who signs in, and what the person would pick on the
// permissions page.
type Request struct {
	ClientID    string
	RedirectURI string // "" picks the app's only registered URI, as the authorize URL does
	Username    string
	Make        string   // "" signs in with the default brand; a brand the sandbox does not know is an error
	VehicleIDs  []string // nil shares every vehicle the sign-in offers
	Scope       string   // as in the authorize URL: space separated, with required: prefixes
	Mode        string
	State       string
	// SingleSelect and SingleSelectVIN are the authorize URL's single_select options.
	SingleSelect    bool
	SingleSelectVIN string
	// Deny answers the permissions page with Deny instead of Allow.
	Deny bool
}

// Result is what the redirect to the app carries after an approved flow, and what was granted.
type Result struct {
	Code        string   `json:"code"`
	State       string   `json:"state,omitempty"`
	RedirectURL string   `json:"redirectUrl"`
	UserID      string   `json:"userId"`
	VehicleIDs  []string `json:"vehicleIds"`
	Permissions []string `json:"permissions"`
}

// Error is a flow that ends without a code. Code and Description are what the redirect's
// error and error_description would say (or, for problems Connect shows on its own error page
// because the app or the redirect URI cannot be trusted, invalid_request with that page's
// text); Params are the rest of the redirect's query (state, vin, make, …), and RedirectURL
// the whole redirect ("" when Connect would not redirect).
type Error struct {
	Code        string
	Description string
	Details     []string
	Params      url.Values
	RedirectURL string
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

// Run performs a Connect flow without its pages, through the same steps the pages run:
// parseAuthorize (the authorize URL's checks), signIn (accounts and test users), choose (the
// permissions page's Allow) and grant (grants and code). Only what a person would type or
// click comes from req instead of a form.
func (h *Handler) Run(req Request) (Result, error) {
	q := url.Values{"response_type": {"code"}, "client_id": {req.ClientID}, "scope": {req.Scope}}
	for k, v := range map[string]string{"redirect_uri": req.RedirectURI, "mode": req.Mode, "state": req.State, "make": req.Make, "single_select_vin": req.SingleSelectVIN} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if req.SingleSelect {
		q.Set("single_select", "true")
	}
	f, err := h.parseAuthorize(q)
	if err != nil {
		return Result{}, h.runError(f, err)
	}
	h.event("started")
	// The pages show the brand list for a make they do not know; here there is nobody to pick.
	if req.Make != "" && f.Make == "" {
		return Result{}, invalidRequest(fmt.Sprintf("make %q is not a brand the sandbox knows (GET /v2.0/compatibility/matrix lists them, e.g. TESLA, FORD).", req.Make))
	}
	username := strings.TrimSpace(req.Username)
	if username == "" {
		return Result{}, invalidRequest("username is required: the account that signs in (any username works; one no fixture names gets a test-mode car of the brand).")
	}
	if err := h.signIn(f, username); err != nil {
		return Result{}, h.runError(f, err)
	}
	if req.Deny {
		return Result{}, h.runError(f, errAccessDenied)
	}
	picked := req.VehicleIDs
	if picked == nil {
		picked = f.Offered
	}
	for _, id := range picked {
		if !contains(f.Offered, id) {
			return Result{}, invalidRequest(fmt.Sprintf("vehicle %q is not among the vehicles %s shares: %s.", id, f.Username, strings.Join(f.Offered, ", ")))
		}
	}
	chosen, perms, msg := choose(f, picked, nil)
	if msg != "" {
		return Result{}, invalidRequest(msg)
	}
	rq, err := h.grant(f, chosen, perms)
	if err != nil {
		return Result{}, err
	}
	return Result{Code: rq.Get("code"), State: f.State, RedirectURL: redirectURL(f.RedirectURI, rq), UserID: f.UserID,
		VehicleIDs: chosen, Permissions: sandbox.SortedPermissionNames(perms)}, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func invalidRequest(desc string) *Error { return &Error{Code: "invalid_request", Description: desc} }

// runError turns a step's error into the Error the pages' answer would amount to: a
// redirectError becomes the redirect's query, a pageError its page's text. Anything else (the
// store failing) is returned as it is.
func (h *Handler) runError(f *flow, err error) error {
	var re *redirectError
	if errors.As(err, &re) && f != nil {
		q := h.errorQuery(f, re)
		e := &Error{Code: re.Code, Description: re.Description, Params: url.Values{}, RedirectURL: redirectURL(f.RedirectURI, q)}
		for k, vs := range q {
			if k != "error" && k != "error_description" {
				e.Params[k] = vs
			}
		}
		return e
	}
	var pe *pageError
	if errors.As(err, &pe) && pe.Status < http.StatusInternalServerError {
		return &Error{Code: "invalid_request", Description: pe.Title + ": " + pe.Message, Details: pe.Fix}
	}
	if errors.Is(err, store.ErrNotFound) {
		return &Error{Code: "no_vehicles", Description: descNoVehicles}
	}
	return err
}
