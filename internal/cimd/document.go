package cimd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4"

	"github.com/xaa-idp/xaa-idp/internal/cimd/urlpattern"
	"github.com/xaa-idp/xaa-idp/internal/jwkset"
	"github.com/xaa-idp/xaa-idp/internal/strictjson"
)

// Token endpoint authentication methods a metadata document may declare
// (RFC 7591 §2). A document is public, so it cannot carry a shared secret:
// the client is either public ("none") or proves itself with a key it
// publishes (RFC 7523 §2.2).
const (
	AuthNone          = "none"
	AuthPrivateKeyJWT = "private_key_jwt"
)

// Client is a client described by its Client ID Metadata Document
// (draft-ietf-oauth-client-id-metadata-document §4): the subset of RFC 7591
// client metadata an authorization server acts on.
type Client struct {
	// ClientID is the URL the document was fetched from; it equals the
	// document's client_id byte for byte.
	ClientID   string
	ClientName string
	// RedirectURIs are the registered redirection URIs; never empty.
	RedirectURIs []string
	// TokenEndpointAuthMethod is AuthNone or AuthPrivateKeyJWT.
	TokenEndpointAuthMethod string
	// GrantTypes are the document's grant_types, as given.
	GrantTypes []string
	// JWKSURI is the document's jwks_uri, "" when the keys are inline.
	JWKSURI string
	// Keys are the public signature keys for private_key_jwt client
	// assertions, from jwks or jwks_uri; empty for a public client.
	Keys []jose.JSONWebKey
}

// document is the wire form of the members ParseDocument reads.
type document struct {
	ClientID                string          `json:"client_id"`
	ClientName              string          `json:"client_name"`
	RedirectURIs            []string        `json:"redirect_uris"`
	TokenEndpointAuthMethod *string         `json:"token_endpoint_auth_method"`
	GrantTypes              []string        `json:"grant_types"`
	JWKS                    json.RawMessage `json:"jwks"`
	JWKSURI                 string          `json:"jwks_uri"`
}

