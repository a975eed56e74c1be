package connect

import (
	"bytes"
	"testing"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
)

// The pre-rendered brand grid must be byte for byte what the brand page rendered before it.
func TestBrandGridSameAsRendered(t *testing.T) {
	render := func(p page) string {
		var buf bytes.Buffer
		if err := pages.ExecuteTemplate(&buf, "brands", p); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	base := page{Title: "t", App: "App", Flow: "f", CSRF: "c", Nonce: "n", Step: 1}
	dynamic, cached := base, base
	dynamic.Brands = sandbox.Makes
	cached.Brands, cached.BrandGrid = sandbox.Makes, allBrandButtons()
	if cached.BrandGrid == "" {
		t.Fatal("allBrandButtons rendered nothing")
	}
	if got, want := render(cached), render(dynamic); got != want {
		t.Errorf("brand page with the cached grid differs:\n got %s\nwant %s", got, want)
	}
}
