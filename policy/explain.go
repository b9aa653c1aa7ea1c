package policy

import (
	"fmt"
	"strings"
	"time"

	"github.com/xaa-idp/xaa-idp/internal/cimd/urlpattern"
	"github.com/xaa-idp/xaa-idp/internal/errdesc"
)

// Explanation is a Decision in its reportable form: what `xaa-idp explain`
// prints and GET /admin/api/explain answers (docs/http.md). Unlike a
// Decision it holds no pointers into the Config, so it can be encoded,
// kept and compared.
type Explanation struct {
	Allowed        bool     `json:"allowed"`
	Error          string   `json:"error,omitempty"`
	Description    string   `json:"error_description,omitempty"`
	Reason         string   `json:"reason"`
	Rule           string   `json:"rule,omitempty"`
	Server         string   `json:"server,omitempty"`
	Audience       string   `json:"audience,omitempty"`
	Scopes         []string `json:"scopes,omitempty"`
	ServerClientID string   `json:"client_id_at_server,omitempty"`
	// MaxAge is the step-up max_age in seconds, as the token endpoint
	// sends it with insufficient_user_authentication (RFC 9470 section 3).
	MaxAge int64 `json:"max_age,omitempty"`
	// Expired lists the access entries that would match but have expired.
	Expired []Expiry `json:"expired,omitempty"`
	// IDJAG is the shape of the ID-JAG the IdP issues (Config.Explain):
	// the effective knobs and persona, and for a known server the
	// algorithm that signs its ID-JAGs and its aud_tenant.
	IDJAG *IDJAGShape `json:"id_jag,omitempty"`
}

// IDJAGShape is how the IdP writes an ID-JAG for one server: the knobs of
// docs/configuration.md ("Tenants") with the persona's presets applied.
type IDJAGShape struct {
	Knobs
	SigningAlg string `json:"signing_alg,omitempty"`
	AudTenant  string `json:"aud_tenant,omitempty"`
	// IncludeEmail is the server's include_email: its ID-JAGs carry the
	// user's email whatever the email knob says (without email_verified,
	// which only the knob adds).
	IncludeEmail bool `json:"include_email,omitempty"`
}

// Explain decides r and reports the decision together with the shape of
// the ID-JAG it would issue, as `xaa-idp explain` and the admin API's
// explain show it. A ClientID that no clients: entry defines but the cimd
// section allows is taken for the metadata document client it names, as
// the IdP sees it once its document resolves (Explain fetches nothing):
// the decision needs only its client_id and whether such clients may
// request ID-JAGs. A URL the IdP refuses without fetching is refused
// invalid_client, described as the token endpoint describes it.
func (c *Config) Explain(r Request) Explanation {
	var refusal *Decision
	if r.Client == nil && c.Client(r.ClientID) == nil && urlpattern.IsURL(r.ClientID) {
		// A metadata document URL: refused as the IdP's token endpoint
		// refuses it before fetching (internal/cimd's ErrDisabled and
		// ErrNotAllowed, with urlpattern.Refusal's reason), rather than
		// that no clients: entry has it; else taken for its client.
		patterns := c.CIMD.Patterns()
		switch bad := urlpattern.Check(r.ClientID); {
		case !c.CIMD.On():
			refusal = &Decision{Description: fmt.Sprintf("client_id %s: client ID metadata documents are disabled: use a registered client_id", r.ClientID),
				Reason: fmt.Sprintf("client %s is a metadata document URL and cimd.enabled is false", r.ClientID)}
		case bad != nil:
			refusal = &Decision{Description: fmt.Sprintf("client_id %s: client_id URL not allowed: %v", r.ClientID, bad),
				Reason: fmt.Sprintf("client %s cannot be a metadata document URL: %v", r.ClientID, bad)}
		case !urlpattern.Allowed(patterns, r.ClientID):
			refusal = &Decision{Description: fmt.Sprintf("client_id %s: client_id URL not allowed: %v", r.ClientID, urlpattern.Refusal(patterns, r.ClientID)),
				Reason: fmt.Sprintf("client %s matches no cimd.allow pattern (%s)", r.ClientID, strings.Join(patterns, ", "))}
		default:
			r.Client = &Client{ClientID: r.ClientID, TokenExchange: c.CIMD.Exchange()}
		}
	}
	d := c.Decide(r)
	if refusal != nil {
		d.Allowed, d.Error, d.Description, d.Reason, d.Rule = false, ErrInvalidClient, refusal.Description, refusal.Reason, ""
	}
	e := d.Explain()
	e.IDJAG = &IDJAGShape{Knobs: c.Knobs()}
	if d.Server != nil {
		e.IDJAG.SigningAlg, e.IDJAG.AudTenant = d.Server.IDJAGAlg(c), d.Server.AudTenant
		e.IDJAG.IncludeEmail = d.Server.IncludeEmail
	}
	return e
}

// Explain returns the decision's reportable form. Its description is the
// token endpoint's, in the RFC 6749 section 5.2 set and cut to 1 KiB
// (errdesc.Wire); the reason keeps what the audit records.
func (d Decision) Explain() Explanation {
	e := Explanation{
		Allowed: d.Allowed, Error: d.Error, Description: errdesc.Wire(d.Description), Reason: d.Reason,
		Rule: d.Rule, Scopes: d.Scopes, ServerClientID: d.ServerClientID, MaxAge: int64(d.MaxAge / time.Second),
		Expired: d.Expired,
	}
	if d.Server != nil {
		e.Server, e.Audience = d.Server.ID, d.Server.Issuer
	}
	return e
}

// ExplainAudience reads explain's audience (`xaa-idp explain --audience`,
// GET /admin/api/explain, `xaa-idp exchange --config`): an issuer or alias
// names itself; an MCP server's id that is not also an audience names the
// server (byID), whose issuer is then the audience. Anything else is kept
// as it is, and unknown reports that it names no server of a
// configuration that has some: a mistyped id, to say what it could have
// been.
func (c *Config) ExplainAudience(aud string) (audience string, byID *MCPServer, unknown bool) {
	if c.ServerByAudience(aud) != nil {
		return aud, nil, false
	}
	if s := c.Server(aud); s != nil {
		return s.Issuer, s, false
	}
	return aud, nil, len(c.MCPServers) > 0
}
