// Package signer holds the IdP's signing keys: it signs ID tokens and
// ID-JAGs with the current key of each configured algorithm, publishes the
// public keys as a JWK Set, and rotates them, keeping a replaced key
// published until every token it signed has expired. Keys come from
// signing.key_files, from the state directory, or are generated
// (docs/configuration.md, "signing").
package signer

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/xaa-idp/xaa-idp/internal/atomicfile"
	"github.com/xaa-idp/xaa-idp/internal/filekind"
)

// IDJAGType is the typ header of an ID-JAG (ID-JAG draft section 3).
const IDJAGType = "oauth-id-jag+jwt"

// Signer is what the IdP asks of its keys: sign an ID-JAG, sign an ID
// token, publish the verification keys, rotate. Ring implements it; the
// IdP's fault hook wraps it to issue deliberately broken ID-JAGs.
type Signer interface {
	// SignIDJAG signs claims as an ID-JAG (typ oauth-id-jag+jwt) with the
	// current ID-JAG key.
	SignIDJAG(ctx context.Context, claims any) (string, error)
	// SignIDToken signs claims as an ID token (typ JWT) with the current
	// ID token key.
	SignIDToken(ctx context.Context, claims any) (string, error)
	// JWKS is every key that verifies now, for jwks_uri (RFC 7517
	// section 5).
	JWKS() jose.JSONWebKeySet
	// Rotate makes a new key current for each algorithm in use and keeps
	// each replaced key published for overlap. record, when not nil, is
	// called with the rotations once the new keys exist and before they
	// are written or used; its error stops the rotation, changing nothing.
	Rotate(overlap time.Duration, record func([]Rotation) error) ([]Rotation, error)
}

var _ Signer = (*Ring)(nil)

// Key is one private key the IdP signs with. Its ID, SignatureAlgorithm
// and Key methods are those of zitadel's op.SigningKey, so that zitadel
// signs ID tokens with the ring's current ID token key.
type Key struct {
	id   string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer

	// idJAGHeader and idTokenHeader are the encoded protected headers
	// (jws.go) of the ID-JAGs and ID tokens this key signs: alg, kid and
	// typ never change for a key, so they are encoded once.
	idJAGHeader, idTokenHeader string
}

// ID is the key's kid.
func (k *Key) ID() string { return k.id }

// SignatureAlgorithm is the key's alg.
func (k *Key) SignatureAlgorithm() jose.SignatureAlgorithm { return k.alg }

// Key is the private key.
func (k *Key) Key() any { return k.priv }

// Public is the public key, which verifies what the key signed.
func (k *Key) Public() crypto.PublicKey { return k.priv.Public() }

// JWK is the public key as published in the JWK Set.
func (k *Key) JWK() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.id, Algorithm: string(k.alg), Use: "sig"}
}

func (k *Key) matches(kid, alg string) bool { return k.id == kid && string(k.alg) == alg }

// A JSONAppender appends itself to b as a JSON document. Claims that are
// one (the ID-JAG's) are signed as they append themselves, without
// encoding/json's reflection; they must write what json.Marshal would.
type JSONAppender interface {
	AppendJSON(b []byte) []byte
}

// sign marshals claims once, with their AppendJSON or else encoding/json,
// and signs them under the encoded header h (jws.go).
func (k *Key) sign(h string, claims any) (string, error) {
	a, ok := claims.(JSONAppender)
	if !ok {
		payload, err := json.Marshal(claims)
		if err != nil {
			return "", err
		}
		return signCompact(string(k.alg), k.priv, h, payload)
	}
	// The payload is only read, into the token's base64: its buffer
	// serves the next token.
	buf := payloadBufs.Get().(*[]byte)
	payload := a.AppendJSON((*buf)[:0])
	tok, err := signCompact(string(k.alg), k.priv, h, payload)
	if cap(payload) <= maxPooledPayload {
		*buf = payload[:0]
		payloadBufs.Put(buf)
	}
	return tok, err
}

// payloadBufs are the buffers JSONAppender claims are marshalled into, of
// at most maxPooledPayload bytes (claims of an odd size are left to the
// garbage collector).
var payloadBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

const maxPooledPayload = 16 << 10

// Ring holds the IdP's signing keys: the current key of each algorithm
// in use, and the keys a rotation replaced, which stay published until
// they retire (rotate.go). Its methods are safe for concurrent use.
type Ring struct {
	idTokenAlg, idJAGAlg jose.SignatureAlgorithm
	stateDir             string
	now                  func() time.Time // the IdP's clock
	wall                 func() time.Time // the real time, which retires keys

	// ready is closed once every key exists. Without --state-dir the keys
	// are generated in the background (see Load), so that a CI job's
	// IdP answers /healthz before an RSA key is found; whatever signs or
	// publishes waits here.
	ready chan struct{}

	rotateMu sync.Mutex // serialises rotations
	mu       sync.RWMutex
	idToken  *Key
	idJAG    *Key
	previous []previousKey
	// others are the current keys of the algorithms that only some MCP
	// servers' ID-JAGs use (their signing_alg), made by Ensure.
	others map[jose.SignatureAlgorithm]*Key
	given  []crypto.Signer // Options.KeyFiles, read
	// givenFiles are the files of given, in its order.
	givenFiles []string
	// pinned are the algorithms whose current key Pin keeps whatever the
	// configuration names (the demo's key for Security Event Tokens).
	pinned map[jose.SignatureAlgorithm]bool
	// signed is what each key (by kid) has signed while current: "id_token",
	// "id_jag"; a key that retires is listed with it (Keys).
	signed map[string][]string
	// cacheDir is Options.CacheDir when the RS256 key is kept there
	// (cachesKey, and no key file gives one), so that a rotation replaces
	// it there too; "" otherwise.
	cacheDir string
}

