// Package jwtreason says in plain words why a JWT could not be read, for
// the error_description and the audit reason of every place that reads
// one (subject tokens, client assertions, DPoP proofs, ID-JAGs, access
// tokens, SETs): go-jose's and encoding/json's own errors name Go types
// and library internals ("expected number value to unmarshal
// NumericDate", "cannot unmarshal array into Go value of type string")
// and not the claim that is wrong. What it says is read from the token
// itself, so it is the same whichever library failed.
package jwtreason

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
)

// Parse says why raw is not a compact JWS that could be parsed, err being
// the parser's error: its form (Form), else its alg.
func Parse(raw string, err error) string {
	if why := Form(raw); why != "" {
		return why
	}
	if err != nil && strings.Contains(err.Error(), "unexpected signature algorithm") {
		header, _ := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
		var h struct {
			Alg string `json:"alg"`
		}
		_ = json.Unmarshal(header, &h)
		return fmt.Sprintf("its alg is %q", h.Alg)
	}
	return "its JOSE header is not one this server can verify (RFC 7515 section 4.1)"
}

// Form says why raw is not a compact JWS whose JOSE header is one JSON
// object, each member once, with a string alg, or "" when it is: the
// serialization, the part that is not base64url, the header.
func Form(raw string) string {
	parts := strings.Split(raw, ".")
	switch {
	case strings.HasPrefix(strings.TrimSpace(raw), "{"):
		return "it is in the JWS JSON serialization; send the compact one, three base64url parts separated by dots (RFC 7515 section 7.1)"
	case len(parts) == 5:
		return "it has 5 parts, a JWE (encrypted); send a signed JWT, three base64url parts separated by dots (RFC 7515 section 7.1)"
	case len(parts) != 3:
		return fmt.Sprintf("it has %d dot-separated parts, not the 3 of a compact JWS (RFC 7515 section 7.1)", len(parts))
	}
	for i, name := range []string{"JOSE header", "payload", "signature"} {
		if _, e := base64.RawURLEncoding.Strict().DecodeString(parts[i]); e != nil {
			return fmt.Sprintf("its %s is not base64url without padding or white space (RFC 7515 section 2)", name)
		}
	}
	header, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if why := object(header, "JOSE header", "JOSE header member"); why != "" {
		return "its " + why
	}
	var h map[string]json.RawMessage
	_ = json.Unmarshal(header, &h)
	var alg string
	if _, ok := h["alg"]; !ok {
		return "its JOSE header has no alg (RFC 7515 section 4.1.1)"
	}
	if json.Unmarshal(h["alg"], &alg) != nil {
		return "its JOSE header's alg must be a string (RFC 7515 section 4.1.1)"
	}
	return ""
}

// Claims says which claim of raw, a compact JWS whose header parsed, is
// not what RFC 7519 says it is, err being the error reading the claims.
func Claims(raw string, err error) string {
	if why := BadClaims(raw); why != "" {
		return why
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Sprintf("the %s claim must be %s, got a JSON %s", te.Field, jsonType(te.Type.Kind()), te.Value)
	}
	return "its claims are not the JSON object RFC 7519 section 4 describes"
}

// BadClaims says what is wrong with the claims of raw, a compact JWS, or
// "" when nothing is that it knows: a payload that is not one JSON
// object, a claim sent twice, a date that is not a number of seconds
// since 1970, a string claim that is not a string.
func BadClaims(raw string) string {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return Form(raw)
	}
	if parts[1] == "" {
		return "its payload is empty (a detached payload, RFC 7515 appendix F, is not accepted)"
	}
	payload, e := base64.RawURLEncoding.Strict().DecodeString(parts[1])
	if e != nil {
		return "its payload is not base64url without padding or white space (RFC 7515 section 2)"
	}
	if why := object(payload, "payload", "claim"); why != "" {
		return "its " + why
	}
	var claims map[string]json.RawMessage
	_ = json.Unmarshal(payload, &claims)
	for _, name := range []string{"iss", "sub", "aud", "jti", "exp", "nbf", "iat", "auth_time"} {
		v, ok := claims[name]
		if !ok {
			continue
		}
		switch name {
		case "exp", "nbf", "iat", "auth_time":
			var f float64
			err := json.Unmarshal(v, &f)
			if err != nil && kind(v) != "a number" {
				return fmt.Sprintf("the %s claim must be a number (seconds since 1970), got %s", name, kind(v))
			}
			// A number past float64 (1e400) fails to decode as one.
			if err != nil || math.Abs(f) >= 1<<62 {
				got := string(v)
				if len(got) > 32 { // a number of 60,000 digits
					got = got[:32] + "..."
				}
				return fmt.Sprintf("the %s claim must be a number of seconds since 1970, got %s, out of range", name, got)
			}
		case "aud":
			var one string
			var many []string
			if json.Unmarshal(v, &one) != nil && json.Unmarshal(v, &many) != nil {
				return fmt.Sprintf("the aud claim must be a string or an array of strings, got %s", kind(v))
			}
		default:
			var s string
			if json.Unmarshal(v, &s) != nil {
				return fmt.Sprintf("the %s claim must be a string, got %s", name, kind(v))
			}
		}
	}
	return ""
}

// twice is the section that refuses a member named so twice.
var twice = map[string]string{"JOSE header member": "RFC 7515 section 4", "claim": "RFC 7519 section 4"}

// object says why data, the token's part named whole, is not one JSON
// object with each member (named member) once, or "" when it is.
func object(data []byte, whole, member string) string {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return whole + " is not a JSON object"
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			break
		}
		key, _ := t.(string)
		if seen[key] {
			return fmt.Sprintf("%s %q appears twice (%s)", member, key, twice[member])
		}
		seen[key] = true
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			break
		}
	}
	var v map[string]json.RawMessage
	if json.Unmarshal(data, &v) != nil {
		return whole + " is not a JSON object"
	}
	return ""
}

// kind names the JSON type of v with its article: "a string", "an array".
func kind(v json.RawMessage) string {
	switch t := bytes.TrimSpace(v); {
	case len(t) == 0:
		return "nothing"
	case t[0] == '"':
		return "a string"
	case t[0] == '[':
		return "an array"
	case t[0] == '{':
		return "an object"
	case t[0] == 't' || t[0] == 'f':
		return "a boolean"
	case t[0] == 'n':
		return "null"
	}
	return "a number"
}

// jsonType names the JSON type a Go value of kind k is read from.
func jsonType(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "a number"
}
