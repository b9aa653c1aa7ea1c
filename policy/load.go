package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Load reads a configuration file and parses it with Parse. A file that
// cannot be read is reported as Problems with a single, line-less problem.
func Load(file string) (*Config, error) { return LoadChecked(file, FileChecks{}) }

// FileChecks are the checks of a configuration that look beyond it, at
// the files it names; `xaa-idp check` makes them, so that what would stop
// a start is found before it. policy opens no files of its own: the
// caller says how each is used.
type FileChecks struct {
	// KeyFile returns why an entry of signing.key_files (a tenant's too)
	// cannot be used, nil when it can; the problem is reported at the
	// entry's line.
	KeyFile func(path string) error
	// KeyThumbprint, when not nil, returns the thumbprint of the key of
	// an entry of signing.key_files, "" when it has none: the entries of
	// two tenants that hold one key (one file, or two copies in any form)
	// are a problem at the second one's line, since each tenant signs with
	// keys of its own.
	KeyThumbprint func(path string) string
	// View, when not nil, returns for a document as written (data) the
	// rewrite that the running configuration reads it through, at every
	// load, reload and edit, while the file keeps it as written
	// (OpenStoreChecked; demo --tls makes the loopback URLs it serves
	// https). The rewrite applies to the document and to any one URL of
	// it, and keeps every line where it is.
	View func(data []byte) func([]byte) []byte
}

// LoadChecked is Load, making the checks of fc as well.
func LoadChecked(file string, fc FileChecks) (*Config, error) {
	cfg, _, err := LoadFile(file, fc)
	return cfg, err
}

// LoadFile is LoadChecked, returning the bytes it read as well: what
// Warnings takes, read once.
func LoadFile(file string, fc FileChecks) (*Config, []byte, error) {
	data, err := readOnce(file)
	if err != nil {
		msg := err.Error()
		var pe *os.PathError
		if errors.As(err, &pe) {
			msg = "cannot read the file: " + pe.Err.Error()
		}
		return nil, nil, Problems{{File: file, Msg: msg}}
	}
	cfg, err := parse(data, file, fc)
	return cfg, data, err
}

// MaxFileSize bounds a configuration file. The largest one maxNodes lets
// through is a few MiB; a bigger file is something else saved there by
// mistake, and parsing it could take gigabytes, on a running server too.
// Below the cap a dense file still costs what yaml.v3 spends building its
// nodes before maxNodes is counted (a 14 MB one-line flow list: about 30 s
// and 1.5 GB, once per change of the file): only whoever writes the file
// can do that, and docs/configuration.md says so.
const MaxFileSize = 16 << 20

// Parse parses and validates a configuration; file is the name problems
// refer to. On success the Config has its defaults filled in and is indexed
// for lookups. Otherwise the error is Problems, listing every problem found
// (not just the first), sorted by line.
func Parse(data []byte, file string) (*Config, error) { return parse(data, file, FileChecks{}) }

func parse(data []byte, file string, fc FileChecks) (*Config, error) {
	if len(data) > MaxFileSize {
		return nil, Problems{{File: file, Msg: fmt.Sprintf("the file is larger than %d MiB, far more than a configuration needs; is it the right file?", MaxFileSize>>20)}}
	}
	root, problems := parseYAML(data, file)
	if problems != nil {
		return nil, problems
	}
	if problems := bigMappings(root, "", file); problems != nil {
		return nil, problems // before any decoding, which would take long
	}
	d := &decoder{file: file, files: fc, nodes: map[string]*yaml.Node{}, failedAt: map[string]bool{}, failedIn: map[string]bool{}, budget: maxNodes}
	cfg := &Config{File: file}
	d.decode(root, "", reflect.ValueOf(cfg).Elem())
	if d.budget > 0 {
		// Validation runs even after decoding problems, so that one run
		// reports everything; it stays quiet about values that failed.
		v := &validator{decoder: d, cfg: cfg}
		v.validate()
	}
	if len(d.problems) > 0 {
		d.tenantIDs()
		return nil, d.problems.sorted()
	}
	for _, c := range cfg.IdPs() {
		c.File = file
		c.fillDefaults()
		c.buildIndexes()
	}
	return cfg, nil
}

