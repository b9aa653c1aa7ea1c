package policy

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/xaa-idp/xaa-idp/internal/cimd/urlpattern"
)

// CIMD is the cimd section (docs/configuration.md, "cimd"): clients that
// identify themselves by the URL of their Client ID Metadata Document
// (draft-ietf-oauth-client-id-metadata-document) instead of a
// registration. Such a client_id may be named wherever a configured one
// may: as a key of an MCP server's clients and in access and deny entries.
type CIMD struct {
	// Enabled turns metadata document clients on; nil means on.
	Enabled *bool `yaml:"enabled" json:"enabled,omitempty"`
	// Allow are the client_id (and jwks_uri) URL patterns that may be
	// fetched, "*" matching any run of characters; nil means
	// urlpattern.DefaultAllow, an empty list allows nothing.
	Allow []string `yaml:"allow" json:"allow" max:"url"`
	// AllowPrivate are URL patterns, each naming one DNS name, whose
	// names may resolve to private (RFC 1918, fc00::/7) and loopback
	// addresses (an intranet's documents); a URL must match Allow too. An addition to the
	// contract (docs/configuration.md, "cimd").
	AllowPrivate []string `yaml:"allow_private" json:"allow_private,omitempty" max:"url"`
	// TokenExchange lets such clients request ID-JAGs; nil means yes.
	TokenExchange *bool `yaml:"token_exchange" json:"token_exchange,omitempty"`
}

// On reports whether metadata document clients are accepted.
func (c CIMD) On() bool { return c.Enabled == nil || *c.Enabled }

// Exchange reports whether metadata document clients may request ID-JAGs.
func (c CIMD) Exchange() bool { return c.TokenExchange == nil || *c.TokenExchange }

// Patterns returns the allow list in force: Allow, or the default.
func (c CIMD) Patterns() []string {
	if c.Allow == nil {
		return urlpattern.DefaultAllow
	}
	return c.Allow
}

// Allows reports whether clientID is a URL the section lets the IdP
// resolve: CIMD on and an allow pattern matching.
func (c CIMD) Allows(clientID string) bool {
	return c.On() && urlpattern.IsURL(clientID) && urlpattern.Allowed(c.Patterns(), clientID)
}

// cimdSection checks the cimd section: every pattern an http(s) URL
// pattern.
func (v *validator) cimdSection() {
	for i, p := range v.cfg.CIMD.Allow {
		if !urlpattern.IsPattern(p) || strings.TrimSpace(p) != p {
			v.at(fmt.Sprintf("cimd.allow[%d]", i), "%q is not a URL pattern; write an http or https URL where * matches any run of characters, such as https://* or http://127.0.0.1:*", p)
		} else if problem := portProblem(p, patternPort(p)); problem != "" {
			v.at(fmt.Sprintf("cimd.allow[%d]", i), "%s, or *; this pattern matches no client_id", problem)
		}
	}
	v.noRepeats("cimd.allow", v.cfg.CIMD.Allow)
	for i, p := range v.cfg.CIMD.AllowPrivate {
		path := fmt.Sprintf("cimd.allow_private[%d]", i)
		host := urlpattern.Host(p)
		_, addrErr := netip.ParseAddr(host)
		switch {
		case !urlpattern.IsPattern(p) || strings.TrimSpace(p) != p:
			v.at(path, "%q is not a URL pattern; write an http or https URL that names the intranet host, such as https://clients.corp.example/*", p)
		case portProblem(p, patternPort(p)) != "":
			v.at(path, "%s, or *; this pattern matches no client_id", portProblem(p, patternPort(p)))
		case host == "":
			v.at(path, "%q names no one host (a * in it, or none): allow_private trusts the DNS of the host it names to point at the private network, and a * would trust anyone's; write the host out, such as https://clients.corp.example/*", p)
		case addrErr == nil: // an IP literal
			v.at(path, "%q names the address %s, which a cimd.allow pattern naming it admits alone; allow_private is for DNS names: move the pattern to cimd.allow", p, host)
		case host == "localhost" || strings.HasSuffix(host, ".localhost"):
			v.at(path, "%q names %s, whose loopback addresses a cimd.allow pattern naming it admits alone; allow_private is for other DNS names: move the pattern to cimd.allow", p, host)
		case !urlpattern.Allowed(v.cfg.CIMD.Patterns(), p):
			v.at(path, "%q matches no cimd.allow pattern (%s), so no URL it names is fetched; add it to cimd.allow too", p, strings.Join(v.cfg.CIMD.Patterns(), ", "))
		}
	}
	v.noRepeats("cimd.allow_private", v.cfg.CIMD.AllowPrivate)
}

// patternPort is the port of an allow pattern's authority, "" when it has
// none or a * may stand in it.
func patternPort(p string) string {
	_, rest, _ := strings.Cut(p, "://")
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = rest[i+1:]
	}
	if i := strings.LastIndex(rest, "]"); i >= 0 {
		rest = rest[i+1:]
	}
	_, port, ok := strings.Cut(rest, ":")
	if !ok || strings.Contains(port, "*") {
		return ""
	}
	return port
}

// cimdClient checks a client_id named in a server's clients or an access
// or deny entry that is not a configured client: a metadata document URL
// the cimd section admits is fine; anything else is reported at path.
// It reports whether id is such a URL.
func (v *validator) cimdClient(path, id string) bool {
	if !urlpattern.IsURL(id) {
		return false
	}
	c := v.cfg.CIMD
	switch {
	case !c.On():
		v.at(path, "client %q is a metadata document URL, but cimd.enabled is false; set cimd.enabled: true or name a configured client", id)
	case !urlpattern.Allowed(c.Patterns(), id):
		v.at(path, "client %q is a metadata document URL that matches no cimd.allow pattern (%s); add a pattern that matches it", id, strings.Join(c.Patterns(), ", "))
	}
	return true
}
