package providerlogin

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Bounds on what a provider sends.
const (
	maxSubject  = 255     // OpenID Connect's limit for "sub"
	maxUserInfo = 1 << 20 // user-info document
	clockSkew   = 5 * time.Minute
)

// verifyIDToken checks the ID token of a token response: go-oidc verifies
// the signature against the provider's JWKS (only the advertised
// algorithms), the issuer, that the client ID is an audience, and the
// expiry; this adds the nonce, the authorized party when there are several
// audiences (or an azp at all), an issue time not in the future, the
// access-token hash when present, and a usable subject.
func (p *Provider) verifyIDToken(ctx context.Context, d *discovered, tok *oauth2.Token, nonce string, now time.Time) (Identity, string, error) {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Identity{}, "", fmt.Errorf("%w: the token response has no id_token", errInvalidIDToken)
	}
	idt, err := d.verifier.Verify(ctx, raw)
	if err != nil {
		var expired *oidc.TokenExpiredError
		if errors.As(err, &expired) {
			return Identity{}, "", fmt.Errorf("%w: expired at %s", errInvalidIDToken, expired.Expiry.UTC().Format(time.RFC3339))
		}
		return Identity{}, "", fmt.Errorf("%w: %w", errInvalidIDToken, err)
	}
	if nonce == "" || subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return Identity{}, "", fmt.Errorf("%w: nonce does not match the one this sign-in sent", errInvalidIDToken)
	}
	var c struct {
		Azp           string          `json:"azp"`
		Email         string          `json:"email"`
		EmailVerified any             `json:"email_verified"`
		Name          string          `json:"name"`
		AuthTime      json.RawMessage `json:"auth_time"`
		AMR           json.RawMessage `json:"amr"`
	}
	if err := idt.Claims(&c); err != nil {
		return Identity{}, "", fmt.Errorf("%w: claims: %w", errInvalidIDToken, err)
	}
	if len(idt.Audience) > 1 && c.Azp == "" {
		return Identity{}, "", fmt.Errorf("%w: several audiences and no azp", errInvalidIDToken)
	}
	if c.Azp != "" && c.Azp != p.oauth.ClientID {
		return Identity{}, "", fmt.Errorf("%w: azp is another client", errInvalidIDToken)
	}
	if idt.IssuedAt.After(now.Add(clockSkew)) {
		return Identity{}, "", fmt.Errorf("%w: issued in the future", errInvalidIDToken)
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return Identity{}, "", fmt.Errorf("%w: at_hash does not match the access token", errInvalidIDToken)
		}
	}
	if !validSubject(idt.Subject) {
		return Identity{}, "", fmt.Errorf("%w: sub missing or not usable", errInvalidIDToken)
	}
	id := Identity{
		Provider: p.name, Issuer: idt.Issuer, Subject: idt.Subject,
		Email: c.Email, EmailVerified: truthy(c.EmailVerified), Name: c.Name,
		AuthTime: authTime(c.AuthTime), AuthMethods: authMethods(c.AMR),
	}
	_ = idt.Claims((*json.RawMessage)(&id.Claims))
	if p.fetchUserInfo {
		ui, err := d.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			return Identity{}, "", fmt.Errorf("%w: user info: %w", ErrProviderUnavailable, userInfoError(err))
		}
		if ui.Subject != idt.Subject {
			return Identity{}, "", fmt.Errorf("%w: user info names another subject than the ID token", errInvalidUser)
		}
		if id.Email == "" {
			id.Email, id.EmailVerified = ui.Email, ui.EmailVerified
		}
		var extra struct {
			Name string `json:"name"`
		}
		if id.Name == "" && ui.Claims(&extra) == nil {
			id.Name = extra.Name
		}
	}
	return id, raw, nil
}

// Bounds on a proof's methods, as the session accepts them.
const (
	maxAMR    = 8
	maxAMRLen = 32
)

