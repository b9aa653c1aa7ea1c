package web_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func TestUsers_MatrixAndEffectiveAccess(t *testing.T) {
	_, b := signedIn(t)
	resp, body := b.get("/admin/users")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d\n%s", resp.StatusCode, body)
	}
	matrix := body[strings.Index(body, `id="matrix"`):]
	matrix = matrix[:strings.Index(matrix, "</table>")]
	row := func(user string) string {
		m := regexp.MustCompile(`(?s)<tr>\s*<th scope="row"><a href="#user-` + user + `">.*?</tr>`).FindString(matrix)
		if m == "" {
			t.Fatalf("no matrix row for %s:\n%s", user, matrix)
		}
		return m
	}
	if r := row("alice"); !strings.Contains(r, `class="yes"`) || !strings.Contains(r, "issues.read issues.write") {
		t.Errorf("alice's row: %s", r)
	}
	if r := row("bob"); !strings.Contains(r, `class="no"`) || !strings.Contains(r, "not assigned") {
		t.Errorf("bob's row (with the reason in the title): %s", r)
	}
	for _, want := range []string{`id="user-alice"`, "tracker access[0]", `id="groups"`, "Builds the product", `<a class="tag" href="#user-bob"><bdi>bob</bdi></a>`} {
		if !strings.Contains(body, want) {
			t.Errorf("users page lacks %q", want)
		}
	}
}

func TestUsers_HostileDisplayNameIsText(t *testing.T) {
	_, b := signedIn(t)
	_, body := b.get("/admin/users")
	if strings.Contains(body, "<script>alert(1)</script>") {
		t.Fatal("eve's display name is rendered as HTML on the users page")
	}
	if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("eve's display name is not shown")
	}
}

func TestExplain_AnswersWithRuleAndReason(t *testing.T) {
	_, b := signedIn(t)
	_, body := b.get("/admin/explain?user=alice&client=mcp-client&server=tracker&scope=issues.read")
	for _, want := range []string{`id="decision"`, "Allowed", "tracker access[0]", "mcp-client-at-tracker"} {
		if !strings.Contains(body, want) {
			t.Errorf("alice's explanation lacks %q", want)
		}
	}
	_, body = b.get("/admin/explain?user=bob&client=mcp-client&server=tracker")
	for _, want := range []string{"Refused", "access_denied", "user bob is not assigned", "The client is told"} {
		if !strings.Contains(body, want) {
			t.Errorf("bob's explanation lacks %q", want)
		}
	}
	_, body = b.get("/admin/explain?user=alice&client=mcp-client&server=tracker&scope=issues.delete")
	if !strings.Contains(body, "invalid_scope") {
		t.Errorf("an unknown scope is not refused:\n%s", body)
	}
}

// TestUsers_MatrixSaysNoAccessInWords: a cell of the users' matrix with
// no access says so in words that a screen reader reads ("no access"),
// not only by a dash and the absence of the allowed cells' green (WCAG
// 2.2 1.4.1, 1.1.1): the dash alone is read as "dash", or not at all.
func TestUsers_MatrixSaysNoAccessInWords(t *testing.T) {
	_, b := signedIn(t)
	_, body := b.get("/admin/users")
	cells := regexp.MustCompile(`(?s)<td class="no"[^>]*>(.*?)</td>`).FindAllStringSubmatch(body, -1)
	if len(cells) == 0 {
		t.Fatalf("no cell without access:\n%s", body)
	}
	for _, c := range cells {
		if !strings.Contains(c[1], "no access") {
			t.Errorf("a cell without access reads %q", c[1])
		}
	}
}
