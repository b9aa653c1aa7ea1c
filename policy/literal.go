package policy

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/crypto/bcrypt"
	"gopkg.in/yaml.v3"
)

// envReference is how a template names an environment variable: ${NAME}
// (with a shell default, ${NAME:-x}) anywhere in a value, or $NAME in
// capitals as the whole value.
var envReference = regexp.MustCompile(`\$\{[A-Za-z_][A-Za-z0-9_]*(?:[:?+-][^}]*)?\}|^\$[A-Z_][A-Z0-9_]*$`)

// literalValues warns of values of idp, the IdP whose keys the file
// lines indexes writes under prefix, that are taken as written though
// most likely meant otherwise: a reference to an environment variable, which xaa-idp does
// not expand (a client_secret of ${MCP_SECRET} is those 14 characters, and
// the client then gets invalid_client); a password that is a bcrypt hash,
// with which the user signs in only by typing the hash; one of YAML 1.1's
// booleans written plain (yaml11Boolean). (A username not
// written composed is lookAlikeUsers'.) No warning quotes the value: it
// may be a secret.
func literalValues(idp *Config, lines *lineIndex, file, prefix string) Problems {
	var out Problems
	at := strings.TrimSuffix(prefix, ".")
	walkScalars(lines.node(at), at, func(path string, n *yaml.Node) {
		if msg := roundedByDoubles(path, n); msg != "" {
			out = append(out, Problem{File: file, Line: n.Line, Msg: msg})
		}
		if msg := yaml11Boolean(path, n); msg != "" {
			out = append(out, Problem{File: file, Line: n.Line, Msg: msg})
		}
		if envReference.MatchString(n.Value) {
			out = append(out, Problem{File: file, Line: n.Line,
				Msg: fmt.Sprintf("warning: %s: looks like a reference to an environment variable, but xaa-idp expands none: the value is the characters as written; expand them before (envsubst < idp.yaml.tmpl > idp.yaml)", path)})
		}
	})
	for ui, u := range idp.Users {
		if _, err := bcrypt.Cost([]byte(u.Password)); err == nil {
			out = append(out, Problem{File: file, Line: lines.line(fmt.Sprintf("%susers[%d].password", prefix, ui)),
				Msg: fmt.Sprintf("warning: user %s: password holds a bcrypt hash, but password is the password itself, so the user signs in only by typing the hash; write it as password_bcrypt", u.Username)})
		}
	}
	return out
}

// walkScalars calls fn with each scalar value under n and its path; an
// alias's values are walked where its anchor is.
func walkScalars(n *yaml.Node, path string, fn func(path string, n *yaml.Node)) {
	if n == nil {
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		for k := 0; k+1 < len(n.Content); k += 2 {
			walkScalars(n.Content[k+1], join(path, n.Content[k].Value), fn)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			walkScalars(c, fmt.Sprintf("%s[%d]", path, i), fn)
		}
	case yaml.ScalarNode:
		fn(path, n)
	}
}

// yaml11Words are YAML 1.1's booleans as the common YAML 1.1 readers take
// them (PyYAML, Ruby; not y and n, which its type also lists), which YAML
// 1.2, as yaml.v3 reads it, takes as text.
var yaml11Words = regexp.MustCompile(`^(yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF)$`)

// yaml11Boolean warns of one of YAML 1.1's booleans written plain: text to
// xaa-idp, a boolean to a YAML 1.1 reader of the same file (PyYAML, Go's
// yaml.v2, Ansible). A claim is sent as the text, where the file most
// likely meant true or false. A boolean setting refuses the words
// (decoder.bool), so any other such value is a string; the warning does
// not quote it, as it may be a secret. jwks is left alone: its members'
// values are key material and names a JWKS defines.
func yaml11Boolean(path string, n *yaml.Node) string {
	if n.Style != 0 || !yaml11Words.MatchString(n.Value) || strings.Contains(path, ".jwks.") || strings.HasPrefix(path, "jwks.") {
		return ""
	}
	if strings.Contains(path, ".claims.") {
		return fmt.Sprintf("warning: %s: %s is sent as the text %q (xaa-idp reads YAML 1.2, to which YAML 1.1's booleans yes, no, on and off are text); write true or false for a boolean, or quote it (%q) to send the text", path, n.Value, n.Value, n.Value)
	}
	return fmt.Sprintf("warning: %s: written plain, this value is a boolean to YAML 1.1 readers (yes, no, on and off: PyYAML, Go's yaml.v2, Ansible) and text to xaa-idp, which reads YAML 1.2; quote it so that every reader of the file takes it as text", path)
}

// roundedByDoubles warns of a whole number in claims that a reader
// holding JSON numbers as doubles (JavaScript, the TypeScript SDK) reads
// as another number: RFC 8259 section 6 promises no more than 2^53. The
// ID token carries it as written.
func roundedByDoubles(path string, n *yaml.Node) string {
	if !strings.Contains(path, ".claims.") || n.Style != 0 || n.ShortTag() != "!!int" {
		return ""
	}
	var read string
	if i, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
		if f := float64(i); f < 1<<63 && int64(f) == i {
			return ""
		}
		read = strconv.FormatFloat(float64(i), 'f', -1, 64)
	} else if u, err := strconv.ParseUint(n.Value, 10, 64); err == nil {
		if f := float64(u); f < 1<<64 && uint64(f) == u {
			return ""
		}
		read = strconv.FormatFloat(float64(u), 'f', -1, 64)
	} else {
		return ""
	}
	return fmt.Sprintf("warning: %s: %s is beyond 2^53, and readers that hold JSON numbers as doubles (JavaScript) read it as %s; quote it (%q) to send the text", path, n.Value, read, n.Value)
}
