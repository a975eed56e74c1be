package server

import (
	"net/http"
	"net/textproto"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/door"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/faults"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/store"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/webhooks"
)

// Metrics is what GET /metrics serves, in Prometheus' text format: requests and their latency
// by door, route template, method and status, Connect flows, tokens, webhook deliveries,
// fault rules fired and the store's size. Each sandbox has a registry of its own (tests run
// many sandboxes in one process), plus the Go runtime and process collectors.
//
// The read path pays for it: the route's counters and histogram are looked up once, when the
// router is built (see instrument), not per request by label values.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	connect  *prometheus.CounterVec
	grants   *prometheus.CounterVec
	issued   *prometheus.CounterVec
	webhooks *prometheus.CounterVec
	faults   prometheus.Counter

	mu       sync.Mutex
	unrouted map[string]*routeMetrics // by door: answered before or outside the router
}

const metricsNamespace = "smartcar_sandbox"

// NewMetrics makes an empty registry with every sandbox metric.
func NewMetrics() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), unrouted: map[string]*routeMetrics{}}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metricsNamespace, Name: "http_requests_total",
		Help: "HTTP requests answered, by door (connect, auth, v1, v2, v3, management, admin, sandbox), route template, method and status."},
		[]string{"door", "route", "method", "status"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: metricsNamespace, Name: "http_request_duration_seconds",
		Help:    "Time from the request's arrival to the end of its answer, by door, route template and method.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}},
		[]string{"door", "route", "method"})
	m.connect = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metricsNamespace, Name: "connect_flows_total",
		Help: "Connect flows (pages and POST /admin/connect) by event: started, completed (a code issued), or the Connect error they ended in (access_denied, vehicle_incompatible, …)."},
		[]string{"event"})
	m.grants = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metricsNamespace, Name: "token_grants_total",
		Help: "Successful token endpoint answers by grant_type (authorization_code, refresh_token, client_credentials)."},
		[]string{"grant_type"})
	m.issued = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metricsNamespace, Name: "access_tokens_issued_total",
		Help: "Access tokens issued, by kind (vehicle, application)."}, []string{"kind"})
	m.webhooks = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metricsNamespace, Name: "webhook_deliveries_total",
		Help: "Webhook delivery attempts by event type and outcome."}, []string{"event_type", "outcome"})
	m.faults = prometheus.NewCounter(prometheus.CounterOpts{Namespace: metricsNamespace, Name: "fault_rules_fired_total",
		Help: "Answers changed by a scripted fault rule or the SC-Sandbox-Fault header."})
	m.reg.MustRegister(m.requests, m.latency, m.connect, m.grants, m.issued, m.webhooks, m.faults,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ConnectEvent counts a Connect flow event (connect.Config.OnEvent).
func (m *Metrics) ConnectEvent(event string) { m.connect.WithLabelValues(event).Inc() }

// TokenGranted counts a successful token endpoint answer (oauth.Handler.OnGrant).
func (m *Metrics) TokenGranted(grantType string) { m.grants.WithLabelValues(grantType).Inc() }

// TokenIssued counts an issued access token by kind (from token.Issuer.OnIssue).
func (m *Metrics) TokenIssued(kind string) { m.issued.WithLabelValues(kind).Inc() }

// WebhookDelivery counts a delivery attempt (webhooks.Options.OnRecord).
func (m *Metrics) WebhookDelivery(d webhooks.Delivery) {
	m.webhooks.WithLabelValues(d.EventType, d.Outcome).Inc()
}

// watchStore adds the store's size, read when scraped. A second server on the same Metrics
// keeps the first store's collector.
func (m *Metrics) watchStore(st *store.Store) {
	if st != nil {
		_ = m.reg.Register(storeCollector{st})
	}
}

// storeCollector reports the store's size at scrape time, through its exported methods only.
type storeCollector struct{ st *store.Store }

var storeDesc = prometheus.NewDesc(metricsNamespace+"_store_objects",
	"Objects in the store by kind (applications, accounts, vehicles, grants), when scraped.", []string{"kind"}, nil)

func (c storeCollector) Describe(ch chan<- *prometheus.Desc) { ch <- storeDesc }

func (c storeCollector) Collect(ch chan<- prometheus.Metric) {
	for _, kv := range []struct {
		kind string
		n    int
	}{
		{"applications", len(c.st.Applications())},
		{"accounts", len(c.st.Accounts())},
		{"vehicles", len(c.st.Vehicles())},
		{"grants", len(c.st.Grants(store.GrantFilter{}))},
	} {
		ch <- prometheus.MustNewConstMetric(storeDesc, prometheus.GaugeValue, float64(kv.n), kv.kind)
	}
}

// routeMetrics are one route's series, resolved once. Counters by status are added as
// statuses appear, copy on write, so the common lookup is a short slice scan without a lock.
type routeMetrics struct {
	door, route, method string
	vec                 *prometheus.CounterVec
	latency             func() prometheus.Observer // resolved on first use: unused routes export nothing
	mu                  sync.Mutex
	codes               atomic.Pointer[[]codeCounter]
}

type codeCounter struct {
	code int
	c    prometheus.Counter
}

func (m *Metrics) newRouteMetrics(door, route, method string) *routeMetrics {
	return &routeMetrics{door: door, route: route, method: method, vec: m.requests,
		latency: sync.OnceValue(func() prometheus.Observer { return m.latency.WithLabelValues(door, route, method) })}
}

func (rm *routeMetrics) counter(code int) prometheus.Counter {
	if p := rm.codes.Load(); p != nil {
		for _, c := range *p {
			if c.code == code {
				return c.c
			}
		}
	}
	rm.mu.Lock()
	defer rm.mu.Unlock()
	var list []codeCounter
	if p := rm.codes.Load(); p != nil {
		for _, c := range *p {
			if c.code == code {
				return c.c
			}
		}
		list = append(list, *p...)
	}
	c := rm.vec.WithLabelValues(rm.door, rm.route, rm.method, strconv.Itoa(code))
	list = append(list, codeCounter{code, c})
	rm.codes.Store(&list)
	return c
}

// instrument wraps every route's handler so the request is counted under its route template:
// the wrapper hands its routeMetrics to the status recorder, and the middleware, which sees
// the status and the whole duration, observes once the answer is done.
func (m *Metrics) instrument(r *mux.Router) {
	_ = r.Walk(func(rt *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		next := rt.GetHandler()
		if next == nil {
			return nil
		}
		tpl, err := rt.GetPathTemplate()
		if err != nil {
			return nil
		}
		method := "*" // the route takes every method (the token endpoint answers others itself)
		if ms, err := rt.GetMethods(); err == nil && len(ms) == 1 {
			method = ms[0]
		}
		rm := m.newRouteMetrics(door.Of(tpl).String(), tpl, method)
		rt.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if rec := recorderOf(w); rec != nil {
				rec.route = rm
			}
			next.ServeHTTP(w, r)
		}))
		return nil
	})
}

// recorderOf finds the middleware's status recorder under w's wrappers.
func recorderOf(w http.ResponseWriter) *statusRecorder {
	for {
		switch x := w.(type) {
		case *statusRecorder:
			return x
		case interface{ Unwrap() http.ResponseWriter }:
			w = x.Unwrap()
		default:
			return nil
		}
	}
}

var faultRuleKey = textproto.CanonicalMIMEHeaderKey(faults.RuleHeader)

// observe counts a finished request: under its route, or, when no route took it (unknown
// paths, an injected fault answered before routing), under route "none" of its door.
func (m *Metrics) observe(rec *statusRecorder, path string, d time.Duration) {
	rm := rec.route
	if rm == nil {
		rm = m.unroutedFor(door.Of(path).String())
	}
	rm.counter(rec.status()).Inc()
	rm.latency().Observe(d.Seconds())
	if _, fired := rec.Header()[faultRuleKey]; fired {
		m.faults.Inc()
	}
}

func (m *Metrics) unroutedFor(door string) *routeMetrics {
	m.mu.Lock()
	defer m.mu.Unlock()
	rm, ok := m.unrouted[door]
	if !ok {
		rm = m.newRouteMetrics(door, "none", "*")
		m.unrouted[door] = rm
	}
	return rm
}
