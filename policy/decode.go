package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/xaa-idp/xaa-idp/internal/yamlpatch"
)

// decoder turns a yaml.Node tree into Config values by walking it against
// the struct types and their yaml tags. It exists instead of yaml.v3's own
// decoding because that stops at the first unknown key, reports no line for
// semantic problems and cannot say which keys would have been right.
//
// Every value node it visits is remembered under its path
// ("mcp_servers[0].access[1].groups[2]"), so that the semantic checks in
// validate.go can point at the line of whatever they complain about.
type decoder struct {
	file     string
	problems Problems
	nodes    map[string]*yaml.Node
	keys     map[string]*yaml.Node       // the key nodes of the top level's and tenants' fields, by path: for "remove this key" (topOrTenant)
	failedAt map[string]bool             // paths whose values could not be decoded
	failedIn map[string]bool             // those paths and every path containing one
	budget   int                         // nodes left to visit; bounds alias expansion
	aliased  bool                        // an alias has been expanded
	via      *yaml.Node                  // the alias the values being decoded are reached by
	files    FileChecks                  // made by validation when set
	max      int                         // the bound of the strings being decoded (bounds.go); 0 for maxScalarBytes
	ignore   func(path, key string) bool // unknown keys skipped without a problem (a read-only key of an answer sent back); nil for none
}

// maxNodes bounds the nodes visited, counting each alias expansion again,
// so that a small file of nested aliases ("billion laughs") cannot make
// loading take forever. Real configurations stay far below it.
const maxNodes = 200_000

var (
	durationType  = reflect.TypeOf(Duration(0))
	timestampType = reflect.TypeOf(Timestamp(0))
)

// fail records a problem with the value at path, at the node's line.
func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	d.failedAt[path] = true
	for p := path; !d.failedIn[p]; p = parent(p) {
		d.failedIn[p] = true
		if p == "" {
			break
		}
	}
	d.add(n, fmt.Sprintf(format, args...))
}

// failedNear reports whether decoding failed at path, inside it or at one
// of the values that contain it.
func (d *decoder) failedNear(path string) bool {
	if d.failedIn[path] {
		return true
	}
	for p := path; p != ""; {
		p = parent(p)
		if d.failedAt[p] {
			return true
		}
	}
	return false
}

// node returns the node recorded for path or, when the value is absent, for
// the nearest enclosing path that has one, so that "users[1].username is
// missing" points at users[1].
func (d *decoder) node(path string) *yaml.Node {
	for {
		if n, ok := d.nodes[path]; ok {
			return n
		}
		if path == "" {
			return nil
		}
		path = parent(path)
	}
}

// parent returns the path of the value that contains path's value:
// "users[1]" for "users[1].groups", "users" for "users[1]".
func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// add records a problem at the node's line.
func (d *decoder) add(n *yaml.Node, msg string) {
	line := 0
	if n != nil {
		line = n.Line
	}
	d.problems = append(d.problems, Problem{File: d.file, Line: line, Msg: msg})
}

// addBetween is add for a problem between two tenants, each told its own
// side (Problem.between).
func (d *decoder) addBetween(n *yaml.Node, msg string, sides [2]tenantSide) {
	d.add(n, msg)
	d.problems[len(d.problems)-1].between = &sides
}

// resolve follows aliases to the node they stand for.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// placed returns n as recorded for the checks of validation: under an
// alias, at the alias's line, since that is where the value it copies is
// used (users[1] given as *u is a second user at the alias, not at the
// anchor's lines); n itself elsewhere.
func (d *decoder) placed(n *yaml.Node) *yaml.Node {
	if d.via == nil || n == d.via {
		return n
	}
	c := *n
	c.Line, c.Column = d.via.Line, d.via.Column
	return &c
}

// spend counts a node against the budget and reports whether it may be
// visited; the node that exhausts it gets the problem (whoever visits it:
// a budget spent in claims without a problem would skip every check).
func (d *decoder) spend(n *yaml.Node) bool {
	if d.budget--; d.budget == 0 {
		if d.aliased {
			d.fail(n, "", "the document is too large once its aliases (*name) are expanded; write the values out")
		} else {
			d.fail(n, "", "the file has more than %d values, far more than a configuration needs", maxNodes)
		}
	}
	return d.budget > 0
}