// previousKey is a key replaced by a rotation: it signs nothing any more,
// and verifies until retireAt on the wall clock, or until clockRetireAt
// on the IdP's clock if that comes first (zero: only the wall clock). An
// admin can move the IdP's clock (--clock, PUT /admin/api/clock): moving
// it ahead retires the key as if that time had passed, but no clock
// setting keeps a key published beyond the real time of its rotation plus
// the overlap.
type previousKey struct {
	key           *Key
	retireAt      time.Time
	clockRetireAt time.Time
	use           []string // what it signed: "id_token", "id_jag"
}

// retired reports whether p has retired at now, the IdP's clock, and wall.
func (p previousKey) retired(now, wall time.Time) bool {
	return !wall.Before(p.retireAt) || !p.clockRetireAt.IsZero() && !now.Before(p.clockRetireAt)
}

func (r *Ring) wait() { <-r.ready }

// IDTokenKey returns the key ID tokens are signed with now; zitadel asks
// for it (op.Storage's SigningKey) for every ID token, so a rotation takes
// effect at once.
func (r *Ring) IDTokenKey() *Key {
	r.wait()
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.idToken
}

// IDTokenAlg is the algorithm ID tokens are signed with, for discovery.
func (r *Ring) IDTokenAlg() jose.SignatureAlgorithm {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.idTokenAlg
}

