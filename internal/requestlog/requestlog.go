// Package requestlog keeps the last N vehicle API and token requests in memory, with what the
// app sent and what the sandbox answered, so a failing CI test can ask the admin API what
// actually went over the wire (GET /admin/requests). The entries are this process's own; N,
// the retention setting, can live in the store (FromStore), so a durable store keeps it across
// a restart and replicas share it.
package requestlog

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/requestid"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
)

// MaxSize bounds the retention setting (and -request-log-size).
const MaxSize = 100000

// SizeSetting is the store setting that holds the retention (see FromStore).
const SizeSetting = "request_log_size"

// MaxBody caps each recorded body; bigger bodies are cut and marked.
const MaxBody = 2048

// Entry is one recorded request.
type Entry struct {
	RequestID  string    `json:"requestId"`
	Time       time.Time `json:"time"`
	Method     string    `json:"method"`
	Path       string    `json:"path"`
	Query      string    `json:"query,omitempty"`
	Status     int       `json:"status"`
	DurationMs float64   `json:"durationMs"`
	Fault      string    `json:"fault,omitempty"` // id of the fault rule that fired, or "header"
	// ClientID is the application the request came from, as its credentials say (a token's
	// client, the token endpoint's client authentication); "" when they name none.
	ClientID string `json:"clientId,omitempty"`
	// Note is the sandbox's own explanation of an error answer (which token was refused and
	// why, which vehicle is missing): what the Smartcar wording of the answer leaves out.
	Note           string            `json:"note,omitempty"`
	RequestHeaders map[string]string `json:"requestHeaders,omitempty"`
	RequestBody    string            `json:"requestBody,omitempty"`
	ResponseBody   string            `json:"responseBody,omitempty"` // error responses only
}

// Log is a bounded ring of entries, safe for concurrent use. A nil *Log or size 0 records
// nothing.
type Log struct {
	mu      sync.Mutex
	size    atomic.Int64 // how many entries the ring keeps; changed only under mu
	entries []record     // ring
	next    int
	full    bool
	now     func() time.Time

	// kept is the store holding the size (nil: the size given to New, in memory); def is
	// the size while the store holds none, and gen the store's ControlGeneration the size
	// was read at, so a request reads the store only after a setting changed.
	kept *store.Store
	def  int
	gen  atomic.Uint64
}

// New returns a log keeping the last size entries; now stamps them (nil means time.Now).
func New(size int, now func() time.Time) *Log {
	if now == nil {
		now = time.Now
	}
	l := &Log{now: now}
	l.resize(size)
	return l
}

// FromStore returns a log whose size is the store's setting (SizeSetting), or def while the
// store holds none: SetSize changes it for good, and for every replica sharing the store.
func FromStore(st *store.Store, def int, now func() time.Time) *Log {
	l := New(def, now)
	l.kept, l.def = st, def
	l.refresh(true)
	return l
}

// refresh reads the size from the store when its settings changed since the last read, or
// always with force (which also catches up with what other replicas wrote).
func (l *Log) refresh(force bool) {
	if l.kept == nil {
		return
	}
	g := l.kept.ControlGeneration()
	if !force && g == l.gen.Load() {
		return
	}
	n := l.def
	var stored int
	if l.kept.Setting(SizeSetting, &stored) {
		n = stored
	}
	// A change after g moves the generation on, so the next request reads again.
	l.gen.Store(g)
	l.resize(n)
}

// resize makes the ring hold n entries, keeping the newest of those it holds.
func (l *Log) resize(n int) {
	n = max(0, min(n, MaxSize))
	l.mu.Lock()
	defer l.mu.Unlock()
	if int64(n) == l.size.Load() && l.entries != nil {
		return
	}
	kept := l.newestLocked(n)
	l.entries = make([]record, n)
	for i := range kept { // kept is newest first
		l.entries[len(kept)-1-i] = kept[i]
	}
	l.next, l.full = len(kept)%max(n, 1), len(kept) == n && n > 0
	l.size.Store(int64(n))
}

// newestLocked returns up to limit records, newest first.
func (l *Log) newestLocked(limit int) []record {
	size := int(l.size.Load())
	n := l.next
	if l.full {
		n = size
	}
	limit = min(limit, n)
	out := make([]record, 0, limit)
	for i := 1; i <= limit; i++ {
		out = append(out, l.entries[(l.next-i+size)%size])
	}
	return out
}

// Size is how many entries the log keeps.
func (l *Log) Size() int {
	if l == nil {
		return 0
	}
	l.refresh(true)
	return int(l.size.Load())
}

