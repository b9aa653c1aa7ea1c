package idp

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/internal/httpjson"
)

// handClientToOP readies form, which op reads, for the client id that we
// authenticated. asserted, with a client assertion we verified as the
// token exchange does: op would verify it again with RS256, ES256 and
// PS256 alone (its JWT profile verifier takes no list) and the issuer
// alone as aud, refusing an EdDSA one, which discovery announces, as
// "signature algorithm not supported", or one for the token endpoint, so
// op gets the client_id instead, and the context it returns has op take
// the client as authenticated (assertedKey, models.go client.AuthMethod).
// Otherwise a client_assertion_type without a client_assertion, which the
// token exchange ignores, is dropped: op took it for an assertion and
// answered "token contains an invalid number of segments". Used by the
// code and refresh grants (serveWithOP) and the revocation (revoke).
func handClientToOP(ctx context.Context, form url.Values, id string, asserted bool) context.Context {
	form.Del("client_assertion_type")
	if !asserted {
		return ctx
	}
	form.Del("client_assertion")
	form.Set("client_id", id)
	return context.WithValue(ctx, assertedKey, id)
}

// opGrant is the authorization_code or the refresh_token grant (RFC 6749
// sections 4.1.3 and 6), which zitadel's op serves: it authenticates the
// client, redeems the code or refresh token through the storage adapter
// (storage.go) and builds the answer. The token endpoint holds that answer
// until its audit event is durable.
func (s *Server) opGrant(typ string) grant {
	return grant{
		typ:        typ,
		clientAuth: false, // op authenticates the client itself
		event: func(*tokenForm) audit.Event {
			return audit.Event{Type: audit.TypeToken, GrantType: typ, Outcome: audit.Allowed}
		},
		serve: s.serveWithOP,
	}
}

// serveWithOP runs the grant through zitadel, puts the IdP's clock into a
// successful answer, and fills in the audit event from what the storage
// learnt and what op answered.
func (s *Server) serveWithOP(w *heldResponse, r *http.Request, req grantRequest) {
	asserted, e := s.checkOPClient(r, req.form, req.ev)
	if e == nil && req.ev.GrantType == grantAuthorizationCd {
		e = checkCodeVerifier(req.form.Get("code_verifier"))
	}
	if e != nil {
		refuse(w, r, req.ev, e)
		return
	}
	// A usual request's form was parsed into req.form alone (parseForm);
	// op reads r.Form and r.PostForm, and must not see empty parameters,
	// which are absent ones (docs/http.md, "Token endpoint"), nor one
	// its decoder would take for another (ignoreFoldedNames).
	r.PostForm = req.form.presentValues()
	ignoreFoldedNames(r.PostForm)
	note := &tokenNote{requester: req.ev.ClientID}
	if !asserted {
		note.requester = clientIDFromRequest(r, req.form)
	}
	ctx := context.WithValue(r.Context(), tokenNoteKey, note)
	ctx = handClientToOP(ctx, r.PostForm, req.ev.ClientID, asserted)
	// op reads r.Form, the query too, and takes the query's value of a
	// parameter in both: it must act on the body, which was checked.
	r.Form = r.PostForm
	s.provider.ServeHTTP(w, r.WithContext(ctx))
	if w.status == http.StatusOK {
		if err := dropIDTokenWithoutOpenID(w); err != nil {
			slog.Error("cannot read the token response; tokens withheld", "grant_type", req.ev.GrantType, "err", err)
			w.reset()
			writeOAuthError(w, r, errorf("server_error", http.StatusInternalServerError, "the token response could not be completed"))
		} else if err := s.restampTokenResponse(w); err != nil {
			slog.Error("cannot put the IdP clock into the token response; tokens withheld", "grant_type", req.ev.GrantType, "err", err)
			w.reset()
			writeOAuthError(w, r, errorf("server_error", http.StatusInternalServerError, "the token response could not be completed"))
		}
	}

	ev := req.ev
	note.mu.Lock()
	ev.Sub, ev.ClientID, ev.ScopeGranted = note.subject, note.clientID, strings.Join(note.scopes, " ")
	note.mu.Unlock()
	if ev.ClientID == "" {
		ev.ClientID = clientIDFromRequest(r, req.form)
	}
	if u := s.Config().UserBySub(ev.Sub); u != nil {
		ev.User = u.Username
	}
	if w.status >= 400 {
		note.mu.Lock()
		refusal, said := note.refusal, note.said
		note.mu.Unlock()
		code, desc := describeRefusal(w, said, req.form.Get("redirect_uri") != "")
		ev.Outcome, ev.Error, ev.Reason = audit.Error, code, desc
		if refusal != "" {
			ev.Reason = refusal
		}
	}
}

// checkCodeVerifier refuses a code_verifier that is not 43 to 128
// characters of the unreserved set (RFC 7636 section 4.1), before op
// compares its hash with the challenge: a shorter one is guessable. The
// code is left for the right verifier. op refuses a missing one.
func checkCodeVerifier(v string) *oauthError {
	if v == "" || validCodeChallenge(v) {
		return nil
	}
	return invalidRequest("code_verifier must be 43 to 128 characters of A-Z, a-z, 0-9, '-', '.', '_' and '~' (RFC 7636 section 4.1); this one has %d bytes or another character", len(v))
}

