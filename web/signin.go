package web

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/gorilla/sessions"
)

// metadata is the part of the IdP's discovery document the console uses.
type metadata struct {
	Issuer                string `json:"issuer"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
	JWKSURI               string `json:"jwks_uri"`
	EndSessionEndpoint    string `json:"end_session_endpoint"`
}

func (c *Console) discover(ctx context.Context) (*metadata, error) {
	req, err := c.newRequest(ctx, http.MethodGet, "/.well-known/openid-configuration", nil)
	if err != nil {
		return nil, err
	}
	a := c.do(req)
	var m metadata
	if a.Status != http.StatusOK {
		return nil, fmt.Errorf("discovery answered %d", a.Status)
	}
	if err := a.decode(&m); err != nil {
		return nil, err
	}
	return &m, nil
}

// signIn starts the code flow with PKCE at the IdP (RFC 6749 section 4.1,
// RFC 7636): the admin signs in on the IdP's own login page, or not at
// all with a live single sign-on. ?prompt=login asks for the password
// again (to switch users).
func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	next := consolePath(q.Get("next"))
	// The IdP sends the browser back to the issuer's host; the sign-in
	// state must be in a cookie there, not on another name for the same
	// server (localhost for 127.0.0.1). "moved" stops a loop behind a
	// proxy that rewrites Host.
	if r.Host != c.issuer.Host && q.Get("moved") == "" {
		q.Set("moved", "1")
		http.Redirect(w, r, c.idp.Issuer()+"/admin/signin?"+q.Encode(), http.StatusSeeOther)
		return
	}
	// A signed-in admin keeps the session: signing in again through the
	// single sign-on would end it and its CSRF token, and with them the
	// forms of every console page open in the browser, for a bookmark,
	// another tab, or another site's link (SameSite=Lax lets it carry the
	// cookie). prompt=login, to switch users, signs in anew.
	if _, u := c.signedIn(r); u.MayAdminister() && q.Get("prompt") != "login" {
		http.Redirect(w, r, c.url(next), http.StatusSeeOther)
		return
	}
	meta, err := c.discover(r.Context())
	if err != nil {
		c.errorPage(w, r, nil, http.StatusInternalServerError, "Sign-in is unavailable", "The IdP's discovery document could not be read: "+err.Error())
		return
	}
	s := c.session(r)
	state, verifier, nonce := randomString(24), randomString(48), randomString(24)
	s.Values[keyState], s.Values[keyVerifier], s.Values[keyNonce], s.Values[keyNext] = state, verifier, nonce, next
	// The state sent carries the page too, which the session keeps for
	// the latest sign-in only (callback).
	state += "." + base64.RawURLEncoding.EncodeToString([]byte(next))
	if q.Get("again") != "" {
		state += ".again"
	}
	if err := saveSession(r, w, s); err != nil {
		c.errorPage(w, r, nil, http.StatusInternalServerError, "Sign-in is unavailable", err.Error())
		return
	}
	sum := sha256.Sum256([]byte(verifier))
	auth := url.Values{
		"response_type":         {"code"},
		"client_id":             {ClientID},
		"redirect_uri":          {c.redirect},
		"scope":                 {"openid profile"},
		"state":                 {state},
		"nonce":                 {nonce},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	if q.Get("prompt") == "login" {
		auth.Set("prompt", "login")
	}
	http.Redirect(w, r, meta.AuthorizationEndpoint+"?"+auth.Encode(), http.StatusSeeOther)
}

// callback completes the sign-in: it redeems the code at the IdP's token
// endpoint, verifies the ID token, and signs the user in if, and only if,
// the running configuration says admin: true.
func (c *Console) callback(w http.ResponseWriter, r *http.Request) {
	s := c.session(r)
	q := r.URL.Query()
	state, verifier, nonce, next := sessionString(s, keyState), sessionString(s, keyVerifier), sessionString(s, keyNonce), sessionString(s, keyNext)
	sent, page, _ := strings.Cut(q.Get("state"), ".")
	if state == "" || !tokenMatches(state, sent) {
		// Not this session's sign-in in progress: a second tab's
		// (the session keeps the latest), or one completed already. The
		// code is not redeemed either way. The state's page, a console
		// page (consolePath), is the tab's.
		page, again := strings.CutSuffix(page, ".again")
		tabPage := "/admin/"
		b, err := base64.RawURLEncoding.DecodeString(page)
		ownPage := err == nil && page != "" && !strings.Contains(page, ".")
		if ownPage {
			tabPage = consolePath(string(b))
		}
		// When the admin is signed in by now, the console is the way on,
		// at the tab's page (until 2026-12-06 the overview).
		if _, u := c.signedIn(r); u.MayAdminister() {
			http.Redirect(w, r, c.url(tabPage), http.StatusSeeOther)
			return
		}
		// Else the sign-in of the tab signed in at the IdP starts again
		// for its page, once (".again" marks it): with the IdP's single
		// sign-on it completes without a password. It answered 400
		// until 2026-12-06, and its button led to the overview.
		if ownPage && !again {
			http.Redirect(w, r, c.url("/admin/signin?again=1&next="+url.QueryEscape(tabPage)), http.StatusSeeOther)
			return
		}
		c.errorPage(w, r, nil, http.StatusBadRequest, "This sign-in cannot be completed",
			"The sign-in expired, was already used, or was started at another address than "+c.idp.Issuer()+"/admin/. Sign in again.")
		return
	}
	// Where the sign-in goes on to, or starts again from.
	next = consolePath(next)
	// One use: a replayed callback finds no state.
	for _, k := range []string{keyState, keyVerifier, keyNonce, keyNext} {
		delete(s.Values, k)
	}
	if err := s.Save(r, w); err != nil {
		c.errorPage(w, r, nil, http.StatusInternalServerError, "Sign-in failed", err.Error())
		return
	}
	if e := q.Get("error"); e != "" {
		c.errorPage(w, r, nil, http.StatusForbidden, "The IdP did not sign you in", e+": "+q.Get("error_description"))
		return
	}
	in, err := c.redeem(r.Context(), q.Get("code"), verifier, nonce)
	if errors.Is(err, errCodeRefused) {
		// The callback's code (made up, or used already) is the request's
		// fault, not the IdP's: 400, and a new sign-in is the way on.
		c.errorPageTo(w, r, nil, http.StatusBadRequest, "This sign-in cannot be completed",
			"The IdP did not accept this sign-in's code ("+err.Error()+"): it was used already, or is not one the IdP issued. Sign in again.",
			"Sign in again", "/admin/signin?next="+url.QueryEscape(next))
		return
	}
	if err != nil {
		c.errorPage(w, r, nil, http.StatusBadGateway, "Sign-in failed", err.Error())
		return
	}
	u := c.adminAPI.Config().UserBySub(in.sub)
	if !u.Active() {
		c.errorPage(w, r, nil, http.StatusForbidden, "Sign-in refused", "The signed-in user is unknown or disabled.")
		return
	}
	if !u.MayAdminister() {
		c.refuse(w, r, u)
		return
	}
	// A fresh CSRF token with every sign-in: nothing planted before it
	// counts afterwards.
	// A new session id with every sign-in, and the one before it ended:
	// switching users leaves no second session behind.
	c.sessions.end(sessionString(s, keyID))
	s.Values[keyID] = c.sessions.start(in.sid)
	s.Values[keyUser], s.Values[keySub], s.Values[keyCSRF] = u.Username, u.Sub, randomString(32)
	s.Values[keySID], s.Values[keyAuthTime] = in.sid, strconv.FormatInt(in.authTime.Unix(), 10)
	s.Values[keyIDToken] = in.idToken
	if err := saveSession(r, w, s); err != nil {
		c.errorPage(w, r, nil, http.StatusInternalServerError, "Sign-in failed", err.Error())
		return
	}
	http.Redirect(w, r, c.url(next), http.StatusSeeOther)
}

// saveSession saves s; when the cookie would be too long for browsers
// (securecookie's 4096 bytes: an ID token with large claims, a long next),
// it saves s without the ID token, whose sign-out then has the IdP ask
// the admin once more instead of failing the sign-in.
func saveSession(r *http.Request, w http.ResponseWriter, s *sessions.Session) error {
	err := s.Save(r, w)
	if _, ok := s.Values[keyIDToken]; err != nil && ok {
		delete(s.Values, keyIDToken)
		err = s.Save(r, w)
	}
	return err
}

// idTokenAlgs are the algorithms the IdP may sign ID tokens with.
var idTokenAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA}

// login is who the IdP signed in, from the verified ID token: the subject,
// the SSO session (sid) and the time of the login (auth_time).
type login struct {
	sub, sid string
	authTime time.Time
	idToken  string // as the IdP issued it
}

// errCodeRefused is the token endpoint's invalid_grant for the code of a
// callback: one made up or used already, which the request brought.
var errCodeRefused = errors.New("invalid_grant")

// redeem exchanges the code for tokens and returns the verified ID
// token's login (OIDC Core section 3.1.3.7).
func (c *Console) redeem(ctx context.Context, code, verifier, nonce string) (login, error) {
	meta, err := c.discover(ctx)
	if err != nil {
		return login{}, err
	}
	a, err := c.postForm(ctx, meta.TokenEndpoint, url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {c.redirect},
		"code_verifier": {verifier},
	}, ClientID, c.secret)
	if err != nil {
		return login{}, err
	}
	var tokens struct {
		IDToken     string `json:"id_token"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := a.decode(&tokens); err != nil {
		return login{}, fmt.Errorf("token endpoint: %w", err)
	}
	if a.Status == http.StatusBadRequest && tokens.Error == "invalid_grant" {
		return login{}, fmt.Errorf("%w: %s", errCodeRefused, tokens.Description)
	}
	if a.Status != http.StatusOK || tokens.IDToken == "" {
		return login{}, fmt.Errorf("the token endpoint refused the code (%d %s: %s)", a.Status, tokens.Error, tokens.Description)
	}
	req, err := c.newRequest(ctx, http.MethodGet, meta.JWKSURI, nil)
	if err != nil {
		return login{}, err
	}
	var keys jose.JSONWebKeySet
	if err := c.do(req).decode(&keys); err != nil {
		return login{}, fmt.Errorf("jwks: %w", err)
	}
	return verifyIDToken(tokens.IDToken, &keys, c.idp.Issuer(), nonce, c.adminAPI.Now())
}