// SetSize changes how many entries the log keeps (0..MaxSize), keeping the newest. With a
// store it is one store transaction: an error means nothing changed.
func (l *Log) SetSize(n int) error {
	if l == nil {
		return errors.New("the request log is off")
	}
	if n < 0 || n > MaxSize {
		return fmt.Errorf("size %d: want 0..%d", n, MaxSize)
	}
	if l.kept == nil {
		l.resize(n)
		return nil
	}
	if err := l.kept.PutSetting(SizeSetting, n); err != nil {
		return err
	}
	l.refresh(false)
	return nil
}

// record is an entry as the ring keeps it: the request headers as flattened name, value
// pairs (already redacted), turned into Entry.RequestHeaders only when listed. A map per
// request cost two allocations and a hash per header on every API call; List is rare.
type record struct {
	Entry
	headers []string
	// tokenClaims is the payload segment of the request's bearer JWT (a substring of the
	// header: nothing copied on the request's path); entry reads its client from it.
	tokenClaims string
}

// entry returns the record as an Entry with its own header map and its application.
func (rec *record) entry() Entry {
	e := rec.Entry
	if e.ClientID == "" {
		e.ClientID = clientOf(rec.tokenClaims, e.RequestBody)
	}
	if rec.headers != nil {
		e.RequestHeaders = make(map[string]string, len(rec.headers)/2)
		for i := 0; i+1 < len(rec.headers); i += 2 {
			e.RequestHeaders[rec.headers[i]] = rec.headers[i+1]
		}
	}
	return e
}

// Add records an entry, dropping the oldest when full.
func (l *Log) Add(e Entry) {
	if l == nil {
		return
	}
	l.refresh(false)
	if l.size.Load() == 0 {
		return
	}
	rec := record{Entry: e}
	if len(e.RequestHeaders) > 0 {
		rec.headers = make([]string, 0, 2*len(e.RequestHeaders))
		for k, v := range e.RequestHeaders {
			rec.headers = append(rec.headers, k, v)
		}
		rec.Entry.RequestHeaders = nil
	}
	l.add(&rec)
}

func (l *Log) add(rec *record) {
	l.mu.Lock()
	defer l.mu.Unlock()
	size := int(l.size.Load())
	if size == 0 { // resized to nothing while the request ran
		return
	}
	l.entries[l.next] = *rec
	l.next = (l.next + 1) % size
	if l.next == 0 {
		l.full = true
	}
}

// List returns up to limit entries, newest first (limit <= 0: all).
func (l *Log) List(limit int) []Entry {
	if l == nil {
		return []Entry{}
	}
	l.refresh(true)
	l.mu.Lock()
	if limit <= 0 {
		limit = MaxSize
	}
	recs := l.newestLocked(limit)
	l.mu.Unlock()
	out := make([]Entry, 0, len(recs))
	for i := range recs {
		out = append(out, recs[i].entry())
	}
	return out
}

// Clear forgets every entry.
func (l *Log) Clear() {
	if l == nil {
		return
	}
	l.mu.Lock()
	l.entries = make([]record, l.size.Load())
	l.next, l.full = 0, false
	l.mu.Unlock()
}

// Wrap records the requests whose path record accepts (the server passes the vehicle APIs
// and the token endpoint); it must run inside the middleware that sets the request id.
func (l *Log) Wrap(next http.Handler, record func(path string) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if l == nil || !record(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		if l.refresh(false); l.size.Load() == 0 {
			next.ServeHTTP(w, r)
			return
		}
		rec := l.begin(w, r)
		defer l.finish(rec, w)
		next.ServeHTTP(rec, r)
	})
}

// begin starts the record of a request, inside the recorder that watches its answer (one
// allocation for both).
func (l *Log) begin(w http.ResponseWriter, r *http.Request) *recorder {
	rec := &recorder{ResponseWriter: w, start: time.Now()}
	rec.e = record{Entry: Entry{RequestID: requestid.From(r.Context()), Time: l.now().UTC(), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery},
		headers: headers(r.Header)}
	switch scheme, cred, _ := strings.Cut(r.Header.Get("Authorization"), " "); {
	case strings.EqualFold(scheme, "Bearer"):
		if _, rest, ok := strings.Cut(cred, "."); ok {
			rec.e.tokenClaims, _, _ = strings.Cut(rest, ".")
		}
	case strings.EqualFold(scheme, "Basic"):
		if id, _, ok := r.BasicAuth(); ok {
			rec.e.ClientID = id
		}
	}
	if r.Body != nil && r.Method != http.MethodGet && r.Method != http.MethodHead {
		rec.e.RequestBody = captureBody(r)
	}
	return rec
}

