package idp

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp/signer"
	"github.com/xaa-idp/xaa-idp/internal/cimd"
	"github.com/xaa-idp/xaa-idp/internal/recordlog"
	"github.com/xaa-idp/xaa-idp/internal/replay"
	"github.com/xaa-idp/xaa-idp/policy"
)

// Bounds of the in-memory stores. Each entry also expires.
const (
	// maxLoginAttempts is how many refused login attempts an auth request
	// survives: more, and its login must start again from the client.
	maxLoginAttempts = 10
	maxTokens        = 100000
	authRequestTTL   = 10 * time.Minute
	// maxCompletedLogins and completedLoginTTL bound the record of the
	// sign-in requests whose code was redeemed (storage.completedLogins):
	// a hint for the login page, which forgets the oldest when full.
	maxCompletedLogins = 10000
	completedLoginTTL  = time.Hour
)

// refreshTokenPrefix starts every refresh token (internal/redact knows
// it too), so that a refresh token sent for another token is recognised.
const refreshTokenPrefix = "rt_"

// maxSessions bounds the SSO sessions, maxIssuedTokens the access and
// refresh tokens, each store of them, maxUsedSubjects the ID tokens
// exchange.single_use_subject remembers, maxUsedProofs the DPoP proofs,
// and maxCIMDAssertions the client assertions of metadata-document
// clients: variables, so that a test can fill them.
var (
	maxSessions       = 10000
	maxIssuedTokens   = maxTokens
	maxUsedSubjects   = maxTokens
	maxUsedProofs     = maxTokens
	maxCIMDAssertions = maxTokens
)

// userShare is how many SSO sessions, or tokens of one store, a user
// keeps once the store of bound n is half full (ttlMap.PutShared): 1% of
// it, at least 10, the share of the replay caches and the pending logins
// too (replay.Share). A user's next one then replaces their oldest.
func userShare(n int) int {
	return replay.Share(n)
}

// maxEndedSessions bounds the ended SSO sessions the IdP remembers (endSSO):
// a variable, so that a test can overflow it.
var maxEndedSessions = maxTokens

// storage is the zitadel op.Storage adapter: it answers the library's
// questions from the running policy (users, clients) and keeps the
// short-lived state of the code flow and of issued tokens in bounded maps.
type storage struct {
	srv *Server

	// authRequests are bounded by security.max_pending_logins through
	// PutIfShare, which never evicts a pending login, and which keeps one
	// client address to its share of them (pendingShare).
	authRequests *ttlMap[string, *authRequest]
	codes        *ttlMap[string, string] // code -> auth request id
	// completedLogins are the auth requests whose code was redeemed,
	// tokenHash(id) -> the client_id when it is the product's own client
	// (the console), else "": the login page reached again by Back says
	// the sign-in was completed, not that it is unknown or has expired.
	// completed keeps them in the state directory (completedlogins.go);
	// nil without one.
	completedLogins *ttlMap[string, string]
	completed       *recordlog.Log[completedRecord]
	usedCodes       *ttlMap[string, grantRef] // tokenHash(code) -> its redemption, to catch a replay
	accessTokens    *ttlMap[string, *accessToken]
	refreshTokens   *ttlMap[string, *refreshToken] // by tokenHash
	// rotatedRefresh are the refresh tokens rotated away, tokenHash ->
	// their grant, until they would have expired: one presented again was
	// leaked (RefreshTokenReused).
	rotatedRefresh *ttlMap[string, grantRef]
	// revokedGrants are the grants (code redemptions) revoked for a
	// replayed code or a reused refresh token, until their tokens would
	// have expired. A redemption or rotation of the grant under way when
	// the revocation ran (it took the code or the old refresh token, and
	// has not stored its new tokens yet) finds its grant here and stores
	// nothing: else its tokens, stored after the revocation, would outlive
	// it. grantMu orders the two: revoking (mark, delete) and storing
	// (check, put) never interleave; nor do storing and endSession.
	revokedGrants *ttlMap[string, struct{}]
	grantMu       sync.Mutex
	// journal keeps the refresh tokens, and their ends, in the state
	// directory (refreshlog.go); nil without one. evictedRefresh are the
	// refresh tokens a store dropped to make room, which storeTokens
	// takes, under grantMu, for the journal: only it stores them.
	journal        *refreshLog
	evictedRefresh []refreshRecord
}

var (
	_ op.Storage                        = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*storage)(nil)
	_ op.CanTerminateSessionFromRequest = (*storage)(nil)
)

