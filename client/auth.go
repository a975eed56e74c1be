package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strings"
	"time"
)

// RequiredPrefix marks a permission the user cannot uncheck in Connect.
const RequiredPrefix = "required:"

// Required returns "required:"+permission, for AuthURLOptions.Scope.
func Required(permission string) string { return RequiredPrefix + permission }

// AuthURLOptions are the optional Connect parameters.
type AuthURLOptions struct {
	Scope           []string          // permissions, sent space-separated; use Required for "required:" ones
	ForcePrompt     bool              // approval_prompt=force instead of auto
	State           string            // echoed back on the redirect
	Make            string            // brand-selector bypass, e.g. "TESLA"
	SingleSelect    bool              // single_select=true
	SingleSelectVIN string            // single_select_vin=<VIN>; also forces single_select=true
	Flags           map[string]string // flags=k:v k:v (sorted by key)
	User            string            // user=<developer's user id>
	ExternalID      string            // external_id=<developer id>
	Mode            Mode              // overrides Config.Mode for this URL
}

// AuthURL builds the Connect URL {connect}/oauth/authorize?… . Parameters are in the Node SDK's
// order, and spaces are encoded as %20 like the Node SDK (Smartcar also accepts "+").
func (c *Client) AuthURL(o AuthURLOptions) (string, error) {
	if c.cfg.ClientID == "" {
		return "", errors.New("smartcar: AuthURL: ClientID is not set (Config.ClientID or SMARTCAR_CLIENT_ID)")
	}
	mode := o.Mode
	if mode == "" {
		mode = c.cfg.Mode
	}
	if !mode.valid() {
		return "", fmt.Errorf("smartcar: AuthURL: mode %q is not one of live, test, simulated", mode)
	}
	var q []string
	add := func(k, v string) { q = append(q, k+"="+escape(v)) }
	add("response_type", "code")
	add("client_id", c.cfg.ClientID)
	if o.ForcePrompt {
		add("approval_prompt", "force")
	} else {
		add("approval_prompt", "auto")
	}
	if c.cfg.RedirectURI != "" {
		add("redirect_uri", c.cfg.RedirectURI)
	}
	var scope []string
	for _, s := range o.Scope {
		if s = strings.TrimSpace(s); s != "" {
			if strings.ContainsAny(s, " \t\n") {
				return "", fmt.Errorf("smartcar: AuthURL: scope entry %q contains whitespace", s)
			}
			scope = append(scope, s)
		}
	}
	if len(scope) > 0 {
		add("scope", strings.Join(scope, " "))
	}
	if o.State != "" {
		add("state", o.State)
	}
	switch {
	case o.SingleSelectVIN != "":
		add("single_select", "true")
		add("single_select_vin", o.SingleSelectVIN)
	case o.SingleSelect:
		add("single_select", "true")
	}
	if o.Make != "" {
		add("make", o.Make)
	}
	if len(o.Flags) > 0 {
		keys := make([]string, 0, len(o.Flags))
		for k := range o.Flags {
			if k == "" || strings.ContainsAny(k, ": ") {
				return "", fmt.Errorf("smartcar: AuthURL: flag name %q must be non-empty without ':' or spaces", k)
			}
			keys = append(keys, k)
		}
		sort.Strings(keys)
		pairs := make([]string, len(keys))
		for i, k := range keys {
			pairs[i] = k + ":" + o.Flags[k]
		}
		add("flags", strings.Join(pairs, " "))
	}
	if o.User != "" {
		add("user", o.User)
	}
	if o.ExternalID != "" {
		add("external_id", o.ExternalID)
	}
	add("mode", string(mode))
	return c.cfg.ConnectOrigin + "/oauth/authorize?" + strings.Join(q, "&"), nil
}

func escape(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

// Access is a token set from the token endpoint.
type Access struct {
	AccessToken  string
	RefreshToken string // "" for client-credentials tokens
	TokenType    string
	ExpiresIn    int       // seconds, as sent
	Expiration   time.Time // now + ExpiresIn
	// RefreshExpiration is now + 60 days (Smartcar does not send it); zero without a refresh token.
	RefreshExpiration time.Time
}

// Expired reports whether the access token is expired at now, or will be within margin.
func (a Access) Expired(now time.Time, margin time.Duration) bool {
	return !now.Add(margin).Before(a.Expiration)
}

// ExchangeCode trades an authorization code from Connect for tokens
// (grant_type=authorization_code; redirect_uri is sent when configured).
func (c *Client) ExchangeCode(ctx context.Context, code string) (*Access, error) {
	if code == "" {
		return nil, errors.New("smartcar: ExchangeCode: empty code")
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}}
	if c.cfg.RedirectURI != "" {
		form.Set("redirect_uri", c.cfg.RedirectURI)
	}
	return c.token(ctx, "ExchangeCode", form)
}

// RefreshToken trades a refresh token for new tokens (grant_type=refresh_token). Smartcar rotates
// refresh tokens: store the returned RefreshToken.
func (c *Client) RefreshToken(ctx context.Context, refreshToken string) (*Access, error) {
	if refreshToken == "" {
		return nil, errors.New("smartcar: RefreshToken: empty refresh token")
	}
	return c.token(ctx, "RefreshToken", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}})
}

// ClientCredentials gets an application token (grant_type=client_credentials); scope is optional.
func (c *Client) ClientCredentials(ctx context.Context, scope ...string) (*Access, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if len(scope) > 0 {
		form.Set("scope", strings.Join(scope, " "))
	}
	return c.token(ctx, "ClientCredentials", form)
}

type tokenBody struct {
	AccessToken  string      `json:"access_token"`
	RefreshToken string      `json:"refresh_token"`
	TokenType    string      `json:"token_type"`
	ExpiresIn    json.Number `json:"expires_in"`
}

func (c *Client) token(ctx context.Context, what string, form url.Values) (*Access, error) {
	if c.cfg.ClientID == "" || c.cfg.ClientSecret == "" {
		return nil, fmt.Errorf("smartcar: %s: ClientID and ClientSecret must be set", what)
	}
	resp, err := c.do(ctx, request{
		method: "POST", url: c.cfg.AuthOrigin + "/oauth/token", form: form,
		basicUser: c.cfg.ClientID, basicPass: c.cfg.ClientSecret,
	})
	if err != nil {
		return nil, err
	}
	var tb tokenBody
	if err := resp.decode(what, &tb); err != nil {
		return nil, err
	}
	if tb.AccessToken == "" {
		return nil, fmt.Errorf("smartcar: %s: token response has no access_token", what)
	}
	now := c.cfg.Now()
	a := &Access{AccessToken: tb.AccessToken, RefreshToken: tb.RefreshToken, TokenType: tb.TokenType}
	if tb.ExpiresIn != "" {
		f, err := tb.ExpiresIn.Float64()
		if err != nil || f < 0 || f > math.MaxInt32 {
			return nil, fmt.Errorf("smartcar: %s: bad expires_in %q", what, tb.ExpiresIn)
		}
		a.ExpiresIn = int(f)
	}
	a.Expiration = now.Add(time.Duration(a.ExpiresIn) * time.Second)
	if a.RefreshToken != "" {
		a.RefreshExpiration = now.Add(RefreshTokenLifetime)
	}
	return a, nil
}
