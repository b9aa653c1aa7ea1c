// Package demo is the zero-touch demo stack: one authorization server and
// one MCP server per MCP server of the IdP's configuration. It is the only
// place where the resource side meets the IdP's configuration; the servers
// themselves know the IdP by its issuer and JWKS alone, as any MCP
// authorization server would.
package demo

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/xaa-idp/xaa-idp/policy"
	"github.com/xaa-idp/xaa-idp/resource/authserver"
	"github.com/xaa-idp/xaa-idp/resource/mcpserver"
)

// Service is one listener of the demo stack: an authorization server
// or an MCP server, at the address its URL in the configuration names.
type Service struct {
	Server  string // the MCP server's id in the configuration
	Role    string // "authorization server" or "MCP server"
	URL     string // its issuer, or its MCP endpoint
	Addr    string // host:port to listen on
	Handler http.Handler
}

// Stack builds, for every MCP server of cfg, its authorization server
// (trusting the IdP at idpIssuer) and the MCP server behind it, each on the
// loopback address its issuer and first resource name. Each IdP client that
// the server maps is registered at the authorization server under its
// mapped client_id with the secret it has at the IdP (public clients stay
// public), so one set of demo credentials works on both sides.
func Stack(cfg *policy.Config, idpIssuer, idpJWKSURL string) ([]Service, error) {
	var out []Service
	seen := map[string]string{}
	claim := func(svc Service) error {
		if other, dup := seen[svc.Addr]; dup {
			return fmt.Errorf("demo: %s and %s both want %s; give each its own port", other, svc.Server+" "+svc.Role, svc.Addr)
		}
		seen[svc.Addr] = svc.Server + " " + svc.Role
		out = append(out, svc)
		return nil
	}
	for i := range cfg.MCPServers {
		s := &cfg.MCPServers[i]
		clients := map[string]string{}
		for idpClient, atServer := range s.Clients {
			secret := ""
			if c := cfg.Client(idpClient); c != nil {
				secret = c.ClientSecret
			}
			clients[atServer] = secret
		}
		as, err := authserver.New(authserver.Config{
			Issuer:     s.Issuer,
			IdPIssuer:  idpIssuer,
			IdPJWKSURL: idpJWKSURL,
			Resources:  s.Resources,
			Scopes:     s.Scopes,
			Clients:    clients,
		})
		if err != nil {
			return nil, fmt.Errorf("demo: server %s: %w", s.ID, err)
		}
		asAddr, err := hostPort(s.Issuer)
		if err != nil {
			return nil, fmt.Errorf("demo: server %s issuer: %w", s.ID, err)
		}
		if err := claim(Service{Server: s.ID, Role: "authorization server", URL: s.Issuer, Addr: asAddr, Handler: as}); err != nil {
			return nil, err
		}
		mcp, err := mcpserver.New(mcpserver.Config{
			ID: s.ID, Name: s.Name, Resource: s.Resources[0],
			Verifier: as, AuthServerIssuer: as.Issuer(), Scopes: as.Scopes(),
		})
		if err != nil {
			return nil, fmt.Errorf("demo: server %s: %w", s.ID, err)
		}
		mcpAddr, err := hostPort(s.Resources[0])
		if err != nil {
			return nil, fmt.Errorf("demo: server %s resource: %w", s.ID, err)
		}
		if err := claim(Service{Server: s.ID, Role: "MCP server", URL: s.Resources[0], Addr: mcpAddr, Handler: mcp}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// hostPort is the address a URL's server listens on, with the scheme's
// default port when the URL has none.
func hostPort(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	if u.Port() != "" {
		return u.Host, nil
	}
	if u.Scheme == "https" {
		return u.Host + ":443", nil
	}
	return u.Host + ":80", nil
}
