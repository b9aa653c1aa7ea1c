package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/access"
	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idpclient"
)

// login signs user in as mcp-client and returns its tokens.
func (p *product) login(t *testing.T, user string) idpclient.Tokens {
	t.Helper()
	tokens, err := idpclient.Login(context.Background(), idpclient.LoginOptions{
		Issuer: p.base, ClientID: "mcp-client", ClientSecret: "s1", Username: user, Password: user + "-pw",
	})
	if err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	return tokens
}

// request posts body to <issuer>/me/access-requests with the access token.
func (p *product) request(t *testing.T, accessToken, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, p.base+"/me/access-requests", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if accessToken != "" {
		req.Header.Set("Authorization", "Bearer "+accessToken)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// exchangeFiles asks for an ID-JAG for the files server with a new login:
// "" when granted, else the error code and description.
func (p *product) exchangeFiles(t *testing.T, user string) string {
	t.Helper()
	_, err := idpclient.Exchange(context.Background(), idpclient.ExchangeOptions{
		Issuer: p.base, ClientID: "mcp-client", ClientSecret: "s1", SubjectToken: p.login(t, user).IDToken(),
		Audience: "https://as.files.example", Resource: "https://mcp.files.example/mcp", Scopes: []string{"files.read"},
	})
	var e *idpclient.Error
	if errors.As(err, &e) {
		return e.Code + ": " + e.Description
	}
	if err != nil {
		t.Fatal(err)
	}
	return ""
}

func (p *product) pending(t *testing.T) []access.Request {
	t.Helper()
	resp, body := p.send(t, http.MethodGet, "/admin/api/access-requests?status=pending", "alice", nil)
	var list []access.Request
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &list) != nil {
		t.Fatalf("GET access-requests: %d %s", resp.StatusCode, body)
	}
	return list
}

// TestAccessRequest_RequestApproveExpire is the whole loop through real
// HTTP: bob asks, alice approves for 8h on the IdP's clock, bob's exchange
// is granted, and once the clock passes the expiry it is refused as
// expired.
func TestAccessRequest_RequestApproveExpire(t *testing.T) {
	p := editable(t)
	if got := p.exchangeFiles(t, "bob"); !strings.HasPrefix(got, "access_denied") {
		t.Fatalf("bob before any request: %q, want access_denied", got)
	}
	at, _ := p.login(t, "bob")["access_token"].(string)
	status, req := p.request(t, at, `{"server": "files", "scopes": ["files.read", "files.write"], "reason": "Q3 report"}`)
	id, _ := req["id"].(string)
	if status != http.StatusCreated || id == "" || req["status"] != "pending" || req["user"] != "bob" {
		t.Fatalf("request: %d %v", status, req)
	}
	if status, body := p.request(t, at, `{"server": "files"}`); status != http.StatusConflict || body["id"] != id {
		t.Errorf("a duplicate of a pending request: %d %v, want 409 naming %s", status, body, id)
	}
	if list := p.pending(t); len(list) != 1 || list[0].ID != id || list[0].Reason != "Q3 report" {
		t.Fatalf("pending: %+v", list)
	}

	approve := "/admin/api/access-requests/" + id + "/approve"
	version := p.store.Version()
	refused := []struct {
		name   string
		user   string
		body   any
		header []string
		status int
	}{
		{"by a non-admin", "bob", nil, nil, http.StatusForbidden},
		{"with a stale ETag", "alice", nil, []string{"If-Match", `"stale"`}, http.StatusPreconditionFailed},
		{"with a scope not requested", "alice", `{"scopes": ["files.admin"]}`, nil, http.StatusBadRequest},
		{"with a bad duration", "alice", `{"expires_in": "soon"}`, nil, http.StatusBadRequest},
		{"with a negative duration", "alice", `{"expires_in": "-1h"}`, nil, http.StatusBadRequest},
		{"with days but no number", "alice", `{"expires_in": "d"}`, nil, http.StatusBadRequest},
		{"with negative days", "alice", `{"expires_in": "-1d"}`, nil, http.StatusBadRequest},
		{"with a fraction of days", "alice", `{"expires_in": "1.5d"}`, nil, http.StatusBadRequest},
		{"with days then a negative rest", "alice", `{"expires_in": "1d-1h"}`, nil, http.StatusBadRequest},
		{"with too many days", "alice", `{"expires_in": "9999999d"}`, nil, http.StatusBadRequest},
		{"with an unknown key", "alice", `{"expires": "8h"}`, nil, http.StatusBadRequest},
		{"with a key twice", "alice", `{"expires_in": "8h", "expires_in": "1h"}`, nil, http.StatusBadRequest},
		{"with a null body", "alice", `null`, nil, http.StatusBadRequest},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := p.send(t, http.MethodPost, approve, tt.user, tt.body, tt.header...)
			if resp.StatusCode != tt.status || !strings.Contains(string(body), "error_description") {
				t.Errorf("%d %s, want %d with a description", resp.StatusCode, body, tt.status)
			}
			if p.store.Version() != version || len(p.pending(t)) != 1 {
				t.Error("a refused approval changed something")
			}
		})
	}

	p.srv.Clock().Freeze()
	now := p.srv.Now()
	resp, body := p.send(t, http.MethodPost, approve, "alice", `{"expires_in": "8h", "scopes": ["files.read"]}`, "If-Match", `"`+version+`"`)
	var decided access.Request
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &decided) != nil {
		t.Fatalf("approve: %d %s", resp.StatusCode, body)
	}
	wantExpiry := ceilSecond(now.Add(8 * time.Hour).UTC())
	if decided.Status != access.Approved || decided.DecidedBy != "alice" || decided.Expires == nil || !decided.Expires.Equal(wantExpiry) {
		t.Errorf("approved: %+v, want expires %v", decided, wantExpiry)
	}
	entries := p.store.Config().Server("files").Access
	if last := entries[len(entries)-1]; len(entries) != 2 || !last.Expires.T().Equal(wantExpiry) || strings.Join(last.Users, ",") != "bob" || strings.Join(last.Scopes, ",") != "files.read" {
		t.Errorf("access entries: %+v", entries)
	}
	if resp, _ := p.send(t, http.MethodPost, approve, "alice", nil); resp.StatusCode != http.StatusConflict {
		t.Errorf("approving twice: %d, want 409", resp.StatusCode)
	}
	if got := p.exchangeFiles(t, "bob"); got != "" {
		t.Fatalf("bob after the approval: %q", got)
	}

	p.srv.Clock().Advance(8*time.Hour + time.Minute)
	if got := p.exchangeFiles(t, "bob"); !strings.HasPrefix(got, "access_denied") || !strings.Contains(got, "expired") {
		t.Errorf("bob after the expiry: %q, want access_denied saying it expired", got)
	}

	changes := p.events(t, audit.TypeAdminChange)
	if len(changes) != 1 || changes[0].Admin != "alice" || changes[0].Server != "files" {
		t.Errorf("admin_change events: %+v", changes)
	}
	var outcomes []string
	for _, ev := range p.events(t, audit.TypeAccessRequest) {
		outcomes = append(outcomes, ev.Outcome)
		if ev.Details["request"] != id {
			t.Errorf("%s event without the request id: %+v", ev.Outcome, ev)
		}
	}
	// (The expired event comes from the revocation push's expiry watch,
	// which this product runs without.)
	if got := strings.Join(outcomes, " "); got != "requested approved" {
		t.Errorf("access_request outcomes: %q", got)
	}
}

