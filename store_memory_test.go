package session_test

import (
	"testing"

	"github.com/sessionauth/session"
	"github.com/sessionauth/session/storetest"
)

func TestMemoryStoreConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) session.Store { return session.NewMemoryStore() })
}
