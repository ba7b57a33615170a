// Package otelsession records what github.com/sessionauth/session and its
// family report (session.Event) as OpenTelemetry metrics:
//
//	rec, err := otelsession.New(meterProvider) // nil: the global provider
//	sessions, err := session.New(session.Config{Keys: keys, Observe: rec.Observe})
//	issuer, err := accesstoken.New(accesstoken.Config{…, Observe: rec.Observe})
//	guard, err := throttle.NewGuard(throttle.GuardConfig{…, Observe: rec.Observe})
//
// The instruments, on the meter named "github.com/sessionauth/session":
//
//	session.logins                      counter    sign-ins
//	session.logouts                     counter    sign-outs; session.logout.scope:
//	                                               logout, all, others, session
//	session.rejected_tokens             counter    refused session tokens;
//	                                               session.rejection.reason:
//	                                               forged, expired, ended
//	session.store.operation.duration    histogram  seconds per store call;
//	                                               db.operation.name, and
//	                                               error.type when it failed:
//	                                               timeout, canceled,
//	                                               suspended (breaker open,
//	                                               store not called), _OTHER
//	session.store.breaker.state         gauge      1 while store calls are
//	                                               suspended, 0 once they resume;
//	                                               session.store.partition for
//	                                               one partition's (a Redis
//	                                               Cluster master's address)
//	session.store.breaker.opens         counter    times store calls were
//	                                               suspended; the same attribute
//	accesstoken.mints                   counter    access tokens minted
//	accesstoken.rejected_tokens         counter    refused access tokens;
//	                                               accesstoken.rejection.reason:
//	                                               forged, expired, ended, invalid
//	throttle.refusals                   counter    refused sign-in and registration
//	                                               attempts; throttle.budget:
//	                                               address, account, device,
//	                                               register
//	session.store.cache.hits            counter    reads go-redis's client-side
//	session.store.cache.misses          counter    cache answered, and did not
//	                                               (Recorder.ObserveCache)
//
// Store errors are counted by the duration histogram (its count with
// error.type set), as OpenTelemetry's semantic conventions do for clients.
// ErrNotFound and ErrExists are answers, not errors. Every attribute value
// comes from a fixed list (an unknown one is recorded as "_OTHER") or, for
// session.store.partition, from the store's own topology (one value per
// Redis Cluster master), so the number of series is bounded and no token,
// key or user ID is ever an attribute.
package otelsession

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/sessionauth/session"
)

// scope is the instrumentation scope: the library being measured.
const scope = "github.com/sessionauth/session"

// storeBuckets are the duration histogram's bucket bounds in seconds: from
// 100 µs (an in-memory or nearby Redis call) to 1 s, past the 250 ms
// default StoreTimeout.
var storeBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}

// Recorder records session.Events as metrics. Create it with New; it is
// safe for concurrent use.
type Recorder struct {
	meter    metric.Meter
	counters map[string]counter // by event name, for the counted events
	duration metric.Float64Histogram
	ops      [len(storeOps)][len(errorTypes)][]metric.RecordOption // a slice each: passing one allocates nothing
	breaker  metric.Int64Gauge
	opens    metric.Int64Counter
}

// counter is the instrument of one event name, with the options that carry
// each known Reason's attribute.
type counter struct {
	c       metric.Int64Counter
	reasons map[string][]metric.AddOption
	other   []metric.AddOption // an unknown Reason
}

// counted lists the events that are counted: name, instrument, its unit
// and description, the attribute Reason goes in ("" for none) and its
// known values.
var counted = []struct {
	event, name, unit, desc, attr string
	reasons                       []string
}{
	{"session.login", "session.logins", "{login}", "Sign-ins.", "", nil},
	{"session.logout", "session.logouts", "{logout}", "Sign-outs: Logout, LogoutAll, LogoutOthers and LogoutSession calls that ended sessions.",
		"session.logout.scope", []string{"logout", "all", "others", "session"}},
	{"session.rejected", "session.rejected_tokens", "{token}", "Session tokens presented and refused.",
		"session.rejection.reason", []string{"forged", "expired", "ended"}},
	{"accesstoken.mint", "accesstoken.mints", "{token}", "Access tokens minted.", "", nil},
	{"accesstoken.rejected", "accesstoken.rejected_tokens", "{token}", "Access tokens presented and refused.",
		"accesstoken.rejection.reason", []string{"forged", "expired", "ended", "invalid", "unavailable"}},
	{"throttle.refused", "throttle.refusals", "{attempt}", "Sign-in and registration attempts refused by a budget.",
		"throttle.budget", []string{"address", "account", "device", "register"}},
}

// storeOps are the Reasons of session.store events, the store's methods.
var storeOps = [...]string{"get", "create", "update", "touch", "delete", "list_user", "delete_user", "replace", "_OTHER"}

// errorTypes are the error.type values of a store call; "" is success.
var errorTypes = [...]string{"", "timeout", "canceled", "suspended", "_OTHER"}

