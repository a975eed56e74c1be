package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// App is the OAuth application the load acts as: the default fixtures' demo app.
type App struct {
	ClientID, ClientSecret, RedirectURI string
}

// DemoApp is the default fixtures' demo application.
var DemoApp = App{ClientID: "sandbox-demo", ClientSecret: "sandbox-demo-secret", RedirectURI: "scsandbox-demo://exchange"}

// DemoUser is the default fixtures' demo account; its first vehicle is a TESLA Model 3.
const DemoUser = "demo@sandbox.test"

// FlowScope covers the reads the phases make: the odometer and the batch's five paths.
const FlowScope = "read_vehicle_info read_odometer read_location read_battery read_charge read_security"

// BatchBody asks for five paths in one batch.
const BatchBody = `{"requests":[{"path":"/odometer"},{"path":"/location"},{"path":"/battery"},{"path":"/charge"},{"path":"/security"}]}`

// Tokens is what a finished flow yields.
type Tokens struct {
	Access, Refresh string
	VehicleID       string // the first vehicle GET /v2.0/vehicles lists
}

// Client drives one sandbox at Base.
type Client struct {
	Base  string
	HTTP  *http.Client
	App   App
	Scope string // what Flow asks for; "" for FlowScope
}

// page is one Connect answer, with the cookies it set.
type page struct {
	status int
	loc    string
	body   string
}

// Flow runs Connect the way a person without JavaScript does: authorize, preamble, brand,
// sign-in, permissions with the vehicles to share (approval_prompt=force, so the consent page shows every
// time), then exchanges the code at the token endpoint and makes the first API call
// (GET /v2.0/vehicles). The CSRF cookie is carried by hand: a cookie jar per flow would cost
// more than the pages it drives.
func (c *Client) Flow(ctx context.Context, username string) (Tokens, error) {
	code, err := c.Code(ctx, username)
	if err != nil {
		return Tokens{}, err
	}
	t, err := c.Token(ctx, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {c.App.RedirectURI}})
	if err != nil {
		return Tokens{}, err
	}
	var list struct {
		Vehicles []string `json:"vehicles"`
	}
	if err := c.getJSON(ctx, "/v2.0/vehicles", t.Access, &list); err != nil {
		return Tokens{}, err
	}
	if len(list.Vehicles) == 0 {
		return Tokens{}, fmt.Errorf("GET /v2.0/vehicles: no vehicles")
	}
	t.VehicleID = list.Vehicles[0]
	return t, nil
}

// Code runs Connect's pages (Flow's first part) and returns the code the consent redirects
// with, not yet exchanged.
func (c *Client) Code(ctx context.Context, username string) (string, error) {
	scope := c.Scope
	if scope == "" {
		scope = FlowScope
	}
	q := url.Values{
		"response_type":   {"code"},
		"client_id":       {c.App.ClientID},
		"redirect_uri":    {c.App.RedirectURI},
		"scope":           {scope},
		"state":           {"bench"},
		"approval_prompt": {"force"},
	}
	var cookies []string
	p, err := c.page(ctx, http.MethodGet, "/oauth/authorize?"+q.Encode(), nil, &cookies)
	if err != nil {
		return "", err
	}
	if err := expect(p, "authorize", `id="continue-button"`); err != nil {
		return "", err
	}
	steps := []struct {
		path, want string
		fields     func(p *page) url.Values
	}{
		{"/connect/start", `class="brand-list-item"`, nil},
		{"/connect/brand", `id="sign-in-button"`, func(*page) url.Values { return url.Values{"make": {"TESLA"}} }},
		{"/connect/login", `id="approval-button"`, func(*page) url.Values {
			return url.Values{"username": {username}, "password": {"bench password"}}
		}},
	}
	for _, s := range steps {
		var fields url.Values
		if s.fields != nil {
			fields = s.fields(p)
		}
		if p, err = c.submit(ctx, p, s.path, fields, &cookies); err != nil {
			return "", err
		}
		if err := expect(p, s.path, s.want); err != nil {
			return "", err
		}
	}
	p, err = c.submit(ctx, p, "/connect/consent", url.Values{"action": {"allow"}, "vehicle": checked(p.body, "vehicle"), "permission": checked(p.body, "permission")}, &cookies)
	if err != nil {
		return "", err
	}
	if p.status != http.StatusFound {
		return "", fmt.Errorf("consent: status %d, want 302: %.300s", p.status, p.body)
	}
	loc, err := url.Parse(p.loc)
	if err != nil || loc.Query().Get("code") == "" {
		return "", fmt.Errorf("consent: redirect %q has no code", p.loc)
	}
	return loc.Query().Get("code"), nil
}

func expect(p *page, step, want string) error {
	if p.status != http.StatusOK || !strings.Contains(p.body, want) {
		return fmt.Errorf("%s: status %d, expected a page with %s: %.300s", step, p.status, want, p.body)
	}
	return nil
}