func newStorage(s *Server) *storage {
	return &storage{
		srv: s,
		// Each store of a login's objects is grouped by its session and
		// by its user (bySession, byUser): ending a session, or a user's
		// sessions (noteGoneUsers), reads only theirs.
		authRequests: newTTLMap[string, *authRequest](policy.MaxPendingLoginsLimit, s.now).groupedBy(
			func(a *authRequest) string { return a.SessionID }, func(a *authRequest) string { return a.Subject },
			func(a *authRequest) string { return a.Source }),
		codes:           newTTLMap[string, string](policy.MaxPendingLoginsLimit, s.now),
		completedLogins: newTTLMap[string, string](maxCompletedLogins, s.now),
		// Grouped by session and user as the tokens are, so that one
		// user's redemptions and rotations replace their own records
		// rather than erase other users' (PutShared).
		usedCodes: newTTLMap[string, grantRef](maxIssuedTokens, s.now).groupedBy(
			func(g grantRef) string { return g.sid }, func(g grantRef) string { return g.sub }),
		accessTokens: newTTLMap[string, *accessToken](maxIssuedTokens, s.now).groupedBy(
			func(t *accessToken) string { return t.SessionID }, func(t *accessToken) string { return t.Subject }),
		refreshTokens: newTTLMap[string, *refreshToken](maxIssuedTokens, s.now).groupedBy(
			func(t *refreshToken) string { return t.SessionID }, func(t *refreshToken) string { return t.Subject }),

		rotatedRefresh: newTTLMap[string, grantRef](maxIssuedTokens, s.now).groupedBy(
			func(g grantRef) string { return g.sid }, func(g grantRef) string { return g.sub }),
		revokedGrants: newTTLMap[string, struct{}](maxTokens, s.now),
	}
}

// CreateAuthRequest implements op.AuthStorage. op calls it from /authorize
// after it validated client, redirect URI, scopes and response type.
// PKCE S256 is required of every client here (OAuth 2.1 section 4.1.1,
// RFC 7636); prompt=none is answered from the SSO session in the context.
// hintSubject is the sub of the request's id_token_hint, which op verified
// ("" without one).
func (st *storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, hintSubject string) (op.AuthRequest, error) {
	if req.CodeChallenge == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge is required: use PKCE with code_challenge_method=S256 (RFC 7636)")
	}
	if req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	}
	if !validCodeChallenge(req.CodeChallenge) {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge must be 43 to 128 characters of A-Z, a-z, 0-9, '-', '.', '_' and '~' (RFC 7636 section 4.2): BASE64URL(SHA256(code_verifier)) without padding")
	}
	ar := &authRequest{
		ID:            randomID(16),
		ClientID:      req.ClientID,
		RedirectURI:   req.RedirectURI,
		State:         req.State,
		Nonce:         req.Nonce,
		Scopes:        req.Scopes,
		ResponseType:  req.ResponseType,
		ResponseMode:  req.ResponseMode,
		CodeChallenge: &oidc.CodeChallenge{Challenge: req.CodeChallenge, Method: req.CodeChallengeMethod},
		Prompt:        req.Prompt,
		MaxAge:        req.MaxAge,
		LoginHint:     req.LoginHint,
		HintSubject:   hintSubject,
		Source:        sourceFromContext(ctx),
	}
	if slices.Contains(req.Prompt, oidc.PromptNone) {
		sess := sessionFromContext(ctx)
		if sess != nil && hintSubject != "" && sess.Subject != hintSubject {
			return nil, oidc.ErrLoginRequired().WithDescription("the user signed in at the IdP is not the one id_token_hint names; retry without prompt=none")
		}
		if sess == nil || !st.srv.sessionFits(ar, sess, st.srv.now()) {
			return nil, oidc.ErrLoginRequired().WithDescription("no signed-in session at the IdP; retry without prompt=none")
		}
		if st.srv.client(st.srv.Config(), req.ClientID) == nil && cimd.IsURL(req.ClientID) {
			// The login page asks the user before a session signs in to
			// a metadata document client (login.go).
			return nil, oidc.ErrInteractionRequired().WithDescription("a client identified by a metadata document URL is signed in only after the user confirms it on the login page; retry without prompt=none")
		}
		ar.complete(sess)
	}
	// Server.authorize refused the request if the store was full, or its
	// address held its share; this catches the requests that raced it to
	// the last free slot.
	limit := st.srv.Config().Security.MaxPendingLogins
	if _, mine, ok := st.authRequests.PutIfShare(ar.ID, ar, st.srv.now().Add(authRequestTTL), limit, bySource, ar.Source, pendingShare(limit)); !ok {
		if mine {
			return nil, &oidc.Error{ErrorType: "temporarily_unavailable", Description: tooManyFromSource}
		}
		return nil, &oidc.Error{ErrorType: "temporarily_unavailable", Description: "the IdP has too many sign-ins in progress (security.max_pending_logins); retry in a minute"}
	}
	return ar, nil
}

