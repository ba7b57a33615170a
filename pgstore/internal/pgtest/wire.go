package pgtest

import (
	"context"
	"net"
	"sync/atomic"
)

// Wire counts round trips on the connections it dials: a write that follows
// a read (or is a connection's first) starts one. Messages pipelined before
// the first reply count once, so it counts what the network sees, whatever
// the driver calls its statements.
type Wire struct{ n atomic.Int64 }

// Dial is a pgconn.DialFunc that wraps the connection.
func (w *Wire) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &wireConn{Conn: c, w: w}, nil
}

// Load returns the round trips counted so far.
func (w *Wire) Load() int64 { return w.n.Load() }

type wireConn struct {
	net.Conn
	w       *Wire
	writing atomic.Bool // the last operation was a write
}

func (c *wireConn) Write(p []byte) (int, error) {
	if !c.writing.Swap(true) {
		c.w.n.Add(1)
	}
	return c.Conn.Write(p)
}

func (c *wireConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.writing.Store(false)
	}
	return n, err
}
