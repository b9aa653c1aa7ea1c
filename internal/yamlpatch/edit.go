// Package yamlpatch changes a YAML document through its yaml.Node tree and
// prints it back keeping the text of everything the change did not touch,
// byte for byte: comments, blank lines, quoting, alignment. yaml.v3 alone
// would re-indent the whole document, drop its blank lines and realign its
// comments, so that a file written back by a program differs on every line.
//
// The document's top level is a mapping laid out like a Go struct type (its
// schema: fields with yaml tags), and changes put or delete entries of its
// lists, given as Go values of the schema's types. The package knows
// nothing else of what the document means: how a node decodes into a value
// is the caller's Decoder.
package yamlpatch

import (
	"cmp"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// A Decoder stores the value of node n into v, a settable value of one of
// the schema's types, as the document's reader decodes it, and reports
// whether it could. The editor uses it to recognise the values that a
// change left as they were, whose nodes (and text) it keeps.
type Decoder func(n *yaml.Node, v reflect.Value) bool

// Doc is a change of one document in progress. Its methods change a copy
// of the node tree, never the original: every node on the path to a change
// is copied (derive), and the copies remember the node they came from, so
// that the printer (reprint.go) keeps the original text of everything that
// is still the same node.
//
// Values are merged in rather than replaced: a key whose value is unchanged
// keeps its node (and with it its text, comments included), a list entry
// equal to an existing one keeps that entry's node, and only what differs
// gets a new node, styled like its siblings (flow or block, quoting).
type Doc struct {
	src    []byte
	doc    yaml.Node  // the document as parsed
	root   *yaml.Node // the derived root mapping that changes edit
	schema reflect.Type
	decode Decoder
	origin map[*yaml.Node]*yaml.Node // derived copy -> the original node
}

// Edit starts a change of src, one YAML document whose top level is a
// mapping laid out like schema, a struct type.
func Edit(src []byte, schema reflect.Type, decode Decoder) (*Doc, error) {
	d := &Doc{src: src, schema: schema, decode: decode, origin: map[*yaml.Node]*yaml.Node{}}
	if err := yaml.Unmarshal(src, &d.doc); err != nil {
		return nil, fmt.Errorf("yamlpatch: %w", err)
	}
	if len(d.doc.Content) != 1 || d.doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("yamlpatch: the document is not a mapping")
	}
	d.root = d.derive(d.doc.Content[0])
	return d, nil
}

// Root returns the root mapping as changed so far. The caller must not
// change it.
func (d *Doc) Root() *yaml.Node { return d.root }

// Entry returns the node of entry i of the list under the top-level key,
// or nil when there is none.
func (d *Doc) Entry(key string, i int) *yaml.Node {
	if j := pairIndex(d.root, key); j >= 0 && i >= 0 {
		if seq := d.root.Content[j+1]; seq.Kind == yaml.SequenceNode && i < len(seq.Content) {
			return seq.Content[i]
		}
	}
	return nil
}

// Put replaces entry i of the list under the top-level key with v, merged
// into the existing entry, or appends v, styled like the other entries,
// when i < 0. The key is added, at its place in the schema's field order,
// when the document does not have it.
func (d *Doc) Put(key string, i int, v any) error {
	seq, err := d.list(key)
	if err != nil {
		return err
	}
	if i >= 0 {
		if i >= len(seq.Content) {
			return fmt.Errorf("yamlpatch: %s[%d] is not in the document", key, i)
		}
		seq.Content[i] = d.merge(seq.Content[i], reflect.ValueOf(v), styleSiblings(seq.Content))
		return nil
	}
	seq.Content = append(seq.Content, d.build(reflect.ValueOf(v), styleSiblings(seq.Content)))
	return nil
}

// maxStyleSiblings is how many entries of a list Put styles new nodes
// like: the first ones, as the file's author wrote them. Every entry
// would make a Put cost as much as the list is long, and a batch of Puts
// (a SCIM PATCH adding 1,000 users to a group) the square of that.
const maxStyleSiblings = 16

