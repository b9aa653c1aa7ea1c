package idpclient_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/idptest"
)

// An authorization request the IdP refuses without redirecting (an
// unregistered client_id, RFC 6749 §4.1.2.1: the redirect URI cannot be
// trusted) is answered with a JSON OAuth error; Login returns it as an
// *Error, as it does a token endpoint's, not as an unexpected page quoting
// the whole authorization URL.
func TestLogin_AuthorizationEndpointOAuthErrorIsAnError(t *testing.T) {
	srv := idptest.New(t)
	_, err := idpclient.Login(context.Background(), idpclient.LoginOptions{
		Issuer: srv.Issuer(), ClientID: "nope", Username: "alice", Password: "alice",
	})
	var oe *idpclient.Error
	if !errors.As(err, &oe) {
		t.Fatalf("Login through an unregistered client: %v (%T), want an *idpclient.Error", err, err)
	}
	if oe.Status != 400 || oe.Code != "invalid_client" || !strings.Contains(oe.Description, `client_id 'nope' is not registered`) {
		t.Errorf("Login through an unregistered client: %+v", oe)
	}
	if strings.Contains(err.Error(), "code_challenge") {
		t.Errorf("the error quotes the authorization URL: %v", err)
	}
}
