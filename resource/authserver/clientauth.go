package authserver

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/url"
	"strings"
)

// authenticateClient identifies and authenticates the client of a token
// request (RFC 6749 §2.3) and returns its client_id. Accepted methods:
//
//   - client_secret_basic: the Authorization header, whose id and secret are
//     form-urlencoded before base64 (RFC 6749 §2.3.1); some clients skip the
//     encoding, so the raw values are tried too;
//   - client_secret_post: client_id and client_secret in the body;
//   - none: client_id alone, for clients registered without a secret.
//
// Using two methods at once is an invalid_request (RFC 6749 §2.3: "MUST NOT
// use more than one authentication method in each request").
func (a *Server) authenticateClient(authorization string, p tokenParams) (string, *oauthError) {
	postID, oerr := p.single("client_id")
	if oerr != nil {
		return "", oerr
	}
	postSecret, oerr := p.single("client_secret")
	if oerr != nil {
		return "", oerr
	}

	if authorization != "" {
		basicIDs, basicSecrets, oerr := parseBasic(authorization)
		if oerr != nil {
			return "", oerr
		}
		if postSecret != "" {
			return "", invalidRequest("the request uses both client_secret_basic (Authorization header) and client_secret_post (client_secret in the body); use one (RFC 6749 §2.3)")
		}
		id, ok := a.findClient(basicIDs)
		if !ok {
			return "", invalidClient("unknown client %q (client_secret_basic)", basicIDs[0])
		}
		if postID != "" && postID != id {
			return "", invalidRequest("client_id %q in the body is not the client %q of the Authorization header", postID, id)
		}
		if !a.secretMatches(id, basicSecrets) {
			return "", invalidClient("wrong client secret for client %q (client_secret_basic)", id)
		}
		return id, nil
	}

	if postID == "" {
		if postSecret != "" {
			return "", invalidRequest("client_secret is sent without client_id")
		}
		return "", invalidClient("no client authentication: send client_id and client_secret (client_secret_basic or client_secret_post), or client_id alone for a public client (RFC 6749 §2.3)")
	}
	if _, ok := a.cfg.Clients[postID]; !ok {
		return "", invalidClient("unknown client %q", postID)
	}
	if postSecret == "" {
		if a.cfg.Clients[postID] != "" {
			return "", invalidClient("client %q is confidential: authenticate with client_secret_basic or client_secret_post", postID)
		}
		return postID, nil
	}
	if !a.secretMatches(postID, []string{postSecret}) {
		if a.cfg.Clients[postID] == "" {
			return "", invalidClient("client %q is a public client and has no secret, but a client_secret was sent", postID)
		}
		return "", invalidClient("wrong client secret for client %q (client_secret_post)", postID)
	}
	return postID, nil
}

// findClient returns the first registered client among the candidate ids.
func (a *Server) findClient(ids []string) (string, bool) {
	for _, id := range ids {
		if _, ok := a.cfg.Clients[id]; ok {
			return id, true
		}
	}
	return "", false
}

// secretMatches compares in constant time. Hashing first makes the time
// independent of the secrets' lengths as well as their contents.
func (a *Server) secretMatches(id string, candidates []string) bool {
	want := sha256.Sum256([]byte(a.cfg.Clients[id]))
	match := 0
	for _, c := range candidates {
		got := sha256.Sum256([]byte(c))
		match |= subtle.ConstantTimeCompare(want[:], got[:])
	}
	return match == 1
}

// parseBasic decodes an RFC 7617 Basic header into candidate ids and
// secrets: the RFC 6749 §2.3.1 form-urldecoded values first, then the raw
// ones when they differ, for clients that do not encode.
func parseBasic(authorization string) (ids, secrets []string, _ *oauthError) {
	scheme, cred, _ := strings.Cut(authorization, " ")
	if !strings.EqualFold(scheme, "Basic") {
		return nil, nil, invalidClient("Authorization scheme %q is not accepted at the token endpoint; use Basic (client_secret_basic) or client_secret_post", scheme)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return nil, nil, invalidClient("the Basic credentials are not valid base64: %v", err)
	}
	id, secret, ok := strings.Cut(string(raw), ":")
	if !ok {
		return nil, nil, invalidClient("the Basic credentials have no ':' between client id and secret")
	}
	return decodedAndRaw(id), decodedAndRaw(secret), nil
}

func decodedAndRaw(s string) []string {
	d, err := url.QueryUnescape(s)
	if err != nil || d == s {
		return []string{s}
	}
	return []string{d, s}
}
