// Package localca is the small certificate authority behind `serve --tls`
// and `demo --tls`: an ECDSA P-256 CA kept in the state directory
// (generated on first use, its key readable by the owner only) that issues
// the servers' certificates, so that a client trusts one file, the CA
// certificate, and every https URL of a local IdP and its demo servers.
package localca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/xaa-idp/xaa-idp/internal/atomicfile"
	"github.com/xaa-idp/xaa-idp/internal/filekind"
	"github.com/xaa-idp/xaa-idp/internal/filelock"
)

// The CA's files, under a state directory.
const (
	Subdir   = "tls"
	CertName = "ca.pem"     // the CA certificate: what clients trust
	KeyName  = "ca-key.pem" // its private key, mode 0600: never print or share it
)

// LoopbackNames are in every server certificate, so that a server is
// reachable by any loopback name whatever its issuer's host.
var LoopbackNames = []string{"localhost", "127.0.0.1", "::1"}

const (
	caValidity     = 10 * 365 * 24 * time.Hour
	serverValidity = 397 * 24 * time.Hour // the longest that browsers accept
)

// CA is a loaded certificate authority.
type CA struct {
	cert     *x509.Certificate
	key      *ecdsa.PrivateKey
	certPEM  []byte
	certPath string
}

// Open loads the CA kept in stateDir/tls, or creates it there when it does
// not exist yet; created says which. A key without its certificate is what
// a process killed while creating the CA leaves (the key is written
// first): no client can trust a CA whose certificate was never written, so
// a new CA replaces it. Creation holds a lock on stateDir/tls, so that two
// processes starting at once (serve --tls and xaa-idp ca) make one CA, not
// the key of one beside the certificate of the other.
func Open(stateDir string) (ca *CA, created bool, err error) {
	dir := filepath.Join(stateDir, Subdir)
	certPath, keyPath := filepath.Join(dir, CertName), filepath.Join(dir, KeyName)
	if _, err := os.Stat(certPath); errors.Is(err, fs.ErrNotExist) {
		return openLocked(dir, certPath, keyPath)
	}
	return load(dir, certPath, keyPath)
}

// load reads the CA of dir; both its files must be there.
func load(dir, certPath, keyPath string) (*CA, bool, error) {
	certPEM, certErr := os.ReadFile(certPath)
	keyPEM, keyErr := os.ReadFile(keyPath)
	switch {
	case certErr != nil:
		return nil, false, fmt.Errorf("local CA: %w (remove %s to make a new CA)", certErr, dir)
	case keyErr != nil:
		return nil, false, fmt.Errorf("local CA: %w (remove %s to make a new CA)", keyErr, dir)
	}
	ca, err := parse(certPEM, keyPEM)
	if err != nil {
		return nil, false, fmt.Errorf("local CA in %s: %w (remove %s to make a new CA)", dir, err, dir)
	}
	ca.certPath = certPath
	return ca, false, nil
}

// openLocked creates the CA of dir, which had no certificate, under the
// lock of dir: unless another process made it meanwhile, then it loads
// that one. The temporary files of a creation that was killed go.
func openLocked(dir, certPath, keyPath string) (*CA, bool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("local CA: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return nil, false, fmt.Errorf("local CA: %w", err)
	}
	defer d.Close()
	if err := filelock.LockWait(d); err != nil {
		return nil, false, fmt.Errorf("local CA: locking %s: %w", dir, err)
	}
	if _, err := os.Stat(certPath); !errors.Is(err, fs.ErrNotExist) {
		return load(dir, certPath, keyPath)
	}
	atomicfile.RemoveTemporariesIn(dir)
	ca, err := create(dir, certPath, keyPath)
	return ca, err == nil, err
}

func create(dir, certPath, keyPath string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{Organization: []string{"xaa-idp local CA"}, CommonName: fmt.Sprintf("xaa-idp local CA %s %s", host, now.UTC().Format("2006-01-02T15:04:05Z"))},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("local CA: %w", err)
	}
	// The key first: a certificate on disk always has its key beside it.
	if _, err := atomicfile.WritePrivate(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})); err != nil {
		return nil, fmt.Errorf("local CA: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if _, err := atomicfile.Write(certPath, certPEM, 0o644); err != nil {
		return nil, fmt.Errorf("local CA: %w", err)
	}
	ca, err := parse(certPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	if err != nil {
		return nil, err
	}
	ca.certPath = certPath
	return ca, nil
}

func parse(certPEM, keyPEM []byte) (*CA, error) {
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, pairError(certPEM, keyPEM)
	}
	key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s holds no EC key, which the local CA signs with", KeyName)
	}
	if !pair.Leaf.IsCA {
		return nil, fmt.Errorf("%s is not a CA certificate", CertName)
	}
	return &CA{cert: pair.Leaf, key: key, certPEM: certPEM}, nil
}

