package server

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is an io.Writer the timer goroutine and the test can share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The hand-written line is byte for byte what slog's handler of the same format writes for
// the same record.
func TestAccessLogMatchesSlog(t *testing.T) {
	at := time.Date(2026, 11, 25, 23, 18, 4, 567_891_000, time.UTC)
	for _, tt := range []struct{ format, note string }{
		{"text", ""}, {"json", ""},
		// An error answer's note, with the characters that make each format quote.
		{"text", `the access token was revoked (token "…x=y")`}, {"json", `the access token was revoked (token "…x=y")`},
	} {
		format := tt.format
		t.Run(format, func(t *testing.T) {
			var want bytes.Buffer
			var h slog.Handler = slog.NewTextHandler(&want, nil)
			if format == "json" {
				h = slog.NewJSONHandler(&want, nil)
			}
			rec := slog.NewRecord(at, slog.LevelInfo, "request", 0)
			rec.AddAttrs(slog.String("method", "GET"), slog.String("path", "/v2.0/vehicles/abc/odometer"), slog.Int("status", 200),
				slog.Float64("duration_ms", 1.234), slog.String("request_id", "0b7c6a4e-1f2a-4c3b-9d8e-7f6a5b4c3d2e"))
			if tt.note != "" {
				rec.AddAttrs(slog.String("note", tt.note))
			}
			if err := h.Handle(context.Background(), rec); err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			l := NewAccessLog(&got, format)
			l.Log(at, "GET", "/v2.0/vehicles/abc/odometer", 200, 1234*time.Microsecond, "0b7c6a4e-1f2a-4c3b-9d8e-7f6a5b4c3d2e", tt.note)
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Errorf("line:\n got %q\nwant %q", got.String(), want.String())
			}
		})
	}
}

// Paths are the client's: odd ones are quoted (text) or escaped (JSON), never break the line.
func TestAccessLogQuotesOddPaths(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, path := range []string{"/a b", `/a"b`, "/a=b", "/é", "/\x00\n", ""} {
		var text, js bytes.Buffer
		lt, lj := NewAccessLog(&text, "text"), NewAccessLog(&js, "json")
		lt.Log(at, "GET", path, 404, time.Millisecond, "id", "")
		lj.Log(at, "GET", path, 404, time.Millisecond, "id", "")
		lt.Close()
		lj.Close()
		if strings.Count(text.String(), "\n") != 1 || !strings.Contains(text.String(), " path="+`"`) {
			t.Errorf("text line for %q = %q, want one line with the path quoted", path, text.String())
		}
		var line struct{ Path string }
		if err := json.Unmarshal(js.Bytes(), &line); err != nil || line.Path != strings.ToValidUTF8(path, "\uFFFD") {
			t.Errorf("JSON line for %q = %q (%v), want the path back", path, js.String(), err)
		}
	}
}

// Access lines wait in the buffer; a slog line pushes them out first (order kept), the timer
// writes them out on its own, and Close writes out the rest.
func TestAccessLogBuffersAndKeepsOrder(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var out lockedBuffer
	l := NewAccessLog(&out, "text")
	log := slog.New(slog.NewTextHandler(l, nil))

	l.Log(at, "GET", "/first", 200, 0, "1", "")
	if got := out.String(); got != "" {
		t.Fatalf("before any flush the output is %q, want nothing yet", got)
	}
	log.Error("boom")
	if got := out.String(); !strings.Contains(got, "path=/first") || strings.Index(got, "path=/first") > strings.Index(got, "msg=boom") {
		t.Fatalf("after a slog line: %q, want the access line first, then the slog line", got)
	}

	l.Log(at, "GET", "/second", 200, 0, "2", "")
	for end := time.Now().Add(5 * time.Second); !strings.Contains(out.String(), "path=/second"); {
		if time.Now().After(end) {
			t.Fatalf("the timer did not write out the buffered line within 5s (FlushEvery %v)", FlushEvery)
		}
		time.Sleep(10 * time.Millisecond)
	}

	l.Log(at, "GET", "/third", 200, 0, "3", "")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "path=/third") {
		t.Fatalf("after Close: %q, want the last line written", out.String())
	}
	l.Log(at, "GET", "/late", 200, 0, "4", "")
	if !strings.Contains(out.String(), "path=/late") {
		t.Fatalf("a line after Close must be written at once: %q", out.String())
	}
}
