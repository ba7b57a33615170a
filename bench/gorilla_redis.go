package bench

import (
	"net/http"
	"time"

	"github.com/boj/redistore"
	"github.com/gomodule/redigo/redis"
)

// NewGorillaRedis returns gorilla/sessions with boj/redistore, the most used
// Redis store for it. It is built on redigo: no maintained gorilla/sessions
// store on go-redis v9 can be had from the Go module proxy. The pool is the
// one redistore.NewRediStore makes (a PING on every borrow, which is one more
// round trip per store operation), with a dialer whose connections count
// their round trips on the returned Counter.
func NewGorillaRedis(url string, hashKey []byte) (*Gorilla, error) {
	n := new(Counter)
	pool := &redis.Pool{
		MaxIdle:     16,
		IdleTimeout: 240 * time.Second,
		TestOnBorrow: func(c redis.Conn, _ time.Time) error {
			_, err := c.Do("PING")
			return err
		},
		Dial: func() (redis.Conn, error) {
			c, err := redis.DialURL(url)
			if err != nil {
				return nil, err
			}
			return countingConn{Conn: c, n: n}, nil
		},
	}
	st, err := redistore.NewRediStoreWithPool(pool, hashKey)
	if err != nil {
		pool.Close()
		return nil, err
	}
	st.Options.Secure = true
	st.Options.HttpOnly = true
	st.Options.SameSite = http.SameSiteLaxMode
	return &Gorilla{name: "gorilla-redis", store: st, counter: n, close: st.Close}, nil
}

// countingConn counts redigo round trips: each Do with a command, and each
// Flush (a pipeline of Sends).
type countingConn struct {
	redis.Conn
	n *Counter
}

func (c countingConn) Do(cmd string, args ...any) (any, error) {
	if cmd != "" {
		c.n.Inc()
	}
	return c.Conn.Do(cmd, args...)
}

func (c countingConn) Flush() error {
	c.n.Inc()
	return c.Conn.Flush()
}
