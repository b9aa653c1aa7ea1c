package connect_test

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/connect"
	"github.com/xaa-idp/xaa-idp/fixtures"
	"github.com/xaa-idp/xaa-idp/idptest"
)

// TestRun_CIMDClient is `xaa-idp connect --cimd`: connect serves its own
// metadata document and uses its URL as client_id at the IdP (login,
// token exchange) and at the demo authorization servers (JWT bearer
// grant), registered nowhere. The demo configuration names the document
// of port 8390; the test's document is on a free port, so its URL
// replaces that one. Design Studio is not among alice's servers: its
// engineering entry names clients: [mcp-client].
func TestRun_CIMDClient(t *testing.T) {
	doc, err := connect.ServeMetadata(0)
	if err != nil {
		t.Fatal(err)
	}
	defer doc.Close()
	demo := strings.ReplaceAll(string(fixtures.Demo), "http://127.0.0.1:8390"+connect.MetadataPath, doc.ClientID)
	srv := idptest.New(t, idptest.WithConfigYAML(demo))
	srv.StartDemoServers()

	results, err := connect.Run(context.Background(), connect.Options{
		Issuer: srv.Issuer(), ClientID: doc.ClientID, Username: "alice", Password: "alice",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"connected CRM as 00u-alice: crm.read",
		"connected Issue Tracker as 00u-alice: issues.read issues.write",
		"connected Wiki as 00u-alice: wiki.read wiki.write",
	}
	if got := summary(results); !slices.Equal(got, want) {
		t.Errorf("alice through the metadata document client:\n got %q\nwant %q", got, want)
	}
	for _, r := range results {
		if r.WhoAmI["client_id"] != doc.ClientID {
			t.Errorf("%s: whoami client_id %v, want the document URL %s", r.Name, r.WhoAmI["client_id"], doc.ClientID)
		}
	}
}

// TestServeMetadata_IsBounded: the document server answers the IdP's fetch of one small document;
// a request with more than a few KiB of headers is refused before it reaches memory, and a
// connection that says nothing is closed.
func TestServeMetadata_IsBounded(t *testing.T) {
	doc, err := connect.ServeMetadata(0)
	if err != nil {
		t.Fatal(err)
	}
	defer doc.Close()
	resp, err := http.Get(doc.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET the document: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodGet, doc.ClientID, nil)
	req.Header.Set("X-Padding", strings.Repeat("a", 64<<10))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("64 KiB of headers: %v %v, want 431", resp, err)
	}

	u, _ := url.Parse(doc.ClientID)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	start := time.Now()
	if _, err := conn.Read(make([]byte, 1)); err == nil || time.Since(start) > 20*time.Second {
		t.Errorf("a silent connection: read %v after %v, want it closed by the server within the header timeout", err, time.Since(start))
	}
}