// validCodeChallenge reports whether c is 43 to 128 characters of the
// unreserved set (RFC 7636 section 4.2), the syntax of code_verifier too
// (section 4.1).
func validCodeChallenge(c string) bool {
	if len(c) < 43 || len(c) > 128 {
		return false
	}
	for i := 0; i < len(c); i++ {
		switch b := c[i]; {
		case 'A' <= b && b <= 'Z', 'a' <= b && b <= 'z', '0' <= b && b <= '9', b == '-', b == '.', b == '_', b == '~':
		default:
			return false
		}
	}
	return true
}

// AuthRequestByID implements op.AuthStorage; op calls it at the callback.
func (st *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	ar, ok := st.authRequests.Get(id)
	if !ok {
		return nil, errors.New("auth request not found or expired")
	}
	return ar, nil
}

// AuthRequestByCode implements op.AuthStorage; op calls it when a code is
// redeemed. The code is taken, so a replayed code finds nothing but its
// record in usedCodes: then the tokens of its first redemption are revoked
// (RFC 6749 section 4.1.2), since either that redemption or this one is an
// attacker's.
func (st *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	id, ok := st.codes.Take(code)
	if !ok {
		if grant, replayed := st.usedCodes.Get(tokenHash(code)); replayed {
			n, _ := st.revokeGrant(grant)
			err := fmt.Errorf("authorization code replayed: it was already redeemed, and the %d tokens issued for it are revoked (RFC 6749 section 4.1.2)", n)
			noteRefusal(ctx, err.Error())
			return nil, err
		}
		return nil, errors.New("code not found, expired or already used")
	}
	ar, ok := st.authRequests.Get(id)
	g := grantRef{grant: id}
	if ok {
		g.sid, g.client, g.sub = ar.SessionID, ar.ClientID, ar.Subject
	}
	st.usedCodes.PutShared(tokenHash(code), g, st.srv.now().Add(authRequestTTL), byUser, g.sub, userShare(maxIssuedTokens))
	if !ok {
		return nil, errors.New("auth request expired")
	}
	noteSubject(ctx, ar.Subject)
	if err := st.activeLogin(ar.Subject, ar.SessionID, ar.AuthTime); err != nil {
		return nil, noteUserGone(ctx, err, ar.ClientID)
	}
	if ar.SessionID != "" && st.srv.sessionEnded(ar.SessionID) {
		// A code issued before the sign-out: its tokens would be of the
		// ended session, which no longer revokes them.
		err := errors.New("the SSO session the code was issued under has ended (end_session); sign in again")
		noteRefusal(ctx, err.Error())
		return nil, err
	}
	return ar, nil
}

// activeUser refuses a grant whose user was removed or disabled since the
// login: op answers an error here with invalid_grant, while a user missing
// later, when the ID token's claims are filled, would be a 500, and a
// disabled user must get no new tokens (docs/configuration.md, users[]).
func (st *storage) activeUser(sub string) error {
	u := st.srv.Config().UserBySub(sub)
	switch {
	case u == nil:
		return &userGoneError{reason: "user removed", said: "the user's account no longer exists"}
	case !u.Active():
		return &userGoneError{reason: "user disabled", said: "the user's account is disabled"}
	}
	return nil
}

// userGoneError refuses a grant of a login whose user is disabled or
// removed, now or since the login (activeLogin). The audit event names
// the user; its reason is the error's. said is what the client is told:
// the token's holder is the user's client, which may know that much (Okta
// says "the user's account is disabled" alike), and no more.
type userGoneError struct{ reason, said string }

func (e *userGoneError) Error() string { return e.reason }

// noteUserGone records, for the audit event and the answer, why a grant
// of a code or refresh token issued to client was refused when err is a
// userGoneError; it returns err. A request of another client is refused
// for that, as op refuses it when the user is active, and learns nothing
// of the user.
func noteUserGone(ctx context.Context, err error, client string) error {
	var gone *userGoneError
	if errors.As(err, &gone) {
		note(ctx, func(n *tokenNote) {
			if n.requester != client {
				n.refusal = fmt.Sprintf("the code or refresh token was issued to another client (%q)", client)
				return
			}
			n.refusal, n.said = gone.reason, gone.said
		})
	}
	return err
}

// activeLogin is activeUser for the tokens of a login at authTime, which
// are refused also when the user was disabled or removed after it and is
// active again (Server.LoginEnded).
func (st *storage) activeLogin(sub, sid string, authTime time.Time) error {
	if err := st.activeUser(sub); err != nil {
		return err
	}
	if st.srv.LoginEnded(sub, sid, authTime) {
		return &userGoneError{reason: "user disabled or removed after this login", said: "the user's account was disabled or removed after this sign-in; sign in again"}
	}
	return nil
}

