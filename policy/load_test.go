package policy_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/xaa-idp/xaa-idp/fixtures"
	"github.com/xaa-idp/xaa-idp/policy"
	"github.com/xaa-idp/xaa-idp/policy/policytest"
)

var update = flag.Bool("update", false, "rewrite the golden files of TestLoad_InvalidConfigs")

// TestLoad_InvalidConfigs loads every testdata/invalid/*.yaml and compares
// the problems, one "file:line: message" per line, with the .golden file
// beside it. Run with -update after changing a message, and read the diff.
func TestLoad_InvalidConfigs(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/invalid/*.yaml: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			cfg, err := policy.Load(file)
			if err == nil {
				t.Fatalf("%s loads without problems", file)
			}
			if cfg != nil {
				t.Error("a Config returned with problems")
			}
			var ps policy.Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("error is %T, want policy.Problems: %v", err, err)
			}
			for i, p := range ps {
				if p.File != file {
					t.Errorf("problem %d names file %q, want %q", i, p.File, file)
				}
				if i > 0 && p.Line < ps[i-1].Line {
					t.Errorf("problems not sorted by line: %d after %d", p.Line, ps[i-1].Line)
				}
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(file, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("problems differ from %s\n--- got:\n%s--- want:\n%s", golden, got, want)
			}
		})
	}
}

func TestLoad_DemoFixtureIsValid(t *testing.T) {
	cfg, err := policy.Parse(fixtures.Demo, fixtures.DemoFile)
	if err != nil {
		t.Fatalf("the demo configuration has problems:\n%v", err)
	}
	if cfg.File != fixtures.DemoFile {
		t.Errorf("File = %q", cfg.File)
	}
	// The walk-through in the README relies on these.
	d := cfg.Decide(policy.Request{Username: "alice", ClientID: "mcp-client", Audience: "urn:acme:tracker", Now: now})
	if !d.Allowed || strings.Join(d.Scopes, " ") != "issues.read issues.write" || d.ServerClientID != "mcp-client-at-tracker" {
		t.Errorf("alice on tracker: %+v", d)
	}
	if d := cfg.Decide(policy.Request{Username: "mallory", ClientID: "mcp-client", Audience: "http://127.0.0.1:8104", Now: now}); d.Error != "access_denied" || d.Rule != "crm deny[0]" {
		t.Errorf("mallory on crm: %s %s", d.Error, d.Rule)
	}
	if d := cfg.Decide(policy.Request{Username: "alice", ClientID: "mcp-client", Audience: "http://127.0.0.1:8104/", Now: now}); d.Error != "insufficient_user_authentication" || d.MaxAge != 15*time.Minute {
		t.Errorf("alice on crm without a recent login: %s %v", d.Error, d.MaxAge)
	}
}

func TestLoad_TestConfigsAreValid(t *testing.T) {
	for _, file := range []string{"testdata/decide.yaml", "testdata/minimal.yaml"} {
		if _, err := policy.Load(file); err != nil {
			t.Errorf("%s:\n%v", file, err)
		}
	}
}

func TestLoad_UnreadableFile(t *testing.T) {
	_, err := policy.Load("testdata/no-such-file.yaml")
	var ps policy.Problems
	if !errors.As(err, &ps) || len(ps) != 1 {
		t.Fatalf("got %v, want one problem", err)
	}
	if want := "testdata/no-such-file.yaml: cannot read the file: no such file or directory"; ps[0].String() != want {
		t.Errorf("got %q, want %q", ps[0].String(), want)
	}
}

func TestParse_DefaultsAreFilledIn(t *testing.T) {
	cfg, err := policy.Load("testdata/minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"id_token_alg", cfg.Signing.IDTokenAlg, "RS256"},
		{"id_jag_alg", cfg.Signing.IDJAGAlg, "ES256"},
		{"id_token lifetime", cfg.Lifetimes.IDToken.D(), time.Hour},
		{"access_token lifetime", cfg.Lifetimes.AccessToken.D(), time.Hour},
		{"refresh_token lifetime", cfg.Lifetimes.RefreshToken.D(), 24 * time.Hour},
		{"id_jag lifetime", cfg.Lifetimes.IDJAG.D(), 5 * time.Minute},
		{"subject_token_error", cfg.Exchange.SubjectTokenError, "invalid_request"},
		{"denied_error", cfg.Exchange.DeniedError, "access_denied"},
		{"login_throttle", cfg.Security.Throttled(), true},
		{"max_pending_logins", cfg.Security.MaxPendingLogins, 10000},
		{"default sub", cfg.User("alice").Sub, "u-alice"},
		{"given sub", cfg.User("bob").Sub, "00u-bob"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestParse_Security reads the security switches as written.
func TestParse_Security(t *testing.T) {
	for _, c := range []struct {
		yaml      string
		throttled bool
		pending   int
	}{
		{"security: {login_throttle: false}", false, 10000},
		{"security: {login_throttle: true, max_pending_logins: 5}", true, 5},
		{"security: {login_throttle: }", true, 10000},
		{"security:", true, 10000},
	} {
		cfg, err := policy.Parse([]byte(c.yaml+"\nusers: []\n"), "security.yaml")
		if err != nil {
			t.Fatalf("%s: %v", c.yaml, err)
		}
		if got := cfg.Security; got.Throttled() != c.throttled || got.MaxPendingLogins != c.pending {
			t.Errorf("%s: throttled %v, max_pending_logins %d; want %v, %d", c.yaml, got.Throttled(), got.MaxPendingLogins, c.throttled, c.pending)
		}
	}
}

func TestConfig_Lookups(t *testing.T) {
	cfg := policytest.Config(t)
	if u := cfg.User("alice"); u == nil || u.Username != "alice" {
		t.Errorf("User(alice) = %v", u)
	}
	if u := cfg.UserBySub("u-bob"); u == nil || u.Username != "bob" {
		t.Errorf("UserBySub(u-bob) = %v", u)
	}
	if c := cfg.Client("pub-client"); c == nil || !c.Public() {
		t.Errorf("Client(pub-client) = %v, want a public client", c)
	}
	if c := cfg.Client("mcp-client"); c == nil || c.Public() {
		t.Errorf("Client(mcp-client) = %v, want a confidential client", c)
	}
	if s := cfg.Server("files"); s == nil || s.ID != "files" {
		t.Errorf("Server(files) = %v", s)
	}
	if g := cfg.Group("ops"); g == nil || g.Name != "ops" {
		t.Errorf("Group(ops) = %v", g)
	}
	for _, missing := range []any{cfg.User("zed"), cfg.UserBySub("zed"), cfg.Client("zed"), cfg.Server("zed"), cfg.Group("zed")} {
		if !isNil(missing) {
			t.Errorf("lookup of an unknown name returned %v", missing)
		}
	}
	for aud, want := range map[string]string{
		"https://as.chat.example":     "chat",
		"https://as.chat.example/":    "chat",
		"urn:example:chat":            "chat",
		"urn:example:chat/":           "chat",
		"https://as.files.example":    "files",
		"https://as.files.example/":   "files",
		"https://as.chat.example//":   "",
		"https://as.files.example//":  "files", // configured with one slash, sent with one more
		"https://as.files.example///": "",
		"":                            "",
		"/":                           "",
	} {
		got := ""
		if s := cfg.ServerByAudience(aud); s != nil {
			got = s.ID
		}
		if got != want {
			t.Errorf("ServerByAudience(%q) = %q, want %q", aud, got, want)
		}
	}
}

func isNil(v any) bool {
	switch x := v.(type) {
	case *policy.User:
		return x == nil
	case *policy.Client:
		return x == nil
	case *policy.MCPServer:
		return x == nil
	case *policy.Group:
		return x == nil
	}
	return v == nil
}

func TestUser_CheckPassword(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		user policy.User
		pw   string
		want bool
	}{
		{policy.User{Password: "alice"}, "alice", true},
		{policy.User{Password: "alice"}, "alice ", false},
		{policy.User{Password: "alice"}, "", false},
		{policy.User{PasswordBcrypt: string(hash)}, "s3cret", true},
		{policy.User{PasswordBcrypt: string(hash)}, "s3cre", false},
		{policy.User{PasswordBcrypt: string(hash)}, string(hash), false},
		{policy.User{}, "", false},
		{policy.User{}, "anything", false},
	} {
		if got := c.user.CheckPassword(c.pw); got != c.want {
			t.Errorf("%+v.CheckPassword(%q) = %v, want %v", c.user, c.pw, got, c.want)
		}
	}
}

func TestDuration_TextRoundTrip(t *testing.T) {
	for in, want := range map[string]string{"5m": "5m", "1h": "1h", "90m": "1h30m", "24h": "24h", "1h0m30s": "1h0m30s", "45s": "45s", "0s": "0s"} {
		var d policy.Duration
		if err := d.UnmarshalText([]byte(in)); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		out, _ := d.MarshalText()
		if string(out) != want {
			t.Errorf("%s -> %s, want %s", in, out, want)
		}
	}
	var d policy.Duration
	if err := d.UnmarshalText([]byte("-5m")); err == nil {
		t.Error("a negative duration was accepted")
	}
}

// TestParse_HostileInputs checks that inputs built to make loading slow are
// refused with a problem rather than taking the process down.
func TestParse_HostileInputs(t *testing.T) {
	var bomb strings.Builder
	bomb.WriteString("users:\n  - &u {username: a, password: a, groups: [" + strings.Repeat("e, ", 1000) + "e]}\n")
	bomb.WriteString(strings.Repeat("  - *u\n", 1000))
	deep := "users:\n  - username: a\n    password: a\n    claims: " +
		strings.Repeat("{a: ", 100) + "1" + strings.Repeat("}", 100) + "\n"
	for name, c := range map[string]struct{ in, want string }{
		"alias bomb":  {bomb.String(), "x.yaml:2: the document is too large once its aliases (*name) are expanded; write the values out"},
		"deep claims": {deep, "x.yaml:4: users[0].claims" + strings.Repeat(".a", 33) + ": nested more than 32 levels deep; flatten it"},
	} {
		_, err := policy.Parse([]byte(c.in), "x.yaml")
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: got %v, want %s", name, err, c.want)
		}
	}
}

// TestParse_SubjectMapping reads each accepted value of an MCP server's
// subject key; other values are in testdata/invalid/settings.yaml.
func TestParse_SubjectMapping(t *testing.T) {
	for _, subject := range []string{"", policy.SubjectSub, policy.SubjectEmail} {
		t.Run(subject, func(t *testing.T) {
			src := "mcp_servers:\n  - id: chat\n    issuer: https://as.chat.example\n"
			if subject != "" {
				src += "    subject: " + subject + "\n"
			}
			cfg, err := policy.Parse([]byte(src), "subject.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.MCPServers[0].Subject; got != subject {
				t.Errorf("subject = %q, want %q", got, subject)
			}
		})
	}
}

// TestParse_AllowIDJAGReuse: the key is false unless the file says true,
// in a file with tenants too, and survives the admin API's JSON.
func TestParse_AllowIDJAGReuse(t *testing.T) {
	for _, tt := range []struct {
		line string
		want bool
	}{{"", false}, {"    allow_id_jag_reuse: false\n", false}, {"    allow_id_jag_reuse: true\n", true}} {
		t.Run(strings.TrimSpace(tt.line), func(t *testing.T) {
			src := "mcp_servers:\n  - id: chat\n    issuer: https://as.chat.example\n" + tt.line
			cfg, err := policy.Parse([]byte(src), "reuse.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.MCPServers[0].AllowIDJAGReuse; got != tt.want {
				t.Errorf("AllowIDJAGReuse = %v, want %v", got, tt.want)
			}
			indented := strings.ReplaceAll(strings.ReplaceAll(src, "mcp_servers:", "    mcp_servers:"), "\n  ", "\n      ")
			cfg, err = policy.Parse([]byte("tenants:\n  - id: acme\n"+indented), "reuse-tenants.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Tenants[0].MCPServers[0].AllowIDJAGReuse; got != tt.want {
				t.Errorf("with tenants: AllowIDJAGReuse = %v, want %v", got, tt.want)
			}
			b, err := json.Marshal(cfg.Tenants[0].MCPServers[0])
			if err != nil {
				t.Fatal(err)
			}
			if has := strings.Contains(string(b), `"allow_id_jag_reuse":true`); has != tt.want {
				t.Errorf("JSON %s", b)
			}
		})
	}
}

func TestParse_CIMD(t *testing.T) {
	for _, c := range []struct {
		yaml              string
		on, exchange      bool
		allows, disallows string
	}{
		{"", true, true, "http://127.0.0.1:8390/client-metadata.json", "http://client.example/c.json"},
		{"cimd: {enabled: false}", false, true, "", "https://client.example/c.json"},
		{"cimd: {token_exchange: false}", true, false, "https://client.example/c.json", ""},
		{"cimd: {allow: [\"https://*.example.com/*\"]}", true, true, "https://a.example.com/c.json", "https://a.example.org/c.json"},
		{"cimd: {allow: []}", true, true, "", "https://client.example/c.json"},
	} {
		cfg, err := policy.Parse([]byte(c.yaml+"\nusers: []\n"), "cimd.yaml")
		if err != nil {
			t.Fatalf("%s: %v", c.yaml, err)
		}
		got := cfg.CIMD
		if got.On() != c.on || got.Exchange() != c.exchange {
			t.Errorf("%q: on %v, exchange %v; want %v, %v", c.yaml, got.On(), got.Exchange(), c.on, c.exchange)
		}
		if c.allows != "" && !got.Allows(c.allows) {
			t.Errorf("%q does not allow %s", c.yaml, c.allows)
		}
		if c.disallows != "" && got.Allows(c.disallows) {
			t.Errorf("%q allows %s", c.yaml, c.disallows)
		}
	}
}

// TestParse_CIMDAllowPrivate: cimd.allow_private is read as written (the
// resolver takes it from here), and a file whose pattern names one DNS
// name that allow admits loads without a problem.
func TestParse_CIMDAllowPrivate(t *testing.T) {
	cfg, err := policy.Parse([]byte("cimd:\n  allow_private: [\"https://clients.corp.example/*\"]\nusers: []\n"), "cimd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.CIMD.AllowPrivate; !slices.Equal(got, []string{"https://clients.corp.example/*"}) {
		t.Errorf("AllowPrivate = %q", got)
	}
	if !cfg.CIMD.Allows("https://clients.corp.example/c.json") {
		t.Error("the default allow list does not admit https://clients.corp.example/c.json")
	}
}

// TestLoad_TooLarge: a file far larger than any configuration (a log saved
// over it by mistake) is refused before it is parsed, by check and by the
// watcher of a running server alike, so that it cannot take gigabytes.
func TestLoad_TooLarge(t *testing.T) {
	data := append([]byte("# "), bytes.Repeat([]byte("x"), policy.MaxFileSize)...)
	data = append(data, "\nusers: []\n"...)
	file := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	want := file + ": the file is larger than 16 MiB, far more than a configuration needs; is it the right file?"
	for name, load := range map[string]func() error{
		"Parse":     func() error { _, err := policy.Parse(data, file); return err },
		"Load":      func() error { _, err := policy.Load(file); return err },
		"OpenStore": func() error { _, err := policy.OpenStore(file); return err },
	} {
		if err := load(); err == nil || err.Error() != want {
			t.Errorf("%s: got %v, want %s", name, err, want)
		}
	}
}

// TestParse_TooManyValuesWithoutAliases: the node budget that stops alias
// bombs also stops a huge plain file; the problem then does not blame
// aliases it does not have.
func TestParse_TooManyValuesWithoutAliases(t *testing.T) {
	var b strings.Builder
	b.WriteString("groups:\n")
	for i := range 250_000 {
		fmt.Fprintf(&b, "  - name: g%d\n", i)
	}
	_, err := policy.Parse([]byte(b.String()), "huge.yaml")
	var ps policy.Problems
	if !errors.As(err, &ps) || len(ps) != 1 {
		t.Fatalf("got %v, want one problem", err)
	}
	if want := "the file has more than 200000 values, far more than a configuration needs"; !strings.Contains(ps[0].Msg, want) || ps[0].Line == 0 {
		t.Errorf("got %s, want a line and %q", ps[0], want)
	}
}

// TestParse_TooManyValuesInClaims: free-form data (claims, jwks) counts
// toward the same budget, and running out of it there is a problem too:
// it used to skip every check and load the file.
func TestParse_TooManyValuesInClaims(t *testing.T) {
	data := "users:\n  - username: a\n    password: a\n    email: not-an-email\n    claims:\n      x: [" +
		strings.Repeat("1,", 250_000) + "1]\n  - username: a\n    password: b\n"
	cfg, err := policy.Parse([]byte(data), "claims.yaml")
	var ps policy.Problems
	if cfg != nil || !errors.As(err, &ps) || len(ps) != 1 {
		t.Fatalf("got %v, want one problem", err)
	}
	if want := "claims.yaml:6: the file has more than 200000 values, far more than a configuration needs"; ps[0].String() != want {
		t.Errorf("got %s, want %s", ps[0], want)
	}
}

// TestConfig_UserIndex: a user's position in the file, parsed (indexed) or
// built in Go code alike; -1 for no such user.
func TestConfig_UserIndex(t *testing.T) {
	parsed, err := policy.Parse([]byte("issuer: http://127.0.0.1:8080\nusers:\n  - {username: a, password: a}\n  - {username: b, password: b}\n  - {username: c, password: c}\n"), "users.yaml")
	if err != nil {
		t.Fatal(err)
	}
	built := &policy.Config{Users: parsed.Users}
	for _, cfg := range []*policy.Config{parsed, built} {
		for name, want := range map[string]int{"a": 0, "b": 1, "c": 2, "d": -1, "": -1} {
			if got := cfg.UserIndex(name); got != want {
				t.Errorf("UserIndex(%q) = %d, want %d", name, got, want)
			}
		}
	}
}

// TestParse_ProblemOfAnAliasIsAtItsUse: a problem with a value that an
// alias (*name) puts in place is reported at the alias, where that value
// is, not at the anchor (&name) it copies: "users[1].username: duplicate
// username (first at line 2)" was reported at line 2 itself, naming the
// anchor twice and the alias, the line to change, nowhere.
func TestParse_ProblemOfAnAliasIsAtItsUse(t *testing.T) {
	src := "users:\n" +
		"  - &u\n" +
		"    username: dev\n" +
		"    password: dev\n" +
		"  - *u\n"
	_, err := policy.Parse([]byte(src), "x.yaml")
	want := `x.yaml:5: users[1].username: duplicate username "dev" (first at line 3); each must be unique`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want %s", err, want)
	}
}

// TestParse_ClaimsThatWouldBeSentOtherwiseThanWritten: a claim value that
// YAML reads as something other than its text is refused, with the quoted
// form to write: a date (2024-01-15 was sent as "2024-01-15T00:00:00Z"), a
// number with a leading zero (0123 was sent as 83, YAML 1.1's octal), a
// whole number too large to hold (sent as 1e+23); and a null key, whose
// entry was dropped without a word. Quoted, each is sent as written.
func TestParse_ClaimsThatWouldBeSentOtherwiseThanWritten(t *testing.T) {
	for _, c := range []struct{ claims, want string }{
		{"{hired: 2024-01-15}", `x.yaml:4: users[0].claims.hired: 2024-01-15 reads as a date, sent as "2024-01-15T00:00:00Z"; quote it ("2024-01-15") to send the text`},
		{"{employee_id: 0123}", `x.yaml:4: users[0].claims.employee_id: 0123 reads as the octal number 83; quote it ("0123") to send the text, or write 83`},
		{"{big: 99999999999999999999999}", `x.yaml:4: users[0].claims.big: 99999999999999999999999 is a whole number too large to hold exactly (sent as 1e+23); quote it ("99999999999999999999999") to send the text`},
		{"{~: 1}", `x.yaml:4: users[0].claims: a null key (~) names nothing; quote it ("~") if it is the name, or leave the entry out`},
		{"{a: [{hired: 2024-01-15}]}", `x.yaml:4: users[0].claims.a[0].hired: 2024-01-15 reads as a date`},
	} {
		src := "users:\n  - username: a\n    password: a\n    claims: " + c.claims + "\n"
		_, err := policy.Parse([]byte(src), "x.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %s", c.claims, err, c.want)
		}
	}
	src := "users:\n  - username: a\n    password: a\n    claims: {hired: \"2024-01-15\", employee_id: '0123', big: \"99999999999999999999999\", \"~\": 1, n: 0, m: 10, o: \"0o17\", h: \"0x1f\", f: 1.5}\n"
	cfg, err := policy.Parse([]byte(src), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(cfg.Users[0].Claims)
	if want := `{"big":"99999999999999999999999","employee_id":"0123","f":1.5,"h":"0x1f","hired":"2024-01-15","m":10,"n":0,"o":"0o17","~":1}`; string(got) != want {
		t.Errorf("claims = %s, want %s", got, want)
	}
}

// TestParse_ClaimWithAPlusSignIsRefused: YAML reads +15555550100 (an E.164
// phone_number, OpenID Connect Core section 5.1, a string) as the number
// 15555550100: the claim went out as a JSON number without its +. It is
// refused with its quoted form, as a leading zero is; quoted, it is sent
// as written.
func TestParse_ClaimWithAPlusSignIsRefused(t *testing.T) {
	src := "users:\n  - username: a\n    password: a\n    claims: {phone_number: +15555550100}\n"
	_, err := policy.Parse([]byte(src), "x.yaml")
	want := `x.yaml:4: users[0].claims.phone_number: +15555550100 reads as the number 15555550100, sent without its +; quote it ("+15555550100") to send the text, or write 15555550100`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want %s", err, want)
	}
	src = "users:\n  - username: a\n    password: a\n    claims: {phone_number: \"+15555550100\", n: -12}\n"
	cfg, err := policy.Parse([]byte(src), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := json.Marshal(cfg.Users[0].Claims); string(got) != `{"n":-12,"phone_number":"+15555550100"}` {
		t.Errorf("claims = %s", got)
	}
}

// TestParse_NumbersNotSentAsWrittenAreRefused: a plain number of claims or
// jwks is sent as written or refused at its line with the quoted form (and
// the number it would be sent as): YAML 1.1, as yaml.v3 reads it, took
// 0x1f for 31, 0o17 for 15, 0b101 for 5 and 1_000 for 1000, which a YAML
// 1.2 or JSON reader reads otherwise or not at all; 1.10 (a version) went
// out as 1.1, 1.0 as 1, 1e3 as 1000, a commit such as 1234e56 as 1.234e+59,
// and .inf and .nan, which JSON cannot hold, were refused without the form
// to write. Plain whole numbers and decimals sent as written pass.
func TestParse_NumbersNotSentAsWrittenAreRefused(t *testing.T) {
	for _, c := range []struct{ value, want string }{
		{"0x1f", `0x1f reads as the number 31; quote it ("0x1f") to send the text, or write 31`},
		{"0o17", `0o17 reads as the number 15; quote it ("0o17") to send the text, or write 15`},
		{"0b101", `0b101 reads as the number 5; quote it ("0b101") to send the text, or write 5`},
		{"1_000", `1_000 reads as the number 1000; quote it ("1_000") to send the text, or write 1000`},
		{"1.10", `1.10 reads as the number 1.1; quote it ("1.10") to send the text, or write 1.1`},
		{"1.0", `1.0 reads as the number 1; quote it ("1.0") to send the text, or write 1`},
		{"1e3", `1e3 reads as the number 1000; quote it ("1e3") to send the text, or write 1000`},
		{"1234e56", `1234e56 reads as the number 1.234e+59; quote it ("1234e56") to send the text, or write 1.234e+59`},
		{"-0", `-0 reads as the number 0; quote it ("-0") to send the text, or write 0`},
		{".5", `.5 reads as the number 0.5; quote it (".5") to send the text, or write 0.5`},
		{"1.2345678901234567890", `1.2345678901234567890 reads as the number 1.2345678901234567; quote it ("1.2345678901234567890") to send the text, or write 1.2345678901234567`},
		{".inf", `.inf reads as the number +Inf, which JSON cannot hold; quote it (".inf") to send the text`},
		{"-.Inf", `-.Inf reads as the number -Inf, which JSON cannot hold; quote it ("-.Inf") to send the text`},
		{".nan", `.nan reads as the number NaN, which JSON cannot hold; quote it (".nan") to send the text`},
		// The admin API of 2026-12-04 and before wrote numbers so.
		{"1e+06", `1e+06 reads as the number 1000000; quote it ("1e+06") to send the text, or write 1000000`},
		{"1.5e-07", `1.5e-07 reads as the number 1.5e-7; quote it ("1.5e-07") to send the text, or write 1.5e-7`},
		{"1.2345678901234567e+19", `1.2345678901234567e+19 reads as the number 12345678901234567000; quote it ("1.2345678901234567e+19") to send the text, or write 12345678901234567000`},
		// Beyond 64 bits the digits are refused too (sent as 2e+19): the
		// message said to write them.
		{"2e+19", `2e+19 reads as the number 20000000000000000000, a whole number too large to hold exactly; quote it ("2e+19") to send the text, or ("20000000000000000000") to send the digits`},
		// Beyond a float: yaml.v3 read 1e400 as the text "1e400", which
		// went out as a string; 1e-400 is 0, and -1e-400 said "write -0",
		// which was refused in turn as 0.
		{"1e400", `1e400 is a number beyond what a float holds (YAML reads it as the text "1e400"); quote it ("1e400") to send the text`},
		{"-1.5E+999", `-1.5E+999 is a number beyond what a float holds (YAML reads it as the text "-1.5E+999"); quote it ("-1.5E+999") to send the text`},
		{"-1e-400", `-1e-400 reads as the number 0; quote it ("-1e-400") to send the text, or write 0`},
		{"-2.5e+20", `-2.5e+20 reads as the number -250000000000000000000, a whole number too large to hold exactly; quote it ("-2.5e+20") to send the text, or ("-250000000000000000000") to send the digits`},
	} {
		src := "users:\n  - username: a\n    password: a\n    claims:\n      v: " + c.value + "\n"
		_, err := policy.Parse([]byte(src), "x.yaml")
		if want := "x.yaml:5: users[0].claims.v: " + c.want; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %s", c.value, err, want)
		}
	}
	// A client's jwks takes free-form values too.
	src := "clients:\n  - client_id: c\n    jwks: {keys: [{kty: EC, crv: P-256, x: a, y: b, v: 1.10}]}\n"
	want := `x.yaml:3: clients[0].jwks.keys[0].v: 1.10 reads as the number 1.1; quote it ("1.10") to send the text, or write 1.1`
	if _, err := policy.Parse([]byte(src), "x.yaml"); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("jwks: got %v, want %s", err, want)
	}
	// What a refusal says to write is taken as written.
	for _, v := range []string{"1000000", "1.5e-7", "12345678901234567000", "1.234e+59"} {
		src := "users:\n  - username: a\n    password: a\n    claims:\n      v: " + v + "\n"
		if _, err := policy.Parse([]byte(src), "x.yaml"); err != nil {
			t.Errorf("%s: %v", v, err)
		}
	}
	src = "users:\n  - username: a\n    password: a\n    claims: {i: 42, j: -7, d: 3.5, e: -0.25, z: 0, big: 18446744073709551615, x: 0.30000000000000004, q: \"1.10\", h: '0x1f'}\n"
	cfg, err := policy.Parse([]byte(src), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(cfg.Users[0].Claims)
	if want := `{"big":18446744073709551615,"d":3.5,"e":-0.25,"h":"0x1f","i":42,"j":-7,"q":"1.10","x":0.30000000000000004,"z":0}`; string(got) != want {
		t.Errorf("claims = %s, want %s", got, want)
	}
}

// TestParse_NestedKeyNotAStringIsNamedAsWritten: a key of a mapping
// inside a claim that YAML reads as a number, a boolean or a date is
// refused with the quoted form of its text, at its line: the message
// offered the number YAML read instead ("key 31 is not a string; quote it
// ("31")" for 0x1f, "1.1" for 1.10), a different name, and only for the
// first such key.
func TestParse_NestedKeyNotAStringIsNamedAsWritten(t *testing.T) {
	src := "users:\n  - username: a\n    password: a\n    claims:\n      a: {0x1f: v}\n      b:\n        - {1.10: w}\n      c: {true: x, 2024-01-15: y}\n"
	_, err := policy.Parse([]byte(src), "x.yaml")
	for _, want := range []string{
		`x.yaml:5: users[0].claims.a: the key 0x1f is not a string to YAML; quote it ("0x1f") to name it so`,
		`x.yaml:7: users[0].claims.b[0]: the key 1.10 is not a string to YAML; quote it ("1.10") to name it so`,
		`x.yaml:8: users[0].claims.c: the key true is not a string to YAML; quote it ("true") to name it so`,
		`x.yaml:8: users[0].claims.c: the key 2024-01-15 is not a string to YAML; quote it ("2024-01-15") to name it so`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want %s", err, want)
		}
	}
	src = "users:\n  - username: a\n    password: a\n    claims:\n      a: {\"0x1f\": v, '1.10': w}\n"
	cfg, err := policy.Parse([]byte(src), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := json.Marshal(cfg.Users[0].Claims); string(got) != `{"a":{"0x1f":"v","1.10":"w"}}` {
		t.Errorf("claims = %s", got)
	}
}
