package server

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// LogWriter buffers the sandbox's log lines (slog's text or JSON, the access line of every
// request among them) and writes them out at most every FlushEvery, or sooner when the
// buffer passes maxLogBuffer: one write system call per request was ~20 % of a vehicle read's
// server time under make bench. Lines keep their order; Close (called by app.Shutdown) writes
// out what is left, and lines after Close are written at once. Safe for concurrent use.
type LogWriter struct {
	out io.Writer

	mu     sync.Mutex
	buf    []byte
	timer  *time.Timer // armed while buf holds lines
	closed bool
}

// FlushEvery is how long a line may wait in the buffer: short enough that a person watching
// the log sees requests as they happen.
const FlushEvery = 100 * time.Millisecond

// maxLogBuffer makes a busy sandbox write out before the timer does.
const maxLogBuffer = 32 << 10

// NewLogWriter returns a buffered writer in front of out.
func NewLogWriter(out io.Writer) *LogWriter {
	return &LogWriter{out: out, buf: make([]byte, 0, maxLogBuffer+512)}
}

// Write buffers p (one slog record is one Write).
func (l *LogWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return l.out.Write(p)
	}
	if len(l.buf) == 0 {
		if l.timer == nil {
			l.timer = time.AfterFunc(FlushEvery, func() { _ = l.Flush() })
		} else {
			l.timer.Reset(FlushEvery)
		}
	}
	l.buf = append(l.buf, p...)
	if len(l.buf) >= maxLogBuffer {
		if err := l.flushLocked(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Flush writes out the buffered lines.
func (l *LogWriter) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.flushLocked()
}

// Close writes out the rest; later lines go straight out.
func (l *LogWriter) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	if l.timer != nil {
		l.timer.Stop()
	}
	return l.flushLocked()
}

func (l *LogWriter) flushLocked() error {
	if len(l.buf) == 0 {
		return nil
	}
	_, err := l.out.Write(l.buf)
	l.buf = l.buf[:0]
	return err
}

// NewLogger returns the sandbox's logger on w: slog's JSON handler for format "json", its text
// handler otherwise. Request lines (Info) wait in w's buffer; a warning or an error pushes the
// buffer out at once, so nothing that needs attention is held back, and the order holds.
func NewLogger(w *LogWriter, format string) *slog.Logger {
	var h slog.Handler = slog.NewTextHandler(w, nil)
	if format == "json" {
		h = slog.NewJSONHandler(w, nil)
	}
	return slog.New(flushOnWarn{h, w})
}

type flushOnWarn struct {
	slog.Handler
	w *LogWriter
}

func (f flushOnWarn) Handle(ctx context.Context, r slog.Record) error {
	err := f.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		if ferr := f.w.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

func (f flushOnWarn) WithAttrs(as []slog.Attr) slog.Handler {
	return flushOnWarn{f.Handler.WithAttrs(as), f.w}
}

func (f flushOnWarn) WithGroup(name string) slog.Handler {
	return flushOnWarn{f.Handler.WithGroup(name), f.w}
}