// SaveAuthCode implements op.AuthStorage; op calls it when it issues a
// code, at every visit of the callback. The new code replaces the auth
// request's previous one, so that codes stay as many as auth requests.
// The auth request lives as long as its code (10 minutes from now): the
// code grant reads it, and a code issued 9 minutes after /authorize
// would otherwise die a minute later.
func (st *storage) SaveAuthCode(_ context.Context, id, code string) error {
	var old string
	exp := st.srv.now().Add(authRequestTTL)
	if !st.authRequests.UpdateUntil(id, exp, func(a **authRequest) { old, (*a).code = (*a).code, code }) {
		return errors.New("auth request not found or expired")
	}
	if old != "" {
		st.codes.Delete(old)
	}
	st.codes.Put(code, id, exp)
	return nil
}

// grantRef names one code redemption (its auth request's ID), the SSO
// session it was made in, the client it was made for and the user's sub.
type grantRef struct{ sid, grant, client, sub string }

// revokeGrant revokes the access and refresh tokens of one code
// redemption and reports how many there were; its ID tokens, which carry
// no grant, stop at the token exchange with every ID token of its client
// and session issued until now (Server.revokeLogin). They are found among the
// tokens of its session (the stores group them by session): a scan of
// both full stores took 15 to 16 ms under their locks, for each replayed
// code or reused refresh token a client presents (BenchmarkStorage_
// RevokeGrant). A grant of no session has no tokens: it is a code whose
// auth request had expired when it was redeemed, since every token is
// issued for an auth request completed in a session, or for a refresh
// token of one. also are records for the journal to sync with the grant's
// (RevokeToken's end of the token revoked): one fsync, not two. failed
// names the state directory's files that did not take the revocation,
// which then holds in memory only.
func (st *storage) revokeGrant(g grantRef, also ...refreshRecord) (n int, failed []string) {
	st.grantMu.Lock()
	l := st.srv.Config().Lifetimes
	exp := st.srv.now().Add(max(l.AccessToken.D(), l.RefreshToken.D()))
	st.revokedGrants.Put(g.grant, struct{}{}, exp)
	if g.sid == "" {
		st.grantMu.Unlock()
		return 0, notRecorded(st.journal.record(also...), refreshTokensFile)
	}
	n = st.accessTokens.DeleteGroupFunc(g.sid, func(t *accessToken) bool { return t.GrantID == g.grant })
	n += st.refreshTokens.DeleteGroupFunc(g.sid, func(t *refreshToken) bool {
		if t.GrantID != g.grant {
			return false
		}
		// Kept on disk as long as a token of the grant lives, which a
		// lifetime shortened since its login may put after exp.
		exp = later(exp, t.Expiry)
		return true
	})
	st.grantMu.Unlock()
	// Synced before the refusal or the revocation answers, as endSession's
	// record, without holding up every other grant: a rotation of the
	// grant that stores its token now finds the grant revoked, and one
	// that stored it before records its end itself (recordIssued). So is
	// the login's revocation (its ID tokens at the exchange), which no
	// grant reads.
	failed = notRecorded(st.srv.revokeLogin(g.sid, g.client), endedLoginsFile)
	failed = append(failed, notRecorded(st.journal.record(append(also, refreshRecord{Kind: grantRevoked, Grant: g.grant, SID: g.sid, Exp: exp})...), refreshTokensFile)...)
	return n, failed
}

