package main

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheck_ClaimNumbersInExponentForm: the admin API of 2026-12-04 and
// before wrote claim numbers as yaml.v3 does (1e+06 for a million, 1.5e-07,
// 2e+19), which check and serve refuse, since the file would be sent
// otherwise than written (docs/configuration.md, users[].claims). Each
// refusal names the file and line and what to write; what it says to write
// loads, and a login's ID token carries those bytes. 2e+19's message said
// "write 20000000000000000000", which check refused in turn (a whole number
// beyond 64 bits): it now says to quote it. 1e400, beyond a float, was
// taken as the text "1e400" and sent as a string.
func TestCheck_ClaimNumbersInExponentForm(t *testing.T) {
	demo, err := os.ReadFile("../../fixtures/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const line = "    claims: {department: R&D}\n"
	if !strings.Contains(string(demo), line) {
		t.Fatal("fixtures/demo.yaml: alice's claims moved")
	}
	write := func(claims string) string {
		file := filepath.Join(t.TempDir(), "idp.yaml")
		src := strings.Replace(string(demo), line, "    claims: {department: R&D, "+claims+"}\n", 1)
		if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		return file
	}
	for _, c := range []struct{ claims, want string }{
		{"n: 1e+06", `users[0].claims.n: 1e+06 reads as the number 1000000; quote it ("1e+06") to send the text, or write 1000000`},
		{"f: 1.5e-07", `users[0].claims.f: 1.5e-07 reads as the number 1.5e-7; quote it ("1.5e-07") to send the text, or write 1.5e-7`},
		{"b: 1e400", `users[0].claims.b: 1e400 is a number beyond what a float holds (YAML reads it as the text "1e400"); quote it ("1e400") to send the text`},
		{"q: 2e+19", `users[0].claims.q: 2e+19 reads as the number 20000000000000000000, a whole number too large to hold exactly; quote it ("2e+19") to send the text, or ("20000000000000000000") to send the digits`},
	} {
		file := write(c.claims)
		code, _, stderr := runCLI(t, "check", "--config", file)
		if want := file + ":37: " + c.want; code != exitUsage || !strings.Contains(stderr, want) {
			t.Errorf("check %s: exit %d, %s\nwant exit %d and %s", c.claims, code, stderr, exitUsage, want)
		}
	}
	file := write(`n: 1000000, f: 1.5e-7, q: "20000000000000000000"`)
	if code, _, stderr := runCLI(t, "check", "--config", file); code != 0 {
		t.Fatalf("check of what the messages say to write: exit %d, %s", code, stderr)
	}
	tokens := loginAlice(t, startServe(t, "--config", file))
	parts := strings.Split(tokens["id_token"].(string), ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"n":1000000,`, `"f":1.5e-7,`, `"q":"20000000000000000000"`} {
		if !strings.Contains(string(payload), want) {
			t.Errorf("the ID token's claims lack %s: %s", want, payload)
		}
	}
}

// TestCheck_ClaimWholeNumberBeyond2To53Warns: a whole number in claims
// that a reader holding JSON numbers as doubles (JavaScript) reads as
// another number is sent as written, with a warning at its line naming
// what such a reader gets; 2^53 itself, and 2^63 (a double exactly), are
// not warned of.
func TestCheck_ClaimWholeNumberBeyond2To53Warns(t *testing.T) {
	demo, err := os.ReadFile("../../fixtures/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "idp.yaml")
	src := strings.Replace(string(demo), "    claims: {department: R&D}\n",
		"    claims: {department: R&D, a: 9007199254740993, b: 9007199254740992, c: -9007199254740993, d: 9223372036854775808, e: [18446744073709551615]}\n", 1)
	if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runCLI(t, "check", "--config", file)
	if code != 0 {
		t.Fatalf("check: exit %d, %s", code, stderr)
	}
	all := out + stderr
	for _, want := range []string{
		file + `:37: warning: users[0].claims.a: 9007199254740993 is beyond 2^53, and readers that hold JSON numbers as doubles (JavaScript) read it as 9007199254740992; quote it ("9007199254740993") to send the text`,
		file + `:37: warning: users[0].claims.c: -9007199254740993 is beyond 2^53, and readers that hold JSON numbers as doubles (JavaScript) read it as -9007199254740992`,
		file + `:37: warning: users[0].claims.e[0]: 18446744073709551615 is beyond 2^53, and readers that hold JSON numbers as doubles (JavaScript) read it as 18446744073709552000`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("check does not warn %s:\n%s", want, all)
		}
	}
	for _, not := range []string{"claims.b:", "claims.d:"} {
		if strings.Contains(all, not) {
			t.Errorf("check warns of a number doubles hold exactly (%s):\n%s", not, all)
		}
	}
}
