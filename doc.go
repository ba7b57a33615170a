// Package session is server-side session authentication for net/http.
//
// A Manager wraps a handler with Middleware. For each request it reads the
// signed session cookie (or, when enabled, an "Authorization: Bearer"
// token), verifies its HMAC before any store I/O, loads the session from a
// Store by the SHA-256 of the token (at most one read per request), and puts
// it in the request context, where FromContext finds it. Just before the
// response headers are written it saves the session back, and only if
// something changed.
//
// On top of that: RequireAuth (401 for anonymous requests, 503 when the
// store is down), Login (always a fresh token), Logout, LogoutAll (every
// session of a user, through a per-user index), Renew and LogoutOthers for
// privilege and password changes, ListSessions and LogoutSession for a "your
// devices" page, key rotation (KeyRing: the first key signs, all verify, old
// cookies are re-signed), idle and absolute timeouts, remember-me, and a cap
// on sessions per user. A session also records when and how its user last
// proved who they are (ProvedWith, StepUp), and RequireRecentAuth asks for
// a recent proof before what matters; module passkey adds passkeys.
//
// Stores: MemoryStore (the default, one process) and RedisStore (single
// node, Sentinel, Cluster, Ring).
//
// The family, one line each (the last four are modules of their own, so
// importing this package never pulls their dependencies):
//
//   - password: password hashing and verification (argon2id, bcrypt).
//   - throttle: login throttling, in memory or shared across instances
//     through Redis.
//   - storetest: the conformance suite for a Store, and a fault-injecting
//     wrapper for tests.
//   - sessiontest: runs a handler behind a real Manager in a test and reads
//     back what its session became.
//   - pgstore: a Store on PostgreSQL (pgx v5).
//   - accesstoken: short-lived JWT access tokens minted from a session, for
//     APIs and mobile clients, and their verification.
//   - providerlogin: "Sign in with …" through OpenID Connect and OAuth 2
//     providers, ending in Login.
//   - passkey: passkeys (WebAuthn): register, sign in without a username,
//     and step-up on the current session (Manager.StepUp).
//   - otelsession: what Config.Observe reports, as OpenTelemetry metrics.
//
// Without a store, Config.CookieOnly keeps the whole session in the cookie,
// sealed with XChaCha20-Poly1305: no server-side state, and no revocation
// before a cookie expires.
//
// The defaults are the safe ones: HttpOnly, Secure, SameSite=Lax, Path=/, a
// __Host- cookie name, 256-bit random tokens, a 30-minute idle timeout and a
// 12-hour absolute lifetime. The repository's SECURITY.md maps each threat to
// its defence and tests.
package session
