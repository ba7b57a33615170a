package passkey_test

import (
	"testing"

	"github.com/sessionauth/session/passkey"
	"github.com/sessionauth/session/passkey/passkeytest"
)

func TestMemoryStoreConformance(t *testing.T) {
	t.Parallel()
	passkeytest.Run(t, func(t *testing.T) passkey.Store { return passkey.NewMemoryStore() })
}
