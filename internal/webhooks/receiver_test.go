package webhooks_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/webhooks"
)

// received is one POST the test receiver got.
type received struct {
	Body      []byte
	Signature string
	Payload   map[string]any
	SigOK     bool   // SC-Signature verified the way the Node SDK's verifyPayload does
	SigError  string // why not
	Status    int    // what the receiver answered
	At        time.Time
}

// receiver is a webhook endpoint written the way an application using the Node SDK would
// write it: answer the verify challenge with hashChallenge(amt, challenge), and accept a
// delivery when verifyPayload(amt, SC-Signature, JSON.parse(body)) is true — that is, when
// the signature is the HMAC of JSON.stringify(JSON.parse(body)). jsStringify below is that
// re-serialisation, written independently of the sandbox's encoder.
type receiver struct {
	t   *testing.T
	amt string
	srv *httptest.Server

	mu        sync.Mutex
	got       []received
	failNext  int  // answer 500 to this many deliveries (not verify challenges)
	badVerify bool // answer the challenge wrongly
	notify    chan struct{}
}

func newReceiver(t *testing.T, amt string) *receiver {
	r := &receiver{t: t, amt: amt, notify: make(chan struct{}, 100)}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	rec := received{Body: body, Signature: req.Header.Get("SC-Signature"), At: time.Now()}
	if err := json.Unmarshal(body, &rec.Payload); err != nil {
		rec.SigError = "body is not JSON: " + err.Error()
	} else if again := jsStringify(body); !bytes.Equal(again, body) {
		rec.SigError = fmt.Sprintf("JSON.stringify(JSON.parse(body)) differs from the body:\n%s\n%s", again, body)
	} else if want := webhooks.Sign(r.amt, again); rec.Signature != want {
		rec.SigError = "SC-Signature " + rec.Signature + ", want " + want
	} else {
		rec.SigOK = true
	}
	r.mu.Lock()
	switch {
	case rec.Payload["eventName"] == "verify" || rec.Payload["eventType"] == "VERIFY":
		// v2's form carries the challenge in payload, v3's VERIFY event in data.
		holder, _ := rec.Payload["payload"].(map[string]any)
		if rec.Payload["eventType"] == "VERIFY" {
			holder, _ = rec.Payload["data"].(map[string]any)
		}
		challenge, _ := holder["challenge"].(string)
		answer := webhooks.Sign(r.amt, []byte(challenge))
		if r.badVerify {
			answer = "nope"
		}
		rec.Status = 200
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(200)
		fmt.Fprintf(w, `{"challenge":%q}`, answer)
	case r.failNext > 0:
		r.failNext--
		rec.Status = 500
		w.WriteHeader(500)
	default:
		rec.Status = 200
		w.WriteHeader(200)
	}
	r.got = append(r.got, rec)
	r.mu.Unlock()
	r.notify <- struct{}{}
}

// wait returns the first n requests received, failing after a few seconds.
func (r *receiver) wait(n int) []received {
	r.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		r.mu.Lock()
		if len(r.got) >= n {
			out := append([]received(nil), r.got[:n]...)
			r.mu.Unlock()
			return out
		}
		r.mu.Unlock()
		select {
		case <-r.notify:
		case <-deadline:
			r.mu.Lock()
			defer r.mu.Unlock()
			r.t.Fatalf("received %d webhook requests, want %d", len(r.got), n)
		}
	}
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

// jsStringify re-serialises JSON as JavaScript's JSON.stringify(JSON.parse(b)) does: keys in
// document order, no spaces, only ", \ and control characters escaped, numbers as JS
// prints doubles.
func jsStringify(b []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out bytes.Buffer
	var walk func() error
	walk = func() error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch v := tok.(type) {
		case json.Delim:
			open, close := byte(v), byte('}')
			if v == '[' {
				close = ']'
			}
			out.WriteByte(open)
			for first := true; dec.More(); first = false {
				if !first {
					out.WriteByte(',')
				}
				if open == '{' {
					k, err := dec.Token()
					if err != nil {
						return err
					}
					jsString(&out, k.(string))
					out.WriteByte(':')
				}
				if err := walk(); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil {
				return err
			}
			out.WriteByte(close)
		case string:
			jsString(&out, v)
		case json.Number:
			f, err := v.Float64()
			if err != nil {
				return err
			}
			out.WriteString(jsNumber(f))
		case bool:
			out.WriteString(strconv.FormatBool(v))
		case nil:
			out.WriteString("null")
		}
		return nil
	}
	if err := walk(); err != nil {
		return []byte("invalid: " + err.Error())
	}
	return out.Bytes()
}

func jsString(out *bytes.Buffer, s string) {
	out.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			out.WriteString(`\"`)
		case '\\':
			out.WriteString(`\\`)
		case '\b':
			out.WriteString(`\b`)
		case '\f':
			out.WriteString(`\f`)
		case '\n':
			out.WriteString(`\n`)
		case '\r':
			out.WriteString(`\r`)
		case '\t':
			out.WriteString(`\t`)
		default:
			switch {
			case r < 0x20:
				fmt.Fprintf(out, `\u%04x`, r)
			case r == utf8.RuneError:
				out.WriteRune(r)
			case r > 0xFFFF:
				a, b := utf16.EncodeRune(r)
				out.WriteString(string(utf16.Decode([]uint16{uint16(a), uint16(b)})))
			default:
				out.WriteRune(r)
			}
		}
	}
	out.WriteByte('"')
}

func jsNumber(f float64) string {
	if a := math.Abs(f); a == 0 || (a >= 1e-6 && a < 1e21) {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // 1e-07
	mant, exp, _ := strings.Cut(s, "e")
	sign := exp[0]
	exp = strings.TrimLeft(exp[1:], "0")
	return mant + "e" + string(sign) + exp
}

func TestJSStringifyMatchesNodeOnKnownCases(t *testing.T) {
	// Outputs of node -e 'console.log(JSON.stringify(JSON.parse(x)))' for these inputs.
	cases := []struct{ in, want string }{
		{`{"b": 1, "a": [1.50, 2e3, 1e-7, 1e21]}`, `{"b":1,"a":[1.5,2000,1e-7,1e+21]}`},
		{`{"s":"<a & b>\u00e9\n\u0001"}`, `{"s":"<a & b>é\n\u0001"}`},
	}
	for _, c := range cases {
		if got := string(jsStringify([]byte(c.in))); got != c.want {
			t.Errorf("jsStringify(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}
