package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/xaa-idp/xaa-idp/dpop"
	"github.com/xaa-idp/xaa-idp/idp/signer"
	"github.com/xaa-idp/xaa-idp/internal/atomicfile"
	"github.com/xaa-idp/xaa-idp/internal/filekind"
)

// runDPoPProof prints a DPoP proof (RFC 9449 section 4) of the key that
// `exchange --dpop-key` bound an ID-JAG to, for a request to the client's
// own authorization server or MCP server: curl sends it as the DPoP header.
func runDPoPProof(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("dpop-proof", stdout, stderr)
	keyFile := fs.String("dpop-key", "", "the DPoP key file that exchange --dpop-key created or read (required)")
	htm := fs.String("htm", "POST", "the request's method, in capitals as sent (GET, POST)")
	htu := fs.String("htu", "", "the request's URL, such as your authorization server's token endpoint (required; query and fragment are dropped)")
	nonce := fs.String("nonce", "", "the nonce the server sent in its DPoP-Nonce header (RFC 9449 section 8)")
	accessToken := fs.String("access-token", "", "the DPoP-bound access token the request carries, whose hash the proof names (ath), for a request to an MCP server")
	if code, stop := parse(fs, args); stop {
		return code
	}
	if *keyFile == "" || *htu == "" {
		fmt.Fprintln(stderr, "xaa-idp dpop-proof: --dpop-key and --htu are required")
		return exitUsage
	}
	if err := checkHTTPURL(fs, "htu", *htu); err != nil {
		fmt.Fprintln(stderr, "xaa-idp dpop-proof:", err)
		return exitUsage
	}
	if err := checkUnquoted(fs, "access-token", *accessToken); err != nil {
		fmt.Fprintln(stderr, "xaa-idp dpop-proof:", err)
		return exitUsage
	}
	if *htm == "" {
		fmt.Fprintf(stderr, "xaa-idp dpop-proof: %s is empty: give the request's method, such as POST\n", flagRef(fs, "htm"))
		return exitUsage
	}
	if err := checkMethod(*htm); err != nil {
		fmt.Fprintf(stderr, "xaa-idp dpop-proof: %s: %v\n", flagRef(fs, "htm"), err)
		return exitUsage
	}
	key, err := dpopKey(stderr, "dpop-proof", flagRef(fs, "dpop-key"), *keyFile, false)
	if err != nil {
		fmt.Fprintln(stderr, "xaa-idp dpop-proof:", err)
		return exitUsage
	}
	proof, err := dpop.NewProof(key, dpop.Params{Method: *htm, URL: *htu, Nonce: *nonce, AccessToken: *accessToken})
	if err != nil {
		fmt.Fprintln(stderr, "xaa-idp dpop-proof:", err)
		return exitFailure
	}
	fmt.Fprintln(stdout, proof)
	return exitOK
}

// checkMethod refuses an htm no server would match: servers compare it
// with the request's method exactly (RFC 9449 section 4.3), and methods
// are case-sensitive tokens (RFC 9110 section 9.1), so "post" is no POST
// and "PO ST" no method at all. Extension methods are taken as written.
func checkMethod(m string) error {
	for _, c := range []byte(m) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return fmt.Errorf("%q is not an HTTP method (a token, RFC 9110 section 9.1)", m)
		}
	}
	for _, std := range []string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"} {
		if m != std && strings.EqualFold(m, std) {
			return fmt.Errorf("%q is not %s: methods are case-sensitive (RFC 9110 section 9.1), and servers compare the proof's htm with the request's method exactly; give %s", m, std, std)
		}
	}
	return nil
}

// dpopKey reads the DPoP key file path: a PEM private key (as key_files
// takes) or a private JWK. With create, a missing file is made: a new
// EC P-256 key (ES256), PEM, mode 0600, never through a symbolic link. A
// file others may read, or another user's, is used, with a warning.
func dpopKey(stderr io.Writer, cmd, flagName, path string, create bool) (crypto.Signer, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		key, err := newDPoPKey(stderr, cmd, path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", flagName, err)
		}
		return key, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %s does not exist; 'xaa-idp exchange --dpop-key %s' creates it", flagName, path, path)
	}
	key, err := readDPoPKey(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flagName, err)
	}
	if _, err := dpop.KeyAlgorithm(key); err != nil {
		return nil, fmt.Errorf("%s: %s: %v", flagName, path, err)
	}
	if looseMode(fi, 0o077) {
		fmt.Fprintf(stderr, "xaa-idp %s: warning: the DPoP key %s has mode %04o, which others may read; chmod 600 %s\n", cmd, path, fi.Mode().Perm(), path)
	}
	if uid, other := otherOwner(fi); other {
		// Made in a shared directory before this user ran exchange, say:
		// its owner may read or replace it, whatever its mode, and use
		// the ID-JAGs bound to it.
		fmt.Fprintf(stderr, "xaa-idp %s: warning: the DPoP key %s belongs to another user (uid %d), who may read or replace it; use a key file of your own\n", cmd, path, uid)
	}
	return key, nil
}