// styleSiblings are the entries of list whose style Put's new nodes copy.
func styleSiblings(list []*yaml.Node) []*yaml.Node {
	return list[:min(len(list), maxStyleSiblings)]
}

// Delete removes entry i of the list under the top-level key, with the
// comments above it.
func (d *Doc) Delete(key string, i int) error {
	seq, err := d.list(key)
	if err != nil {
		return err
	}
	if i < 0 || i >= len(seq.Content) {
		return fmt.Errorf("yamlpatch: %s[%d] is not in the document", key, i)
	}
	// In place: list returned a node of this Doc's, whose Content is
	// its own (derive copied it, once for the edit), never the parsed
	// document's. Copying it again here made a batch of Deletes cost
	// deletes x entries.
	seq.Content = slices.Delete(seq.Content, i, i+1)
	return nil
}

// HasKey reports whether the mapping node m has the key.
func HasKey(m *yaml.Node, key string) bool {
	m = resolve(m)
	return m != nil && m.Kind == yaml.MappingNode && pairIndex(m, key) >= 0
}

// derive returns a shallow copy of n, with its own Content slice, that the
// printer knows to be an edited version of n, or of the node n was derived
// from when an earlier change of the same Doc made n.
func (d *Doc) derive(n *yaml.Node) *yaml.Node {
	c := *n
	c.Content = append([]*yaml.Node(nil), n.Content...)
	if o, ok := d.origin[n]; ok {
		n = o
	}
	d.origin[&c] = n
	return &c
}

// pairIndex returns the index in m.Content of the key named key, or -1.
func pairIndex(m *yaml.Node, key string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := resolve(m.Content[i]); k != nil && k.Value == key {
			return i
		}
	}
	return -1
}

// resolve follows aliases to the node they stand for.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// list returns the sequence under a top-level key as a derived node that
// the caller may change, creating the key, at its place in the schema's
// field order, when it is missing or empty.
func (d *Doc) list(key string) (*yaml.Node, error) {
	if i := pairIndex(d.root, key); i >= 0 {
		v := d.root.Content[i+1]
		switch {
		case v.Kind == yaml.SequenceNode:
			if _, derived := d.origin[v]; derived {
				// An earlier change of this Doc's made it: it is this
				// Doc's to change. Deriving it again would copy every
				// entry at each Put of a batch.
				return v, nil
			}
			c := d.derive(v)
			d.root.Content[i+1] = c
			return c, nil
		case isNull(v):
			c := &yaml.Node{Kind: yaml.SequenceNode}
			d.root.Content[i+1] = c
			return c, nil
		}
		return nil, &AliasError{Line: v.Line}
	}
	seq := &yaml.Node{Kind: yaml.SequenceNode}
	insertPair(d.root, Fields(d.schema), key, seq)
	return seq, nil
}

// FieldSet lists a struct type's YAML keys in declaration order, and
// the field index of each.
type FieldSet struct {
	Names []string
	Index map[string]int
}

var fieldSets sync.Map // reflect.Type -> FieldSet

// Fields reads a struct type's keys from its yaml tags, as yaml.v3 does
// (computed once per type): what the editor and the policy's strict
// decoder both go by.
func Fields(t reflect.Type) FieldSet {
	if fs, ok := fieldSets.Load(t); ok {
		return fs.(FieldSet)
	}
	fs := FieldSet{Index: map[string]int{}}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		fs.Names = append(fs.Names, name)
		fs.Index[name] = i
	}
	fieldSets.Store(t, fs)
	return fs
}

// insertPair adds key: value to mapping m after the last key that comes
// before it in the struct's field order, so that a new key lands where the
// documentation would put it.
func insertPair(m *yaml.Node, fields FieldSet, key string, value *yaml.Node) {
	want := fields.Index[key]
	at := 0
	for i := 0; i+1 < len(m.Content); i += 2 {
		if idx, ok := fields.Index[resolve(m.Content[i]).Value]; ok && idx < want {
			at = i + 2
		}
	}
	pair := []*yaml.Node{keyNode(key), value}
	m.Content = append(m.Content[:at], append(pair, m.Content[at:]...)...)
}

func keyNode(name string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: name}
}

