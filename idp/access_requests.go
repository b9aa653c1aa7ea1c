package idp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xaa-idp/xaa-idp/access"
	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/internal/httpjson"
	"github.com/xaa-idp/xaa-idp/internal/strictjson"
	"github.com/xaa-idp/xaa-idp/policy"
)

// accessRequestsFile is the access requests' file in the state directory.
const accessRequestsFile = "access-requests.json"

// maxAccessRequestBody bounds the body of POST /me/access-requests: a
// reason at its bound (access.MaxReasonChars characters, 12 KiB even if
// each is written as an escaped surrogate pair) and a server's scopes
// fit.
const maxAccessRequestBody = 16 << 10

func openAccessRequests(stateDir string, now func() time.Time) (*access.Store, error) {
	o := access.Options{Now: now}
	if stateDir != "" {
		o.File = filepath.Join(stateDir, accessRequestsFile)
	}
	st, err := access.Open(o)
	if err != nil {
		return nil, fmt.Errorf("idp: %w", err)
	}
	return st, nil
}

// AccessRequests returns the store of the users' access requests, which the
// admin API decides.
func (s *Server) AccessRequests() *access.Store { return s.requests }

// newAccessRequest is the body of POST /me/access-requests.
type newAccessRequest struct {
	Server string   `json:"server"`
	Scopes []string `json:"scopes"`
	Reason string   `json:"reason"`
}

// accessRequests is POST <issuer>/me/access-requests, a user's request for
// access to an MCP server, and GET, the user's own requests
// (docs/http.md, "Access requests"). Both take the access token of a
// login, as /me/mcp-servers does.
func (s *Server) accessRequests(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, HEAD, POST")
		httpjson.Write(w, http.StatusMethodNotAllowed, map[string]string{"error": "invalid_request", "error_description": "use POST to request access, GET to list your requests"})
		return
	}
	at := s.bearer(w, r)
	if at == nil {
		return
	}
	u := s.Config().UserBySub(at.Subject)
	if !u.Active() {
		w.Header().Set("WWW-Authenticate", `Bearer realm="xaa-idp", error="invalid_token"`)
		httpjson.Write(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "the token's user no longer exists or is disabled"})
		return
	}
	if r.Method != http.MethodPost { // GET or HEAD
		mine := []access.Request{}
		for _, q := range s.requests.List("") {
			if q.Of(u.Username, u.Sub) {
				mine = append(mine, q)
			}
		}
		httpjson.Write(w, http.StatusOK, mine)
		return
	}
	var body newAccessRequest
	if err := readStrictJSON(w, r, &body); err != nil {
		status := http.StatusBadRequest
		if tooLarge, ok := errors.AsType[*http.MaxBytesError](err); ok {
			status = http.StatusRequestEntityTooLarge
			err = fmt.Errorf("the request body is larger than %d bytes", tooLarge.Limit)
		} else if errors.Is(err, errNotJSON) {
			status = http.StatusUnsupportedMediaType
		}
		httpjson.Write(w, status, map[string]string{"error": "invalid_request", "error_description": wireDescription(err.Error())})
		return
	}
	req, status, e := s.requestAccess(u, at.ClientID, body)
	if e != nil {
		httpjson.Write(w, status, e)
		return
	}
	httpjson.Write(w, http.StatusCreated, req)
}

