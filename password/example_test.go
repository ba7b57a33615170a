package password_test

import (
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/sessionauth/session/password"
)

func ExampleHash() {
	h, err := password.Hash("correct horse battery staple")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$"))
	// Output: true
}

func ExampleVerify() {
	stored, _ := password.Hash("correct horse battery staple")

	match, needsRehash, err := password.Verify("correct horse battery staple", stored)
	fmt.Println(match, needsRehash, err)
	match, needsRehash, err = password.Verify("Tr0ub4dor&3", stored)
	fmt.Println(match, needsRehash, err)
	// Output:
	// true false <nil>
	// false false <nil>
}

// A bcrypt hash imported from another system verifies and asks to be
// replaced by an argon2id hash.
func ExampleVerify_bcrypt() {
	const fromRails = "$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga"
	match, needsRehash, err := password.Verify("allmine", fromRails)
	fmt.Println(match, needsRehash, err)
	// Output: true true <nil>
}

// Raising the cost: hash and verify through a Params. Stored hashes below it
// are reported for a rehash at the user's next sign-in.
func ExampleParams_Verify() {
	stored, _ := password.Hash("a long passphrase")

	p := password.Params{
		Memory: 47104, // 46 MiB
		Time:   1,     // OWASP's equivalent of 19 MiB × 2
	}
	if err := p.Validate(); err != nil { // at start-up: ErrInvalidConfig
		log.Fatal(err)
	}
	match, needsRehash, _ := p.Verify("a long passphrase", stored)
	fmt.Println(match, needsRehash)

	upgraded, _ := p.Hash("a long passphrase")
	match, needsRehash, _ = p.Verify("a long passphrase", upgraded)
	fmt.Println(match, needsRehash)
	// Output:
	// true true
	// true false
}

func ExamplePolicy_Validate() {
	policy := password.Policy{MinLength: 15} // NIST's minimum when the password is the only factor
	for _, pw := range []string{"hunter2", "correct horse battery staple", "密码密码密码密码密码密码密码密码", "\xff\xfe not text \xff\xfe"} {
		err := policy.Validate(pw)
		switch {
		case errors.Is(err, password.ErrTooShort):
			fmt.Printf("too short: at least %d characters\n", policy.MinLength)
		case errors.Is(err, password.ErrTooLong):
			fmt.Printf("too long: at most %d bytes\n", password.MaxBytes)
		case errors.Is(err, password.ErrNotUTF8):
			fmt.Println("not text")
		default:
			fmt.Println("ok")
		}
	}
	// Output:
	// too short: at least 15 characters
	// ok
	// ok
	// not text
}

// An unknown user costs what a wrong password costs, so neither the answer
// nor its timing tells whether the account exists.
func ExampleDummyVerify() {
	users := map[string]string{} // username → stored hash
	signIn := func(name, pw string) bool {
		stored, found := users[name]
		if !found {
			password.DummyVerify(pw)
			return false
		}
		match, _, err := password.Verify(pw, stored)
		if errors.Is(err, password.ErrInvalidHash) {
			log.Printf("user %q: %v", name, err) // bad data in the user store
		}
		return match && err == nil
	}
	fmt.Println(signIn("nobody", "guess"))
	// Output: false
}
