package yamlpatch

import (
	"bytes"
	"errors"
	"reflect"
	"sort"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// This file turns an edited node tree back into YAML text that keeps what
// the edit did not touch byte for byte. yaml.v3 can encode a node tree with
// its comments, but it re-indents, drops blank lines and realigns
// comments. The printer splices instead: in each block mapping or sequence that an edit changed, every
// element that is still the same node keeps its original text, and only new
// or changed elements are rendered by yaml.v3, at their siblings' column.
//
// Elements are found by line: an element runs from its first line (its key,
// or the "-" of a list entry) to the line before the next element, without
// the blank lines and the comment lines at or left of its column that end
// it; those belong to the gap before the next element. A deleted element
// takes the gap before it (its blank lines and the comments above it) along.
//
// The result is checked: Bytes parses it and compares it with the edited
// tree; if the layout was too unusual for splicing, the whole document is
// encoded by yaml.v3 instead (comments kept, blank lines lost).

// printer splices one edit into one document's text.
type printer struct {
	src     []byte
	lineAt  []int // lineAt[i] is the offset where line i+1 starts; the last entry is len(src)
	origin  map[*yaml.Node]*yaml.Node
	indent  int    // the file's indentation step, for rendered nodes
	newline string // "\n", or "\r\n" for a file written with those
	layouts map[*yaml.Node]*layout
	top     *yaml.Node // the root mapping, whose leading comments are the file's
}

// layout is where the elements of a block mapping or sequence are.
type layout struct {
	col    int   // their column: of the keys, or of the "-"
	start  []int // offset of element i's key or "-"
	line   []int // line of element i's start
	end    []int // offset after element i's last line
	inline bool  // element 0 shares its line with text before it (the "- " of an enclosing entry)
	// lead is the first line of the comments right above element 0 at its
	// column, which go with it; 0 when there are none.
	lead int
}

// areaStart is where the text of the elements begins: at element 0, or at
// the comments that lead it (after their indentation).
func (p *printer) areaStart(lay *layout) int {
	if lay.lead > 0 {
		return p.lineAt[lay.lead-1] + lay.col
	}
	return lay.start[0]
}

// gap is the text between element j and the one before it (the lines of
// blank lines and comments above element j); for element 0, its leading
// comments.
func (p *printer) gap(lay *layout, j int) string {
	from := p.lineAt[lay.line[0]-1]
	switch {
	case j > 0:
		from = lay.end[j-1]
	case lay.lead > 0:
		from = p.lineAt[lay.lead-1]
	}
	return string(p.src[from:p.lineAt[lay.line[j]-1]])
}

var errLayout = errors.New("yamlpatch: a layout the printer does not splice")

// Bytes returns the text of the document as changed so far.
func (d *Doc) Bytes() ([]byte, error) {
	src, root := d.src, d.root
	if len(src) > 0 && src[len(src)-1] != '\n' {
		src = append(append([]byte(nil), src...), '\n')
	}
	p := &printer{src: src, origin: d.origin, newline: "\n", layouts: map[*yaml.Node]*layout{}}
	if bytes.Contains(src, []byte("\r\n")) {
		p.newline = "\r\n"
	}
	p.lineAt = append(p.lineAt, 0)
	for i, c := range src {
		if c == '\n' {
			p.lineAt = append(p.lineAt, i+1)
		}
	}
	orig := d.doc.Content[0]
	p.top, p.indent = orig, indentStep(orig)
	if out, err := p.document(orig, root); err == nil && sameDocument(out, root) {
		return out, nil
	}
	// The whole document through yaml.v3: correct, comments kept, but
	// blank lines and alignment are lost.
	whole := d.doc
	whole.Content = []*yaml.Node{root}
	out, err := encodeNode(&whole, p.indent)
	if err != nil {
		return nil, err
	}
	if !sameDocument(out, root) {
		if n := firstAlias(root); n != nil {
			// The change reached a value the document shares through an
			// anchor (&name) and aliases (*name): written, it would change
			// at each alias too, or lose the anchor.
			return nil, &AliasError{Line: n.Line}
		}
		return nil, errors.New("yamlpatch: the changed document cannot be written as YAML")
	}
	return out, nil
}

// AliasError is a change that the document's anchors and aliases (&name,
// *name) keep from being written: the value it changes is shared by an
// alias, or is an alias. Line is that of an alias (*name), 0 if unknown.
type AliasError struct {
	Line int
}

func (e *AliasError) Error() string {
	return "yamlpatch: the change edits a value the document shares through an anchor (&name) and an alias (*name); write the value out at each place to change one of them"
}

// firstAlias returns the first alias node under n, nil when there is none.
func firstAlias(n *yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.AliasNode {
		return n
	}
	for _, c := range n.Content {
		if a := firstAlias(c); a != nil {
			return a
		}
	}
	return nil
}

func (p *printer) document(orig, root *yaml.Node) ([]byte, error) {
	if root == orig {
		return p.src, nil
	}
	lay, err := p.layout(orig)
	if err != nil || len(root.Content) == 0 {
		return nil, errLayout
	}
	body, err := p.container(orig, root)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Write(p.src[:p.areaStart(lay)])
	b.WriteString(body)
	b.Write(p.src[lay.end[len(lay.end)-1]:])
	return b.Bytes(), nil
}

// container returns the new text of the area of orig's elements (from the
// first element's start to the last one's end) for n, an edited copy of
// orig with at least one element.
func (p *printer) container(orig, n *yaml.Node) (string, error) {
	lay, err := p.layout(orig)
	if err != nil {
		return "", err
	}
	step := 1
	if orig.Kind == yaml.MappingNode {
		step = 2
	}
	index := map[*yaml.Node]int{} // element (key or entry) -> its index in orig
	for i := 0; i < len(orig.Content); i += step {
		index[orig.Content[i]] = i / step
	}
	synthetic := p.syntheticGap(lay)
	var b strings.Builder
	for pos := 0; pos*step < len(n.Content); pos++ {
		elem := n.Content[pos*step]
		j, found := index[elem]
		if !found && orig.Kind == yaml.SequenceNode {
			j, found = index[p.origin[elem]]
		}
		var body string
		if orig.Kind == yaml.MappingNode {
			body, err = p.pair(orig, lay, j, found, elem, n.Content[pos*2+1])
		} else {
			body, err = p.entry(orig, lay, j, found, elem)
		}
		if err != nil {
			return "", err
		}
		// The gap before the element: its own (blank lines, comments
		// above it) when it has one, else as many blank lines as its
		// siblings have; none at the front, where the text continues after
		// the indentation of the first element (or its comments).
		switch {
		case pos == 0 && found && !lay.inline:
			b.WriteString(gapAtStart(p.gap(lay, j), lay.col))
		case pos == 0:
		case found && j > 0:
			b.WriteString(p.gap(lay, j))
			b.WriteString(strings.Repeat(" ", lay.col))
		case found:
			b.WriteString(synthetic)
			b.WriteString(p.gap(lay, 0))
			b.WriteString(strings.Repeat(" ", lay.col))
		default:
			b.WriteString(synthetic)
			b.WriteString(strings.Repeat(" ", lay.col))
		}
		b.WriteString(body)
	}
	return b.String(), nil
}

// pair returns the text of the mapping entry k: v, which is orig's entry j
// when found.
func (p *printer) pair(orig *yaml.Node, lay *layout, j int, found bool, k, v *yaml.Node) (string, error) {
	if !found {
		return p.render(k, v, lay.col)
	}
	ov := orig.Content[2*j+1]
	switch {
	case v == ov:
		return string(p.src[lay.start[j]:lay.end[j]]), nil
	case p.origin[v] == ov && isBlock(ov) && len(v.Content) > 0:
		if s, err := p.within(ov, v, lay.start[j], lay.end[j]); err == nil {
			return s, nil
		}
	}
	return p.render(k, v, lay.col)
}

// entry returns the text of the list entry elem, which is (or was edited
// from) orig's entry j when found.
func (p *printer) entry(orig *yaml.Node, lay *layout, j int, found bool, elem *yaml.Node) (string, error) {
	if !found {
		return p.render(nil, elem, lay.col)
	}
	oe := orig.Content[j]
	if elem == oe {
		return string(p.src[lay.start[j]:lay.end[j]]), nil
	}
	if p.origin[elem] == oe && oe.Kind == yaml.MappingNode && isBlock(oe) && len(elem.Content) > 0 {
		if s, err := p.within(oe, elem, lay.start[j], lay.end[j]); err == nil {
			return s, nil
		}
	}
	return p.render(nil, elem, lay.col)
}

// within returns the text from..to of an element whose value, the block
// collection orig, was edited into n: the element's text with the area of
// orig's elements replaced.
func (p *printer) within(orig, n *yaml.Node, from, to int) (string, error) {
	inner, err := p.layout(orig)
	if err != nil {
		return "", err
	}
	areaFrom, areaTo := p.areaStart(inner), inner.end[len(inner.end)-1]
	if areaFrom < from || areaTo > to {
		return "", errLayout
	}
	body, err := p.container(orig, n)
	if err != nil {
		return "", err
	}
	return string(p.src[from:areaFrom]) + body + string(p.src[areaTo:to]), nil
}

// gapAtStart returns the comment lines of a gap for an element that moves
// to the front, where the text continues after the first element's
// indentation: the first comment loses its own indentation, and the element
// gets it back after the comments.
func gapAtStart(gap string, col int) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(gap, "\n") {
		if t := strings.TrimSpace(line); strings.HasPrefix(t, "#") {
			if b.Len() == 0 {
				line = strings.TrimLeft(line, " ")
			}
			b.WriteString(line)
		}
	}
	if b.Len() > 0 {
		b.WriteString(strings.Repeat(" ", col))
	}
	return b.String()
}

