package idp

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestStorage_GrantRevokedMidwayStoresNoTokens: a reused refresh token (or
// a replayed code) revokes its grant's tokens, while the request that took
// the token (or the code) first may still be making its new ones: they
// were not stored yet, so the revocation found none, and, stored after it,
// they outlived it. A concurrent test saw it now and then
// (TestRefreshReuse_ConcurrentRotationIssuesOnce); here the order is laid
// down: the revocation first, then the rotation's new tokens, which are
// refused, and the grant has no token left.
// storageServer is the least of a Server that a storage needs: a clock
// stopped at now, a configuration (its lifetimes), the ended sessions.
func storageServer(now time.Time) *Server {
	srv := &Server{now: func() time.Time { return now }}
	srv.endedSIDs = newTTLMap[string, struct{}](maxEndedSessions, srv.now)
	srv.revokedLogins = newTTLMap[revokedLogin, time.Time](maxEndedSessions, srv.now)
	cfg, err := policy.Parse([]byte("users: []\n"), "storage.yaml")
	if err != nil {
		panic(err)
	}
	srv.cfg.Store(cfg)
	return srv
}

func TestStorage_GrantRevokedMidwayStoresNoTokens(t *testing.T) {
	st := newStorage(storageServer(time.Unix(1e9, 0)))
	req := &refreshTokenRequest{refreshToken: refreshToken{ClientID: "c", Subject: "u-alice", GrantID: "grant-1", SessionID: "sid-1"}}

	st.revokeGrant(grantRef{sid: "sid-1", grant: "grant-1"}) // the reuse, seen while the rotation is on its way
	_, _, _, err := st.CreateAccessAndRefreshTokens(context.Background(), req, "")
	if !errors.Is(err, errGrantRevoked) {
		t.Errorf("new tokens of a revoked grant: %v, want errGrantRevoked", err)
	}
	if _, _, err := st.CreateAccessToken(context.Background(), req); !errors.Is(err, errGrantRevoked) {
		t.Errorf("a new access token of a revoked grant: %v, want errGrantRevoked", err)
	}
	if n := st.accessTokens.Len() + st.refreshTokens.Len(); n != 0 {
		t.Errorf("%d tokens stored for a revoked grant", n)
	}

	other := &refreshTokenRequest{refreshToken: refreshToken{ClientID: "c", Subject: "u-alice", GrantID: "grant-2", SessionID: "sid-1"}}
	if _, _, _, err := st.CreateAccessAndRefreshTokens(context.Background(), other, ""); err != nil {
		t.Errorf("another grant's tokens: %v", err)
	}
}

// TestStorage_SessionEndedMidwayStoresNoTokens: likewise for end_session:
// a refresh or code redemption that passed its checks before the session
// ended stores no tokens after endSession deleted the session's others.
func TestStorage_SessionEndedMidwayStoresNoTokens(t *testing.T) {
	now := time.Unix(1e9, 0)
	srv := storageServer(now)
	st := newStorage(srv)
	req := &refreshTokenRequest{refreshToken: refreshToken{ClientID: "c", Subject: "u-alice", GrantID: "grant-1", SessionID: "sid-1"}}

	srv.endedSIDs.Put("sid-1", struct{}{}, now.Add(time.Hour)) // endSSO marks, then endSession deletes
	st.endSession("sid-1")
	if _, _, _, err := st.CreateAccessAndRefreshTokens(context.Background(), req, ""); !errors.Is(err, errSessionEnded) {
		t.Errorf("new tokens of an ended session: %v, want errSessionEnded", err)
	}
	if n := st.accessTokens.Len() + st.refreshTokens.Len(); n != 0 {
		t.Errorf("%d tokens stored for an ended session", n)
	}
}