// msStamp is an RFC 3339 time in UTC with milliseconds, as the audit log
// writes its events' times.
var msStamp = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

// TestAccessRequest_ApproveForDays: expires_in takes days ("1d12h", as
// well as "7d"), and the request's times are written with milliseconds,
// like the audit log's, in the approval's answer and in the list.
func TestAccessRequest_ApproveForDays(t *testing.T) {
	p := editable(t)
	at, _ := p.login(t, "bob")["access_token"].(string)
	_, req := p.request(t, at, `{"server": "files", "scopes": ["files.read"]}`)
	id, _ := req["id"].(string)
	if created, _ := req["created"].(string); !msStamp.MatchString(created) {
		t.Errorf("created %q in the request's answer, want milliseconds", created)
	}
	p.srv.Clock().Freeze()
	now := p.srv.Now()
	resp, body := p.send(t, http.MethodPost, "/admin/api/access-requests/"+id+"/approve", "alice", `{"expires_in": "1d12h"}`)
	var raw map[string]any
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &raw) != nil {
		t.Fatalf("approve for 1d12h: %d %s", resp.StatusCode, body)
	}
	for _, k := range []string{"created", "decided", "expires"} {
		if s, _ := raw[k].(string); !msStamp.MatchString(s) {
			t.Errorf("%s %q in the approval's answer, want milliseconds", k, s)
		}
	}
	want := ceilSecond(now.Add(36 * time.Hour).UTC())
	if got, _ := time.Parse(time.RFC3339, raw["expires"].(string)); !got.Equal(want) {
		t.Errorf("expires %v, want %v", raw["expires"], want)
	}
	entries := p.store.Config().Server("files").Access
	if last := entries[len(entries)-1]; !last.Expires.T().Equal(want) {
		t.Errorf("the access entry expires at %v, want %v", last.Expires.T(), want)
	}
	resp, body = p.send(t, http.MethodGet, "/admin/api/access-requests", "alice", nil)
	var list []map[string]any
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &list) != nil || len(list) != 1 {
		t.Fatalf("list: %d %s", resp.StatusCode, body)
	}
	if s, _ := list[0]["decided"].(string); !msStamp.MatchString(s) {
		t.Errorf("decided %q in the list, want milliseconds", s)
	}

	_, req = p.request(t, at, `{"server": "files", "scopes": ["files.write"]}`)
	resp, body = p.send(t, http.MethodPost, "/admin/api/access-requests/"+req["id"].(string)+"/approve", "alice", `{"expires_in": "7d"}`)
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &raw) != nil {
		t.Fatalf("approve for 7d: %d %s", resp.StatusCode, body)
	}
	if got, _ := time.Parse(time.RFC3339, raw["expires"].(string)); !got.Equal(ceilSecond(now.Add(7 * 24 * time.Hour).UTC())) {
		t.Errorf("7d: expires %v", raw["expires"])
	}
}