// syntheticGap is what separates a new element from the one before it: as
// many blank lines as separate the last two existing elements.
func (p *printer) syntheticGap(lay *layout) string {
	n := len(lay.start)
	if n < 2 {
		return ""
	}
	var b strings.Builder
	for l := p.lineOf(lay.end[n-2]); l < lay.line[n-1]; l++ {
		if p.kind(l) == blankLine {
			b.WriteString(p.newline)
		}
	}
	return b.String()
}

func isBlock(n *yaml.Node) bool {
	return (n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode) && n.Style&yaml.FlowStyle == 0
}

// render returns a new element rendered by yaml.v3 at column col: the
// mapping entry k: v, or the list entry v when k is nil. The first line is
// not indented (the caller writes the indentation), the others are.
func (p *printer) render(k, v *yaml.Node, col int) (string, error) {
	v = withoutComments(v)
	var out []byte
	var err error
	if k != nil {
		kc := *k
		kc.HeadComment, kc.FootComment = "", ""
		out, err = encodeNode(&yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{&kc, v}}, p.indent)
	} else {
		// An entry renders as it would under a key, then moves left.
		out, err = encodeNode(&yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{keyNode("x"), {Kind: yaml.SequenceNode, Content: []*yaml.Node{v}}}}, p.indent)
		if err == nil {
			_, rest, _ := bytes.Cut(out, []byte("\n"))
			out = dedent(rest, p.indent)
		}
	}
	if err != nil {
		return "", err
	}
	lines := strings.SplitAfter(string(out), "\n")
	var b strings.Builder
	pad := strings.Repeat(" ", col)
	for i, line := range lines {
		if line == "" {
			continue
		}
		if i > 0 && strings.TrimSpace(line) != "" {
			b.WriteString(pad)
		}
		b.WriteString(strings.TrimSuffix(line, "\n"))
		if strings.HasSuffix(line, "\n") {
			b.WriteString(p.newline)
		}
	}
	return b.String(), nil
}