// merge returns orig (a mapping node) changed to hold the struct v: keys
// whose values are unchanged keep their nodes, changed values get new nodes
// (lists of entries are merged entry by entry), keys whose new value is
// empty are removed, and new keys are inserted in field order. like holds
// nodes in the same role (siblings) whose style new nodes copy.
func (d *Doc) merge(orig *yaml.Node, v reflect.Value, like []*yaml.Node) *yaml.Node {
	if orig == nil || orig.Kind != yaml.MappingNode {
		if orig != nil {
			like = append([]*yaml.Node{orig}, like...)
		}
		return d.build(v, like)
	}
	n := d.derive(orig)
	fields := Fields(v.Type())
	present := map[int]bool{}
	var content []*yaml.Node
	for i := 0; i+1 < len(orig.Content); i += 2 {
		k, ov := orig.Content[i], orig.Content[i+1]
		name := resolve(k).Value
		idx, known := fields.Index[name]
		if !known {
			content = append(content, k, ov) // a key the schema does not know stays as it is
			continue
		}
		present[idx] = true
		fv := v.Field(idx)
		switch {
		case d.sameAs(ov, fv): // unchanged: its text stays, comments and all
			content = append(content, k, ov)
		case emptyValue(fv) && fv.Kind() == reflect.Slice && ov.Kind == yaml.SequenceNode && ownComments(k, ov):
			// A list emptied whose key has comments of its own (above
			// the key, on its line) stays, empty, with them: they are
			// the file's, not its entries', and would go with the key.
			content = append(content, k, &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle, LineComment: cmp.Or(ov.LineComment, k.LineComment)})
		case emptyValue(fv):
		case fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.Struct && ov.Kind == yaml.SequenceNode:
			content = append(content, k, d.mergeList(ov, fv))
		default:
			content = append(content, k, d.build(fv, append([]*yaml.Node{ov}, children(like, name)...)))
		}
	}
	n.Content = content
	for _, name := range fields.Names {
		idx := fields.Index[name]
		if present[idx] || emptyValue(v.Field(idx)) {
			continue
		}
		insertPair(n, fields, name, d.build(v.Field(idx), children(append([]*yaml.Node{orig}, like...), name)))
	}
	return n
}

// ownComments reports whether the pair of key k and sequence v has
// comments of its own: above the key or on its line, not those of its
// entries.
func ownComments(k, v *yaml.Node) bool {
	return k.HeadComment != "" || k.LineComment != "" || v.LineComment != ""
}

// mergeList returns the sequence orig changed to hold the entries of the
// slice v: an entry equal to an existing one reuses that entry's node (in
// the new order), and the others are merged into the entry at the same
// position when it is not taken, so that a changed entry keeps the lines
// (and comments) of the keys that did not change.
func (d *Doc) mergeList(orig *yaml.Node, v reflect.Value) *yaml.Node {
	n := d.derive(orig)
	used := make([]bool, len(orig.Content))
	items := make([]*yaml.Node, v.Len())
	for i := range items {
		for j, o := range orig.Content {
			if !used[j] && d.sameAs(o, v.Index(i)) {
				items[i], used[j] = o, true
				break
			}
		}
	}
	for i := range items {
		if items[i] != nil {
			continue
		}
		if i < len(orig.Content) && !used[i] {
			used[i] = true
			items[i] = d.merge(orig.Content[i], v.Index(i), orig.Content)
			continue
		}
		items[i] = d.build(v.Index(i), orig.Content)
	}
	n.Content = items
	return n
}

// children returns the values under key in the mappings among nodes.
func children(nodes []*yaml.Node, key string) []*yaml.Node {
	var out []*yaml.Node
	for _, n := range nodes {
		if n = resolve(n); n != nil && n.Kind == yaml.MappingNode {
			if i := pairIndex(n, key); i >= 0 {
				out = append(out, n.Content[i+1])
			}
		}
	}
	return out
}

// items returns the entries of the sequences among nodes.
func items(nodes []*yaml.Node) []*yaml.Node {
	var out []*yaml.Node
	for _, n := range nodes {
		if n = resolve(n); n != nil && n.Kind == yaml.SequenceNode {
			out = append(out, n.Content...)
		}
	}
	return out
}