// authTime reads auth_time: a JSON number of seconds since the epoch, up to
// the year 9999; the zero time for anything else.
func authTime(raw json.RawMessage) time.Time {
	var f float64
	if len(raw) == 0 || raw[0] < '0' || raw[0] > '9' || json.Unmarshal(raw, &f) != nil || f > 253402300799 {
		return time.Time{}
	}
	return time.Unix(int64(f), 0).UTC()
}

// authMethods reads amr: of an array of strings, the values a session
// accepts (see Identity.AuthMethods), at most maxAMR of them; nil for
// none or for anything else.
func authMethods(raw json.RawMessage) []string {
	var all []string
	if len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &all) != nil {
		return nil
	}
	var out []string
	for _, v := range all {
		if len(out) < maxAMR && validMethod(v) {
			out = append(out, v)
		}
	}
	return out
}

// validMethod: 1 to 32 bytes of a-z, 0-9, '_' and '-' (session.ProvedWith's rule).
func validMethod(v string) bool {
	if v == "" || len(v) > maxAMRLen {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// truthy reads email_verified, which some providers send as a string.
func truthy(v any) bool {
	switch b := v.(type) {
	case bool:
		return b
	case string:
		return b == "true"
	}
	return false
}

// validSubject: non-empty, at most 255 bytes, no control characters.
func validSubject(s string) bool {
	if s == "" || len(s) > maxSubject {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return false
		}
	}
	return true
}

// plainIdentity reads a plain OAuth 2 provider's user-info endpoint with
// the access token and takes the subject from Provider's SubjectField (a
// string or an integer).
func (p *Provider) plainIdentity(ctx context.Context, client *http.Client, tok *oauth2.Token) (Identity, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.userInfoURL, nil)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %w", ErrProviderUnavailable, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	res, err := client.Do(req)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: user info: %w", ErrProviderUnavailable, stripURLError(err))
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxUserInfo+1))
	switch {
	case err != nil:
		return Identity{}, fmt.Errorf("%w: user info: %w", ErrProviderUnavailable, err)
	case res.StatusCode != http.StatusOK:
		return Identity{}, fmt.Errorf("%w: user info answered HTTP %d", ErrProviderUnavailable, res.StatusCode)
	case len(body) > maxUserInfo:
		return Identity{}, fmt.Errorf("%w: user info larger than %d bytes", errInvalidUser, maxUserInfo)
	}
	return parseUserInfo(p, body)
}

// parseUserInfo extracts an Identity from a user-info JSON object.
func parseUserInfo(p *Provider, body []byte) (Identity, error) {
	var doc map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&doc); err != nil || doc == nil || dec.More() {
		return Identity{}, fmt.Errorf("%w: not a JSON object", errInvalidUser)
	}
	sub, ok := jsonScalar(doc[p.subjectField])
	if !ok || !validSubject(sub) {
		return Identity{}, fmt.Errorf("%w: no usable %q member", errInvalidUser, p.subjectField)
	}
	id := Identity{Provider: p.name, Issuer: p.issuer, Subject: sub, Claims: body}
	var c struct {
		Email         string `json:"email"`
		EmailVerified any    `json:"email_verified"`
		Name          string `json:"name"`
	}
	if json.Unmarshal(body, &c) == nil {
		id.Email, id.EmailVerified, id.Name = c.Email, truthy(c.EmailVerified), c.Name
	}
	return id, nil
}

// jsonScalar returns a JSON string as is, or an integer in decimal.
func jsonScalar(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var n json.Number
	if json.Unmarshal(raw, &n) != nil {
		return "", false
	}
	if i, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
		return strconv.FormatInt(i, 10), true
	}
	return "", false
}

// userInfoError is an error of go-oidc's UserInfo without the provider's
// answer, which go-oidc quotes after the status ("401 Unauthorized: ...")
// and which may echo the access token or be of any size: of such an error
// only the status code is kept.
func userInfoError(err error) error {
	msg := err.Error()
	if len(msg) > 4 && msg[3] == ' ' && isDigits(msg[:3]) {
		return fmt.Errorf("answered HTTP %s", msg[:3])
	}
	return stripURLError(err)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
