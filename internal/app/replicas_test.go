package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/config"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store/pgtest"
)

// adminCall sends an admin API request and decodes the JSON answer (nil for none).
func adminCall(t *testing.T, a *App, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.Origin+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.AdminToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// Two sandboxes on one PostgreSQL act as one for what the tools hold: a fault rule and the
// request log's size set through one hold at the other at once (a "next call" rule fires
// once across both), and exactly one of them moves the simulated vehicles; when it stops,
// the other takes over.
func TestReplicasShareControlAndOneSimulator(t *testing.T) {
	cfg := config.Config{Store: pgtest.URL(t), AdminToken: "replicas-admin-token", FixturesDir: writeSimFixture(t, "odometer-traveleddistance"),
		SimSpeedup: 60, SimSeed: 3}
	cfg.Addr, cfg.LogFormat = "127.0.0.1:0", "text"
	// Started here rather than with MustStart: the test stops one itself, and a second
	// Shutdown would wait for good.
	running := map[*App]bool{}
	start := func() *App {
		x, err := Start(cfg, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		running[x] = true
		return x
	}
	stop := func(x *App) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		delete(running, x)
		if err := x.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(func() {
		for x := range running {
			stop(x)
		}
	})
	a, b := start(), start()
	const vid = "11111111-1111-4111-8111-111111111111"

	if st, _ := adminCall(t, a, http.MethodPost, "/admin/faults", map[string]any{"vehicleId": vid, "count": 1,
		"error": map[string]any{"type": "VEHICLE_STATE", "code": "ASLEEP"}}); st != http.StatusCreated {
		t.Fatalf("POST /admin/faults: %d", st)
	}
	if _, list := adminCall(t, b, http.MethodGet, "/admin/faults", nil); len(list["faults"].([]any)) != 1 {
		t.Errorf("the other sandbox's rules: %v, want the one set through the first", list)
	}
	statusAt := func(x *App) int {
		res, err := http.Get(x.Origin + "/v2.0/vehicles/" + vid + "/odometer")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := []int{statusAt(b), statusAt(a)}; got[0] != http.StatusConflict || got[1] != http.StatusUnauthorized {
		t.Errorf("the rule's one firing: %v at the second then the first, want [409 401] (it fires once across both)", got)
	}

	if st, _ := adminCall(t, a, http.MethodPatch, "/admin/requests", map[string]any{"size": 7}); st != http.StatusOK {
		t.Fatalf("PATCH /admin/requests: %d", st)
	}
	if _, got := adminCall(t, b, http.MethodGet, "/admin/requests", nil); got["size"] != 7.0 {
		t.Errorf("the other sandbox's request log size: %v, want 7", got["size"])
	}

	leads := []bool{a.Store.Leads("simulator"), b.Store.Leads("simulator")}
	if leads[0] == leads[1] {
		t.Fatalf("simulator leads = %v, want exactly one", leads)
	}
	leader, follower := a, b
	if leads[1] {
		leader, follower = b, a
	}
	moved := func(beyond float64) float64 {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			if v, _ := follower.Store.Vehicle(vid); v.State.OdometerKm > beyond {
				return v.State.OdometerKm
			}
			if time.Now().After(deadline) {
				t.Fatalf("the simulated vehicle did not move beyond %v km", beyond)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	km := moved(100)
	stop(leader)
	moved(km) // the other took over
	if !follower.Store.Leads("simulator") {
		t.Error("the other sandbox does not lead once the first stopped")
	}
}
