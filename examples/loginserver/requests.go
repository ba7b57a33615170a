package main

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// maxBodyBytes caps request bodies: a username, two 1024-byte passwords and
// some JSON fit easily.
const maxBodyBytes = 8 << 10

// credentials is the body of POST /login and POST /register.
type credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Remember bool   `json:"remember"`
}

// readBody reads a strict JSON body into v (see decodeStrict) or, when
// fromForm is not nil, a form through fromForm; at most maxBodyBytes either
// way. Other content types get 415.
func readBody(w http.ResponseWriter, r *http.Request, v any, fromForm func(url.Values)) *problem {
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case mt == "application/json":
		if err := decodeStrict(r.Body, maxBodyBytes, v); err != nil {
			return bodyProblem(err)
		}
		return nil
	case fromForm != nil && mt == "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return bodyProblem(err)
		}
		fromForm(r.PostForm)
		return nil
	}
	want := "application/json"
	if fromForm != nil {
		want += " or application/x-www-form-urlencoded"
	}
	return &problem{status: http.StatusUnsupportedMediaType, code: "Content-Type must be " + want}
}

// bodyProblem turns an error from reading a body into a 400 that says what
// was wrong: too large, malformed, or (for JSON) which key was refused.
func bodyProblem(err error) *problem {
	p := *errUnreadableForm
	switch {
	case errors.Is(err, errJSONTooLarge):
		p.code = fmt.Sprintf("request body larger than %d bytes", maxBodyBytes)
	case errors.Is(err, errJSONNotObject), errors.Is(err, errJSONTrailing), errors.Is(err, errJSONUnknownKey),
		errors.Is(err, errJSONCaseVariant), errors.Is(err, errJSONDuplicate), errors.Is(err, errJSONFieldType):
		p.code = err.Error()
	default:
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			p.code = fmt.Sprintf("request body larger than %d bytes", maxBodyBytes)
		}
	}
	return &p
}

// readCredentials reads a sign-in or sign-up body, JSON or (when allowForm)
// a form, and requires both fields.
func readCredentials(w http.ResponseWriter, r *http.Request, allowForm bool) (credentials, *problem) {
	var c credentials
	var fromForm func(url.Values)
	if allowForm {
		fromForm = func(f url.Values) {
			c.Username, c.Password = f.Get("username"), f.Get("password")
			switch f.Get("remember") {
			case "on", "1", "true", "yes":
				c.Remember = true
			}
		}
	}
	if p := readBody(w, r, &c, fromForm); p != nil {
		return c, p
	}
	if c.Username == "" || c.Password == "" {
		p := &problem{status: http.StatusBadRequest, code: "username and password are required",
			human: "Enter your username and password.", field: "username"}
		if c.Username != "" {
			p.human, p.field = "Enter your password.", "password"
		} else if c.Password != "" {
			p.human = "Enter your username."
		}
		return c, p
	}
	return c, nil
}

// isForm reports whether the request came from an HTML form.
func isForm(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/x-www-form-urlencoded"
}

// wantsHTML reports whether the client is a browser that expects a page: a
// form post, or a navigation (Accept: text/html).
func wantsHTML(r *http.Request) bool {
	return isForm(r) || strings.Contains(r.Header.Get("Accept"), "text/html")
}
