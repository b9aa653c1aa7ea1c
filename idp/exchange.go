package idp

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/policy"
)

// idJAGClaims are the claims of an ID-JAG (draft-ietf-oauth-identity-
// assertion-authz-grant section 3; spec.md section 4). aud is a string:
// the Python SDK expects one.
type idJAGClaims struct {
	Issuer   string `json:"iss"`
	Subject  string `json:"sub"`
	Audience string `json:"aud"`
	ClientID string `json:"client_id"`
	JTI      string `json:"jti"`
	IssuedAt int64  `json:"iat"`
	Expiry   int64  `json:"exp"`
	Resource string `json:"resource,omitempty"`
	Scope    string `json:"scope,omitempty"`
	AuthTime int64  `json:"auth_time,omitempty"`
	Email    string `json:"email,omitempty"`
	// Confirmation binds the ID-JAG to the key of the exchange's DPoP
	// proof; nil without one.
	Confirmation *confirmation `json:"cnf,omitempty"`
}

// exchangeResponse is the RFC 8693 section 2.2.1 response carrying an
// ID-JAG; token_type N_A because it is not an access token.
type exchangeResponse struct {
	IssuedTokenType string `json:"issued_token_type"`
	AccessToken     string `json:"access_token"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int64  `json:"expires_in"`
	Scope           string `json:"scope,omitempty"`
}

// tokenExchange handles grant_type token-exchange (RFC 8693) for an ID-JAG,
// in the order of the draft's section 4.3.3: authenticate the client,
// check the parameters and the DPoP proof, validate the subject token,
// resolve audience and resource, ask the policy, sign. Every outcome is
// audited before the client hears it.
func (s *Server) tokenExchange(w http.ResponseWriter, r *http.Request, form url.Values) {
	ev := audit.Event{
		Type:           audit.TypeTokenExchange,
		GrantType:      grantTokenExchange,
		Audience:       form.Get("audience"),
		Resource:       form.Get("resource"),
		ScopeRequested: form.Get("scope"),
	}
	markInjected(r, &ev)
	resp, err := s.issueIDJAG(r, form, &ev)
	if err != nil {
		if ev.Outcome == "" {
			ev.Outcome = audit.Error
		}
		ev.Error = err.Code
		ev.Reason = err.Reason
		if ev.Reason == "" {
			ev.Reason = err.Description
		}
		if ev.Rule == "" {
			ev.Rule = err.Rule
		}
		if _, aerr := s.audit.Append(ev); aerr != nil {
			slog.Error("audit append failed", "err", aerr)
		}
		writeOAuthError(w, r, err)
		return
	}
	ev.Outcome = audit.Allowed
	if _, aerr := s.audit.Append(ev); aerr != nil {
		slog.Error("audit append failed; ID-JAG withheld", "err", aerr)
		writeOAuthError(w, r, errorf("server_error", http.StatusInternalServerError, "the audit log could not be written"))
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) issueIDJAG(r *http.Request, form url.Values, ev *audit.Event) (*exchangeResponse, *oauthError) {
	c, err := s.authenticateClient(r, form)
	if err != nil {
		ev.ClientID = clientIDFromRequest(r)
		return nil, err
	}
	ev.ClientID = c.ClientID
	if !c.TokenExchange {
		return nil, errorf("unauthorized_client", http.StatusBadRequest, "client %q is not allowed to use token exchange (token_exchange: false in its registration)", c.ClientID)
	}
	if err := checkExchangeParams(form); err != nil {
		return nil, err
	}
	jkt, err := s.checkDPoP(r)
	if err != nil {
		return nil, err
	}

	var subj *subject
	switch form.Get("subject_token_type") {
	case tokenTypeIDToken:
		subj, err = s.verifyIDToken(form.Get("subject_token"), c.ClientID)
	case tokenTypeRefresh:
		subj, err = s.verifyRefreshSubject(form.Get("subject_token"), c.ClientID)
	}
	if err != nil {
		return nil, err
	}
	cfg := s.Config()
	ev.Sub = subj.Sub
	user := cfg.UserBySub(subj.Sub)
	username := ""
	if user != nil {
		username, ev.User = user.Username, user.Username
	}

	now := s.now()
	var scopes []string
	if sc := form.Get("scope"); sc != "" {
		scopes = strings.Fields(sc)
	}
	d := cfg.Decide(policy.Request{
		Username: username,
		ClientID: c.ClientID,
		Audience: form.Get("audience"),
		Resource: form.Get("resource"),
		Scopes:   scopes,
		AuthTime: subj.AuthTime,
		Now:      now,
	})
	ev.Rule, ev.Reason = d.Rule, d.Reason
	if d.Server != nil {
		ev.Server = d.Server.ID
	}
	if !d.Allowed {
		e := errorf(d.Error, http.StatusBadRequest, "%s", d.Description)
		e.Reason, e.Rule = d.Reason, d.Rule
		if d.Error == "insufficient_user_authentication" {
			e.Extra = map[string]any{"max_age": int64(d.MaxAge / time.Second)}
		}
		// A refusal once the user is resolved (deny entries, assignments,
		// scopes, step-up) is a policy denial, whatever code
		// exchange.denied_error sends for it: strict mode sends
		// invalid_request, and the audit must still say denied.
		if d.User != nil || d.Error == policy.ErrAccessDenied {
			ev.Outcome = audit.Denied
		} else {
			ev.Outcome = audit.Error
		}
		return nil, e
	}

	if cfg.Exchange.SingleUseSubject && subj.key != "" {
		// PutNew checks and records in one step, so that concurrent
		// exchanges of one ID token cannot both pass.
		key := subj.key + "\x00" + d.Server.ID
		if !s.usedSubjID.PutNew(key, struct{}{}, now.Add(cfg.Lifetimes.RefreshToken.D())) {
			return nil, invalidGrant("this subject token was already exchanged for %s; single-use subject tokens are enabled (exchange.single_use_subject)", d.Server.Issuer)
		}
	}

	lifetime := cfg.Lifetimes.IDJAG.D()
	claims := idJAGClaims{
		Issuer:   s.issuer,
		Subject:  subj.Sub,
		Audience: d.Server.Issuer,
		ClientID: d.ServerClientID,
		JTI:      randomID(18),
		IssuedAt: now.Unix(),
		Expiry:   now.Add(lifetime).Unix(),
		// The configured spelling: the request may differ by a trailing
		// slash, and the authorization server compares resource exactly
		// (EMA section 7.6).
		Resource: d.Resource,
		Scope:    strings.Join(d.Scopes, " "),
	}
	if !subj.AuthTime.IsZero() {
		claims.AuthTime = subj.AuthTime.Unix()
	}
	if d.Server.IncludeEmail && user != nil {
		claims.Email = user.Email
	}
	if jkt != "" {
		claims.Confirmation = &confirmation{JKT: jkt}
	}
	signer, serr := s.keys.idJAGKey().idJAGSigner()
	if serr != nil {
		return nil, errorf("server_error", http.StatusInternalServerError, "signing key unavailable")
	}
	jag, serr := s.signIDJAG(signer, claims, ev)
	if serr != nil {
		return nil, errorf("server_error", http.StatusInternalServerError, "signing failed")
	}
	ev.JTI, ev.ScopeGranted = claims.JTI, claims.Scope
	if jkt != "" {
		// The key's thumbprint is no secret, and tells an admin which
		// ID-JAGs only their client's key can redeem.
		if ev.Details == nil {
			ev.Details = map[string]any{}
		}
		ev.Details["cnf_jkt"] = jkt
	}
	return &exchangeResponse{
		IssuedTokenType: tokenTypeIDJAG,
		AccessToken:     jag,
		TokenType:       "N_A",
		ExpiresIn:       claims.Expiry - claims.IssuedAt,
		Scope:           claims.Scope,
	}, nil
}

// checkExchangeParams validates the RFC 8693 section 2.1 parameters for an
// ID-JAG request (spec.md section 3).
func checkExchangeParams(form url.Values) *oauthError {
	// One audience per ID-JAG (spec.md section 3); resource repeats are
	// legal in RFC 8707 and refused below with a better message.
	if dup := duplicated(form, "resource"); dup != "" {
		return duplicateParam(dup)
	}
	switch t := form.Get("requested_token_type"); t {
	case tokenTypeIDJAG:
	case "":
		return invalidRequest("requested_token_type is missing; ask for %s", tokenTypeIDJAG)
	default:
		return invalidRequest("requested_token_type %q is not supported; this IdP issues %s", t, tokenTypeIDJAG)
	}
	if form.Get("subject_token") == "" {
		return invalidRequest("subject_token is missing: send the user's ID token")
	}
	switch t := form.Get("subject_token_type"); t {
	case tokenTypeIDToken, tokenTypeRefresh:
	case "":
		return invalidRequest("subject_token_type is missing; use %s", tokenTypeIDToken)
	case tokenTypeSAML2:
		return invalidRequest("SAML 2.0 subject tokens are not supported by this IdP; use %s", tokenTypeIDToken)
	default:
		return invalidRequest("subject_token_type %q is not supported; use %s or %s", t, tokenTypeIDToken, tokenTypeRefresh)
	}
	if form.Get("actor_token") != "" && form.Get("actor_token_type") == "" {
		return invalidRequest("actor_token requires actor_token_type (RFC 8693 section 2.1)")
	}
	if form.Get("actor_token") == "" && form.Get("actor_token_type") != "" {
		return invalidRequest("actor_token_type must not be sent without actor_token (RFC 8693 section 2.1)")
	}
	if form.Get("audience") == "" {
		return invalidRequest("audience is missing: send the issuer of the MCP server's authorization server")
	}
	if len(form["resource"]) > 1 {
		return invalidRequest("one resource per ID-JAG: request a separate ID-JAG for each MCP server")
	}
	return nil
}