// New creates the instruments on mp (nil means otel.GetMeterProvider()).
// An error means mp refused an instrument.
func New(mp metric.MeterProvider) (*Recorder, error) {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	m := mp.Meter(scope)
	r := &Recorder{meter: m, counters: make(map[string]counter, len(counted))}
	var errs []error
	for _, c := range counted {
		inst, err := m.Int64Counter(c.name, metric.WithUnit(c.unit), metric.WithDescription(c.desc))
		errs = append(errs, err)
		k := counter{c: inst, reasons: make(map[string][]metric.AddOption, len(c.reasons))}
		if c.attr != "" {
			for _, v := range c.reasons {
				k.reasons[v] = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(attribute.String(c.attr, v)))}
			}
			k.other = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(attribute.String(c.attr, "_OTHER")))}
		}
		r.counters[c.event] = k
	}
	var err error
	r.duration, err = m.Float64Histogram("session.store.operation.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of the session store calls a Manager makes, including failed ones."),
		metric.WithExplicitBucketBoundaries(storeBuckets...))
	errs = append(errs, err)
	for i, op := range storeOps {
		for j, et := range errorTypes {
			attrs := []attribute.KeyValue{attribute.String("db.operation.name", op)}
			if et != "" {
				attrs = append(attrs, attribute.String("error.type", et))
			}
			r.ops[i][j] = []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(attrs...))}
		}
	}
	r.breaker, err = m.Int64Gauge("session.store.breaker.state", metric.WithUnit("1"),
		metric.WithDescription("1 while the Manager suspends store calls after repeated failures, 0 while it makes them."))
	errs = append(errs, err)
	r.opens, err = m.Int64Counter("session.store.breaker.opens", metric.WithUnit("{open}"),
		metric.WithDescription("Times the Manager suspended store calls after repeated failures."))
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return r, nil
}

// Observe records ev. Pass it as session.Config.Observe,
// accesstoken.Config.Observe and throttle.GuardConfig.Observe. Events it
// does not know are ignored. Cost: a map lookup and one counter add, or
// for a store call one histogram record, without allocation.
func (r *Recorder) Observe(ev session.Event) {
	ctx := context.Background()
	switch ev.Name {
	case "session.store":
		r.duration.Record(ctx, ev.Duration.Seconds(), r.ops[opIndex(ev.Reason)][errorType(ev.Err)]...)
	case "session.breaker":
		var opts []metric.RecordOption
		var addOpts []metric.AddOption
		if ev.Partition != "" {
			set := metric.WithAttributes(attribute.String("session.store.partition", ev.Partition))
			opts, addOpts = []metric.RecordOption{set}, []metric.AddOption{set}
		}
		switch ev.Reason {
		case "open":
			r.breaker.Record(ctx, 1, opts...)
			r.opens.Add(ctx, 1, addOpts...)
		case "closed":
			r.breaker.Record(ctx, 0, opts...)
		}
	default:
		k, ok := r.counters[ev.Name]
		if !ok {
			return
		}
		if k.other == nil {
			k.c.Add(ctx, 1)
			return
		}
		opt, ok := k.reasons[ev.Reason]
		if !ok {
			opt = k.other
		}
		k.c.Add(ctx, 1, opt...)
	}
}

func opIndex(op string) int {
	for i, o := range storeOps[:len(storeOps)-1] {
		if o == op {
			return i
		}
	}
	return len(storeOps) - 1
}

// errorType is the index in errorTypes of a store call's outcome.
func errorType(err error) int {
	switch {
	case err == nil, errors.Is(err, session.ErrNotFound), errors.Is(err, session.ErrExists):
		return 0
	case errors.Is(err, context.DeadlineExceeded):
		return 1
	case errors.Is(err, context.Canceled):
		return 2
	case errors.Is(err, session.ErrStoreUnavailable):
		// At the store's level only the guard's own refusal wraps it.
		return 3
	}
	return 4
}

// ObserveCache adds the hits and misses of client's client-side cache
// (redis.Options.ClientSideCache, such as session.NewRedisClientCache, or
// ClientSideCacheConfig; see RedisStore) as the counters
// session.store.cache.hits and session.store.cache.misses. They count every
// cached read of that client, the store's and any other, and stay 0 for a
// client without a cache. A session read the cache cannot answer counts two
// misses: RedisStore looks in the cache itself first, then go-redis does as
// it sends the GET; a hit counts once, including one a RedisClientCache
// answers from its front. The caches count them themselves, so this costs
// nothing per read: client.CSCStats is read when the metrics are collected.
func (r *Recorder) ObserveCache(client *redis.Client) error {
	hits, err := r.meter.Int64ObservableCounter("session.store.cache.hits", metric.WithUnit("{read}"),
		metric.WithDescription("Reads the Redis client's client-side cache answered without a round trip."))
	if err != nil {
		return err
	}
	misses, err := r.meter.Int64ObservableCounter("session.store.cache.misses", metric.WithUnit("{read}"),
		metric.WithDescription("Cacheable reads the Redis client's client-side cache could not answer."))
	if err != nil {
		return err
	}
	_, err = r.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		st := client.CSCStats()
		o.ObserveInt64(hits, int64(st.Hits))
		o.ObserveInt64(misses, int64(st.Misses))
		return nil
	}, hits, misses)
	return err
}