// notRecorded is file, in a list, when err says it did not take a record.
func notRecorded(err error, file string) []string {
	if err != nil {
		return []string{file}
	}
	return nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// errGrantRevoked refuses the tokens of a grant revoked while they were
// being made (storage.revokedGrants).
var errGrantRevoked = oidc.ErrInvalidGrant().WithDescription("the grant of this request was revoked while it was under way (its code was replayed, or its refresh token reused: RFC 9700 section 4.14.2)")

// errNotRecorded withholds a refresh token that the state directory's
// record of refresh tokens could not take (refreshlog.go).
var errNotRecorded = oidc.ErrServerError().WithDescription("the refresh token could not be recorded in the state directory (refresh-tokens.jsonl); the IdP's log says why")

// endNotRecorded describes an end (what: a revocation, a sign-out) that
// the state directory's file did not take: it holds in memory, until a
// restart.
func endNotRecorded(what, file string) string {
	return what + " could not be recorded in the state directory (" + file + "); it holds until the IdP restarts, and may come undone then; the IdP's log says why"
}

// errSessionEnded refuses the tokens of an SSO session ended while they
// were being made.
var errSessionEnded = oidc.ErrInvalidGrant().WithDescription("the SSO session of this request was ended (end_session) while it was under way")

// storeTokens stores an access token and, unless rt is nil, a refresh
// token under rtHash, all of one grant (their GrantID) and session, unless
// that grant has been revoked or that session ended: a redemption or a
// rotation that passed its checks before may be storing its tokens only
// after the revocation (or endSession) deleted the others. evicted are
// the refresh tokens dropped to make room for rt, with a journal.
func (st *storage) storeTokens(at *accessToken, rtHash string, rt *refreshToken) (evicted []refreshRecord, err error) {
	st.grantMu.Lock()
	defer st.grantMu.Unlock()
	if at.GrantID != "" {
		if _, revoked := st.revokedGrants.Get(at.GrantID); revoked {
			return nil, errGrantRevoked
		}
	}
	if at.SessionID != "" && st.srv.sessionEnded(at.SessionID) {
		return nil, errSessionEnded
	}
	st.accessTokens.PutShared(at.ID, at, at.Expiry, byUser, at.Subject, userShare(maxIssuedTokens))
	if rt != nil {
		st.refreshTokens.PutShared(rtHash, rt, rt.Expiry, byUser, rt.Subject, userShare(maxIssuedTokens))
		evicted, st.evictedRefresh = st.evictedRefresh, nil
	}
	return evicted, nil
}

// endSession revokes the access and refresh tokens issued under the SSO
// session sid: the token stores group them by session. The journal
// records each refresh token's end: the session's record in
// ended-logins.jsonl lives as long as an ID token (an hour by default),
// a refresh token longer (a day), and a start after the one would load
// the other back. The error is the journal's: the ends then hold in
// memory only.
func (st *storage) endSession(sid string) error {
	// After the session was marked ended (Server.endSSO): storeTokens,
	// under the same lock, either stored before this deletes, or sees it.
	st.grantMu.Lock()
	var recs []refreshRecord
	if st.journal != nil {
		st.refreshTokens.EachOfGroups(bySession, map[string]bool{sid: true}, func(h string, t *refreshToken) {
			recs = append(recs, refreshRecord{Kind: refreshEnded, Hash: h, Exp: t.Expiry})
		})
	}
	st.accessTokens.DeleteGroup(sid)
	st.refreshTokens.DeleteGroup(sid)
	st.grantMu.Unlock()
	// Synced before end_session answers, without holding up the grants.
	return st.journal.record(recs...)
}

// DeleteAuthRequest implements op.AuthStorage; op calls it once the code
// has been exchanged.
func (st *storage) DeleteAuthRequest(_ context.Context, id string) error {
	if ar, ok := st.authRequests.Take(id); ok && ar.Done() {
		own := ""
		if st.srv.startOf(ar.ClientID) != "" {
			own = ar.ClientID
		}
		st.completeLogin(id, own)
	}
	return nil
}

// CreateAccessToken implements op.AuthStorage: an opaque access token for
// userinfo, without a refresh token.
func (st *storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	at := st.newAccessToken(req)
	if _, err := st.storeTokens(at, "", nil); err != nil {
		return "", time.Time{}, err
	}
	noteTokenRequest(ctx, req)
	return at.ID, at.Expiry, nil
}

// CreateAccessAndRefreshTokens implements op.AuthStorage. op calls it for a
// code with offline_access and for the refresh grant; the presented refresh
// token is rotated (OAuth 2.1 section 4.3.1): the old one stops working.
func (st *storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	var old *refreshToken
	// With a journal, the response leaves once the rotation and the new
	// token are on disk, in one sync: else a restart after a crash would
	// give back the token rotated away, or forget the new one.
	var recs []refreshRecord
	if current != "" {
		// Taken, not read: of two requests that present the token at
		// once, one rotates it and the other is a reuse.
		var ok bool
		if old, ok = st.refreshTokens.Take(tokenHash(current)); !ok {
			err := st.refreshReused(ctx, current)
			if err == nil {
				err = errors.New("refresh token unknown, expired or revoked")
			}
			return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("%s", err.Error())
		}
		g := grantRef{sid: old.SessionID, grant: old.GrantID, client: old.ClientID, sub: old.Subject}
		st.rotatedRefresh.PutShared(tokenHash(current), g, old.Expiry, byUser, old.Subject, userShare(maxIssuedTokens))
		recs = append(recs, rotatedRecord(tokenHash(current), g, old.Expiry))
	}
	at := st.newAccessToken(req)
	rt := &refreshToken{
		ClientID: clientIDOf(req),
		Subject:  req.GetSubject(),
		Audience: req.GetAudience(),
		Scopes:   req.GetScopes(),
		IssuedAt: st.srv.now(),
		Expiry:   st.srv.now().Add(st.srv.Config().Lifetimes.RefreshToken.D()),
	}
	if r, ok := req.(interface {
		GetAuthTime() time.Time
		GetAMR() []string
	}); ok {
		rt.AuthTime, rt.AMR = r.GetAuthTime(), r.GetAMR()
	}
	if l, ok := req.(lineage); ok {
		rt.SessionID, rt.GrantID = l.lineage()
	}
	if old != nil {
		rt.Expiry = old.Expiry // rotation must not extend the grant
		// The request may narrow its own tokens' scope, not the grant's:
		// a later refresh may ask again for what the user granted, and
		// one without scope gets all of it (RFC 6749 section 6).
		rt.Scopes = old.Scopes
	}
	token := refreshTokenPrefix + randomID(32)
	evicted, err := st.storeTokens(at, tokenHash(token), rt)
	if err != nil {
		st.journal.record(recs...)
		return "", "", time.Time{}, err
	}
	if err := st.recordIssued(tokenHash(token), rt, append(recs, evicted...)); err != nil {
		// Withheld, as a token whose audit event cannot be written is: a
		// restart would forget it, and could give back the token rotated
		// away. That one stays rotated away here.
		st.refreshTokens.Delete(tokenHash(token))
		st.accessTokens.Delete(at.ID)
		return "", "", time.Time{}, errNotRecorded
	}
	noteTokenRequest(ctx, req)
	return at.ID, token, at.Expiry, nil
}

// newAccessToken makes the access token of req; storeTokens stores it.
func (st *storage) newAccessToken(req op.TokenRequest) *accessToken {
	at := &accessToken{
		ID:       randomID(16),
		ClientID: clientIDOf(req),
		Subject:  req.GetSubject(),
		Scopes:   req.GetScopes(),
		Expiry:   st.srv.now().Add(st.srv.Config().Lifetimes.AccessToken.D()),
	}
	if r, ok := req.(interface{ GetAuthTime() time.Time }); ok {
		at.AuthTime = r.GetAuthTime()
	}
	if l, ok := req.(lineage); ok {
		at.SessionID, at.GrantID = l.lineage()
	}
	return at
}

func clientIDOf(req op.TokenRequest) string {
	if r, ok := req.(interface{ GetClientID() string }); ok {
		return r.GetClientID()
	}
	if aud := req.GetAudience(); len(aud) > 0 {
		return aud[0]
	}
	return ""
}

// TokenRequestByRefreshToken implements op.AuthStorage; op calls it for the
// refresh grant.
func (st *storage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	rt, ok := st.refreshTokens.Get(tokenHash(token))
	if !ok {
		if err := st.refreshReused(ctx, token); err != nil {
			return nil, err
		}
		return nil, errors.New("refresh token unknown, expired or revoked")
	}
	noteSubject(ctx, rt.Subject)
	if err := st.activeLogin(rt.Subject, rt.SessionID, rt.AuthTime); err != nil {
		return nil, noteUserGone(ctx, err, rt.ClientID)
	}
	return &refreshTokenRequest{refreshToken: *rt}, nil
}

// refreshReused answers a refresh token that is no longer live: if it was
// rotated away, both the client and whoever else holds it have used it,
// and the IdP cannot tell which one presents it now, so the tokens of its
// grant, the live refresh token among them, are revoked (RFC 9700 section
// 4.14.2, OAuth 2.1 section 4.3.1). The error says so; nil if the token
// was never rotated (unknown, expired or revoked otherwise).
func (st *storage) refreshReused(ctx context.Context, token string) error {
	grant, rotated := st.rotatedRefresh.Get(tokenHash(token))
	if !rotated {
		return nil
	}
	n := 0
	if grant.grant != "" {
		n, _ = st.revokeGrant(grant)
	}
	err := fmt.Errorf("refresh token reused: it was already rotated, so it leaked, and the %d tokens of its grant are revoked (RFC 9700 section 4.14.2)", n)
	noteRefusal(ctx, err.Error())
	return err
}

// lookupRefreshToken serves the token exchange, where a refresh token may be
// the subject (draft -02): not consumed, only read.
func (st *storage) lookupRefreshToken(token string) (*refreshToken, bool) {
	return st.refreshTokens.Get(tokenHash(token))
}

// TerminateSession implements op.AuthStorage: it revokes every token of
// the user at the client. op calls it from end_session only for a storage
// without TerminateSessionFromRequest, which this one has.
func (st *storage) TerminateSession(_ context.Context, userID, clientID string) error {
	st.accessTokens.DeleteFunc(func(_ string, t *accessToken) bool { return t.Subject == userID && t.ClientID == clientID })
	var recs []refreshRecord
	st.refreshTokens.DeleteFunc(func(h string, t *refreshToken) bool {
		if t.Subject != userID || t.ClientID != clientID {
			return false
		}
		recs = append(recs, refreshRecord{Kind: refreshEnded, Hash: h, Exp: t.Expiry})
		return true
	})
	return st.journal.record(recs...)
}

// TerminateSessionFromRequest implements op.CanTerminateSessionFromRequest;
// op calls it from end_session once id_token_hint and
// post_logout_redirect_uri are validated. The session the hint's sid names
// ends, with the tokens issued under it, as the cookie's did in
// Server.endSession (OIDC RP-Initiated Logout section 2: the hint
// identifies the session to end); every ID token of this IdP has a sid.
//
// It called TerminateSession too, which revoked the user's tokens at the
// client in every session: the same user's session in another browser
// lived on, signed in, while its tokens went, and the scan of both full
// token stores took 15.9 ms under their locks (BenchmarkStorage_
// TerminateSession, 100,000 tokens in each), against some 5 to 30 µs for
// the session's own tokens (BenchmarkStorage_EndSession).
func (st *storage) TerminateSessionFromRequest(_ context.Context, req *op.EndSessionRequest) (string, error) {
	if c := req.IDTokenHintClaims; c != nil && c.SessionID != "" {
		sub := ""
		if c.Expiration.AsTime().After(st.srv.now()) {
			sub = c.Subject
		}
		if e := st.srv.endSSO(c.SessionID, "id_token_hint", sub); e != nil {
			return "", e
		}
	}
	return req.RedirectURI, nil
}

// RevokeToken implements op.AuthStorage (RFC 7009). Whatever its doc
// comment says, op (v3.52 op.Revoke) passes a refresh token that
// GetRefreshTokenInfo recognised by the ID that method returned (the
// token's hash) with the subject as userID; an access token by its ID, also
// with the subject; and any other token as itself with an empty userID.
func (st *storage) RevokeToken(_ context.Context, tokenOrID, userID, clientID string) *oidc.Error {
	key := tokenOrID
	if userID == "" {
		key = tokenHash(tokenOrID)
	}
	if rt, ok := st.refreshTokens.Get(key); ok {
		if rt.ClientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
		}
		// RFC 7009 section 2.1: a server that revokes access tokens
		// SHOULD revoke those of the refresh token's grant with it.
		st.refreshTokens.Delete(key)
		ended := refreshRecord{Kind: refreshEnded, Hash: key, Exp: rt.Expiry}
		var failed []string
		if rt.GrantID == "" {
			failed = notRecorded(st.journal.record(ended), refreshTokensFile)
		} else {
			_, failed = st.revokeGrant(grantRef{sid: rt.SessionID, grant: rt.GrantID, client: rt.ClientID}, ended)
		}
		if len(failed) > 0 {
			// Not 200: the revocation would come undone at a restart.
			e := oidc.ErrServerError().WithDescription("%s", endNotRecorded("the revocation", strings.Join(failed, ", ")))
			st.srv.auditEndpointAnswer(clientID, "revocation", &oauthError{Code: string(e.ErrorType), Description: e.Description}, rt.Subject)
			return e
		}
		return nil
	}
	if at, ok := st.accessTokens.Get(tokenOrID); ok {
		if at.ClientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
		}
		st.accessTokens.Delete(tokenOrID)
	}
	return nil // RFC 7009 section 2.2: unknown tokens are not an error
}

