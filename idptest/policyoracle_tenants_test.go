package idptest_test

import (
	"context"
	"errors"
	"math/rand"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/app"
	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/policy"
	"github.com/xaa-idp/xaa-idp/push"
)

// tenantsYAML is a file with tenants t0, t1, ... (README "Several
// issuers"; docs/configuration.md, "Tenants"), each holding what its
// configuration's file would hold.
func tenantsYAML(cfgs []*ocConfig) string {
	var b strings.Builder
	b.WriteString("tenants:\n")
	for i, c := range cfgs {
		b.WriteString("  - id: t" + strconv.Itoa(i) + "\n")
		for _, line := range strings.Split(strings.TrimRight(c.yaml(false), "\n"), "\n") {
			b.WriteString("    " + line + "\n")
		}
	}
	return b.String()
}

// startTenantStacks serves a file with a tenant for each configuration in
// one process, as serve does (one store, one audit log, an IdP and a
// revocation push per tenant), and returns each tenant's stack and the
// whole log.
func startTenantStacks(t *testing.T, clock *idp.Clock, cfgs []*ocConfig) ([]*seqStack, *audit.Log) {
	t.Helper()
	whole := func() string { return tenantsYAML(cfgs) }
	file := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(file, []byte(whole()), 0o600); err != nil {
		t.Fatal(err)
	}
	store, err := policy.OpenStore(file)
	if err != nil {
		t.Fatalf("the configuration has problems: %v\n%s", err, whole())
	}
	log, err := audit.Open(audit.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	cfg := store.Config()
	var stacks []*seqStack
	var tenants []app.Tenant
	for _, tc := range cfg.Tenants {
		srv, err := idp.New(idp.Options{Config: tc, Tenant: tc.ID, SharedAudit: true, OtherTenants: cfg.OtherTenants(tc, base),
			Issuer: base + tc.Path, Audit: log, Clock: clock})
		if err != nil {
			t.Fatalf("tenant %s: %v", tc.ID, err)
		}
		t.Cleanup(func() { srv.Close() })
		pusher, err := push.New(push.Options{Issuer: srv.Issuer(), Signer: srv, Audit: srv.Audit(), Config: tc, Now: srv.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pusher.Close)
		tenants = append(tenants, app.Tenant{IdP: srv, Store: store.Tenant(tc.ID), Push: pusher})
		stacks = append(stacks, &seqStack{t: t, file: file, store: store, idp: srv, clock: clock, log: log.Tenant(tc.ID), http: ts,
			tenant: tc.ID, path: tc.Path, whole: whole})
	}
	ts.Config.Handler = app.Tenants(tenants)
	ts.Start()
	t.Cleanup(ts.Close)
	return stacks, log
}

// TestPolicyOracle_TenantSequences runs TestPolicyOracle_Sequences' steps
// at several tenants of one process at once (README "Several issuers"):
// each tenant has a random configuration of its own, with the same user,
// group, client and server names as the others', and its own sequence,
// whose steps (logins, exchanges, access requests at the API and /apps,
// decisions at the API and the console, SCIM, admin API edits, reloads of
// the one file) interleave at random with the other tenants'. Each
// tenant's oracle knows only its own steps: a step at one tenant that
// changed a decision at another is a disagreement there. The clock is the
// process's, and moves for every tenant. At the end each tenant's audit
// (its view of the log, as its /admin/api/audit answers) holds its own
// events alone, and every event of the log is some tenant's.
// XAA_POLICY_ORACLE_TENANT_RUNS=N runs N files instead of the CI's few;
// XAA_POLICY_ORACLE_SEED picks another seed.
func TestPolicyOracle_TenantSequences(t *testing.T) {
	runs, seed := oracleRuns(t, "XAA_POLICY_ORACLE_TENANT_RUNS", 3, 20261208)
	const steps = 90
	whys := map[string]int{}
	fails := 0
	seeds := rand.New(rand.NewSource(seed))
	for range runs {
		pick := rand.New(rand.NewSource(seeds.Int63()))
		clock := idp.NewClock(nil)
		clock.Freeze()
		var cfgs []*ocConfig
		var rs []*rand.Rand
		var ss []int64
		for range 2 + pick.Intn(2) {
			s := seeds.Int63()
			r := rand.New(rand.NewSource(s))
			ss, rs, cfgs = append(ss, s), append(rs, r), append(cfgs, seqConfig(r, clock))
		}
		// Tenants that list one MCP server (one issuer) give a client_id
		// at it one secret (docs/configuration.md, "Tenants"): each
		// client takes the secret of the first tenant that has its id.
		for k, c := range cfgs {
			for i := range c.clients {
				for _, o := range cfgs[:k] {
					if first := o.client(c.clients[i].id); first != nil {
						c.clients[i].secret = first.secret
						break
					}
				}
			}
		}
		stacks, log := startTenantStacks(t, clock, cfgs)
		var seqs []*sequence
		for i, st := range stacks {
			seqs = append(seqs, sequenceOn(t, ss[i], rs[i], st, cfgs[i], whys))
		}
		done := make([]int, len(seqs))
		for range steps * len(seqs) {
			k := pick.Intn(len(seqs))
			sq := seqs[k]
			if pick.Intn(25) == 0 {
				crossTenant(t, sq, seqs[(k+1+pick.Intn(len(seqs)-1))%len(seqs)], pick, whys)
				continue
			}
			sq.now = clock.Now() // another tenant's step may have moved it
			sq.note("(tenant %s)", sq.srv.tenant)
			sq.step(done[k])
			done[k]++
		}
		for _, sq := range seqs {
			fails += sq.fails
			for _, ev := range sq.srv.Audit(audit.Filter{Limit: 100000}) {
				if ev.Tenant != sq.srv.tenant {
					t.Errorf("tenant %s's audit holds an event of tenant %q: %+v", sq.srv.tenant, ev.Tenant, ev)
					break
				}
			}
		}
		for _, ev := range log.Query(audit.Filter{Limit: 100000}) {
			if !strings.HasPrefix(ev.Tenant, "t") {
				t.Errorf("an event of no tenant in a file with tenants: %+v", ev)
				break
			}
		}
		if u, _ := url.Parse(stacks[0].Issuer()); u.Path != stacks[0].path {
			t.Errorf("tenant t0's issuer %s, want its path %s", stacks[0].Issuer(), stacks[0].path)
		}
	}
	if fails > 0 {
		t.Errorf("%d steps disagree with the contract oracle (seed %d)", fails, seed)
	}
	t.Logf("the tenants' steps and decisions: %v", whys)
	for _, why := range []string{"allowed", "approved", "console decided", "apps request made", "SCIM member added", "reloaded", "revoked", "another tenant's token refused"} {
		if whys[why] == 0 && runs >= 3 {
			t.Errorf("no step of seed %d was %q: the random sequences miss a rule", seed, why)
		}
	}
}

// crossTenant presents a login of tenant a, its ID token or its refresh
// token, at tenant b's token endpoint, as the client of the same
// client_id there: tokens of one tenant are unknown at another
// (docs/http.md, "Tenants"), so it is refused, and gets no ID-JAG, whatever
// b's policy says of a user of that name.
func crossTenant(t *testing.T, a, b *sequence, r *rand.Rand, whys map[string]int) {
	t.Helper()
	if len(a.logins) == 0 {
		return
	}
	l := a.logins[r.Intn(len(a.logins))]
	subject, typ := l.tok.IDToken, idpclient.TokenTypeIDToken
	if l.tok.RefreshToken != "" && r.Intn(2) == 0 {
		subject, typ = l.tok.RefreshToken, idpclient.TokenTypeRefresh
	}
	secret := ""
	if cl := b.cfg.client(l.client); cl != nil {
		secret = cl.secret
	}
	s := b.cfg.servers[r.Intn(len(b.cfg.servers))]
	a.note("(tenant %s) a login of %s via %s presented at tenant %s for %s", a.srv.tenant, a.cfg.users[l.user].name, l.client, b.srv.tenant, s.id)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := idpclient.Exchange(ctx, idpclient.ExchangeOptions{TokenEndpoint: b.endpoint, ClientID: l.client, ClientSecret: secret,
		SubjectToken: subject, SubjectTokenType: typ, Audience: s.issuer, Resource: s.resource})
	var oe *idpclient.Error
	if !errors.As(err, &oe) {
		a.fail("a token of tenant %s exchanged at tenant %s: %v %v, want an OAuth error and no ID-JAG", a.srv.tenant, b.srv.tenant, res, err)
		return
	}
	whys["another tenant's token refused"]++
}