// decode stores the node's value into v, whose type drives the walk.
func (d *decoder) decode(n *yaml.Node, path string, v reflect.Value) {
	if !d.spend(n) {
		return
	}
	at := n
	n = resolve(n)
	if n == nil || n.Kind == yaml.AliasNode {
		d.fail(at, path, "%s: alias refers to an alias chain that is too long", path)
		return
	}
	d.nodes[path] = d.placed(at)
	if at != n {
		d.aliased = true
		if d.via == nil {
			d.via = at
			defer func() { d.via = nil }()
		}
		// Problems with an alias's value belong where the alias is used.
		used := *n
		used.Line, used.Column = at.Line, at.Column
		n = &used
	}
	if d.tagged(n, path) {
		return
	}
	if isNull(n) {
		return // an empty value keeps the zero value, as "key:" reads
	}
	if n.Kind == yaml.ScalarNode && v.Kind() != reflect.Map && v.Kind() != reflect.Struct && d.tooLong(n, path, n.Value) {
		return
	}
	switch {
	case v.Type() == durationType:
		d.duration(n, path, v)
	case v.Type() == timestampType:
		d.timestamp(n, path, v)
	case v.Kind() == reflect.String:
		if s, ok := d.scalar(n, path, "a string"); ok {
			v.SetString(s)
		}
	case v.Kind() == reflect.Bool:
		d.bool(n, path, v)
	case v.Kind() == reflect.Pointer:
		// An optional value whose absence means something else than its
		// zero value (security.login_throttle defaults to true).
		p := reflect.New(v.Type().Elem())
		d.decode(n, path, p.Elem())
		if !d.failedAt[path] {
			v.Set(p)
		}
	case v.Kind() == reflect.Int:
		d.int(n, path, v)
	case v.Kind() == reflect.Slice:
		d.sequence(n, path, v)
	case v.Kind() == reflect.Struct:
		d.mapping(n, path, v)
	case v.Kind() == reflect.Map && v.Type().Elem().Kind() == reflect.String:
		d.stringMap(n, path, v)
	case v.Kind() == reflect.Map:
		d.anyMap(n, path, v)
	default:
		panic("policy: no decoder for " + v.Type().String())
	}
}

// coreTags are the explicit tags a value may carry: they only say what the
// value already reads as (!!str 123 is the text 123).
var coreTags = map[string]bool{"!!str": true, "!!int": true, "!!bool": true, "!!float": true, "!!null": true, "!!seq": true, "!!map": true}

// tagged refuses a value with any other explicit tag: !!binary (base64),
// !!timestamp, or another program's (!vault, !!python/object). Taking its
// text as written would silently mean something else than the file says.
//
// A core tag that does not fit its value (!!int c2, !!null x, !!map on a
// text) is refused too: yaml.v3 reads !!null x as null, which dropped the
// value, and the others as the text, which the tag says it is not.
func (d *decoder) tagged(n *yaml.Node, path string) bool {
	if n.Style&yaml.TaggedStyle == 0 {
		return false
	}
	tag := n.ShortTag()
	if !coreTags[tag] {
		d.fail(n, path, "%s: the tag %s is not supported; write the plain value", pathName(path), n.Tag)
		return true
	}
	var x any
	switch {
	case tag == "!!map" && n.Kind == yaml.MappingNode, tag == "!!seq" && n.Kind == yaml.SequenceNode, tag == "!!str" && n.Kind == yaml.ScalarNode:
		return false
	case tag != "!!map" && tag != "!!seq" && n.Kind == yaml.ScalarNode && n.Decode(&x) == nil:
		return false
	}
	d.fail(n, path, "%s: the tag %s does not fit the value; remove the tag, or write a value it fits", pathName(path), n.Tag)
	return true
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// kindName names a node kind the way messages talk about YAML.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping (key: value)"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		// A file that is lines of text and no YAML mapping (an env file
		// given by mistake) is one long string: its start is enough to
		// recognise it, and the rest may be secrets.
		if runes := []rune(n.Value); len(runes) > maxShownScalar {
			return fmt.Sprintf("%q (%d characters)", string(runes[:maxShownScalar])+"...", len(runes))
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "an alias"
}

// maxShownScalar is how many characters of a value of the wrong kind a
// problem quotes.
const maxShownScalar = 60

// scalar returns the literal text of a scalar node. Any scalar may be a
// string: "client_secret: 12345" means the characters 12345.
func (d *decoder) scalar(n *yaml.Node, path, want string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "%s: expected %s, got %s", path, want, kindName(n))
		return "", false
	}
	return n.Value, true
}

