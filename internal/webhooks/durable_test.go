package webhooks_test

import (
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/webhooks"
)

// appToken is a v3 application token for sandbox-demo, what the management API takes.
func (e *env) appToken(t *testing.T) string {
	t.Helper()
	tok, _, err := e.h.Tokens.IssueApplication("sandbox-demo")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// subscribeV3 subscribes demo@sandbox.test's vehicle through POST /v3/subscriptions.
func (e *env) subscribeV3(t *testing.T, app, vehicleID string) *sandboxtest.Response {
	t.Helper()
	return e.h.Do(t, "POST", "/v3/subscriptions", app,
		map[string]any{"data": map[string]any{"attributes": map[string]string{"webhookId": hookID, "vehicleId": vehicleID}}})
}

// A commit that fails (a full disk) while subscribing or unsubscribing, through either API,
// is answered with a Smartcar server error in that API's shape and changes nothing: the
// store's subscriptions, the service's and what the management API lists are as before, and
// no delivery starts.
func TestFailedCommitChangesNothing(t *testing.T) {
	for _, tc := range []struct {
		name       string
		subscribed bool // before the commits start failing
		v3         bool // a management API v3 request, answered in v3's error shape
		golden     string
		request    func(t *testing.T, e *env, app string) *sandboxtest.Response
	}{
		{"v3 subscribe", false, true, "mgmt-error-subscribe-not-saved", func(t *testing.T, e *env, app string) *sandboxtest.Response {
			return e.subscribeV3(t, app, ford)
		}},
		{"v3 delete", true, true, "", func(t *testing.T, e *env, app string) *sandboxtest.Response {
			return e.h.Do(t, "DELETE", "/v3/subscriptions/"+webhooks.SubscriptionID(hookID, ford), app, nil)
		}},
		{"v2.0 subscribe", false, false, "", func(t *testing.T, e *env, _ string) *sandboxtest.Response {
			return e.h.Do(t, "POST", "/v2.0/vehicles/"+ford+"/webhooks/"+hookID, e.tok, nil)
		}},
		{"v2.0 unsubscribe", true, false, "", func(t *testing.T, e *env, _ string) *sandboxtest.Response {
			return e.h.Do(t, "DELETE", "/v2.0/vehicles/"+ford+"/webhooks/"+hookID, amt, nil)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var failing atomic.Bool
			e := startOn(t, newReceiver(t, amt), sandbox.Webhook{Signals: []string{"closure-islocked"}}, sandboxtest.Options{
				DataDir: t.TempDir(), SaveFault: func() error {
					if failing.Load() {
						return errors.New("disk full")
					}
					return nil
				}})
			if tc.subscribed {
				e.subscribe(t, ford)
				e.recv.wait(2) // the challenge and the first delivery
				waitLog(t, e.svc, 2)
			}
			app := e.appToken(t) // before the commits fail
			stored := fmt.Sprint(e.h.Store.WebhookSubscriptions())
			subscribed := e.svc.Subscribed(hookID)
			listed := e.listV3(t, app)
			sent, logged := e.recv.count(), len(e.svc.Deliveries())

			failing.Store(true)
			res := tc.request(t, e, app)
			failing.Store(false)
			if res.Status != 500 {
				t.Fatalf("%d, want 500: %s", res.Status, res.Body)
			}
			if tc.v3 {
				if ve := res.V3Error(t); ve.Type != sandbox.TypeServer || ve.Code != "INTERNAL" {
					t.Errorf("v3 error %s/%s, want SERVER/INTERNAL", ve.Type, ve.Code)
				}
			} else if m := res.Map(t); m["type"] != sandbox.TypeServer || m["code"] != "INTERNAL" {
				t.Errorf("v2.0 error %v/%v, want SERVER/INTERNAL: %s", m["type"], m["code"], res.Body)
			}
			if tc.golden != "" {
				golden(t, e, tc.golden, res.Body)
			}

			if got := fmt.Sprint(e.h.Store.WebhookSubscriptions()); got != stored {
				t.Errorf("the store's subscriptions: %s, want them unchanged: %s", got, stored)
			}
			if got := e.svc.Subscribed(hookID); !slices.Equal(got, subscribed) {
				t.Errorf("the service's subscriptions: %v, want them unchanged: %v", got, subscribed)
			}
			if got := e.listV3(t, app); !slices.Equal(got, listed) {
				t.Errorf("GET /v3/subscriptions: %v, want it unchanged: %v", got, listed)
			}
			time.Sleep(100 * time.Millisecond) // room for a delivery that should not start
			if n, l := e.recv.count(), len(e.svc.Deliveries()); n != sent || l != logged {
				t.Errorf("after the failed request the receiver got %d requests (before: %d) and the log holds %d attempts (before: %d)", n, sent, l, logged)
			}
		})
	}
}

// listV3 is the ids GET /v3/subscriptions lists.
func (e *env) listV3(t *testing.T, app string) []string {
	t.Helper()
	res := e.h.Do(t, "GET", "/v3/subscriptions", app, nil)
	var list struct {
		Data []struct{ ID string }
	}
	res.JSON(t, &list)
	if res.Status != 200 {
		t.Fatalf("GET /v3/subscriptions: %d %s", res.Status, res.Body)
	}
	ids := []string{}
	for _, d := range list.Data {
		ids = append(ids, d.ID)
	}
	return ids
}
