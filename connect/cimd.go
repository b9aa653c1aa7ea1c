package connect

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/xaa-idp/xaa-idp/idpclient"
)

// MetadataPath is where ServeMetadata publishes the client's metadata
// document.
const MetadataPath = "/client-metadata.json"

// DefaultMetadataPort is the port of `xaa-idp connect --cimd`:
// fixtures/demo.yaml names http://127.0.0.1:8390/client-metadata.json as a
// client of every demo MCP server.
const DefaultMetadataPort = 8390

// MetadataServer publishes connect's own Client ID Metadata Document
// (draft-ietf-oauth-client-id-metadata-document §4) on loopback, so that
// its URL can be the client_id at the IdP and at the MCP authorization
// servers, with no registration anywhere.
type MetadataServer struct {
	// ClientID is the document's URL, and so the client_id.
	ClientID string
	srv      *http.Server
}

// ServeMetadata serves the document on 127.0.0.1:port (0: a free port)
// until Close. The client is public (token_endpoint_auth_method none):
// the Go SDK's enterprise handler authenticates with a client secret or
// with client_id alone, and a document can hold no secret. Its redirect
// URIs are redirectURIs (those connect logs in with, as `connect --cimd
// --redirect-uri`), else idpclient.DefaultRedirectURI, a loopback one that
// matches on any port (RFC 8252 §7.3).
func ServeMetadata(port int, redirectURIs ...string) (*MetadataServer, error) {
	if len(redirectURIs) == 0 {
		redirectURIs = []string{idpclient.DefaultRedirectURI}
	}
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, fmt.Errorf("serving the client metadata document: %w; choose another --cimd-port (and name its URL in the configuration)", err)
	}
	m := &MetadataServer{ClientID: "http://" + ln.Addr().String() + MetadataPath}
	doc, err := json.Marshal(map[string]any{
		"client_id":                  m.ClientID,
		"client_name":                "xaa-idp connect",
		"redirect_uris":              redirectURIs,
		"token_endpoint_auth_method": "none",
		"grant_types": []string{
			"authorization_code", "refresh_token",
			"urn:ietf:params:oauth:grant-type:token-exchange",
			"urn:ietf:params:oauth:grant-type:jwt-bearer",
		},
	})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+MetadataPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = w.Write(doc)
	})
	// It serves one small document to the IdP: a request that needs more
	// than a few KiB of headers or seconds is no fetch of it.
	m.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 10 * time.Second, IdleTimeout: 30 * time.Second, MaxHeaderBytes: 16 << 10}
	go func() {
		if err := m.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = ln.Close()
		}
	}()
	return m, nil
}

// Close stops serving the document.
func (m *MetadataServer) Close() error { return m.srv.Close() }