func (d *decoder) bool(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" {
		if b, err := strconv.ParseBool(strings.ToLower(n.Value)); err == nil {
			v.SetBool(b)
			return
		}
	}
	if n.Kind == yaml.ScalarNode {
		// A hint where the text is a boolean to a reader: quoted, or
		// YAML 1.1's words, which yaml.v3 (YAML 1.2) reads as text.
		switch word := strings.ToLower(n.Value); {
		case quoted(n) && (word == "true" || word == "false"):
			d.fail(n, path, "%s: expected true or false, got the quoted text %q; write %s without quotes", path, n.Value, word)
			return
		case !quoted(n) && (word == "yes" || word == "on" || word == "no" || word == "off"):
			d.fail(n, path, "%s: expected true or false, got %q; write %t (YAML 1.2 reads yes, no, on and off as text)", path, n.Value, word == "yes" || word == "on")
			return
		}
	}
	d.fail(n, path, "%s: expected true or false, got %s", path, kindName(n))
}

// quoted reports whether the scalar n is written in quotes.
func quoted(n *yaml.Node) bool {
	return n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0
}

// intRanges are the ranges of the integer keys, by their last name, that
// the decoder names for a number too large to hold; validation checks the
// ranges of the numbers it holds.
var intRanges = map[string][2]int{
	"max_pending_logins": {1, MaxPendingLoginsLimit},
	"http_status":        {500, 599},
	"status":             {400, 599},
	"times":              {0, math.MaxInt32},
}

func (d *decoder) int(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int" {
		i, err := strconv.ParseInt(n.Value, 0, 32)
		if err == nil {
			v.SetInt(i)
			return
		}
	}
	// Digits beyond 64 bits YAML reads as a float: still a whole number.
	if n.Kind == yaml.ScalarNode && !quoted(n) && (n.ShortTag() == "!!int" || n.ShortTag() == "!!float") {
		if _, err := strconv.ParseInt(n.Value, 0, 32); errors.Is(err, strconv.ErrRange) {
			size, r := "large", [2]int{math.MinInt32, math.MaxInt32}
			if strings.HasPrefix(n.Value, "-") {
				size = "small"
			}
			if kr, ok := intRanges[path[strings.LastIndex(path, ".")+1:]]; ok {
				r = kr
			}
			d.fail(n, path, "%s: %s is too %s; use a whole number from %d to %d", path, n.Value, size, r[0], r[1])
			return
		}
	}
	if n.Kind == yaml.ScalarNode && quoted(n) {
		if i, err := strconv.ParseInt(n.Value, 10, 32); err == nil {
			d.fail(n, path, "%s: expected a whole number, got the quoted text %q; write %d without quotes", path, n.Value, i)
			return
		}
	}
	d.fail(n, path, "%s: expected a whole number, got %s", path, kindName(n))
}

func (d *decoder) duration(n *yaml.Node, path string, v reflect.Value) {
	s, ok := d.scalar(n, path, "a duration such as 15m")
	if !ok {
		return
	}
	dur, err := ParseDuration(s)
	if err != nil {
		d.fail(n, path, "%s: %v", path, err)
		return
	}
	v.Set(reflect.ValueOf(dur))
}

func (d *decoder) timestamp(n *yaml.Node, path string, v reflect.Value) {
	s, ok := d.scalar(n, path, "an RFC 3339 time such as 2026-12-04T18:00:00Z")
	if !ok {
		return
	}
	ts, err := ParseTimestamp(s)
	if err != nil {
		d.fail(n, path, "%s: %v", path, err)
		return
	}
	v.Set(reflect.ValueOf(ts))
}

func (d *decoder) sequence(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.SequenceNode {
		if n.Kind == yaml.ScalarNode && v.Type().Elem().Kind() == reflect.String {
			d.fail(n, path, "%s: expected a list, got %s; write [%s]", path, kindName(n), n.Value)
		} else {
			d.fail(n, path, "%s: expected a list, got %s", path, kindName(n))
		}
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		d.decode(item, fmt.Sprintf("%s[%d]", path, i), s.Index(i))
	}
	v.Set(s)
}

