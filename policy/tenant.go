package policy

import (
	"fmt"
	"regexp"
	"time"

	"github.com/xaa-idp/xaa-idp/internal/urimatch"
)

// Personas: the issuers a tenant can imitate (docs/personas.md).
const (
	PersonaGeneric      = "generic"
	PersonaOkta         = "okta"
	PersonaClaude       = "claude"
	PersonaConductorOne = "conductorone"
)

// Values of IDJAGOptions.Aud.
const (
	AudString = "string" // "aud": "https://as.example.com"
	AudArray  = "array"  // "aud": ["https://as.example.com"]
)

// IDJAGOptions are the knobs that shape the ID-JAGs an IdP issues, where
// issuers in the field differ. A nil or empty knob takes the persona's
// preset; a Config from Parse has them all set.
type IDJAGOptions struct {
	// ResourceClaim puts the granted "resource" into the ID-JAG (the
	// ID-JAG draft's token exchange processing rules); false omits it, as
	// some issuers do.
	ResourceClaim *bool `yaml:"resource_claim" json:"resource_claim,omitempty"`
	// Aud is how "aud" is written: AudString or AudArray (a one-element
	// array, which the draft allows the resource side to accept).
	Aud string `yaml:"aud" json:"aud,omitempty" max:"name"`
	// Email adds the user's "email" and "email_verified": true.
	Email *bool `yaml:"email" json:"email,omitempty"`
	// TenantClaim adds "tenant": the tenant's id (the draft's MUST for a
	// multi-tenant issuer). It has no effect in a file without tenants.
	TenantClaim *bool `yaml:"tenant_claim" json:"tenant_claim,omitempty"`
}

// Knobs are a configuration's effective ID-JAG options, as `xaa-idp
// explain` and the console show them.
type Knobs struct {
	Persona       string `json:"persona"`
	ResourceClaim bool   `json:"resource_claim"`
	Aud           string `json:"aud"`
	Email         bool   `json:"email"`
	TenantClaim   bool   `json:"tenant_claim"`
}

// Knobs returns the effective ID-JAG options: the knobs as set, the
// persona's preset for the others. TenantClaim is false outside a tenant.
func (c *Config) Knobs() Knobs {
	p := presetOf(c.Persona)
	k := Knobs{Persona: p.name, ResourceClaim: p.resourceClaim, Aud: p.aud, Email: p.email, TenantClaim: p.tenantClaim}
	o := c.IDJAG
	if o.ResourceClaim != nil {
		k.ResourceClaim = *o.ResourceClaim
	}
	if o.Aud != "" {
		k.Aud = o.Aud
	}
	if o.Email != nil {
		k.Email = *o.Email
	}
	if o.TenantClaim != nil {
		k.TenantClaim = *o.TenantClaim
	}
	k.TenantClaim = k.TenantClaim && c.ID != ""
	return k
}

// preset is a persona: the values its knobs and defaults take when the
// file does not set them. docs/personas.md gives the public source of
// each value.
type preset struct {
	name          string
	resourceClaim bool
	aud           string
	email         bool
	tenantClaim   bool
	idJAGAlg      string
	lifetimes     Lifetimes
	// idTokenAudString writes a one-audience ID token's "aud" as a
	// string rather than a one-element array.
	idTokenAudString bool
	// oktaPaths also serves the endpoints at the paths of Okta's org
	// authorization server (/oauth2/v1/...).
	oktaPaths bool
}

// OktaPaths reports whether the persona also serves its endpoints at the
// paths of Okta's org authorization server, /oauth2/v1/token and the
// others under the issuer (docs/personas.md).
func (c *Config) OktaPaths() bool { return presetOf(c.Persona).oktaPaths }

// IDTokenAudString reports whether the persona writes the "aud" of an ID
// token issued to one client as a string, as Okta does (docs/personas.md),
// rather than as the one-element array the others write.
func (c *Config) IDTokenAudString() bool { return presetOf(c.Persona).idTokenAudString }

