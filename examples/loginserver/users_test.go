package main

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestNormalizeUsernameFoldsCaseAndChecksRules(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Alice": "alice", " bob ": "bob", "a.b_c-d@example.com": "a.b_c-d@example.com",
		"ab": "", "b o b": "", "zoë": "", "\u212Aen": "", strings.Repeat("a", 65): "", "<script>": "",
	} {
		got, err := normalizeUsername(in)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("normalizeUsername(%q) = %q, %v; want %q", in, got, err, want)
		}
		if err != nil && !errors.Is(err, errInvalidUsername) {
			t.Errorf("error %v", err)
		}
	}
}

func TestDemoUserIDStableAcrossRestarts(t *testing.T) {
	t.Parallel()
	a, err := newMemoryUsers().addDemo("demo", "h1")
	if err != nil {
		t.Fatal(err)
	}
	b, err := newMemoryUsers().addDemo("demo", "h2")
	if err != nil {
		t.Fatal(err)
	}
	c, err := newMemoryUsers().addDemo("someone", "h1")
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != b.ID || a.ID == c.ID {
		t.Fatalf("IDs %q %q %q: want the first two equal, the third different", a.ID, b.ID, c.ID)
	}
	// Registered users get random IDs.
	u1, _ := newMemoryUsers().Create(context.Background(), "x1x", "h")
	u2, _ := newMemoryUsers().Create(context.Background(), "x1x", "h")
	if u1.ID == u2.ID {
		t.Fatal("registered users' IDs repeat")
	}
}
