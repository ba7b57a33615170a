package bench

import (
	"testing"
	"time"

	"github.com/sessionauth/session"
)

// benchUser is the user every logged-in cookie belongs to; the bare subject
// reports the same ID.
const benchUser = bareUser

// hashKey is a fixed 32-byte key for the subjects that sign cookies.
var hashKey = []byte("bench-key-0123456789abcdef012345")

// factory makes one subject. count false asks for no round-trip counting on
// in-process stores (parallel benchmarks); Redis subjects always count with a
// go-redis hook, whose cost is noise next to a network round trip.
type factory struct {
	name  string
	floor bool // the bare handler: no sessions, so no session checks
	new   func(tb testing.TB, count bool) Subject
}

func counter(count bool) *Counter {
	if count {
		return new(Counter)
	}
	return nil
}

// subjects lists every subject in the order of the results table.
var subjects = []factory{
	{name: "bare", floor: true, new: func(testing.TB, bool) Subject { return NewBare() }},
	{name: "ours-mem", new: func(tb testing.TB, count bool) Subject {
		n := counter(count)
		return mustOurs(tb)(NewOurs("ours-mem", NewCountingStore(session.NewMemoryStore(), n), benchKeys(tb), n, nil))
	}},
	{name: "ours-mem-plain", new: func(tb testing.TB, _ bool) Subject {
		// The MemoryStore itself, unwrapped: the Manager calls it without
		// the store guard, and nothing counts its calls (RoundTrips is 0).
		return mustOurs(tb)(NewOurs("ours-mem-plain", session.NewMemoryStore(), benchKeys(tb), nil, nil))
	}},
	{name: "ours-redis", new: func(tb testing.TB, _ bool) Subject {
		c, n, err := NewRedisClient(needRedis(tb))
		if err != nil {
			tb.Fatal(err)
		}
		return mustOurs(tb)(NewOurs("ours-redis", session.NewRedisStore(c), benchKeys(tb), n, c.Close))
	}},
	{name: "ours-redis-cached", new: func(tb testing.TB, _ bool) Subject {
		c, n, err := NewRedisCachedClient(needRedis(tb), 100_000)
		if err != nil {
			tb.Fatal(err)
		}
		return mustOurs(tb)(NewOurs("ours-redis-cached", session.NewRedisStore(c, session.RedisConfig{ClientSideCache: true}), benchKeys(tb), n, c.Close))
	}},
	{name: "scs-mem", new: func(_ testing.TB, count bool) Subject { return NewSCSMemory(0, counter(count)) }},
	{name: "scs-mem-idle", new: func(_ testing.TB, count bool) Subject {
		return NewSCSMemory(30*time.Minute, counter(count))
	}},
	{name: "ours-cookie", new: func(tb testing.TB, _ bool) Subject {
		return mustOurs(tb)(NewOursCookie("ours-cookie", benchKeys(tb)))
	}},
	{name: "gorilla-cookie", new: func(testing.TB, bool) Subject { return NewGorillaCookie(hashKey) }},
	{name: "scs-redis", new: func(tb testing.TB, _ bool) Subject {
		c, n, err := NewRedisClient(needRedis(tb))
		if err != nil {
			tb.Fatal(err)
		}
		return NewSCSRedis(c, n)
	}},
	{name: "gorilla-redis", new: func(tb testing.TB, _ bool) Subject {
		g, err := NewGorillaRedis(needRedis(tb), hashKey)
		if err != nil {
			tb.Fatal(err)
		}
		return g
	}},
}

func init() { subjects = append(subjects, pgSubjects...) }

// newSubject makes f's subject and closes it when tb ends.
func newSubject(tb testing.TB, f factory, count bool) Subject {
	tb.Helper()
	s := f.new(tb, count)
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Error(err)
		}
	})
	return s
}

func benchKeys(tb testing.TB) *session.KeyRing {
	kr, err := session.NewKeyRing(hashKey)
	if err != nil {
		tb.Fatal(err)
	}
	return kr
}

func mustOurs(tb testing.TB) func(*Ours, error) Subject {
	return func(o *Ours, err error) Subject {
		if err != nil {
			tb.Fatal(err)
		}
		return o
	}
}