// mapping decodes a struct from a mapping node, reporting unknown and
// repeated keys.
func (d *decoder) mapping(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "%s: expected a mapping (key: value), got %s", pathName(path), kindName(n))
		return
	}
	fields := yamlpatch.Fields(v.Type())
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key, ok := d.key(k, path, seen)
		if !ok {
			continue
		}
		if topOrTenant(path) {
			if d.keys == nil {
				d.keys = map[string]*yaml.Node{}
			}
			d.keys[join(path, key)] = d.placed(k)
		}
		idx, known := fields.Index[key]
		if !known && d.ignore != nil && d.ignore(path, key) {
			continue
		}
		if !known {
			names := keysAllowedAt(path, fields.Names)
			d.fail(k, join(path, key), "unknown key %q %s; known keys: %s%s",
				key, where(path), strings.Join(names, ", "), didYouMean(key, names))
			continue
		}
		prev := d.max
		d.max = fieldBound(v.Type().Field(idx))
		d.decode(val, join(path, key), v.Field(idx))
		d.max = prev
	}
}

// key checks a mapping key: a plain string, given once.
func (d *decoder) key(k *yaml.Node, path string, seen map[string]*yaml.Node) (string, bool) {
	k = resolve(k)
	if k == nil || k.Kind != yaml.ScalarNode {
		d.fail(k, path, "%s: a key must be a plain string", pathName(path))
		return "", false
	}
	if k.ShortTag() == "!!merge" {
		d.fail(k, path, "%s: merge keys (<<) are not supported; write the keys out", pathName(path))
		return "", false
	}
	if first, dup := seen[k.Value]; dup {
		// The first value was decoded: only it is in doubt, not the
		// mapping (at the top level that would silence every other check).
		d.fail(k, join(path, k.Value), "duplicate key %q %s (first at line %d); keep one", k.Value, where(path), first.Line)
		return "", false
	}
	seen[k.Value] = k
	return k.Value, true
}

// stringMap decodes a map of strings, such as an MCP server's clients. The
// key nodes are remembered under path.key, for messages about the keys.
func (d *decoder) stringMap(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "%s: expected a mapping (key: value), got %s", path, kindName(n))
		return
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], resolve(n.Content[i+1])
		key, ok := d.key(k, path, seen)
		if !ok {
			continue
		}
		p := join(path, key)
		d.nodes[p] = d.placed(k)
		if d.tooLong(k, p, key) {
			continue
		}
		if val == nil || val.Kind != yaml.ScalarNode || isNull(val) {
			d.fail(k, p, "%s: expected a string value, got %s", p, valueName(val))
			continue
		}
		if d.tooLong(k, p, val.Value) {
			continue
		}
		m.SetMapIndex(reflect.ValueOf(key), reflect.ValueOf(val.Value))
	}
	v.Set(m)
}

func valueName(n *yaml.Node) string {
	if n == nil || isNull(n) {
		return "nothing"
	}
	return kindName(n)
}

// anyMap decodes free-form data (user claims, a JWK Set) with yaml.v3. The
// data ends up in tokens and JSON documents, so it must be what JSON can
// hold: string keys, finite numbers. Its nodes are remembered like the
// others, for messages about a claim or a key.
func (d *decoder) anyMap(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "%s: expected a mapping (key: value), got %s", path, kindName(n))
		return
	}
	m := reflect.New(v.Type())
	if err := n.Decode(m.Interface()); err != nil {
		d.decodeError(n, path, err)
		return
	}
	if d.remember(n, path, 0); d.failedIn[path] {
		return
	}
	if p, msg := notJSON(path, m.Elem().Interface()); msg != "" {
		d.fail(d.node(p), path, "%s: %s", p, msg)
		return
	}
	v.Set(m.Elem())
}

