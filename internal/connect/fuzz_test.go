package connect_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
)

// FuzzAuthorizeQuery: whatever the query string, GET /oauth/authorize never answers 5xx, and a
// redirect only ever goes to a registered URI.
func FuzzAuthorizeQuery(f *testing.F) {
	f.Add("response_type=code&client_id=sandbox-demo&redirect_uri=scsandbox-demo%3A%2F%2Fexchange&scope=read_odometer&state=x")
	f.Add("client_id=sandbox-demo&scope=required%3Aread_vin+read_odometer&mode=simulated&make=TESLA&single_select_vin=0SCAUDI037A5ADB1C")
	f.Add("client_id=sandbox-demo&redirect_uri=http%3A%2F%2Fevil")
	f.Add("%zz&&==;client_id")
	h := sandboxtest.MustStart(f)
	f.Fuzz(func(t *testing.T, query string) {
		req, err := http.NewRequest(http.MethodGet, h.URL+"/oauth/authorize", nil)
		if err != nil {
			t.Skip()
		}
		req.URL.RawQuery = query
		res, err := h.Client.Do(req)
		if err != nil {
			t.Skip() // the client refused to send it (invalid characters)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode >= 500 {
			t.Fatalf("query %q: status %d", query, res.StatusCode)
		}
		if loc := res.Header.Get("Location"); loc != "" {
			ok := false
			for _, u := range []string{"scsandbox-demo://exchange", "http://localhost:8000/exchange"} {
				if len(loc) > len(u) && loc[:len(u)+1] == u+"?" {
					ok = true
				}
			}
			if !ok {
				t.Fatalf("query %q redirected to %q", query, loc)
			}
		}
	})
}