// dedent removes n spaces from the start of every line that has them.
func dedent(b []byte, n int) []byte {
	pad := strings.Repeat(" ", n)
	var out strings.Builder
	for _, line := range strings.SplitAfter(string(b), "\n") {
		out.WriteString(strings.TrimPrefix(line, pad))
	}
	return []byte(out.String())
}

// withoutComments copies n without head and foot comments, which live in
// the text around an element (kept there) and would otherwise appear twice.
// Line comments stay: they are on the element's own lines.
func withoutComments(n *yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	c := *n
	c.HeadComment, c.FootComment = "", ""
	if len(n.Content) > 0 {
		c.Content = make([]*yaml.Node, len(n.Content))
		for i, child := range n.Content {
			c.Content[i] = withoutComments(child)
		}
	}
	return &c
}

func encodeNode(n *yaml.Node, indent int) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(indent)
	if err := enc.Encode(n); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// sameDocument reports whether text parses to the same data as root.
func sameDocument(text []byte, root *yaml.Node) bool {
	var got, want any
	if err := yaml.Unmarshal(text, &got); err != nil {
		return false
	}
	if err := root.Decode(&want); err != nil {
		return false
	}
	return reflect.DeepEqual(got, want)
}

// indentStep guesses the file's indentation step from the first nested
// block mapping, or list under a key written indented; 2 when there is none.
func indentStep(root *yaml.Node) int {
	queue := []*yaml.Node{root}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if n.Kind == yaml.MappingNode && n.Style&yaml.FlowStyle == 0 {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if isBlock(v) && v.Line > k.Line && v.Column > k.Column {
					if d := v.Column - k.Column; d >= 2 && d <= 8 {
						return d
					}
				}
			}
		}
		queue = append(queue, n.Content...)
	}
	return 2
}

type lineKind int

const (
	blankLine lineKind = iota
	commentLine
	contentLine
)

// text returns line l (1-based) without its line break.
func (p *printer) text(l int) []byte {
	line := p.src[p.lineAt[l-1]:p.lineAt[l]]
	return bytes.TrimRight(line, "\r\n")
}

