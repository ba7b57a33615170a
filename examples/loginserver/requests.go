package main

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/netip"
)

// maxBodyBytes caps request bodies: a username, a 1024-byte password and some
// JSON fit easily.
const maxBodyBytes = 8 << 10

// credentials is the body of POST /login and POST /register.
type credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Remember bool   `json:"remember"`
}

// errBadRequest is an error whose message is safe to show to the client.
type errBadRequest struct {
	status int
	msg    string
}

func (e *errBadRequest) Error() string { return e.msg }

// readCredentials decodes a strict JSON body (see decodeStrict) or, when
// allowForm, a form, capped at maxBodyBytes.
func readCredentials(w http.ResponseWriter, r *http.Request, allowForm bool) (credentials, error) {
	var c credentials
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case mt == "application/json":
		if err := decodeStrict(r.Body, maxBodyBytes, &c); err != nil {
			return c, bodyError(err)
		}
	case allowForm && mt == "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return c, bodyError(err)
		}
		c.Username = r.PostForm.Get("username")
		c.Password = r.PostForm.Get("password")
		switch r.PostForm.Get("remember") {
		case "on", "1", "true", "yes":
			c.Remember = true
		}
	default:
		want := "application/json"
		if allowForm {
			want += " or application/x-www-form-urlencoded"
		}
		return c, &errBadRequest{http.StatusUnsupportedMediaType, "Content-Type must be " + want}
	}
	if c.Username == "" || c.Password == "" {
		return c, &errBadRequest{http.StatusBadRequest, "username and password are required"}
	}
	return c, nil
}

// bodyError turns an error from reading a body into a 400 whose message says
// what was wrong: too large, malformed, or (for JSON) which key was refused.
func bodyError(err error) error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok || errors.Is(err, errJSONTooLarge) {
		return &errBadRequest{http.StatusBadRequest, fmt.Sprintf("request body larger than %d bytes", maxBodyBytes)}
	}
	for _, e := range []error{errJSONNotObject, errJSONTrailing, errJSONUnknownKey, errJSONCaseVariant, errJSONDuplicate, errJSONFieldType} {
		if errors.Is(err, e) {
			return &errBadRequest{http.StatusBadRequest, err.Error()}
		}
	}
	return &errBadRequest{http.StatusBadRequest, "malformed request body"}
}

// isForm reports whether the request came from an HTML form.
func isForm(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/x-www-form-urlencoded"
}

// clientAddr is the key for per-address throttling: the peer's IP, or its
// /64 for IPv6 (one subscriber usually has a whole /64). Behind a reverse
// proxy, RemoteAddr is the proxy: take the client address from the header
// your proxy sets instead, and only from a proxy you run.
func clientAddr(r *http.Request) string {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	ip := ap.Addr().Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