// yamlLine matches yaml.v3's syntax errors, which carry the line in the text.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML parses the single YAML document of a configuration and returns
// its root mapping node.
func parseYAML(data []byte, file string) (root *yaml.Node, problems Problems) {
	fail := func(line int, format string, args ...any) (*yaml.Node, Problems) {
		return nil, Problems{{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}}
	}
	// yaml.v3 has panicked on hostile input before (CVE-2022-28948); a
	// configuration file must never take the process down.
	defer func() {
		if r := recover(); r != nil {
			root, problems = fail(0, "the YAML parser failed on this file: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return fail(0, "the file is empty; see fixtures/demo.yaml for a complete configuration")
		}
		return nil, syntaxError(data, file, err)
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		return fail(next.Line, "a second YAML document (after ---); a configuration is one document")
	} else if !errors.Is(err, io.EOF) {
		return nil, syntaxError(data, file, err)
	}
	root = &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if isNull(root) {
		return fail(root.Line, "the file holds no configuration; see fixtures/demo.yaml for a complete configuration")
	}
	return root, nil
}

// syntaxError turns a yaml.v3 error into a problem at the line it names.
// yaml.v3 names no line for an error on the first line, for characters its
// reader refuses (bytes that are not UTF-8, control characters) and for an
// alias to an unknown anchor; the line is then found here.
func syntaxError(data []byte, file string, err error) Problems {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	p := Problem{File: file, Msg: "YAML syntax error: " + msg}
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		p.Msg = "YAML syntax error: " + m[2]
		p.Line = problemLine(data, p.Line, m[2])
		if longKey(data, p.Line) {
			// yaml.v3 says only that a colon is out of place.
			p.Msg += " (the key before the colon is longer than 1024 characters, more than YAML allows a key; shorten it)"
		}
		if tabIndented(data, p.Line) {
			// yaml.v3 does not say that the character it cannot start
			// a token with is a tab, which an editor put there unseen.
			p.Msg += " (a tab indents this line: indent with spaces, YAML does not allow tabs)"
		}
		return Problems{p}
	}
	if readerError[msg] {
		if bytes.HasPrefix(data, []byte("\xff\xfe\x00\x00")) || bytes.HasPrefix(data, []byte("\x00\x00\xfe\xff")) {
			p.Line = 1
			p.Msg += " (the file is UTF-32, which YAML readers do not read; save it as UTF-8)"
			return Problems{p}
		}
		if line, what := badCharacter(data); line > 0 {
			if line == 1 && len(data) > 1 && (data[0] == 0 || data[1] == 0) {
				// An ASCII first character in UTF-16 or UTF-32 written
				// without a byte order mark, which yaml.v3 takes for UTF-8.
				what += ": the file looks UTF-16 or UTF-32 without a byte order mark; save it as UTF-8"
			}
			p.Line = line
			p.Msg += " (" + what + ")"
			return Problems{p}
		}
	}
	if line := problemLine(data, 0, msg); line > 0 {
		p.Line = line
	}
	return Problems{p}
}

// longKey reports whether line n (1-based) of data writes a key longer
// than the 1024 characters YAML allows a key written without "?" (YAML
// 1.2 section 7.4.2; yaml.v3 counts them so).
func longKey(data []byte, n int) bool {
	lines := bytes.Split(data, []byte("\n"))
	if n < 1 || n > len(lines) {
		return false
	}
	line := bytes.TrimLeft(lines[n-1], " ")
	for bytes.HasPrefix(line, []byte("- ")) {
		line = bytes.TrimLeft(line[2:], " ")
	}
	i := bytes.Index(line, []byte(": "))
	if j := len(bytes.TrimRight(line, " \r")); i < 0 && j > 0 && line[j-1] == ':' {
		i = j - 1
	}
	return i >= 0 && utf8.RuneCount(line[:i]) > 1024
}