// pairError says in plain words why the CA's files, certPEM and keyPEM,
// are no certificate and its key: crypto/tls's error says "failed to find
// any PEM data in key input" (until 2026-12-07, as it was).
func pairError(certPEM, keyPEM []byte) error {
	if !hasBlock(certPEM, isCertificate) {
		return fmt.Errorf("%s holds no PEM certificate (emptied or cut short?)", CertName)
	}
	if !hasBlock(keyPEM, isPrivateKey) {
		return fmt.Errorf("%s holds no PEM private key (emptied or cut short?)", KeyName)
	}
	return fmt.Errorf("%s is not the private key of %s (one of them was replaced), or one of them is damaged", KeyName, CertName)
}

// hasBlock reports whether data holds a whole PEM block whose type is
// one that is reads.
func hasBlock(data []byte, is func(typ string) bool) bool {
	for {
		var block *pem.Block
		if block, data = pem.Decode(data); block == nil {
			return false
		}
		if is(block.Type) {
			return true
		}
	}
}

// isCertificate and isPrivateKey are the PEM labels crypto/tls reads a
// certificate and a private key under (PRIVATE KEY, EC PRIVATE KEY, RSA
// PRIVATE KEY: until 2026-12-07 a key of the last two, not the
// certificate's, was said to be no private key).
func isCertificate(typ string) bool { return typ == "CERTIFICATE" }

func isPrivateKey(typ string) bool {
	return typ == "PRIVATE KEY" || strings.HasSuffix(typ, " PRIVATE KEY")
}

// CertPath is the CA certificate's file.
func (ca *CA) CertPath() string { return ca.certPath }

// CertPEM is the CA certificate in PEM: what a client trusts.
func (ca *CA) CertPEM() []byte { return append([]byte(nil), ca.certPEM...) }

// Pool is a pool holding the CA certificate alone.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// ServerCertificate issues a new server certificate, with a new key, for
// hosts (DNS names or IP addresses; duplicates are fine) and the loopback
// names.
func (ca *CA) ServerCertificate(hosts ...string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{Organization: []string{"xaa-idp"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(serverValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if tmpl.NotAfter.After(ca.cert.NotAfter) {
		tmpl.NotAfter = ca.cert.NotAfter
	}
	seen := map[string]bool{}
	for _, h := range append(append([]string(nil), hosts...), LoopbackNames...) {
		if h == "" || seen[h] {
			continue
		}
		seen[h] = true
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	if len(tmpl.DNSNames) > 0 {
		tmpl.Subject.CommonName = tmpl.DNSNames[0]
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der, ca.cert.Raw}, PrivateKey: key, Leaf: leaf}, nil
}

// WithSystemRoots is the system's roots plus the CA: what a process that
// serves with the CA trusts for its own requests.
func (ca *CA) WithSystemRoots() *x509.CertPool {
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	pool.AddCert(ca.cert)
	return pool
}

// TrustFile returns the system's roots plus the certificates of caFile
// (PEM), for a client that must trust a local CA; an empty caFile gives
// the system's roots alone.
func TrustFile(caFile string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if caFile == "" {
		return pool, nil
	}
	data, err := readCAFile(caFile)
	if err != nil {
		return nil, err
	}
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("%s holds no PEM certificate", caFile)
	}
	return pool, nil
}

// maxCAFileBytes bounds a --ca-file: a system's whole bundle of CA
// certificates is a few hundred KiB.
const maxCAFileBytes = 8 << 20

// readCAFile reads a regular file of at most maxCAFileBytes, as
// signing.key_files and --config are read, or a pipe (`--ca-file
// <(command)`) written and closed within 5 s (filekind.ReadRegularOrPipe).
// A file that is not there, or that this user may not read, is said so
// in plain words, not as the system call that failed ("stat FILE: no
// such file or directory").
func readCAFile(path string) ([]byte, error) {
	data, err := filekind.ReadRegularOrPipe(path, "a PEM file of CA certificates", maxCAFileBytes, "8 MiB")
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return nil, fmt.Errorf("%s does not exist; give the path of a PEM file of CA certificates ('xaa-idp ca --state-dir DIR' prints the local CA's)", path)
	case errors.Is(err, fs.ErrPermission):
		return nil, fmt.Errorf("%s cannot be read by this user (permission denied); give a PEM file of CA certificates it may read", path)
	}
	return data, err
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // since Go 1.24 crypto/rand never returns an error
	}
	return n
}