// finish completes the record with the answer and adds it to the log.
func (l *Log) finish(rec *recorder, w http.ResponseWriter) {
	e := &rec.e
	e.Status = rec.status()
	e.DurationMs = float64(time.Since(rec.start).Microseconds()) / 1000
	// The canonical form of SC-Sandbox-Fault-Rule: Get would allocate it on every request.
	e.Fault = w.Header().Get("Sc-Sandbox-Fault-Rule")
	if e.Status >= 400 {
		e.ResponseBody = clip(rec.body.Bytes())
	}
	l.add(e)
}

// captureBody reads up to MaxBody+1 bytes of the request body for the log and puts them back
// in front of the rest, so the handler still reads the whole body.
func captureBody(r *http.Request) string {
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	r.Body = readCloser{io.MultiReader(bytes.NewReader(b), r.Body), r.Body}
	if err != nil {
		return ""
	}
	return redactBody(clip(b), r.Header.Get("Content-Type"))
}

type readCloser struct {
	io.Reader
	io.Closer
}

func clip(b []byte) string {
	if len(b) > MaxBody {
		return string(b[:MaxBody]) + "…(cut)"
	}
	return string(b)
}

// headers flattens the request headers, hiding credentials but keeping enough of them (the
// scheme and the last characters) to tell two tokens apart.
// The result is name, value pairs (see record) in one allocation; strings.Join of a single
// value (the usual case) returns it without copying.
func headers(h http.Header) []string {
	if len(h) == 0 {
		return nil
	}
	out := make([]string, 0, 2*len(h))
	for k, vs := range h {
		v := strings.Join(vs, ", ")
		if strings.EqualFold(k, "Authorization") {
			v = redactAuth(v)
		}
		out = append(out, k, v)
	}
	return out
}

func redactAuth(v string) string {
	scheme, cred, ok := strings.Cut(v, " ")
	if !ok {
		return "[redacted]"
	}
	if len(cred) > 8 {
		return scheme + " …" + cred[len(cred)-6:]
	}
	return scheme + " [redacted]"
}

// redactBody hides client_secret in the token endpoints' bodies: forms (/oauth/token, and
// /oauth2/token) and JSON objects (/oauth2/token).
func redactBody(b, contentType string) string {
	if strings.HasPrefix(contentType, "application/json") {
		var obj map[string]json.RawMessage
		if json.Unmarshal([]byte(b), &obj) != nil || obj["client_secret"] == nil {
			return b
		}
		obj["client_secret"] = json.RawMessage(`"[redacted]"`)
		out, err := json.Marshal(obj)
		if err != nil {
			return "[redacted]"
		}
		return string(out)
	}
	if !strings.HasPrefix(contentType, "application/x-www-form-urlencoded") {
		return b
	}
	form, err := url.ParseQuery(b)
	if err != nil || !form.Has("client_secret") {
		return b
	}
	form.Set("client_secret", "[redacted]")
	return form.Encode()
}

type recorder struct {
	http.ResponseWriter
	code  int
	body  bytes.Buffer
	start time.Time
	e     record // the request being recorded
}

// Note attaches a note to the request being recorded (see Note).
func (r *recorder) Note(s string) { r.e.Note = s }

// Note attaches the sandbox's own explanation of the answer to the current request: every
// writer in w's chain (http.ResponseController's Unwrap) that keeps notes gets it, which is
// the request log's entry and the server's access log line. A handler (or the error renderer)
// calls it; without a note keeper in the chain it does nothing.
func Note(w http.ResponseWriter, note string) {
	if note == "" {
		return
	}
	for w != nil {
		if n, ok := w.(interface{ Note(string) }); ok {
			n.Note(note)
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return
		}
		w = u.Unwrap()
	}
}

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	// Only error bodies are kept (see Wrap), so a successful answer is not copied at all.
	if r.code >= 400 && r.body.Len() < MaxBody+1 {
		r.body.Write(b[:min(len(b), MaxBody+1-r.body.Len())])
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) status() int {
	if r.code == 0 {
		return http.StatusOK
	}
	return r.code
}

// Unwrap lets http.ResponseController reach the real writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// clientOf names the application of a recorded request: the client (cid) of its bearer token's
// claims, or the client_id of a token request's body (form or JSON). The token is not verified
// here: the log says what the request claimed, and the entry's status says whether it was let in.
func clientOf(tokenClaims, body string) string {
	if tokenClaims != "" {
		var c struct {
			ClientID string `json:"cid"`
		}
		if b, err := base64.RawURLEncoding.DecodeString(tokenClaims); err == nil && json.Unmarshal(b, &c) == nil && c.ClientID != "" {
			return c.ClientID
		}
	}
	if body == "" {
		return ""
	}
	var j struct {
		ClientID string `json:"client_id"`
	}
	if json.Unmarshal([]byte(body), &j) == nil {
		return j.ClientID
	}
	if form, err := url.ParseQuery(body); err == nil {
		return form.Get("client_id")
	}
	return ""
}
