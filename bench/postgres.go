package bench

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/alexedwards/scs/pgxstore"
	"github.com/alexedwards/scs/postgresstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/lib/pq"
	"github.com/sessionauth/session"
	"github.com/sessionauth/session/pgstore"
)

// PostgreSQL subjects: this library's pgstore (pgx v5, pgxpool; with its
// default prepared statements, and without), scs's
// pgxstore (pgx v5, pgxpool, as its README sets it up) and scs's
// postgresstore (database/sql on lib/pq). Each works in a schema of its own,
// created for it and dropped on Close, on the server at a URL such as
// postgres://postgres@127.0.0.1:5432/test.
//
// Round trips are counted on the network connection (WireCounter), which is
// the same measure for both drivers whatever they call a statement.

// WireCounter counts round trips on the connections it dials: a write that
// follows a read (or is a connection's first write) starts one; messages
// sent before the reply count once.
type WireCounter struct{ Counter }

// DialContext dials a counted connection (pgconn.DialFunc's shape).
func (w *WireCounter) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &wireConn{Conn: c, n: &w.Counter}, nil
}

// Dial implements pq.Dialer.
func (w *WireCounter) Dial(network, addr string) (net.Conn, error) {
	return w.DialContext(context.Background(), network, addr)
}

// DialTimeout implements pq.Dialer.
func (w *WireCounter) DialTimeout(network, addr string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return w.DialContext(ctx, network, addr)
}

type wireConn struct {
	net.Conn
	n       *Counter
	writing atomic.Bool
}

func (c *wireConn) Write(p []byte) (int, error) {
	if !c.writing.Swap(true) {
		c.n.Inc()
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

// pgSchema is a schema made for one subject on the server at url.
type pgSchema struct {
	url, name string
}

func newPGSchema(ctx context.Context, url string) (pgSchema, error) {
	var b [6]byte
	rand.Read(b[:])
	s := pgSchema{url: url, name: "bench_pg_" + hex.EncodeToString(b[:])}
	return s, s.exec(ctx, "CREATE SCHEMA "+pgx.Identifier{s.name}.Sanitize())
}

func (s pgSchema) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, s.url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

func (s pgSchema) drop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return s.exec(ctx, "DROP SCHEMA "+pgx.Identifier{s.name}.Sanitize()+" CASCADE")
}

// urlIn returns the server URL with search_path set to the schema, for the
// scs stores, which name their table without a schema.
func (s pgSchema) urlIn() (string, error) {
	u, err := url.Parse(s.url)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("search_path", s.name)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// TableBytes is pg_total_relation_size of the subject's table: heap, TOAST
// and every index.
func (s pgSchema) TableBytes(ctx context.Context, table string) (int64, error) {
	conn, err := pgx.Connect(ctx, s.url)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.Background())
	var n int64
	err = conn.QueryRow(ctx, "SELECT pg_total_relation_size($1::regclass)", pgx.Identifier{s.name, table}.Sanitize()).Scan(&n)
	return n, err
}

// scsPostgresSchema is the table scs's PostgreSQL stores read and write, as
// their documentation gives it.
const scsPostgresSchema = `CREATE TABLE sessions (token TEXT PRIMARY KEY, data BYTEA NOT NULL, expiry TIMESTAMPTZ(6) NOT NULL);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);`

// PGSubject is a PostgreSQL subject: it also reports the size of its table.
type PGSubject struct {
	Subject
	schema pgSchema
	table  string
	close  func()
}

// TableBytes returns pg_total_relation_size of the subject's table.
func (p *PGSubject) TableBytes(ctx context.Context) (int64, error) {
	return p.schema.TableBytes(ctx, p.table)
}

// Close implements Subject: the subject, its pool, then its schema.
func (p *PGSubject) Close() error {
	err := p.Subject.Close()
	p.close()
	if derr := p.schema.drop(); err == nil {
		err = derr
	}
	return err
}

func pgPool(ctx context.Context, url string, w *WireCounter) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	cfg.ConnConfig.DialFunc = w.DialContext
	return pgxpool.NewWithConfig(ctx, cfg)
}

// NewOursPostgres returns this library on pgstore, in a new schema, with
// its defaults (pgx's cached prepared statements, as scs's pgxstore gets
// from the pool's default), or with Config.DisablePreparedStatements when
// unprepared is true (QueryExecModeExec, the setting for PgBouncer before
// 1.21 in transaction mode).
func NewOursPostgres(url string, keys *session.KeyRing, unprepared bool) (*PGSubject, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	schema, err := newPGSchema(ctx, url)
	if err != nil {
		return nil, err
	}
	w := new(WireCounter)
	pool, err := pgPool(ctx, url, w)
	if err != nil {
		schema.drop()
		return nil, err
	}
	cfg := pgstore.Config{Schema: schema.name, Table: "sessions", CleanupInterval: -1, DisablePreparedStatements: unprepared}
	name := "ours-pg"
	if unprepared {
		name = "ours-pg-unprepared"
	}
	store, err := pgstore.New(pool, cfg)
	if err == nil {
		err = store.Setup(ctx)
	}
	if err != nil {
		pool.Close()
		schema.drop()
		return nil, err
	}
	o, err := NewOurs(name, store, keys, &w.Counter, nil)
	if err != nil {
		pool.Close()
		schema.drop()
		return nil, err
	}
	return &PGSubject{Subject: o, schema: schema, table: "sessions", close: func() { store.Close(); pool.Close() }}, nil
}

// newSCSSchema creates a schema holding scs's sessions table and returns it
// with a connection URL whose search_path is that schema.
func newSCSSchema(ctx context.Context, url string) (pgSchema, string, error) {
	schema, err := newPGSchema(ctx, url)
	if err != nil {
		return pgSchema{}, "", err
	}
	u, err := schema.urlIn()
	if err == nil {
		err = schema.exec(ctx, "SET search_path TO "+pgx.Identifier{schema.name}.Sanitize()+"; "+scsPostgresSchema)
	}
	if err != nil {
		schema.drop()
		return pgSchema{}, "", err
	}
	return schema, u, nil
}

// NewSCSPgx returns scs with its pgxstore, in a new schema. The pool keeps
// pgx's default query mode (cached prepared statements), as scs's README
// creates it.
func NewSCSPgx(url string) (*PGSubject, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	schema, u, err := newSCSSchema(ctx, url)
	if err != nil {
		return nil, err
	}
	w := new(WireCounter)
	pool, err := pgPool(ctx, u, w)
	if err != nil {
		schema.drop()
		return nil, err
	}
	s := newSCS("scs-pgx", pgxstore.NewWithCleanupInterval(pool, 0), 0)
	s.counter = &w.Counter
	return &PGSubject{Subject: s, schema: schema, table: "sessions", close: pool.Close}, nil
}

// NewSCSPostgres returns scs with its postgresstore on database/sql and
// lib/pq, in a new schema.
func NewSCSPostgres(url string) (*PGSubject, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	schema, u, err := newSCSSchema(ctx, url)
	if err != nil {
		return nil, err
	}
	connector, err := pq.NewConnector(u)
	if err != nil {
		schema.drop()
		return nil, fmt.Errorf("lib/pq: %w", err)
	}
	w := new(WireCounter)
	connector.Dialer(w)
	db := sql.OpenDB(connector)
	s := newSCS("scs-pg", postgresstore.NewWithCleanupInterval(db, 0), 0)
	s.counter = &w.Counter
	return &PGSubject{Subject: s, schema: schema, table: "sessions", close: func() { db.Close() }}, nil
}
