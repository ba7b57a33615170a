package otelsession_test

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/sessionauth/session"
	"github.com/sessionauth/session/otelsession"
	"github.com/sessionauth/session/throttle"
)

// newMetrics is the wiring an application copies: a Recorder whose
// metrics a Prometheus exporter collects, and the handler that serves
// them at /metrics.
func newMetrics() (*otelsession.Recorder, http.Handler, error) {
	reg := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, nil, err
	}
	rec, err := otelsession.New(sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter)))
	if err != nil {
		return nil, nil, err
	}
	return rec, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), nil
}

// One Recorder takes the events of a Manager, a throttle Guard and the
// Redis client's cache.
func Example() {
	var meterProvider metric.MeterProvider = sdkmetric.NewMeterProvider()
	keys, _ := session.NewKeyRing(session.GenerateKey())
	deviceKeys := [][]byte{session.GenerateKey()}
	redisClient := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	store := session.NewRedisStore(redisClient)

	rec, err := otelsession.New(meterProvider) // nil: otel.GetMeterProvider()
	sessions, err := session.New(session.Config{Keys: keys, Store: store, Observe: rec.Observe})
	guard, err := throttle.NewGuard(throttle.GuardConfig{DeviceKeys: deviceKeys, Observe: rec.Observe})
	err = rec.ObserveCache(redisClient) // go-redis's client-side cache hits, optional

	fmt.Println(sessions != nil, guard != nil, err)
	// Output: true true <nil>
}

// A Manager's metrics served at /metrics in Prometheus's format: a
// sign-in, a signed-in read, a forged cookie, a sign-out and the dead
// cookie presented again.
func Example_prometheus() {
	rec, metrics, err := newMetrics()
	if err != nil {
		panic(err)
	}
	keys, _ := session.NewKeyRing(session.GenerateKey())
	m, err := session.New(session.Config{Keys: keys, Observe: rec.Observe})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) { m.Login(w, r, "alice") })
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) { m.Logout(w, r) })
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {})
	srv := httptest.NewServer(m.Middleware(mux))
	defer srv.Close()

	send := func(method, path, cookie string) *http.Response {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		return res
	}
	c := send("POST", "/login", "").Cookies()[0]
	cookie := c.Name + "=" + c.Value
	send("GET", "/", cookie)
	send("GET", "/", cookie[:len(cookie)-2]+"xx")
	send("POST", "/logout", cookie)
	send("GET", "/", cookie)

	res := send("GET", "/metrics", "")
	defer res.Body.Close()
	lines := bufio.NewScanner(res.Body)
	for lines.Scan() {
		if l := lines.Text(); strings.HasPrefix(l, "session_") {
			fmt.Println(l)
		}
	}
	// Output:
	// session_logins_total{otel_scope_name="github.com/sessionauth/session",otel_scope_schema_url="",otel_scope_version=""} 1
	// session_logouts_total{otel_scope_name="github.com/sessionauth/session",otel_scope_schema_url="",otel_scope_version="",session_logout_scope="logout"} 1
	// session_rejected_tokens_total{otel_scope_name="github.com/sessionauth/session",otel_scope_schema_url="",otel_scope_version="",session_rejection_reason="ended"} 1
	// session_rejected_tokens_total{otel_scope_name="github.com/sessionauth/session",otel_scope_schema_url="",otel_scope_version="",session_rejection_reason="forged"} 1
}
