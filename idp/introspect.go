package idp

import (
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/internal/httpjson"
)

// introspect is the token introspection endpoint (RFC 7662). It
// authenticates the client like the token endpoint does (client_secret_basic,
// client_secret_post, private_key_jwt: the methods discovery advertises;
// a public client may not introspect, RFC 7662 section 2.1), and shows a
// client only the access tokens issued to it: any other token is
// {"active": false}, so that one client cannot learn another's users
// (RFC 7662 section 4).
func (s *Server) introspect(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeOAuthError(w, r, errorf("invalid_request", http.StatusMethodNotAllowed, "the introspection endpoint accepts POST only (RFC 7662 section 2.1)"))
		return
	}
	if e := nonFormBody(r, "RFC 7662 section 2.1"); e != nil {
		writeOAuthError(w, r, e)
		return
	}
	if dup := repeatedParam(r.PostForm); dup != "" {
		// Our checks read a parameter's first value, op's form decoder its
		// last. The body's: the query is not read here.
		writeOAuthError(w, r, duplicateParam(dup, "3.2"))
		return
	}
	s.canonicalBasic(r)
	form := formFromValues(r.PostForm)
	c, err := s.authenticateClient(r, form)
	if err == nil && c.Public() {
		err = invalidClient("client %q has no credentials; introspection needs client authentication (RFC 7662 section 2.1)", c.ClientID)
		err.Denied = true // authenticated, and not allowed
	}
	if err != nil {
		s.auditEndpointRefusal(r, form, "introspection", err, "")
		writeOAuthError(w, r, err)
		return
	}
	tok := form.Get("token")
	if tok == "" {
		writeOAuthError(w, r, invalidRequest("token is missing (RFC 7662 section 2.1)"))
		return
	}
	resp := &oidc.IntrospectionResponse{}
	// A token of a user disabled or removed since is no longer active
	// (RFC 7662 section 2.2 leaves "active" to the server's policy).
	if at := s.liveAccessToken(tok); at != nil && at.ClientID == c.ClientID {
		resp.Active = true
		resp.Subject = at.Subject
		resp.ClientID = at.ClientID
		resp.Scope = at.Scopes
		resp.Expiration = oidc.FromTime(at.Expiry)
		resp.TokenType = "Bearer"
		if u := s.Config().UserBySub(at.Subject); u != nil {
			resp.Username = u.Username
		}
	} else if sub, other := s.otherClientsToken(tok, c.ClientID); other {
		// Another client's token is {"active": false} to this one
		// (RFC 7662 section 4), and a refusal, audited as the revocation
		// endpoint's is; the client got no error code, the event has none.
		e := &oauthError{Description: "token was not issued to this client; answered {\"active\": false} (RFC 7662 section 4)", Denied: true}
		s.auditEndpointRefusal(r, form, "introspection", e, sub)
	}
	httpjson.Write(w, http.StatusOK, resp)
}

// revoke is token revocation (RFC 7009), which op serves once the request
// is one: a POST whose client authenticates as at the token endpoint, with
// a token. op answered a missing token with 200, a GET like a POST, and a
// bad client_assertion with 400 invalid_request or invalid_grant; RFC 7009
// section 2.2.1 refers to RFC 6749 section 5.2: invalid_client (401) for a
// failed client authentication, invalid_request for a missing parameter.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeOAuthError(w, r, errorf("invalid_request", http.StatusMethodNotAllowed, "the revocation endpoint accepts POST only (RFC 7009 section 2.1)"))
		return
	}
	if e := nonFormBody(r, "RFC 7009 section 2.1"); e != nil {
		writeOAuthError(w, r, e)
		return
	}
	if dup := repeatedParam(r.PostForm); dup != "" {
		// Our checks read a parameter's first value, op's form decoder its
		// last. The body's: the query is not read here.
		writeOAuthError(w, r, duplicateParam(dup, "3.2"))
		return
	}
	s.canonicalBasic(r)
	form := formFromValues(r.PostForm)
	c, err := s.authenticateClient(r, form)
	if err != nil {
		s.auditEndpointRefusal(r, form, "revocation", err, "")
		writeOAuthError(w, r, err)
		return
	}
	if form.Get("token") == "" {
		writeOAuthError(w, r, invalidRequest("token is missing (RFC 7009 section 2.1)"))
		return
	}
	if sub, other := s.otherClientsToken(form.Get("token"), c.ClientID); other {
		// RFC 7009 section 2.1: the token must have been issued to the
		// client that revokes it. op's words, as storage.RevokeToken's.
		e := invalidClient("token was not issued to this client")
		e.Denied = true
		s.auditEndpointRefusal(r, form, "revocation", e, sub)
		writeOAuthError(w, r, e)
		return
	}
	// op reads r.Form, the query too, and takes the query's value of a
	// parameter in both (the token, the client): it must act on the
	// body, which was checked.
	r.Form = r.PostForm
	_, _, basic := r.BasicAuth()
	// op's refusals (a token of another client is its 401 invalid_client)
	// go out as RFC 6749 section 5.2's, as ours do.
	w = &revokeWriter{ResponseWriter: w}
	if basic && c.Public() {
		// A public client sent as Basic with an empty password
		// (golang.org/x/oauth2's way), which op's revocation takes for
		// a confidential client's: op gets client_id alone, as it
		// accepts it.
		r.Header.Del("Authorization")
		r.PostForm.Set("client_id", c.ClientID)
	}
	// A client assertion was verified by authenticateClient; op gets the
	// client_id and the client as authenticated, as at the code and
	// refresh grants (op's own check refused an EdDSA one, or one for the
	// token endpoint, with 400 invalid_grant).
	r = r.WithContext(handClientToOP(r.Context(), r.PostForm, c.ClientID, form.Get("client_assertion") != ""))
	s.serveOP(w, r)
}

