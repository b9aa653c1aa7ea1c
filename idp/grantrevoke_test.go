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
func TestStorage_GrantRevokedMidwayStoresNoTokens(t *testing.T) {
	now := time.Unix(1e9, 0)
	srv := &Server{now: func() time.Time { return now }}
	cfg, err := policy.Parse([]byte("users: []\n"), "grant.yaml")
	if err != nil {
		t.Fatal(err)
	}
	srv.cfg.Store(cfg)
	st := newStorage(srv)
	req := &refreshTokenRequest{refreshToken: refreshToken{ClientID: "c", Subject: "u-alice", GrantID: "grant-1", SessionID: "sid-1"}}

	st.revokeGrant("grant-1") // the reuse, seen while the rotation is on its way
	_, _, _, err = st.CreateAccessAndRefreshTokens(context.Background(), req, "")
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
