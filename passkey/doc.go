// Package passkey adds passkeys (WebAuthn) to a session.Manager: a signed-in
// user who proved who they are recently (Config.RecentAuth) registers one,
// anyone signs in with one without typing a username (including from the
// browser's autofill), and a signed-in user confirms with one that it is
// still them before something sensitive — a step-up that records a fresh
// proof on the current session and creates none.
//
// A Handler serves the JSON endpoints and a small browser script that calls
// navigator.credentials.create and get with the options they return. A
// Store keeps the passkeys: NewMemoryStore, or package pgpasskey on
// PostgreSQL; package passkeytest checks any Store.
//
// The package lives in a module of its own, on
// github.com/go-webauthn/webauthn, so the session module never depends on
// it.
package passkey