// Use makes the keys of a configuration current, a change while running:
// ID tokens are signed with the key of idTokenAlg from the next one,
// ID-JAGs with that of idJAGAlg, and the MCP servers' own signing_alg
// (algs) have theirs; each is published (Ensure) by the time it signs. A
// key that signs none of them any more retires as a rotation's replaced
// key does: it stays published for overlap (the longest lifetime of a
// token it signed) and, with a state directory, is kept there among the
// previous keys, so that a restart publishes it too; then it leaves the
// JWKS. An error writing the state directory leaves the key published as
// long as the IdP runs.
func (r *Ring) Use(idTokenAlg, idJAGAlg string, algs []string, overlap time.Duration) error {
	// Not amid a rotation, which would put back a successor of the key
	// it found current.
	r.rotateMu.Lock()
	defer r.rotateMu.Unlock()
	// What the current keys have signed, before Ensure adds the keys this
	// change makes to r.others: a key made for idTokenAlg signs no ID-JAG.
	r.wait()
	r.mu.Lock()
	r.noteSigned()
	r.mu.Unlock()
	inUse := append([]string{idTokenAlg, idJAGAlg}, algs...)
	keys := map[string]*Key{}
	var errs []error
	for _, alg := range inUse {
		k, err := r.Ensure(alg)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		keys[alg] = k
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	idToken, idJAG := keys[idTokenAlg], keys[idJAGAlg]
	if idToken == nil {
		idToken = r.idToken
	}
	if idJAG == nil {
		idJAG = r.idJAG
	}
	others := map[jose.SignatureAlgorithm]*Key{}
	var retiring []*Key
	for _, k := range append([]*Key{r.idToken, r.idJAG}, r.sortedOthers()...) {
		switch {
		case k == idToken || k == idJAG || slices.Contains(retiring, k):
		case slices.Contains(inUse, string(k.alg)) || r.pinned[k.alg]:
			others[k.alg] = k
		default:
			retiring = append(retiring, k)
		}
	}
	if len(retiring) > 0 {
		now, wall := r.now(), r.wall()
		previous := slices.DeleteFunc(slices.Clone(r.previous), func(p previousKey) bool {
			return p.retired(now, wall) || slices.ContainsFunc(retiring, func(k *Key) bool { return k.id == p.key.id })
		})
		for _, k := range retiring {
			previous = append(previous, previousKey{key: k, retireAt: wall.Add(overlap), clockRetireAt: now.Add(overlap), use: slices.Clone(r.signed[k.id])})
		}
		if r.stateDir != "" {
			if err := writePreviousKeys(r.stateDir, previous); err != nil {
				// Published while the IdP runs, as a current key is.
				for _, k := range retiring {
					others[k.alg] = k
				}
				errs = append(errs, fmt.Errorf("signer: the replaced keys stay published until the next start only: %w", err))
				retiring = nil
			}
		}
		for _, k := range retiring {
			if r.stateDir != "" {
				dropCurrentKeyFile(r.stateDir, k)
			}
			delete(r.signed, k.id)
		}
		if retiring != nil {
			r.previous = previous
		}
	}
	r.idToken, r.idTokenAlg = idToken, idToken.alg
	r.idJAG, r.idJAGAlg = idJAG, idJAG.alg
	r.others = others
	r.noteSigned()
	return errors.Join(errs...)
}

// Pin makes sure the ring has a current key of alg (Ensure) and keeps one
// whatever a change of the configuration names (Use): the demo's key for
// Security Event Tokens.
func (r *Ring) Pin(alg string) error {
	if _, err := r.Ensure(alg); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pinned == nil {
		r.pinned = map[jose.SignatureAlgorithm]bool{}
	}
	r.pinned[jose.SignatureAlgorithm(alg)] = true
	return nil
}

// noteSigned adds what each current key signs to r.signed; r.mu is held.
func (r *Ring) noteSigned() {
	if r.signed == nil {
		r.signed = map[string][]string{}
	}
	note := func(k *Key, use string) {
		if !slices.Contains(r.signed[k.id], use) {
			r.signed[k.id] = append(r.signed[k.id], use)
		}
	}
	note(r.idToken, "id_token")
	note(r.idJAG, "id_jag")
	for _, k := range r.others {
		note(k, "id_jag")
	}
}

// dropCurrentKeyFile removes the state directory's current key file of
// k's algorithm if it holds k, which the previous keys now keep until it
// retires: a later start that finds the file takes its key for one that
// signs (or, for an algorithm no longer used, retires it then).
func dropCurrentKeyFile(stateDir string, k *Key) {
	path := currentKeyPath(stateDir, string(k.alg))
	s, err := readPrivateKey(path)
	if err != nil {
		return
	}
	if held, err := newSigningKey(string(k.alg), s); err != nil || held.id != k.id {
		return
	}
	if err := os.Remove(path); err != nil {
		slog.Warn("cannot remove the key file of a retired signing key; the next start retires it again", "path", path, "err", err)
	}
}

func (r *Ring) idJAGKey() *Key {
	r.wait()
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.idJAG
}

type idJAGAlgKey struct{}

// WithIDJAGAlg returns a context in which SignIDJAG signs with the
// current key of alg (RS256, ES256 or EdDSA) rather than the ID-JAG
// algorithm: for an MCP server with its own signing_alg.
func WithIDJAGAlg(ctx context.Context, alg string) context.Context {
	return context.WithValue(ctx, idJAGAlgKey{}, alg)
}

// Ensure makes sure the ring has a current key of alg, published from now
// on: the ID token or ID-JAG key when it is theirs, else one from the key
// files or the state directory, or a new one (kept there when the ring has
// one).
func (r *Ring) Ensure(alg string) (*Key, error) {
	r.wait()
	a := jose.SignatureAlgorithm(alg)
	r.mu.RLock()
	k := r.current(a)
	r.mu.RUnlock()
	if k != nil {
		return k, nil
	}
	if !slices.Contains([]string{"RS256", "ES256", "EdDSA"}, alg) {
		return nil, fmt.Errorf("signer: unsupported signing algorithm %q (use RS256, ES256 or EdDSA)", alg)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if k := r.current(a); k != nil {
		return k, nil
	}
	k, err := keyFor(alg, r.given, r.stateDir)
	if err != nil {
		return nil, err
	}
	if k == nil {
		s, err := generateKey(alg)
		if err != nil {
			return nil, err
		}
		if k, err = newSigningKey(alg, s); err != nil {
			return nil, err
		}
	}
	if r.others == nil {
		r.others = map[jose.SignatureAlgorithm]*Key{}
	}
	r.others[a] = k
	return k, nil
}

// current returns the current key of alg, or nil; r.mu is held.
func (r *Ring) current(alg jose.SignatureAlgorithm) *Key {
	switch {
	case r.idJAG.alg == alg:
		return r.idJAG
	case r.idToken.alg == alg:
		return r.idToken
	}
	return r.others[alg]
}

// SignIDJAG implements Signer. claims should be a struct whose optional
// members are omitempty: they are marshalled as they are, with
// encoding/json, and the header is the key's typ oauth-id-jag+jwt
// (zitadel pins typ to "JWT", so ID-JAGs are signed here).
func (r *Ring) SignIDJAG(ctx context.Context, claims any) (string, error) {
	k := r.idJAGKey()
	if alg, ok := ctx.Value(idJAGAlgKey{}).(string); ok && alg != string(k.alg) {
		var err error
		if k, err = r.Ensure(alg); err != nil {
			return "", err
		}
	}
	jag, err := k.sign(k.idJAGHeader, claims)
	if err != nil {
		return "", fmt.Errorf("signer: the %s ID-JAG key: %w", r.idJAGAlg, err)
	}
	return jag, nil
}

// SignIDJAGAs signs claims with the current ID-JAG key but writes typ, and
// kid unless it is "", into the header as given, whether or not they are
// true: the fault hook's broken ID-JAGs (an unknown kid, a wrong typ) are
// made with it. They are rare, so go-jose signs them.
func (r *Ring) SignIDJAGAs(claims any, kid, typ string) (string, error) {
	k := r.idJAGKey()
	if kid == "" {
		kid = k.id
	}
	sig, err := jose.NewSigner(
		jose.SigningKey{Algorithm: k.alg, Key: jose.JSONWebKey{Key: k.priv, KeyID: kid}},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
	if err != nil {
		return "", fmt.Errorf("signer: the %s ID-JAG key: %w", r.idJAGAlg, err)
	}
	return jwt.Signed(sig).Claims(claims).Serialize()
}

// SignIDToken implements Signer, as zitadel signs ID tokens: the header
// has kid and typ JWT, and the claims are encoded with encoding/json, so
// that json.Number values keep the digits they were read with.
func (r *Ring) SignIDToken(_ context.Context, claims any) (string, error) {
	k := r.IDTokenKey()
	tok, err := k.sign(k.idTokenHeader, claims)
	if err != nil {
		return "", fmt.Errorf("signer: the %s ID token key: %w", k.alg, err)
	}
	return tok, nil
}

// JWKS implements Signer.
func (r *Ring) JWKS() jose.JSONWebKeySet {
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for _, k := range r.Published() {
		set.Keys = append(set.Keys, k.JWK())
	}
	return set
}

// Published returns every key that verifies now: the current ones and the
// previous ones not yet retired by the clock.
func (r *Ring) Published() []*Key {
	var keys []*Key
	r.published(func(k *Key) bool {
		keys = append(keys, k)
		return true
	})
	return keys
}

// published calls yield with every published key, current ones first,
// until it returns false.
func (r *Ring) published(yield func(*Key) bool) {
	r.wait()
	now, wall := r.now(), r.wall()
	r.mu.RLock()
	defer r.mu.RUnlock()
	if !yield(r.idToken) || (r.idJAG != r.idToken && !yield(r.idJAG)) {
		return
	}
	for _, k := range r.others {
		if !yield(k) {
			return
		}
	}
	for _, p := range r.previous {
		if !p.retired(now, wall) && !r.isCurrent(p.key) && !yield(p.key) {
			return
		}
	}
}

// Lookup finds the published key a token header names; kid and alg must
// both agree. It returns nil for a key that is unknown or retired. It
// runs for every subject token, so it builds no list.
func (r *Ring) Lookup(kid, alg string) *Key {
	var found *Key
	r.published(func(k *Key) bool {
		if k.matches(kid, alg) {
			found = k
		}
		return found == nil
	})
	return found
}

// RetiredAt reports when the key a token header names retired, if it is a
// key a rotation replaced and its overlap has passed: a verifier can then
// say why the token no longer verifies. Keys retired before the last
// rotation are forgotten.
func (r *Ring) RetiredAt(kid, alg string) (time.Time, bool) {
	r.wait()
	now, wall := r.now(), r.wall()
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, p := range r.previous {
		if p.key.matches(kid, alg) && p.retired(now, wall) {
			if !wall.Before(p.retireAt) {
				return p.retireAt, true
			}
			return p.clockRetireAt, true
		}
	}
	return time.Time{}, false
}

// Options configure Load.
type Options struct {
	// IDTokenAlg and IDJAGAlg are RS256, ES256 or EdDSA.
	IDTokenAlg, IDJAGAlg string
	// KeyFiles are PEM private keys; one that fits an algorithm is used
	// for it.
	KeyFiles []string
	// StateDir, when set, keeps generated keys, and the keys a rotation
	// replaced, across restarts.
	StateDir string
	// Now is the IdP's clock. Required. Moving it ahead past a replaced
	// key's overlap retires the key early; it cannot keep one longer.
	Now func() time.Time
	// Wall is the real time, which retires replaced keys (retire_at);
	// nil means time.Now.
	Wall func() time.Time
	// CacheDir, when set and StateDir is not, keeps a generated RS256 key
	// across runs, in CacheDir/rs256.pem (mode 0600): generating one takes
	// 30 to 130 ms, several times the rest of a start, and a mock IdP's
	// CI jobs start it often. Keys of the other algorithms are generated
	// in microseconds and are new on every run.
	CacheDir string
	// Overlap, when set with StateDir, is how long a key of the state
	// directory that this start does not sign with (its algorithm no
	// longer used, or replaced by a key of KeyFiles) stays published from
	// this start, for the tokens it signed: the longest token lifetime.
	Overlap time.Duration
	// ServerAlgs are the algorithms that only some MCP servers' ID-JAGs
	// use (their signing_alg): their keys are made with the others, before
	// the ring is ready, so that JWKS publishes them before the first
	// ID-JAG they sign (Ensure adds those of a later configuration).
	ServerAlgs []string
}

// Load returns keys for the two algorithms: from KeyFiles when one of them
// fits the algorithm, else from StateDir (generating and persisting them on
// first start, and reading the previous keys of a rotation), else from
// CacheDir (RS256 only), else generated in the background.
func Load(o Options) (*Ring, error) {
	idTokenAlg, idJAGAlg, keyFiles, stateDir, now := o.IDTokenAlg, o.IDJAGAlg, o.KeyFiles, o.StateDir, o.Now
	ring := &Ring{
		idTokenAlg: jose.SignatureAlgorithm(idTokenAlg),
		idJAGAlg:   jose.SignatureAlgorithm(idJAGAlg),
		stateDir:   stateDir,
		now:        now,
		wall:       o.Wall,
		ready:      make(chan struct{}),
	}
	if ring.wall == nil {
		ring.wall = time.Now
	}
	algs := append([]string{idTokenAlg, idJAGAlg}, o.ServerAlgs...)
	for _, alg := range algs {
		if !slices.Contains([]string{"RS256", "ES256", "EdDSA"}, alg) {
			return nil, fmt.Errorf("unsupported signing algorithm %q (use RS256, ES256 or EdDSA)", alg)
		}
	}
	var given []crypto.Signer
	for _, f := range keyFiles {
		s, err := readKeyFile(f)
		if err != nil {
			return nil, err
		}
		given = append(given, s)
	}
	ring.given, ring.givenFiles = given, slices.Clone(keyFiles)
	if cachesKey(o, "RS256") && !slices.ContainsFunc(given, func(s crypto.Signer) bool { return algFits("RS256", s) }) {
		ring.cacheDir = o.CacheDir
	}
	byAlg := map[string]*Key{}
	var missing []string // algorithms whose key is generated in the background
	for _, alg := range algs {
		if _, done := byAlg[alg]; done || slices.Contains(missing, alg) {
			continue
		}
		k, err := keyFor(alg, given, stateDir)
		if err != nil {
			return nil, err
		}
		if k == nil && cachesKey(o, alg) {
			k = cachedKey(o.CacheDir, alg)
		}
		if k == nil {
			missing = append(missing, alg)
			continue
		}
		byAlg[alg] = k
	}
	if stateDir != "" {
		prev, err := readPreviousKeys(stateDir, ring.wall(), o.Overlap)
		if err != nil {
			return nil, err
		}
		ring.previous = prev
		if o.Overlap > 0 {
			ring.retireUnused(algs, o.Overlap) // after ring.given is set
		}
	}
	finish := func() {
		ring.mu.Lock()
		ring.idToken, ring.idJAG = byAlg[idTokenAlg], byAlg[idJAGAlg]
		for alg, k := range byAlg {
			if k != ring.idToken && k != ring.idJAG {
				if ring.others == nil {
					ring.others = map[jose.SignatureAlgorithm]*Key{}
				}
				ring.others[jose.SignatureAlgorithm(alg)] = k
			}
		}
		ring.noteSigned()
		ring.mu.Unlock()
		close(ring.ready)
	}
	if len(missing) == 0 {
		finish()
		return ring, nil
	}
	go func() {
		keys := make([]*Key, len(missing))
		var wg sync.WaitGroup
		for i, alg := range missing {
			wg.Go(func() { keys[i] = mustGenerate(alg) })
		}
		wg.Wait()
		for i, alg := range missing {
			byAlg[alg] = keys[i]
			// Kept before the ring is ready, so that a start that
			// signed anything leaves the key for the next one.
			if cachesKey(o, alg) {
				if err := writePrivateKey(cachedKeyPath(o.CacheDir, alg), keys[i].priv); err != nil {
					slog.Warn("cannot keep the generated signing key for the next start", "alg", alg, "err", err)
				}
			}
		}
		finish()
	}()
	return ring, nil
}

// retireUnused retires, at start, the state directory's keys that this
// start does not sign with, as Use does for a change while running: those
// of the algorithms that the configuration no longer uses (inUse; it was
// changed while the IdP was stopped), and those that a key of key_files
// replaces (a rotation made on top of them). The tokens they signed may
// still be alive, so each stays published for overlap from now, among the
// previous keys.
func (r *Ring) retireUnused(inUse []string, overlap time.Duration) {
	now, wall := r.now(), r.wall()
	previous := r.previous
	var retiring []*Key
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		var given *Key
		if i := slices.IndexFunc(r.given, func(s crypto.Signer) bool { return algFits(alg, s) }); i >= 0 {
			given, _ = newSigningKey(alg, r.given[i])
		}
		if slices.Contains(inUse, alg) && given == nil {
			continue
		}
		// A file that cannot be read is left as it is, as before: no
		// start reads it until its algorithm is used again.
		s, err := readPrivateKey(currentKeyPath(r.stateDir, alg))
		if err != nil || !algFits(alg, s) {
			continue
		}
		k, err := newSigningKey(alg, s)
		if err != nil || given != nil && given.id == k.id {
			continue
		}
		retiring = append(retiring, k)
		if !slices.ContainsFunc(previous, func(p previousKey) bool { return p.key.id == k.id }) {
			previous = append(previous, previousKey{key: k, retireAt: wall.Add(overlap), clockRetireAt: now.Add(overlap)})
		}
	}
	if len(retiring) == 0 {
		return
	}
	if err := writePreviousKeys(r.stateDir, previous); err != nil {
		slog.Warn("cannot keep the state directory's signing keys that this start does not use among the previous keys; the tokens they signed no longer verify", "err", err)
		return
	}
	r.previous = previous
	for _, k := range retiring {
		dropCurrentKeyFile(r.stateDir, k)
	}
}

// keyFor returns the key for alg from the given keys or the state
// directory, generating and persisting one there on first start; nil when
// there is neither, so the caller generates one in memory.
func keyFor(alg string, given []crypto.Signer, stateDir string) (*Key, error) {
	for _, s := range given {
		if algFits(alg, s) {
			return newSigningKey(alg, s)
		}
	}
	if stateDir == "" {
		return nil, nil
	}
	path := currentKeyPath(stateDir, alg)
	if s, err := readPrivateKey(path); err == nil {
		if !algFits(alg, s) {
			return nil, fmt.Errorf("%s: holds %s, not the %s key (%s) the IdP keeps there; %s", path, keyKind(s), alg, algKeyKind[alg], damagedKeyHint)
		}
		return newSigningKey(alg, s)
	} else if _, unreadable := errors.AsType[*fs.PathError](err); unreadable && !errors.Is(err, os.ErrNotExist) {
		return nil, err // a permission, say: the file may be sound
	} else if !errors.Is(err, os.ErrNotExist) {
		// The file is the state directory's own: it is restored or
		// removed, not replaced by a key made by hand.
		if kf, ok := errors.AsType[*keyFileError](err); ok {
			return nil, fmt.Errorf("%s: %s; %s", kf.path, kf.what, damagedKeyHint)
		}
		return nil, fmt.Errorf("%w; %s", err, damagedKeyHint)
	}
	s, err := generateKey(alg)
	if err != nil {
		return nil, err
	}
	if err := writePrivateKey(path, s); err != nil {
		return nil, err
	}
	return newSigningKey(alg, s)
}

// damagedKeyHint says what to do about a key file of the state directory
// that holds no key of its algorithm.
const damagedKeyHint = "the state directory keeps its signing keys there: restore the file from a backup, or remove it to have a new key made (the tokens signed with the old one then no longer verify)"

// cachesKey reports whether Load keeps the generated key of alg in
// o.CacheDir: only the RS256 key, which is slow to generate, and only
// without a state directory, which keeps every key anyway.
func cachesKey(o Options, alg string) bool {
	return alg == "RS256" && o.CacheDir != "" && o.StateDir == ""
}

func cachedKeyPath(cacheDir, alg string) string {
	return filepath.Join(cacheDir, strings.ToLower(alg)+".pem")
}

// cachedKey returns the key for alg kept in cacheDir by an earlier run, or
// nil when there is none that fits: then a new one is generated and kept.
func cachedKey(cacheDir, alg string) *Key {
	s, err := readPrivateKey(cachedKeyPath(cacheDir, alg))
	if err != nil || !algFits(alg, s) {
		return nil
	}
	k, err := newSigningKey(alg, s)
	if err != nil {
		return nil
	}
	return k
}

func currentKeyPath(stateDir, alg string) string {
	return filepath.Join(stateDir, "keys", strings.ToLower(alg)+".pem")
}

// mustGenerate generates a key in the background. The algorithm was
// checked by Load, and crypto/rand does not fail (Go 1.24 and later
// crash the program instead), so an error here is a bug.
func mustGenerate(alg string) *Key {
	s, err := generateKey(alg)
	if err == nil {
		var k *Key
		if k, err = newSigningKey(alg, s); err == nil {
			return k
		}
	}
	panic(fmt.Sprintf("signer: generating the %s signing key: %v", alg, err))
}

// algKeyKind names, in plain words, the key each algorithm signs with.
var algKeyKind = map[string]string{"RS256": "an RSA key of 2048 bits or more", "ES256": "an EC P-256 key", "EdDSA": "an Ed25519 key"}

// keyKind names, in plain words, the private key k: its type and its size
// or curve.
func keyKind(k any) string {
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return fmt.Sprintf("an RSA key of %d bits", k.N.BitLen())
	case *ecdsa.PrivateKey:
		return "an EC key on curve " + k.Curve.Params().Name
	case ed25519.PrivateKey:
		return "an Ed25519 key"
	case *ecdh.PrivateKey:
		return fmt.Sprintf("an %s key, which is for key agreement and cannot sign", k.Curve())
	}
	return "a key of a kind that cannot sign here"
}

// minRSABits is the smallest RSA key that signs: RFC 7518 section 3.3
// requires 2048 bits for RS256, and Go refuses to sign with fewer than
// 1024, which failed each token request instead of the start.
const minRSABits = 2048

func algFits(alg string, s crypto.Signer) bool {
	switch k := s.(type) {
	case *rsa.PrivateKey:
		return alg == "RS256" && k.N.BitLen() >= minRSABits
	case *ecdsa.PrivateKey:
		return alg == "ES256" && k.Curve == elliptic.P256()
	case ed25519.PrivateKey:
		return alg == "EdDSA"
	}
	return false
}

func generateKey(alg string) (crypto.Signer, error) {
	switch alg {
	case "RS256":
		return rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EdDSA":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	}
	return nil, fmt.Errorf("unsupported signing algorithm %q (use RS256, ES256 or EdDSA)", alg)
}

// newSigningKey names the key by its RFC 7638 thumbprint, so a key persisted
// under --state-dir keeps its kid across restarts.
func newSigningKey(alg string, s crypto.Signer) (*Key, error) {
	jwk := jose.JSONWebKey{Key: s.Public()}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, err
	}
	kid := strings.ToLower(alg) + "-" + base64.RawURLEncoding.EncodeToString(tp)[:16]
	return &Key{
		id: kid, alg: jose.SignatureAlgorithm(alg), priv: s,
		idJAGHeader:   encodedHeader(alg, kid, IDJAGType),
		idTokenHeader: encodedHeader(alg, kid, "JWT"),
	}, nil
}

// readPrivateKey reads the first private key of the PEM file path
// (ParsePrivateKey).
func readPrivateKey(path string) (crypto.Signer, error) {
	data, err := readKeyPEM(path)
	if err != nil {
		return nil, err
	}
	return ParsePrivateKey(path, data)
}

// keyFormats are the private key blocks ParsePrivateKey reads: their PEM
// label and their format's parser (PKCS #8, PKCS #1, SEC 1).
var keyFormats = []struct {
	label string
	parse func([]byte) (any, error)
}{
	{"PRIVATE KEY", x509.ParsePKCS8PrivateKey},
	{"RSA PRIVATE KEY", func(der []byte) (any, error) { return x509.ParsePKCS1PrivateKey(der) }},
	{"EC PRIVATE KEY", func(der []byte) (any, error) { return x509.ParseECPrivateKey(der) }},
}

// giveKeyFix is what to do about a file of signing.key_files or a DPoP
// key that holds no private key. A key file of the state directory is
// restored or removed instead (keyFor).
const giveKeyFix = "give an EC P-256 private key, PEM (openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out KEY.pem)"

// keyFileError is a key file that holds no private key to use: what is
// wrong with the file path, and what to do about it; err, when set, is
// the system's error it stands for (a missing file's).
type keyFileError struct {
	path, what, fix string
	err             error
}

func (e *keyFileError) Error() string { return e.path + ": " + e.what + "; " + e.fix }

func (e *keyFileError) Unwrap() error { return e.err }

// noPEMKey says what data, a key file without a single whole PEM block,
// holds instead: nothing, a block cut short, or other data.
func noPEMKey(data []byte) string {
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		return "is empty"
	case bytes.Contains(data, []byte("-----BEGIN ")):
		return "holds a PEM block cut short or damaged (its -----END line is missing or does not match)"
	}
	return "holds no PEM private key (no -----BEGIN PRIVATE KEY----- line)"
}

