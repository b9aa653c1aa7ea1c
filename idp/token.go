package idp

import (
	"bytes"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/policy"
)

// maxFormBytes bounds a token request body; real ones are a few KB.
const maxFormBytes = 64 << 10

// parseForm is r.ParseForm, with a shorter way for the usual token
// request: a POST of a form of known length and no query. Its body is read
// into one buffer of that length and parsed once, and r.Form is r.PostForm
// (ParseForm would read through a growing buffer and copy the body's
// values into a second map); nothing changes the token endpoint's
// parameters once parsed. Anything else goes to ParseForm.
func parseForm(r *http.Request) error {
	if r.Method != http.MethodPost || r.URL.Path != pathToken || r.URL.RawQuery != "" || r.PostForm != nil ||
		r.ContentLength < 0 || r.ContentLength > maxFormBytes {
		return r.ParseForm()
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return r.ParseForm()
	}
	body := make([]byte, r.ContentLength)
	if _, err := io.ReadFull(r.Body, body); err != nil {
		return err
	}
	vs, err := url.ParseQuery(string(body))
	r.PostForm, r.Form = vs, vs
	return err
}

// A grant is one grant_type the token endpoint serves (RFC 6749 section
// 4). The endpoint runs the steps every grant shares, so that no grant can
// forget one: request hygiene, the fault hooks, client authentication when
// the grant asks for it, the audit event before any answer leaves, and
// Cache-Control: no-store on every answer (RFC 6749 section 5.1).
type grant struct {
	// typ is the grant_type value.
	typ string
	// clientAuth is whether the endpoint authenticates the client (RFC
	// 6749 section 3.2.1) before serve; false for the grants zitadel's op
	// serves, which authenticates the client itself.
	clientAuth bool
	// event is the audit event a request of this grant starts from.
	event func(form url.Values) audit.Event
	// serve answers the request into w and fills in ev. The endpoint holds
	// the answer back until ev is durable.
	serve func(w *heldResponse, r *http.Request, req grantRequest)
}

// grantRequest is what a grant's serve gets besides the HTTP request.
type grantRequest struct {
	form   url.Values     // the parameters, empty values dropped
	client *policy.Client // the authenticated client; nil unless grant.clientAuth
	ev     *audit.Event   // the request's audit event, to fill in
}

// grants are the grant types the token endpoint serves, by grant_type.
func (s *Server) grants() map[string]grant {
	m := map[string]grant{}
	for _, g := range []grant{s.idJAGGrant(), s.opGrant(grantAuthorizationCd), s.opGrant(grantRefreshToken)} {
		m[g.typ] = g
	}
	return m
}

// tokenEndpoint is the one entry for every grant. It owns the parts that
// are the same for all of them (method, content type, parameter hygiene,
// fault hooks, client authentication, audit, Cache-Control) and dispatches
// by grant_type to the grant's serve.
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
	typ := form.Get("grant_type")
	// The token exchange checks its own duplicates, so that such a refusal
	// is audited like its other decisions (docs/audit.md).
	if dup := duplicated(form, "resource"); dup != "" && (typ != grantTokenExchange || dup == "grant_type") {
		writeOAuthError(w, r, duplicateParam(dup))
		return
	}
	g, ok := s.grantTypes[typ]
	switch {
	case typ == "":
		writeOAuthError(w, r, invalidRequest("grant_type is missing"))
		return
	case !ok:
		writeOAuthError(w, r, errorf("unsupported_grant_type", http.StatusBadRequest,
			"grant_type %q is not supported; use authorization_code, refresh_token or %s", typ, grantTokenExchange))
		return
	}
	r, answered := s.injectFaults(w, r, form, typ)
	if answered {
		return
	}

	// The audit log's commit waits for this request's event (audit.Log.Expect).
	expected := s.audit.expect()
	defer expected.end()
	ev := g.event(form)
	markInjected(r, &ev)
	held := newHeldResponse()
	req := grantRequest{form: form, ev: &ev}
	if g.clientAuth {
		req.client, ok = s.authenticate(held, r, form, &ev)
	}
	if !g.clientAuth || ok {
		g.serve(held, r, req)
	}
	if _, err := expected.Append(ev); err != nil {
		if held.status < 400 {
			slog.Error("audit append failed; token withheld", "grant_type", typ, "err", err)
			writeOAuthError(w, r, errorf("server_error", http.StatusInternalServerError, "the audit log could not be written"))
			return
		}
		slog.Error("audit append failed", "grant_type", typ, "err", err)
	}
	held.release(w, r)
}

