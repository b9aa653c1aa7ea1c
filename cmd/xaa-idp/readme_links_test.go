package main

import (
	"fmt"
	"os"
	"path"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// docFiles are the README and the pages under docs/, by their path in the
// repository.
func docFiles(t *testing.T) []string {
	files := []string{"README.md"}
	entries, err := os.ReadDir("../../docs")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".md") {
			files = append(files, "docs/"+e.Name())
		}
	}
	return files
}

// withoutFences blanks the lines of fenced code blocks, keeping the line
// count: neither a heading nor a link inside one counts.
func withoutFences(text string) []string {
	lines := strings.Split(text, "\n")
	in := false
	for i, line := range lines {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			in = !in
			lines[i] = ""
		} else if in {
			lines[i] = ""
		}
	}
	return lines
}

// anchors returns the fragments GitHub gives the headings of a Markdown
// page: the heading's text in lower case, without the characters other
// than letters, digits, spaces, '-' and '_', spaces made '-', and a
// heading's second use of a fragment suffixed with -1, its third -2;
// and the ids of the page's explicit anchors (<a id="..."></a>, which
// GitHub serves as targets of those fragments too).
func anchors(lines []string) map[string]bool {
	heading := regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*$`)
	explicit := regexp.MustCompile(`<a id="([^"]+)"></a>`)
	seen := map[string]int{}
	out := map[string]bool{}
	for _, line := range lines {
		for _, a := range explicit.FindAllStringSubmatch(line, -1) {
			out[a[1]] = true
		}
		m := heading.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		var b strings.Builder
		for _, r := range strings.ToLower(m[1]) {
			switch {
			case unicode.IsLetter(r), unicode.IsDigit(r), r == '-', r == '_':
				b.WriteRune(r)
			case r == ' ':
				b.WriteRune('-')
			}
		}
		a := b.String()
		if n := seen[a]; n > 0 {
			out[fmt.Sprintf("%s-%d", a, n)] = true
		} else {
			out[a] = true
		}
		seen[a]++
	}
	return out
}

// TestDocs_RelativeLinksLead: every relative link of the README and of
// docs/*.md names a file of the repository and, with a fragment, a heading
// of that page, so that a newcomer who follows one lands where the text
// says.
func TestDocs_RelativeLinksLead(t *testing.T) {
	files := docFiles(t)
	pages := map[string][]string{}
	for _, f := range files {
		text, err := os.ReadFile("../../" + f)
		if err != nil {
			t.Fatal(err)
		}
		pages[f] = withoutFences(string(text))
	}
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	scheme := regexp.MustCompile(`^[a-z][a-z0-9+.-]*:`)
	checked := 0
	for _, f := range files {
		for i, line := range pages[f] {
			for _, m := range link.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if scheme.MatchString(target) {
					continue // http:, https:, mailto:
				}
				checked++
				file, frag, _ := strings.Cut(target, "#")
				to := f
				if file != "" {
					to = path.Clean(path.Join(path.Dir(f), file))
				}
				if _, err := os.Stat("../../" + to); err != nil {
					t.Errorf("%s:%d: the link %s leads to %s, which does not exist", f, i+1, target, to)
					continue
				}
				if frag == "" {
					continue
				}
				lines, ok := pages[to]
				if !ok {
					t.Errorf("%s:%d: the link %s has a fragment into %s, which is no page of the documentation", f, i+1, target, to)
					continue
				}
				if !anchors(lines)[frag] {
					t.Errorf("%s:%d: the link %s names no heading of %s", f, i+1, target, to)
				}
			}
		}
	}
	if checked < 100 {
		t.Fatalf("checked %d links; the test no longer finds them", checked)
	}
}
