package admin

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/connect"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/oauth"
)

// connectBody is POST /admin/connect's body. scope is a list or, as in the authorize URL, one
// space-separated string; "required:" prefixes work in both.
type connectBody struct {
	ClientID        string     `json:"clientId"`
	RedirectURI     string     `json:"redirectUri"`
	Username        string     `json:"username"`
	Make            string     `json:"make"`
	VehicleIDs      []string   `json:"vehicleIds"`
	Scope           scopeField `json:"scope"`
	Mode            string     `json:"mode"`
	State           string     `json:"state"`
	SingleSelect    bool       `json:"singleSelect"`
	SingleSelectVIN string     `json:"singleSelectVin"`
	Deny            bool       `json:"deny"`
	// Exchange also trades the code for tokens, as the app's backend would.
	Exchange bool `json:"exchange"`
}

type scopeField string

func (s *scopeField) UnmarshalJSON(b []byte) error {
	var list []string
	if err := json.Unmarshal(b, &list); err == nil {
		*s = scopeField(strings.Join(list, " "))
		return nil
	}
	var one string
	if err := json.Unmarshal(b, &one); err != nil {
		return errors.New("scope must be a list of permissions or one space-separated string")
	}
	*s = scopeField(one)
	return nil
}

type connectAnswer struct {
	connect.Result
	Tokens *oauth.Response `json:"tokens,omitempty"`
}

// connect runs the Connect flow the pages would, in one call: the same checks, grants and
// code (connect.Handler.Run). A flow that ends in a Connect error answers 400 with what the
// redirect would carry: error, error_description, state and the error's other parameters.
func (a *API) connect(w http.ResponseWriter, r *http.Request) error {
	if a.o.Connect == nil || a.o.Exchange == nil {
		return &Error{Status: http.StatusNotImplemented, Code: "not_available", Message: "headless Connect is not wired in this sandbox"}
	}
	var b connectBody
	if err := decode(r, &b); err != nil {
		return err
	}
	res, err := a.o.Connect(connect.Request{ClientID: b.ClientID, RedirectURI: b.RedirectURI, Username: b.Username, Make: b.Make,
		VehicleIDs: b.VehicleIDs, Scope: string(b.Scope), Mode: b.Mode, State: b.State,
		SingleSelect: b.SingleSelect, SingleSelectVIN: b.SingleSelectVIN, Deny: b.Deny})
	var ce *connect.Error
	if errors.As(err, &ce) {
		fields := map[string]string{"error_description": ce.Description}
		for k := range ce.Params {
			fields[k] = ce.Params.Get(k)
		}
		if ce.RedirectURL != "" {
			fields["redirectUrl"] = ce.RedirectURL
		}
		return &Error{Status: http.StatusBadRequest, Code: ce.Code, Message: ce.Description, Details: ce.Details, Fields: fields}
	} else if err != nil {
		return err
	}
	ans := connectAnswer{Result: res}
	if b.Exchange {
		if ans.Tokens, err = a.o.Exchange(b.ClientID, res.Code, b.RedirectURI); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, ans)
	return nil
}
