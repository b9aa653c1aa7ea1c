package idp

import (
	"bytes"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"sync"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/internal/httpjson"
	"github.com/xaa-idp/xaa-idp/policy"
)

// maxFormBytes bounds a token request body; real ones are a few KB.
const maxFormBytes = 64 << 10

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
	event func(form *tokenForm) audit.Event
	// serve answers the request into w and fills in ev. The endpoint holds
	// the answer back until ev is durable.
	serve func(w *heldResponse, r *http.Request, req grantRequest)
}

// grantRequest is what a grant's serve gets besides the HTTP request.
type grantRequest struct {
	form   *tokenForm     // the parameters (Get: empty values are no values)
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
	s.canonicalBasic(r)
	if ct := r.Header.Get("Content-Type"); !isFormType(ct) {
		mt, _, _ := mime.ParseMediaType(ct)
		if mt == "" && grantTypeInQuery(r) {
			writeOAuthError(w, r, invalidRequest("the parameters are in the URL's query and the request has no body: send them in the body, as application/x-www-form-urlencoded (RFC 6749 section 3.2)"))
			return
		}
		writeOAuthError(w, r, invalidRequest("send the parameters as application/x-www-form-urlencoded (RFC 6749 section 4.1.3), not %q", mt))
		return
	}
	form, err := tokenFormOf(w, r)
	if err != nil {
		writeOAuthError(w, r, invalidRequest("the request body is not a valid form: %v", err))
		return
	}
	typ := form.Get("grant_type")
	// The token exchange checks its own duplicates, so that such a refusal
	// is audited like its other decisions (docs/audit.md).
	if dup := form.duplicated("resource"); dup != "" && (typ != grantTokenExchange || dup == "grant_type") {
		writeOAuthError(w, r, duplicateParam(dup, "3.2"))
		return
	}
	g, ok := s.grantTypes[typ]
	switch {
	case typ == "":
		if grantTypeInQuery(r) {
			writeOAuthError(w, r, invalidRequest("grant_type is missing from the request body: send the parameters in the body, not in the URL's query (RFC 6749 section 3.2)"))
			return
		}
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
			// auditRecorder said why, once until the log takes events again.
			slog.Debug("audit append failed; token withheld", "grant_type", typ, "err", err)
			writeOAuthError(w, r, auditFailure(err))
			return
		}
		slog.Debug("audit append failed", "grant_type", typ, "err", err)
	}
	held.release(w, r)
}

// grantTypeInQuery reports whether a token request's URL query has a
// grant_type: the endpoint reads the body alone (RFC 6749 section 3.2),
// and a refusal of a request whose body lacks one says where it goes.
func grantTypeInQuery(r *http.Request) bool {
	return r.URL.RawQuery != "" && r.URL.Query().Has("grant_type")
}

// authenticate authenticates the client for a grant that asks for it, and
// answers a failure into w with ev filled in.
func (s *Server) authenticate(w *heldResponse, r *http.Request, form *tokenForm, ev *audit.Event) (*policy.Client, bool) {
	c, err := s.authenticateClient(r, form)
	if err != nil {
		ev.ClientID = clientIDFromRequest(r, form)
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

// duplicateParam refuses a parameter sent more than once: RFC 6749
// section 3.1 (the authorization endpoint, and end_session after it) or
// 3.2 (the token endpoint) says parameters MUST NOT be.
func duplicateParam(name, section string) *oauthError {
	return invalidRequest("parameter %q was sent more than once; each parameter may appear once (RFC 6749 section %s)", name, section)
}

// clientIDFromRequest is the client a request names, authenticated or
// not: the Basic user, else the client_id parameter as sent, else the iss
// of a client assertion, which names its client alone (RFC 7523 section 3),
// so that a refused assertion is audited under its client.
func clientIDFromRequest(r *http.Request, form *tokenForm) string {
	if id, _, ok := r.BasicAuth(); ok {
		return decodeBasic(id)
	}
	if id := form.first("client_id"); id != "" {
		return id
	}
	return assertionIssuer(form.Get("client_assertion"))
}

// heldResponse buffers a grant's answer, so that it can be inspected and
// released once its audit event is durable: no token leaves before its
// event is on disk.
type heldResponse struct {
	header http.Header // made by the first Header()
	status int
	body   *bytes.Buffer // from heldBodies, back there once released
	wrote  bool
	// isJSON is set by holdJSON: the answer is JSON, and release writes
	// its Content-Type.
	isJSON bool
}

func newHeldResponse() *heldResponse {
	return &heldResponse{status: http.StatusOK, body: heldBodies.Get().(*bytes.Buffer)}
}

// heldBodies are the buffers of held answers: release copies an answer
// out (w.Write) and puts its buffer back, up to maxPooledBody bytes.
var heldBodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledBody = 16 << 10

func (h *heldResponse) Header() http.Header {
	if h.header == nil {
		h.header = http.Header{}
	}
	return h.header
}
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

// holdJSON holds, with status, the JSON document appendJSON appends (to a
// buffer of size bytes, grown if that is short): the answer
// httpjson.Write holds for a value, without reflection and without a
// header map (release writes the Content-Type).
func (h *heldResponse) holdJSON(status, size int, appendJSON func([]byte) []byte) {
	h.WriteHeader(status)
	h.isJSON = true
	h.body.Grow(size)
	// The AvailableBuffer idiom: appended in place, Write copies nothing
	// unless appendJSON outgrew size.
	_, _ = h.Write(appendJSON(h.body.AvailableBuffer()))
}

// release writes the held answer to w, never to be cached (RFC 6749
// section 5.1). A 401 carries a Basic challenge, whoever wrote it and
// whatever the client tried (RFC 6749 section 5.2, RFC 9110 section
// 15.5.2).
//
// The held header's values move to w's header as they are (slices, not
// copies), and the fixed ones are shared slices of capacity one: Header.Set
// allocated a new one per response.
func (h *heldResponse) release(w http.ResponseWriter, r *http.Request) {
	out := w.Header()
	for k, v := range h.header {
		out[k] = v
	}
	if h.isJSON {
		out["Content-Type"] = httpjson.ContentType()
	}
	out["Cache-Control"] = noStore[:1:1]
	out["Pragma"] = noCache[:1:1]
	if h.status == http.StatusUnauthorized && out.Get("WWW-Authenticate") == "" {
		out.Set("WWW-Authenticate", basicChallenge)
	}
	w.WriteHeader(h.status)
	_, _ = w.Write(h.body.Bytes())
	if h.body.Cap() <= maxPooledBody {
		h.body.Reset()
		heldBodies.Put(h.body)
	}
	h.body = nil
}

// auditFailure is the answer to a request whose event the audit log did
// not take, which therefore gets no token: 500 server_error while the log
// is broken; 503 temporarily_unavailable with Retry-After once it has been
// closed, which only a stop does (a request that outlived the stop's wait
// for the requests in progress): the client did nothing wrong, and the
// IdP will take it again once it is back.
func auditFailure(err error) *oauthError {
	if errors.Is(err, audit.ErrClosed) {
		e := errorf("temporarily_unavailable", http.StatusServiceUnavailable, "the IdP is stopping and did not finish this request: no token was issued; send it again once the IdP is back")
		e.RetryAfter = stoppingRetryAfter
		return e
	}
	return errorf("server_error", http.StatusInternalServerError, "the audit log could not be written")
}

// stoppingRetryAfter is the Retry-After of a request refused because the
// IdP is stopping: a restarted IdP is usually back within it.
const stoppingRetryAfter = 5 * time.Second