// unreadableKeyBlock says why block, a private key block of the file
// path, does not parse, and what to do: a key under another format's
// label is named with its label, else the block holds no key it can read.
// Go's own errors name its functions ("use ParsePKCS1PrivateKey instead
// for this key format") and print ASN.1 structures, and until 2026-12-07
// these texts named the formats ("not a PKCS #8 private key").
func unreadableKeyBlock(path string, block *pem.Block) error {
	for _, f := range keyFormats {
		if f.label == block.Type {
			continue
		}
		if _, err := f.parse(block.Bytes); err == nil {
			return fmt.Errorf("%s: its %s block holds a key whose PEM label is %s: correct the label, or convert the key (openssl pkey -in %s -out KEY.pem)", path, block.Type, f.label, path)
		}
	}
	return &keyFileError{path: path, what: fmt.Sprintf("its %s block holds no private key that can be read (damaged, or a kind of key the IdP does not take)", block.Type), fix: giveKeyFix}
}

// ParsePrivateKey returns the first private key of data, the PEM file
// path: PKCS #8 ("PRIVATE KEY", what openssl genpkey writes), PKCS #1
// ("RSA PRIVATE KEY", openssl genrsa -traditional) or SEC 1 ("EC PRIVATE
// KEY"). Other blocks before it are skipped: `openssl ecparam -genkey`
// writes an "EC PARAMETERS" block first. What cannot be a key says so,
// with the fix. The CLI's DPoP key file (`exchange --dpop-key`), which it
// has read already, takes the same PEM with the same words.
func ParsePrivateKey(path string, data []byte) (crypto.Signer, error) {
	var err error
	var seen []string
	whole := data
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		var k any
		if strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
			block.Type = "ENCRYPTED PRIVATE KEY" // openssl's older form (-traditional)
		}
		switch block.Type {
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(block.Bytes)
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, fmt.Errorf("%s: the private key is encrypted; give an unencrypted copy (openssl pkey -in %s -out KEY.pem)", path, path)
		default:
			seen = append(seen, block.Type)
			continue
		}
		if err != nil {
			return nil, unreadableKeyBlock(path, block)
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, &keyFileError{path: path, what: "holds " + keyKind(k), fix: giveKeyFix}
		}
		if r, ok := s.(*rsa.PrivateKey); ok && r.N.BitLen() < minRSABits {
			return nil, &keyFileError{path: path, what: fmt.Sprintf("holds %s, too small to sign with: RS256 needs %d bits or more", keyKind(r), minRSABits),
				fix: "make a larger one (openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out KEY.pem), or " + giveKeyFix}
		}
		return s, nil
	}
	if len(seen) > 0 {
		return nil, &keyFileError{path: path, what: "no private key, only " + strings.Join(seen, ", "), fix: giveKeyFix}
	}
	// Until 2026-12-07: "no PEM block found".
	return nil, &keyFileError{path: path, what: noPEMKey(whole), fix: giveKeyFix}
}