// decodeError reports why yaml.v3 could not decode the free-form data n
// at path, at the line and with the words of the rest of the file:
// yaml.v3's own (a scalar its tag does not fit, "cannot decode !!str
// `high` as a !!int"; a key that is a list, "unmarshal errors:\n  line
// 13: cannot unmarshal !!seq into string"; a key written twice, "mapping
// key "a" already defined at line 5"; "document contains excessive
// aliasing") named no value, broke the line or said nothing to do.
func (d *decoder) decodeError(n *yaml.Node, path string, err error) {
	if strings.Contains(err.Error(), "excessive aliasing") {
		d.fail(n, path, "%s: the document is too large once its aliases (*name) are expanded; write the values out", path)
		return
	}
	var bad *yaml.Node
	badPath := path
	walkScalars(n, path, func(p string, s *yaml.Node) {
		var x any
		if bad == nil && s.Style&yaml.TaggedStyle != 0 && s.Decode(&x) != nil {
			bad, badPath = s, p
		}
	})
	if bad != nil {
		d.fail(bad, badPath, "%s: the tag %s does not fit the value %q; remove the tag, or write a value it fits", badPath, bad.Tag, bad.Value)
		return
	}
	if k, first, at := duplicateKey(n, path); k != nil {
		d.fail(k, join(at, k.Value), "duplicate key %q %s (first at line %d); keep one", k.Value, where(at), first.Line)
		return
	}
	var te *yaml.TypeError
	if errors.As(err, &te) && strings.Contains(err.Error(), "into string") {
		d.fail(n, path, "%s: a key must be a plain string", path)
		return
	}
	d.fail(n, path, "%s: %s", path, strings.ReplaceAll(strings.TrimPrefix(err.Error(), "yaml: "), "\n", " "))
}

// duplicateKey finds the first key under n written twice in one mapping:
// the second one, the first, and the path of the mapping.
func duplicateKey(n *yaml.Node, path string) (k, first *yaml.Node, at string) {
	switch n.Kind {
	case yaml.MappingNode:
		seen := map[string]*yaml.Node{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i]
			if key.Kind != yaml.ScalarNode {
				continue
			}
			if f, dup := seen[key.Value]; dup {
				return key, f, path
			}
			seen[key.Value] = key
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k, first, at := duplicateKey(n.Content[i+1], join(path, n.Content[i].Value)); k != nil {
				return k, first, at
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if k, first, at := duplicateKey(c, fmt.Sprintf("%s[%d]", path, i)); k != nil {
				return k, first, at
			}
		}
	}
	return nil, nil, ""
}

// remember records the nodes under n by path, as decode does.
func (d *decoder) remember(n *yaml.Node, path string, depth int) {
	if !d.spend(n) || depth > maxDepth {
		return
	}
	d.nodes[path] = d.placed(n)
	if n.Kind == yaml.AliasNode {
		d.aliased = true
	}
	n = resolve(n)
	if n == nil || d.tagged(n, path) {
		return
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if msg := sentOtherwise(n); msg != "" {
			d.fail(n, path, "%s: %s", path, msg)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := resolve(n.Content[i])
			if k != nil && isNull(k) && k.Style&yaml.TaggedStyle == 0 {
				d.fail(k, path, "%s: a null key (%s) names nothing; quote it (\"%s\") if it is the name, or leave the entry out", path, k.Value, k.Value)
				continue
			}
			// The keys of the claims (or jwks) themselves are read as
			// their text; a mapping inside takes a key YAML reads as a
			// number, a boolean or a date for that value, which JSON
			// cannot have as a name: the key to quote is the text.
			if depth > 0 && k != nil && k.Kind == yaml.ScalarNode && k.Style&yaml.TaggedStyle == 0 && k.ShortTag() != "!!str" && k.ShortTag() != "!!merge" {
				d.fail(k, path, "%s: the key %s is not a string to YAML; quote it (%q) to name it so", path, k.Value, k.Value)
				continue
			}
			if k != nil && k.Kind == yaml.ScalarNode {
				d.remember(n.Content[i+1], join(path, k.Value), depth+1)
			}
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			d.remember(item, fmt.Sprintf("%s[%d]", path, i), depth+1)
		}
	}
}

// leadingZero matches a whole number that YAML 1.1, as yaml.v3 reads
// it, takes as octal: 0123 is 83.
var leadingZero = regexp.MustCompile(`^[-+]?0[0-9_]+$`)

// yamlFloat matches a number as yaml.v3 reads a plain float (YAML 1.1).
var yamlFloat = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)

