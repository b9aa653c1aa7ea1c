package admin

import (
	"context"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// TestHashPatchPasswords_OneHashPerPatch: a PATCH that sets the password
// many times keeps the last, and the last alone is hashed: a bcrypt hash
// per password let one 1 MiB body of ~20,000 of them hold a core for
// many minutes. Every password is still checked against bcrypt's bound.
func TestHashPatchPasswords_OneHashPerPatch(t *testing.T) {
	ops := []scimOp{
		{op: "replace", path: "password", value: "first-password"},
		{op: "replace", value: map[string]any{"password": "second-password", "active": true}},
		{op: "add", path: "urn:ietf:params:scim:schemas:core:2.0:User:password", value: "third-password"},
		{op: "replace", path: "active", value: false},
	}
	if err := hashPatchPasswords(context.Background(), ops); err != nil {
		t.Fatal(err)
	}
	first, ok1 := ops[0].value.(hashedPassword)
	obj, _ := ops[1].value.(map[string]any)
	second, ok2 := obj["password"].(hashedPassword)
	third, ok3 := ops[2].value.(hashedPassword)
	if !ok1 || !ok2 || !ok3 {
		t.Fatalf("not every password was replaced by a hash: %#v", ops)
	}
	if first != third || second != third {
		t.Error("the passwords were hashed one by one (a bcrypt hash each), not once for the PATCH")
	}
	if err := bcrypt.CompareHashAndPassword([]byte(third), []byte("third-password")); err != nil {
		t.Errorf("the hash is not the last password's: %v", err)
	}
	if obj["active"] != true || ops[3].value != false {
		t.Errorf("other values changed: %#v", ops)
	}

	// An early password beyond the bound is refused, as before.
	bad := []scimOp{
		{op: "replace", path: "password", value: string(make([]byte, 73))},
		{op: "replace", path: "password", value: "fine-password"},
	}
	if err := hashPatchPasswords(context.Background(), bad); err == nil {
		t.Error("a 73-byte password was taken because a later one is fine")
	}
}
