package vehicleapi_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
)

// FuzzBatchBody: whatever the body of POST /vehicles/{id}/batch, the answer is a 200 batch
// with one object answer per request (at most MaxBatchRequests), or a Smartcar error; never a
// 5xx, never a null body or headers inside the batch.
func FuzzBatchBody(f *testing.F) {
	f.Add(`{"requests":[{"path":"/odometer"},{"path":"/battery"},{"path":"/fuel"}]}`)
	f.Add(`{"requests":[{"path":"/charge/limit"},{"path":"/nope"},{"path":"location?x=%zz"}]}`)
	f.Add(`{"requests":[]}`)
	f.Add(`{"requests":[{}]}`)
	f.Add(`{"requests":null}`)
	f.Add(`{"requests":[{"path":7}]}`)
	f.Add(`[]`)
	f.Add(`{"requests":[{"path":"/odometer"}]} trailing`)
	h := sandboxtest.MustStart(f)
	tok, _ := h.Connect(f, sandboxtest.ClientID, sandboxtest.DemoUser, "read_odometer", "read_battery", "read_charge", "read_location", "read_vehicle_info")
	f.Fuzz(func(t *testing.T, body string) {
		res := h.Do(t, http.MethodPost, "/v2.0/vehicles/"+teslaID+"/batch", tok, body)
		switch {
		case res.Status == http.StatusOK:
			var out struct {
				Responses []struct {
					Path    *string         `json:"path"`
					Code    int             `json:"code"`
					Headers map[string]any  `json:"headers"`
					Body    json.RawMessage `json:"body"`
				} `json:"responses"`
			}
			if err := json.Unmarshal(res.Body, &out); err != nil {
				t.Fatalf("body %q: 200 that is not a batch: %s", body, res.Body)
			}
			if n := len(out.Responses); n == 0 || n > 25 {
				t.Fatalf("body %q: %d answers", body, n)
			}
			for i, it := range out.Responses {
				if it.Path == nil || it.Code < 200 || it.Code > 599 || it.Headers == nil || len(it.Body) == 0 || it.Body[0] != '{' {
					t.Fatalf("body %q: answer %d malformed: %s", body, i, res.Body)
				}
			}
		case res.Status >= 400 && res.Status < 500:
			var e scError
			res.JSON(t, &e)
			if e.Type == "" || e.Description == "" || e.StatusCode != res.Status {
				t.Fatalf("body %q: %d not a Smartcar error: %s", body, res.Status, res.Body)
			}
		default:
			t.Fatalf("body %q: status %d %s", body, res.Status, res.Body)
		}
	})
}
