package otelsession_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/sessionauth/session"
	"github.com/sessionauth/session/otelsession"
)

// newRecorder returns a Recorder on a fresh SDK provider and its reader.
func newRecorder(t testing.TB) (*otelsession.Recorder, *sdkmetric.ManualReader) {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	rec, err := otelsession.New(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
	if err != nil {
		t.Fatal(err)
	}
	return rec, reader
}

// collect reads every data point as "instrument{attr=value,...}": a sum's
// or gauge's value, a histogram's count.
func collect(t testing.TB, reader *sdkmetric.ManualReader) map[string]float64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	key := func(name string, set attribute.Set) string {
		var kv []string
		for _, a := range set.ToSlice() {
			kv = append(kv, string(a.Key)+"="+a.Value.Emit())
		}
		return name + "{" + strings.Join(kv, ",") + "}"
	}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != "github.com/sessionauth/session" {
			t.Errorf("scope %q", sm.Scope.Name)
		}
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes)] = float64(p.Value)
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes)] = float64(p.Value)
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes)] = float64(p.Count)
				}
			default:
				t.Errorf("%s: unexpected data %T", m.Name, m.Data)
			}
		}
	}
	return out
}

// want checks that got has these points (others may be there too).
func want(t *testing.T, got map[string]float64, points map[string]float64) {
	t.Helper()
	for k, v := range points {
		if got[k] != v {
			t.Errorf("%s = %v, want %v; all points: %v", k, got[k], v, slices.Sorted(maps.Keys(got)))
		}
	}
}

func newManager(t testing.TB, cfg session.Config) *session.Manager {
	t.Helper()
	ring, err := session.NewKeyRing(session.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Keys = ring
	m, err := session.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// app is a handler with /login, /logout and /whoami over m.
func app(m *session.Manager) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		if err := m.Login(w, r, "alice"); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		if err := m.Logout(w, r); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(session.FromContext(r.Context()).UserID()))
	})
	return m.Middleware(mux)
}

func do(h http.Handler, path, cookie string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", path, nil)
	if cookie != "" {
		r.Header.Set("Cookie", cookie)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestRecorderCountsWhatAManagerReports(t *testing.T) {
	t.Parallel()
	rec, reader := newRecorder(t)
	h := app(newManager(t, session.Config{Store: remoteStore{session.NewMemoryStore()}, Observe: rec.Observe}))

	w := do(h, "/login", "")
	if w.Code != http.StatusOK {
		t.Fatalf("login: %d %s", w.Code, w.Body)
	}
	cookie := w.Result().Cookies()[0]
	c := cookie.Name + "=" + cookie.Value
	if got := do(h, "/whoami", c).Body.String(); got != "alice" {
		t.Fatalf("whoami = %q", got)
	}
	do(h, "/whoami", c[:len(c)-2]+"xx")
	do(h, "/logout", c)
	do(h, "/whoami", c)

	want(t, collect(t, reader), map[string]float64{
		"session.logins{}": 1,
		"session.logouts{session.logout.scope=logout}":             1,
		"session.rejected_tokens{session.rejection.reason=forged}": 1,
		"session.rejected_tokens{session.rejection.reason=ended}":  1,
		// The memory store: Login's replace, the read, Logout's delete and
		// its read of a renewal's marker.
		"session.store.operation.duration{db.operation.name=get}": 2,
	})
}

func TestRecorderStoreCallsByOperationAndErrorType(t *testing.T) {
	t.Parallel()
	rec, reader := newRecorder(t)
	tests := []struct {
		op   string
		err  error
		want string
	}{
		{"get", nil, "db.operation.name=get"},
		{"get", session.ErrNotFound, "db.operation.name=get"},
		{"create", fmt.Errorf("wrapped: %w", session.ErrExists), "db.operation.name=create"},
		{"update", fmt.Errorf("session: store call exceeded StoreTimeout (250ms): %w", context.DeadlineExceeded), "db.operation.name=update,error.type=timeout"},
		{"touch", context.Canceled, "db.operation.name=touch,error.type=canceled"},
		{"delete", fmt.Errorf("suspended: %w", session.ErrStoreUnavailable), "db.operation.name=delete,error.type=suspended"},
		{"list_user", errors.New("connection refused"), "db.operation.name=list_user,error.type=_OTHER"},
		{"some_new_op", nil, "db.operation.name=_OTHER"},
	}
	for _, tc := range tests {
		rec.Observe(session.Event{Name: "session.store", Reason: tc.op, Duration: time.Millisecond, Err: tc.err})
	}
	points := map[string]float64{}
	for _, tc := range tests {
		points["session.store.operation.duration{"+tc.want+"}"]++
	}
	got := collect(t, reader)
	want(t, got, points)
	n := 0
	for k := range got {
		if strings.HasPrefix(k, "session.store.operation.duration") {
			n++
		}
	}
	if n != len(points) {
		t.Errorf("%d duration series, want %d: %v", n, len(points), got)
	}
}

func TestRecorderStoreDurationBuckets(t *testing.T) {
	t.Parallel()
	rec, reader := newRecorder(t)
	rec.Observe(session.Event{Name: "session.store", Reason: "get", Duration: 300 * time.Microsecond})
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if m.Name != "session.store.operation.duration" {
			continue
		}
		if m.Unit != "s" {
			t.Errorf("unit %q, want s", m.Unit)
		}
		p := m.Data.(metricdata.Histogram[float64]).DataPoints[0]
		if p.Bounds[0] != 0.0001 || p.Bounds[len(p.Bounds)-1] != 1 {
			t.Errorf("bounds %v, want 100 µs to 1 s", p.Bounds)
		}
		if i := slices.Index(p.BucketCounts, 1); p.Bounds[i-1] != 0.00025 {
			t.Errorf("300 µs counted in bucket %d, above %v", i, p.Bounds[i-1])
		}
		return
	}
	t.Fatal("no duration histogram")
}

func TestRecorderBreakerStateAndOpenings(t *testing.T) {
	t.Parallel()
	rec, reader := newRecorder(t)
	rec.Observe(session.Event{Name: "session.breaker", Reason: "open"})
	want(t, collect(t, reader), map[string]float64{"session.store.breaker.state{}": 1, "session.store.breaker.opens{}": 1})
	rec.Observe(session.Event{Name: "session.breaker", Reason: "closed"})
	rec.Observe(session.Event{Name: "session.breaker", Reason: "open"})
	rec.Observe(session.Event{Name: "session.breaker", Reason: "closed"})
	want(t, collect(t, reader), map[string]float64{"session.store.breaker.state{}": 0, "session.store.breaker.opens{}": 2})
}

// One Redis Cluster master's breaker is its own series, named by the
// partition; the whole store's stays as it was.
func TestRecorderBreakerOfOnePartition(t *testing.T) {
	t.Parallel()
	rec, reader := newRecorder(t)
	rec.Observe(session.Event{Name: "session.breaker", Reason: "open", Partition: "127.0.0.1:7001"})
	want(t, collect(t, reader), map[string]float64{
		"session.store.breaker.state{session.store.partition=127.0.0.1:7001}": 1,
		"session.store.breaker.opens{session.store.partition=127.0.0.1:7001}": 1,
	})
	rec.Observe(session.Event{Name: "session.breaker", Reason: "closed", Partition: "127.0.0.1:7001"})
	want(t, collect(t, reader), map[string]float64{
		"session.store.breaker.state{session.store.partition=127.0.0.1:7001}": 0,
		"session.store.breaker.opens{session.store.partition=127.0.0.1:7001}": 1,
	})
}

// A store breaker that opens for real, through a Manager. The guard's
// clock is time.Now, virtual inside the synctest bubble.
func TestRecorderSeesTheManagersBreakerOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec, reader := newRecorder(t)
		h := app(newManager(t, session.Config{Store: downStore{}, StoreTimeout: time.Millisecond, Observe: rec.Observe}))
		// Five failures in a row with no success for a whole StoreTimeout
		// suspend store calls; each /login makes one failing call.
		time.Sleep(2 * time.Millisecond)
		for range 5 {
			do(h, "/login", "")
		}
		want(t, collect(t, reader), map[string]float64{"session.store.breaker.state{}": 1, "session.store.breaker.opens{}": 1})
		do(h, "/login", "")
		suspended := 0.0
		for k, v := range collect(t, reader) {
			if strings.Contains(k, "error.type=suspended") {
				suspended += v
			}
		}
		if suspended != 1 {
			t.Errorf("%v suspended calls recorded, want 1", suspended)
		}
	})
}

