package vehicleapi_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
)

var update = flag.Bool("update", false, "rewrite testdata/golden files")

// Fixture vehicles the tests rely on (see fixtures/accounts.yaml).
const (
	teslaID = "d21b0a03-5c3f-5c86-8c05-122d6fde0b3c" // demo: BEV, plugged in, charging
	rav4ID  = "7e9389b9-16d5-5f58-a771-81255727b063" // demo: PHEV, unplugged
	fordID  = "9cc77f46-e827-55cd-885e-69909bdeafb0" // demo: ICE, unlocked
	boltID  = "21439c28-806e-5a64-9f25-afdfe2341547" // ev: BEV, unplugged
	civicID = "4afacc67-be7f-54ad-85cb-dbcb702b8742" // family: ICE, low oil
)

// golden compares a response (status, the sc-* and content-type headers, body) with
// testdata/golden/<name>.json. Request ids and fetch times change per run, so they are
// masked; everything else is deterministic from the fixtures and the test clock.
func golden(t *testing.T, name string, res *sandboxtest.Response) {
	t.Helper()
	reqID := res.Header.Get("SC-Request-Id")
	if reqID == "" {
		t.Errorf("%s: no SC-Request-Id header", name)
	}
	hdr := map[string]string{}
	for _, k := range []string{"Content-Type", "SC-Data-Age", "SC-Fetched-At", "SC-Unit-System", "Retry-After"} {
		if v := res.Header.Get(k); v != "" {
			hdr[k] = v
		}
	}
	if _, ok := hdr["SC-Fetched-At"]; ok {
		hdr["SC-Fetched-At"] = "<now>"
	}
	var body any
	if err := json.Unmarshal(bytes.ReplaceAll(res.Body, []byte(reqID), []byte("<request-id>")), &body); err != nil {
		t.Fatalf("%s: body is not JSON: %v: %s", name, err, res.Body)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(map[string]any{"status": res.Status, "headers": hdr, "body": body}); err != nil {
		t.Fatal(err)
	}
	got := buf.Bytes()
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: response differs from %s\ngot:\n%s\nwant:\n%s", name, path, got, want)
	}
}

// errorOf decodes a Smartcar error body and checks the keys every SDK needs.
type scError struct {
	Type        string  `json:"type"`
	Code        *string `json:"code"`
	Description string  `json:"description"`
	StatusCode  int     `json:"statusCode"`
}

func errorOf(t *testing.T, res *sandboxtest.Response) scError {
	t.Helper()
	var m map[string]json.RawMessage
	res.JSON(t, &m)
	for _, k := range []string{"type", "code", "description", "docURL", "statusCode", "requestId", "resolution", "suggestedUserMessage"} {
		if _, ok := m[k]; !ok {
			t.Errorf("error body lacks %q: %s", k, res.Body)
		}
	}
	var e scError
	res.JSON(t, &e)
	if e.StatusCode != res.Status {
		t.Errorf("statusCode %d, HTTP status %d", e.StatusCode, res.Status)
	}
	return e
}

// commandSent is Smartcar's answer to a command sent to the vehicle.
const commandSent = `{"status":"success","message":"Successfully sent request to vehicle"}`

// detailMessage is the message of a VALIDATION error's first detail: what was invalid.
func detailMessage(t *testing.T, res *sandboxtest.Response) string {
	t.Helper()
	var e struct {
		Detail []struct {
			Message string `json:"message"`
		} `json:"detail"`
	}
	res.JSON(t, &e)
	if len(e.Detail) == 0 {
		t.Errorf("no detail in %s", res.Body)
		return ""
	}
	return e.Detail[0].Message
}

func code(e scError) string {
	if e.Code == nil {
		return "<null>"
	}
	return *e.Code
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func mgmt() []string {
	return []string{"Authorization", basic("default", sandboxtest.ManagementToken)}
}

func clientAuth() []string {
	return []string{"Authorization", basic(sandboxtest.ClientID, sandboxtest.ClientSecret)}
}
