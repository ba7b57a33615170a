// Package password hashes and verifies passwords and checks new ones against
// a length policy.
//
// New hashes are argon2id with OWASP's parameters (19 MiB of memory, 2 passes,
// 1 lane, a 16-byte random salt, a 32-byte key), written as a PHC string:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// where salt and key are unpadded standard base64. Verify also accepts bcrypt
// hashes ($2a$, $2b$, $2y$) made elsewhere (Node's bcrypt, Rails'
// has_secure_password, PHP's password_hash), so an application can import an
// existing user table. This package never makes bcrypt hashes: a bcrypt hash
// always verifies with needsRehash set, so users move to argon2id the next
// time they sign in, and a hash made by Hash never asks to be re-hashed by
// Verify with the same Params.
//
// The cost can be raised later without new API: hash and verify through a
// Params with more memory or passes, and Verify reports needsRehash for every
// stored hash below it, so hashes are upgraded at sign-in.
//
// A sign-in handler looks like this:
//
//	u, found := users.Lookup(name)
//	if !found {
//		password.DummyVerify(pw) // same work, same time as a wrong password
//		return errInvalidCredentials
//	}
//	match, needsRehash, err := password.Verify(pw, u.Hash)
//	if err != nil || !match {
//		return errInvalidCredentials // log err: it means bad data in the user store
//	}
//	if needsRehash {
//		if h, err := password.Hash(pw); err == nil {
//			users.SetHash(u, h)
//		}
//	}
//
// Passwords are hashed byte for byte as given: any Unicode, never truncated,
// at most MaxBytes bytes (72 against a bcrypt hash). An application that wants
// Unicode normalization applies it before validating, hashing and verifying.
//
// Every function is safe for concurrent use. Each Hash, Verify or DummyVerify
// with the default parameters costs one argon2id derivation: about 19 MiB of
// memory and a few tens of milliseconds of one core, so bound how many run at
// once (package throttle's Guard does).
package password