// otherClientsToken answers the subject of tok when it is a refresh or
// access token issued to a client other than clientID. op's revocation
// tells them apart itself, but takes a refresh token it does not find
// for the client for an access token and decrypts it with its legacy
// AES-CFB, which turns any string into something: about one time in nine
// that held one ':' and op answered 200, the token left live, rather than
// its refusal (storage.RevokeToken).
func (s *Server) otherClientsToken(tok, clientID string) (sub string, other bool) {
	if rt, ok := s.store.refreshTokens.Get(tokenHash(tok)); ok {
		return rt.Subject, rt.ClientID != clientID
	}
	if at := s.accessTokenFor(tok); at != nil {
		return at.Subject, at.ClientID != clientID
	}
	return "", false
}

// auditEndpointRefusal records a request refused at the introspection or
// the revocation endpoint (endpoint names it as discovery does) as the
// token endpoint records its refusals: a token event, without grant_type,
// with the client as sent (clientIDFromRequest), the error the client got
// and its description. sub is the user of a token another client sent.
// Neither the token nor a secret is written. A refusal is rare: its fsync
// costs no answer that had none.
func (s *Server) auditEndpointRefusal(r *http.Request, form *tokenForm, endpoint string, e *oauthError, sub string) {
	s.auditEndpointAnswer(clientIDFromRequest(r, form), endpoint, e, sub)
}

// auditEndpointAnswer is auditEndpointRefusal of clientID: the client
// op authenticated at the revocation endpoint, for an answer of its own
// (RevokeToken's).
func (s *Server) auditEndpointAnswer(clientID, endpoint string, e *oauthError, sub string) {
	ev := audit.Event{
		Type:     audit.TypeToken,
		Outcome:  outcomeOf(e),
		Error:    e.Code,
		ClientID: clientID,
		Sub:      sub,
		Reason:   e.Reason,
		Details:  map[string]any{"endpoint": endpoint},
	}
	if ev.Reason == "" {
		ev.Reason = e.Description
	}
	if u := s.Config().UserBySub(sub); sub != "" && u != nil {
		ev.User = u.Username
	}
	_, _ = s.audit.Append(ev)
}

// revokeWriter gives op's error answers at the revocation endpoint the
// headers writeOAuthError gives ours: Cache-Control: no-store, and a
// Basic challenge on a 401 (RFC 6749 section 5.2, RFC 9110 section
// 15.5.2). Its 200, whose body RFC 7009 section 2.2 leaves empty, goes
// without op's Content-Type: application/json, which a client parsing
// the answer as its type says failed on, an empty body being no JSON.
type revokeWriter struct {
	http.ResponseWriter
}

func (w *revokeWriter) WriteHeader(status int) {
	if status == http.StatusOK {
		w.Header().Del("Content-Type")
	}
	if status >= http.StatusBadRequest {
		w.Header().Set("Cache-Control", "no-store")
		if status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
			w.Header().Set("WWW-Authenticate", basicChallenge)
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *revokeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