// maxKeyFileBytes bounds what readKeyPEM reads: a PEM private key is a few
// KiB (RSA 8192 some 6.5), with room for blocks around it.
const maxKeyFileBytes = 64 << 10

// readKeyPEM reads the key file path, a regular file of at most
// maxKeyFileBytes (filekind.ReadRegular).
func readKeyPEM(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		// Not the system's "stat FILE: no such file or directory".
		return nil, &keyFileError{path: path, what: "no such file", fix: "correct the path, or " + giveKeyFix, err: err}
	case err == nil && !fi.Mode().IsRegular():
		// A key file of the state directory is restored or removed
		// instead (keyFor): the fix is apart.
		return nil, &keyFileError{path: path, what: "not a regular file but " + filekind.Of(fi.Mode()), fix: "give the path of a PEM private key"}
	}
	return filekind.ReadRegular(path, "a PEM private key", maxKeyFileBytes, "64 KiB")
}

// CheckKeyFile returns the error Load gives for path as an entry of
// KeyFiles, nil when Load takes it: `xaa-idp check` reports it at the
// entry's line, so that check and serve refuse the same files with the
// same words.
func CheckKeyFile(path string) error {
	_, err := readKeyFile(path)
	return err
}

// readKeyFile reads a key of KeyFiles: a private key (readPrivateKey)
// that one of the algorithms takes.
func readKeyFile(path string) (crypto.Signer, error) {
	s, err := readPrivateKey(path)
	if err != nil {
		return nil, err
	}
	if why := fitsNoAlgorithm(s); why != "" {
		return nil, fmt.Errorf("%s: %s", path, why)
	}
	return s, nil
}

