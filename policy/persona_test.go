package policy_test

import (
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestParse_PersonaPresets: each persona presets the id_jag knobs, the
// ID-JAG signing algorithm and the lifetimes of a file that sets none of
// them, with the values docs/personas.md gives with their sources; what
// the file sets wins over the preset.
func TestParse_PersonaPresets(t *testing.T) {
	type want struct {
		knobs                         policy.Knobs
		jagAlg                        string
		idToken, access, refresh, jag time.Duration
	}
	generic := []time.Duration{time.Hour, time.Hour, 24 * time.Hour, 5 * time.Minute}
	tests := []struct {
		name, yaml string
		want       want
	}{
		{"conductorone", "persona: conductorone\n", want{
			knobs:  policy.Knobs{Persona: "conductorone", ResourceClaim: false, Aud: "string", Email: true, TenantClaim: false},
			jagAlg: "ES256", idToken: generic[0], access: generic[1], refresh: generic[2], jag: 300 * time.Second,
		}},
		{"conductorone, the file's knobs and keys win", `persona: conductorone
id_jag: {resource_claim: true, email: false}
signing: {id_jag_alg: RS256}
lifetimes: {id_jag: 2m}
`, want{
			knobs:  policy.Knobs{Persona: "conductorone", ResourceClaim: true, Aud: "string", Email: false, TenantClaim: false},
			jagAlg: "RS256", idToken: generic[0], access: generic[1], refresh: generic[2], jag: 2 * time.Minute,
		}},
		{"okta", "persona: okta\n", want{
			knobs:  policy.Knobs{Persona: "okta", ResourceClaim: false, Aud: "string", Email: true, TenantClaim: false},
			jagAlg: "RS256", idToken: time.Hour, access: time.Hour, refresh: 90 * 24 * time.Hour, jag: 5 * time.Minute,
		}},
		{"claude", "persona: claude\n", want{
			knobs:  policy.Knobs{Persona: "claude", ResourceClaim: true, Aud: "string", Email: true, TenantClaim: false},
			jagAlg: "ES256", idToken: generic[0], access: generic[1], refresh: generic[2], jag: generic[3],
		}},
		{"generic", "", want{
			knobs:  policy.Knobs{Persona: "generic", ResourceClaim: true, Aud: "string", Email: false, TenantClaim: false},
			jagAlg: "ES256", idToken: generic[0], access: generic[1], refresh: generic[2], jag: generic[3],
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := policy.Parse([]byte(tt.yaml+"users: [{username: alice, password: alice}]\n"), "persona.yaml")
			if err != nil {
				t.Fatal(err)
			}
			got := want{
				knobs: cfg.Knobs(), jagAlg: cfg.Signing.IDJAGAlg,
				idToken: cfg.Lifetimes.IDToken.D(), access: cfg.Lifetimes.AccessToken.D(),
				refresh: cfg.Lifetimes.RefreshToken.D(), jag: cfg.Lifetimes.IDJAG.D(),
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