// requestAccess checks and records u's request: the answer, or the status
// and OAuth-style error body of its refusal. The page at /apps and the API
// share it.
func (s *Server) requestAccess(u *policy.User, clientID string, body newAccessRequest) (access.Request, int, map[string]any) {
	refuse := func(status int, code, format string, args ...any) (access.Request, int, map[string]any) {
		return access.Request{}, status, map[string]any{"error": code, "error_description": wireDescription(fmt.Sprintf(format, args...))}
	}
	srv := s.Config().Server(body.Server)
	switch {
	case body.Server == "":
		return refuse(http.StatusBadRequest, "invalid_request", `name the MCP server by its id: {"server": "<id>", "scopes": [...], "reason": "..."}`)
	case srv == nil:
		return refuse(http.StatusBadRequest, "invalid_request", "there is no MCP server %q; %s lists the servers you may request", audit.Truncate(body.Server), s.issuer+pathApps)
	case access.ReasonTooLong(body.Reason):
		return refuse(http.StatusBadRequest, "invalid_request", "the reason is %d characters; at most %d are kept", utf8.RuneCountInString(body.Reason), access.MaxReasonChars)
	}
	for _, sc := range body.Scopes {
		if !policy.ValidScope(sc) {
			return refuse(http.StatusBadRequest, "invalid_scope", "scope %q is malformed: a scope is printable ASCII without spaces, quotes or backslashes (RFC 6749 section 3.3); name each scope as its own element of scopes", audit.Truncate(sc))
		}
	}
	scopes := slices.Compact(slices.Sorted(slices.Values(body.Scopes)))
	if len(scopes) == 0 {
		// No scopes asks for every scope the server defines, resolved
		// now and recorded, so that the answer, the lists, the console's
		// approval form and the audit name what an approval would grant
		// (since 2026-12-06; before, the request recorded none, and its
		// approval gave access with which no scope was issued).
		scopes = slices.Compact(slices.Sorted(slices.Values(srv.Scopes)))
	}
	if srv.StandingOf(u, s.now()).Denied {
		// The one authorization refusal here, audited (since 2026-12-06);
		// the others are the request's shape or its number.
		desc := fmt.Sprintf("a deny entry of %s names you; an admin must remove it, a request cannot", srv.Label())
		_, _ = s.audit.Append(audit.Event{
			Type: audit.TypeAccessRequest, Outcome: audit.Denied, Error: "access_denied", User: u.Username, Sub: u.Sub,
			ClientID: clientID, Server: srv.ID, ScopeRequested: strings.Join(scopes, " "), Reason: desc,
		})
		return refuse(http.StatusForbidden, "access_denied", "%s", desc)
	}
	if unknown := srv.UnknownScopes(scopes); len(unknown) > 0 {
		return refuse(http.StatusBadRequest, "invalid_scope", "%s does not know the scope(s) %s; its scopes are: %s",
			srv.Label(), audit.Truncate(strings.Join(unknown, " ")), strings.Join(srv.Scopes, " "))
	}
	// Audited before it is kept: a request the audit log cannot take
	// (broken, or closed by a stop that stopped waiting for this one) is
	// not made. Until 2026-12-07 it was kept, and answered 201, without
	// its event.
	var requested *audit.Event
	req, err := s.requests.CreateRecorded(access.Request{User: u.Username, Sub: u.Sub, Server: srv.ID, Scopes: scopes, Reason: body.Reason}, func(req access.Request) error {
		ev, err := s.audit.Append(audit.Event{
			Type: audit.TypeAccessRequest, Outcome: audit.Requested, User: u.Username, Sub: u.Sub, ClientID: clientID,
			Server: srv.ID, ScopeRequested: strings.Join(req.Scopes, " "), Reason: req.Reason,
			Details: map[string]any{"request": req.ID},
		})
		if err != nil {
			return s.audit.Refused(err)
		}
		requested = &ev
		return nil
	})
	var (
		dup     *access.DuplicateError
		tooMany *access.TooManyError
		unaudit *audit.RefusedError
	)
	switch {
	case errors.As(err, &dup):
		_, status, e := refuse(http.StatusConflict, "conflict", "your request %s for %s is still pending; wait for an admin to decide it", dup.Pending.ID, srv.Label())
		e["id"] = dup.Pending.ID
		return access.Request{}, status, e
	case errors.As(err, &tooMany):
		return refuse(http.StatusTooManyRequests, "too_many_requests", "you have %d pending requests, the most allowed; wait for an admin to decide them", tooMany.Max)
	case errors.Is(err, access.ErrFull):
		return refuse(http.StatusServiceUnavailable, "temporarily_unavailable", "the IdP holds as many pending requests as it keeps; an admin must decide some first")
	case errors.As(err, &unaudit):
		// In the words the token endpoint uses: why (the audit log's
		// path, the system's error) is in the IdP's log, for its
		// administrator, not for whoever is signed in.
		return refuse(http.StatusInternalServerError, "server_error", "the request was not made: the audit log could not be written; send it again later")
	case err != nil:
		if requested != nil {
			// Its event is in the audit log: say there that it was
			// not kept.
			ev := *requested
			ev.ID, ev.Time = "", time.Time{}
			ev.Outcome, ev.Error = audit.Error, "not_written"
			ev.Reason = audit.Truncate("the request was recorded, but its file could not be written, so it was not made: " + err.Error())
			_, _ = s.audit.Append(ev)
		}
		return refuse(http.StatusInternalServerError, "server_error", "the request was not made: it could not be saved; send it again later")
	}
	return req, 0, nil
}

var errNotJSON = errors.New("send the body as application/json")

// readStrictJSON decodes a JSON object into v: at most
// maxAccessRequestBody bytes, one object, no key twice, no null, no key v
// lacks. A request must say exactly what it means: encoding/json alone
// would let the last of two equal keys win and take null as absent.
func readStrictJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return errNotJSON
	}
	if r.ContentLength > maxAccessRequestBody {
		// Refused before a byte of it is read: a client that sent
		// Expect: 100-continue is told instead of being asked for the
		// body (RFC 9110 section 10.1.1).
		return &http.MaxBytesError{Limit: maxAccessRequestBody}
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAccessRequestBody))
	if err != nil {
		return err
	}
	if err := strictjson.Check(data, strictjson.Options{}); err != nil {
		return err
	}
	if !bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
		return errors.New(`the body must be one JSON object, such as {"server": "crm", "scopes": ["crm.read"], "reason": "..."}`)
	}
	if err := strictjson.Decode(data, v, strictjson.Options{}); err != nil {
		return fmt.Errorf("the body does not fit: %v; the keys are server, scopes and reason", err)
	}
	return nil
}