// remoteStore hides that its Store is a MemoryStore, whose calls a Manager
// neither guards nor times: the Manager treats it as a remote store.
type remoteStore struct{ session.Store }

// downStore fails every call.
type downStore struct{}

var errDown = errors.New("connection refused")

func (downStore) Get(context.Context, string) (session.Record, error) {
	return session.Record{}, errDown
}
func (downStore) Create(context.Context, string, session.Record) error      { return errDown }
func (downStore) Update(context.Context, string, session.Record) error      { return errDown }
func (downStore) Touch(context.Context, string, time.Time) error            { return errDown }
func (downStore) Delete(context.Context, string) error                      { return errDown }
func (downStore) ListUser(context.Context, string) ([]session.Entry, error) { return nil, errDown }
func (downStore) DeleteUser(context.Context, string) error                  { return errDown }

func TestRecorderCountsTheFamilysEvents(t *testing.T) {
	t.Parallel()
	rec, reader := newRecorder(t)
	for _, ev := range []session.Event{
		{Name: "accesstoken.mint"},
		{Name: "accesstoken.mint"},
		{Name: "accesstoken.rejected", Reason: "expired"},
		{Name: "accesstoken.rejected", Reason: "something new"},
		{Name: "throttle.refused", Reason: "account"},
		{Name: "session.logout", Reason: "all"},
		{Name: "not.ours", Reason: "x"},
	} {
		rec.Observe(ev)
	}
	got := collect(t, reader)
	want(t, got, map[string]float64{
		"accesstoken.mints{}": 2,
		"accesstoken.rejected_tokens{accesstoken.rejection.reason=expired}": 1,
		"accesstoken.rejected_tokens{accesstoken.rejection.reason=_OTHER}":  1,
		"throttle.refusals{throttle.budget=account}":                        1,
		"session.logouts{session.logout.scope=all}":                         1,
	})
	if len(got) != 5 {
		t.Errorf("%d points, want 5 (an unknown event is ignored): %v", len(got), got)
	}
}

func TestRecorderObserveDoesNotAllocate(t *testing.T) {
	rec, _ := newRecorder(t)
	events := []session.Event{
		{Name: "session.store", Reason: "get", Duration: time.Millisecond},
		{Name: "session.store", Reason: "get", Duration: time.Millisecond, Err: session.ErrNotFound},
		{Name: "session.login"},
		{Name: "session.rejected", Reason: "forged"},
	}
	for _, ev := range events {
		rec.Observe(ev) // the first record of a series allocates it
		if n := testing.AllocsPerRun(100, func() { rec.Observe(ev) }); n != 0 {
			t.Errorf("Observe(%s/%s) allocates %v times", ev.Name, ev.Reason, n)
		}
	}
}