// tabIndented reports whether a tab is in the indentation of line n
// (1-based) of data.
func tabIndented(data []byte, n int) bool {
	lines := bytes.Split(data, []byte("\n"))
	if n < 1 || n > len(lines) {
		return false
	}
	line := lines[n-1]
	indent := line[:len(line)-len(bytes.TrimLeft(line, " \t"))]
	return bytes.IndexByte(indent, '\t') >= 0
}

// readerError holds the messages of yaml.v3's reader, which refuses
// characters before the parser sees them.
var readerError = map[string]bool{
	"invalid leading UTF-8 octet":        true,
	"incomplete UTF-8 octet sequence":    true,
	"invalid trailing UTF-8 octet":       true,
	"invalid length of a UTF-8 sequence": true,
	"invalid Unicode character":          true,
	"control characters are not allowed": true,
}

// badCharacter finds the first character of a UTF-8 file that YAML does not
// allow (YAML 1.2 section 5.1, as yaml.v3's reader checks it): its line and
// what it is. It returns 0 when there is none, or when the file is UTF-16.
func badCharacter(data []byte) (int, string) {
	if bytes.HasPrefix(data, []byte("\xff\xfe")) || bytes.HasPrefix(data, []byte("\xfe\xff")) {
		return 0, ""
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	line := 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return line, fmt.Sprintf("byte 0x%02x", data[i])
		case r == 0x09 || r == 0x0A || r == 0x0D || r == 0x85,
			r >= 0x20 && r <= 0x7E, r >= 0xA0 && r <= 0xD7FF,
			r >= 0xE000 && r <= 0xFFFD, r >= 0x10000 && r <= 0x10FFFF:
		default:
			return line, fmt.Sprintf("U+%04X", r)
		}
		if r == '\n' {
			line++
		}
		i += size
	}
	return 0, ""
}

// problemLine finds the line a YAML syntax error is on. For parser errors
// yaml.v3 reports where the enclosing collection starts, not the offending
// line, so an indentation mistake in the middle of a long user list would
// point at "users:"; for some errors it reports no line (0). The offending
// line is the first one at which the file, cut after that line, fails with
// the same message; it is never before the reported line. The search gives
// up after a few hundred lines and keeps the reported one when the search
// would take long (on a huge file).
func problemLine(data []byte, reported int, msg string) int {
	lines := bytes.SplitAfter(data, []byte("\n"))
	budget := 4 << 20 // bytes to re-parse: a few milliseconds
	for n := max(reported, 1); n <= len(lines); n++ {
		prefix := bytes.Join(lines[:n], nil)
		if budget -= len(prefix); budget < 0 {
			break
		}
		var node yaml.Node
		err := yaml.Unmarshal(prefix, &node)
		if err == nil {
			continue
		}
		got := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			got = m[2]
		}
		if got == msg {
			return n
		}
	}
	return reported
}

// fillDefaults sets the values the contract documents as defaults.
func (c *Config) fillDefaults() {
	setString := func(s *string, def string) {
		if *s == "" {
			*s = def
		}
	}
	p := presetOf(c.Persona)
	setString(&c.Signing.IDTokenAlg, DefaultIDTokenAlg)
	setString(&c.Signing.IDJAGAlg, p.idJAGAlg)
	setString(&c.Exchange.SubjectTokenError, DefaultSubjectTokenError)
	setString(&c.Exchange.DeniedError, DefaultDeniedError)
	setDuration := func(d *Duration, def Duration) {
		if *d == 0 {
			*d = def
		}
	}
	setDuration(&c.Lifetimes.IDToken, p.lifetimes.IDToken)
	setDuration(&c.Lifetimes.AccessToken, p.lifetimes.AccessToken)
	setDuration(&c.Lifetimes.RefreshToken, p.lifetimes.RefreshToken)
	setDuration(&c.Lifetimes.IDJAG, p.lifetimes.IDJAG)
	if c.ID != "" {
		setString(&c.Path, DefaultTenantPath(c.ID))
	}
	if c.Security.MaxPendingLogins == 0 {
		c.Security.MaxPendingLogins = DefaultMaxPendingLogins
	}
	for i := range c.Users {
		setString(&c.Users[i].Sub, DefaultSub(c.Users[i].Username))
	}
}

// sortedKeys returns a map's keys in order, for deterministic messages.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
