package admin_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestConfigAPI_UsernameThatIsAnotherUsersEmail: the login form takes a
// user's email in place of the username, and a username wins, so a user
// named as another user's address takes that address's sign-ins: the
// other user typing it is checked against this account. The admin API
// creates the user, and says so in "warnings" (as check does), at the new
// user's line, naming the user whose address it is; a user whose own
// address is their username is not warned of.
func TestConfigAPI_UsernameThatIsAnotherUsersEmail(t *testing.T) {
	p := editable(t)
	put := func(username, body string) (*http.Response, string) {
		t.Helper()
		resp, out := p.send(t, http.MethodPut, "/admin/api/users/"+url.PathEscape(username), "alice", body, "If-Match", p.etagOf(t, "/admin/api/status"))
		return resp, string(out)
	}
	if resp, out := put("carol", `{"password":"pw","email":"carol@acme.example"}`); resp.StatusCode != http.StatusCreated || strings.Contains(out, "warnings") {
		t.Fatalf("carol: HTTP %d %s", resp.StatusCode, out)
	}
	if resp, out := put("dave@acme.example", `{"password":"pw","email":"dave@acme.example"}`); resp.StatusCode != http.StatusCreated || strings.Contains(out, "warnings") {
		t.Fatalf("dave@acme.example, whose own address it is: HTTP %d %s", resp.StatusCode, out)
	}
	for _, name := range []string{"carol@acme.example", "Carol@Acme.example"} {
		resp, out := put(name, `{"password":"pw"}`)
		want := `user ` + name + `: username \"` + name + `\" is the email of user carol`
		if resp.StatusCode != http.StatusCreated || !strings.Contains(out, want) {
			t.Errorf("%s: HTTP %d %s, want 201 with a warning %s", name, resp.StatusCode, out, want)
		}
		if resp, _ := p.send(t, http.MethodDelete, "/admin/api/users/"+url.PathEscape(name), "alice", nil, "If-Match", p.etagOf(t, "/admin/api/status")); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("DELETE %s: %d", name, resp.StatusCode)
		}
	}
}
