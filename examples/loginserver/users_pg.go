package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgUsers is the UserStore on PostgreSQL (DATABASE_URL): accounts and their
// provider links, in two tables of the connection's search_path next to the
// sessions' (pgstore). setup creates them at start-up.
type pgUsers struct {
	pool *pgxpool.Pool
	// timeout bounds each call (userQueryTimeout when 0): a database that
	// stalls (a network partition, a lock held) fails the call, which the
	// handlers answer with a 503, instead of holding the request, and a
	// password-hashing slot, for as long as the client waits.
	timeout time.Duration
}

// userQueryTimeout is pgUsers' default bound on a call.
const userQueryTimeout = 5 * time.Second

// bound returns ctx with the call's deadline.
func (s *pgUsers) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	d := s.timeout
	if d <= 0 {
		d = userQueryTimeout
	}
	return context.WithTimeout(ctx, d)
}

// usersSchema is the SQL setup runs, under an advisory lock so that several
// instances starting at once do not race. Run it yourself instead if you
// manage migrations.
const usersSchema = `
CREATE TABLE IF NOT EXISTS users (
	id            text PRIMARY KEY,
	username      text NOT NULL UNIQUE,
	password_hash text NOT NULL DEFAULT '', -- '': the account signs in with a provider only
	created       timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS provider_links (
	issuer   text NOT NULL,
	subject  text NOT NULL,
	user_id  text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	provider text NOT NULL,
	email    text NOT NULL DEFAULT '',
	created  timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (issuer, subject)
);
CREATE INDEX IF NOT EXISTS provider_links_user_id_idx ON provider_links (user_id);
`

// usersSchemaLock is the advisory lock key of setup (any constant will do).
const usersSchemaLock = 0x6c6f67696e // "login"

func (s *pgUsers) setup(ctx context.Context) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", usersSchemaLock); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, usersSchema)
		return err
	})
}

// isUniqueViolation and isForeignKeyViolation tell constraint errors apart
// by SQLSTATE.
func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func (s *pgUsers) one(ctx context.Context, query string, arg ...any) (User, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var u User
	err := s.pool.QueryRow(ctx, query, arg...).Scan(&u.ID, &u.Username, &u.PasswordHash)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrNoUser
	}
	return u, err
}

func (s *pgUsers) ByUsername(ctx context.Context, username string) (User, error) {
	return s.one(ctx, "SELECT id, username, password_hash FROM users WHERE username = $1", username)
}

func (s *pgUsers) ByID(ctx context.Context, id string) (User, error) {
	return s.one(ctx, "SELECT id, username, password_hash FROM users WHERE id = $1", id)
}

func (s *pgUsers) Create(ctx context.Context, username, passwordHash string) (User, error) {
	return s.insert(ctx, newUserID(), username, passwordHash)
}

func (s *pgUsers) insert(ctx context.Context, id, username, passwordHash string) (User, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, "INSERT INTO users (id, username, password_hash) VALUES ($1, $2, $3)", id, username, passwordHash)
	if sqlState(err) == "23505" { // unique_violation
		return User{}, ErrUsernameTaken
	}
	if err != nil {
		return User{}, err
	}
	return User{ID: id, Username: username, PasswordHash: passwordHash}, nil
}

func (s *pgUsers) SetPasswordHash(ctx context.Context, id, passwordHash string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	tag, err := s.pool.Exec(ctx, "UPDATE users SET password_hash = $2 WHERE id = $1", id, passwordHash)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNoUser
	}
	return err
}

func (s *pgUsers) UpgradePasswordHash(ctx context.Context, id, oldHash, newHash string) (bool, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	tag, err := s.pool.Exec(ctx, "UPDATE users SET password_hash = $3 WHERE id = $1 AND password_hash = $2", id, oldHash, newHash)
	return err == nil && tag.RowsAffected() == 1, err
}

func (s *pgUsers) ByIdentity(ctx context.Context, issuer, subject string) (User, error) {
	return s.one(ctx, `SELECT u.id, u.username, u.password_hash FROM provider_links l JOIN users u ON u.id = l.user_id
		WHERE l.issuer = $1 AND l.subject = $2`, issuer, subject)
}

func (s *pgUsers) Link(ctx context.Context, userID string, l Link) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	tag, err := s.pool.Exec(ctx, `INSERT INTO provider_links (issuer, subject, user_id, provider, email) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (issuer, subject) DO NOTHING`, l.Issuer, l.Subject, userID, l.Provider, l.Email)
	switch {
	case sqlState(err) == "23503": // foreign_key_violation
		return ErrNoUser
	case err != nil:
		return err
	case tag.RowsAffected() == 1:
		return nil
	}
	var owner string
	if err := s.pool.QueryRow(ctx, "SELECT user_id FROM provider_links WHERE issuer = $1 AND subject = $2", l.Issuer, l.Subject).Scan(&owner); err != nil {
		return err
	}
	if owner != userID {
		return ErrIdentityTaken
	}
	return nil
}

func (s *pgUsers) Links(ctx context.Context, userID string) ([]Link, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, "SELECT provider, issuer, subject, email, created FROM provider_links WHERE user_id = $1 ORDER BY created", userID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Link, error) {
		var l Link
		err := row.Scan(&l.Provider, &l.Issuer, &l.Subject, &l.Email, &l.Created)
		return l, err
	})
}

// addDemo creates the demo account unless it exists (a restart keeps its
// password, changed or not); its ID is derived from its name, as in memory.
func (s *pgUsers) addDemo(ctx context.Context, username, passwordHash string) (User, error) {
	id := demoUserID(username)
	if _, err := s.pool.Exec(ctx, "INSERT INTO users (id, username, password_hash) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
		id, username, passwordHash); err != nil {
		return User{}, err
	}
	u, err := s.ByUsername(ctx, username)
	if err == nil && u.ID != id {
		return User{}, fmt.Errorf("DEMO_USER: %q is the name of another account in the database", username)
	}
	return u, err
}