func TestAccessRequest_Deny(t *testing.T) {
	p := editable(t)
	at, _ := p.login(t, "bob")["access_token"].(string)
	_, req := p.request(t, at, `{"server": "files", "scopes": ["files.write"]}`)
	id, _ := req["id"].(string)
	version := p.store.Version()
	deny := "/admin/api/access-requests/" + id + "/deny"
	resp, body := p.send(t, http.MethodPost, deny, "alice", `{"reason": "use the shared drive"}`)
	var decided access.Request
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &decided) != nil || decided.Status != access.Denied || decided.DenyReason != "use the shared drive" {
		t.Fatalf("deny: %d %s", resp.StatusCode, body)
	}
	if p.store.Version() != version {
		t.Error("a denial changed the configuration")
	}
	for _, path := range []string{deny, "/admin/api/access-requests/" + id + "/approve"} {
		if resp, _ := p.send(t, http.MethodPost, path, "alice", nil); resp.StatusCode != http.StatusConflict {
			t.Errorf("POST %s after the denial: %d, want 409", path, resp.StatusCode)
		}
	}
	if resp, _ := p.send(t, http.MethodPost, "/admin/api/access-requests/ar_nope/deny", "alice", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown id: %d, want 404", resp.StatusCode)
	}
	if resp, _ := p.send(t, http.MethodGet, "/admin/api/access-requests?status=maybe", "alice", nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an unknown status: %d, want 400", resp.StatusCode)
	}
	evs := p.events(t, audit.TypeAccessRequest)
	if last := evs[len(evs)-1]; last.Outcome != audit.Denied || last.Admin != "alice" || !strings.Contains(last.Reason, "use the shared drive") {
		t.Errorf("the denial's event: %+v", last)
	}
}

