package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
)

// Errors of decodeStrict. Their messages are safe to show to the client.
var (
	errJSONTooLarge    = errors.New("JSON body too large")
	errJSONMalformed   = errors.New("malformed JSON body")
	errJSONNotObject   = errors.New("JSON body must be an object")
	errJSONTrailing    = errors.New("malformed JSON body: trailing data")
	errJSONUnknownKey  = errors.New("unknown field")
	errJSONCaseVariant = errors.New("field name in the wrong case")
	errJSONDuplicate   = errors.New("duplicate field")
	errJSONFieldType   = errors.New("field has the wrong type")
)

// decodeStrict decodes one JSON object, of at most limit bytes, from r into
// v, a pointer to a struct whose fields are strings, bools or numbers.
//
// encoding/json matches keys case-insensitively (with Unicode folding: the
// long s "ſ" matches "s") and lets the last of several equal keys win, so
// {"username":"x","USERNAME":"demo"} decodes as demo while a proxy, a
// firewall or a log that reads "username" sees x. decodeStrict walks the
// tokens itself and accepts a key only if it is exactly one of the struct's
// JSON names and has not been seen before. It also refuses unknown keys,
// null and mistyped values, and anything after the object. Keys may be
// absent: callers check required fields.
//
// Cost: one pass over the body; the struct's names are looked up once per
// type.
func decodeStrict(r io.Reader, limit int64, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		panic("decodeStrict: v must be a pointer to a struct")
	}
	fields := jsonFields(rv.Elem().Type())
	lr := &io.LimitedReader{R: r, N: limit + 1}
	dec := json.NewDecoder(lr)
	// tooLarge tells a body cut by limit (or by an http.MaxBytesReader
	// around r) from a malformed one.
	tooLarge := func(err, def error) error {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok || lr.N <= 0 {
			return errJSONTooLarge
		}
		return def
	}

	tok, err := dec.Token()
	if err != nil {
		return tooLarge(err, errJSONMalformed)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errJSONNotObject
	}
	seen := make([]bool, len(fields.index))
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return tooLarge(err, errJSONMalformed)
		}
		key, ok := tok.(string)
		if !ok {
			return errJSONMalformed
		}
		i, ok := fields.index[key]
		if !ok {
			for name := range fields.index {
				if strings.EqualFold(name, key) {
					return fmt.Errorf("%w: %s, not %s", errJSONCaseVariant, quoteKey(key), quoteKey(name))
				}
			}
			return fmt.Errorf("%w: %s", errJSONUnknownKey, quoteKey(key))
		}
		if seen[i] {
			return fmt.Errorf("%w: %s", errJSONDuplicate, quoteKey(key))
		}
		seen[i] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return tooLarge(err, errJSONMalformed)
		}
		if bytes.Equal(raw, []byte("null")) {
			return fmt.Errorf("%w: %s is null", errJSONFieldType, quoteKey(key))
		}
		if err := json.Unmarshal(raw, rv.Elem().Field(fields.field[i]).Addr().Interface()); err != nil {
			return fmt.Errorf("%w: %s", errJSONFieldType, quoteKey(key))
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return tooLarge(err, errJSONMalformed)
	}
	if _, err := dec.Token(); err != io.EOF {
		return tooLarge(err, errJSONTrailing)
	}
	if lr.N <= 0 {
		return errJSONTooLarge
	}
	return nil
}

// quoteKey quotes a client's key for an error message, cut to 40 bytes.
func quoteKey(k string) string {
	if len(k) > 40 {
		k = strings.ToValidUTF8(k[:40], "") + "..."
	}
	return fmt.Sprintf("%q", k)
}

// structFields maps the exact JSON names of a struct's fields to positions.
type structFields struct {
	index map[string]int // JSON name -> position in field
	field []int          // position -> struct field index
}

var fieldCache sync.Map // reflect.Type -> structFields

// jsonFields returns t's JSON names, as encoding/json would name them. It
// panics on a field type decodeStrict does not support: that is a
// programming error, found by the first test that decodes the type.
func jsonFields(t reflect.Type) structFields {
	if f, ok := fieldCache.Load(t); ok {
		return f.(structFields)
	}
	f := structFields{index: map[string]int{}}
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		switch sf.Type.Kind() {
		case reflect.String, reflect.Bool, reflect.Int, reflect.Int64, reflect.Float64:
		default:
			panic(fmt.Sprintf("decodeStrict: field %s of %s has unsupported type %s", sf.Name, t, sf.Type))
		}
		f.index[name] = len(f.field)
		f.field = append(f.field, i)
	}
	fieldCache.Store(t, f)
	return f
}
