package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/idpclient"
)

// crashLoopConfig has two tenants, whose IdPs share the audit log and keep
// their refresh tokens and ended logins apart under tenants/<id>/.
const crashLoopConfig = `tenants:
  - id: acme
    users:
      - {username: alice, password: alice, admin: true, groups: [eng]}
    groups: [{name: eng}]
    clients:
      - {client_id: mcp-client, client_secret: mcp-secret, redirect_uris: ["http://127.0.0.1/callback"], token_exchange: true}
    mcp_servers:
      - id: files
        issuer: https://as.files.example
        resources: [https://mcp.files.example/mcp]
        scopes: [files.read]
        clients: {mcp-client: mcp-client-at-files}
        access: [{groups: [eng], scopes: [files.read]}]
  - id: beta
    users:
      - {username: alice, password: alice, admin: true, groups: [eng]}
    groups: [{name: eng}]
    clients:
      - {client_id: mcp-client, client_secret: mcp-secret, redirect_uris: ["http://127.0.0.1/callback"], token_exchange: true}
    mcp_servers:
      - id: files
        issuer: https://as.files.example
        resources: [https://mcp.files.example/mcp]
        scopes: [files.read]
        clients: {mcp-client: mcp-client-at-files}
        access: [{groups: [eng], scopes: [files.read]}]
`

// loopLogin is a login the loop drives: its newest refresh token and ID
// token as answered, and whether a request of it went unanswered (the
// kill came first: the token may or may not have been rotated or ended).
type loopLogin struct {
	tenant, refresh, idToken string
	unanswered               bool
}

type loopAcks struct {
	mu       sync.Mutex
	logins   []*loopLogin // refreshable as last answered
	ended    []*loopLogin // signed out, answered
	jtis     map[string]string
	answered int
}

// TestServe_KilledUnderTokenLoadKeepsWhatItAnswered starts the binary on a
// file with two tenants, drives logins, refreshes, token exchanges and
// sign-outs at both at once, kills it with SIGKILL at a random moment and
// starts it again on the same state directory, four times over. After each
// start: every line of the shared audit log parses, every exchange
// answered 200 has its event (with its tenant), every refresh token last
// answered still refreshes, and every login signed out (answered) stays
// ended: its ID token is refused at the exchange and its refresh token at
// the refresh grant. The other crash tests edit the configuration under a
// kill; this one holds the token endpoint and the state of tenants to what
// they answered.
func TestServe_KilledUnderTokenLoadKeepsWhatItAnswered(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills the binary")
	}
	file, state := endedFiles(t, crashLoopConfig)
	addr := "127.0.0.1:0"
	all := &loopAcks{jtis: map[string]string{}}
	for round := range 5 {
		issuer, cmd, stderr := startOnAddr(t, file, state, addr)
		addr = strings.TrimPrefix(strings.TrimSuffix(issuer, "/t/acme"), "http://")
		issuers := map[string]string{"acme": issuer, "beta": strings.TrimSuffix(issuer, "/t/acme") + "/t/beta"}
		if round > 0 {
			checkTokenLoop(t, round, issuers, filepath.Join(state, "audit.jsonl"), all, stderr)
		}
		if round == 4 {
			break
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for tenant, iss := range issuers {
			for range 2 {
				wg.Go(func() { driveTokens(ctx, tenant, iss, all) })
			}
		}
		time.Sleep(time.Duration(300+rand.IntN(1200)) * time.Millisecond)
		cancel()
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		wg.Wait()
		all.mu.Lock()
		t.Logf("round %d: %d answered", round, all.answered)
		all.mu.Unlock()
	}
	if all.answered == 0 {
		t.Fatal("nothing was answered: the loop tested nothing")
	}
}