func TestAccessRequest_RefusesBadRequests(t *testing.T) {
	p := editable(t)
	at, _ := p.login(t, "bob")["access_token"].(string)
	tests := []struct {
		name, token, body string
		status            int
		code              string
	}{
		{"no token", "", `{"server": "files"}`, http.StatusUnauthorized, "invalid_token"},
		{"a token that is not ours", "forged", `{"server": "files"}`, http.StatusUnauthorized, "invalid_token"},
		{"an unknown server", at, `{"server": "payroll"}`, http.StatusBadRequest, "invalid_request"},
		{"no server", at, `{"scopes": ["files.read"]}`, http.StatusBadRequest, "invalid_request"},
		{"an unknown scope", at, `{"server": "files", "scopes": ["files.admin"]}`, http.StatusBadRequest, "invalid_scope"},
		{"an unknown key", at, `{"server": "files", "why": "x"}`, http.StatusBadRequest, "invalid_request"},
		{"a key twice", at, `{"server": "files", "server": "other"}`, http.StatusBadRequest, "invalid_request"},
		{"a null value", at, `{"server": "files", "scopes": null}`, http.StatusBadRequest, "invalid_request"},
		{"a null scope", at, `{"server": "files", "scopes": [null]}`, http.StatusBadRequest, "invalid_request"},
		{"a null body", at, `null`, http.StatusBadRequest, "invalid_request"},
		{"not JSON", at, `server=files`, http.StatusBadRequest, "invalid_request"},
		{"two values", at, `{"server": "files"} {}`, http.StatusBadRequest, "invalid_request"},
		{"a reason over 1024 characters", at, `{"server": "files", "reason": "` + strings.Repeat("x", 1025) + `"}`, http.StatusBadRequest, "invalid_request"},
		// What the user sent comes back escaped where it is not printable
		// ASCII (RFC 6749 section 5.2), as at the token endpoint.
		{"an unknown server with a bidi override", at, `{"server": "fi\u202eles"}`, http.StatusBadRequest, "invalid_request"},
		{"an unknown scope with a Cyrillic a", at, `{"server": "files", "scopes": ["files.re\u0430d"]}`, http.StatusBadRequest, "invalid_scope"},
		{"an unknown scope with a bidi override", at, `{"server": "files", "scopes": ["files.read\u202e"]}`, http.StatusBadRequest, "invalid_scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := p.request(t, tt.token, tt.body)
			if status != tt.status || body["error"] != tt.code || body["error_description"] == "" {
				t.Errorf("%d %v, want %d %s with a description", status, body, tt.status, tt.code)
			}
			desc, _ := body["error_description"].(string)
			if i := strings.IndexFunc(desc, func(r rune) bool { return r < 0x20 || r > 0x7e }); i >= 0 {
				t.Errorf("the description %q holds a character outside printable ASCII", desc)
			}
		})
	}
	if n := len(p.pending(t)); n != 0 {
		t.Errorf("%d requests recorded from bad input", n)
	}
	if evs := p.events(t, audit.TypeAccessRequest); len(evs) != 0 {
		t.Errorf("audited bad input: %+v", evs)
	}
}