func (p *printer) lines() int { return len(p.lineAt) - 1 }

// lineOf returns the line that starts at or contains offset off.
func (p *printer) lineOf(off int) int {
	return sort.Search(len(p.lineAt), func(i int) bool { return p.lineAt[i] > off })
}

// indentOf returns the number of spaces that start line l.
func (p *printer) indentOf(l int) int {
	t := p.text(l)
	return len(t) - len(bytes.TrimLeft(t, " "))
}

func (p *printer) kind(l int) lineKind {
	t := bytes.TrimSpace(p.text(l))
	switch {
	case len(t) == 0:
		return blankLine
	case t[0] == '#':
		return commentLine
	}
	return contentLine
}

// offset returns the byte offset of the 1-based line and rune column that
// yaml.v3 reports.
func (p *printer) offset(line, col int) (int, bool) {
	if line < 1 || line > p.lines() {
		return 0, false
	}
	off := p.lineAt[line-1]
	end := p.lineAt[line]
	for c := 1; c < col; c++ {
		if off >= end {
			return 0, false
		}
		_, size := utf8.DecodeRune(p.src[off:end])
		off += size
	}
	return off, true
}

// layout finds the elements of a block mapping or sequence in the text.
func (p *printer) layout(n *yaml.Node) (*layout, error) {
	if l, ok := p.layouts[n]; ok {
		return l, nil
	}
	if !isBlock(n) || len(n.Content) == 0 {
		return nil, errLayout
	}
	lay := &layout{}
	if n.Kind == yaml.MappingNode {
		for i := 0; i < len(n.Content); i += 2 {
			k := n.Content[i]
			off, ok := p.offset(k.Line, k.Column)
			if !ok {
				return nil, errLayout
			}
			lay.start = append(lay.start, off)
			lay.line = append(lay.line, k.Line)
		}
	} else {
		for i, item := range n.Content {
			// The first entry's "-" is where the sequence starts; the
			// others' are found above the entries' values.
			line := n.Line
			if i > 0 {
				if line = p.dashLine(item.Line, n.Column-1, lay.line[i-1]); line == 0 {
					return nil, errLayout
				}
			}
			off, ok := p.offset(line, n.Column)
			if !ok || p.src[off] != '-' {
				return nil, errLayout
			}
			lay.start = append(lay.start, off)
			lay.line = append(lay.line, line)
		}
	}
	// Every element starts at the same column, on its own line after
	// spaces, except that the first may follow "- ".
	for i, off := range lay.start {
		prefix := p.src[p.lineAt[lay.line[i]-1]:off]
		spaces := len(bytes.TrimLeft(prefix, " ")) == 0
		switch {
		case i == 0 && !spaces:
			if bytes.ContainsFunc(prefix, func(r rune) bool { return r != ' ' && r != '-' }) {
				return nil, errLayout
			}
			lay.inline = true
			lay.col = len(prefix)
		case i == 0:
			lay.col = len(prefix)
		case !spaces || len(prefix) != lay.col || lay.line[i] <= lay.line[i-1]:
			return nil, errLayout
		}
	}
	if !lay.inline && n != p.top {
		for l := lay.line[0] - 1; l >= 1 && p.kind(l) == commentLine && p.indentOf(l) == lay.col; l-- {
			lay.lead = l
		}
	}
	for i := range lay.start {
		last := p.lines()
		if i+1 < len(lay.start) {
			last = lay.line[i+1] - 1
		} else {
			for l := lay.line[i] + 1; l <= p.lines(); l++ {
				if p.kind(l) != contentLine {
					continue
				}
				ind := p.indentOf(l)
				t := p.text(l)
				if ind < lay.col || ind == lay.col && t[ind] != '-' || bytes.HasPrefix(t, []byte("---")) || bytes.HasPrefix(t, []byte("...")) {
					last = l - 1
					break
				}
			}
		}
		for last > lay.line[i] && (p.kind(last) == blankLine || p.kind(last) == commentLine && p.indentOf(last) <= lay.col) {
			last--
		}
		lay.end = append(lay.end, p.lineAt[last])
	}
	p.layouts[n] = lay
	return lay, nil
}

// dashLine finds the line of a list entry's "-" at column col (0-based), at
// or above the entry's first line and below the previous entry's.
func (p *printer) dashLine(from, col, prev int) int {
	for l := from; l > prev; l-- {
		t := p.text(l)
		if p.indentOf(l) == col && len(t) > col && t[col] == '-' {
			return l
		}
		if l < from && p.kind(l) == contentLine {
			return 0
		}
	}
	return 0
}