// ParseDocument checks the metadata document doc fetched from clientID and
// returns the client it describes. Its keys are those of jwks; a document
// with jwks_uri comes back with JWKSURI set and no keys, for the caller to
// fetch (Resolver.Resolve does). The error, always an *Error of kind
// ErrInvalidDocument, names the member at fault and what to write instead.
func ParseDocument(clientID string, doc []byte) (*Client, error) {
	invalid := func(format string, args ...any) (*Client, error) {
		return nil, &Error{ClientID: clientID, Kind: ErrInvalidDocument, Detail: fmt.Sprintf(format, args...)}
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(doc, &members); err != nil || members == nil {
		return invalid("not a JSON object: %v", errOrNull(err))
	}
	// A key twice (the last one wins in encoding/json, the first in other
	// parsers) would let a document say one client_id or redirect URI to
	// the IdP and another to a reader of it.
	if err := strictjson.Check(doc, strictjson.Options{NullMembers: true}); err != nil {
		return invalid("%s", strings.Replace(err.Error(), "the body", "the document", 1))
	}
	// A document is public: a secret in it is no secret (§4.1 forbids
	// client_secret and symmetric authentication methods), whatever the
	// case of its key (encoding/json, and so many readers, fold it).
	for k := range members {
		if strings.EqualFold(k, "client_secret") {
			return invalid("it contains a client_secret, which anyone can read; remove it and use private_key_jwt or none")
		}
	}
	var d document
	if err := json.Unmarshal(doc, &d); err != nil {
		return invalid("%s", typeProblem(err))
	}
	if d.ClientID != clientID {
		return invalid("its client_id %q is not the URL it was fetched from; they must be equal byte for byte (§3)", d.ClientID)
	}
	if len(d.RedirectURIs) == 0 {
		return invalid("redirect_uris is missing or empty; list the client's redirection URIs (RFC 7591 §2)")
	}
	for _, r := range d.RedirectURIs {
		u, err := url.Parse(r)
		// A bare "#" parses to an empty Fragment, yet is one (RFC 6749
		// §3.1.2): the string is what the redirect would carry.
		if err != nil || !u.IsAbs() || strings.Contains(r, "#") {
			return invalid("redirect_uris has %q, which is not an absolute URI without a fragment (RFC 6749 §3.1.2)", r)
		}
		// No redirect_uri with userinfo is accepted in a request
		// (idp/redirect.go), so the document could never log in; the
		// configuration refuses one in clients[].redirect_uris too.
		if u.User != nil {
			return invalid("redirect_uris has %q, with userinfo (user@), which no redirect_uri of a request may have; remove it", r)
		}
		if urlpattern.ScriptScheme(u.Scheme) {
			return invalid("redirect_uris has %q, whose scheme runs or shows content in the browser instead of returning to the client (RFC 9700 §4.1.3)", r)
		}
	}
	c := &Client{
		ClientID:     clientID,
		ClientName:   d.ClientName,
		RedirectURIs: slices.Clone(d.RedirectURIs),
		GrantTypes:   slices.Clone(d.GrantTypes),
	}
	switch {
	case d.TokenEndpointAuthMethod == nil:
		return invalid("token_endpoint_auth_method is missing, and its RFC 7591 default client_secret_basic needs a secret a public document cannot hold; set none or private_key_jwt")
	case *d.TokenEndpointAuthMethod == AuthNone:
		c.TokenEndpointAuthMethod = AuthNone
		return c, nil
	case *d.TokenEndpointAuthMethod == AuthPrivateKeyJWT:
		c.TokenEndpointAuthMethod = AuthPrivateKeyJWT
	default:
		return invalid("token_endpoint_auth_method %q is not supported; a metadata document client uses none or private_key_jwt", *d.TokenEndpointAuthMethod)
	}
	hasJWKS := len(d.JWKS) > 0 && !bytes.Equal(d.JWKS, []byte("null"))
	switch {
	case hasJWKS && d.JWKSURI != "":
		return invalid("it has both jwks and jwks_uri; RFC 7591 §2 allows one")
	case d.JWKSURI != "":
		c.JWKSURI = d.JWKSURI
		return c, nil
	case !hasJWKS:
		return invalid("private_key_jwt needs the client's public keys: add jwks or jwks_uri (RFC 7591 §2)")
	}
	keys, err := ParseKeys(d.JWKS)
	if err != nil {
		return invalid("jwks: %v", err)
	}
	c.Keys = keys
	return c, nil
}

// ParseKeys returns the public signature keys of a JWK Set (RFC 7517 §5).
// Keys it cannot use (unknown kty, "use" other than "sig", symmetric keys,
// malformed members) are skipped; a set with none left is an error.
func ParseKeys(set []byte) ([]jose.JSONWebKey, error) {
	keys, listed, err := jwkset.Public(set)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("no usable public signature key among %d keys (want EC, RSA or OKP keys with use sig or no use)", listed)
	}
	return keys, nil
}

// typeProblem says which member of a document has the wrong JSON type, in
// the document's terms rather than encoding/json's Go ones.
func typeProblem(err error) string {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return err.Error()
	}
	a := "a"
	if te.Value != "" && strings.IndexByte("aeiou", te.Value[0]) >= 0 {
		a = "an"
	}
	switch {
	case te.Type.Kind() == reflect.Slice:
		return fmt.Sprintf("%s is %s %s, not a list of strings", te.Field, a, te.Value)
	case te.Field == "redirect_uris" || te.Field == "grant_types":
		return fmt.Sprintf("%s holds %s %s; it must be a list of strings", te.Field, a, te.Value)
	}
	return fmt.Sprintf("%s is %s %s, not a string", te.Field, a, te.Value)
}

func errOrNull(err error) error {
	if err == nil {
		return fmt.Errorf("got null")
	}
	return err
}