// readDPoPKey reads a private JWK (a JSON object), or else a PEM private
// key.
func readDPoPKey(path string) (crypto.Signer, error) {
	data, err := filekind.ReadRegular(path, "a PEM or JWK private key", 64<<10, "64 KiB")
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
		return signer.ParsePrivateKey(path, data)
	}
	var set struct {
		Keys json.RawMessage `json:"keys"`
	}
	if json.Unmarshal(data, &set) == nil && set.Keys != nil {
		return nil, fmt.Errorf("%s: a JWK Set; give the one private JWK, not {\"keys\": [...]}", path)
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(data); err != nil {
		// go-jose's and encoding/json's texts ("go-jose/go-jose: invalid
		// EC key, missing x/y values") name neither member nor fix.
		if !json.Valid(data) {
			return nil, fmt.Errorf("%s: not a JWK: the file is not valid JSON", path)
		}
		var m struct {
			Kty json.RawMessage `json:"kty"`
		}
		_ = json.Unmarshal(data, &m)
		kty := "no kty"
		switch {
		case len(m.Kty) > 32 || strings.ContainsFunc(string(m.Kty), func(r rune) bool { return r > unicode.MaxASCII }):
			// The file's text, shown only when short and plain ASCII.
			kty = "an unknown kty"
		case m.Kty != nil:
			kty = "kty " + string(m.Kty)
		}
		return nil, fmt.Errorf("%s: not a private JWK this command reads (%s): an EC key needs crv P-256, x, y and d, an RSA key n, e, d, p and q, an OKP key crv Ed25519, x and d, each a base64url string (RFC 7518 section 6, RFC 8037 section 2)", path, kty)
	}
	if jwk.IsPublic() {
		return nil, fmt.Errorf("%s: a public JWK; the DPoP key file holds the private key (with \"d\")", path)
	}
	key, ok := jwk.Key.(crypto.Signer)
	if !ok {
		// A symmetric key (kty oct): RFC 9449 section 4.2 takes
		// asymmetric keys only.
		return nil, fmt.Errorf("%s: a symmetric JWK, which cannot make a DPoP proof; use an EC P-256, RSA or OKP Ed25519 private key", path)
	}
	return key, nil
}

// newDPoPKey makes the DPoP key file path: an EC P-256 key, PKCS #8 PEM,
// mode 0600. path must not exist, not even as a symbolic link that leads
// nowhere: made by another user in a shared directory (/tmp), such a link
// would have the new private key written where that user chose (the
// kernel's protected_symlinks does not stop a program that follows it by
// hand, as atomicfile does), and the ID-JAGs bound to it theirs to use.
// O_EXCL makes the file itself, failing on a link made after the look.
func newDPoPKey(stderr io.Writer, cmd, path string) (crypto.Signer, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		target, _ := os.Readlink(path)
		return nil, fmt.Errorf("%s is a symbolic link to %s, which does not exist: a new DPoP key is not written through a link; give the path of the file to create, or put a key at the link's target first", path, target)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := createPrivate(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})); err != nil {
		return nil, fmt.Errorf("cannot create the DPoP key: %w", err)
	}
	jkt, _ := dpop.Thumbprint(key)
	fmt.Fprintf(stderr, "xaa-idp %s: created the DPoP key %s (ES256, jkt %s)\n", cmd, path, jkt)
	return key, nil
}

// createPrivate writes data to a new file name, mode 0600, synced: one
// that exists, or a symbolic link, is an error (O_EXCL follows no link).
// A file not wholly written is removed.
func createPrivate(name string, data []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return err
	}
	return atomicfile.SyncDir(filepath.Dir(name))
}
