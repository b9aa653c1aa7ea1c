package idp

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/xaa-idp/xaa-idp/audit"
)

// maxFormBytes bounds a token request body; real ones are a few KB.
const maxFormBytes = 64 << 10

// tokenEndpoint is the one entry for every grant. It owns the parts that
// are the same for all of them (method, content type, parameter hygiene,
// Cache-Control) and dispatches by grant_type: the token exchange is ours,
// the code and refresh grants are zitadel's.
func (s *Server) tokenEndpoint(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeOAuthError(w, r, errorf("invalid_request", http.StatusMethodNotAllowed, "the token endpoint accepts POST only (RFC 6749 section 3.2)"))
		return
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		writeOAuthError(w, r, invalidRequest("send the parameters as application/x-www-form-urlencoded (RFC 6749 section 4.1.3), not %q", mt))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, r, invalidRequest("the request body is not a valid form: %v", err))
		return
	}
	form := presentParams(r.PostForm)
	grant := form.Get("grant_type")
	// The token exchange checks its own duplicates, so that such a refusal
	// is audited like its other decisions (CONTRACT.md section 5).
	if dup := duplicated(form, "resource"); dup != "" && (grant != grantTokenExchange || dup == "grant_type") {
		writeOAuthError(w, r, duplicateParam(dup))
		return
	}
	r, answered := s.injectFaults(w, r, form, grant)
	if answered {
		return
	}
	switch grant {
	case "":
		writeOAuthError(w, r, invalidRequest("grant_type is missing"))
	case grantTokenExchange:
		s.tokenExchange(w, r, form)
	case grantAuthorizationCd, grantRefreshToken:
		s.delegateGrant(w, r, grant)
	default:
		writeOAuthError(w, r, errorf("unsupported_grant_type", http.StatusBadRequest,
			"grant_type %q is not supported; use authorization_code, refresh_token or %s", grant, grantTokenExchange))
	}
}

// presentParams drops empty values: the Go SDK sends code= on every grant
// and zitadel's token exchange client sends empty actor_token=, and both
// mean "absent" (spec.md section 2).
func presentParams(in url.Values) url.Values {
	out := url.Values{}
	for k, vs := range in {
		for _, v := range vs {
			if v != "" {
				out[k] = append(out[k], v)
			}
		}
	}
	return out
}

// duplicated names the first parameter sent twice, except those allowed to
// repeat.
func duplicated(form url.Values, repeatable ...string) string {
	for k, vs := range form {
		if len(vs) > 1 {
			ok := false
			for _, r := range repeatable {
				ok = ok || k == r
			}
			if !ok {
				return k
			}
		}
	}
	return ""
}

func duplicateParam(name string) *oauthError {
	return invalidRequest("parameter %q was sent more than once; each parameter may appear once (RFC 6749 section 3.2)", name)
}

// tokenNote collects, during a delegated grant, what the storage learnt
// about the request, for the audit event.
type tokenNote struct {
	mu       sync.Mutex
	subject  string
	clientID string
	scopes   []string
}

func noteTokenRequest(ctx context.Context, req op.TokenRequest) {
	n, _ := ctx.Value(tokenNoteKey).(*tokenNote)
	if n == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.subject, n.clientID, n.scopes = req.GetSubject(), clientIDOf(req), req.GetScopes()
}

// delegateGrant runs the code or refresh grant through zitadel, holding its
// answer back until the audit event is durable: no token leaves before its
// event is on disk.
func (s *Server) delegateGrant(w http.ResponseWriter, r *http.Request, grant string) {
	note := &tokenNote{}
	rec := &heldResponse{header: http.Header{}, status: http.StatusOK}
	s.provider.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), tokenNoteKey, note)))
	if rec.status == http.StatusOK {
		if err := s.restampTokenResponse(rec); err != nil {
			slog.Error("cannot put the IdP clock into the token response; tokens withheld", "grant_type", grant, "err", err)
			writeOAuthError(w, r, errorf("server_error", http.StatusInternalServerError, "the token response could not be completed"))
			return
		}
	}

	ev := audit.Event{Type: audit.TypeToken, GrantType: grant, Outcome: audit.Allowed}
	markInjected(r, &ev)
	note.mu.Lock()
	ev.Sub, ev.ClientID, ev.ScopeGranted = note.subject, note.clientID, strings.Join(note.scopes, " ")
	note.mu.Unlock()
	if ev.ClientID == "" {
		ev.ClientID = clientIDFromRequest(r)
	}
	if u := s.Config().UserBySub(ev.Sub); u != nil {
		ev.User = u.Username
	}
	if rec.status >= 400 {
		code, desc := describeRefusal(rec)
		ev.Outcome, ev.Error, ev.Reason = audit.Error, code, desc
	}
	if _, err := s.audit.Append(ev); err != nil && rec.status < 400 {
		slog.Error("audit append failed; token withheld", "err", err)
		writeOAuthError(w, r, errorf("server_error", http.StatusInternalServerError, "the audit log could not be written"))
		return
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	if rec.status == http.StatusUnauthorized && r.Header.Get("Authorization") != "" && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", `Basic realm="xaa-idp", error="invalid_client"`)
	}
	w.WriteHeader(rec.status)
	_, _ = w.Write(rec.body.Bytes())
}

// describeRefusal returns the code and description of a held error answer.
// zitadel keeps the reason of some refusals (an unknown refresh token) only
// as the error's parent, which it logs but does not send; such an answer
// gets a generic error_description, so that the client and the audit log
// learn what went wrong.
func describeRefusal(rec *heldResponse) (code, desc string) {
	var body map[string]any
	if err := json.Unmarshal(rec.body.Bytes(), &body); err != nil || body == nil {
		return "", ""
	}
	code, _ = body["error"].(string)
	if desc, _ = body["error_description"].(string); desc != "" {
		return code, desc
	}
	switch code {
	case "invalid_grant":
		desc = "the authorization code or refresh token is unknown, expired, revoked, already used or issued to another client, or its user was disabled or removed"
	default:
		desc = "the token request was refused: " + code
	}
	body["error_description"] = desc
	rec.body.Reset()
	_ = json.NewEncoder(&rec.body).Encode(body)
	rec.header.Del("Content-Length")
	return code, desc
}

func clientIDFromRequest(r *http.Request) string {
	if id, _, ok := r.BasicAuth(); ok {
		if dec, err := url.QueryUnescape(id); err == nil {
			return dec
		}
		return id
	}
	return r.PostForm.Get("client_id")
}

// heldResponse buffers a response so that it can be inspected and released
// later.
type heldResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
	wrote  bool
}

func (h *heldResponse) Header() http.Header { return h.header }
func (h *heldResponse) Write(b []byte) (int, error) {
	h.wrote = true
	return h.body.Write(b)
}
func (h *heldResponse) WriteHeader(code int) {
	if !h.wrote {
		h.status, h.wrote = code, true
	}
}