// flowLike reports whether new collections should be written in flow style
// ([a, b], {k: v}): like the first collection among like when there is
// one, otherwise def.
func flowLike(like []*yaml.Node, kind yaml.Kind, def bool) bool {
	for _, n := range like {
		if n = resolve(n); n != nil && n.Kind == kind {
			return n.Style&yaml.FlowStyle != 0
		}
	}
	return def
}

// build returns a new node for v, styled like the nodes in like: lists of
// strings default to flow style ([a, b]), lists of entries and mappings of
// strings to block style, free-form maps to flow.
func (d *Doc) build(v reflect.Value, like []*yaml.Node) *yaml.Node {
	switch {
	case v.Type().Implements(textMarshaler) && v.Kind() != reflect.Struct:
		// A type that writes itself as text (a duration, say), as
		// yaml.v3 would write it.
		if text, err := v.Interface().(encoding.TextMarshaler).MarshalText(); err == nil {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: string(text)}
		}
	case v.Kind() == reflect.String:
		return stringNode(v.String(), like)
	case v.Kind() == reflect.Bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(v.Bool())}
	case v.CanInt():
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: fmt.Sprint(v.Int())}
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Struct:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		if flowLike(like, yaml.SequenceNode, false) {
			n.Style = yaml.FlowStyle
		}
		siblings := items(like)
		for i := 0; i < v.Len(); i++ {
			n.Content = append(n.Content, d.build(v.Index(i), siblings))
		}
		return n
	case v.Kind() == reflect.Slice:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		if flowLike(like, yaml.SequenceNode, true) {
			n.Style = yaml.FlowStyle
		}
		siblings := items(like)
		for i := 0; i < v.Len(); i++ {
			n.Content = append(n.Content, stringNode(v.Index(i).String(), siblings))
		}
		return n
	case v.Kind() == reflect.Struct:
		n := &yaml.Node{Kind: yaml.MappingNode}
		if flowLike(like, yaml.MappingNode, false) {
			n.Style = yaml.FlowStyle
		}
		fields := Fields(v.Type())
		for _, name := range fields.Names {
			fv := v.Field(fields.Index[name])
			if emptyValue(fv) {
				continue
			}
			n.Content = append(n.Content, keyNode(name), d.build(fv, children(like, name)))
		}
		return n
	case v.Kind() == reflect.Map && v.Type().Elem().Kind() == reflect.String:
		n := &yaml.Node{Kind: yaml.MappingNode}
		if flowLike(like, yaml.MappingNode, false) {
			n.Style = yaml.FlowStyle
		}
		keys := make([]string, 0, v.Len())
		for _, k := range v.MapKeys() {
			keys = append(keys, k.String())
		}
		sort.Strings(keys)
		for _, k := range keys {
			n.Content = append(n.Content, stringNode(k, nil), stringNode(v.MapIndex(reflect.ValueOf(k)).String(), children(like, k)))
		}
		return n
	}
	// Free-form maps, and any other type: yaml.v3's encoding.
	var n yaml.Node
	if err := n.Encode(exactNumbers(v.Interface())); err != nil {
		// Values decoded from JSON or YAML encode; should one fail, the
		// reader of the changed document refuses it with this.
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "cannot be written as YAML: " + err.Error()}
	}
	if n.Kind == yaml.MappingNode && flowLike(like, yaml.MappingNode, true) {
		n.Style = yaml.FlowStyle
	}
	asJSONNumbers(&n)
	mergeAsText(&n)
	return &n
}

// mergeTag is the tag yaml.v3 gives the text "<<" when it encodes it.
const mergeTag = "!!merge"

// mergeAsText quotes each "<<" under n: yaml.v3 writes the string "<<" as
// the merge key (!!merge <<), which reads back as a merge, not as the text
// sent (a claim named "<<").
func mergeAsText(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && n.Tag == mergeTag {
		n.Tag, n.Style = "!!str", yaml.DoubleQuotedStyle
	}
	for _, c := range n.Content {
		mergeAsText(c)
	}
}

