package webhooks_test

import (
	"testing"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store/pgtest"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/webhooks"
)

// verifyForm names the form of a VERIFY challenge: v3's event or v2's (legacy) payload.
func verifyForm(p map[string]any) string {
	meta, _ := p["meta"].(map[string]any)
	switch {
	case p["eventType"] == "VERIFY" && meta["version"] == "4.0" && meta["webhookId"] == hookID:
		return "v3"
	case p["eventName"] == "verify" && p["version"] == "2.0" && p["webhookId"] == hookID:
		return "v2"
	}
	return "neither"
}

// Which form a webhook's VERIFY takes (v3's when it was subscribed through the management API
// v3) lives in the store with its subscriptions: a webhook subscribed but not verified yet gets
// the same form from a sandbox restarted on the same -data-dir, and from another sandbox on
// the same PostgreSQL, as from the one it was subscribed through.
func TestVerifyFormLivesInTheStore(t *testing.T) {
	for _, tc := range []struct {
		name    string
		v3      bool
		restart bool // restart on one -data-dir (SQLite); otherwise two sandboxes on one PostgreSQL
	}{
		{"v3, restart on -data-dir", true, true},
		{"v2.0, restart on -data-dir", false, true},
		{"v3, two sandboxes on one PostgreSQL", true, false},
		{"v2.0, two sandboxes on one PostgreSQL", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// One try per delivery, so the failed challenge is over before the second sandbox starts.
			o := sandboxtest.Options{Flags: []string{"-webhook-attempts=1"}}
			if tc.restart {
				o.DataDir = t.TempDir()
			} else {
				o.Flags = append(o.Flags, "-store", pgtest.URL(t))
			}
			want := "v2"
			if tc.v3 {
				want = "v3"
			}
			recv := newReceiver(t, amt)
			recv.badVerify = true // the webhook fails its first challenge: subscribed, not verified
			hook := sandbox.Webhook{Signals: []string{"closure-islocked"}}
			first := startOn(t, recv, hook, o)
			if tc.v3 {
				if res := first.subscribeV3(t, first.appToken(t), ford); res.Status != 202 {
					t.Fatalf("POST /v3/subscriptions: %d %s", res.Status, res.Body)
				}
			} else {
				first.subscribe(t, ford)
			}
			if got := verifyForm(recv.wait(1)[0].Payload); got != want {
				t.Fatalf("the first sandbox's challenge is %s's form, want %s's", got, want)
			}
			waitLog(t, first.svc, 2) // the failed challenge, the first delivery skipped
			if first.svc.Verified(hookID) {
				t.Fatal("the webhook is verified after a wrong answer")
			}
			if tc.restart {
				first.h.Stop(t)
			}

			recv.mu.Lock()
			recv.badVerify = false
			recv.mu.Unlock()
			second := startOn(t, recv, hook, o)
			if res := second.h.Do(t, "POST", "/v2.0/vehicles/"+ford+"/security", second.tok, `{"action":"LOCK"}`); res.Status != 200 {
				t.Fatalf("lock through the second sandbox: %d %s", res.Status, res.Body)
			}
			got := recv.wait(3)
			if form := verifyForm(got[1].Payload); form != want {
				t.Errorf("the second sandbox's challenge is %s's form, want %s's: %s", form, want, got[1].Body)
			}
			if got[2].Payload["eventType"] != sandbox.EventVehicleState || !got[2].SigOK {
				t.Errorf("after the challenge: %s (%s), want a signed VEHICLE_STATE", got[2].Body, got[2].SigError)
			}
			if !second.svc.Verified(hookID) {
				t.Error("the webhook is not verified after a right answer")
			}
		})
	}
}

// When a webhook's subscriptions were made through both APIs, its challenge takes v3's form
// while a v3 subscription is left, and v2.0's once none is (speaksV3 gives the reasons).
func TestVerifyFormFollowsTheSubscriptions(t *testing.T) {
	type step struct {
		v3        bool
		vehicleID string
		delete    bool // DELETE /v3/subscriptions/{id} rather than subscribe
	}
	for _, tc := range []struct {
		name  string
		steps []step
		want  string // the form of the challenge a change of ford brings afterwards
	}{
		{"v2.0 and v3 subscriptions", []step{{false, ford, false}, {true, rav4, false}}, "v3"},
		{"v3 and v2.0 subscriptions", []step{{true, rav4, false}, {false, ford, false}}, "v3"},
		{"the v3 subscription deleted", []step{{true, rav4, false}, {false, ford, false}, {true, rav4, true}}, "v2"},
		{"the v3 subscription replaced through v2.0", []step{{true, ford, false}, {false, ford, false}}, "v2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recv := newReceiver(t, amt)
			recv.badVerify = true // never verified: every delivery challenges the webhook again
			e := startOn(t, recv, sandbox.Webhook{Signals: []string{"closure-islocked"}}, sandboxtest.Options{Flags: []string{"-webhook-attempts=1"}})
			app := e.appToken(t)
			for _, s := range tc.steps {
				sent, logged := e.recv.count(), len(e.svc.Deliveries())
				switch {
				case s.delete:
					if res := e.h.Do(t, "DELETE", "/v3/subscriptions/"+webhooks.SubscriptionID(hookID, s.vehicleID), app, nil); res.Status != 204 {
						t.Fatalf("DELETE /v3/subscriptions: %d %s", res.Status, res.Body)
					}
					continue
				case s.v3:
					if res := e.subscribeV3(t, app, s.vehicleID); res.Status != 202 {
						t.Fatalf("POST /v3/subscriptions: %d %s", res.Status, res.Body)
					}
				default:
					e.subscribe(t, s.vehicleID)
				}
				// Its first delivery's challenge fails and the delivery is skipped.
				e.recv.wait(sent + 1)
				waitLog(t, e.svc, logged+2)
			}
			sent := e.recv.count()
			if res := e.h.Do(t, "POST", "/v2.0/vehicles/"+ford+"/security", e.tok, `{"action":"LOCK"}`); res.Status != 200 {
				t.Fatalf("lock: %d %s", res.Status, res.Body)
			}
			got := e.recv.wait(sent + 1)[sent]
			if form := verifyForm(got.Payload); form != tc.want {
				t.Errorf("the challenge is %s's form, want %s's: %s", form, tc.want, got.Body)
			}
		})
	}
}
