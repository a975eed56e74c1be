package oauth_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
)

// FuzzTokenForm: any form body to POST /oauth/token gets 200 or a JSON OAuth error.
func FuzzTokenForm(f *testing.F) {
	f.Add("grant_type=client_credentials", true)
	f.Add("grant_type=authorization_code&code=x&redirect_uri=undefined", true)
	f.Add("grant_type=refresh_token&refresh_token=", false)
	f.Add("client_id=sandbox-demo&client_secret=sandbox-demo-secret&grant_type=client_credentials", false)
	f.Add("%zz=&grant_type=%", true)
	h := sandboxtest.MustStart(f)
	f.Fuzz(func(t *testing.T, body string, basic bool) {
		req, err := http.NewRequest(http.MethodPost, h.URL+"/oauth/token", strings.NewReader(body))
		if err != nil {
			t.Skip()
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if basic {
			req.SetBasicAuth(sandboxtest.ClientID, sandboxtest.ClientSecret)
		}
		res, err := h.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("body %q: %d non-JSON %q", body, res.StatusCode, raw)
		}
		switch {
		case res.StatusCode == http.StatusOK:
			if m["access_token"] == nil {
				t.Fatalf("body %q: 200 without access_token: %s", body, raw)
			}
		case res.StatusCode == 400 || res.StatusCode == 401:
			if e, _ := m["error"].(string); e == "" || m["error_description"] == nil {
				t.Fatalf("body %q: %d not an OAuth error: %s", body, res.StatusCode, raw)
			}
		default:
			t.Fatalf("body %q: status %d %s", body, res.StatusCode, raw)
		}
	})
}