// submit posts the flow and CSRF hidden fields of from, plus fields, as the page's form would.
func (c *Client) submit(ctx context.Context, from *page, path string, fields url.Values, cookies *[]string) (*page, error) {
	form := url.Values{"flow": {hidden(from.body, "flow")}, "csrf": {hidden(from.body, "csrf")}}
	for k, vs := range fields {
		form[k] = vs
	}
	return c.page(ctx, http.MethodPost, path, form, cookies)
}

func (c *Client) page(ctx context.Context, method, path string, form url.Values, cookies *[]string) (*page, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, body)
	if err != nil {
		return nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if len(*cookies) > 0 {
		req.Header.Set("Cookie", strings.Join(*cookies, "; "))
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	for _, ck := range res.Cookies() {
		*cookies = append(*cookies, ck.Name+"="+ck.Value)
	}
	return &page{status: res.StatusCode, loc: res.Header.Get("Location"), body: string(raw)}, nil
}

// hidden returns the value of the first hidden input named name ("" when absent). A plain
// string search, not a regexp: the load tool shares the machine with the sandbox, so its own
// page parsing must stay cheap.
func hidden(body, name string) string {
	marker := `<input type="hidden" name="` + name + `" value="`
	i := strings.Index(body, marker)
	if i < 0 {
		return ""
	}
	rest := body[i+len(marker):]
	j := strings.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return html.UnescapeString(rest[:j])
}

// checked returns the values of the checked (or hidden) inputs named name: what the form
// sends when the person changes nothing.
func checked(body, name string) []string {
	var out []string
	for {
		i := strings.Index(body, "<input ")
		if i < 0 {
			return out
		}
		body = body[i:]
		j := strings.IndexByte(body, '>')
		if j < 0 {
			return out
		}
		tag := body[:j]
		body = body[j:]
		if !strings.Contains(tag, ` name="`+name+`"`) {
			continue
		}
		if !strings.Contains(tag, " checked") && !strings.HasPrefix(tag, `<input type="hidden"`) {
			continue
		}
		if _, v, ok := strings.Cut(tag, ` value="`); ok {
			if k := strings.IndexByte(v, '"'); k >= 0 {
				out = append(out, html.UnescapeString(v[:k]))
			}
		}
	}
}

// Token posts form to the token endpoint with the app's HTTP Basic credentials.
func (c *Client) Token(ctx context.Context, form url.Values) (Tokens, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Base+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return Tokens{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(c.App.ClientID, c.App.ClientSecret)
	var out struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if err := c.doJSON(req, &out); err != nil {
		return Tokens{}, fmt.Errorf("token (%s): %w", form.Get("grant_type"), err)
	}
	if out.AccessToken == "" || out.RefreshToken == "" {
		return Tokens{}, fmt.Errorf("token (%s): no access or refresh token in the answer", form.Get("grant_type"))
	}
	return Tokens{Access: out.AccessToken, Refresh: out.RefreshToken}, nil
}

// Refresh uses a refresh token and returns the next pair.
func (c *Client) Refresh(ctx context.Context, refresh string) (Tokens, error) {
	return c.Token(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
}

func (c *Client) getJSON(ctx context.Context, path, bearer string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	if err := c.doJSON(req, out); err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	return nil
}

func (c *Client) doJSON(req *http.Request, out any) error {
	res, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %.300s", res.StatusCode, raw)
	}
	return json.Unmarshal(raw, out)
}

// Read returns an operation that GETs path with the bearer token and wants a 200. The body
// is read to the end (so the connection is reused) and not parsed: the phase measures the
// server.
func (c *Client) Read(path, bearer string) Op {
	auth := "Bearer " + bearer
	return func(ctx context.Context, _ int) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+path, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", auth)
		return c.drain(req, "GET "+path)
	}
}

// Batch returns an operation that POSTs BatchBody to the vehicle's batch endpoint.
func (c *Client) Batch(vehicleID, bearer string) Op {
	auth := "Bearer " + bearer
	path := "/v2.0/vehicles/" + vehicleID + "/batch"
	return func(ctx context.Context, _ int) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Base+path, strings.NewReader(BatchBody))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", auth)
		req.Header.Set("Content-Type", "application/json")
		return c.drain(req, "POST "+path)
	}
}

func (c *Client) drain(req *http.Request, what string) error {
	res, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(io.LimitReader(res.Body, 300))
		return fmt.Errorf("%s: status %d: %s", what, res.StatusCode, raw)
	}
	_, err = io.Copy(io.Discard, res.Body)
	return err
}

// Lock returns an operation that LOCKs and UNLOCKs the vehicle in turn (a state-changing
// command: with a data dir, one committed transaction each).
func (c *Client) Lock(vehicleID, bearer string) Op {
	auth := "Bearer " + bearer
	path := "/v2.0/vehicles/" + vehicleID + "/security"
	return func(ctx context.Context, w int) error {
		action := []string{`{"action":"LOCK"}`, `{"action":"UNLOCK"}`}[w%2]
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Base+path, strings.NewReader(action))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", auth)
		req.Header.Set("Content-Type", "application/json")
		return c.drain(req, "POST "+path)
	}
}
