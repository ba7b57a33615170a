package sessiontest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sessionauth/session"
	"github.com/sessionauth/session/sessiontest"
)

// addToCart is the handler under test.
func addToCart(w http.ResponseWriter, r *http.Request) {
	s := session.FromContext(r.Context())
	if s.UserID() == "" {
		http.Error(w, "sign in first", http.StatusUnauthorized)
		return
	}
	s.Set("cart", r.FormValue("item"))
	w.WriteHeader(http.StatusNoContent)
}

func Example() {
	t := &testing.T{} // in a test, the test's own t
	h := sessiontest.New(t)
	h.SignIn("alice", nil)
	w := h.Do(http.HandlerFunc(addToCart), httptest.NewRequest("POST", "/cart?item=book", nil))
	s := h.Session()
	fmt.Println(w.Code, s.UserID(), s.Get("cart"))
	// Output: 204 alice book
}
