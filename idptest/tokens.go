package idptest

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"time"

	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/policy"
)

// Tokens is the result of a login: the tokens the IdP issued to a client
// for a user.
type Tokens struct {
	ClientID     string // the client the user logged in through
	IDToken      string
	AccessToken  string
	RefreshToken string
}

// requestTimeout bounds each login and exchange, so that a hung IdP (or a
// delay fault) fails the test instead of stalling it.
const requestTimeout = 30 * time.Second

// Login logs the user in (authorization code with PKCE, through the login
// form, as a browser would) with the password from the configuration,
// through the first client that may use token exchange, a confidential one
// if there is one (mcp-client in the demo configuration). A refused login
// fails the test.
func (s *Server) Login(user string) Tokens {
	s.t.Helper()
	c := pickClient(s.Config(), nil)
	if c == nil {
		s.t.Fatalf("idptest: Login: no client in the configuration can log users in (one with redirect_uris and a client_secret, or a public one)")
	}
	return s.LoginVia(c.ClientID, user)
}

// LoginVia logs the user in through the named client. The client may also
// be the URL of a Client ID Metadata Document that no configured client
// has (README, "CIMD clients"): a public client whose document, served by
// the test, lists the redirect URI http://127.0.0.1/callback; Exchange
// takes its Tokens too. A refused login fails the test.
func (s *Server) LoginVia(clientID, user string) Tokens {
	s.t.Helper()
	tok, err := s.TryLogin(clientID, user)
	if err != nil {
		s.t.Fatalf("idptest: login as %s through %s: %v", user, clientID, err)
	}
	return tok
}

// TryLogin is LoginVia for tests that expect a refusal: it returns the
// error (an *idpclient.Error for an OAuth error answer).
func (s *Server) TryLogin(clientID, user string) (Tokens, error) {
	cfg := s.Config()
	c, err := loginClient(cfg, clientID)
	if err != nil {
		return Tokens{}, err
	}
	u := cfg.User(user)
	if u == nil {
		return Tokens{}, fmt.Errorf("unknown user %q", user)
	}
	if u.Password == "" {
		return Tokens{}, fmt.Errorf("user %s has only a password_bcrypt, so idptest cannot log them in; give them a password", user)
	}
	o := idpclient.LoginOptions{
		Issuer: s.Issuer(), ClientID: c.ClientID, ClientSecret: c.ClientSecret,
		Username: u.Username, Password: u.Password,
	}
	if len(c.RedirectURIs) > 0 {
		o.RedirectURI = c.RedirectURIs[0]
	}
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	tok, err := idpclient.Login(ctx, o)
	if err != nil {
		return Tokens{}, err
	}
	at, _ := tok["access_token"].(string)
	return Tokens{ClientID: c.ClientID, IDToken: tok.IDToken(), AccessToken: at, RefreshToken: tok.RefreshToken()}, nil
}

// IDJAG logs the user in through a client that the MCP server (by its id
// in the configuration) lists, a confidential one if there is one (else a
// metadata document URL it lists, whose document the test serves), and
// exchanges the ID token for an ID-JAG for that server with the scopes
// (none: every scope the policy allows). A refusal fails the test.
func (s *Server) IDJAG(user, server string, scopes ...string) string {
	s.t.Helper()
	jag, err := s.TryIDJAG(user, server, scopes...)
	if err != nil {
		s.t.Fatalf("idptest: ID-JAG for %s at %s: %v", user, server, err)
	}
	return jag
}

// TryIDJAG is IDJAG for tests that expect a refusal: it returns the error,
// an *idpclient.Error for an OAuth error answer.
func (s *Server) TryIDJAG(user, server string, scopes ...string) (string, error) {
	srv := s.Config().Server(server)
	if srv == nil {
		return "", fmt.Errorf("unknown MCP server %q", server)
	}
	c := pickClient(s.Config(), srv)
	if c == nil {
		return "", fmt.Errorf("MCP server %s lists no client that can log users in and use token exchange", server)
	}
	tok, err := s.TryLogin(c.ClientID, user)
	if err != nil {
		return "", err
	}
	return s.Exchange(tok, server, scopes...)
}

// Exchange exchanges the ID token of an earlier login for an ID-JAG for
// the MCP server (by its id), through the client of the login: the way to
// test what happens to a login as the clock moves or the configuration
// changes. The error is an *idpclient.Error for an OAuth error answer.
func (s *Server) Exchange(tok Tokens, server string, scopes ...string) (string, error) {
	cfg := s.Config()
	srv := cfg.Server(server)
	if srv == nil {
		return "", fmt.Errorf("unknown MCP server %q", server)
	}
	c, err := loginClient(cfg, tok.ClientID)
	if err != nil {
		return "", err
	}
	o := idpclient.ExchangeOptions{
		Issuer: s.Issuer(), ClientID: c.ClientID, ClientSecret: c.ClientSecret,
		SubjectToken: tok.IDToken, Audience: srv.Issuer, Scopes: scopes,
	}
	if len(srv.Resources) > 0 {
		o.Resource = srv.Resources[0]
	}
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	res, err := idpclient.Exchange(ctx, o)
	if err != nil {
		return "", err
	}
	jag, _ := res["access_token"].(string)
	return jag, nil
}

// loginClient is the configured client with this id or, for an http or
// https URL that no configured client has, a client identified by its
// metadata document (README, "CIMD clients"): public, with the default
// redirect URI, which its document must list. The IdP fetches the
// document and decides.
func loginClient(cfg *policy.Config, clientID string) (*policy.Client, error) {
	if c := cfg.Client(clientID); c != nil {
		return c, nil
	}
	if isDocumentURL(clientID) {
		return &policy.Client{ClientID: clientID, RedirectURIs: []string{idpclient.DefaultRedirectURI}}, nil
	}
	return nil, fmt.Errorf("unknown client %q", clientID)
}

// isDocumentURL reports whether a client_id is an http or https URL, as a
// metadata document client's is.
func isDocumentURL(clientID string) bool {
	u, err := url.Parse(clientID)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// pickClient chooses the client idptest logs in through: one that can log
// users in (redirect URIs; a secret or none, since idptest cannot sign
// private_key_jwt assertions) and may use token exchange, listed by the
// MCP server when one is given; the first confidential one in the
// configuration, else the first public one, else the first (in byte
// order) metadata document URL the server lists.
func pickClient(cfg *policy.Config, srv *policy.MCPServer) *policy.Client {
	var candidates []*policy.Client
	for i := range cfg.Clients {
		c := &cfg.Clients[i]
		if len(c.RedirectURIs) == 0 || !c.TokenExchange || (c.ClientSecret == "" && !c.Public()) {
			continue
		}
		if srv != nil {
			if _, listed := srv.Clients[c.ClientID]; !listed {
				continue
			}
		}
		candidates = append(candidates, c)
	}
	sort.SliceStable(candidates, func(i, j int) bool {
		return candidates[i].ClientSecret != "" && candidates[j].ClientSecret == ""
	})
	if len(candidates) == 0 && srv != nil {
		// A server that lists only metadata document clients: the
		// first of their URLs (the test serves its document).
		var urls []string
		for id := range srv.Clients {
			if cfg.Client(id) == nil && isDocumentURL(id) {
				urls = append(urls, id)
			}
		}
		if len(urls) > 0 {
			c, _ := loginClient(cfg, slices.Min(urls))
			return c
		}
	}
	if len(candidates) == 0 {
		return nil
	}
	return candidates[0]
}