// GetRefreshTokenInfo implements op.AuthStorage; op calls it from revocation
// to tell refresh tokens from access tokens. The token ID it returns is the
// key of the refresh token store, which RevokeToken then receives.
func (st *storage) GetRefreshTokenInfo(_ context.Context, clientID, token string) (string, string, error) {
	h := tokenHash(token)
	rt, ok := st.refreshTokens.Get(h)
	if !ok || rt.ClientID != clientID {
		return "", "", op.ErrInvalidRefreshToken
	}
	return rt.Subject, h, nil
}

// SigningKey implements op.AuthStorage: the key ID tokens are signed with
// now; op calls it for every ID token, so a rotation takes effect at once.
func (st *storage) SigningKey(context.Context) (op.SigningKey, error) {
	return st.srv.keys.IDTokenKey(), nil
}

// SignatureAlgorithms implements op.AuthStorage; it feeds discovery.
func (st *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{st.srv.keys.IDTokenAlg()}, nil
}

// KeySet implements op.AuthStorage: every published public key (current
// and not yet retired), which op uses to verify id_token_hint. jwks_uri is
// served by Server.jwks, from the same keys.
func (st *storage) KeySet(context.Context) ([]op.Key, error) {
	var keys []op.Key
	for _, k := range st.srv.keys.Published() {
		keys = append(keys, publicKey{k})
	}
	return keys, nil
}

