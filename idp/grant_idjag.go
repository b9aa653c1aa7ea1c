package idp

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp/signer"
	"github.com/xaa-idp/xaa-idp/internal/jsonstr"
	"github.com/xaa-idp/xaa-idp/internal/urimatch"
	"github.com/xaa-idp/xaa-idp/policy"
)

// idJAGClaims are the claims of an ID-JAG (draft-ietf-oauth-identity-
// assertion-authz-grant section 3). aud is a single string unless the
// id_jag.aud knob asks for a one-element array.
type idJAGClaims struct {
	Issuer   string   `json:"iss"`
	Subject  string   `json:"sub"`
	Audience audience `json:"aud"`
	ClientID string   `json:"client_id"`
	JTI      string   `json:"jti"`
	IssuedAt int64    `json:"iat"`
	Expiry   int64    `json:"exp"`
	Resource string   `json:"resource,omitempty"`
	Scope    string   `json:"scope,omitempty"`
	AuthTime int64    `json:"auth_time,omitempty"`
	Email    string   `json:"email,omitempty"`
	// EmailVerified is sent with Email by the id_jag.email knob.
	EmailVerified bool `json:"email_verified,omitempty"`
	// Tenant is the issuer's tenant (ID-JAG draft section 3, "tenant"),
	// by the id_jag.tenant_claim knob.
	Tenant string `json:"tenant,omitempty"`
	// AudTenant is the resource's tenant at the authorization server
	// (the draft's "aud_tenant"): the server's aud_tenant.
	AudTenant string `json:"aud_tenant,omitempty"`
	// Confirmation binds the ID-JAG to the key of the exchange's DPoP
	// proof; nil without one.
	Confirmation *confirmation `json:"cnf,omitempty"`
}

// audience is an ID-JAG's "aud": one value, written as a string or, when
// array is set, as a one-element array (ID-JAG draft section 3).
type audience struct {
	value string
	array bool
}

// MarshalJSON implements json.Marshaler.
func (a audience) MarshalJSON() ([]byte, error) {
	if a.array {
		return json.Marshal([]string{a.value})
	}
	return json.Marshal(a.value)
}