var (
	genericLifetimes = Lifetimes{
		IDToken: Duration(DefaultIDTokenLifetime), AccessToken: Duration(DefaultAccessLifetime),
		RefreshToken: Duration(DefaultRefreshLifetime), IDJAG: Duration(DefaultIDJAGLifetime),
	}
	presets = map[string]preset{
		PersonaGeneric: {name: PersonaGeneric, resourceClaim: true, aud: AudString, tenantClaim: true,
			idJAGAlg: DefaultIDJAGAlg, lifetimes: genericLifetimes},
		// Okta's org authorization server: RS256, no resource, email,
		// hard-coded 1h/1h/90d lifetimes, 5-minute ID-JAGs, ID tokens
		// whose aud is a string and Okta's /oauth2/v1 paths.
		PersonaOkta: {name: PersonaOkta, resourceClaim: false, aud: AudString, email: true, tenantClaim: false,
			idJAGAlg: AlgRS256, lifetimes: Lifetimes{
				IDToken: Duration(time.Hour), AccessToken: Duration(time.Hour),
				RefreshToken: Duration(90 * 24 * time.Hour), IDJAG: Duration(5 * time.Minute),
			}, idTokenAudString: true, oktaPaths: true},
		// Claude's per-organization issuers: email-based matching; nothing
		// else is public, so the rest is generic.
		PersonaClaude: {name: PersonaClaude, resourceClaim: true, aud: AudString, email: true, tenantClaim: true,
			idJAGAlg: DefaultIDJAGAlg, lifetimes: genericLifetimes},
		// A ConductorOne tenant's issuer, as C1's "Support enterprise-
		// managed authorization in your MCP server" page shows its ID-JAG:
		// email by default, no resource, no tenant (the tenant is the
		// issuer's host), a string aud, ES256 and 300-second ID-JAGs.
		// C1 documents no other lifetime, so those are generic.
		PersonaConductorOne: {name: PersonaConductorOne, resourceClaim: false, aud: AudString, email: true, tenantClaim: false,
			idJAGAlg: AlgES256, lifetimes: Lifetimes{
				IDToken: Duration(DefaultIDTokenLifetime), AccessToken: Duration(DefaultAccessLifetime),
				RefreshToken: Duration(DefaultRefreshLifetime), IDJAG: Duration(300 * time.Second),
			}},
	}
)

// presetOf returns the persona's preset; "" and unknown names are generic
// (Parse refuses unknown ones).
func presetOf(persona string) preset {
	if p, ok := presets[persona]; ok {
		return p
	}
	return presets[PersonaGeneric]
}

// tenantIDPattern keeps tenant ids usable as a path segment, a directory
// name under --state-dir and a metrics label.
var tenantIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// DefaultTenantPath is the path of a tenant that sets none.
func DefaultTenantPath(id string) string { return "/t/" + id }

// reservedPaths are the root's own routes, which no tenant path may use.
var reservedPaths = []string{"/healthz", "/metrics", "/.well-known", "/admin"}

// Tenant returns the tenant with this id, or nil. A file without tenants
// has none.
func (c *Config) Tenant(id string) *Config {
	for _, t := range c.Tenants {
		if t.ID == id {
			return t
		}
	}
	return nil
}

// OtherTenants are the tenants of c but t, each with its issuer under
// base (the base URL, --issuer or --addr): the token exchange of t refuses
// an MCP server whose issuer is one of theirs (Request.OtherTenants).
// None without tenants.
func (c *Config) OtherTenants(t *Config, base string) []TenantIssuer {
	var out []TenantIssuer
	for _, o := range c.Tenants {
		if o != t {
			out = append(out, TenantIssuer{ID: o.ID, Issuer: base + o.Path})
		}
	}
	return out
}

// IdPIssuerOf says whether issuer is an IdP's: the IdP's own issuer (own;
// "" for none known), then tenant "" , or one of the other tenants'
// (others), then that tenant's id. An MCP server at such an issuer is
// refused (its ID-JAGs could be redeemed nowhere: no IdP serves the JWT
// bearer grant) by the exchange, the admin API's edits, check and serve's
// start. Issuers compare as audiences do and with dot segments removed
// (urimatch.SameResolved): "<idp>/." and "<idp>/a/.." are the IdP's too.
func IdPIssuerOf(issuer, own string, others []TenantIssuer) (tenant string, ok bool) {
	if own != "" && urimatch.SameResolved(own, issuer) {
		return "", true
	}
	for _, t := range others {
		if urimatch.SameResolved(t.Issuer, issuer) {
			return t.ID, true
		}
	}
	return "", false
}

// TenantIDs lists the tenants' ids in file order.
func (c *Config) TenantIDs() []string {
	ids := make([]string, len(c.Tenants))
	for i, t := range c.Tenants {
		ids[i] = t.ID
	}
	return ids
}

// IdPs returns the IdPs the file configures: its tenants, or the file
// itself when it has none.
func (c *Config) IdPs() []*Config {
	if len(c.Tenants) > 0 {
		return c.Tenants
	}
	return []*Config{c}
}

// keyPrefix is the path prefix of the keys of IdPs()[i] in the file:
// "tenants[i]." with tenants, "" without.
func (c *Config) keyPrefix(i int) string {
	if len(c.Tenants) > 0 {
		return fmt.Sprintf("tenants[%d].", i)
	}
	return ""
}
