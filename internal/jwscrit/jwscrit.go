// Package jwscrit checks the crit header of a JWS (RFC 7515 section
// 4.1.11): a recipient MUST refuse a JWS whose crit names an extension it
// does not understand. go-jose checks it when it verifies, but then says
// only that the signature failed, and ed25519alg, which verifies Ed25519
// signatures itself, did not check it at all.
package jwscrit

import (
	"fmt"
	"slices"

	jose "github.com/go-jose/go-jose/v4"
)

// understood are the extensions a crit may name: b64 (RFC 7797), which
// go-jose processes.
var understood = []string{"b64"}

// Check refuses a protected header whose crit is not a list of names, is
// empty (the RFC: it MUST NOT be), or names an extension this module does
// not understand. A header without crit passes.
func Check(h jose.Header) error {
	v, ok := h.ExtraHeaders["crit"]
	if !ok {
		return nil
	}
	names, ok := v.([]any)
	if !ok {
		return fmt.Errorf("crit is %v, not a list of header names (RFC 7515 section 4.1.11)", v)
	}
	if len(names) == 0 {
		return fmt.Errorf("crit is an empty list, which RFC 7515 section 4.1.11 forbids")
	}
	for _, n := range names {
		name, ok := n.(string)
		if !ok || !slices.Contains(understood, name) {
			return fmt.Errorf("crit names %q, an extension this server does not understand (RFC 7515 section 4.1.11)", fmt.Sprint(n))
		}
	}
	return nil
}