// fitsNoAlgorithm says why a key of key_files can sign with none of
// RS256, ES256 and EdDSA, or "" when one of them takes it. Such a key
// would be passed over for a generated one without a word.
func fitsNoAlgorithm(s crypto.Signer) string {
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		if algFits(alg, s) {
			return ""
		}
	}
	if k, ok := s.(*ecdsa.PrivateKey); ok {
		return fmt.Sprintf("an EC key on curve %s, which no algorithm here takes: ES256 needs P-256; %s", k.Curve.Params().Name, giveKeyFix)
	}
	return keyKind(s) + ", which no algorithm here takes; " + giveKeyFix
}

// writePrivateKey persists a generated key crash-safely (atomicfile), so
// that a restart never finds half a key.
func writePrivateKey(path string, s crypto.Signer) error {
	der, err := x509.MarshalPKCS8PrivateKey(s)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	_, err = atomicfile.WritePrivate(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	return err
}

// HeldKey is a private key that a Ring signs with or may sign with, and
// the file that holds it.
type HeldKey struct {
	// Thumbprint is the RFC 7638 thumbprint of the public key, which
	// two files holding one key share whatever their form.
	Thumbprint string
	// File is where the key is kept: a file of key_files, of the state
	// directory (previous.json with the key's kid) or of the key cache.
	File string
}

// Held lists the keys of files the ring holds: those of KeyFiles, of the
// state directory (current and previous) and of the key cache, whether in
// use now or not. Each issuer is meant to have keys of its own (README,
// "Several issuers"): a caller serving several compares them. Keys
// generated in memory are not listed; no other issuer can hold them.
func (r *Ring) Held() []HeldKey {
	var held []HeldKey
	add := func(pub crypto.PublicKey, file string) {
		if tp, err := Thumbprint(pub); err == nil {
			held = append(held, HeldKey{Thumbprint: tp, File: file})
		}
	}
	for i, s := range r.given {
		add(s.Public(), r.givenFiles[i])
	}
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		for _, path := range []string{currentKeyPath(r.stateDir, alg), cachedKeyPath(r.cacheDir, alg)} {
			if path == currentKeyPath("", alg) || path == cachedKeyPath("", alg) {
				continue
			}
			if s, err := readPrivateKey(path); err == nil {
				add(s.Public(), path)
			}
		}
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, p := range r.previous {
		add(p.key.Public(), fmt.Sprintf("%s (key %s)", filepath.Join(r.stateDir, "keys", previousKeysFile), p.key.id))
	}
	return held
}

// Thumbprint is the RFC 7638 thumbprint of pub (SHA-256, base64url).
func Thumbprint(pub crypto.PublicKey) (string, error) {
	tp, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// KeyFileThumbprint is the thumbprint of the key of path, an entry of
// KeyFiles, "" when Load would refuse the file (CheckKeyFile says why):
// `xaa-idp check` and a reload compare the tenants' key files with it.
func KeyFileThumbprint(path string) string {
	s, err := readKeyFile(path)
	if err != nil {
		return ""
	}
	tp, _ := Thumbprint(s.Public())
	return tp
}
