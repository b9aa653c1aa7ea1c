package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/connect"
	"github.com/xaa-idp/xaa-idp/fixtures"
	"github.com/xaa-idp/xaa-idp/idptest"
)

// TestConnectCIMD_RedirectURIIsInTheDocument: `connect --cimd
// --redirect-uri URI` logs in with URI, so the metadata document it serves
// itself must list URI; a document that lists only its default
// (http://127.0.0.1/callback) makes the IdP refuse the login with 400
// "redirect_uri is not registered", for a document connect wrote.
func TestConnectCIMD_RedirectURIIsInTheDocument(t *testing.T) {
	for _, redirect := range []string{"http://localhost/callback", "http://127.0.0.1:5000/cb"} {
		// A new IdP for each: the IdP caches a fetched document for a minute.
		port := freePort(t)
		docURL := "http://127.0.0.1:" + strconv.Itoa(port) + connect.MetadataPath
		demo := strings.ReplaceAll(string(fixtures.Demo), "http://127.0.0.1:8390"+connect.MetadataPath, docURL)
		srv := idptest.New(t, idptest.WithConfigYAML(demo))
		srv.StartDemoServers()
		code, out, errOut := runCLI(t, "connect", "--issuer", srv.Issuer(), "--cimd", "--cimd-port", strconv.Itoa(port),
			"--redirect-uri", redirect, "--username", "alice", "--password", "alice")
		if code != exitOK || !strings.Contains(out, "connected  Issue Tracker") {
			t.Errorf("connect --cimd --redirect-uri %s: exit %d\n%s%s", redirect, code, out, errOut)
		}
	}
}
