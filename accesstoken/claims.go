package accesstoken

import (
	"bytes"
	"context"
	"math"
	"strconv"
	"time"

	"github.com/go-jose/go-jose/v4/json"
)

// Claims are the verified claims of an access token. The middlewares put
// them in the request context (read them with FromContext); treat them as
// read-only.
type Claims struct {
	Issuer   string   // iss
	Subject  string   // sub: the user ID (ours) or the provider's user ID
	Audience []string // aud
	// SessionID is the `sid` claim. In our tokens it is the public ID of the
	// session that minted the token (session.Session.ID), never its token or
	// store key; in a provider's token, its `sid` when it is a string.
	SessionID string
	ID        string    // jti
	IssuedAt  time.Time // iat; zero when absent
	NotBefore time.Time // nbf; zero when absent
	Expiry    time.Time // exp
	// AuthTime is `auth_time`: when the user last proved who they are. In
	// our tokens it is the session's Session.AuthTime (its Login or last
	// StepUp); in a provider's token, its own claim. Zero when absent or
	// not a number.
	AuthTime time.Time
	// AuthMethods is `amr`, the RFC 8176 methods of that proof ("pwd",
	// "hwk", "otp", …): the session's Session.AuthMethods in our tokens.
	// nil when absent or not an array of strings (Supabase's array of
	// objects, for one). Issuer.RequireRecentAuth checks both.
	AuthMethods []string

	payload []byte
	// party is the client the token was issued to (see
	// ProviderConfig.AuthorizedParties); "" when it cannot be told.
	party string
}

// Decode unmarshals the whole verified payload into v, for claims beyond
// the registered ones (a provider's email, org or roles). Unlike
// encoding/json, a field matches only the claim name of its json tag (or
// its Go name) exactly, case included, and a payload with a duplicate name
// was refused at verification. Cost: one JSON decode of the payload.
func (c *Claims) Decode(v any) error {
	return json.Unmarshal(c.payload, v)
}

type claimsKey struct{}

// FromContext returns the claims that Issuer.Middleware, Issuer.Strict or
// Provider.Middleware verified for this request, or nil outside them.
func FromContext(ctx context.Context) *Claims {
	c, _ := ctx.Value(claimsKey{}).(*Claims)
	return c
}

// wireClaims is the payload as decoded. Pointers tell a missing claim from
// an empty one; the JSON decoder rejects duplicate names and matches names
// case-sensitively.
type wireClaims struct {
	Iss *string         `json:"iss"`
	Sub *string         `json:"sub"`
	Aud audience        `json:"aud"`
	Exp *numericDate    `json:"exp"`
	Nbf *numericDate    `json:"nbf"`
	Iat *numericDate    `json:"iat"`
	Jti *string         `json:"jti"`
	Sid json.RawMessage `json:"sid"`
	Azp json.RawMessage `json:"azp"`
	Cid json.RawMessage `json:"client_id"`
	// auth_time and amr are read leniently: a provider's odd shape leaves
	// them empty, which RequireRecentAuth refuses, rather than refusing
	// the token.
	AuthTime json.RawMessage `json:"auth_time"`
	AMR      json.RawMessage `json:"amr"`
}

// decodeClaims turns a verified payload into Claims. Required claims and
// times are checked by the caller.
func decodeClaims(payload []byte) (*Claims, error) {
	payload = bytes.TrimSpace(payload)
	if len(payload) == 0 || payload[0] != '{' {
		return nil, invalid(errClaims)
	}
	var w wireClaims
	if err := json.Unmarshal(payload, &w); err != nil {
		return nil, invalid(errClaims)
	}
	c := &Claims{Audience: w.Aud, payload: payload}
	for _, f := range []struct {
		dst *string
		src *string
	}{{&c.Issuer, w.Iss}, {&c.Subject, w.Sub}, {&c.ID, w.Jti}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	if len(w.Sid) > 0 && w.Sid[0] == '"' {
		if err := json.Unmarshal(w.Sid, &c.SessionID); err != nil {
			return nil, invalid(errClaims)
		}
	}
	c.Expiry, c.NotBefore, c.IssuedAt = w.Exp.time(), w.Nbf.time(), w.Iat.time()
	c.party = authorizedParty(w)
	if len(w.AuthTime) > 0 {
		var at numericDate
		if at.UnmarshalJSON(w.AuthTime) == nil {
			c.AuthTime = at.t
		}
	}
	if len(w.AMR) > 0 && w.AMR[0] == '[' {
		var amr []string
		if json.Unmarshal(w.AMR, &amr) == nil && len(amr) > 0 {
			c.AuthMethods = amr
		}
	}
	return c, nil
}

// authorizedParty returns the client a token was issued to: its `azp`;
// without one, its `client_id`; without either, its `aud` when that holds
// exactly one value (OpenID Connect Core 3.1.3.7: an ID token with one
// audience and no azp was issued to that audience). A claim present but not
// a non-empty string gives "", which no configured party matches: a
// present azp is never passed over for a client_id or aud that would match.
func authorizedParty(w wireClaims) string {
	for _, raw := range []json.RawMessage{w.Azp, w.Cid} {
		if len(raw) == 0 {
			continue
		}
		var s string
		if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
			return ""
		}
		return s
	}
	if len(w.Aud) == 1 {
		return w.Aud[0]
	}
	return ""
}

// maxNumericDate is 9999-12-31T23:59:59Z: later dates are refused as
// garbage rather than overflowing.
const maxNumericDate = 253402300799

// numericDate is a JWT NumericDate: a JSON number of seconds since the
// epoch, fractions allowed, between 0 and the year 9999.
type numericDate struct{ t time.Time }

func (n *numericDate) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || (b[0] != '-' && (b[0] < '0' || b[0] > '9')) {
		return errNumericDate // a string, bool, object or array
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > maxNumericDate {
		return errNumericDate
	}
	sec, frac := math.Modf(f)
	n.t = time.Unix(int64(sec), int64(frac*1e9)).UTC()
	return nil
}

func (n *numericDate) time() time.Time {
	if n == nil {
		return time.Time{}
	}
	return n.t
}

// audience is `aud`: one string or an array of strings.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = audience{s}
		return nil
	case len(b) > 0 && b[0] == '[':
		var list []string
		if err := json.Unmarshal(b, &list); err != nil {
			return err
		}
		*a = list
		return nil
	case string(b) == "null":
		return nil
	}
	return errAudType
}

func (a audience) contains(v string) bool {
	for _, s := range a {
		if s == v {
			return true
		}
	}
	return false
}