// authenticate authenticates the client for a grant that asks for it, and
// answers a failure into w with ev filled in.
func (s *Server) authenticate(w *heldResponse, r *http.Request, form url.Values, ev *audit.Event) (*policy.Client, bool) {
	c, err := s.authenticateClient(r, form)
	if err != nil {
		ev.ClientID = clientIDFromRequest(r)
		refuse(w, r, ev, err)
		return nil, false
	}
	ev.ClientID = c.ClientID
	return c, true
}

// refuse answers an OAuth error into w and records it in ev: an error
// outcome unless the grant already said denied, and the reason for the
// audit log, which may say more than the client hears.
func refuse(w http.ResponseWriter, r *http.Request, ev *audit.Event, e *oauthError) {
	if ev.Outcome == "" {
		ev.Outcome = outcomeOf(e)
	}
	ev.Error = e.Code
	ev.Reason = e.Reason
	if ev.Reason == "" {
		ev.Reason = e.Description
	}
	if ev.Rule == "" {
		ev.Rule = e.Rule
	}
	writeOAuthError(w, r, e)
}

// presentParams drops empty values: the Go SDK sends code= on every grant
// and zitadel's token exchange client sends empty actor_token=, and both
// mean "absent" (RFC 6749 section 3.1: a parameter sent without a value
// is treated as omitted).
// A request without empty values, the usual case, is returned as it is:
// nothing changes the parameters afterwards.
func presentParams(in url.Values) url.Values {
	if !hasEmptyValue(in) {
		return in
	}
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

func hasEmptyValue(in url.Values) bool {
	for _, vs := range in {
		for _, v := range vs {
			if v == "" {
				return true
			}
		}
	}
	return false
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

func clientIDFromRequest(r *http.Request) string {
	if id, _, ok := r.BasicAuth(); ok {
		return decodeBasic(id)
	}
	return r.PostForm.Get("client_id")
}

// heldResponse buffers a grant's answer, so that it can be inspected and
// released once its audit event is durable: no token leaves before its
// event is on disk.
type heldResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
	wrote  bool
}

func newHeldResponse() *heldResponse {
	return &heldResponse{header: http.Header{}, status: http.StatusOK}
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

var noStore, noCache = []string{"no-store"}, []string{"no-cache"}

// reset discards what was written, to answer otherwise.
func (h *heldResponse) reset() { *h = *newHeldResponse() }

// release writes the held answer to w, never to be cached (RFC 6749
// section 5.1). A 401 to a client that tried HTTP Basic carries the
// challenge RFC 6749 section 5.2 asks for, whoever wrote it.
//
// The held header's values move to w's header as they are (slices, not
// copies), and the fixed ones are shared slices of capacity one: Header.Set
// allocated a new one per response.
func (h *heldResponse) release(w http.ResponseWriter, r *http.Request) {
	out := w.Header()
	for k, v := range h.header {
		out[k] = v
	}
	out["Cache-Control"] = noStore[:1:1]
	out["Pragma"] = noCache[:1:1]
	if h.status == http.StatusUnauthorized && r.Header.Get("Authorization") != "" && out.Get("WWW-Authenticate") == "" {
		out.Set("WWW-Authenticate", `Basic realm="xaa-idp", error="invalid_client"`)
	}
	w.WriteHeader(h.status)
	_, _ = w.Write(h.body.Bytes())
}
