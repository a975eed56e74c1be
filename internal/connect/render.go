package connect

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
)

//go:embed templates/*.html static/connect.css
var assets embed.FS

var pages = template.Must(template.New("").ParseFS(assets, "templates/*.html"))

// page is what every template gets. Everything echoed goes through html/template, so state,
// usernames and URIs come back escaped.
type page struct {
	Title   string
	App     string
	Mode    string
	Make    string // brand display name
	Step    int    // 1 brand, 2 sign in, 3 permissions; 0 none
	Flow    string
	CSRF    string
	Nonce   string
	Message string // a problem with what was submitted, shown above the form
	Err     *pageError

	Brands    []sandbox.Make
	BrandGrid template.HTML // the unfiltered brand buttons, pre-rendered; empty means render Brands
	Query     string
	Username  string
	Hints     []hint
	Accounts  []string
	Vehicles  []vehicleView
	Single    bool
	Perms     []permView

	// formTarget is the CSP source of the app's redirect URI (see formActionSource).
	formTarget string
}

type hint struct{ Username, Effect string }

type vehicleView struct {
	ID, Label, VIN string
	Checked        bool
}

type permView struct {
	Name, Description, Explanation string
	Required                       bool
}

// Steps is the progress line every step page shows.
var Steps = []string{"Brand", "Sign in", "Permissions"}

func (p page) StepList() []stepView {
	out := make([]stepView, len(Steps))
	for i, s := range Steps {
		n := i + 1
		out[i] = stepView{Name: s, Done: n < p.Step, Current: n == p.Step}
	}
	return out
}

type stepView struct {
	Name          string
	Done, Current bool
}

func (h *Handler) pageFor(f *flow, csrf string) page {
	p := page{Flow: h.seal.seal(f), CSRF: csrf, Mode: f.Mode, App: f.ClientID, formTarget: formActionSource(f.RedirectURI)}
	if app, ok := h.store.Application(f.ClientID); ok && app.Name != "" {
		p.App = app.Name
	}
	if mk, ok := sandbox.LookupMake(f.Make); ok {
		p.Make = mk.Name
	}
	p.Title = p.App + " wants to connect to your vehicle"
	return p
}

func (h *Handler) brandsPage(f *flow, csrf, query, msg string) page {
	p := h.pageFor(f, csrf)
	p.Step, p.Query, p.Message = 1, query, msg
	q := strings.ToLower(strings.TrimSpace(query))
	if q == "" {
		p.Brands, p.BrandGrid = sandbox.Makes, allBrandButtons()
		return p
	}
	for _, m := range sandbox.Makes {
		if q == "" || strings.Contains(strings.ToLower(m.Name), q) || strings.Contains(strings.ToLower(m.ID), q) {
			p.Brands = append(p.Brands, m)
		}
	}
	return p
}

// testUserHints are Smartcar's test-mode usernames (smartcar-api.md §8), shown on sign-in.
var testUserHints = []hint{
	{"3-vehicles@smartcar.com", "an account with 3 vehicles (any number from 1 to 999)"},
	{"smartcar@successful-request.com", "one Audi, VIN 0SCAUDI037A5ADB1C"},
	{"<VIN>@compatible.smartcar.com", "that VIN with every permission; levels: compatible, phev, fuel, bev, incompatible"},
	{"smartcar@vehicle-incompatible.com", "ends in error=vehicle_incompatible"},
	{"smartcar@invalid-subscription.com", "ends in error=invalid_subscription"},
}

func (h *Handler) loginPage(f *flow, csrf, msg string) page {
	p := h.pageFor(f, csrf)
	p.Step, p.Message, p.Hints = 2, msg, testUserHints
	for _, a := range h.store.Accounts() {
		if !a.Generated && len(p.Accounts) < 10 {
			p.Accounts = append(p.Accounts, a.Username)
		}
	}
	return p
}

func makeName(id string) string {
	if mk, ok := sandbox.LookupMake(id); ok {
		return mk.Name
	}
	return id
}

// consentPage is the permissions page with the vehicles to share: every vehicle checked, or
// with single_select the first one (radio buttons). checked, when not nil, is what the person
// had left checked before a problem sent the page back.
func (h *Handler) consentPage(f *flow, csrf string, checked map[string]bool, msg string) page {
	p := h.pageFor(f, csrf)
	p.Step, p.Message, p.Username, p.Single = 3, msg, f.Username, f.Single
	for _, s := range f.Scope {
		d, _ := sandbox.LookupPermission(s.Name)
		p.Perms = append(p.Perms, permView{Name: s.Name, Description: d.Description, Explanation: d.Explanation, Required: s.Required})
	}
	for i, vid := range f.Offered {
		if v, ok := h.store.Vehicle(vid); ok {
			on := checked == nil && (!f.Single || i == 0) || checked[v.ID]
			p.Vehicles = append(p.Vehicles, vehicleView{ID: v.ID, Label: fmt.Sprintf("%d %s %s", v.Year, makeName(v.Make), v.Model), VIN: v.VIN, Checked: on})
		}
	}
	return p
}

// allBrandButtons is the "brand-buttons" template for every make, rendered on first use: the
// same bytes each time, so the brand page need not escape 30 buttons per request.
var allBrandButtons = sync.OnceValue(func() template.HTML {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, "brand-buttons", page{Brands: sandbox.Makes}); err != nil {
		return "" // the brand page then renders the buttons itself, and shows the same error
	}
	return template.HTML(buf.String())
})

// render writes a page with the security headers every Connect page carries. Framing is
// refused (frame-ancestors 'none': nobody may overlay the Allow button); apps that show
// Connect in a web view or a browser tab load it as the top page, which this does not touch.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	p.Nonce = sandbox.RandomToken(16)
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, p); err != nil {
		h.log.Error("connect: template", "page", name, "error", err)
		http.Error(w, "Connect could not render this page.", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'nonce-"+p.Nonce+"'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"+p.formTarget)
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

func serveCSS(w http.ResponseWriter, r *http.Request) {
	b, _ := assets.ReadFile("static/connect.css")
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(b)
}

// cspHost is a host[:port] a CSP host-source can name as is: a DNS name or IPv4 address.
var cspHost = regexp.MustCompile(`^[a-z0-9.-]+(:[0-9]+)?$`)

// formActionSource is what form-action must add to 'self' for a page whose forms may end at
// redirectURI (with its leading space), or "" when nothing can be added. Connect answers its
// forms with a 302 to the app (the code or an error), and Chromium applies form-action to
// redirects after a form submission: checked in headless Chromium 156, 'self' alone blocks
// an https, a cross-port http and a custom-scheme redirect URI alike. An http(s) URI adds its
// origin; any other scheme (scmyapp://exchange) a scheme-source (scmyapp:), because Chromium
// does not match a host-source against such URLs. The URI is a registered one; anything that
// could not be written into the header safely (an IPv6 host) falls back to its scheme.
func formActionSource(redirectURI string) string {
	u, err := url.Parse(redirectURI)
	if err != nil || u.Scheme == "" {
		return ""
	}
	scheme := strings.ToLower(u.Scheme) // url.Parse checked its characters
	host := strings.ToLower(u.Host)
	if (scheme == "http" || scheme == "https") && cspHost.MatchString(host) {
		return " " + scheme + "://" + host
	}
	return " " + scheme + ":"
}