// exactNumbers returns x with each json.Number under it (a number decoded
// from JSON as its text) made one that yaml.v3 writes as that text when it
// is a whole number: yaml.v3 writes a json.Number that int64 cannot hold
// as the nearest float. One with a fraction or exponent is a float64, which
// asJSONNumbers writes as JSON does (1.0 and 1 are one number to JSON).
// A string with a line break, a key too, is made one written
// double-quoted, as stringNode writes one: yaml.v3's block forms lost "\n"
// whole, the first of "\n\n", and a leading U+2029.
func exactNumbers(x any) any {
	switch t := x.(type) {
	case string:
		if strings.ContainsAny(t, "\n\r\u0085\u2028\u2029") {
			return quotedString(t)
		}
	case json.Number:
		if !strings.ContainsAny(string(t), ".eE") {
			return wholeNumber(t)
		}
		f, err := t.Float64()
		if err != nil {
			// Beyond a float (1e400): written as sent, which the reader
			// refuses naming it; as .inf it named what no one sent.
			return plainText(t)
		}
		return f
	case map[string]any:
		// Keys of any type, for a key with a line break is quoted too.
		out := make(map[any]any, len(t))
		for k, v := range t {
			out[exactNumbers(k)] = exactNumbers(v)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, v := range t {
			out[i] = exactNumbers(v)
		}
		return out
	}
	return x
}

// quotedString is a string that yaml.v3 writes double-quoted (doubleQuoted).
type quotedString string

// MarshalYAML implements yaml.Marshaler.
func (q quotedString) MarshalYAML() (any, error) {
	return doubleQuoted(string(q)), nil
}

// doubleQuoted is the string scalar s written double-quoted, which holds
// any text.
func doubleQuoted(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s, Style: yaml.DoubleQuotedStyle}
}

// plainText is a scalar written plain as sent, untagged.
type plainText string

// MarshalYAML implements yaml.Marshaler.
func (p plainText) MarshalYAML() (any, error) {
	return &yaml.Node{Kind: yaml.ScalarNode, Value: string(p)}, nil
}

// wholeNumber is a whole number written as sent.
type wholeNumber string

// MarshalYAML implements yaml.Marshaler. One beyond 64 bits is written
// plain as a float, as a hand-written one would read: the configuration's
// reader refuses it at its line (too large to hold exactly), where an
// !!int tag yaml.v3 cannot read back made the change unwritable (a 500).
func (w wholeNumber) MarshalYAML() (any, error) {
	tag := "!!int"
	if !fits64(string(w)) {
		tag = "!!float"
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: string(w)}, nil
}

// fits64 reports whether the whole number s fits int64 or uint64, as
// yaml.v3 reads an !!int.
func fits64(s string) bool {
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return true
	}
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}

// asJSONNumbers rewrites the floats under n, as yaml.v3 wrote them, in
// the form JSON writes them, which reads back as the same number: free-form
// data (claims) reaches here from JSON, where every number is a float, and
// yaml.v3 writes 123456789 as 1.23456789e+08, 1000000 as 1e+06 and -0
// (an int to YAML) as -0. The
// reader of the document takes a number only as the text it is sent as.
func asJSONNumbers(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && n.Style == 0 && (n.ShortTag() == "!!float" || n.Value == "-0") {
		if !strings.ContainsAny(n.Value, ".eE") && !fits64(n.Value) {
			return // a wholeNumber beyond 64 bits: kept as sent, for the reader to refuse
		}
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return
		}
		if f == 0 {
			f = 0 // -0 is 0: JSON's readers, like YAML's, take -0 for 0
		}
		text, err := json.Marshal(f)
		if err != nil {
			return
		}
		n.Value, n.Tag = string(text), "!!float"
		if !strings.ContainsAny(n.Value, ".eE") && fits64(n.Value) {
			// Digits beyond 64 bits (2e19 is sent as 20000000000000000000)
			// stay a float, as wholeNumber writes them: yaml.v3 reads no
			// such !!int back (a 500), and the reader refuses them.
			n.Tag = "!!int"
		}
		return
	}
	for _, c := range n.Content {
		asJSONNumbers(c)
	}
}

