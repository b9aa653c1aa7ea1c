package mcpserver_test

import (
	"testing"

	"github.com/xaa-idp/xaa-idp/resource/mcpserver"
)

// TestMCPServer_MetadataOfAResourceWithATrailingSlash: for a resource
// configured as .../mcp/, the metadata was served at
// /.well-known/oauth-protected-resource/mcp only, which the challenge
// names; a client that builds the URL itself by RFC 9728 §3.1 (the
// well-known segment inserted between host and path, the path as it is)
// asks for /.well-known/oauth-protected-resource/mcp/ and got a 404.
// Both answer, with the resource as configured.
func TestMCPServer_MetadataOfAResourceWithATrailingSlash(t *testing.T) {
	e := newEnv(t)
	srv, set := lateServer(t)
	resource := srv.URL + "/mcp/"
	h, err := mcpserver.New(mcpserver.Config{
		ID: "tracker", Resource: resource, Verifier: e.as, AuthServerIssuer: asIssuer, Scopes: trackerScopes,
	})
	if err != nil {
		t.Fatal(err)
	}
	set(h)
	for _, path := range []string{"/.well-known/oauth-protected-resource/mcp/", "/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"} {
		var prm map[string]any
		getJSON(t, srv.URL+path, &prm)
		if prm["resource"] != resource {
			t.Errorf("%s: resource %v, want %s", path, prm["resource"], resource)
		}
	}
}
