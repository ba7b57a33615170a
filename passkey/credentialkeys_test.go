package passkey

import "testing"

func TestCredentialKeysMustBeExactAndUnique(t *testing.T) {
	t.Parallel()
	const assertion = `{"id":"AA","rawId":"AA","type":"public-key","clientExtensionResults":{"Any":1,"any":2},"response":{"clientDataJSON":"e30","authenticatorData":"AA","signature":"AA","userHandle":"AA"}}`
	const attestation = `{"id":"AA","rawId":"AA","type":"public-key","authenticatorAttachment":"platform","clientExtensionResults":{},"response":{"clientDataJSON":"e30","attestationObject":"oA","transports":["internal"]}}`
	tests := []struct {
		name        string
		body        string
		registering bool
		ok          bool
	}{
		{"an assertion as passkey.js sends it", assertion, false, true},
		{"an attestation as passkey.js sends it", attestation, true, true},
		{"a key in another case", `{"id":"AA","rawId":"AA","TYPE":"public-key","response":{}}`, false, false},
		{"a key twice", `{"id":"AA","id":"BB","rawId":"AA","type":"public-key","response":{}}`, false, false},
		{"a case variant before the key", `{"ID":"AA","id":"BB","response":{}}`, false, false},
		{"a response key in another case", `{"id":"AA","response":{"clientDataJSON":"e30","SIGNATURE":"AA"}}`, false, false},
		{"a response key twice", `{"id":"AA","response":{"signature":"AA","signature":"BB"}}`, false, false},
		{"an unknown key", `{"id":"AA","extra":1}`, false, false},
		{"an assertion's response when registering", assertion, true, false},
		{"an attestation's response when signing in", attestation, false, false},
		{"a response that is not an object", `{"id":"AA","response":"x"}`, false, false},
		{"not an object", `["id"]`, false, false},
		{"cut short", `{"id":"AA","response":{"signature":"AA"}`, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := checkCredentialKeys([]byte(tc.body), tc.registering); (err == nil) != tc.ok {
				t.Fatalf("checkCredentialKeys(%s) = %v, want ok %v", tc.body, err, tc.ok)
			}
		})
	}
}
