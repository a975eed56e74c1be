package server

import (
	"encoding/json"
	"io"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// AccessLog writes the one line per request the sandbox logs (time, level, msg=request,
// method, path, status, duration_ms, request_id, and note when the answer has one: the
// sandbox's own explanation of an error, see requestlog.Note), in slog's text or JSON shape, cheaply: the
// line is formatted by hand into a buffer and the buffer goes out in one write at most every
// FlushEvery (or when it passes maxAccessBuffer), instead of a slog record and a write system
// call per request (which were ~20 % of a vehicle read's server time under make bench).
//
// It is also an io.Writer for the sandbox's slog handler: a slog line first pushes out the
// access lines buffered before it and is then written at once, so the log keeps its order and
// an error or panic line is never held back. Close (called by app.Shutdown) writes out what is
// left. Safe for concurrent use.
type AccessLog struct {
	out        io.Writer
	json       bool
	flushEvery time.Duration

	mu     sync.Mutex
	buf    []byte
	timer  *time.Timer // armed while buf holds lines
	closed bool
}

// FlushEvery is how long an access line may wait in the buffer: short enough that a person
// watching the log sees requests as they happen.
const FlushEvery = 100 * time.Millisecond

// maxAccessBuffer makes a busy sandbox write out before the timer does.
const maxAccessBuffer = 32 << 10

// NewAccessLog returns an access log writing to out in format "json" or text (anything else).
func NewAccessLog(out io.Writer, format string) *AccessLog {
	return &AccessLog{out: out, json: format == "json", flushEvery: FlushEvery, buf: make([]byte, 0, maxAccessBuffer+512)}
}

// Log records one finished request; t is when the line is stamped (slog stamps at log time).
func (l *AccessLog) Log(t time.Time, method, path string, status int, d time.Duration, requestID, note string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) == 0 && !l.closed {
		if l.timer == nil {
			l.timer = time.AfterFunc(l.flushEvery, l.flushFromTimer)
		} else {
			l.timer.Reset(l.flushEvery)
		}
	}
	l.buf = l.appendLine(l.buf, t, method, path, status, d, requestID, note)
	if len(l.buf) >= maxAccessBuffer || l.closed {
		l.flushLocked()
	}
}

func (l *AccessLog) appendLine(b []byte, t time.Time, method, path string, status int, d time.Duration, requestID, note string) []byte {
	ms := float64(d.Microseconds()) / 1000
	if l.json {
		b = append(b, `{"time":"`...)
		b = t.AppendFormat(b, time.RFC3339Nano) // slog's JSON handler keeps full precision
		b = append(b, `","level":"INFO","msg":"request","method":`...)
		b = appendJSONString(b, method)
		b = append(b, `,"path":`...)
		b = appendJSONString(b, path)
		b = append(b, `,"status":`...)
		b = strconv.AppendInt(b, int64(status), 10)
		b = append(b, `,"duration_ms":`...)
		b = strconv.AppendFloat(b, ms, 'f', -1, 64)
		b = append(b, `,"request_id":`...)
		b = appendJSONString(b, requestID)
		if note != "" {
			b = append(b, `,"note":`...)
			b = appendJSONString(b, note)
		}
		return append(b, "}\n"...)
	}
	b = append(b, "time="...)
	b = appendRFC3339Millis(b, t)
	b = append(b, " level=INFO msg=request method="...)
	b = appendTextValue(b, method)
	b = append(b, " path="...)
	b = appendTextValue(b, path)
	b = append(b, " status="...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, " duration_ms="...)
	b = strconv.AppendFloat(b, ms, 'f', -1, 64)
	b = append(b, " request_id="...)
	b = appendTextValue(b, requestID)
	if note != "" {
		b = append(b, " note="...)
		b = appendTextValue(b, note)
	}
	return append(b, '\n')
}

// Write writes p (one slog record) after the access lines buffered so far.
func (l *AccessLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flushLocked()
	return l.out.Write(p)
}

// Flush writes out the buffered lines.
func (l *AccessLog) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.flushLocked()
}

// Close writes out the buffered lines and stops the timer; later lines are written at once.
func (l *AccessLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	if l.timer != nil {
		l.timer.Stop()
	}
	return l.flushLocked()
}

func (l *AccessLog) flushFromTimer() { _ = l.Flush() }

func (l *AccessLog) flushLocked() error {
	if len(l.buf) == 0 {
		return nil
	}
	_, err := l.out.Write(l.buf)
	l.buf = l.buf[:0]
	if l.timer != nil {
		l.timer.Stop() // re-armed by the next line
	}
	return err
}

// appendRFC3339Millis stamps like slog's text handler: RFC 3339 with exactly three fraction
// digits.
func appendRFC3339Millis(b []byte, t time.Time) []byte {
	return t.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
}

// appendTextValue writes s as slog's text handler would: bare when it is safe, otherwise
// Go-quoted. (Bare means printable ASCII without space, '"' or '='; slog also leaves
// printable non-ASCII bare, this quotes it: same content, still one logfmt value.)
func appendTextValue(b []byte, s string) []byte {
	if s == "" {
		return append(b, `""`...)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= utf8.RuneSelf || c == '"' || c == '=' || c == 0x7f {
			return strconv.AppendQuote(b, s)
		}
	}
	return append(b, s...)
}

// appendJSONString writes s as a JSON string; the common plain-ASCII case is copied as is.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c >= utf8.RuneSelf || c == '"' || c == '\\' {
			q, err := json.Marshal(s) // rare: escapes, invalid UTF-8 and U+2028/9 like slog
			if err != nil {
				return append(b, `""`...)
			}
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