// wholeNumber matches a number written as digits alone.
var wholeNumber = regexp.MustCompile(`^[-+]?[0-9_]+$`)

// sentOtherwise says how a plain scalar of free-form data (claims, jwks)
// would be sent other than as written, "" when it would not: YAML reads
// 2024-01-15 as a date (sent as "2024-01-15T00:00:00Z"), 0123 as the
// octal 83, +15555550100 as the number 15555550100, and a whole number
// too large for 64 bits as a float (1e+23).
// Quoted, each is the text as written.
//
// Any other plain number is sent as written or refused: JSON holds a
// number as the text it is sent as, so a number YAML reads is fine only
// when that text is what the file says. YAML 1.1, as yaml.v3 reads it,
// takes 0x1f, 0o17, 0b101 and 1_000 for numbers that a YAML 1.2 or JSON
// reader reads otherwise or not at all; 1.10 (a version) would go out as
// 1.1, 1e3 as 1000, a commit id such as 1234e56 as 1.234e+59; .inf and
// .nan are no JSON at all.
func sentOtherwise(n *yaml.Node) string {
	if n.Style&(yaml.TaggedStyle|yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return ""
	}
	var v any
	switch n.ShortTag() {
	case "!!timestamp":
		if n.Decode(&v) != nil {
			return ""
		}
		sent, _ := json.Marshal(v)
		return fmt.Sprintf("%s reads as a date, sent as %s; quote it (%q) to send the text", n.Value, sent, n.Value)
	case "!!int":
		if leadingZero.MatchString(n.Value) && n.Decode(&v) == nil {
			if x, ok := v.(int); ok {
				return fmt.Sprintf("%s reads as the octal number %d; quote it (%q) to send the text, or write %d", n.Value, x, n.Value, x)
			}
		}
		// +15555550100, an E.164 phone_number (a string claim), would
		// go out as the number 15555550100.
		if strings.HasPrefix(n.Value, "+") && n.Decode(&v) == nil {
			if x, ok := v.(int); ok {
				return fmt.Sprintf("%s reads as the number %d, sent without its +; quote it (%q) to send the text, or write %d", n.Value, x, n.Value, x)
			}
		}
	case "!!float":
		// Digits alone: a whole number too large for 64 bits, which YAML
		// reads as the nearest float.
		if wholeNumber.MatchString(n.Value) && n.Decode(&v) == nil {
			if x, ok := v.(float64); ok {
				return fmt.Sprintf("%s is a whole number too large to hold exactly (sent as %v); quote it (%q) to send the text", n.Value, x, n.Value)
			}
		}
	case "!!str":
		// A number beyond a float: yaml.v3 reads 1e400 as the text, which
		// JSON and YAML 1.2 read as a number.
		if yamlFloat.MatchString(n.Value) {
			if _, err := strconv.ParseFloat(n.Value, 64); errors.Is(err, strconv.ErrRange) {
				return fmt.Sprintf("%s is a number beyond what a float holds (YAML reads it as the text %q); quote it (%q) to send the text", n.Value, n.Value, n.Value)
			}
		}
		return ""
	default:
		return ""
	}
	if n.Decode(&v) != nil {
		return ""
	}
	if f, ok := v.(float64); ok && f == 0 {
		v = 0.0 // -0 (-1e-400) is 0, which is what to write
	}
	sent, err := json.Marshal(v)
	switch {
	case err != nil: // NaN, an infinity
		return fmt.Sprintf("%s reads as the number %v, which JSON cannot hold; quote it (%q) to send the text", n.Value, v, n.Value)
	case string(sent) != n.Value && tooLarge(string(sent)):
		// Its digits would be refused in turn (1e+21 and beyond are sent
		// as written).
		return fmt.Sprintf("%s reads as the number %s, a whole number too large to hold exactly; quote it (%q) to send the text, or (%q) to send the digits", n.Value, sent, n.Value, sent)
	case string(sent) != n.Value:
		return fmt.Sprintf("%s reads as the number %s; quote it (%q) to send the text, or write %s", n.Value, sent, n.Value, sent)
	}
	return ""
}

