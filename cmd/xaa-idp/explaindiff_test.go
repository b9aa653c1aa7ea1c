package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// TestExplain_AgreesWithTheTokenEndpoint is the differential test of
// explain: over random configurations (users in groups, disabled users,
// public and confidential clients, clients that may not exchange, MCP
// servers with aliases and scopes, access entries by user and by group,
// through some clients only, with max_auth_age and expires, deny entries,
// exchange.require_resource and denied_error, tenants) and random requests
// (audiences as issuer, alias, with a "/", a resource URL or unknown;
// resources present, absent or another server's; scope subsets and
// unknown scopes; login ages), `xaa-idp explain` and GET
// /admin/api/explain must say what the real token endpoint of `serve`
// does over HTTP: the error code and error_description, the max_age, the
// granted scope of the ID-JAG, the client_id at the server, and the audit
// event's outcome, rule and reason.
func TestExplain_AgreesWithTheTokenEndpoint(t *testing.T) {
	configs, perConfig := 12, 100
	if testing.Short() {
		configs, perConfig = 4, 30
	}
	// A key of each tenant's own: tenants may not share one (README,
	// "Several issuers").
	key0, keyFile0 := explainDiffKey(t)
	key1, keyFile1 := explainDiffKey(t)
	keys, keyFiles := []*ecdsa.PrivateKey{key0, key1}, []string{keyFile0, keyFile1}
	rng := mrand.New(mrand.NewPCG(24, 7))
	for i := range configs {
		g := randomExplainConfig(rng, keyFiles, i%3 == 2)
		file := filepath.Join(t.TempDir(), "idp.yaml")
		if err := os.WriteFile(file, []byte(g.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		if code, out, errb := runCLI(t, "check", "--config", file); code != exitOK {
			t.Fatalf("config %d does not load: %s%s\n%s", i, out, errb, g.yaml)
		}
		// With tenants, serve prints the first tenant's issuer.
		u, err := url.Parse(startServe(t, "--config", file))
		if err != nil {
			t.Fatal(err)
		}
		base := u.Scheme + "://" + u.Host
		for j := range perConfig {
			compareExplain(t, fmt.Sprintf("config %d request %d", i, j), g, file, base, keys, rng)
		}
	}
}

// explainTenant is one IdP of a generated configuration.
type explainTenant struct {
	id                        string // "" without tenants
	users, clients, public    []string
	secrets                   map[string]string
	subs                      map[string]string
	audiences, resources, scs []string
	servers                   []string // ids
	urlClients                []string // client_id URLs the IdP refuses without fetching
}

type explainConfig struct {
	yaml    string
	tenants []explainTenant
}

func randomExplainConfig(rng *mrand.Rand, keyFiles []string, tenants bool) explainConfig {
	var g explainConfig
	var b strings.Builder
	n := 1
	if tenants {
		n = 2
		b.WriteString("tenants:\n")
	}
	for ti := range n {
		var tb strings.Builder
		tn := explainTenant{secrets: map[string]string{}, subs: map[string]string{}}
		if tenants {
			tn.id = fmt.Sprintf("t%d", ti)
			fmt.Fprintf(&b, "  - id: %s\n", tn.id)
		}
		fmt.Fprintf(&tb, "signing: {id_token_alg: ES256, id_jag_alg: ES256, key_files: [%q]}\n", keyFiles[ti])
		fmt.Fprintf(&tb, "exchange: {require_resource: %t, denied_error: %s}\n",
			rng.IntN(4) == 0, pick(rng, "access_denied", "access_denied", "invalid_request"))
		// Metadata document clients that nothing fetches: a URL the allow
		// list does not admit, or any URL with cimd off.
		// A URL without a path is never fetched either, whatever the
		// allow list says.
		cimd := pick(rng, `{allow: ["http://127.0.0.1:*"]}`, `{allow: ["https://*"]}`, "{enabled: false}")
		fmt.Fprintf(&tb, "cimd: %s\n", cimd)
		// A long one too: its description, quoting it, is cut to 1 KiB.
		tn.urlClients = []string{"https://app.example", "https://" + strings.Repeat("long-", 250) + "app.example"}
		if !strings.Contains(cimd, "https://*") {
			tn.urlClients = append(tn.urlClients, "https://app.example/client.json")
		}
		groups := []string{"eng", "ops", "sales"}
		tb.WriteString("groups:\n")
		for _, gr := range groups {
			fmt.Fprintf(&tb, "  - name: %s\n", gr)
		}
		tb.WriteString("users:\n  - {username: root, password: root-pw, sub: sub-root, admin: true}\n")
		for u := range 5 {
			name := fmt.Sprintf("u%d", u)
			tn.users = append(tn.users, name)
			tn.subs[name] = "sub-" + name
			fmt.Fprintf(&tb, "  - {username: %s, password: pw, sub: sub-%s, groups: [%s], disabled: %t}\n",
				name, name, strings.Join(subset(rng, groups), ", "), rng.IntN(6) == 0)
		}
		tb.WriteString("clients:\n")
		for c := range 4 {
			id := fmt.Sprintf("c%d", c)
			tn.clients = append(tn.clients, id)
			secret := ""
			if rng.IntN(3) > 0 {
				secret = "secret-" + id
				tn.secrets[id] = secret
			} else {
				tn.public = append(tn.public, id)
			}
			fmt.Fprintf(&tb, "  - {client_id: %s, client_secret: %q, redirect_uris: [\"http://127.0.0.1/cb\"], token_exchange: %t}\n",
				id, secret, rng.IntN(6) > 0)
		}
		tb.WriteString("mcp_servers:\n")
		for s := range 3 {
			id := fmt.Sprintf("s%d", s)
			tn.servers = append(tn.servers, id)
			issuer := fmt.Sprintf("https://as.%s.example", id)
			alias := "urn:" + id
			resource := fmt.Sprintf("https://mcp.%s.example/mcp", id)
			scopes := []string{id + ".read", id + ".write", id + ".admin"}
			tn.audiences = append(tn.audiences, issuer, issuer+"/", alias)
			tn.resources = append(tn.resources, resource, resource+"/")
			tn.scs = append(tn.scs, scopes...)
			connected := subset(rng, tn.clients)
			fmt.Fprintf(&tb, "  - id: %s\n    issuer: %s\n    aliases: [%s]\n    resources: [%s]\n    scopes: [%s]\n",
				id, issuer, alias, resource, strings.Join(scopes, ", "))
			tb.WriteString("    clients: {")
			for k, c := range connected {
				if k > 0 {
					tb.WriteString(", ")
				}
				fmt.Fprintf(&tb, "%s: %s-at-%s%s", c, c, id, tn.id)
			}
			tb.WriteString("}\n    access:")
			entries := rng.IntN(5)
			if entries == 0 {
				tb.WriteString(" []")
			}
			tb.WriteString("\n")
			for range entries {
				var parts []string
				if rng.IntN(2) == 0 {
					parts = append(parts, "users: ["+strings.Join(nonEmpty(rng, tn.users), ", ")+"]")
				} else {
					parts = append(parts, "groups: ["+strings.Join(nonEmpty(rng, groups), ", ")+"]")
				}
				parts = append(parts, "scopes: ["+strings.Join(subset(rng, scopes), ", ")+"]")
				if len(connected) > 0 && rng.IntN(4) == 0 {
					parts = append(parts, "clients: ["+strings.Join(nonEmpty(rng, connected), ", ")+"]")
				}
				if rng.IntN(4) == 0 {
					parts = append(parts, "max_auth_age: "+pick(rng, "10m", "1h"))
				}
				if rng.IntN(6) == 0 {
					parts = append(parts, "expires: "+pick(rng, `"2020-01-01T00:00:00Z"`, `"2099-01-01T00:00:00Z"`))
				}
				fmt.Fprintf(&tb, "      - {%s}\n", strings.Join(parts, ", "))
			}
			if rng.IntN(3) == 0 {
				tb.WriteString("    deny:\n")
				var parts []string
				switch rng.IntN(3) {
				case 0:
					parts = append(parts, "users: ["+strings.Join(nonEmpty(rng, tn.users), ", ")+"]")
				case 1:
					parts = append(parts, "groups: ["+pick(rng, groups...)+"]")
				}
				if len(connected) > 0 && (len(parts) == 0 || rng.IntN(3) == 0) {
					parts = append(parts, "clients: ["+pick(rng, connected...)+"]")
				}
				if len(parts) == 0 {
					parts = append(parts, "users: [u0]")
				}
				fmt.Fprintf(&tb, "      - {%s}\n", strings.Join(parts, ", "))
			}
		}
		text := tb.String()
		if tenants {
			text = "    " + strings.ReplaceAll(strings.TrimSuffix(text, "\n"), "\n", "\n    ") + "\n"
		}
		b.WriteString(text)
		g.tenants = append(g.tenants, tn)
	}
	g.yaml = b.String()
	return g
}

// compareExplain sends one random exchange to the token endpoint and asks
// explain (the command and the admin API) about it.
func compareExplain(t *testing.T, name string, g explainConfig, file, base string, keys []*ecdsa.PrivateKey, rng *mrand.Rand) {
	t.Helper()
	ti := rng.IntN(len(g.tenants))
	tn, key := g.tenants[ti], keys[ti]
	issuer := base
	if tn.id != "" {
		issuer = base + "/t/" + tn.id
	}
	user := pick(rng, append(tn.users, "ghost")...)
	client := pick(rng, append(append(tn.clients, "c9"), tn.urlClients...)...)
	audience := pick(rng, append(tn.audiences, "https://as.unknown.example", tn.resources[0])...)
	resource := ""
	if rng.IntN(4) > 0 {
		resource = pick(rng, append(tn.resources, "https://mcp.unknown.example/mcp")...)
	}
	var scopes []string
	if rng.IntN(4) > 0 {
		scopes = nonEmpty(rng, append(tn.scs, "nope", "s0.nope"))
	}
	age := []time.Duration{0, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour}[rng.IntN(4)]
	name = fmt.Sprintf("%s (tenant %q user %s client %s audience %s resource %q scope %q auth age %s)",
		name, tn.id, user, client, audience, resource, strings.Join(scopes, " "), age)

	// The token endpoint, with an ID token the test mints for the user.
	now := time.Now()
	sub := tn.subs[user]
	if sub == "" {
		sub = "sub-" + user
	}
	tokenEndpoint, kid := discover(t, issuer)
	idToken := mintExplainIDToken(t, key, kid, map[string]any{
		"iss": issuer, "sub": sub, "aud": client, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"auth_time": now.Add(-age).Unix(),
	})
	form := url.Values{
		"grant_type":           {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"requested_token_type": {"urn:ietf:params:oauth:token-type:id-jag"},
		"subject_token":        {idToken},
		"subject_token_type":   {"urn:ietf:params:oauth:token-type:id_token"},
		"audience":             {audience},
	}
	if resource != "" {
		form.Set("resource", resource)
	}
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	req, _ := http.NewRequest(http.MethodPost, tokenEndpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secret, ok := tn.secrets[client]; ok {
		req.SetBasicAuth(client, secret)
	} else if slices.Contains(tn.public, client) {
		form.Set("client_id", client)
		req, _ = http.NewRequest(http.MethodPost, tokenEndpoint, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else if strings.Contains(client, ":") {
		form.Set("client_id", client)
		req, _ = http.NewRequest(http.MethodPost, tokenEndpoint, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req.SetBasicAuth(client, "not-registered")
	}
	var got struct {
		Error       string  `json:"error"`
		Description string  `json:"error_description"`
		Scope       string  `json:"scope"`
		MaxAge      float64 `json:"max_age"`
		Token       string  `json:"access_token"`
	}
	status := doJSON(t, req, &got)

	// explain, by the admin API and by the command.
	q := url.Values{"user": {user}, "client": {client}, "audience": {audience}, "auth_age": {age.String()}}
	if resource != "" {
		q.Set("resource", resource)
	}
	if len(scopes) > 0 {
		q.Set("scope", strings.Join(scopes, " "))
	}
	var api struct {
		Allowed        bool     `json:"allowed"`
		Error          string   `json:"error"`
		Description    string   `json:"error_description"`
		Reason         string   `json:"reason"`
		Rule           string   `json:"rule"`
		Scopes         []string `json:"scopes"`
		ServerClientID string   `json:"client_id_at_server"`
		MaxAge         int64    `json:"max_age"`
	}
	req, _ = http.NewRequest(http.MethodGet, issuer+"/admin/api/explain?"+q.Encode(), nil)
	req.SetBasicAuth("root", "root-pw")
	if s := doJSON(t, req, &api); s != http.StatusOK {
		t.Fatalf("%s: admin API explain answered %d", name, s)
	}
	args := []string{"explain", "--config", file, "--user", user, "--client", client, "--audience", audience, "--auth-age", age.String()}
	if tn.id != "" {
		args = append(args, "--tenant", tn.id)
	}
	if resource != "" {
		args = append(args, "--resource", resource)
	}
	for _, sc := range scopes {
		args = append(args, "--scope", sc)
	}
	code, out, errb := runCLI(t, args...)
	if code != exitOK {
		t.Fatalf("%s: explain exit %d: %s%s", name, code, out, errb)
	}
	cli := explainRows(out)

	// The command prints what the admin API answers.
	wantDecision := "allowed"
	if !api.Allowed {
		wantDecision = "refused (" + api.Error + ")"
	}
	wantRule := api.Rule
	if wantRule == "" {
		wantRule = "none (no access or deny entry; the reason says what decided)"
	}
	clientSees := ""
	if !api.Allowed {
		clientSees = api.Description
	}
	for _, c := range [][3]string{
		{"decision", cli["decision"], wantDecision}, {"scopes", cli["scopes"], strings.Join(api.Scopes, " ")},
		{"client", cli["client"], api.ServerClientID}, {"rule", cli["rule"], wantRule},
		{"reason", cli["reason"], api.Reason}, {"client sees", cli["client sees"], clientSees},
	} {
		if c[1] != c[2] {
			t.Errorf("%s: explain prints %s %q, the admin API says %q", name, c[0], c[1], c[2])
		}
	}

	// The token endpoint does what explain says.
	if tn.secrets[client] == "" && !slices.Contains(tn.public, client) {
		// Not registered: refused by client authentication, before the
		// policy, and audited as a token event; explain says what the
		// client sees all the same.
		if got.Error != "invalid_client" || api.Error != "invalid_client" || got.Description != api.Description {
			t.Errorf("%s: unregistered client: token endpoint %s (%s), explain %s (%s); want the same invalid_client", name, got.Error, got.Description, api.Error, api.Description)
		}
		return
	}
	if api.Allowed != (status == http.StatusOK) || got.Error != api.Error {
		t.Errorf("%s: token endpoint %d %s (%s), explain allowed=%t %s (%s)", name, status, got.Error, got.Description, api.Allowed, api.Error, api.Description)
		return
	}
	ev := lastExchangeEvent(t, issuer)
	if user == "ghost" && api.Error == "access_denied" {
		// The token endpoint knows only the sub of a user no longer in
		// the configuration; the rest is compared for every other user.
		return
	}
	if api.Allowed {
		if got.Scope != strings.Join(api.Scopes, " ") {
			t.Errorf("%s: the ID-JAG grants %q, explain %q", name, got.Scope, strings.Join(api.Scopes, " "))
		}
		var claims struct {
			ClientID string `json:"client_id"`
			Scope    string `json:"scope"`
		}
		if tok, err := jwt.ParseSigned(got.Token, []jose.SignatureAlgorithm{jose.ES256}); err != nil {
			t.Errorf("%s: the ID-JAG does not parse: %v", name, err)
		} else if err := tok.UnsafeClaimsWithoutVerification(&claims); err != nil || claims.ClientID != api.ServerClientID || claims.Scope != got.Scope {
			t.Errorf("%s: the ID-JAG carries client_id %q scope %q, explain says %q %q", name, claims.ClientID, claims.Scope, api.ServerClientID, strings.Join(api.Scopes, " "))
		}
		if ev.Outcome != "allowed" || ev.ScopeGranted != got.Scope {
			t.Errorf("%s: audit outcome %q scope_granted %q for an allowed exchange of %q", name, ev.Outcome, ev.ScopeGranted, got.Scope)
		}
	} else {
		if got.Description != api.Description {
			t.Errorf("%s: error_description\n  token endpoint: %s\n  explain:        %s", name, got.Description, api.Description)
		}
		if int64(got.MaxAge) != api.MaxAge {
			t.Errorf("%s: max_age %v, explain %d", name, got.MaxAge, api.MaxAge)
		}
		if ev.Error != got.Error {
			t.Errorf("%s: audit error %q, the answer's %q", name, ev.Error, got.Error)
		}
	}
	// The login age in a reason is measured by each on its own clock, and
	// auth_time has whole seconds.
	if ev.Rule != api.Rule || loginAgo.ReplaceAllString(ev.Reason, "login ? ago") != loginAgo.ReplaceAllString(api.Reason, "login ? ago") {
		t.Errorf("%s:\n  audit   rule %q reason %q\n  explain rule %q reason %q", name, ev.Rule, ev.Reason, api.Rule, api.Reason)
	}
}

var loginAgo = regexp.MustCompile(`login (was )?[0-9hms]+ ago`)

type exchangeEvent struct {
	Outcome      string `json:"outcome"`
	Error        string `json:"error"`
	Rule         string `json:"rule"`
	Reason       string `json:"reason"`
	ScopeGranted string `json:"scope_granted"`
}

func lastExchangeEvent(t *testing.T, issuer string) exchangeEvent {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, issuer+"/admin/api/audit?type=token_exchange&limit=1", nil)
	req.SetBasicAuth("root", "root-pw")
	var evs []exchangeEvent
	if s := doJSON(t, req, &evs); s != http.StatusOK || len(evs) != 1 {
		t.Fatalf("audit API: %d, %d events", s, len(evs))
	}
	return evs[0]
}

// explainRows reads explain's "key: value" lines.
func explainRows(out string) map[string]string {
	rows := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok {
			rows[k] = strings.TrimSpace(v)
		}
	}
	return rows
}

func doJSON(t *testing.T, req *http.Request, v any) int {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("%s %s: %d, not JSON: %v", req.Method, req.URL, resp.StatusCode, err)
	}
	return resp.StatusCode
}

func explainDiffKey(t *testing.T) (*ecdsa.PrivateKey, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "es256.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return key, file
}

// mintExplainIDToken signs claims as the IdP's ID token, with the kid of
// the IdP's first key.
func mintExplainIDToken(t *testing.T, key *ecdsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// discover returns an issuer's token endpoint and the kid of its first key.
func discover(t *testing.T, issuer string) (tokenEndpoint, kid string) {
	t.Helper()
	var meta struct {
		TokenEndpoint string `json:"token_endpoint"`
		JWKSURI       string `json:"jwks_uri"`
	}
	req, _ := http.NewRequest(http.MethodGet, issuer+"/.well-known/openid-configuration", nil)
	doJSON(t, req, &meta)
	var set struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	req, _ = http.NewRequest(http.MethodGet, meta.JWKSURI, nil)
	doJSON(t, req, &set)
	if meta.TokenEndpoint == "" || len(set.Keys) == 0 {
		t.Fatalf("%s: no token endpoint or keys in discovery", issuer)
	}
	return meta.TokenEndpoint, set.Keys[0].KID
}

func pick(rng *mrand.Rand, xs ...string) string { return xs[rng.IntN(len(xs))] }

// subset is a random subset of xs, in order, possibly empty.
func subset(rng *mrand.Rand, xs []string) []string {
	var out []string
	for _, x := range xs {
		if rng.IntN(2) == 0 {
			out = append(out, x)
		}
	}
	return out
}

func nonEmpty(rng *mrand.Rand, xs []string) []string {
	if s := subset(rng, xs); len(s) > 0 {
		return s
	}
	return []string{pick(rng, xs...)}
}
