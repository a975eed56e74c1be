package vehicleapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"unsafe"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/bench"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/requestlog"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/sandboxtest"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/server"
)

// maxExtraStack is how much deeper than the baseline server's (net/http + the same token
// verification) the read path's stack may be. Each GC halves an idle connection goroutine's
// stack; when a request then needs more than the halved size, the stack is copied back, on
// every connection after every GC. With the read path ~2 KB deeper than the baseline that
// cost the sandbox ~5 % of its CPU under make bench's read load (perf: runtime.copystack),
// and the baseline nothing; at ~1.2 KB deeper it costs what the baseline pays.
const maxExtraStack = 1600

var padSink byte

// pad calls f under n frames of a fixed size and reports whether f moved the stack (the
// goroutine's stack was copied to a bigger one), and the address of the innermost pad frame.
//
//go:noinline
func pad(n int, f func()) (moved bool, frame uintptr) {
	var buf [240]byte
	buf[n%240] = byte(n)
	if n > 0 {
		moved, frame = pad(n-1, f)
		padSink += buf[(n*7)%240]
		return moved, frame
	}
	before := uintptr(unsafe.Pointer(&buf))
	f()
	return uintptr(unsafe.Pointer(&buf)) != before, before
}

// firstMove is the least padding under which serving req moves a fresh goroutine's stack
// (grown first to the same size for every handler).
func firstMove(t *testing.T, h http.Handler, req *http.Request) int {
	for n := 0; n < 200; n++ {
		ch := make(chan bool)
		go func() {
			pad(28, func() {}) // the same starting stack for every run
			moved, _ := pad(n, func() { h.ServeHTTP(httptest.NewRecorder(), req) })
			ch <- moved
		}()
		if <-ch {
			return n
		}
	}
	t.Fatal("the stack never moved")
	return 0
}

func TestReadStackDepthNearBaseline(t *testing.T) {
	h := sandboxtest.MustStart(t)
	tok, _ := h.Connect(t, sandboxtest.ClientID, sandboxtest.DemoUser, "read_odometer")
	access := server.NewAccessLog(io.Discard, "text")
	defer access.Close()
	// The binary's default wiring, as in BenchmarkOdometerDefaults.
	sandbox := server.New(server.Deps{Store: h.Store, Tokens: h.Tokens, Origin: h.URL, Now: h.Clock.Now, AccessLog: access,
		Control: &server.Control{AdminToken: "bench", FaultHeader: true, Requests: requestlog.New(1000, h.Clock.Now)}})
	req := httptest.NewRequest(http.MethodGet, "/v2.0/vehicles/"+teslaID+"/odometer", nil)
	req.Header.Set("Authorization", "Bearer "+tok)

	// The size of one pad frame: how much deeper the innermost frame is under one more.
	var outer, inner uintptr
	done := make(chan struct{})
	go func() {
		pad(28, func() {}) // no stack move between the two calls
		_, outer = pad(0, func() {})
		_, inner = pad(1, func() {})
		close(done)
	}()
	<-done
	frame := int(outer - inner)
	if frame <= 240 {
		t.Fatalf("pad frame measured as %d bytes", frame)
	}

	sb, base := firstMove(t, sandbox, req), firstMove(t, bench.BaselineHandler(h.Tokens), req)
	extra := (base - sb) * frame
	t.Logf("padding before the stack moves: sandbox %d, baseline %d frames of %d B: sandbox ~%d B deeper", sb, base, frame, extra)
	if extra > maxExtraStack {
		t.Errorf("the read path is ~%d B deeper than the baseline's, want at most %d (see maxExtraStack)", extra, maxExtraStack)
	}
}