// tooLarge reports whether s is a whole number written as digits that
// YAML reads as a float, beyond both int64 and uint64: sentOtherwise
// refuses it.
func tooLarge(s string) bool {
	if !wholeNumber.MatchString(s) {
		return false
	}
	_, errInt := strconv.ParseInt(s, 10, 64)
	_, errUint := strconv.ParseUint(s, 10, 64)
	return errInt != nil && errUint != nil
}

// maxDepth bounds the nesting of free-form data: claims and keys are flat
// in practice, and deeper data only costs time.
const maxDepth = 32

// notJSON finds the first value under v that JSON cannot represent, and
// returns its path and what is wrong with it ("" when all is well).
func notJSON(path string, v any) (string, string) {
	if p, msg := notJSONAt(path, v, 0); msg != "" {
		return p, msg
	}
	if _, err := json.Marshal(v); err != nil {
		return path, fmt.Sprintf("cannot be written as JSON: %v", err)
	}
	return "", ""
}

func notJSONAt(path string, v any, depth int) (string, string) {
	if depth > maxDepth {
		return path, fmt.Sprintf("nested more than %d levels deep; flatten it", maxDepth)
	}
	switch x := v.(type) {
	case nil:
		// OpenID Connect Core 5.3.2: a claim without a value is left out,
		// not sent as null; and the admin API, which shows claims and
		// keys, takes no null back (docs/http.md, "Changing the configuration").
		return path, "null (~, or nothing after the colon) is not a value; leave it out or give it a value"
	case map[string]any:
		for _, k := range sortedKeys(x) {
			if p, msg := notJSONAt(join(path, k), x[k], depth+1); msg != "" {
				return p, msg
			}
		}
	case map[any]any:
		for k := range x {
			if _, ok := k.(string); !ok {
				return path, fmt.Sprintf("key %v is not a string; quote it (\"%v\")", k, k)
			}
		}
	case []any:
		for i, item := range x {
			if p, msg := notJSONAt(fmt.Sprintf("%s[%d]", path, i), item, depth+1); msg != "" {
				return p, msg
			}
		}
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return path, fmt.Sprintf("%v is not a number JSON can hold; quote it if it is text", x)
		}
	}
	return "", ""
}

// join appends a key to a path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// pathName names a path at the start of a message; the root has no path.
func pathName(path string) string {
	if path == "" {
		return "the configuration"
	}
	return path
}

// keysAllowedAt leaves out of names, a mapping's keys, those that its
// place refuses: the top level of a file and a tenant entry share one
// schema (Config), but id and path belong to a tenant only, and issuer and
// tenants to the top level only (validate_tenants.go). A typo's hint
// offers only keys that may stand where it is.
func keysAllowedAt(path string, names []string) []string {
	var drop []string
	switch {
	case path == "":
		drop = []string{"id", "path"}
	case isTenantPath(path):
		drop = []string{"issuer", "tenants"}
	default:
		return names
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		if !slices.Contains(drop, n) {
			out = append(out, n)
		}
	}
	return out
}

// isTenantPath reports whether path names one entry of the top-level
// tenants list: tenants[N].
func isTenantPath(path string) bool {
	rest, ok := strings.CutPrefix(path, "tenants[")
	if !ok {
		return false
	}
	digits, ok := strings.CutSuffix(rest, "]")
	if !ok || digits == "" {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// where says where a key is: "in users[0]" or "at the top level".
func where(path string) string {
	if path == "" {
		return "at the top level"
	}
	return "in " + path
}

// didYouMean suggests the closest candidate for a misspelt name, or "".
// Long lists and long names get no suggestion: the comparison is quadratic.
func didYouMean(got string, candidates []string) string {
	if len(candidates) > 500 || len(got) > 100 {
		return ""
	}
	best, bestDist := "", 3 // farther than 2 edits is a different word, not a typo
	for _, c := range candidates {
		if dist := editDistance(got, c); dist < bestDist {
			best, bestDist = c, dist
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// topOrTenant reports whether path is the top level ("") or a tenant
// ("tenants[2]"): the mappings whose keys' own nodes are remembered, for
// the messages about keys not allowed there (validator.atKey). A file's
// other keys, thousands in a company's, are not.
func topOrTenant(path string) bool {
	return path == "" || (strings.HasPrefix(path, "tenants[") && strings.HasSuffix(path, "]") && !strings.Contains(path, "."))
}
