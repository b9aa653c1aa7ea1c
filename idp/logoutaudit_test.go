package idp_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
)

// TestEndSession_RefusalIsAudited: each refused end_session request (an
// invalid or foreign id_token_hint, a client_id other than its azp or not
// registered, a repeated parameter, an unregistered
// post_logout_redirect_uri) writes one logout event with outcome error,
// the OAuth error code the client got and why, and never the hint nor
// any part of it; what the request sent is bounded as in every event.
func TestEndSession_RefusalIsAudited(t *testing.T) {
	f := &fixture{testIdP: startConformanceIdP(t)}
	t.Cleanup(func() { f.checkAuditHasNoTokens(t) })
	br := newBrowser(f.testIdP)
	idToken := br.codeTokens(t)["id_token"].(string)
	f.remember(idToken)
	foreign := newBrowser(startConformanceIdP(t)).codeTokens(t)["id_token"].(string)
	f.remember(foreign)
	parts := strings.Split(idToken, ".")
	sig := []byte(parts[2])
	sig[len(sig)/2] ^= 1
	badSig := parts[0] + "." + parts[1] + "." + string(sig)
	long := strings.Repeat("x", 20000)

	for _, c := range []struct {
		name, code, reason string
		status             int
		q                  url.Values
	}{
		{"malformed hint", "invalid_request", "id_token_hint", 400, url.Values{"id_token_hint": {"not-a-jwt-but-a-secret-looking-value"}}},
		{"hint with a bad signature", "invalid_request", "id_token_hint", 400, url.Values{"id_token_hint": {badSig}}},
		{"hint of another issuer", "invalid_request", "id_token_hint", 400, url.Values{"id_token_hint": {foreign}}},
		{"client_id other than the hint's azp", "invalid_request", "client_id", 400, url.Values{"id_token_hint": {idToken}, "client_id": {"other-client"}}},
		{"unregistered client_id", "invalid_client", "client", 401, url.Values{"client_id": {"nobody"}}},
		{"repeated parameter", "invalid_request", `"state"`, 400, url.Values{"id_token_hint": {idToken}, "state": {"a", "b"}}},
		{"unregistered post_logout_redirect_uri", "invalid_request", "post_logout_redirect_uri", 400,
			url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {"https://evil.example/" + long}}},
		{"long client_id", "invalid_client", "client", 401, url.Values{"client_id": {long}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := len(f.Audit.Query(audit.Filter{Type: audit.TypeLogout, Limit: audit.DefaultCapacity}))
			resp, err := br.hc.Get(f.URL + "/end_session?" + c.q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]any
			err = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if err != nil {
				t.Fatalf("end_session answered %s with a non-JSON body: %v", resp.Status, err)
			}
			checkOAuthError(t, resp, body, c.status, c.code)
			evs := f.Audit.Query(audit.Filter{Type: audit.TypeLogout, Limit: audit.DefaultCapacity})
			if len(evs) != before+1 {
				t.Fatalf("%d logout events after the refusal, want %d: %+v", len(evs), before+1, evs)
			}
			ev := evs[0]
			if evs[len(evs)-1].ID > ev.ID {
				ev = evs[len(evs)-1]
			}
			if ev.Outcome != audit.Error || ev.Error != c.code || !strings.Contains(ev.Reason, c.reason) {
				t.Errorf("event %+v, want outcome error, error %s and a reason naming %s", ev, c.code, c.reason)
			}
			// A repeated parameter is refused before the hint is read.
			if c.q.Get("id_token_hint") == idToken && len(c.q["state"]) < 2 && (ev.User != "alice" || ev.Sub != "u-alice") {
				t.Errorf("the event of a valid hint names user %q sub %q, want alice u-alice", ev.User, ev.Sub)
			}
			raw, _ := json.Marshal(ev)
			for _, hint := range c.q["id_token_hint"] {
				for _, part := range append(strings.Split(hint, "."), hint) {
					if len(part) >= 8 && strings.Contains(string(raw), part) {
						t.Errorf("the event holds part of the hint (%.20s…): %s", part, raw)
					}
				}
			}
			for _, s := range []string{ev.Reason, ev.ClientID} {
				if len(s) > audit.MaxTextBytes {
					t.Errorf("a field of %d bytes: %.80s…", len(s), s)
				}
			}
		})
	}
	// Nothing was ended: the session still yields codes.
	_, ch := pkce()
	params := authParams(callback, ch)
	params.Set("prompt", "none")
	if res := br.authorize(t, params, "", ""); res.location == nil || res.location.Query().Get("code") == "" {
		t.Errorf("prompt=none after refused end_session requests: %+v, want a code", res)
	}
	if evs := f.Audit.Query(audit.Filter{Type: audit.TypeLogout, Outcome: audit.Allowed}); len(evs) != 0 {
		t.Errorf("a refused end_session audits an ended session: %+v", evs)
	}
}
