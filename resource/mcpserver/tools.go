package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// toolScopes maps each tool to the scope it requires ("" for none).
type toolScopes map[string]string

// addTools registers whoami and the tools of the theme named by id, and
// returns the scope each tool requires. The read tool needs the server's
// ".read" scope when it has one; the write tool needs its ".write" scope
// and is left out when there is none.
func addTools(s *mcp.Server, id string, scopes []string) toolScopes {
	ts := toolScopes{}
	addTool(s, ts, "", &mcp.Tool{
		Name:        "whoami",
		Title:       "Who am I",
		Description: "Shows the user, client and scopes this MCP server sees in the access token.",
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, IdempotentHint: true},
	}, whoami)

	th, ok := themes[id]
	if !ok {
		th = genericTheme
	}
	th(s, ts, scopeWithSuffix(scopes, ".read"), scopeWithSuffix(scopes, ".write"))
	return ts
}

// theme registers one read and one write tool with the given scopes.
type theme func(s *mcp.Server, ts toolScopes, read, write string)

var themes = map[string]theme{
	"tracker": trackerTheme,
	"wiki":    wikiTheme,
	"design":  designTheme,
	"crm":     crmTheme,
}

func scopeWithSuffix(scopes []string, suffix string) string {
	for _, s := range scopes {
		if strings.HasSuffix(s, suffix) {
			return s
		}
	}
	return ""
}

// toolFunc is a tool body: it gets the verified access token and returns
// the structured result plus a one-line text for people.
type toolFunc[In, Out any] func(ctx context.Context, at *authserver.AccessToken, in In) (Out, string, error)

// addTool registers t guarded by scope. The HTTP layer refuses calls
// without the scope before they get here (checkToolScopes); the check here
// covers anything that reaches the handler another way.
func addTool[In, Out any](s *mcp.Server, ts toolScopes, scope string, t *mcp.Tool, f toolFunc[In, Out]) {
	ts[t.Name] = scope
	if scope != "" {
		t.Description += " Requires scope " + scope + "."
	}
	mcp.AddTool(s, t, func(ctx context.Context, req *mcp.CallToolRequest, in In) (*mcp.CallToolResult, Out, error) {
		var zero Out
		at, err := callerToken(req)
		if err != nil {
			return nil, zero, err
		}
		if scope != "" && !at.HasScope(scope) {
			return nil, zero, fmt.Errorf("insufficient_scope: tool %s needs scope %s; the access token has %q", t.Name, scope, strings.Join(at.Scopes, " "))
		}
		out, text, err := f(ctx, at, in)
		if err != nil {
			return nil, zero, err
		}
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}, out, nil
	})
}

// callerToken returns the access token serveMCP verified for this request.
func callerToken(req *mcp.CallToolRequest) (*authserver.AccessToken, error) {
	if req.Extra != nil && req.Extra.TokenInfo != nil {
		if at, ok := req.Extra.TokenInfo.Extra[tokenInfoAccessToken].(*authserver.AccessToken); ok {
			return at, nil
		}
	}
	return nil, errors.New("no access token on this request")
}

// WhoAmI is the structured result of the whoami tool.
type WhoAmI struct {
	Subject   string   `json:"sub" jsonschema:"the user's subject at this server: the ID-JAG's sub, or that of the local user it maps to"`
	Username  string   `json:"username,omitempty" jsonschema:"the local user's username, when the authorization server knows the user"`
	Email     string   `json:"email,omitempty" jsonschema:"the user's email, when the IdP shared it"`
	ClientID  string   `json:"client_id" jsonschema:"the client the access token was issued to"`
	Scopes    []string `json:"scopes" jsonschema:"the scopes of the access token"`
	Resource  string   `json:"resource" jsonschema:"this MCP server's resource identifier"`
	Issuer    string   `json:"issuer" jsonschema:"the authorization server that issued the access token"`
	IdPIssuer string   `json:"idp_issuer,omitempty" jsonschema:"the IdP (tenant) that issued the ID-JAG the access token was granted for"`
	ExpiresAt string   `json:"expires_at" jsonschema:"when the access token expires (RFC 3339)"`
}

