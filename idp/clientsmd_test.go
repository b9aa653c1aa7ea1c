package idp_test

// The wire habits of the clients of docs/interop.md at the IdP alone,
// where the walk of idptest/clientsmd_test.go found the IdP less tolerant
// than a client is: each case is one of the client behaviours docs/interop.md lists.

import (
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/internal/rawbasic"
	"github.com/xaa-idp/xaa-idp/policy"
)

// colonClientConfig is the conformance fixture with a confidential client
// whose client_id and secret hold ':' (and the characters form-encoding
// changes), and one whose client_id is the prefix of another's up to a
// ':', which must keep its own credentials.
func colonClientConfig(t *testing.T) string {
	t.Helper()
	return conformanceWithClients(t, `  - client_id: urn:acme:agent
    client_secret: "p:w+d%/="
    redirect_uris: [http://127.0.0.1/callback]
    token_exchange: true
  - client_id: urn:acme
    client_secret: acme-secret
    redirect_uris: [http://127.0.0.1/callback]
    token_exchange: true
`, "      urn:acme:agent: urn:chat:agent\n      urn:acme: urn:chat:acme\n")
}

// TestClientsMD_RawBasicWithColonsInTheClientID: docs/interop.md has some
// clients form-URL-encode Basic credentials and others not ("decode
// them"). A client that does not (curl -u, Python's HTTPBasicAuth, the
// TypeScript SDK's btoa(id + ":" + secret)) sends a client_id holding ':'
// as it is, and Basic splits at the first ':' (RFC 7617 section 2). The
// IdP refused it ("client_id 'urn' is not registered"), though the demo
// authorization servers take it: when the text before the first ':' names
// no client, the longest prefix before a later ':' that names a configured
// client is the client_id and the rest its secret, at every endpoint that
// takes Basic. A client_id that is itself registered keeps the first ':'.
func TestClientsMD_RawBasicWithColonsInTheClientID(t *testing.T) {
	p := startIdP(t, loadConfig(t, colonClientConfig(t)))
	f := &fixture{testIdP: p}
	t.Cleanup(func() { f.checkAuditHasNoTokens(t) })
	raw := basicRaw("urn:acme:agent", "p:w+d%/=")

	// The code grant, as the client sends it.
	code, verifier := codeAt(t, p, "urn:acme:agent")
	resp, tok := f.exchange(t, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {"http://127.0.0.1/callback"}, "code_verifier": {verifier}}, raw)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("code grant with raw Basic holding ':': %d %v", resp.StatusCode, tok)
	}
	// The refresh grant.
	resp, tok = f.exchange(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}, raw)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh grant with raw Basic holding ':': %d %v", resp.StatusCode, tok)
	}
	// The token exchange, its audit event under the client.
	f.expectIDJAG(t, grantCase{form: b(tok["id_token"].(string)), header: raw, sub: "u-alice", aud: chatAS, clientID: "urn:chat:agent", resource: chatMCP, scope: "chat.read"})
	if ev := f.exchangeEvents()[0]; ev.ClientID != "urn:acme:agent" {
		t.Errorf("the exchange was audited under client %q, want urn:acme:agent", ev.ClientID)
	}
	// Introspection and revocation.
	if got := postJSON(t, p.URL+"/oauth/introspect", url.Values{"token": {tok["access_token"].(string)}}, raw, http.StatusOK); got["active"] != true || got["client_id"] != "urn:acme:agent" {
		t.Errorf("introspection with raw Basic holding ':': %v, want the token active, of urn:acme:agent", got)
	}
	postJSON(t, p.URL+"/revoke", url.Values{"token": {tok["refresh_token"].(string)}, "token_type_hint": {"refresh_token"}}, raw, http.StatusOK)
	resp, body := f.exchange(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}, raw)
	checkOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")

	// The wrong secret is refused, as with encoded credentials.
	resp, body = f.exchange(t, b(tok["id_token"].(string)), basicRaw("urn:acme:agent", "p:w+d%/"))
	checkOAuthError(t, resp, body, http.StatusUnauthorized, "invalid_client")

	// "urn:acme" is a client: its credentials split at the first ':', and
	// "urn:acme:agent:..." with urn:acme's secret is not urn:acme:agent.
	acme := f.login(t, "urn:acme", "acme-secret", "alice", "alice-pw", "openid").IDToken()
	f.remember(acme)
	f.expectIDJAG(t, grantCase{form: b(acme), header: basicRaw("urn:acme", "acme-secret"), sub: "u-alice", aud: chatAS, clientID: "urn:chat:acme", resource: chatMCP, scope: "chat.read"})
	resp, body = f.exchange(t, b(acme), basicRaw("urn:acme", "agent:acme-secret"))
	checkOAuthError(t, resp, body, http.StatusUnauthorized, "invalid_client")

	// A client_id with ':' that names no client keeps the hint to encode.
	resp, body = f.exchange(t, b(acme), basicRaw("urn:other:agent", "s"))
	checkOAuthError(t, resp, body, http.StatusUnauthorized, "invalid_client")
	if d, _ := body["error_description"].(string); !strings.Contains(d, "form-URL-encoded") {
		t.Errorf("unknown raw client_id with ':': %q, want the hint to form-URL-encode it", d)
	}
}

// TestClientsMD_RawBasicSplitIsBounded: finding the client_id of raw Basic
// credentials holding ':' tries the text before each later ':' as a
// client_id. Every prefix of a header of tens of kilobytes of ':' was
// built and looked up, each as long as the header: about a gigabyte of
// work for one request anyone may send. No configured client_id is longer
// than the configuration admits (policy.MaxURLBytes), so no longer prefix
// is tried: the request is refused as any unknown client, and costs no
// more than a few copies of its header.
func TestClientsMD_RawBasicSplitIsBounded(t *testing.T) {
	p := startIdP(t, loadConfig(t, colonClientConfig(t)))
	f := &fixture{testIdP: p}
	// 48 KiB of ':' after "urn": 64 KiB once base64-encoded, what serve's
	// header limit admits.
	raw := basicRaw("urn", strings.Repeat(":", 48<<10))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	resp, body := f.exchange(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"unknown"}}, raw)
	runtime.ReadMemStats(&after)
	checkOAuthError(t, resp, body, http.StatusUnauthorized, "invalid_client")
	// Measured: about 1.2 GB before the bound, a few MB after; other
	// tests' goroutines of the package allocate meanwhile, hence the slack.
	got := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %d KB", got>>10)
	if got > 256<<20 {
		t.Errorf("one request with a 64 KiB Basic header of ':' allocated %d MB, want well under 256 MB", got>>20)
	}
}

// TestClientsMD_RawBasicFindsEveryConfigurableClientID: raw Basic
// credentials are searched for client_ids up to rawbasic.MaxClientIDBytes;
// a longer one the configuration admitted could never authenticate so.
func TestClientsMD_RawBasicFindsEveryConfigurableClientID(t *testing.T) {
	if policy.MaxURLBytes > rawbasic.MaxClientIDBytes {
		t.Errorf("the configuration admits client_ids of %d bytes; raw Basic credentials are searched for ones of %d at most", policy.MaxURLBytes, rawbasic.MaxClientIDBytes)
	}
}
