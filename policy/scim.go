package policy

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strings"
)

// SCIM is the scim: section (docs/configuration.md, "scim"), our addition
// to the contract: the bearer tokens with which a provisioning service
// (Microsoft Entra, Okta's "HTTP Header" mode) authenticates to the SCIM
// endpoints of this IdP (or tenant) alone, not to the rest of the admin
// API.
type SCIM struct {
	Tokens []SCIMToken `yaml:"tokens" json:"tokens,omitempty"`
}

// SCIMToken is one provisioning client's token: its name, which the
// admin_change events name as the actor ("scim:<name>"), and the token,
// written as it is (token) or, better, as the hex SHA-256 of it
// (token_sha256); one of the two.
type SCIMToken struct {
	Name        string `yaml:"name" json:"name" max:"name"`
	Token       string `yaml:"token" json:"token,omitempty" max:"password"`
	TokenSHA256 string `yaml:"token_sha256" json:"token_sha256,omitempty" max:"name"`
}

// The bounds of the scim: section.
const (
	// MaxSCIMTokens bounds the tokens of one IdP: one per provisioning
	// service, and a few while one is rotated.
	MaxSCIMTokens = 16
	// MinSCIMTokenBytes is the shortest token taken: a bearer token is
	// the whole credential, and one shorter is guessed.
	MinSCIMTokenBytes = 16
	// MaxSCIMTokenBytes is the longest (the bound of a password).
	MaxSCIMTokenBytes = MaxPasswordBytes
	// MaxSCIMTokenNameBytes bounds a token's name.
	MaxSCIMTokenNameBytes = 64
)

// digest is the SHA-256 of the token; ok is false when token_sha256 is
// no hex SHA-256 (a file that failed its check).
func (t *SCIMToken) digest() (d [sha256.Size]byte, ok bool) {
	if t.Token != "" {
		return sha256.Sum256([]byte(t.Token)), true
	}
	b, err := hex.DecodeString(t.TokenSHA256)
	if err != nil || len(b) != sha256.Size {
		return d, false
	}
	copy(d[:], b)
	return d, true
}

// Match returns the token entry whose token is presented, nil when none
// is. Every entry is compared, in constant time, whichever matches: the
// time taken says nothing of which, or of how much of one, matched.
func (s *SCIM) Match(presented string) *SCIMToken {
	if presented == "" || len(presented) > MaxSCIMTokenBytes {
		return nil
	}
	got := sha256.Sum256([]byte(presented))
	var found *SCIMToken
	for i := range s.Tokens {
		d, ok := s.Tokens[i].digest()
		if subtle.ConstantTimeCompare(d[:], got[:]) == 1 && ok && found == nil {
			found = &s.Tokens[i]
		}
	}
	return found
}

// scimSection checks the scim: section: at most MaxSCIMTokens tokens,
// each with a unique name and one token, token or token_sha256, and no
// two the same token.
func (v *validator) scimSection() {
	tokens := v.cfg.SCIM.Tokens
	if len(tokens) > MaxSCIMTokens {
		v.at("scim.tokens", "%d tokens; give at most %d", len(tokens), MaxSCIMTokens)
		return
	}
	names := map[string]int{}
	digests := map[[sha256.Size]byte]string{}
	for i := range tokens {
		t := &tokens[i]
		path := fmt.Sprintf("scim.tokens[%d]", i)
		if v.required(path+".name", t.Name, "the token's name, such as entra") {
			switch {
			case len(t.Name) > MaxSCIMTokenNameBytes || !serverIDPattern.MatchString(t.Name):
				v.at(path+".name", "%q is not a token name; use 1 to %d letters, digits, '.', '_' and '-', starting with a letter or digit", t.Name, MaxSCIMTokenNameBytes)
			default:
				v.unique(names, i, path+".name", "scim.tokens[%d].name", "token name", t.Name)
			}
		}
		switch {
		case t.Token != "" && t.TokenSHA256 != "":
			v.at(path, "both token and token_sha256 are set; keep one (token_sha256, the hex SHA-256 of the token, keeps the token out of the file)")
			continue
		case t.Token == "" && t.TokenSHA256 == "":
			v.at(path, "no token; set token_sha256 (the hex SHA-256 of the token: printf %%s TOKEN | sha256sum) or token (demo only)")
			continue
		case t.Token != "":
			if len(t.Token) < MinSCIMTokenBytes || len(t.Token) > MaxSCIMTokenBytes || strings.IndexFunc(t.Token, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0 {
				v.at(path+".token", "a token is %d to %d printable ASCII characters without spaces (it is sent in the Authorization header); make one with: openssl rand -hex 32", MinSCIMTokenBytes, MaxSCIMTokenBytes)
				continue
			}
		default:
			if _, ok := t.digest(); !ok {
				v.at(path+".token_sha256", "not a hex SHA-256 (64 hex digits); make it with: printf %%s TOKEN | sha256sum")
				continue
			}
		}
		d, _ := t.digest()
		if first, dup := digests[d]; dup {
			v.at(path, "the same token as %s (line %d); give each client its own token", first, v.line(first))
			continue
		}
		digests[d] = path
	}
}
