package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/xaa-idp/xaa-idp/internal/errdesc"
	"github.com/xaa-idp/xaa-idp/internal/jsonstr"
	"github.com/xaa-idp/xaa-idp/policy"
)

// plural is "1 user", "2 users" (every noun counted here takes a plain s).
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// maxListedUsers is how many users the startup log names; more are
// counted.
const maxListedUsers = 10

// userList names the configuration's users for the startup log, or counts
// them when there are many.
func userList(cfg *policy.Config) string {
	if len(cfg.Users) > maxListedUsers || len(cfg.Users) == 0 {
		return plural(len(cfg.Users), "user")
	}
	names := make([]string, len(cfg.Users))
	for i, u := range cfg.Users {
		names[i] = u.Username
		if !u.Active() {
			names[i] += " (disabled)"
		}
	}
	return strings.Join(names, ", ")
}

// maxErrorLine bounds a server's error as one line shows it: room for
// the IdP's own error_description (errdesc.MaxBytes) and what the line
// says around it.
const maxErrorLine = 2 * errdesc.MaxBytes

// oneLine is a server's error (an error_description) for one line of
// stderr: its newlines and tabs escaped as terminalSafe escapes the other
// control characters (\u000a), so that a server cannot add lines that
// look like the command's own, and cut to maxErrorLine, saying how much
// was cut. The JSON on stdout keeps the whole answer.
func oneLine(s string) string {
	if len(s) > maxErrorLine {
		cut := maxErrorLine
		for !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = fmt.Sprintf("%s…[truncated %d bytes]", s[:cut], len(s)-cut)
	}
	return lineBreaks.Replace(s)
}

var lineBreaks = strings.NewReplacer("\n", `\u000a`, "\t", `\u0009`)

// terminalSafe wraps the output of a command that prints what servers
// said (error descriptions, login pages, MCP server names, whoami answers):
// a control character would reach the terminal as a command, an escape
// sequence that retitles the window, clears the screen, rewrites the line
// or, in some terminals, writes to the clipboard. Control characters other
// than newline and tab (C0, DEL and C1), Unicode format characters (the
// bidi controls that reorder a line, the zero-width ones that hide a
// difference: jsonstr.Invisible) and bytes that are not UTF-8 are written
// escaped instead, as \u001b, \u202e (two escapes, of the UTF-16
// surrogates, beyond the BMP) or \x9b; in a JSON string \u001b is the
// same character, so JSON output stays valid.
func terminalSafe(w io.Writer) io.Writer {
	return &safeWriter{w: w}
}

type safeWriter struct {
	mu      sync.Mutex
	w       io.Writer
	pending []byte // the start of a rune that the next write completes
}

func (s *safeWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := append(s.pending, p...)
	s.pending = nil
	var out []byte
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && n <= 1 && !utf8.FullRune(b):
			s.pending = append([]byte(nil), b...)
			b = nil
			continue
		case r == utf8.RuneError && n == 1:
			out = fmt.Appendf(out, `\x%02x`, b[0])
		case r != '\n' && r != '\t' && (unicode.IsControl(r) || jsonstr.Invisible(r)):
			out = jsonstr.AppendEscape(out, r)
		default:
			out = append(out, b[:n]...)
		}
		b = b[n:]
	}
	if _, err := s.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}
