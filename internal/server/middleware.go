package server

import (
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/admin"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/door"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/oauth"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/requestid"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/scapi"
)

// MaxBodyBytes caps every request body. Smartcar bodies are tiny (a batch of every path is a
// few KB); the cap keeps a huge upload from eating memory.
const MaxBodyBytes = 1 << 20

// middleware wraps every request: request id, panic recovery, metrics, the access line (a
// slog record; app puts a buffered LogWriter under the logger), slash folding and the body cap.
func middleware(next http.Handler, log *slog.Logger, m *Metrics) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := requestid.New()
		w.Header().Set("Sc-Request-Id", id) // SC-Request-Id in canonical form: Set copies nothing
		r = r.WithContext(requestid.With(r.Context(), id))
		rec := &statusRecorder{ResponseWriter: w}
		logPath := r.URL.Path

		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.Error("panic", "request_id", id, "method", r.Method, "path", logPath, "panic", p, "stack", string(debug.Stack()))
				if !rec.wroteHeader {
					writeInternalError(rec, r)
				}
			}
			end := time.Now()
			m.observe(rec, logPath, end.Sub(start))
			// LogAttrs with typed attributes: no boxing of each value, as log.Info's ...any does.
			attrs := [6]slog.Attr{slog.String("method", r.Method), slog.String("path", logPath), slog.Int("status", rec.status()),
				slog.Float64("duration_ms", float64(end.Sub(start).Microseconds())/1000), slog.String("request_id", id)}
			n := 5
			if rec.note != "" {
				attrs[5], n = slog.String("note", rec.note), 6
			}
			log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs[:n]...)
		}()

		// SDKs send both /x and /x/ (Node: /v2.0/vehicles/{id}/, Go: /oauth/token/). Fold them
		// here, before routing, rather than redirecting: a 301 turns an SDK's POST into a GET.
		if p := r.URL.Path; len(p) > 1 && strings.HasSuffix(p, "/") {
			r.URL.Path = strings.TrimRight(p, "/")
			if r.URL.Path == "" {
				r.URL.Path = "/"
			}
			if r.URL.RawPath != "" {
				r.URL.RawPath = strings.TrimRight(r.URL.RawPath, "/")
			}
		}
		if r.Body != nil && r.Method != http.MethodGet && r.Method != http.MethodHead {
			r.Body = http.MaxBytesReader(rec, r.Body, MaxBodyBytes)
		}
		next.ServeHTTP(rec, r)
	})
}

// notFound answers unknown paths in the shape of the door the path belongs to: Smartcar's
// RESOURCE_NOT_FOUND JSON anywhere under an API prefix, never an HTML page an SDK cannot
// parse, and the HTML page elsewhere.
func notFound(w http.ResponseWriter, r *http.Request) {
	if v, ok := scapi.VersionOf(r.URL.Path); ok {
		scapi.WriteError(w, r, v, sandbox.PathNotFound(r.Method+" "+r.URL.Path))
		return
	}
	htmlHeaders(w.Header())
	w.WriteHeader(http.StatusNotFound)
	_ = notFoundPage.Execute(w, r.URL.Path)
}

// writeInternalError answers a panic in the shape of the door the path belongs to, through
// that door's own writer.
func writeInternalError(w http.ResponseWriter, r *http.Request) {
	err := errors.New("the sandbox hit an internal error; its log has the details under this request's SC-Request-Id")
	switch d := door.Of(r.URL.Path); {
	case d.API():
		v, _ := scapi.VersionOf(r.URL.Path)
		scapi.WriteError(w, r, v, err)
	case d == door.Token:
		oauth.WriteError(w, err)
	case d == door.Admin:
		admin.WriteError(w, r, err)
	default: // Connect's pages, the dashboard, the sandbox's own pages
		htmlHeaders(w.Header())
		w.WriteHeader(http.StatusInternalServerError)
		_ = internalErrorPage.Execute(w, requestid.From(r.Context()))
	}
}

type statusRecorder struct {
	http.ResponseWriter
	code        int
	wroteHeader bool
	note        string        // see requestlog.Note: logged on the access line
	route       *routeMetrics // set by the route's wrapper (Metrics.instrument); nil: no route took it
}

// Note keeps the answer's note for the access line.
func (s *statusRecorder) Note(note string) { s.note = note }

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wroteHeader {
		s.code, s.wroteHeader = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if !s.wroteHeader {
		s.WriteHeader(http.StatusOK)
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) status() int {
	if !s.wroteHeader {
		return http.StatusOK
	}
	return s.code
}

// Unwrap lets http.ResponseController reach the real writer (flush, deadlines).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
