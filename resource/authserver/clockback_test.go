package authserver_test

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/xaa-idp/xaa-idp/internal/cimd"
	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// TestReplay_AClockMovedAheadAndBackKeepsARedeemedIDJAGRedeemed: the demo
// authorization server judges ID-JAGs on the IdP's clock, which an admin
// can move. Moving it past an ID-JAG's exp purged its jti (on the next
// redemption, or the replay file's rewrite at a restart); moving it back
// then made the redeemed ID-JAG redeemable again. A jti is kept until
// exp + skew has passed on the wall clock as well as on the server's.
func TestReplay_AClockMovedAheadAndBackKeepsARedeemedIDJAGRedeemed(t *testing.T) {
	for _, withFile := range []bool{false, true} {
		name := "in memory"
		if withFile {
			name = "across a restart"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, func(c *authserver.Config) {
				c.Wall = time.Now // only the server's clock moves
				if withFile {
					c.ReplayFile = filepath.Join(t.TempDir(), "replay.jsonl")
				}
			})
			jag := e.jag(t, nil)
			if r := e.post(t, grant(jag)); r.status != http.StatusOK {
				t.Fatalf("first redemption: HTTP %d %s", r.status, r.raw)
			}
			e.clock.Advance(time.Hour)
			// Another redemption an hour later purges what expired by
			// the clock.
			if r := e.post(t, grant(e.jag(t, nil))); r.status != http.StatusOK {
				t.Fatalf("an ID-JAG an hour later: HTTP %d %s", r.status, r.raw)
			}
			if withFile {
				e.restart(t)
			}
			e.clock.Advance(-time.Hour)
			r := e.post(t, grant(jag))
			if r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" || !strings.Contains(r.str("error_description"), "already redeemed") {
				t.Errorf("the ID-JAG redeemed again after the clock went ahead and back: HTTP %d %q %q, want invalid_grant already redeemed", r.status, r.str("error"), r.str("error_description"))
			}
		})
	}
}

// TestReplay_AClockMovedAheadAndBackKeepsOtherJTIsUsed: the client
// assertions, DPoP proofs and SETs the demo authorization server judges
// on the IdP's clock were kept on that clock alone, so that moving it
// past their expiry (which purged them on the next use of the cache, or
// at a restart) and back made each acceptable again. Each jti is kept, as
// a redeemed ID-JAG's is, until both clocks have passed its expiry.
func TestReplay_AClockMovedAheadAndBackKeepsOtherJTIsUsed(t *testing.T) {
	type kind struct {
		name string
		// use uses a new JWT of the kind at the env's clock, fails the
		// test unless it is accepted, and returns what reuses that one.
		use   func(t *testing.T, e *env, m *metadataClients) func() tokenReply
		check func(r tokenReply) bool
		want  string
	}
	kinds := []kind{
		{
			name: "client assertion",
			use: func(t *testing.T, e *env, m *metadataClients) func() tokenReply {
				assertion := m.assertion(t, e.asURL, e.clock.Now(), nil)
				jag := func() string { return e.jag(t, func(c map[string]any) { c["client_id"] = m.jwt }) }
				if r := e.post(t, metadataGrant(jag(), "", assertion)); r.status != http.StatusOK {
					t.Fatalf("the client assertion: HTTP %d %s", r.status, r.raw)
				}
				return func() tokenReply { return e.post(t, metadataGrant(jag(), "", assertion)) }
			},
			check: func(r tokenReply) bool {
				return r.status == http.StatusUnauthorized && r.str("error") == "invalid_client" && strings.Contains(r.str("error_description"), "already used")
			},
			want: "401 invalid_client, already used",
		},
		{
			name: "DPoP proof",
			use: func(t *testing.T, e *env, _ *metadataClients) func() tokenReply {
				key := newECKey(t)
				proof := e.tokenProof(t, key)
				if r := e.post(t, withProofs(grant(e.jag(t, nil)), proof)); r.status != http.StatusOK {
					t.Fatalf("the DPoP proof: HTTP %d %s", r.status, r.raw)
				}
				return func() tokenReply { return e.post(t, withProofs(grant(e.jag(t, nil)), proof)) }
			},
			check: func(r tokenReply) bool {
				return r.status == http.StatusBadRequest && r.str("error") == "invalid_dpop_proof" && strings.Contains(r.str("error_description"), "already used")
			},
			want: "400 invalid_dpop_proof, already used",
		},
		{
			name: "SET",
			use: func(t *testing.T, e *env, _ *metadataClients) func() tokenReply {
				k := e.idp.currentKey()
				set := sign(t, e.setClaims(), "secevent+jwt", k.KeyID, jose.ES256, k.Key)
				if r := e.pushSET(t, set, "application/secevent+jwt"); r.status != http.StatusAccepted {
					t.Fatalf("the SET: HTTP %d %v", r.status, r.body)
				}
				return func() tokenReply { return e.pushSET(t, set, "application/secevent+jwt") }
			},
			check: func(r tokenReply) bool {
				d, _ := r.body["description"].(string)
				return r.status == http.StatusBadRequest && r.str("err") == "invalid_request" && strings.Contains(d, "received before")
			},
			want: "400 invalid_request, received before",
		},
	}
	for _, k := range kinds {
		for _, withFile := range []bool{false, true} {
			name := k.name + " in memory"
			if withFile {
				name = k.name + " across a restart"
			}
			t.Run(name, func(t *testing.T) {
				m := newMetadataClients(t)
				e := newEnv(t, func(c *authserver.Config) {
					c.Wall = time.Now // only the server's clock moves
					c.CIMD = cimd.New(cimd.DefaultConfig(), &cimd.Options{Timeout: time.Second})
					c.Clients[m.jwt] = ""
					if withFile {
						c.ReplayFile = filepath.Join(t.TempDir(), "replay.jsonl")
					}
				})
				again := k.use(t, e, m)
				e.clock.Advance(time.Hour)
				// Another use an hour later purges what expired by the
				// clock.
				k.use(t, e, m)
				if withFile {
					e.restart(t)
				}
				e.clock.Advance(-time.Hour)
				if r := again(); !k.check(r) {
					t.Errorf("the %s used again after the clock went ahead and back: HTTP %d %q %q, want %s", k.name, r.status, r.str("error")+r.str("err"), r.str("error_description")+r.str("description"), k.want)
				}
			})
		}
	}
}
