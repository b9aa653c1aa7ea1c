package app_test

import (
	"context"
	"html"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/policy"
)

// loginCommand is the "xaa-idp login" command a page shows.
var loginCommand = regexp.MustCompile(`<pre>(xaa-idp login [^<]*)</pre>`)

// runPageCommand runs the login of the page's command as the CLI would,
// with the flags it names (a login without --redirect-uri asks for
// idpclient.DefaultRedirectURI, as the CLI does).
func runPageCommand(t *testing.T, page string) {
	t.Helper()
	m := loginCommand.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the page has no login command:\n%s", page)
	}
	// Split as a shell would, the words printed one a line: the page's
	// command is for pasting into one.
	out, err := exec.Command("sh", "-c", "printf '%s\\n' "+strings.TrimPrefix(html.UnescapeString(m[1]), "xaa-idp ")).Output()
	if err != nil {
		t.Fatalf("sh reading the page's command %q: %v", m[1], err)
	}
	f := append([]string{"xaa-idp"}, strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")...)
	flags := map[string]string{}
	for i := 2; i+1 < len(f); i += 2 {
		flags[f[i]] = f[i+1]
	}
	if flags["--client-secret"] != "" {
		t.Fatalf("the test's clients are public: %s", m[1])
	}
	_, err = idpclient.Login(context.Background(), idpclient.LoginOptions{
		Issuer: flags["--issuer"], ClientID: flags["--client-id"], RedirectURI: flags["--redirect-uri"],
		Username: "alice", Password: "alice-pw",
	})
	if err != nil {
		t.Errorf("the page's command %q fails: %v", m[1], err)
	}
}

// The landing pages' "Try it" command works for a client whose redirect
// URIs are not the CLI's default: it names one of them with
// --redirect-uri, as the demo's banner and the console's onboarding
// command do. It did not, so the command a newcomer copied from / was
// refused ("redirect_uri 'http://127.0.0.1/callback' is not registered").
func TestLandingPage_CommandWorksWithTheClientsRedirectURI(t *testing.T) {
	const client = `
users: [{username: alice, password: alice-pw}]
clients:
  - {client_id: app, redirect_uris: ["http://127.0.0.1/cb"], token_exchange: true}
`
	t.Run("single tenant", func(t *testing.T) {
		cfg, err := policy.Parse([]byte(client), "idp.yaml")
		if err != nil {
			t.Fatal(err)
		}
		ts, issuer, _ := serveIdP(t, cfg)
		defer ts.Close()
		runPageCommand(t, getBody(t, http.DefaultClient, issuer+"/"))
	})
	t.Run("tenants", func(t *testing.T) {
		indented := strings.ReplaceAll(strings.TrimSpace(client), "\n", "\n    ")
		store, _ := openTenantsFile(t, []byte("tenants:\n  - id: acme\n    "+indented+"\n"))
		ts, servers, _ := startTenantsOf(t, store)
		runPageCommand(t, getBody(t, http.DefaultClient, ts.URL+"/"))
		runPageCommand(t, getBody(t, http.DefaultClient, servers["acme"].Issuer()+"/"))
	})
}

// A redirect URI may hold what a shell reads otherwise (a path's "(", a
// query's "&"): the landing page's command quotes what it names, as the
// demo's banner does, so that it can be pasted.
func TestLandingPage_CommandQuotesForAShell(t *testing.T) {
	cfg, err := policy.Parse([]byte(`
users: [{username: alice, password: alice-pw}]
clients:
  - {client_id: app, redirect_uris: ["http://127.0.0.1/cb(app)"], token_exchange: true}
`), "idp.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ts, issuer, _ := serveIdP(t, cfg)
	defer ts.Close()
	runPageCommand(t, getBody(t, http.DefaultClient, issuer+"/"))
}
