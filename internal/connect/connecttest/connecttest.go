// Package connecttest drives the sandbox's Connect pages over HTTP the way a person without
// JavaScript would (or curl with a cookie jar): it fills in and posts the HTML forms. Tests of
// any door use it to get an authorization code through the real flow.
package connecttest

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Browser is an HTTP client with a cookie jar that does not follow redirects, so the final
// 302 to the app's redirect URI (often a custom scheme) can be inspected.
type Browser struct {
	Base   string
	Client *http.Client
}

// NewBrowser returns a browser for the sandbox at base (e.g. the harness URL).
func NewBrowser(base string) *Browser {
	jar, _ := cookiejar.New(nil) // never fails without options
	return &Browser{Base: base, Client: &http.Client{
		Jar:           jar,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Page is a response from Connect.
type Page struct {
	Status int
	Header http.Header
	Body   string
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

// Hidden returns the value of the first hidden input with the name ("" when absent).
func (p *Page) Hidden(name string) string {
	for _, m := range hiddenRE.FindAllStringSubmatch(p.Body, -1) {
		if m[1] == name {
			return html.UnescapeString(m[2])
		}
	}
	return ""
}

// Has reports whether the page contains s.
func (p *Page) Has(s string) bool { return strings.Contains(p.Body, s) }

// Location parses the redirect target of a 302 (nil when there is none).
func (p *Page) Location(t testing.TB) *url.URL {
	t.Helper()
	loc := p.Header.Get("Location")
	if loc == "" {
		return nil
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatalf("Location %q: %v", loc, err)
	}
	return u
}

// Get fetches path (with its query) from the sandbox.
func (b *Browser) Get(t testing.TB, pathAndQuery string) *Page {
	t.Helper()
	return b.do(t, http.MethodGet, pathAndQuery, nil)
}

// Authorize opens /oauth/authorize with q.
func (b *Browser) Authorize(t testing.TB, q url.Values) *Page {
	t.Helper()
	return b.Get(t, "/oauth/authorize?"+q.Encode())
}

// Post sends form to path as it is.
func (b *Browser) Post(t testing.TB, path string, form url.Values) *Page {
	t.Helper()
	return b.do(t, http.MethodPost, path, form)
}

// Submit posts fields to path together with the flow and CSRF hidden fields of from, as the
// page's own form would.
func (b *Browser) Submit(t testing.TB, from *Page, path string, fields url.Values) *Page {
	t.Helper()
	form := url.Values{"flow": {from.Hidden("flow")}, "csrf": {from.Hidden("csrf")}}
	for k, vs := range fields {
		form[k] = append(form[k], vs...)
	}
	return b.Post(t, path, form)
}

func (b *Browser) do(t testing.TB, method, path string, form url.Values) *Page {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.Base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := b.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &Page{Status: res.StatusCode, Header: res.Header, Body: string(raw)}
}

// Flow runs Connect from the authorize URL to the redirect for username, choosing brand make
// (when the brand page shows), keeping every vehicle and permission preselected, and
// allowing. It returns the final response (a 302 unless something went wrong; the caller
// checks). It walks the pages as Smartcar's own SDK test helpers do: sign in, and on the very
// next page find .page-content and #approval-button. Any page that is not what the flow
// expects ends the test.
func (b *Browser) Flow(t testing.TB, q url.Values, make, username string) *Page {
	t.Helper()
	p := b.Authorize(t, q)
	if p.Status != http.StatusOK || !p.Has(`id="continue-button"`) {
		return p
	}
	p = b.Submit(t, p, "/connect/start", nil)
	if p.Has(`class="brand-list-item"`) {
		p = b.Submit(t, p, "/connect/brand", url.Values{"make": {make}})
	}
	if !p.Has(`id="sign-in-button"`) {
		t.Fatalf("expected the sign-in page, got %d:\n%s", p.Status, p.Body)
	}
	p = b.Submit(t, p, "/connect/login", url.Values{"username": {username}, "password": {"any password"}})
	if p.Status == http.StatusFound {
		return p // a Connect error for the app, or approval_prompt=auto with nothing new to grant
	}
	if !p.Has(`class="page-content"`) || !p.Has(`id="approval-button"`) {
		t.Fatalf("expected the permissions page right after signing in, got %d:\n%s", p.Status, p.Body)
	}
	return b.Submit(t, p, "/connect/consent", url.Values{"action": {"allow"}, "vehicle": Checked(p, "vehicle"), "permission": Checked(p, "permission")})
}

var inputRE = regexp.MustCompile(`<input type="(?:checkbox|radio|hidden)"[^>]*>`)
var valueRE = regexp.MustCompile(`value="([^"]*)"`)

// Checked returns the values of the page's checked (or hidden) inputs named name: what the
// form sends if the person changes nothing.
func Checked(p *Page, name string) []string {
	var out []string
	for _, in := range inputRE.FindAllString(p.Body, -1) {
		if !strings.Contains(in, `name="`+name+`"`) {
			continue
		}
		if !strings.Contains(in, " checked") && !strings.HasPrefix(in, `<input type="hidden"`) {
			continue
		}
		if m := valueRE.FindStringSubmatch(in); m != nil {
			out = append(out, html.UnescapeString(m[1]))
		}
	}
	return out
}
