package idp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// signingKey is one private key the IdP signs with. It implements
// op.SigningKey (for ID tokens, signed by zitadel) and op.Key (for /keys).
type signingKey struct {
	id   string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer

	once   sync.Once
	signer jose.Signer // ID-JAG signer, typ oauth-id-jag+jwt; built once
	err    error
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return k.alg }
func (k *signingKey) Key() any                                    { return k.priv }
func (k *signingKey) ID() string                                  { return k.id }

// publicKey is the op.Key view of a signing key that /keys publishes.
type publicKey struct{ k *signingKey }

func (p publicKey) ID() string                         { return p.k.id }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return p.k.alg }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return p.k.priv.Public() }
func (k *signingKey) jwk() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.id, Algorithm: string(k.alg), Use: "sig"}
}
func (k *signingKey) verifyKey() any                      { return k.priv.Public() }
func (k *signingKey) matches(kid string, alg string) bool { return k.id == kid && string(k.alg) == alg }

// typedSigner returns a signer that writes kid and the given typ into the
// JOSE header. zitadel pins typ to "JWT", so ID-JAGs are signed here.
func (k *signingKey) idJAGSigner() (jose.Signer, error) {
	k.once.Do(func() {
		k.signer, k.err = jose.NewSigner(
			jose.SigningKey{Algorithm: k.alg, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.id}},
			(&jose.SignerOptions{}).WithType(idJAGType))
	})
	return k.signer, k.err
}

// keyRing holds the IdP's signing keys: the current key of each algorithm
// in use, and the keys a rotation replaced, which stay published until
// they retire (rotation.go).
type keyRing struct {
	idTokenAlg, idJAGAlg jose.SignatureAlgorithm
	stateDir             string
	now                  func() time.Time

	// ready is closed once every key exists. Without --state-dir the keys
	// are generated in the background (see loadKeys), so that a CI job's
	// IdP answers /healthz before an RSA key is found; whatever signs or
	// publishes waits here.
	ready chan struct{}

	rotateMu sync.Mutex // serialises rotations
	mu       sync.RWMutex
	idToken  *signingKey
	idJAG    *signingKey
	previous []previousKey
}

// previousKey is a key replaced by a rotation: it signs nothing any more,
// and verifies until retireAt.
type previousKey struct {
	key      *signingKey
	retireAt time.Time
}

func (r *keyRing) wait() { <-r.ready }

// idTokenKey returns the key ID tokens are signed with now.
func (r *keyRing) idTokenKey() *signingKey {
	r.wait()
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.idToken
}

// idJAGKey returns the key ID-JAGs are signed with now.
func (r *keyRing) idJAGKey() *signingKey {
	r.wait()
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.idJAG
}

// published returns every key that verifies now: the current ones and the
// previous ones not yet retired by the clock.
func (r *keyRing) published() []*signingKey {
	r.wait()
	now := r.now()
	r.mu.RLock()
	defer r.mu.RUnlock()
	keys := []*signingKey{r.idToken}
	if r.idJAG != r.idToken {
		keys = append(keys, r.idJAG)
	}
	for _, p := range r.previous {
		if now.Before(p.retireAt) && p.key.id != r.idToken.id && p.key.id != r.idJAG.id {
			keys = append(keys, p.key)
		}
	}
	return keys
}

// lookup finds the published key a token header names; both must agree.
func (r *keyRing) lookup(kid, alg string) *signingKey {
	for _, k := range r.published() {
		if k.matches(kid, alg) {
			return k
		}
	}
	return nil
}