// stringNode returns a string scalar; it keeps the quoting of like's first
// scalar when that was quoted (a bcrypt hash written in quotes stays in
// quotes), and otherwise lets the encoder quote only when it must.
func stringNode(s string, like []*yaml.Node) *yaml.Node {
	// Encoding marks the strings that YAML 1.1 readers would take for
	// something else ("yes", "on", "0755") to be quoted.
	n := &yaml.Node{}
	// yaml.v3 writes some multi-line strings as blocks that do not read
	// back as written: one that starts with a line break loses it (the
	// node's Value already has), one with a tab before a line break
	// cannot be written at all. Double quotes hold any string.
	if err := n.Encode(s); err != nil || n.Kind != yaml.ScalarNode || n.Value != s || n.Tag == mergeTag ||
		strings.ContainsAny(s, "\n\r") && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) == 0 && !readsBack(n, s) {
		n = doubleQuoted(s)
	}
	for _, l := range like {
		if l = resolve(l); l != nil && l.Kind == yaml.ScalarNode {
			if q := l.Style & (yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle); q != 0 && n.Style&^yaml.FlowStyle == 0 {
				n.Style = q
			}
			break
		}
	}
	return n
}

// readsBack reports whether the scalar n, written as YAML, reads back as s.
func readsBack(n *yaml.Node, s string) bool {
	doc := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: "k"}, n}}
	b, err := yaml.Marshal(doc)
	if err != nil {
		return false
	}
	var back map[string]string
	return yaml.Unmarshal(b, &back) == nil && back["k"] == s
}

// emptyValue reports whether v is written as nothing: a zero value, or an
// empty list or map.
func emptyValue(v reflect.Value) bool {
	if v.Kind() == reflect.Slice || v.Kind() == reflect.Map {
		return v.Len() == 0
	}
	return v.IsZero()
}

var textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()

// sameAs reports whether node n, decoded as the document's reader decodes
// it, equals v.
func (d *Doc) sameAs(n *yaml.Node, v reflect.Value) bool {
	got := reflect.New(v.Type()).Elem()
	return d.decode(n, got) && sameValue(got, v)
}

// sameValue compares two values of the schema's types, treating an empty
// list or map as equal to a missing one, and free-form data (map[string]any)
// by its JSON form.
func sameValue(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.Slice:
		if a.Len() != b.Len() {
			return false
		}
		for i := 0; i < a.Len(); i++ {
			if !sameValue(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Map:
		if a.Len() != b.Len() {
			return false
		}
		if a.Type().Elem().Kind() == reflect.Interface {
			ja, errA := json.Marshal(a.Interface())
			jb, errB := json.Marshal(b.Interface())
			return errA == nil && errB == nil && string(ja) == string(jb)
		}
		for _, k := range a.MapKeys() {
			bv := b.MapIndex(k)
			if !bv.IsValid() || !sameValue(a.MapIndex(k), bv) {
				return false
			}
		}
		return true
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			if a.Type().Field(i).IsExported() && !sameValue(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	}
	return a.Interface() == b.Interface()
}

// Within returns the change of the mapping in entry i of the list under
// the top-level key (such as tenants[2]), laid out like the schema too:
// its Entry, Put and Delete address that mapping's lists, and what they
// change is part of d, printed by d's Bytes. Call Bytes on d, not on the
// returned Doc.
func (d *Doc) Within(key string, i int) (*Doc, error) {
	seq, err := d.list(key)
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= len(seq.Content) {
		return nil, fmt.Errorf("yamlpatch: %s[%d] is not in the document", key, i)
	}
	if seq.Content[i].Kind == yaml.AliasNode {
		return nil, &AliasError{Line: seq.Content[i].Line}
	}
	if seq.Content[i].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("yamlpatch: %s[%d] is not a mapping written out", key, i)
	}
	m := d.derive(seq.Content[i])
	seq.Content[i] = m
	return &Doc{src: d.src, root: m, schema: d.schema, decode: d.decode, origin: d.origin}, nil
}
