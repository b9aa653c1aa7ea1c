package redact_test

import (
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/internal/redact"
)

// TestTokens: a JWS or JWE keeps only its header, and a refresh token its
// "rt_", wherever it stands in the text; text without one, and text
// already redacted, stay as they are.
func TestTokens(t *testing.T) {
	jws := "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"
	jwe := "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..aXY.Y2lwaGVy.dGFn"
	for _, tt := range []struct{ in, want string }{
		{"client_id " + jws + " is unknown", "client_id eyJhbGciOiJFUzI1NiJ9…[token redacted] is unknown"},
		{jwe, "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0…[token redacted]"},
		{"a.b.c and eyJ alone", "a.b.c and eyJ alone"},
		{"mcp-client", "mcp-client"},
		{`client_id "rt_7zFtyKrfUqqwVbGd2omFpuj9aYCRl5_7V_hurebs6ic" is unknown`, `client_id "rt_…[token redacted]" is unknown`},
		{"crm.read rt_7zFtyKrfUqqwVbGd2omFpuj9aYCRl5_7V_hurebs6ic", "crm.read rt_…[token redacted]"},
		{"start_7zFtyKrfUqqwVbGd2omFpuj9aYCRl5_7V_hurebs6ic rt_short", "start_7zFtyKrfUqqwVbGd2omFpuj9aYCRl5_7V_hurebs6ic rt_short"},
		{"rt_7zFtyKrfUqqwVbGd2omFpuj9aYCRl5_7V_hurebs6ic", "rt_…[token redacted]"},
		{"cb%3Frefresh%3Drt_7zFtyKrfUqqwVbGd2omFpuj9aYCRl5_7V_hurebs6ic%26x", "cb%3Frefresh%3Drt_…[token redacted]%26x"},
		{"a/rt_7zFtyKrfUqqwVbGd2omFpuj9aYCRl5_7V_hurebs6ic/rt_7zFtyKrfUqqwVbGd2omFpuj9aYCRl5_7V_hurebs6ic", "a/rt_…[token redacted]/rt_…[token redacted]"},
	} {
		got := redact.Tokens(tt.in)
		if got != tt.want {
			t.Errorf("Tokens(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if again := redact.Tokens(got); again != got {
			t.Errorf("applied twice: %q, then %q", got, again)
		}
		if strings.Contains(got, "c2lnbmF0dXJl") || strings.Contains(got, "Y2lwaGVy") || strings.Contains(tt.want, "rt_…") && strings.Contains(got, "hurebs6ic") {
			t.Errorf("%q keeps a signature or ciphertext", got)
		}
	}
}

// TestURL: a URL's password is masked, the rest kept as written; one that
// does not parse loses its whole userinfo; a user without a password, often
// a token, is masked whole; one without userinfo is kept.
func TestURL(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"https://rcv:pw@host/events", "https://rcv:xxxxx@host/events"},
		{"https://rcv:p w@host/events", "https://xxxxx@host/events"},
		{"https://rcv:p w@host/a@b", "https://xxxxx@b"},
		{"https://rcv:s3cr/et@as.crm.example/events", "https://xxxxx@as.crm.example/events"},
		{"https://rcv:s3cr?et@as.crm.example/events", "https://xxxxx@as.crm.example/events"},
		{"https://host/events", "https://host/events"},
		{"HTTPS://rcv:pw@host/ev ents?", "HTTPS://rcv:xxxxx@host/ev ents?"},
		{"HTTPS://rcv@host/ev ents?", "HTTPS://xxxxx@host/ev ents?"},
		{"https://tok3n-s3cret@host/events", "https://xxxxx@host/events"},
		{"https://@host/events", "https://@host/events"},
		{"https://rcv:@host/events", "https://rcv:xxxxx@host/events"},
		{"https://r%40cv:p%40w@host/events?a=b@c", "https://r%40cv:xxxxx@host/events?a=b@c"},
		{"https://host/a b%zz@c", "https://xxxxx@c"},
	} {
		if got := redact.URL(tt.in); got != tt.want {
			t.Errorf("URL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