// loadKeys returns keys for the two algorithms: from keyFiles when one of
// them fits the algorithm, else from stateDir (generating and persisting
// them on first start, and reading the previous keys of a rotation), else
// generated in the background.
func loadKeys(idTokenAlg, idJAGAlg string, keyFiles []string, stateDir string, now func() time.Time) (*keyRing, error) {
	ring := &keyRing{
		idTokenAlg: jose.SignatureAlgorithm(idTokenAlg),
		idJAGAlg:   jose.SignatureAlgorithm(idJAGAlg),
		stateDir:   stateDir,
		now:        now,
		ready:      make(chan struct{}),
	}
	for _, alg := range []string{idTokenAlg, idJAGAlg} {
		if !slices.Contains([]string{"RS256", "ES256", "EdDSA"}, alg) {
			return nil, fmt.Errorf("unsupported signing algorithm %q (use RS256, ES256 or EdDSA)", alg)
		}
	}
	var given []crypto.Signer
	for _, f := range keyFiles {
		s, err := readPrivateKey(f)
		if err != nil {
			return nil, err
		}
		given = append(given, s)
	}
	byAlg := map[string]*signingKey{}
	var missing []string // algorithms whose key is generated in the background
	for _, alg := range []string{idTokenAlg, idJAGAlg} {
		if _, done := byAlg[alg]; done || slices.Contains(missing, alg) {
			continue
		}
		k, err := keyFor(alg, given, stateDir)
		if err != nil {
			return nil, err
		}
		if k == nil {
			missing = append(missing, alg)
			continue
		}
		byAlg[alg] = k
	}
	if stateDir != "" {
		prev, err := readPreviousKeys(stateDir, now())
		if err != nil {
			return nil, err
		}
		ring.previous = prev
	}
	finish := func() {
		ring.mu.Lock()
		ring.idToken, ring.idJAG = byAlg[idTokenAlg], byAlg[idJAGAlg]
		ring.mu.Unlock()
		close(ring.ready)
	}
	if len(missing) == 0 {
		finish()
		return ring, nil
	}
	go func() {
		keys := make([]*signingKey, len(missing))
		var wg sync.WaitGroup
		for i, alg := range missing {
			wg.Go(func() { keys[i] = mustGenerate(alg) })
		}
		wg.Wait()
		for i, alg := range missing {
			byAlg[alg] = keys[i]
		}
		finish()
	}()
	return ring, nil
}

// keyFor returns the key for alg from the given keys or the state
// directory, generating and persisting one there on first start; nil when
// there is neither, so the caller generates one in memory.
func keyFor(alg string, given []crypto.Signer, stateDir string) (*signingKey, error) {
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
			return nil, fmt.Errorf("%s: key does not fit %s", path, alg)
		}
		return newSigningKey(alg, s)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
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

func currentKeyPath(stateDir, alg string) string {
	return filepath.Join(stateDir, "keys", strings.ToLower(alg)+".pem")
}

// mustGenerate generates a key in the background. The algorithm was
// checked by loadKeys, and crypto/rand does not fail (Go 1.24 and later
// crash the program instead), so an error here is a bug.
func mustGenerate(alg string) *signingKey {
	s, err := generateKey(alg)
	if err == nil {
		var k *signingKey
		if k, err = newSigningKey(alg, s); err == nil {
			return k
		}
	}
	panic(fmt.Sprintf("idp: generating the %s signing key: %v", alg, err))
}

func algFits(alg string, s crypto.Signer) bool {
	switch s.(type) {
	case *rsa.PrivateKey:
		return alg == "RS256"
	case *ecdsa.PrivateKey:
		return alg == "ES256" && s.(*ecdsa.PrivateKey).Curve == elliptic.P256()
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
func newSigningKey(alg string, s crypto.Signer) (*signingKey, error) {
	jwk := jose.JSONWebKey{Key: s.Public()}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, err
	}
	kid := strings.ToLower(alg) + "-" + base64.RawURLEncoding.EncodeToString(tp)[:16]
	return &signingKey{id: kid, alg: jose.SignatureAlgorithm(alg), priv: s}, nil
}

func readPrivateKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block found", path)
	}
	var k any
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: unsupported private key type %T", path, k)
	}
	return s, nil
}

// writePrivateKey persists a generated key crash-safely: write a temporary
// file, fsync, rename, so a restart never finds half a key.
func writePrivateKey(path string, s crypto.Signer) error {
	der, err := x509.MarshalPKCS8PrivateKey(s)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return writeFileAtomic(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}

func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// randomID returns n random bytes, base64url: jti values, codes, session ids.
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// tokenHash is the key under which a token is remembered: stores never keep
// a bearer token itself longer than they must.
func tokenHash(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return base64.RawURLEncoding.EncodeToString(h[:])
}
