package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBcryptCostIsBounded: a password_bcrypt of cost 31 (the most bcrypt
// allows) passed check and serve, and then every failed login, with any
// username, ran a bcrypt check of that cost (hours of CPU: an unknown
// username is checked at the highest cost of the users' hashes), holding
// the bcrypt slots, so that no one could sign in any more. check and
// serve now refuse a cost above 14 at its line, saying what to make.
func TestBcryptCostIsBounded(t *testing.T) {
	file := filepath.Join(t.TempDir(), "idp.yaml")
	config := "users:\n  - username: alice\n    password_bcrypt: \"$2a$31$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy\"\n" +
		"  - username: bob\n    password_bcrypt: \"$2y$14$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy\"\n"
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	want := file + ":3: users[0].password_bcrypt: cost 31 is above 14"
	for _, args := range [][]string{{"check", "--config", file}, {"serve", "--config", file, "--addr", "127.0.0.1:0"}} {
		code, stderr := runCLIFor(t, 20*time.Second, args...)
		if code != 2 || !strings.Contains(stderr, want) || strings.Contains(stderr, "users[1]") {
			t.Errorf("%s: exit %d, want 2 with %q alone:\n%s", args[0], code, want, stderr)
		}
	}
}