// tokenNote collects, during a grant op serves, what the storage learnt
// about the request, for the audit event.
type tokenNote struct {
	mu       sync.Mutex
	subject  string
	clientID string
	scopes   []string
	// refusal is the storage's reason for a refusal that op answers with
	// a bare invalid_grant, for the audit log.
	refusal string
	// said, when set, is the answer's error_description in place of op's
	// (noteUserGone).
	said string
	// requester is the client_id the request authenticates as, which op
	// compares with the code's or refresh token's after the storage's
	// checks.
	requester string
}

// note runs set on the request's tokenNote, if it has one, under its lock.
func note(ctx context.Context, set func(n *tokenNote)) {
	n, _ := ctx.Value(tokenNoteKey).(*tokenNote)
	if n == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	set(n)
}

func noteTokenRequest(ctx context.Context, req op.TokenRequest) {
	note(ctx, func(n *tokenNote) {
		n.subject, n.clientID, n.scopes = req.GetSubject(), clientIDOf(req), req.GetScopes()
	})
}

// noteSubject records the subject of a code or refresh token the storage
// found but refuses (a user disabled or removed since), for the audit
// event: op notes it only for a grant it answers.
func noteSubject(ctx context.Context, sub string) {
	note(ctx, func(n *tokenNote) { n.subject = sub })
}

// noteRefusal records why the storage refused a grant, for the audit event.
func noteRefusal(ctx context.Context, reason string) {
	note(ctx, func(n *tokenNote) { n.refusal = reason })
}

// describeRefusal returns the code and description of a held error answer.
// zitadel keeps the reason of some refusals (an unknown refresh token) only
// as the error's parent, which it logs but does not send; such an answer
// gets a generic error_description, so that the client and the audit log
// learn what went wrong. desc is the description as op wrote it, for the
// audit; the answer's is a wireDescription. said, when not "", is the
// answer's description instead of op's (or of the generic one). op's own
// descriptions are said again by restateOPRefusal; withRedirect is whether
// the request sent a redirect_uri.
func describeRefusal(rec *heldResponse, said string, withRedirect bool) (code, desc string) {
	var body map[string]any
	if err := json.Unmarshal(rec.body.Bytes(), &body); err != nil || body == nil {
		return "", ""
	}
	code, _ = body["error"].(string)
	sent, _ := body["error_description"].(string)
	desc = restateOPRefusal(sent, withRedirect)
	wire := wireDescription(desc)
	switch {
	case said != "":
		wire = wireDescription(said)
		if desc == "" {
			desc = said
		}
	case desc == "":
		desc = genericRefusal(code)
		wire = desc
	case wire == sent && !httpjson.HTMLEscaped(rec.body.Bytes()):
		return code, desc
	}
	body["error_description"] = wire
	rec.body.Reset()
	_ = httpjson.NewEncoder(rec.body).Encode(body)
	rec.header.Del("Content-Length")
	return code, desc
}

// restateOPRefusal is the description op wrote at the code or refresh
// grant, said so that it names what was wrong, what was expected and what
// to do next: op's "invalid code" is every code the storage does not give
// back (unknown, used, expired, another client's), which the generic
// description says ("" stands for it), and op checks the redirect_uri and
// the code_verifier once it holds the code, which is then used up. A
// description op does not write this way is returned as it is.
func restateOPRefusal(desc string, withRedirect bool) string {
	const usedUp = "; this code is now used up: log in again"
	switch desc {
	case "invalid code":
		return ""
	case "code missing":
		return "code is missing; send the code of the authorization response (RFC 6749 section 4.1.3)"
	case "refresh_token missing":
		return "refresh_token is missing; send the refresh token of an earlier token response (RFC 6749 section 6)"
	case "code_verifier required":
		return "code_verifier is missing: send the PKCE verifier whose S256 hash was the authorization request's code_challenge (RFC 7636 section 4.5)" + usedUp
	case "invalid code_verifier":
		return "code_verifier does not match the authorization request's code_challenge: its S256 hash differs (RFC 7636 section 4.6)" + usedUp
	case "redirect_uri does not correspond":
		if !withRedirect {
			return "redirect_uri is missing: send the redirect_uri of the authorization request (RFC 6749 section 4.1.3)" + usedUp
		}
		return "redirect_uri is not the one the authorization request sent: send the same URI (RFC 6749 section 4.1.3)" + usedUp
	}
	return desc
}

// genericRefusal is the description of an error answer op sent without
// one.
func genericRefusal(code string) string {
	switch code {
	case "invalid_grant":
		return "the authorization code or refresh token is unknown, expired, revoked, already used or issued to another client, or its user was disabled or removed, or it was issued before the IdP last started (codes do not outlive a restart, nor do refresh tokens without --state-dir: log in again)"
	case "invalid_scope":
		// op's refresh grant, for a scope the login did not grant.
		return "the scope asks for more than the login granted: a refresh may ask for the login's scopes or fewer (RFC 6749 section 6)"
	default:
		return "the token request was refused: " + code
	}
}