func verifyIDToken(raw string, keys *jose.JSONWebKeySet, issuer, nonce string, now time.Time) (login, error) {
	tok, err := jwt.ParseSigned(raw, idTokenAlgs)
	if err != nil {
		return login{}, fmt.Errorf("ID token: %w", err)
	}
	candidates := keys.Key(tok.Headers[0].KeyID)
	if len(candidates) == 0 {
		return login{}, fmt.Errorf("ID token: no key %q in the IdP's JWKS", tok.Headers[0].KeyID)
	}
	var claims struct {
		jwt.Claims
		Nonce    string `json:"nonce"`
		SID      string `json:"sid"`
		AuthTime int64  `json:"auth_time"`
	}
	if err := tok.Claims(candidates[0], &claims); err != nil {
		return login{}, fmt.Errorf("ID token: %w", err)
	}
	if err := claims.ValidateWithLeeway(jwt.Expected{Issuer: issuer, AnyAudience: jwt.Audience{ClientID}, Time: now}, time.Minute); err != nil {
		return login{}, fmt.Errorf("ID token: %w", err)
	}
	if !tokenMatches(nonce, claims.Nonce) {
		return login{}, errors.New("ID token: the nonce differs from the sign-in's")
	}
	if claims.Subject == "" {
		return login{}, errors.New("ID token: no subject")
	}
	return login{sub: claims.Subject, sid: claims.SID, authTime: time.Unix(claims.AuthTime, 0), idToken: raw}, nil
}

