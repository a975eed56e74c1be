package oauth_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestWireShapesGolden pins the token endpoint's bodies (random tokens masked) and statuses.
func TestWireShapesGolden(t *testing.T) {
	h := sandboxtest.MustStart(t)
	var code string // random: masked where a description echoes it
	mask := func(r reply) map[string]any {
		for _, k := range []string{"access_token", "refresh_token"} {
			if _, ok := r.Body[k]; ok {
				r.Body[k] = "<" + k + ">"
			}
		}
		if d, ok := r.Body["error_description"].(string); ok {
			r.Body["error_description"] = strings.ReplaceAll(d, code, "<code>")
		}
		out := map[string]any{"status": r.Status, "body": r.Body}
		if v := r.Header.Get("WWW-Authenticate"); v != "" {
			out["www-authenticate"] = v
		}
		return out
	}
	id, secret := sandboxtest.ClientID, sandboxtest.ClientSecret
	code = connectCode(t, h, nil)
	first := exchange(t, h, code, sandboxtest.RedirectURI)
	rt := first.Body["refresh_token"].(string) // before mask rewrites it
	shapes := map[string]any{
		"authorization_code": mask(first),
		"refresh_token": mask(post(t, h, "/oauth/token", id, secret, form,
			url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}.Encode())),
		"client_credentials":     mask(post(t, h, "/oauth/token", id, secret, form, "grant_type=client_credentials")),
		"code_reused":            mask(exchange(t, h, code, sandboxtest.RedirectURI)),
		"wrong_secret":           mask(post(t, h, "/oauth/token", id, "wrong", form, "grant_type=client_credentials")),
		"unsupported_grant_type": mask(post(t, h, "/oauth/token", id, secret, form, "grant_type=password")),
		"not_a_form":             mask(post(t, h, "/oauth/token", id, secret, "application/json", "{}")),
		"unknown_refresh_token": mask(post(t, h, "/oauth/token", id, secret, form,
			url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"f0f0f0f0-0000-4000-8000-000000000000"}}.Encode())),
		"two_authentication_methods": mask(post(t, h, "/oauth/token", id, secret, form,
			url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}.Encode())),
		"iam_json": mask(post(t, h, "/oauth2/token", "", "", "application/json",
			`{"grant_type":"client_credentials","client_id":"`+id+`","client_secret":"`+secret+`"}`)),
		"iam_form": mask(post(t, h, "/oauth2/token", "", "", form,
			url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}.Encode())),
		"iam_missing_grant_type": mask(post(t, h, "/oauth2/token", "", "", "application/json",
			`{"client_id":"`+id+`","client_secret":"`+secret+`"}`)),
		"iam_wrong_secret": mask(post(t, h, "/oauth2/token", "", "", "application/json",
			`{"grant_type":"client_credentials","client_id":"`+id+`","client_secret":"wrong"}`)),
		"iam_authorization_code": mask(post(t, h, "/oauth2/token", "", "", form,
			url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "client_id": {id}, "client_secret": {secret}}.Encode())),
		"iam_not_json_or_form": mask(post(t, h, "/oauth2/token", "", "", "text/plain", "grant_type=client_credentials")),
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(shapes); err != nil {
		t.Fatal(err)
	}
	got := buf.Bytes()
	path := filepath.Join("testdata", "token.golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("token wire shapes changed (go test -update rewrites %s):\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}