func whoami(_ context.Context, at *authserver.AccessToken, _ struct{}) (WhoAmI, string, error) {
	w := WhoAmI{
		Subject:   at.Subject,
		Username:  at.Username,
		Email:     at.Email,
		ClientID:  at.ClientID,
		Scopes:    nonNil(at.Scopes),
		Resource:  at.Resource,
		Issuer:    at.Issuer,
		IdPIssuer: at.IdPIssuer,
		ExpiresAt: at.Expiry.UTC().Format(time.RFC3339),
	}
	user := w.Subject
	if w.Username != "" {
		user = w.Username + " (sub " + w.Subject + ")"
	}
	if w.Email != "" {
		user += " (" + w.Email + ")"
	}
	scopes := strings.Join(w.Scopes, " ")
	if scopes == "" {
		scopes = "(none)"
	}
	return w, fmt.Sprintf("You are %s, using client %s, with scopes %s.", user, w.ClientID, scopes), nil
}

// nonNil keeps empty lists as [] in structured output: the SDK validates
// results against the output schema, where null is not an array.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Bounds of what the write tools keep: they keep it for as long as the
// process runs, so without them one user with a write scope could grow
// the server's memory without end.
const (
	maxRecords = 100  // records of one user in one theme
	maxText    = 1000 // bytes of a kept title or note
)

// checkText refuses a text to keep that is longer than maxText.
func checkText(field, s string) error {
	if len(s) > maxText {
		return fmt.Errorf("%s is %d bytes; this demo server keeps at most %d", field, len(s), maxText)
	}
	return nil
}

// checkRoom refuses a new record when the user has maxRecords already.
func checkRoom[T any](items []T, what string) error {
	if len(items) >= maxRecords {
		return fmt.Errorf("you have %d %s, the most this demo server keeps for one user", len(items), what)
	}
	return nil
}

// userData holds each user's demo records: seeded deterministically from
// the subject on first use, then changed by the write tools for as long as
// the process runs.
type userData[T any] struct {
	seed func(rng *rand.Rand, user string) []T
	salt string

	mu     sync.Mutex
	byUser map[userKey][]T
}

// userKey is a user: the IdP that issued the ID-JAG and the subject,
// since an authorization server that trusts several IdPs may see one sub
// from two of them for two people.
type userKey struct{ idp, sub string }

func newUserData[T any](salt string, seed func(rng *rand.Rand, user string) []T) *userData[T] {
	return &userData[T]{seed: seed, salt: salt, byUser: map[userKey][]T{}}
}

// update runs f on the user's records under the lock and keeps what it
// returns; f may be a pure read.
func (d *userData[T]) update(at *authserver.AccessToken, f func(items []T) ([]T, error)) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	key := userKey{at.IdPIssuer, at.Subject}
	items, ok := d.byUser[key]
	if !ok {
		items = d.seed(userRand(d.salt, at.Subject), displayName(at))
	}
	items, err := f(items)
	if err != nil {
		return err
	}
	d.byUser[key] = items
	return nil
}

// userRand is the same random sequence for the same user and theme, so demo
// data looks the same across restarts and differs between users.
func userRand(salt, sub string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(salt + "\x00" + sub))
	return rand.New(rand.NewPCG(h.Sum64(), 0x5eed))
}

// displayName is how demo records name the user: the email when known.
func displayName(at *authserver.AccessToken) string {
	if at.Email != "" {
		return at.Email
	}
	return at.Subject
}

// pick returns n distinct elements of from, in a user-specific order.
func pick[T any](rng *rand.Rand, from []T, n int) []T {
	idx := rng.Perm(len(from))[:min(n, len(from))]
	slices.Sort(idx)
	out := make([]T, len(idx))
	for i, j := range idx {
		out[i] = from[j]
	}
	return out
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// truncate shortens s to at most n bytes for a one-line excerpt, cutting
// between characters: a cut inside a multi-byte character would leave
// invalid UTF-8, which JSON turns into U+FFFD.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
