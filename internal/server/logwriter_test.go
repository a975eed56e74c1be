package server

import (
	"strings"
	"testing"
	"time"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/testlog"
)

// TestLogWriterBuffersAndKeepsOrder: lines wait in the buffer, come out in order on the timer
// or at Close, and go straight out after Close.
func TestLogWriterBuffersAndKeepsOrder(t *testing.T) {
	var out testlog.Buffer
	w := NewLogWriter(&out)
	log := NewLogger(w, "text")

	log.Info("request", "path", "/first")
	if got := out.String(); got != "" {
		t.Fatalf("before any flush the output is %q, want nothing yet", got)
	}
	log.Error("boom") // a warning or an error is never held back, and comes after what waited
	if got := out.String(); !strings.Contains(got, "msg=boom") || strings.Index(got, "path=/first") > strings.Index(got, "msg=boom") {
		t.Fatalf("after an error line: %q, want the waiting line, then the error", got)
	}
	log.Info("request", "path", "/second")
	for end := time.Now().Add(5 * time.Second); !strings.Contains(out.String(), "path=/second"); {
		if time.Now().After(end) {
			t.Fatalf("the timer did not write out the buffered line within 5s (FlushEvery %v)", FlushEvery)
		}
		time.Sleep(10 * time.Millisecond)
	}

	log.Info("request", "path", "/third")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "path=/third") {
		t.Fatalf("after Close: %q, want the last line written", out.String())
	}
	log.Info("request", "path", "/late")
	if !strings.Contains(out.String(), "path=/late") {
		t.Fatalf("a line after Close must be written at once: %q", out.String())
	}
}

// TestLogWriterFlushesWhenFull: a busy sandbox writes out before the timer.
func TestLogWriterFlushesWhenFull(t *testing.T) {
	var out testlog.Buffer
	w := NewLogWriter(&out)
	line := strings.Repeat("x", 1023) + "\n"
	for range maxLogBuffer/len(line) + 1 {
		if _, err := w.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(out.String()); got < maxLogBuffer {
		t.Fatalf("%d bytes written after %d buffered, want a flush at %d", got, maxLogBuffer+len(line), maxLogBuffer)
	}
	_ = w.Close()
}