// TestAccessRequest_ApprovalScopesAreChecked: an approval that names a
// scope twice grants it once, and one of a request for a scope the server
// has dropped since is refused as invalid_scope naming it, not as an
// invalid configuration pointing at a line the file does not have.
func TestAccessRequest_ApprovalScopesAreChecked(t *testing.T) {
	p := editable(t)
	at, _ := p.login(t, "bob")["access_token"].(string)
	_, req := p.request(t, at, `{"server": "files", "scopes": ["files.read", "files.write"]}`)
	resp, body := p.send(t, http.MethodPost, "/admin/api/access-requests/"+req["id"].(string)+"/approve", "alice", `{"scopes": ["files.read", "files.read"]}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("approve with files.read twice: %d %s", resp.StatusCode, body)
	}
	entries := p.store.Config().Server("files").Access
	if last := entries[len(entries)-1]; strings.Join(last.Users, ",") != "bob" || strings.Join(last.Scopes, ",") != "files.read" {
		t.Errorf("the new entry: %+v, want bob with files.read once", last)
	}

	_, req = p.request(t, at, `{"server": "files", "scopes": ["files.write"]}`)
	resp, body = p.send(t, http.MethodGet, "/admin/api/servers/files", "alice", nil)
	var files map[string]any
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &files) != nil {
		t.Fatalf("GET the server: %d %s", resp.StatusCode, body)
	}
	files["scopes"] = []string{"files.read"}
	if resp, body := p.send(t, http.MethodPut, "/admin/api/servers/files", "alice", files); resp.StatusCode != http.StatusOK {
		t.Fatalf("dropping files.write: %d %s", resp.StatusCode, body)
	}
	version := p.store.Version()
	resp, body = p.send(t, http.MethodPost, "/admin/api/access-requests/"+req["id"].(string)+"/approve", "alice", nil)
	var e map[string]any
	_ = json.Unmarshal(body, &e)
	if desc, _ := e["error_description"].(string); resp.StatusCode != http.StatusBadRequest || e["error"] != "invalid_scope" || !strings.Contains(desc, "files.write") {
		t.Errorf("approving files.write, which the server dropped: %d %s, want 400 invalid_scope naming it", resp.StatusCode, body)
	}
	if p.store.Version() != version || len(p.pending(t)) != 1 {
		t.Error("the refused approval changed something")
	}
}

// TestAccessRequest_ReasonsAreCountedInCharacters: a reason may have 1024
// characters in any script, as the pages' fields (maxlength="1024") let a
// user type, whatever their bytes; one more is refused.
func TestAccessRequest_ReasonsAreCountedInCharacters(t *testing.T) {
	p := editable(t)
	at, _ := p.login(t, "bob")["access_token"].(string)
	long := strings.Repeat("ü", 1024) // 2048 bytes
	status, req := p.request(t, at, `{"server": "files", "reason": "`+long+`"}`)
	if status != http.StatusCreated || req["reason"] != long {
		t.Fatalf("a request's reason of 1024 characters: %d %v", status, req)
	}
	deny := "/admin/api/access-requests/" + req["id"].(string) + "/deny"
	if resp, body := p.send(t, http.MethodPost, deny, "alice", map[string]string{"reason": long + "ü"}); resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "1025 characters") {
		t.Errorf("a denial's reason of 1025 characters: %d %s, want 400 saying so", resp.StatusCode, body)
	}
	resp, body := p.send(t, http.MethodPost, deny, "alice", map[string]string{"reason": long})
	var decided access.Request
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &decided) != nil || decided.DenyReason != long {
		t.Errorf("a denial's reason of 1024 characters: %d %s", resp.StatusCode, body)
	}
}

// ceilSecond is t rounded up to the whole second.
func ceilSecond(t time.Time) time.Time {
	if r := t.Truncate(time.Second); r.Before(t) {
		return r.Add(time.Second)
	}
	return t
}

// TestAccessRequest_ApprovedAccessNeverEndsEarly: expires is written to
// the second, rounded up, so that access approved for expires_in lasts at
// least that long, a fraction of a second included.
func TestAccessRequest_ApprovedAccessNeverEndsEarly(t *testing.T) {
	p := editable(t)
	at, _ := p.login(t, "bob")["access_token"].(string)
	_, req := p.request(t, at, `{"server": "files", "scopes": ["files.read"]}`)
	p.srv.Clock().Set(time.Date(2026, 12, 5, 10, 0, 0, 600_000_000, time.UTC))
	p.srv.Clock().Freeze()
	resp, body := p.send(t, http.MethodPost, "/admin/api/access-requests/"+req["id"].(string)+"/approve", "alice", `{"expires_in": "1500ms"}`)
	var raw map[string]any
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &raw) != nil {
		t.Fatalf("approve for 1500ms: %d %s", resp.StatusCode, body)
	}
	if got, _ := raw["expires"].(string); !strings.HasPrefix(got, "2026-12-05T10:00:03") {
		t.Errorf("expires %q, want 10:00:03 (10:00:00.6 plus 1.5 s, rounded up)", got)
	}
	p.srv.Clock().Advance(1500 * time.Millisecond)
	resp, body = p.send(t, http.MethodGet, "/admin/api/explain?user=bob&client=mcp-client&scope=files.read&audience="+p.store.Config().Server("files").Issuer, "alice", nil)
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &raw) != nil || raw["allowed"] != true {
		t.Errorf("1.5 s after an approval for 1500ms: %d %s, want the access still allowed", resp.StatusCode, body)
	}
}

// TestAccessRequest_ExpiresInTooLongSaysWhy: an expires_in that parses but
// is too long was answered "is not a positive duration such as 8h", which
// it is; the answer says what is wrong with it.
func TestAccessRequest_ExpiresInTooLongSaysWhy(t *testing.T) {
	p := editable(t)
	at, _ := p.login(t, "bob")["access_token"].(string)
	_, req := p.request(t, at, `{"server": "files", "scopes": ["files.read"]}`)
	approve := "/admin/api/access-requests/" + req["id"].(string) + "/approve"
	for body, want := range map[string]string{
		`{"expires_in": "99999999h"}`: "292 years",
		`{"expires_in": "40000d"}`:    "up to 36600",
	} {
		resp, answer := p.send(t, http.MethodPost, approve, "alice", body)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(answer), want) || strings.Contains(string(answer), "not a positive duration") {
			t.Errorf("%s: %d %s, want 400 saying %q", body, resp.StatusCode, answer, want)
		}
	}
}

// TestAccessRequest_ApproveForARemovedUserIsAConflict: the user who asked
// was removed since; approving answered 400 invalid_config with the line
// of an entry never written, as if the file were wrong. Like a removed
// server, it is a 409 that says to deny the request, and nothing changes.
// TestAccessRequest_RemovalDeniesPendingRequests: a pending request whose
// user, or whose MCP server, the configuration no longer has can never be
// approved; it used to stay pending for ever, counted against the store's
// bound. The change that removes them denies it, as an admin would have
// to, audited with the reason naming the removal.
func TestAccessRequest_RemovalDeniesPendingRequests(t *testing.T) {
	p := editable(t)
	for _, tt := range []struct {
		name, user, remove, want string
	}{
		{"user removed", "bob", "/admin/api/users/bob", `the user "bob" was removed from the configuration`},
		{"server removed", "alice", "/admin/api/servers/files", `the MCP server "files" was removed from the configuration`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			at, _ := p.login(t, tt.user)["access_token"].(string)
			code, req := p.request(t, at, `{"server": "files", "scopes": ["files.write"]}`)
			id, _ := req["id"].(string)
			if code != http.StatusCreated || id == "" {
				t.Fatalf("request: %d %v", code, req)
			}
			if resp, body := p.send(t, http.MethodDelete, tt.remove, "alice", nil); resp.StatusCode != http.StatusNoContent {
				t.Fatalf("DELETE %s: %d %s", tt.remove, resp.StatusCode, body)
			}
			for _, r := range p.pending(t) {
				if r.ID == id {
					t.Fatalf("the request is still pending after its %s: %+v", tt.name, r)
				}
			}
			resp, body := p.send(t, http.MethodGet, "/admin/api/access-requests?status=denied", "alice", nil)
			var denied []access.Request
			if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &denied) != nil {
				t.Fatalf("GET denied: %d %s", resp.StatusCode, body)
			}
			i := slices.IndexFunc(denied, func(r access.Request) bool { return r.ID == id })
			if i < 0 || denied[i].Decided == nil || !strings.Contains(denied[i].DenyReason, tt.want) {
				t.Fatalf("denied requests %s, want %s denied with a reason containing %q", body, id, tt.want)
			}
			evs := p.events(t, audit.TypeAccessRequest)
			last := evs[len(evs)-1]
			if last.Outcome != audit.Denied || last.Details["request"] != id || last.User != tt.user || last.Server != "files" ||
				!strings.Contains(last.Reason, tt.want) || last.Admin != "" {
				t.Errorf("the denial's event: %+v", last)
			}
			// Approving it now is the 409 of any decided request.
			if resp, body := p.send(t, http.MethodPost, "/admin/api/access-requests/"+id+"/approve", "alice", nil); resp.StatusCode != http.StatusConflict {
				t.Errorf("approving it: %d %s, want 409", resp.StatusCode, body)
			}
		})
	}
}

// TestAccessRequest_ApproveThroughADenyIsAConflict: a deny entry added
// after the request names its user; deny wins over any access entry, so an
// approval would tell the requester "approved" and grant nothing. It is a
// 409 that says so, and nothing changes; once the deny is removed, the
// approval goes through.
func TestAccessRequest_ApproveThroughADenyIsAConflict(t *testing.T) {
	p := editable(t)
	at, _ := p.login(t, "bob")["access_token"].(string)
	_, req := p.request(t, at, `{"server": "files", "scopes": ["files.read"]}`)
	if resp, body := p.send(t, http.MethodPut, "/admin/api/servers/files/deny", "alice", []any{map[string]any{"users": []string{"bob"}}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("denying bob: %d %s", resp.StatusCode, body)
	}
	version := p.store.Version()
	approve := "/admin/api/access-requests/" + req["id"].(string) + "/approve"
	resp, body := p.send(t, http.MethodPost, approve, "alice", nil)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(body), "deny") || !strings.Contains(string(body), "bob") {
		t.Errorf("approving through a deny: %d %s, want 409 naming bob and the deny", resp.StatusCode, body)
	}
	if p.store.Version() != version {
		t.Error("the refused approval changed the configuration")
	}
	if resp, body := p.send(t, http.MethodPut, "/admin/api/servers/files/deny", "alice", []any{}); resp.StatusCode != http.StatusOK {
		t.Fatalf("removing the deny: %d %s", resp.StatusCode, body)
	}
	if resp, body := p.send(t, http.MethodPost, approve, "alice", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("approving once the deny is gone: %d %s", resp.StatusCode, body)
	}
}

// TestAccessRequest_RemovedWhileStoppedIsDeniedAtStart: a user removed from
// the file while the IdP was stopped leaves a pending request in the
// state directory; the next start denies it, audited.
func TestAccessRequest_RemovedWhileStoppedIsDeniedAtStart(t *testing.T) {
	p, _, restart := stateful(t)
	id := bobAsks(t, p)
	p.stop()
	data, err := os.ReadFile(p.file)
	if err != nil {
		t.Fatal(err)
	}
	without := strings.Replace(string(data), "  - username: bob\n    password: bob-pw\n    groups: [mkt]\n", "", 1)
	if without == string(data) {
		t.Fatal("bob is not in the file as expected")
	}
	if err := os.WriteFile(p.file, []byte(without), 0o600); err != nil {
		t.Fatal(err)
	}
	p = restart()
	if len(p.pending(t)) != 0 {
		t.Fatalf("pending after a restart without bob: %+v", p.pending(t))
	}
	evs := p.events(t, audit.TypeAccessRequest)
	if last := evs[len(evs)-1]; last.Outcome != audit.Denied || last.Details["request"] != id || !strings.Contains(last.Reason, `the user "bob" was removed`) {
		t.Errorf("the denial's event: %+v", last)
	}
}

// TestAccessRequest_ExpiresPastTheLastTimeIsRefused: an expires_in that
// fits a time.Duration but ends after 2261, the last year an access
// entry's expires may name, wrapped around in the entry (a year in the
// 1700s: access over at once, a configuration the next start refuses).
// It is a 400 that names the latest expiry, and nothing changes.
func TestAccessRequest_ExpiresPastTheLastTimeIsRefused(t *testing.T) {
	p := editable(t)
	at, _ := p.login(t, "bob")["access_token"].(string)
	_, req := p.request(t, at, `{"server": "files", "scopes": ["files.read"]}`)
	approve := "/admin/api/access-requests/" + req["id"].(string) + "/approve"
	entries := len(p.store.Config().Server("files").Access)
	for _, c := range []struct {
		now  time.Time
		body string
	}{
		{time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC), `{"expires_in": "2500000h"}`},
		{time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC), `{"expires_in": "36600d"}`},
		{time.Date(2261, 12, 31, 23, 0, 0, 0, time.UTC), `{"expires_in": "2h"}`},
	} {
		p.srv.Clock().Set(c.now)
		resp, answer := p.send(t, http.MethodPost, approve, "alice", c.body)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(answer), "2261") {
			t.Errorf("at %s, %s: %d %s; want 400 naming 2261", c.now.Format(time.RFC3339), c.body, resp.StatusCode, answer)
		}
	}
	if got := len(p.store.Config().Server("files").Access); got != entries {
		t.Errorf("files has %d access entries, had %d", got, entries)
	}
	if len(p.pending(t)) != 1 {
		t.Errorf("the request is no longer pending")
	}
}
