package idp_test

import (
	"context"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/idptest"
	"github.com/xaa-idp/xaa-idp/policy"
)

// TestFaults_AuditRecordsTheIDJAGIssued: the audit event of an exchange
// answered with a broken ID-JAG names what that ID-JAG carries: no jti
// under missing_jti (there is none to look for), the key that wrong_cnf
// binds it to, the scopes unknown_scope puts in it, the client_id that
// unmapped_client_id puts in it and none under missing_client_id, the
// resource of wrong_resource and no sub under missing_sub (those two in
// details, the event's resource and sub staying the request's and the
// user's). Until 2026-12-06 they were the sound ID-JAG's.
func TestFaults_AuditRecordsTheIDJAGIssued(t *testing.T) {
	srv := idptest.New(t)
	keys := fetchKeySet(t, srv.Issuer()+"/keys")
	for _, kind := range []string{"", policy.FaultMissingJTI, policy.FaultWrongCnf, policy.FaultMissingSub,
		policy.FaultUnknownScope, policy.FaultUnmappedClient, policy.FaultMissingClientID, policy.FaultWrongResource} {
		name := kind
		if name == "" {
			name = "sound"
		}
		t.Run(name, func(t *testing.T) {
			if kind != "" {
				id := srv.InjectFault(policy.Fault{IDJAG: kind, Times: 1})
				defer srv.RemoveFault(id)
			}
			_, c := verifyAgainst(t, srv.IDJAG("alice", "tracker"), keys)
			events := srv.Audit(audit.Filter{Type: audit.TypeTokenExchange, Limit: 1})
			if len(events) != 1 {
				t.Fatalf("%d events", len(events))
			}
			ev := events[0]
			if jti, _ := c["jti"].(string); ev.JTI != jti {
				t.Errorf("event jti %q, the ID-JAG's %q", ev.JTI, jti)
			}
			cnf, _ := c["cnf"].(map[string]any)
			jkt, _ := cnf["jkt"].(string)
			if got, _ := ev.Details["cnf_jkt"].(string); got != jkt {
				t.Errorf("event details.cnf_jkt %q, the ID-JAG's cnf.jkt %q", got, jkt)
			}
			if scope, _ := c["scope"].(string); ev.ScopeGranted != scope || scope == "" {
				t.Errorf("event scope_granted %q, the ID-JAG's scope %q", ev.ScopeGranted, scope)
			}
			if id, at := ev.Details["client_id_at_server"]; id != c["client_id"] || at != (c["client_id"] != nil) {
				t.Errorf("event details.client_id_at_server %v, the ID-JAG's client_id %v", id, c["client_id"])
			}
			// The ID-JAG's resource and sub where they are not the
			// request's and the user's, which the event keeps.
			resource, sub := ev.Resource, ev.Sub
			if r, ok := ev.Details["id_jag_resource"]; ok {
				resource, _ = r.(string)
			}
			if s, ok := ev.Details["id_jag_sub"]; ok {
				sub, _ = s.(string)
			}
			if r, _ := c["resource"].(string); resource != r || ev.Resource != srv.Config().Server("tracker").Resources[0] {
				t.Errorf("event resource %q (the ID-JAG's %q), the ID-JAG's resource %q", ev.Resource, resource, r)
			}
			if s, _ := c["sub"].(string); sub != s || ev.Sub != "00u-alice" {
				t.Errorf("event sub %q (the ID-JAG's %q), the ID-JAG's sub %q", ev.Sub, sub, s)
			}
		})
	}
}

// TestFaults_ExchangeAnswerIsTheIDJAGIssued: the exchange's answer
// describes the ID-JAG it carries (RFC 8693 section 2.2.1: scope is the
// issued token's), a broken one's too: under unknown_scope, its scope with
// the extra scope, as the ID-JAG and the audit event have it. It was the
// scope granted, which the ID-JAG did not carry.
func TestFaults_ExchangeAnswerIsTheIDJAGIssued(t *testing.T) {
	srv := idptest.New(t)
	keys := fetchKeySet(t, srv.Issuer()+"/keys")
	tracker := srv.Config().Server("tracker")
	tok := srv.Login("alice")
	c := srv.Config().Client(tok.ClientID)
	for _, kind := range []string{"", policy.FaultUnknownScope, policy.FaultWrongResource, policy.FaultExpired} {
		name := kind
		if name == "" {
			name = "sound"
		}
		t.Run(name, func(t *testing.T) {
			if kind != "" {
				id := srv.InjectFault(policy.Fault{IDJAG: kind, Times: 1})
				defer srv.RemoveFault(id)
			}
			res, err := idpclient.Exchange(context.Background(), idpclient.ExchangeOptions{
				Issuer: srv.Issuer(), ClientID: c.ClientID, ClientSecret: c.ClientSecret, SubjectToken: tok.IDToken,
				Audience: tracker.Issuer, Resource: tracker.Resources[0],
			})
			if err != nil {
				t.Fatal(err)
			}
			jag, _ := res["access_token"].(string)
			_, claims := verifyAgainst(t, jag, keys)
			if scope, _ := claims["scope"].(string); res["scope"] != scope || scope == "" {
				t.Errorf("the answer's scope %v, the ID-JAG's %q", res["scope"], scope)
			}
			exp, _ := claims["exp"].(float64)
			iat, _ := claims["iat"].(float64)
			if in, _ := res["expires_in"].(float64); in != exp-iat {
				t.Errorf("the answer's expires_in %v, the ID-JAG's lifetime %v", in, exp-iat)
			}
		})
	}
}
