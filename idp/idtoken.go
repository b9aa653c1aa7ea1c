package idp

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// restampThreshold is how far the IdP's clock may be from the wall clock
// before a token response of zitadel's is re-stamped.
const restampThreshold = time.Second

// restampTokenResponse puts the IdP's clock into a code or refresh grant
// answer that zitadel built: the ID token's iat and exp, and expires_in.
// Under a persona that writes a one-client ID token's aud as a string
// (policy.Config.IDTokenAudString: okta, docs/personas.md), it also turns
// zitadel's one-element array (oidc.Audience) into that string.
//
// zitadel reads time.Now itself for both (op.CreateIDToken,
// oidc.NewIDTokenClaims, op.CreateAccessToken) and has no clock option, so
// under a set or frozen Clock its ID token would carry the wall-clock time
// while everything else follows the Clock. The token endpoint already
// holds the answer back until its audit event is durable; this rewrites it
// there (serveWithOP), and only when the clock is off the wall clock or
// the persona asks for a string aud (the common case costs nothing). The
// ID token is re-signed with the current ID token key, the one zitadel
// just signed it with. Every other claim stays as zitadel made it:
// auth_time already comes from our session, and at_hash and c_hash do not
// depend on time. The alternatives were worse: a forked or patched
// zitadel, or signing ID tokens ourselves and losing op's claim assembly.
func (s *Server) restampTokenResponse(rec *heldResponse) error {
	now := s.now()
	restamp := time.Until(now).Abs() >= restampThreshold
	audString := s.Config().IDTokenAudString()
	if !restamp && !audString {
		return nil
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(rec.body.Bytes(), &body); err != nil {
		return err
	}
	raw, hasIDToken := body["id_token"]
	if !restamp && !hasIDToken {
		return nil
	}
	if hasIDToken {
		var idToken string
		if err := json.Unmarshal(raw, &idToken); err != nil {
			return err
		}
		restamped, err := s.restampIDToken(idToken, now, restamp, audString)
		if err != nil {
			return err
		}
		body["id_token"], _ = json.Marshal(restamped)
	}
	if raw, ok := body["access_token"]; ok && restamp {
		var tok string
		if err := json.Unmarshal(raw, &tok); err == nil {
			if at := s.accessTokenFor(tok); at != nil {
				body["expires_in"], _ = json.Marshal(max(int64(at.Expiry.Sub(now)/time.Second), 0))
			}
		}
	}
	var out bytes.Buffer
	if err := json.NewEncoder(&out).Encode(body); err != nil {
		return err
	}
	rec.body = &out
	rec.header.Del("Content-Length")
	return nil
}

// restampIDToken, with restamp, sets iat to now and exp to now plus the
// ID token lifetime; with audString, writes a one-element aud as its one
// string. It signs the token again with the current ID token key.
func (s *Server) restampIDToken(raw string, now time.Time, restamp, audString bool) (string, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "", errors.New("the ID token is not a compact JWS")
	}
	var claims map[string]any
	if err := decodeSegment(parts[1], &claims); err != nil {
		return "", err
	}
	if restamp {
		claims["iat"] = now.Unix()
		claims["exp"] = now.Add(s.Config().Lifetimes.IDToken.D()).Unix()
	}
	if aud, ok := claims["aud"].([]any); ok && audString && len(aud) == 1 {
		claims["aud"] = aud[0]
	}
	return s.signer.SignIDToken(context.Background(), claims)
}

// decodeSegment decodes one base64url JSON segment of a JWS, keeping
// numbers as written.
func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}