// driveTokens logs alice in at iss and refreshes, exchanges and signs out
// until ctx ends, noting what was answered in acks.
func driveTokens(ctx context.Context, tenant, iss string, acks *loopAcks) {
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for ctx.Err() == nil {
		tok, err := idpclient.Login(ctx, idpclient.LoginOptions{Issuer: iss, ClientID: "mcp-client", ClientSecret: "mcp-secret", Username: "alice", Password: "alice"})
		if err != nil {
			return
		}
		l := &loopLogin{tenant: tenant, refresh: tok.RefreshToken(), idToken: tok.IDToken()}
		acks.mu.Lock()
		acks.logins = append(acks.logins, l)
		acks.answered++
		acks.mu.Unlock()
		for step := rand.IntN(5); step > 0; step-- {
			if rand.IntN(2) == 0 {
				res, err := idpclient.Exchange(ctx, idpclient.ExchangeOptions{Issuer: iss, ClientID: "mcp-client", ClientSecret: "mcp-secret", SubjectToken: l.idToken, Audience: "https://as.files.example"})
				if err != nil {
					return
				}
				acks.mu.Lock()
				acks.jtis[jwtClaim(res["access_token"], "jti")] = tenant
				acks.answered++
				acks.mu.Unlock()
				continue
			}
			acks.mu.Lock()
			l.unanswered = true
			acks.mu.Unlock()
			res, err := idpclient.Refresh(ctx, idpclient.RefreshOptions{Issuer: iss, ClientID: "mcp-client", ClientSecret: "mcp-secret", RefreshToken: l.refresh})
			if err != nil {
				return // unanswered, or refused: checked no further
			}
			acks.mu.Lock()
			l.refresh, l.idToken, l.unanswered = res.RefreshToken(), res.IDToken(), false
			acks.answered++
			acks.mu.Unlock()
		}
		if rand.IntN(3) == 0 {
			acks.mu.Lock()
			l.unanswered = true
			acks.mu.Unlock()
			q := url.Values{"id_token_hint": {l.idToken}, "client_id": {"mcp-client"}}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, iss+"/end_session?"+q.Encode(), nil)
			resp, err := noRedirect.Do(req)
			if err != nil {
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
				return
			}
			acks.mu.Lock()
			acks.ended = append(acks.ended, &loopLogin{tenant: tenant, refresh: l.refresh, idToken: l.idToken})
			acks.answered++
			acks.mu.Unlock()
		}
	}
}

// jwtClaim is the string claim name of the JWT tok, unverified.
func jwtClaim(tok any, name string) string {
	s, _ := tok.(string)
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return ""
	}
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims map[string]any
	json.Unmarshal(raw, &claims)
	v, _ := claims[name].(string)
	return v
}

func checkTokenLoop(t *testing.T, round int, issuers map[string]string, auditFile string, all *loopAcks, stderr *syncBuffer) {
	t.Helper()
	ctx := context.Background()
	f, err := os.Open(auditFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	audited := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		var e struct{ Type, Outcome, JTI, Tenant string }
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("round %d: audit line %d does not parse: %v\n%s", round, n, err, sc.Bytes())
		}
		if e.Type == "token_exchange" && e.Outcome == "allowed" {
			audited[e.JTI] = e.Tenant
		}
	}
	all.mu.Lock()
	defer all.mu.Unlock()
	for jti, tenant := range all.jtis {
		if audited[jti] != tenant {
			t.Errorf("round %d: the ID-JAG %s answered by %s has no allowed token_exchange of that tenant in the audit log", round, jti, tenant)
		}
	}
	for _, l := range all.logins {
		if l.unanswered || l.refresh == "" {
			continue
		}
		if _, err := idpclient.Refresh(ctx, idpclient.RefreshOptions{Issuer: issuers[l.tenant], ClientID: "mcp-client", ClientSecret: "mcp-secret", RefreshToken: l.refresh}); err != nil {
			t.Errorf("round %d: a refresh token %s answered before the kill: %v\n%s", round, l.tenant, err, stderr)
		}
	}
	all.logins = nil // refreshed, so rotated: checked once
	var oe *idpclient.Error
	for _, l := range all.ended {
		_, err := idpclient.Exchange(ctx, idpclient.ExchangeOptions{Issuer: issuers[l.tenant], ClientID: "mcp-client", ClientSecret: "mcp-secret", SubjectToken: l.idToken, Audience: "https://as.files.example"})
		if !errors.As(err, &oe) || oe.Code != "invalid_grant" {
			t.Errorf("round %d: the ID token of a login signed out at %s before the kill: %v, want invalid_grant", round, l.tenant, err)
		}
		_, err = idpclient.Refresh(ctx, idpclient.RefreshOptions{Issuer: issuers[l.tenant], ClientID: "mcp-client", ClientSecret: "mcp-secret", RefreshToken: l.refresh})
		if !errors.As(err, &oe) || oe.Code != "invalid_grant" {
			t.Errorf("round %d: the refresh token of a login signed out at %s before the kill: %v, want invalid_grant", round, l.tenant, err)
		}
	}
}
