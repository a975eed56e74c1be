package webhooks_test

import (
	"os"
	"slices"
	"testing"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/fixtures"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store/pgtest"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/webhooks"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

// Two sandboxes on one PostgreSQL: a subscription made through one is delivered by the other
// when the vehicle changes there (the sandbox where a change happens delivers it, once), with
// no restart; an unsubscribe through one ends the other's deliveries.
func TestReplicasShareSubscriptions(t *testing.T) {
	url := pgtest.URL(t)
	recv := newReceiver(t, amt)
	ds := hookFixtures(t, recv, sandbox.Webhook{Signals: []string{"closure-islocked"}})
	var stores []*store.Store
	var svcs []*webhooks.Service
	for range 2 {
		b, err := store.OpenPostgres(url)
		if err != nil {
			t.Fatal(err)
		}
		st, err := store.New(ds, store.Options{Backend: b, Garage: fixtures.Garage})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		svc, err := webhooks.New(webhooks.Options{Store: st, RetryBase: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(svc.Close)
		stores, svcs = append(stores, st), append(svcs, svc)
	}
	a, b := stores[0], stores[1]
	acct, err := a.Account("demo@sandbox.test")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Connect(sandbox.Grant{ClientID: "sandbox-demo", UserID: acct.UserID, VehicleID: ford, Permissions: []string{"read_security"}}); err != nil {
		t.Fatal(err)
	}
	// What subscribing through the first records (its first delivery is not this test's).
	if err := a.PutWebhookSubscription(store.WebhookSubscription{WebhookID: hookID, VehicleID: ford, ClientID: "sandbox-demo", UserID: acct.UserID}); err != nil {
		t.Fatal(err)
	}
	if err := a.SetWebhookVerified(hookID); err != nil {
		t.Fatal(err)
	}
	if got := svcs[1].Subscribed(hookID); !slices.Equal(got, []string{ford}) {
		t.Errorf("the other sandbox's subscriptions: %v, want [%s]", got, ford)
	}
	lock := func(st *store.Store, locked bool) {
		t.Helper()
		if _, err := st.UpdateVehicle(ford, func(v *sandbox.Vehicle) error { v.State.Security.SetLocked(locked); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	lock(b, true)
	got := recv.wait(1)[0]
	if got.Payload["eventType"] != sandbox.EventVehicleState || !got.SigOK {
		t.Fatalf("delivery = %v (signature ok %v), want a signed VEHICLE_STATE", got.Payload["eventType"], got.SigOK)
	}
	waitLog(t, svcs[1], 1)
	if len(svcs[1].Deliveries()) != 1 || len(svcs[0].Deliveries()) != 0 {
		t.Errorf("deliveries: first %d, second %d; want the change's sandbox (the second) to deliver once", len(svcs[0].Deliveries()), len(svcs[1].Deliveries()))
	}

	if _, err := a.DeleteWebhookSubscription(hookID, ford); err != nil {
		t.Fatal(err)
	}
	lock(b, false)
	time.Sleep(100 * time.Millisecond)
	if n := recv.count(); n != 1 || len(svcs[1].Subscribed(hookID)) != 0 {
		t.Errorf("after an unsubscribe through the first, the second sent %d deliveries in all and lists %v", n, svcs[1].Subscribed(hookID))
	}
}
