package policy

import "time"

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
}

// Explain returns the decision's reportable form.
func (d Decision) Explain() Explanation {
	e := Explanation{
		Allowed: d.Allowed, Error: d.Error, Description: d.Description, Reason: d.Reason,
		Rule: d.Rule, Scopes: d.Scopes, ServerClientID: d.ServerClientID, MaxAge: int64(d.MaxAge / time.Second),
		Expired: d.Expired,
	}
	if d.Server != nil {
		e.Server, e.Audience = d.Server.ID, d.Server.Issuer
	}
	return e
}
