package main

import (
	"html"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// shellWords splits a command as a POSIX shell splits words made of plain
// characters and single-quoted parts ('\” for a quote), which is all
// shellQuote writes.
func shellWords(cmd string) []string {
	var words []string
	var w strings.Builder
	in, quoted := false, false
	for _, r := range cmd {
		switch {
		case r == '\'':
			quoted, in = !quoted, true
		case r == ' ' && !quoted:
			if in {
				words = append(words, w.String())
				w.Reset()
				in = false
			}
		default:
			w.WriteRune(r)
			in = true
		}
	}
	if in {
		words = append(words, w.String())
	}
	return words
}

// The "Try it" command of the landing pages of serve --tls trusts the
// local CA (--ca-file), as the demo's banner does: without it, the command
// copied from / failed ("certificate signed by unknown authority"). A state
// directory whose path holds a space is quoted for the shell.
func TestServeTLS_LandingCommandTrustsTheCA(t *testing.T) {
	tenants := filepath.Join(t.TempDir(), "tenants.yaml")
	if err := os.WriteFile(tenants, []byte(`tenants:
  - id: acme
    users: [{username: alice, password: alice-pw}]
    clients: [{client_id: app, redirect_uris: ["http://127.0.0.1/callback"], token_exchange: true}]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	command := regexp.MustCompile(`<pre>(xaa-idp login [^<]*)</pre>`)
	for _, c := range []struct {
		name, config, user, password string
	}{
		{"single tenant", "", "alice", "alice"},
		{"tenants", tenants, "alice", "alice-pw"},
	} {
		t.Run(c.name, func(t *testing.T) {
			state := filepath.Join(t.TempDir(), "state dir")
			args := []string{"serve", "--addr", "127.0.0.1:0", "--tls", "--state-dir", state}
			if c.config != "" {
				args = append(args, "--config", c.config)
			}
			issuer, _ := startBinary(t, &syncBuffer{}, args...)
			base := issuer[:strings.Index(issuer[len("https://"):], "/")+len("https://")]
			if !strings.Contains(issuer[len("https://"):], "/") {
				base = issuer
			}
			resp, err := trustOnly(t, state).Get(base + "/")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			m := command.FindStringSubmatch(string(body))
			if m == nil {
				t.Fatalf("/ has no login command:\n%s", body)
			}
			words := shellWords(html.UnescapeString(m[1]))
			for i, w := range words {
				switch w {
				case "USER":
					words[i] = c.user
				case "PASSWORD":
					words[i] = c.password
				}
			}
			if code, out, stderr := runCLI(t, words[1:]...); code != 0 || !strings.HasPrefix(out, "eyJ") {
				t.Errorf("the page's command %q: exit %d %s", m[1], code, stderr)
			}
		})
	}
}
