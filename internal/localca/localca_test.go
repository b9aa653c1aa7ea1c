package localca

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestOpen_CreatesOnceThenLoads(t *testing.T) {
	dir := t.TempDir()
	ca, created, err := Open(dir)
	if err != nil || !created {
		t.Fatalf("first Open: created %v, err %v", created, err)
	}
	fi, err := os.Stat(filepath.Join(dir, Subdir, KeyName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("CA key: %v, mode %v, want 0600", err, fi.Mode().Perm())
	}
	if ca.CertPath() != filepath.Join(dir, Subdir, CertName) {
		t.Errorf("CertPath = %s", ca.CertPath())
	}
	if strings.Contains(string(ca.CertPEM()), "PRIVATE KEY") {
		t.Error("CertPEM holds a private key")
	}
	again, created, err := Open(dir)
	if err != nil || created {
		t.Fatalf("second Open: created %v, err %v", created, err)
	}
	if string(again.CertPEM()) != string(ca.CertPEM()) {
		t.Error("second Open made a new CA instead of loading the first")
	}
	block, _ := pem.Decode(ca.CertPEM())
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil || !cert.IsCA || cert.PublicKeyAlgorithm != x509.ECDSA {
		t.Errorf("CA certificate: %v, IsCA %v, key %v", err, cert.IsCA, cert.PublicKeyAlgorithm)
	}
}

func TestOpen_HalfACAIsAnErrorWithTheFix(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := Open(dir); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, Subdir, KeyName))
	_, _, err := Open(dir)
	if err == nil || !strings.Contains(err.Error(), "remove "+filepath.Join(dir, Subdir)) {
		t.Errorf("Open without the key: %v, want an error naming the directory to remove", err)
	}
}

// A client that trusts only the CA reaches a server by every name the
// certificate was issued for, and by no other.
func TestServerCertificate_TrustedByAClientOfTheCA(t *testing.T) {
	ca, _, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.ServerCertificate("idp.example", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cert.Leaf.DNSNames, ","); got != "idp.example,localhost" {
		t.Errorf("DNS names %s", got)
	}
	if len(cert.Leaf.IPAddresses) != 2 {
		t.Errorf("IP addresses %v, want 127.0.0.1 and ::1", cert.Leaf.IPAddresses)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	defer srv.Close()

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}}
	for _, url := range []string{srv.URL, strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)} {
		resp, err := client.Get(url)
		if err != nil {
			t.Errorf("GET %s: %v", url, err)
			continue
		}
		resp.Body.Close()
	}
	withSystem := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.WithSystemRoots()}}}
	if resp, err := withSystem.Get(srv.URL); err != nil {
		t.Errorf("a client trusting WithSystemRoots: %v", err)
	} else {
		resp.Body.Close()
	}
	foreign, _, _ := Open(t.TempDir())
	other := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: foreign.Pool()}}}
	if _, err := other.Get(srv.URL); err == nil {
		t.Error("a client trusting another CA accepted the certificate")
	}
}

func TestTrustFile(t *testing.T) {
	ca, _, _ := Open(t.TempDir())
	pool, err := TrustFile(ca.CertPath())
	if err != nil || pool == nil {
		t.Fatalf("TrustFile: %v", err)
	}
	notPEM := filepath.Join(t.TempDir(), "x.pem")
	os.WriteFile(notPEM, []byte("hello"), 0o600)
	if _, err := TrustFile(notPEM); err == nil || !strings.Contains(err.Error(), notPEM) {
		t.Errorf("TrustFile of a non-PEM file: %v", err)
	}
}

// A key without its certificate is what a process killed while creating
// the CA leaves: the next Open makes a CA, whose key and certificate pair,
// instead of refusing to start until someone removes the directory.
func TestOpen_KeyWithoutCertificateFromAKilledCreationMakesANewCA(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := Open(dir); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, Subdir, CertName))
	tmp := filepath.Join(dir, Subdir, "."+CertName+".123.xaa-idp-tmp")
	os.WriteFile(tmp, []byte("-----BEGIN CERT"), 0o600)
	ca, created, err := Open(dir)
	if err != nil || !created {
		t.Fatalf("Open with the key alone: created %v, %v; want a new CA", created, err)
	}
	again, created, err := Open(dir)
	if err != nil || created || !bytes.Equal(again.CertPEM(), ca.CertPEM()) {
		t.Errorf("Open after: created %v, %v; want the CA just made", created, err)
	}
	if _, err := os.Stat(tmp); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the temporary file of the killed creation is still there: %v", err)
	}
}

// Two processes that create the CA at once (serve --tls and xaa-idp ca)
// leave one CA: never the key of one beside the certificate of the other.
func TestOpen_ConcurrentCreationsMakeOneCA(t *testing.T) {
	for range 20 {
		dir := t.TempDir()
		var wg sync.WaitGroup
		pems := make([][]byte, 4)
		for i := range pems {
			wg.Go(func() {
				ca, _, err := Open(dir)
				if err != nil {
					t.Error(err)
					return
				}
				pems[i] = ca.CertPEM()
			})
		}
		wg.Wait()
		ca, _, err := Open(dir)
		if err != nil {
			t.Fatalf("Open after concurrent creations: %v", err)
		}
		for _, p := range pems {
			if !bytes.Equal(p, ca.CertPEM()) {
				t.Fatal("concurrent creations returned different CAs")
			}
		}
	}
}

// TestOpen_DamagedCAFileSaysWhatIsWrongInPlainWords: a CA file of the
// state directory that was emptied, cut short or replaced by another
// key is refused naming the file and what is wrong, with the fix; it gave
// crypto/tls's words ("tls: failed to find any PEM data in key input",
// "tls: private key does not match public key").
func TestOpen_DamagedCAFileSaysWhatIsWrongInPlainWords(t *testing.T) {
	other, _, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, file, body, want string
	}{
		{"empty key", KeyName, "", KeyName + " holds no PEM private key (emptied or cut short?)"},
		{"cut-short certificate", CertName, string(other.CertPEM()[:40]), CertName + " holds no PEM certificate (emptied or cut short?)"},
		{"another CA's certificate", CertName, string(other.CertPEM()), KeyName + " is not the private key of " + CertName + " (one of them was replaced)"},
		// What openssl ecparam -genkey writes: crypto/tls reads the label
		// too. Until 2026-12-07 said to hold no PEM private key.
		{"another key, SEC 1", KeyName, sec1Key(t), KeyName + " is not the private key of " + CertName + " (one of them was replaced)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, _, err := Open(dir); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, Subdir, c.file), []byte(c.body), 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, err := Open(dir)
			if err == nil {
				t.Fatal("Open took the damaged CA")
			}
			msg := err.Error()
			if !strings.Contains(msg, c.want) || !strings.Contains(msg, "remove "+filepath.Join(dir, Subdir)+" to make a new CA") {
				t.Errorf("Open: %s\nwant it to say %q, and the fix", msg, c.want)
			}
			if strings.Contains(msg, "PEM data") || strings.Contains(msg, "does not match public key") {
				t.Errorf("Open says crypto/tls's words: %s", msg)
			}
		})
	}
}

// sec1Key is a new EC P-256 private key in PEM, labelled EC PRIVATE KEY.
func sec1Key(t *testing.T) string {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
}