// AppendJSON implements signer.JSONAppender: the claims as json.Marshal
// writes them (the struct tags' names and order, omitempty, aud as
// audience.MarshalJSON writes it), without reflection. The ring signs
// what it appends; TestIDJAGClaims_AppendJSONIsMarshal holds the two to
// the same bytes for every combination of claims.
func (c idJAGClaims) AppendJSON(b []byte) []byte {
	b = append(b, `{"iss":`...)
	b = jsonstr.Append(b, c.Issuer)
	b = append(b, `,"sub":`...)
	b = jsonstr.Append(b, c.Subject)
	b = append(b, `,"aud":`...)
	if c.Audience.array {
		b = append(b, '[')
		b = jsonstr.Append(b, c.Audience.value)
		b = append(b, ']')
	} else {
		b = jsonstr.Append(b, c.Audience.value)
	}
	b = append(b, `,"client_id":`...)
	b = jsonstr.Append(b, c.ClientID)
	b = append(b, `,"jti":`...)
	b = jsonstr.Append(b, c.JTI)
	b = append(b, `,"iat":`...)
	b = strconv.AppendInt(b, c.IssuedAt, 10)
	b = append(b, `,"exp":`...)
	b = strconv.AppendInt(b, c.Expiry, 10)
	b = appendOptional(b, `,"resource":`, c.Resource)
	b = appendOptional(b, `,"scope":`, c.Scope)
	if c.AuthTime != 0 {
		b = append(b, `,"auth_time":`...)
		b = strconv.AppendInt(b, c.AuthTime, 10)
	}
	b = appendOptional(b, `,"email":`, c.Email)
	if c.EmailVerified {
		b = append(b, `,"email_verified":true`...)
	}
	b = appendOptional(b, `,"tenant":`, c.Tenant)
	b = appendOptional(b, `,"aud_tenant":`, c.AudTenant)
	if c.Confirmation != nil {
		b = append(b, `,"cnf":{"jkt":`...)
		b = jsonstr.Append(b, c.Confirmation.JKT)
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendOptional appends the member name (with its leading comma) and
// value v, unless v is empty (omitempty).
func appendOptional(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	return jsonstr.Append(append(b, name...), v)
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

// AppendJSON appends the response as httpjson.Write writes it (encoding/json's
// Encoder: the struct tags' names and order, omitempty, a newline at the
// end), without reflection; TestExchangeResponse_AppendJSONIsEncoder holds
// the two to the same bytes.
func (e exchangeResponse) AppendJSON(b []byte) []byte {
	b = append(b, `{"issued_token_type":`...)
	b = jsonstr.Append(b, e.IssuedTokenType)
	b = append(b, `,"access_token":`...)
	b = jsonstr.Append(b, e.AccessToken)
	b = append(b, `,"token_type":`...)
	b = jsonstr.Append(b, e.TokenType)
	b = append(b, `,"expires_in":`...)
	b = strconv.AppendInt(b, e.ExpiresIn, 10)
	b = appendOptional(b, `,"scope":`, e.Scope)
	return append(b, '}', '\n')
}

// idJAGGrant is the token exchange for an ID-JAG (RFC 8693; ID-JAG draft
// section 4.3). The token endpoint authenticates the client first.
func (s *Server) idJAGGrant() grant {
	return grant{
		typ:        grantTokenExchange,
		clientAuth: true,
		event: func(form *tokenForm) audit.Event {
			return audit.Event{
				Type:           audit.TypeTokenExchange,
				GrantType:      grantTokenExchange,
				Audience:       form.Get("audience"),
				Resource:       form.Get("resource"),
				ScopeRequested: form.Get("scope"),
			}
		},
		serve: s.serveIDJAG,
	}
}

// serveIDJAG answers an authenticated client's token exchange with an
// ID-JAG or the refusal, and fills in the audit event.
func (s *Server) serveIDJAG(w *heldResponse, r *http.Request, req grantRequest) {
	resp, err := s.issueIDJAG(r, req.form, req.client, req.ev, false)
	if err != nil {
		refuse(w, r, req.ev, err)
		return
	}
	req.ev.Outcome = audit.Allowed
	w.holdJSON(http.StatusOK, len(resp.AccessToken)+len(resp.Scope)+160, resp.AppendJSON)
}

// issueIDJAG runs the exchange in the order of the ID-JAG draft's section
// 4.3.3, once the client is authenticated: check the parameters and the
// DPoP proof, validate the subject token, ask the policy (which resolves
// audience and resource and decides everything else), record the proof's
// jti, sign. waited is true when it runs again after
// awaitRevocationSecond.
func (s *Server) issueIDJAG(r *http.Request, form *tokenForm, c *policy.Client, ev *audit.Event, waited bool) (exchangeResponse, *oauthError) {
	if !c.TokenExchange {
		// Before anything else it sends (docs/http.md, "Processing"): a
		// client that may not exchange learns nothing about its subject
		// token or parameters. The policy says it the same way, and
		// resolves the audience, so that the event names its server as
		// every other refusal's does (since 2026-12-06).
		d := s.Config().Decide(policy.Request{ClientID: c.ClientID, Client: c, Audience: form.Get("audience")})
		if d.Server != nil {
			ev.Server = d.Server.ID
		}
		return exchangeResponse{}, decisionError(d, ev)
	}
	if err := checkExchangeParams(form); err != nil {
		return exchangeResponse{}, err
	}
	proof, err := s.checkDPoP(r)
	if err != nil {
		return exchangeResponse{}, err
	}

	var subj subject
	switch form.Get("subject_token_type") {
	case tokenTypeIDToken:
		subj, err = s.verifyIDToken(form.Get("subject_token"), c.ClientID)
	case tokenTypeRefresh:
		subj, err = s.verifyRefreshSubject(form.Get("subject_token"), c.ClientID)
	}
	cfg := s.Config()
	var user *policy.User
	if subj.Sub != "" {
		ev.Sub, user = subj.Sub, cfg.UserBySub(subj.Sub)
	}
	username := ""
	if user != nil {
		username, ev.User = user.Username, user.Username
	}
	if err != nil {
		// A refused subject token names its user only when it is ours and
		// sound (verifyIDToken), as for an ended session.
		return exchangeResponse{}, err
	}
	if user.Active() && s.LoginEnded(subj.Sub, subj.sid, subj.AuthTime) {
		// invalid_grant, as for an ended session: the token is sound, the
		// login behind it ended when its user was disabled or removed. A
		// user disabled or removed now is the policy's access_denied.
		return exchangeResponse{}, invalidGrant("user %q was disabled or removed after the login of the subject token; log the user in again", username)
	}

	now := s.now()
	d := cfg.Decide(policy.Request{
		Username:     username,
		Subject:      subj.Sub,
		ClientID:     c.ClientID,
		Client:       c,
		Audience:     form.Get("audience"),
		Resource:     form.Get("resource"),
		Scopes:       strings.Fields(form.Get("scope")),
		AuthTime:     subj.AuthTime,
		Now:          now,
		IdPIssuer:    s.issuer,
		OtherTenants: s.others,
	})
	if d.Allowed && !waited && s.awaitRevocationSecond(r.Context(), subj.Sub, d.Server.Issuer, now) {
		// Everything again in the next second: the user's standing may
		// have changed while it waited.
		return s.issueIDJAG(r, form, c, ev, true)
	}
	ev.Rule, ev.Reason = d.Rule, d.Reason
	if d.Server != nil {
		ev.Server = d.Server.ID
	}
	if len(d.Expired) > 0 {
		s.notifyAccessExpired(cfg, now)
	}
	if !d.Allowed {
		if d.Error == policy.ErrInsufficientUserAuthentication {
			s.noteStepUp(subj.Sub, c.ClientID, subj.AuthTime)
		}
		return exchangeResponse{}, decisionError(d, ev)
	}
	jkt, err := s.useDPoP(proof, subj.Sub)
	if err != nil {
		return exchangeResponse{}, err
	}

	if d.SingleUseFor > 0 && subj.key != "" {
		// Use checks and records in one step, so that concurrent
		// exchanges of one ID token cannot both pass. The user owns the
		// entry: one user exchanging fresh ID tokens by the thousand is
		// refused at their share, not every user (UseShared).
		// Until the ID token is refused as expired anyway, which
		// lifetimes.id_token longer than the refresh token's puts after
		// SingleUseFor.
		key, until := subj.key+"\x00"+d.Server.ID, now.Add(d.SingleUseFor)
		if subj.refusedFrom.After(until) {
			until = subj.refusedFrom
		}
		if err := s.usedSubjects.UseShared(key, subj.Sub, until, now); err != nil {
			return exchangeResponse{}, replayRefusal(err, invalidGrant("this subject token was already exchanged for %s; single-use subject tokens are enabled (exchange.single_use_subject)", d.Server.Issuer))
		}
		// Kept in the state directory, which keeps the keys that
		// verify the token.
		s.ended.recordUse(endedRecord{Kind: usedSubjectKind, Key: key, Exp: until})
	}

	lifetime := cfg.Lifetimes.IDJAG.D()
	knobs := cfg.Knobs()
	claims := idJAGClaims{
		Issuer:   s.issuer,
		Subject:  subj.Sub,
		Audience: audience{value: d.Server.Issuer, array: knobs.Aud == policy.AudArray},
		ClientID: d.ServerClientID,
		JTI:      randomID(18),
		IssuedAt: now.Unix(),
		Expiry:   idJAGExpiry(now, lifetime, d.Until),
		// The configured spelling: the request may differ by a trailing
		// slash, and the authorization server compares resource exactly
		// (EMA section 7.6).
		Resource: d.Resource,
		Scope:    strings.Join(d.Scopes, " "),
	}
	if !subj.AuthTime.IsZero() {
		claims.AuthTime = subj.AuthTime.Unix()
	}
	if !knobs.ResourceClaim {
		claims.Resource = ""
	}
	if (d.Server.IncludeEmail || knobs.Email) && user != nil {
		claims.Email = user.Email
		claims.EmailVerified = knobs.Email && user.Email != ""
	}
	if knobs.TenantClaim {
		claims.Tenant = s.tenant
	}
	claims.AudTenant = d.Server.AudTenant
	ctx := r.Context()
	if anyIDJAGFault(s.faults.list()) {
		// The fault hook matches ID-JAG faults against the event
		// (faultSigner); without them, no context to make.
		ctx = withExchangeEvent(ctx, ev)
	}
	// Always the server's algorithm, not only when it differs from the
	// configuration's: the signer's own ID-JAG key has the algorithm of
	// the start, and a change since (a reload, a persona) may name
	// another, which went unused.
	ctx = signer.WithIDJAGAlg(ctx, d.Server.IDJAGAlg(cfg))
	if jkt != "" {
		claims.Confirmation = &confirmation{JKT: jkt}
	}
	// Recorded before signing: an id_jag fault (faultSigner) records
	// what its broken ID-JAG carries instead, no jti under missing_jti.
	ev.JTI, ev.ScopeGranted = claims.JTI, claims.Scope
	if ev.Details == nil {
		ev.Details = make(map[string]any, 3)
	}
	// The identity chain, for an admin following a login to an access
	// token: the subject token the ID-JAG came from, and the client_id it
	// carries at the MCP server's authorization server (ID-JAG draft
	// section 3.1), which that server compares with the client it
	// authenticates.
	ev.Details["client_id_at_server"] = claims.ClientID
	ev.Details["subject_token_type"] = form.Get("subject_token_type")
	if jkt != "" {
		// The key's thumbprint is no secret, and tells an admin which
		// ID-JAGs only their client's key can redeem.
		ev.Details["cnf_jkt"] = jkt
	}
	jag, serr := s.signer.SignIDJAG(ctx, claims)
	if serr != nil {
		slog.Error("cannot sign the ID-JAG", "err", serr)
		ev.JTI, ev.ScopeGranted = "", "" // none issued
		for _, k := range []string{"client_id_at_server", "subject_token_type", "cnf_jkt"} {
			delete(ev.Details, k)
		}
		return exchangeResponse{}, errorf("server_error", http.StatusInternalServerError, "signing failed")
	}
	return exchangeResponse{
		IssuedTokenType: tokenTypeIDJAG,
		AccessToken:     jag,
		TokenType:       "N_A",
		ExpiresIn:       claims.Expiry - claims.IssuedAt,
		// The scope of the ID-JAG issued (RFC 8693 section 2.2.1), as
		// its event records it: an unknown_scope fault's has one more.
		Scope: ev.ScopeGranted,
	}, nil
}

// idJAGExpiry is the exp of an ID-JAG issued at now: now plus the
// lifetime, but not past until, when the access it asserts ends then
// (an access entry's expires, docs/configuration.md "Time-bound access").
// An end between iat and the next second rounds up to it, so that the
// ID-JAG is not expired when issued. exp - iat is the lifetime in whole
// seconds, wherever in its second now is: never longer than configured.
func idJAGExpiry(now time.Time, lifetime time.Duration, until time.Time) int64 {
	exp := now.Unix() + int64(lifetime/time.Second)
	if until.IsZero() {
		return exp
	}
	end := until.Unix()
	if end <= now.Unix() {
		end = now.Unix() + 1
	}
	return min(exp, end)
}

// decisionError maps a refusal of the policy to the OAuth error answer,
// and records in ev whether it was a denial (Decision.Denied). Every policy
// refusal is a 400 (RFC 6749 section 5.2); step-up carries max_age (ID-JAG
// draft section 9.2, RFC 9470 section 3).
func decisionError(d policy.Decision, ev *audit.Event) *oauthError {
	e := errorf(d.Error, http.StatusBadRequest, "%s", d.Description)
	e.Reason, e.Rule = d.Reason, d.Rule
	if d.MaxAge > 0 {
		e.Extra = map[string]any{"max_age": int64(d.MaxAge / time.Second)}
	}
	if d.Denied() {
		ev.Outcome = audit.Denied
	}
	return e
}

// checkExchangeParams checks the form of the RFC 8693 section 2.1
// parameters for an ID-JAG request (ID-JAG draft section 4.3.1), before
// the DPoP proof and the subject token (docs/http.md, "Processing"): a
// missing audience too, which the policy also refuses (for explain).
// Whether audience and resource name a server, and whether a missing
// resource is allowed, is the policy's decision.
func checkExchangeParams(form *tokenForm) *oauthError {
	// One audience per ID-JAG (ID-JAG draft section 4.3.1); resource
	// repeats are legal in RFC 8707: the same URL repeated is one
	// resource, different ones are refused below with a better message.
	if dup := form.duplicated("resource"); dup != "" {
		return duplicateParam(dup, "3.2")
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
	if t := form.Get("subject_token_type"); t != tokenTypeIDToken && t != tokenTypeRefresh {
		return subjectTypeRefusal(t)
	}
	if form.Get("audience") == "" {
		return invalidRequest("audience is required: the issuer URL of the MCP server's authorization server")
	}
	if form.Get("actor_token") != "" && form.Get("actor_token_type") == "" {
		return invalidRequest("actor_token requires actor_token_type (RFC 8693 section 2.1)")
	}
	if form.Get("actor_token") == "" && form.Get("actor_token_type") != "" {
		return invalidRequest("actor_token_type must not be sent without actor_token (RFC 8693 section 2.1)")
	}
	// ASCII white space separates (docs/http.md); strings.FieldsSeq would
	// split at a no-break space, U+0085 and the like too, and pass the
	// tokens either side of a non-ASCII character.
	for sc := range strings.FieldsFuncSeq(form.Get("scope"), policy.ScopeSpace) { // no slice on an exchange's path
		if !policy.ValidScope(sc) {
			// Quoted, as the server's own scopes never need to be: a
			// quote in the token would read as the quotes of a known one.
			return errorf(policy.ErrInvalidScope, http.StatusBadRequest, "scope %q is malformed: a scope is printable ASCII without spaces, quotes or backslashes, and scopes are separated by spaces (RFC 6749 section 3.3)", sc)
		}
	}
	if other := otherResource(form); other != "" {
		return invalidRequest("one resource per ID-JAG, and resources %q and %q were sent: request a separate ID-JAG for each MCP server", form.Get("resource"), other)
	}
	return checkAuthorizationDetails(form.Get("authorization_details"))
}

// otherResource returns the first resource value that names another URL
// than the first one, or "": the same URL sent twice, in any spelling
// urimatch.Same accepts, is one resource (docs/http.md, "URL matching").
func otherResource(form *tokenForm) string {
	first := form.Get("resource")
	for _, p := range form.params {
		if p.name == "resource" && p.value != "" && !urimatch.Same(first, p.value) {
			return p.value
		}
	}
	return ""
}

// checkAuthorizationDetails refuses what an authorization_details
// parameter (RFC 9396; ID-JAG draft section 4.3.1) asks for: this IdP
// grants by scope and resource only and knows no authorization details
// type, and RFC 9396 section 5 has it refuse an unknown type
// (invalid_authorization_details) rather than issue an ID-JAG without
// the details the client asked for. An empty array asks for nothing.
func checkAuthorizationDetails(v string) *oauthError {
	if v == "" {
		return nil
	}
	var details []map[string]json.RawMessage
	if err := json.Unmarshal([]byte(v), &details); err != nil || details == nil || slices.ContainsFunc(details, func(d map[string]json.RawMessage) bool { return d == nil }) {
		return invalidRequest("authorization_details is not a JSON array of objects (RFC 9396 section 2)")
	}
	if len(details) == 0 {
		return nil
	}
	raw, ok := details[0]["type"]
	if !ok {
		return errorf("invalid_authorization_details", http.StatusBadRequest, "an authorization_details object has no type (RFC 9396 section 2)")
	}
	var typ string
	if err := json.Unmarshal(raw, &typ); err != nil || typ == "" {
		return errorf("invalid_authorization_details", http.StatusBadRequest, "an authorization_details object's type is not a string naming a type (RFC 9396 section 2)")
	}
	return errorf("invalid_authorization_details", http.StatusBadRequest, "authorization_details type %q is not supported: this IdP grants ID-JAGs by scope and resource only (RFC 9396 section 5)", typ)
}

// subjectTypeRefusal is the answer to a subject_token_type this IdP does
// not take (RFC 8693 section 3 defines more than its two): what was sent,
// and what to send instead.
func subjectTypeRefusal(t string) *oauthError {
	const instead = "send the user's ID token with subject_token_type " + tokenTypeIDToken + ", or a refresh token this IdP issued with " + tokenTypeRefresh
	switch t {
	case "":
		return invalidRequest("subject_token_type is missing: %s", instead)
	case tokenTypeSAML2, tokenTypeSAML1:
		return invalidRequest("SAML assertions are not accepted as subject tokens (this IdP signs users in with OpenID Connect): %s", instead)
	case tokenTypeAccess:
		return invalidRequest("access tokens are not accepted as subject tokens (one says what its bearer may call, not who signed in): %s", instead)
	case tokenTypeJWT:
		return invalidRequest("subject_token_type %s names no kind of token: if the subject token is an ID token of this IdP, send it with subject_token_type %s; otherwise %s", t, tokenTypeIDToken, instead)
	case tokenTypeIDJAG:
		return invalidRequest("an ID-JAG is what this IdP issues, not a subject token it takes (exchange the ID token it came from again): %s", instead)
	}
	return invalidRequest("subject_token_type %q is not accepted: %s", t, instead)
}
