package passkey

import (
	"bytes"
	"encoding/json"
)

// The keys a credential's JSON may have, as passkey.js sends it (the
// WebAuthn JSON form). go-webauthn decodes it with encoding/json, which
// matches keys case-insensitively and lets the last of two equal keys win;
// checkCredentialKeys refuses a credential that would read differently to
// a parser that does neither, before go-webauthn sees it.
var (
	credentialKeys = map[string]bool{"id": true, "rawId": true, "type": true,
		"authenticatorAttachment": true, "clientExtensionResults": true, "response": true}
	attestationKeys = map[string]bool{"clientDataJSON": true, "attestationObject": true, "transports": true,
		"authenticatorData": true, "publicKey": true, "publicKeyAlgorithm": true}
	assertionKeys = map[string]bool{"clientDataJSON": true, "authenticatorData": true, "signature": true, "userHandle": true}
)

// checkCredentialKeys checks that the credential b and its response object
// have only the keys named (response: those of an attestation when
// registering, of an assertion otherwise), each once and spelled exactly.
// The extension results are not looked into: go-webauthn keeps them as
// they come.
func checkCredentialKeys(b []byte, registering bool) error {
	response := assertionKeys
	if registering {
		response = attestationKeys
	}
	return checkObjectKeys(json.NewDecoder(bytes.NewReader(b)), credentialKeys, map[string]map[string]bool{"response": response})
}

// checkObjectKeys reads one JSON object from dec and checks its keys
// against allowed; the value of a key in nested is an object checked in
// turn against nested[key]'s keys.
func checkObjectKeys(dec *json.Decoder, allowed map[string]bool, nested map[string]map[string]bool) error {
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return errBadRequest
	}
	seen := make(map[string]bool, len(allowed))
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return errBadRequest
		}
		key, _ := tok.(string)
		if !allowed[key] || seen[key] {
			return errBadRequest
		}
		seen[key] = true
		if keys, ok := nested[key]; ok {
			if err := checkObjectKeys(dec, keys, nil); err != nil {
				return err
			}
			continue
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return errBadRequest
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return errBadRequest
	}
	return nil
}
