package main

import (
	"strings"
	"testing"
)

// TestExchange_QuotedSubjectToken: a script that takes the ID token with
// 'jq .id_token' (without -r) passes it in JSON's double quotes, which the
// IdP refuses as "not a signed JWT: illegal base64 data at input byte 0",
// naming neither the quotes nor jq. A token never starts or ends with a
// double quote: exchange says so before sending anything, and what to
// write instead. Exit 2; nothing listens on the issuer.
func TestExchange_QuotedSubjectToken(t *testing.T) {
	base := []string{"exchange", "--issuer", "http://127.0.0.1:1", "--client-id", "c", "--audience", "https://as.example"}
	for _, c := range []struct{ flag, member string }{{"--id-token", "id_token"}, {"--refresh-token", "refresh_token"}} {
		code, out, stderr := runCLI(t, append(base, c.flag, `"eyJhbGciOiJSUzI1NiJ9.e30.c2ln"`)...)
		want := c.flag + " is in double quotes, as 'jq ." + c.member + "' prints it: use 'jq -r ." + c.member + "', or 'xaa-idp login --print " + c.member + "'"
		if code != exitUsage || out != "" || !strings.Contains(stderr, want) {
			t.Errorf("%s \"...\": exit %d, stdout %q, stderr %q; want exit %d saying %q", c.flag, code, out, stderr, exitUsage, want)
		}
	}
}
