package secevent_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/xaa-idp/xaa-idp/internal/secevent"
)

const (
	iss = "https://idp.example"
	aud = "https://as.crm.example"
)

var now = time.Date(2026, 12, 4, 18, 0, 0, 0, time.UTC)

func signSET(t *testing.T, key *ecdsa.PrivateKey, typ string, claims any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := jws.CompactSerialize()
	return out
}

func TestVerify(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	keys := func(_ context.Context, issuer, kid string) ([]jose.JSONWebKey, error) {
		if issuer != iss {
			return nil, secevent.ErrUntrusted
		}
		return []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256"}}, nil
	}
	valid := func() secevent.Claims {
		return secevent.New(iss, aud, "jti-1", secevent.SessionRevoked, "00u-bob", now, now)
	}
	tests := []struct {
		name  string
		typ   string
		key   *ecdsa.PrivateKey
		edit  func(*secevent.Claims)
		want  string // error code, "" when valid
		event string
	}{
		{name: "session revoked", want: "", event: secevent.SessionRevoked},
		{name: "account disabled", edit: func(c *secevent.Claims) {
			c.Events = map[string]secevent.Event{secevent.AccountDisabled: {EventTimestamp: now.Unix()}}
		}, event: secevent.AccountDisabled},
		{name: "wrong typ", typ: "JWT", want: secevent.ErrInvalidRequest},
		{name: "untrusted issuer", edit: func(c *secevent.Claims) { c.Issuer = "https://evil.example" }, want: secevent.ErrInvalidIssuer},
		{name: "wrong key", key: other, want: secevent.ErrAuthenticationFailed},
		{name: "wrong audience", edit: func(c *secevent.Claims) { c.Audience = "https://as.wiki.example" }, want: secevent.ErrInvalidAudience},
		{name: "stale", edit: func(c *secevent.Claims) { c.IssuedAt = now.Add(-time.Hour).Unix() }, want: secevent.ErrInvalidRequest},
		{name: "future", edit: func(c *secevent.Claims) { c.IssuedAt = now.Add(time.Hour).Unix() }, want: secevent.ErrInvalidRequest},
		{name: "no jti", edit: func(c *secevent.Claims) { c.ID = "" }, want: secevent.ErrInvalidRequest},
		{name: "unknown event", edit: func(c *secevent.Claims) {
			c.Events = map[string]secevent.Event{"https://example.com/other": {}}
		}, want: secevent.ErrInvalidRequest},
		{name: "subject of another issuer", edit: func(c *secevent.Claims) {
			c.Events[secevent.SessionRevoked].Subject.Iss = "https://other.example"
		}, want: secevent.ErrInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			if tt.edit != nil {
				tt.edit(&c)
			}
			typ, k := secevent.Type, key
			if tt.typ != "" {
				typ = tt.typ
			}
			if tt.key != nil {
				k = tt.key
			}
			v, err := secevent.Verify(context.Background(), signSET(t, k, typ, c), keys,
				secevent.Want{Audience: aud, Now: now, MaxAge: 10 * time.Minute, Skew: 30 * time.Second})
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want == "" && (v.Type != tt.event || v.Subject.Sub != "00u-bob" || v.Subject.Iss != iss):
				t.Fatalf("verified %+v", v)
			case tt.want != "" && (err == nil || err.Code != tt.want):
				t.Fatalf("err = %v, want %s", err, tt.want)
			}
		})
	}
}
