package passkey

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"reflect"
	"strings"
)

// maxBody bounds a request body: a WebAuthn response is a few kilobytes.
const maxBody = 64 << 10

// errCode is an error answered as {"error": code} with status.
type errCode struct {
	status int
	code   string
}

func (e errCode) Error() string { return "passkey: " + e.code }

// The answers the README documents.
var (
	errBadRequest   = errCode{http.StatusBadRequest, "bad_request"}
	errChallenge    = errCode{http.StatusBadRequest, "challenge"}    // no ceremony, expired, used, or another user's
	errVerification = errCode{http.StatusBadRequest, "verification"} // signature, origin, RP ID, user verification…
	errNotSignedIn  = errCode{http.StatusUnauthorized, "not_signed_in"}
	errWrongUser    = errCode{http.StatusForbidden, "wrong_user"}
	errCounter      = errCode{http.StatusForbidden, "counter"}
	errUnknown      = errCode{http.StatusNotFound, "not_found"}
	errExists       = errCode{http.StatusConflict, "exists"}
	errTooMany      = errCode{http.StatusConflict, "too_many"}
	errNoPasskeys   = errCode{http.StatusConflict, "no_passkeys"}
	errConflict     = errCode{http.StatusConflict, "conflict"}
	errCrossOrigin  = errCode{http.StatusForbidden, "cross_origin"}
	errContentType  = errCode{http.StatusUnsupportedMediaType, "content_type"}
	errTooLarge     = errCode{http.StatusRequestEntityTooLarge, "too_large"}
	errUnavailable  = errCode{http.StatusServiceUnavailable, "unavailable"}
)

// api wraps an endpoint: the cross-origin and content-type checks, then,
// when recent is set, the recent-proof check (see recentProof), a bounded
// body, and the error answer.
func (h *Handler) api(fn func(w http.ResponseWriter, r *http.Request) error, recent bool) http.Handler {
	var next http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		if err := fn(w, r); err != nil {
			var ec errCode
			if !errors.As(err, &ec) {
				ec = errUnavailable
				h.logError(r.Context(), "passkey: request failed", err)
			}
			writeError(w, ec)
		}
	})
	if recent {
		next = h.recentProof(next)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h.cop.Check(r); err != nil {
			writeError(w, errCrossOrigin)
			return
		}
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			writeError(w, errContentType)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// recentProof puts next behind Sessions.RequireRecentAuth(RecentAuth), so a
// signed-in session whose last proof is older gets its answer, or returns
// next as it is when RecentAuth is negative. A request that is not signed
// in, or whose session could not be read, goes on to next, which answers
// not_signed_in or unavailable as every endpoint does.
func (h *Handler) recentProof(next http.Handler) http.Handler {
	if h.cfg.RecentAuth < 0 {
		return next
	}
	guarded := h.cfg.Sessions.RequireRecentAuth(h.cfg.RecentAuth)(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s := h.cfg.Sessions.FromContext(r.Context()); s.Err() != nil || s.UserID() == "" {
			next.ServeHTTP(w, r)
			return
		}
		guarded.ServeHTTP(w, r)
	})
}

// readJSON decodes the body strictly into v: one JSON value, known keys.
func readJSON(r *http.Request, v any) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return errTooLarge
		}
		return errBadRequest
	}
	if err := exactKeys(b, v); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil || dec.More() {
		return errBadRequest
	}
	return nil
}

// exactKeys refuses a body whose top-level object has a key that is not,
// exactly, the JSON name of one of the fields of the struct v points to,
// or has one twice. encoding/json alone would match {"ID":…} to "id"
// (case-insensitively, with Unicode folding) and let the last of two equal
// keys win, so that a log or a proxy reading the first would see another
// request than the handler. For a v that is not a pointer to a struct (a
// raw credential, which go-webauthn parses) it checks nothing.
func exactKeys(b []byte, v any) error {
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil
	}
	allowed := make(map[string]bool, t.Elem().NumField())
	for i := range t.Elem().NumField() {
		name, _, _ := strings.Cut(t.Elem().Field(i).Tag.Get("json"), ",")
		allowed[name] = true
	}
	return checkObjectKeys(json.NewDecoder(bytes.NewReader(b)), allowed, nil)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e errCode) {
	writeJSON(w, e.status, struct {
		Error string `json:"error"`
	}{e.code})
}

// storeErr maps a Store error: ErrNotFound to not_found, anything else is
// left to be answered as unavailable (and logged).
func storeErr(err error) error {
	if errors.Is(err, ErrNotFound) {
		return errUnknown
	}
	return err
}

// credHash names a credential in logs: a short hash of its ID.
func credHash(id []byte) string {
	sum := sha256.Sum256(id)
	return hex.EncodeToString(sum[:6])
}

func (h *Handler) logError(ctx context.Context, msg string, err error) {
	if h.cfg.Logger != nil {
		h.cfg.Logger.LogAttrs(ctx, slog.LevelError, msg, slog.String("session", h.cfg.Sessions.FromContext(ctx).ID()), slog.String("error", err.Error()))
	}
}

// logRefused logs a refused ceremony that may be an attack.
func (h *Handler) logRefused(ctx context.Context, msg string, id []byte, err error) {
	if h.cfg.Logger != nil {
		h.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, msg, slog.String("session", h.cfg.Sessions.FromContext(ctx).ID()),
			slog.String("credential", credHash(id)), slog.String("error", err.Error()))
	}
}
