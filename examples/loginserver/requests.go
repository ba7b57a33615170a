package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// readCredentials decodes a JSON or (when allowForm) form body, capped at
// maxBodyBytes.
func readCredentials(w http.ResponseWriter, r *http.Request, allowForm bool) (credentials, error) {
	var c credentials
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case mt == "application/json":
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return c, bodyError(err)
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return c, &errBadRequest{http.StatusBadRequest, "malformed JSON body: trailing data"}
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

func bodyError(err error) error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return &errBadRequest{http.StatusBadRequest, fmt.Sprintf("request body larger than %d bytes", maxBodyBytes)}
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