// publicKey is the op.Key view of a signing key: its public half.
type publicKey struct{ k *signer.Key }

var (
	_ op.Key        = publicKey{}
	_ op.SigningKey = (*signer.Key)(nil)
)

func (p publicKey) ID() string                         { return p.k.ID() }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return p.k.SignatureAlgorithm() }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return p.k.Public() }

// GetClientByClientID implements op.OPStorage.
func (st *storage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	cfg := st.srv.Config()
	c, err := st.srv.lookupClient(ctx, cfg, id)
	if err != nil {
		return nil, oidc.ErrInvalidClient().WithDescription("%s", err.Error())
	}
	if c == nil {
		// An OAuth error, not a plain one: op answers plain errors from the
		// refresh grant with a 500 (found by FuzzTokenEndpoint).
		return nil, oidc.ErrInvalidClient().WithDescription("client_id %q is not registered at this IdP", audit.Truncate(id))
	}
	asserted, _ := ctx.Value(assertedKey).(string)
	return &client{c: c, cfg: cfg, path: st.srv.path, asserted: asserted == id, own: st.srv.startOf(id) != ""}, nil
}

// AuthorizeClientIDSecret implements op.OPStorage, in constant time.
func (st *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	c := st.srv.client(st.srv.Config(), id)
	if c == nil || c.ClientSecret == "" || subtle.ConstantTimeCompare([]byte(c.ClientSecret), []byte(secret)) != 1 {
		return errors.New("invalid client_id or client_secret")
	}
	return nil
}

