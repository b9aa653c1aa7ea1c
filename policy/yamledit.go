package policy

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"

	"gopkg.in/yaml.v3"
)

// editor changes a configuration's yaml.Node tree without touching it: every
// node on the path to a change is copied (derive), and the copies remember
// the node they came from, so that the printer (reprint.go) can keep the
// original text of everything that is still the same node.
//
// Values are merged in rather than replaced: a key whose value is unchanged
// keeps its node (and with it its text, comments included), an access entry
// equal to an existing one keeps that entry's node, and only what differs
// gets a new node, styled like its siblings (flow or block, quoting).
type editor struct {
	origin map[*yaml.Node]*yaml.Node // derived copy -> the original node
}

func newEditor() *editor { return &editor{origin: map[*yaml.Node]*yaml.Node{}} }

// derive returns a shallow copy of n, with its own Content slice, that the
// printer knows to be an edited version of n.
func (e *editor) derive(n *yaml.Node) *yaml.Node {
	c := *n
	c.Content = append([]*yaml.Node(nil), n.Content...)
	e.origin[&c] = n
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

// list returns the sequence under a top-level key of root (a derived root
// mapping) as a derived node that the caller may change, creating the key,
// at its place in the contract's order, when it is missing or empty.
func (e *editor) list(root *yaml.Node, key string) (*yaml.Node, error) {
	if i := pairIndex(root, key); i >= 0 {
		v := root.Content[i+1]
		switch {
		case v.Kind == yaml.SequenceNode:
			d := e.derive(v)
			root.Content[i+1] = d
			return d, nil
		case isNull(v):
			d := &yaml.Node{Kind: yaml.SequenceNode}
			root.Content[i+1] = d
			return d, nil
		}
		return nil, fmt.Errorf("%s is written with an alias (*name); write the list out to edit it", key)
	}
	seq := &yaml.Node{Kind: yaml.SequenceNode}
	insertPair(root, yamlFields(reflect.TypeOf(Config{})), key, seq)
	return seq, nil
}

// insertPair adds key: value to mapping m after the last key that comes
// before it in the struct's field order, so that a new key lands where the
// documentation would put it.
func insertPair(m *yaml.Node, fields fieldSet, key string, value *yaml.Node) {
	want := fields.index[key]
	at := 0
	for i := 0; i+1 < len(m.Content); i += 2 {
		if idx, ok := fields.index[resolve(m.Content[i]).Value]; ok && idx < want {
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
func (e *editor) merge(orig *yaml.Node, v reflect.Value, like []*yaml.Node) *yaml.Node {
	if orig == nil || orig.Kind != yaml.MappingNode {
		if orig != nil {
			like = append([]*yaml.Node{orig}, like...)
		}
		return e.build(v, like)
	}
	n := e.derive(orig)
	fields := yamlFields(v.Type())
	present := map[int]bool{}
	var content []*yaml.Node
	for i := 0; i+1 < len(orig.Content); i += 2 {
		k, ov := orig.Content[i], orig.Content[i+1]
		name := resolve(k).Value
		idx, known := fields.index[name]
		if !known {
			content = append(content, k, ov) // Parse refuses unknown keys; kept for safety
			continue
		}
		present[idx] = true
		fv := v.Field(idx)
		switch {
		case sameAs(ov, fv): // "disabled: false" stays, comment and all
			content = append(content, k, ov)
		case emptyValue(fv):
		case fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.Struct && ov.Kind == yaml.SequenceNode:
			content = append(content, k, e.mergeList(ov, fv))
		default:
			content = append(content, k, e.build(fv, append([]*yaml.Node{ov}, children(like, name)...)))
		}
	}
	n.Content = content
	for _, name := range fields.names {
		idx := fields.index[name]
		if present[idx] || emptyValue(v.Field(idx)) {
			continue
		}
		insertPair(n, fields, name, e.build(v.Field(idx), children(append([]*yaml.Node{orig}, like...), name)))
	}
	return n
}

// mergeList returns the sequence orig changed to hold the entries of the
// slice v: an entry equal to an existing one reuses that entry's node (in
// the new order), and the others are merged into the entry at the same
// position when it is not taken, so that a changed entry keeps the lines
// (and comments) of the keys that did not change.
func (e *editor) mergeList(orig *yaml.Node, v reflect.Value) *yaml.Node {
	n := e.derive(orig)
	used := make([]bool, len(orig.Content))
	items := make([]*yaml.Node, v.Len())
	for i := range items {
		for j, o := range orig.Content {
			if !used[j] && sameAs(o, v.Index(i)) {
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
			items[i] = e.merge(orig.Content[i], v.Index(i), orig.Content)
			continue
		}
		items[i] = e.build(v.Index(i), orig.Content)
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
// names default to flow style ([a, b]) as in the documentation, entries and
// mappings of names to block style, free-form maps (claims, jwks) to flow.
func (e *editor) build(v reflect.Value, like []*yaml.Node) *yaml.Node {
	switch {
	case v.Type() == durationType:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v.Interface().(Duration).String()}
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
			n.Content = append(n.Content, e.build(v.Index(i), siblings))
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
		fields := yamlFields(v.Type())
		for _, name := range fields.names {
			fv := v.Field(fields.index[name])
			if emptyValue(fv) {
				continue
			}
			n.Content = append(n.Content, keyNode(name), e.build(fv, children(like, name)))
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
	// Free-form maps (claims, jwks), and any type added to the
	// configuration later: yaml.v3's encoding.
	var n yaml.Node
	if err := n.Encode(v.Interface()); err != nil {
		// Values come from JSON or from Parse, both of which yaml.v3
		// encodes; should one fail, Parse refuses the edit with this.
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "cannot be written as YAML: " + err.Error()}
	}
	if n.Kind == yaml.MappingNode && flowLike(like, yaml.MappingNode, true) {
		n.Style = yaml.FlowStyle
	}
	return &n
}

// stringNode returns a string scalar; it keeps the quoting of like's first
// scalar when that was quoted (a bcrypt hash written in quotes stays in
// quotes), and otherwise lets the encoder quote only when it must.
func stringNode(s string, like []*yaml.Node) *yaml.Node {
	// Encoding marks the strings that YAML 1.1 readers would take for
	// something else ("yes", "on", "0755") to be quoted.
	n := &yaml.Node{}
	if err := n.Encode(s); err != nil || n.Kind != yaml.ScalarNode {
		n = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
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

// emptyValue reports whether v is written as nothing: a zero value, or an
// empty list or map.
func emptyValue(v reflect.Value) bool {
	if v.Kind() == reflect.Slice || v.Kind() == reflect.Map {
		return v.Len() == 0
	}
	return v.IsZero()
}

// sameAs reports whether node n, decoded as the configuration decodes it,
// equals v.
func sameAs(n *yaml.Node, v reflect.Value) bool {
	d := &decoder{nodes: map[string]*yaml.Node{}, failedAt: map[string]bool{}, failedIn: map[string]bool{}, budget: maxNodes}
	got := reflect.New(v.Type()).Elem()
	d.decode(n, "value", got)
	return len(d.problems) == 0 && sameValue(got, v)
}

// sameValue compares two values of the configuration's types, treating an
// empty list or map as equal to a missing one, and free-form data (claims,
// jwks) by its JSON form, which is how it is used.
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
