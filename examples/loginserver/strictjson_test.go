package main

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// strictTarget has every kind of field decodeStrict supports.
type strictTarget struct {
	Username string  `json:"username"`
	Password string  `json:"password"`
	Remember bool    `json:"remember,omitempty"`
	Count    int     `json:"count"`
	Score    float64 `json:"score"`
	Kind     string  `json:"kind"`
	Plain    string  // no tag: its name is "Plain"
	Skipped  string  `json:"-"`
	hidden   string  //lint:ignore U1000 unexported fields are never decoded
}

func TestDecodeStrictAcceptsExactKeysOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		want       strictTarget
	}{
		{"all fields", `{"username":"ann","password":"pw","remember":true,"count":3,"score":1.5,"Plain":"p"}`,
			strictTarget{Username: "ann", Password: "pw", Remember: true, Count: 3, Score: 1.5, Plain: "p"}},
		{"some fields", `{"password":"pw"}`, strictTarget{Password: "pw"}},
		{"empty object", `{}`, strictTarget{}},
		{"whitespace around", " \n\t{ \"username\" : \"ann\" } \n", strictTarget{Username: "ann"}},
		{"escaped key is the same key", `{"\u0075sername":"ann"}`, strictTarget{Username: "ann"}},
		{"escapes in values", `{"password":"a\"b\\c\u00e9"}`, strictTarget{Password: "a\"b\\cé"}},
		{"empty string value", `{"username":""}`, strictTarget{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got strictTarget
			if err := decodeStrict(strings.NewReader(tc.body), 1<<10, &got); err != nil {
				t.Fatalf("decodeStrict(%s): %v", tc.body, err)
			}
			if got != tc.want {
				t.Fatalf("decodeStrict(%s) = %+v, want %+v", tc.body, got, tc.want)
			}
		})
	}
}

func TestDecodeStrictRefusesWhatEncodingJSONLetsThrough(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		want       error
		msg        string // a part of the error message, when it matters
	}{
		{"case variant after the real key", `{"username":"x","USERNAME":"demo"}`, errJSONCaseVariant, `"USERNAME", not "username"`},
		{"case variant alone", `{"Username":"demo"}`, errJSONCaseVariant, ""},
		{"long s folds to s", `{"uſername":"demo"}`, errJSONCaseVariant, ""},
		{"Kelvin sign folds to k", `{"Kind":"x"}`, errJSONCaseVariant, ""},
		{"duplicate key", `{"username":"x","username":"demo"}`, errJSONDuplicate, `"username"`},
		{"duplicate through an escape", `{"username":"x","\u0075sername":"demo"}`, errJSONDuplicate, ""},
		{"unknown key", `{"username":"x","admin":true}`, errJSONUnknownKey, `"admin"`},
		{"skipped field's name", `{"Skipped":"x"}`, errJSONUnknownKey, ""},
		{"unexported field's name", `{"hidden":"x"}`, errJSONUnknownKey, ""},
		{"long unknown key is cut", `{"` + strings.Repeat("k", 50) + `":1}`, errJSONUnknownKey, `..."`},
		{"null value", `{"username":null}`, errJSONFieldType, "null"},
		{"number for a string", `{"username":5}`, errJSONFieldType, ""},
		{"string for a bool", `{"remember":"yes"}`, errJSONFieldType, ""},
		{"object for a string", `{"username":{"a":1}}`, errJSONFieldType, ""},
		{"fraction for an int", `{"count":1.5}`, errJSONFieldType, ""},
		{"array", `[{"username":"x"}]`, errJSONNotObject, ""},
		{"string", `"username"`, errJSONNotObject, ""},
		{"null body", `null`, errJSONNotObject, ""},
		{"empty body", ``, errJSONMalformed, ""},
		{"truncated", `{"username":"x"`, errJSONMalformed, ""},
		{"truncated value", `{"username":`, errJSONMalformed, ""},
		{"bad syntax", `{"username" "x"}`, errJSONMalformed, ""},
		{"non-string key", `{1:"x"}`, errJSONMalformed, ""},
		{"trailing object", `{"username":"x"} {}`, errJSONTrailing, ""},
		{"trailing garbage", `{"username":"x"}x`, errJSONTrailing, ""},
		{"over the limit", `{"password":"` + strings.Repeat("p", 100) + `"}`, errJSONTooLarge, ""},
		{"padding over the limit", `{"password":"p"}` + strings.Repeat(" ", 100), errJSONTooLarge, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got strictTarget
			err := decodeStrict(strings.NewReader(tc.body), 64, &got)
			if !errors.Is(err, tc.want) {
				t.Fatalf("decodeStrict(%.80s) = %v, want %v", tc.body, err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %q lacks %q", err, tc.msg)
			}
		})
	}
}

// The body that motivated decodeStrict: encoding/json signs this in as demo.
func TestDecodeStrictDisagreesWithEncodingJSONOnCaseVariants(t *testing.T) {
	t.Parallel()
	body := `{"username":"x","USERNAME":"demo","password":"pw"}`
	var lax credentials
	if err := json.Unmarshal([]byte(body), &lax); err != nil || lax.Username != "demo" {
		t.Fatalf("encoding/json: %+v, %v; this test assumes it takes the last, case-folded key", lax, err)
	}
	var strict credentials
	if err := decodeStrict(strings.NewReader(body), 1<<10, &strict); !errors.Is(err, errJSONCaseVariant) {
		t.Fatalf("decodeStrict: %v, want %v", err, errJSONCaseVariant)
	}
}

func TestDecodeStrictPanicsOnUnsupportedFieldType(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a map field")
		}
	}()
	var v struct {
		M map[string]string `json:"m"`
	}
	decodeStrict(strings.NewReader(`{}`), 64, &v)
}

// Whatever decodeStrict accepts, encoding/json decodes to the same value
// (there is nothing ambiguous left for it to resolve), and it never panics.
func FuzzDecodeStrict(f *testing.F) {
	for _, s := range []string{
		`{"username":"ann","password":"pw","remember":true,"count":3,"score":1.5,"Plain":"p"}`,
		`{"username":"x","USERNAME":"demo"}`, `{"uſername":"demo"}`, `{"username":"x","username":"y"}`,
		`{"\u0075sername":"ann"}`, `{"username":null}`, `[1]`, `{"a":{"b":[1,2,{"c":null}]}}`, ``, `{}` + "\n",
		`{"password":"\ud800"}`, `{"count":1e400}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var strict strictTarget
		err := decodeStrict(strings.NewReader(string(body)), 4<<10, &strict)
		if err != nil {
			return
		}
		var lax strictTarget
		if err := json.Unmarshal(body, &lax); err != nil {
			t.Fatalf("decodeStrict accepted %q, encoding/json refuses it: %v", body, err)
		}
		if lax != strict {
			t.Fatalf("%q: decodeStrict %+v, encoding/json %+v", body, strict, lax)
		}
	})
}