// SetUserinfoFromScopes implements op.OPStorage; deprecated by the library,
// SetUserinfoFromRequest does the work.
func (st *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest implements op.CanSetUserinfoFromRequest: the
// claims the scopes ask for go into the ID token (scopes.go).
func (st *storage) SetUserinfoFromRequest(_ context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	if err := st.setUserinfo(info, req.GetSubject(), scopes); err != nil {
		return err
	}
	// sid names the SSO session, so that the token exchange refuses the ID
	// token once the session ended (OIDC Front-Channel Logout section 3).
	if l, ok := req.(lineage); ok {
		if sid, _ := l.lineage(); sid != "" {
			info.AppendClaims("sid", sid)
		}
	}
	return nil
}

// SetUserinfoFromToken implements op.OPStorage; op calls it from /userinfo.
func (st *storage) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	at, ok := st.accessTokens.Get(tokenID)
	if !ok || at.Subject != subject {
		return errors.New("access token unknown, expired or revoked")
	}
	return st.setUserinfo(info, subject, at.Scopes)
}

// SetIntrospectionFromToken implements op.OPStorage. op calls it only from
// its own introspection endpoint, which Server.introspect replaces (it
// accepts client_secret_post and shows a client only its own tokens), so
// it reports every token inactive.
func (st *storage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errors.New("introspection is served by Server.introspect")
}

// GetPrivateClaimsFromScopes implements op.OPStorage: access tokens are
// opaque here, so there are no private claims.
func (st *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetKeyByIDAndClientID implements op.OPStorage; op calls it to verify a
// private_key_jwt client assertion at the code and refresh grants.
func (st *storage) GetKeyByIDAndClientID(ctx context.Context, kid, clientID string) (*jose.JSONWebKey, error) {
	c, err := st.srv.tokenClient(ctx, st.srv.Config(), clientID)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, fmt.Errorf("client %q is not registered", clientID)
	}
	keys, err := clientKeys(c)
	if err != nil {
		return nil, err
	}
	for i := range keys.Keys {
		if keys.Keys[i].KeyID == kid || (kid == "" && len(keys.Keys) == 1) {
			return &keys.Keys[i], nil
		}
	}
	return nil, fmt.Errorf("client %q has no key %q", clientID, kid)
}

// ValidateJWTProfileScopes implements op.OPStorage. The RFC 7523 grant at
// the IdP itself is not offered (an ID-JAG must never be redeemed at the
// IdP that issued it, draft -04 section 7).
func (st *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, oidc.ErrUnauthorizedClient().WithDescription("the JWT bearer grant is not served by the IdP")
}

// Health implements op.Storage.
func (st *storage) Health(context.Context) error { return nil }

func (st *storage) setUserinfo(info *oidc.UserInfo, sub string, scopes []string) error {
	if err := st.activeUser(sub); err != nil {
		return err
	}
	fillUserinfo(info, st.srv.Config().UserBySub(sub), scopes)
	return nil
}