// signOut ends the console session, then the IdP's single sign-on
// (OpenID RP-Initiated Logout), so that the next sign-in asks for a
// password and can be another user.
//
// The console's ID token goes as id_token_hint, so that the IdP ends its
// SSO session without asking (RP-Initiated Logout 1.0 section 2): the
// admin asked by clicking "Sign out". Without a session (signed out in
// another tab) there is none, and the IdP asks if the browser is still
// signed in there.
func (c *Console) signOut(w http.ResponseWriter, r *http.Request) {
	s := c.session(r)
	hint := sessionString(s, keyIDToken)
	// Ended on the server: a copy of the cookie is refused from now on.
	c.sessions.end(sessionString(s, keyID))
	s.Values = map[any]any{}
	opts := *c.store.Options
	opts.MaxAge = -1
	s.Options = &opts
	_ = s.Save(r, w)
	target := c.url("/admin/signed-out")
	if meta, err := c.discover(r.Context()); err == nil && meta.EndSessionEndpoint != "" {
		q := url.Values{
			"client_id":                {ClientID},
			"post_logout_redirect_uri": {c.signedOut},
		}
		if hint != "" {
			q.Set("id_token_hint", hint)
		}
		target = meta.EndSessionEndpoint + "?" + q.Encode()
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func (c *Console) signedOutPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, http.StatusOK, "signedout.html", page{Title: "Signed out"})
}
