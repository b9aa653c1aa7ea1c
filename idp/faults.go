package idp

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp/signer"
	"github.com/xaa-idp/xaa-idp/internal/ed25519alg"
	"github.com/xaa-idp/xaa-idp/policy"
)

// Fault sources, FaultStatus.Source.
const (
	FaultFromConfig = "config" // the configuration's faults: section
	FaultFromAdmin  = "admin"  // added at runtime (admin API, idptest)
)

// FaultStatus is an active fault and how often it has fired.
type FaultStatus struct {
	policy.Fault
	Source string `json:"source"` // FaultFromConfig or FaultFromAdmin
	Fired  int64  `json:"fired"`  // times it has fired so far
	// Remaining is how many more times a fault with times fires; nil for
	// a fault without a limit.
	Remaining *int64 `json:"remaining,omitempty"`
}

// activeFault is a fault with its counters. Requests read the list without
// a lock; take decides, atomically, whether this request gets the fault.
type activeFault struct {
	policy.Fault
	on     string // Fault.On(), the endpoint it acts on
	source string
	// from is, for a fault of the configuration, that fault as the
	// configuration has it, without the id given it here (loadConfig).
	from policy.Fault
	// The counters are shared with the fault this one follows (follow):
	// a request that fires that one, from the list as it was before the
	// rename, counts against this one too.
	*faultCount
}

// faultCount is a fault's counters.
type faultCount struct {
	left  atomic.Int64 // fires left; negative for no limit
	fired atomic.Int64
}

// take reports whether the fault fires for this request, and counts it.
// Concurrent requests never fire a fault more than its times.
func (f *activeFault) take() bool {
	for {
		n := f.left.Load()
		if n == 0 {
			return false
		}
		if n < 0 || f.left.CompareAndSwap(n, n-1) {
			f.fired.Add(1)
			return true
		}
	}
}

func (f *activeFault) status() FaultStatus {
	st := FaultStatus{Fault: f.Fault, Source: f.source, Fired: f.fired.Load()}
	if n := f.left.Load(); n >= 0 {
		st.Remaining = &n
	}
	return st
}

// faultSet holds the active faults: the configuration's first, in file
// order, then those added at runtime, in the order they were added. The
// zero value holds none.
type faultSet struct {
	mu     sync.Mutex // serialises changes
	active atomic.Pointer[[]*activeFault]
	// fromConfig is the configuration's faults as last loaded, so that a
	// configuration change that leaves them alone keeps their counters.
	fromConfig []policy.Fault
	seq        int
}

func (fs *faultSet) list() []*activeFault {
	if p := fs.active.Load(); p != nil {
		return *p
	}
	return nil
}

func newActiveFault(f policy.Fault, source string) *activeFault {
	a := &activeFault{Fault: f, on: f.On(), source: source, faultCount: &faultCount{}}
	if f.Times > 0 {
		a.left.Store(int64(f.Times))
	} else {
		a.left.Store(-1)
	}
	return a
}

// loadConfig replaces the faults that came from the configuration, unless
// they are unchanged. A fault the new configuration has as it was (another
// fault of the file changed or went: a SCIM deletion of a user takes the
// faults that match the user along) stays as it is, with its id and its
// counters; so does one whose match.user alone changed (a SCIM rename
// takes the faults along), counted on from where it was. Only the faults
// that are new or changed otherwise start afresh. The faults added at
// runtime follow the users moves names (userMoves) as the file's do: one
// whose match.user was renamed matches the new name, with its id and
// counters; one whose match.user was deleted goes.
func (fs *faultSet) loadConfig(faults []policy.Fault, moves map[string]string) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	cur := fs.list()
	if len(moves) > 0 {
		cur = followUsers(cur, moves)
	}
	if reflect.DeepEqual(faults, fs.fromConfig) {
		if len(moves) > 0 {
			fs.active.Store(&cur)
		}
		return
	}
	var runtime, old []*activeFault
	used := map[string]bool{}
	for _, f := range cur {
		if f.source != FaultFromConfig {
			runtime = append(runtime, f)
			used[f.ID] = true
		} else {
			old = append(old, f)
		}
	}
	// Each fault of the new configuration takes the first old one left
	// that it equals, else the first left that it equals but for its
	// match.user.
	next := make([]*activeFault, len(faults))
	taken := make([]bool, len(old))
	for _, follows := range []bool{false, true} {
		for i, f := range faults {
			for j := range old {
				if next[i] != nil || taken[j] || !sameFault(old[j].from, f, follows) {
					continue
				}
				taken[j], next[i] = true, old[j]
				used[old[j].ID] = true
				if follows {
					next[i] = old[j].follow(f.Match.User)
					next[i].from = f
				}
			}
		}
	}
	for i, f := range faults {
		if next[i] != nil {
			continue
		}
		// An id a runtime fault already has goes to that fault: ids must
		// name one fault for DELETE /admin/api/faults/{id}.
		from := f
		if f.ID == "" || used[f.ID] {
			f.ID = fs.newID(used)
		}
		used[f.ID] = true
		next[i] = newActiveFault(f, FaultFromConfig)
		next[i].from = from
	}
	fs.fromConfig = append([]policy.Fault(nil), faults...)
	next = append(next, runtime...)
	fs.active.Store(&next)
}

// follow returns f matching user instead, with f's id and f's counters,
// shared: a request that fires f in the same instant counts once for both,
// and the fault fires no more than its times in all.
func (f *activeFault) follow(user string) *activeFault {
	g := *f
	g.Match.User = user
	return &g
}

// followUsers returns the faults with those added at runtime whose
// match.user moves names (userMoves) following it: matching the new name,
// or gone with the user. The configuration's are the file's to change.
func followUsers(faults []*activeFault, moves map[string]string) []*activeFault {
	next := make([]*activeFault, 0, len(faults))
	for _, f := range faults {
		to, moved := moves[f.Match.User]
		switch {
		case f.source == FaultFromConfig || f.Match.User == "" || !moved:
		case to == "":
			continue
		default:
			f = f.follow(to)
		}
		next = append(next, f)
	}
	return next
}

// userMoves maps each username of old whose user (by sub) cfg has under
// another name to that name (a SCIM rename), and each whose user cfg no
// longer has to "" (a deletion), unless cfg has another user of that name
// (its sub changed by hand: it is still the user the name says).
func userMoves(old, cfg *policy.Config) map[string]string {
	var moves map[string]string
	for i := range old.Users {
		u := &old.Users[i]
		to := ""
		if now := cfg.UserBySub(u.Sub); now != nil {
			to = now.Username
		} else if cfg.User(u.Username) != nil {
			continue
		}
		if to == u.Username {
			continue
		}
		if moves == nil {
			moves = map[string]string{}
		}
		moves[u.Username] = to
	}
	return moves
}

// sameFault reports whether a and b are one fault of the configuration:
// equal, or, with anyUser, equal but for match.user.
func sameFault(a, b policy.Fault, anyUser bool) bool {
	if anyUser {
		a.Match.User, b.Match.User = "", ""
	}
	return reflect.DeepEqual(a, b)
}

// newID returns an id no fault has: f1, f2, ...
func (fs *faultSet) newID(used map[string]bool) string {
	for {
		fs.seq++
		if id := fmt.Sprintf("f%d", fs.seq); !used[id] {
			return id
		}
	}
}

// MaxFaults bounds the active faults: every token request walks the list
// and every addition copies it, and a test suite that adds a one-shot
// fault per test and never deletes it would grow it for as long as the IdP
// runs. Past it, faults added at runtime whose times are spent are
// forgotten, oldest first; when that does not make room, the addition is
// refused.
const MaxFaults = 1000

// add appends faults, all or none: an id already in use refuses them all,
// and so do more than MaxFaults with the spent runtime faults forgotten.
func (fs *faultSet) add(faults []policy.Fault) ([]*activeFault, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	cur := fs.list()
	if over := len(cur) + len(faults) - MaxFaults; over > 0 {
		spent := 0
		for _, f := range cur {
			if f.source == FaultFromAdmin && f.left.Load() == 0 {
				spent++
			}
		}
		if spent < over {
			return nil, policy.Problems{{File: "fault", Msg: fmt.Sprintf("%d faults are active, %d of them spent, and %d more would pass the limit of %d: DELETE /admin/api/faults/{id} the ones done with, or DELETE /admin/api/faults", len(cur), spent, len(faults), MaxFaults)}}
		}
		kept := make([]*activeFault, 0, MaxFaults)
		for _, f := range cur {
			if over > 0 && f.source == FaultFromAdmin && f.left.Load() == 0 {
				over--
				continue
			}
			kept = append(kept, f)
		}
		cur = kept
	}
	used := map[string]bool{}
	for _, f := range cur {
		used[f.ID] = true
	}
	var problems policy.Problems
	for i, f := range faults {
		if f.ID != "" && used[f.ID] {
			problems = append(problems, policy.Problem{File: "fault", Msg: fmt.Sprintf("faults[%d].id: a fault with id %q is already active; choose another id or delete that fault first", i, f.ID)})
		}
		used[f.ID] = true
	}
	if problems != nil {
		return nil, problems
	}
	next := append([]*activeFault(nil), cur...)
	var added []*activeFault
	for _, f := range faults {
		if f.ID == "" {
			f.ID = fs.newID(used)
			used[f.ID] = true
		}
		a := newActiveFault(f, FaultFromAdmin)
		next = append(next, a)
		added = append(added, a)
	}
	fs.active.Store(&next)
	return added, nil
}

// remove deletes the fault with this id and reports whether there was one.
func (fs *faultSet) remove(id string) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var next []*activeFault
	found := false
	for _, f := range fs.list() {
		if f.ID == id {
			found = true
			continue
		}
		next = append(next, f)
	}
	fs.active.Store(&next)
	return found
}

// clear deletes every fault, those of the configuration included (until
// the configuration's faults change), and returns how many there were.
func (fs *faultSet) clear() int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n := len(fs.list())
	fs.active.Store(nil)
	return n
}

// Faults returns the active faults, in the order they are tried.
func (s *Server) Faults() []FaultStatus {
	list := s.faults.list()
	out := make([]FaultStatus, len(list))
	for i, f := range list {
		out[i] = f.status()
	}
	return out
}

// AddFaults activates faults after validating them against the running
// configuration (policy.CheckFaults); a fault without an id gets one. They
// are added all or none; the error is policy.Problems.
func (s *Server) AddFaults(faults ...policy.Fault) ([]FaultStatus, error) {
	if err := policy.CheckFaults(faults, "", s.Config()); err != nil {
		return nil, err
	}
	added, err := s.faults.add(faults)
	if err != nil {
		return nil, err
	}
	out := make([]FaultStatus, len(added))
	for i, f := range added {
		out[i] = f.status()
	}
	return out, nil
}

// RemoveFault deactivates the fault with this id and reports whether there
// was one.
func (s *Server) RemoveFault(id string) bool { return s.faults.remove(id) }

// ClearFaults deactivates every fault, the configuration's included, and
// returns how many there were. The configuration's faults come back when a
// configuration with different faults is set.
func (s *Server) ClearFaults() int { return s.faults.clear() }

// faultsKey carries, in a request's context, the faults that delayed it,
// for its audit event.
type faultsKey struct{}

// injectFaults runs, for a token request, the faults that act before the
// request is served: delays, then the first error or bare 5xx that matches.
// It reports whether it answered the request; otherwise the request goes on,
// carrying in its context the delays it served. ID-JAG faults act later,
// when the ID-JAG is signed (faultSigner).
func (s *Server) injectFaults(w http.ResponseWriter, r *http.Request, form *tokenForm, grant string) (*http.Request, bool) {
	faults := s.faults.list()
	if !anyTokenFault(faults) {
		return r, false
	}
	switch grant {
	case grantTokenExchange, grantAuthorizationCd, grantRefreshToken:
	default:
		return r, false
	}
	// The product's own clients (the console) are never faulted: an
	// administrator must be able to sign in to remove a fault.
	if _, own := s.ownClients.Load(clientIDFromRequest(r, form)); own {
		return r, false
	}
	req, sub := s.faultRequest(r, form, grant)
	var fired []*activeFault
	for _, f := range faults {
		if f.on != policy.FaultEndpointToken || f.IDJAG != "" || !f.Matches(req) || !f.take() {
			continue
		}
		fired = append(fired, f)
		if f.Delay != 0 {
			t := time.NewTimer(f.Delay.D())
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
			}
			continue
		}
		s.answerFault(w, r, form, req, sub, f, fired)
		return r, true
	}
	if len(fired) == 0 {
		return r, false
	}
	return r.WithContext(context.WithValue(r.Context(), faultsKey{}, fired)), false
}

// ownRequestKey marks, in a request's context, a request the product
// makes of itself (the console's in-process discovery and JWKS), which
// faults never meet: an administrator must be able to sign in to remove a
// fault.
type ownRequestKey struct{}

// OwnRequest returns ctx marked as the context of a request the product
// makes of its own IdP in-process, such as the console's sign-in fetching
// discovery and the JWKS. Faults of those endpoints pass such requests by,
// as token faults pass the product's own clients by.
func OwnRequest(ctx context.Context) context.Context {
	return context.WithValue(ctx, ownRequestKey{}, true)
}

// endpointFaults runs, for a request to the JWKS, a discovery document or
// userinfo (endpoint, a policy.FaultEndpoint value), the faults of that
// endpoint: delays, then the first bare 5xx or empty JWKS. Each firing
// request is audited as a fault event. It reports whether it answered the
// request; otherwise the request is served normally.
func (s *Server) endpointFaults(w http.ResponseWriter, r *http.Request, endpoint string) bool {
	faults := s.faults.list()
	if len(faults) == 0 {
		return false
	}
	if own, _ := r.Context().Value(ownRequestKey{}).(bool); own {
		return false
	}
	var fired []*activeFault
	var answer *activeFault
	for _, f := range faults {
		if f.on != endpoint || !f.take() {
			continue
		}
		fired = append(fired, f)
		if f.Delay == 0 {
			answer = f
			break
		}
		t := time.NewTimer(f.Delay.D())
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	if len(fired) == 0 {
		return false
	}
	ev := audit.Event{Type: audit.TypeFault, Outcome: audit.Allowed, Details: map[string]any{"endpoint": endpoint, "path": r.URL.Path}}
	var reasons []string
	for _, f := range fired {
		reasons = append(reasons, "injected fault "+f.ID+": "+f.Describe())
	}
	ev.Reason = strings.Join(reasons, "; ")
	if answer != nil && answer.HTTPStatus != 0 {
		ev.Outcome = audit.Error
	}
	addInjected(&ev, fired)
	// A failure is logged by the recorder, once until it writes again.
	_, _ = s.audit.Append(ev)
	switch {
	case answer == nil:
		return false
	case answer.HTTPStatus != 0:
		writeBareStatus(w, answer.HTTPStatus)
	case answer.JWKS == policy.FaultJWKSEmpty:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(jwksMaxAge/time.Second)))
		_, _ = io.WriteString(w, `{"keys":[]}`+"\n")
	}
	return true
}

// writeBareStatus answers with a 5xx and an HTML body, as a crashed IdP
// or the proxy in front of it would.
func writeBareStatus(w http.ResponseWriter, status int) {
	text := fmt.Sprintf("%d %s", status, http.StatusText(status))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<html><head><title>%s</title></head><body><h1>%s</h1></body></html>\n", text, text)
}

// anyTokenFault reports whether a fault acts at the token endpoint before
// the request is served, so that one that does not (a fault of the JWKS,
// say) costs a token request nothing.
func anyTokenFault(faults []*activeFault) bool {
	for _, f := range faults {
		if f.on == policy.FaultEndpointToken && f.IDJAG == "" {
			return true
		}
	}
	return false
}

// anyIDJAGFault reports whether a fault breaks ID-JAGs.
func anyIDJAGFault(faults []*activeFault) bool {
	for _, f := range faults {
		if f.IDJAG != "" {
			return true
		}
	}
	return false
}

// faultRequest establishes what a fault can match: the client, if it
// authenticated; the user, if the subject token, code or refresh token is
// valid for that client; the MCP server the audience names. Nothing here
// has side effects (no code is taken, no assertion jti is recorded): the
// request is served normally afterwards.
func (s *Server) faultRequest(r *http.Request, form *tokenForm, grant string) (policy.FaultRequest, string) {
	cfg := s.Config()
	req := policy.FaultRequest{GrantType: grant}
	// A URL client_id that is no configured client is resolved as the
	// request will be (the resolver caches the document), so that a
	// fault can name a metadata document client.
	lookup := func(id string) *policy.Client {
		c, err := s.tokenClient(r.Context(), cfg, id)
		if err != nil {
			return nil
		}
		return c
	}
	c := faultClient(cfg, lookup, r, form)
	if c != nil {
		req.Client = c.ClientID
	}
	sub := ""
	switch {
	case grant == grantTokenExchange:
		if srv := cfg.ServerByAudience(form.Get("audience")); srv != nil {
			req.Server = srv.ID
		}
		if c == nil {
			break
		}
		var subj subject
		var err *oauthError
		switch form.Get("subject_token_type") {
		case tokenTypeIDToken:
			subj, err = s.verifyIDToken(form.Get("subject_token"), c.ClientID)
		case tokenTypeRefresh:
			subj, err = s.verifyRefreshSubject(form.Get("subject_token"), c.ClientID)
		}
		if err == nil {
			sub = subj.Sub
		}
	case c == nil:
	case grant == grantAuthorizationCd:
		if id, ok := s.store.codes.Get(form.Get("code")); ok {
			if ar, ok := s.store.authRequests.Get(id); ok && ar.ClientID == c.ClientID {
				sub = ar.Subject
			}
		}
	case grant == grantRefreshToken:
		if rt, ok := s.store.lookupRefreshToken(form.Get("refresh_token")); ok && rt.ClientID == c.ClientID {
			sub = rt.Subject
		}
	}
	if u := cfg.UserBySub(sub); u != nil {
		req.User = u.Username
	}
	return req, sub
}

// faultClient returns the client a token request authenticates as, or nil.
// It checks the credentials as authenticateClient does but records nothing,
// so that the request can be authenticated again when it is served.
// lookup finds the public clients and the clients of assertions: a
// configured one, or the metadata document client of a URL client_id
// (which has no secret, so the secret methods look at configured clients
// only).
func faultClient(cfg *policy.Config, lookup func(id string) *policy.Client, r *http.Request, form *tokenForm) *policy.Client {
	if id, secret, ok := r.BasicAuth(); ok {
		id = decodeBasic(id)
		if c := cfg.Client(id); c != nil && (secretMatches(c, secret) || secretMatches(c, decodeBasic(secret))) {
			return c
		}
		if secret == "" {
			// A public client as Basic with an empty password, which
			// authenticateClient takes as none.
			if c := lookup(id); c != nil && c.Public() {
				return c
			}
		}
		return nil
	}
	if secret := form.Get("client_secret"); secret != "" {
		if c := cfg.Client(form.Get("client_id")); c != nil && secretMatches(c, secret) {
			return c
		}
		return nil
	}
	if assertion := form.Get("client_assertion"); assertion != "" {
		return assertionClient(lookup, assertion)
	}
	if id := form.Get("client_id"); id != "" {
		if c := lookup(id); c != nil && c.Public() {
			return c
		}
	}
	return nil
}

// assertionClient returns the client whose registered key signed a
// private_key_jwt assertion, or nil. Lifetime, audience and replay are
// authenticateAssertion's business when the request is served.
func assertionClient(lookup func(id string) *policy.Client, assertion string) *policy.Client {
	tok, err := jwt.ParseSigned(assertion, clientAssertionAlgs)
	if err != nil {
		return nil
	}
	var unverified jwt.Claims
	if tok.UnsafeClaimsWithoutVerification(&unverified) != nil {
		return nil
	}
	c := lookup(unverified.Issuer)
	if c == nil {
		return nil
	}
	keys, err := clientKeys(c)
	if err != nil {
		return nil
	}
	for _, k := range keys.Keys {
		var claims jwt.Claims
		if ed25519alg.Claims(tok, assertion, k.Key, &claims) == nil {
			return c
		}
	}
	return nil
}

// answerFault answers a token request with an error fault or a bare 5xx,
// after auditing it as injected.
func (s *Server) answerFault(w http.ResponseWriter, r *http.Request, form *tokenForm, req policy.FaultRequest, sub string, f *activeFault, fired []*activeFault) {
	ev := audit.Event{
		Type:      audit.TypeToken,
		Outcome:   audit.Error,
		GrantType: req.GrantType,
		ClientID:  req.Client,
		User:      req.User,
		Sub:       sub,
		Reason:    "injected fault " + f.ID + ": " + f.Describe(),
	}
	if ev.ClientID == "" {
		ev.ClientID = clientIDFromRequest(r, form)
	}
	if req.GrantType == grantTokenExchange {
		ev.Type, ev.Server = audit.TypeTokenExchange, req.Server
		ev.Audience, ev.Resource, ev.ScopeRequested = form.Get("audience"), form.Get("resource"), form.Get("scope")
	}
	if f.HTTPStatus == 0 {
		ev.Error = f.Error.Code
	}
	addInjected(&ev, fired)
	// A failure is logged by the recorder, once until it writes again.
	_, _ = s.audit.Append(ev)
	if f.HTTPStatus != 0 {
		writeBareStatus(w, f.HTTPStatus)
		return
	}
	desc := f.Error.Description
	if desc == "" {
		desc = "injected by xaa-idp (fault " + f.ID + ")"
	}
	writeOAuthError(w, r, &oauthError{Code: f.Error.Code, Status: f.ErrorStatus(), Description: desc})
}

// markInjected records in a request's audit event the delays it served.
func markInjected(r *http.Request, ev *audit.Event) {
	if fired, _ := r.Context().Value(faultsKey{}).([]*activeFault); len(fired) > 0 {
		addInjected(ev, fired)
	}
}

// addInjected marks an event as injected and lists, under details.faults,
// the faults with what each injected.
func addInjected(ev *audit.Event, fired []*activeFault) {
	ev.Injected = true
	if ev.Details == nil {
		ev.Details = map[string]any{}
	}
	list, _ := ev.Details["faults"].([]any)
	for _, f := range fired {
		list = append(list, faultDoc(f.Fault))
	}
	ev.Details["faults"] = list
}

// faultDoc is a fault as a generic document, keyed as in the configuration.
func faultDoc(f policy.Fault) map[string]any {
	var m map[string]any
	if b, err := json.Marshal(f); err == nil {
		_ = json.Unmarshal(b, &m)
	}
	return m
}

// faultSigner is the fault hook around signing: it signs every ID-JAG
// through the key ring and, when an id_jag fault matches the exchange (its
// client, user and server, as the exchange's audit event records them),
// hands back a deliberately broken one in its place and marks the event.
// Everything else the Signer does passes through.
type faultSigner struct {
	signer.Signer
	ring   *signer.Ring // makes the broken ID-JAGs
	faults *faultSet
}

var _ signer.Signer = (*faultSigner)(nil)

// SignIDJAG implements signer.Signer.
func (fs *faultSigner) SignIDJAG(ctx context.Context, claims any) (string, error) {
	jag, err := fs.Signer.SignIDJAG(ctx, claims)
	faults := fs.faults.list()
	ev := exchangeEvent(ctx)
	c, isJAG := claims.(idJAGClaims)
	if err != nil || len(faults) == 0 || ev == nil || !isJAG {
		return jag, err
	}
	req := policy.FaultRequest{GrantType: grantTokenExchange, Client: ev.ClientID, User: ev.User, Server: ev.Server}
	for _, f := range faults {
		if f.IDJAG == "" || !f.Matches(req) || !f.take() {
			continue
		}
		broken, err := fs.breakIDJAG(jag, c, ev.ClientID, ev.Resource, f.IDJAG)
		if err != nil {
			return "", err
		}
		addInjected(ev, []*activeFault{f})
		ev.Reason += "; injected fault " + f.ID + ": " + f.Describe()
		// The event names the ID-JAG issued (docs/audit.md), not the
		// sound one it replaces.
		switch f.IDJAG {
		case policy.FaultMissingJTI:
			ev.JTI = ""
		case policy.FaultWrongCnf:
			ev.Details["cnf_jkt"] = faultJKT
		case policy.FaultUnknownScope:
			ev.ScopeGranted = withFaultScope(c.Scope)
		case policy.FaultUnmappedClient:
			ev.Details["client_id_at_server"] = unmappedClientID(ev.ClientID, c.ClientID)
		case policy.FaultMissingClientID:
			delete(ev.Details, "client_id_at_server")
		case policy.FaultWrongResource:
			// resource stays the request's, as sent (docs/audit.md).
			ev.Details["id_jag_resource"] = faultResource
		case policy.FaultMissingSub:
			// sub stays the user's, whom the event is about; "" is
			// an ID-JAG without one.
			ev.Details["id_jag_sub"] = ""
		}
		return broken, nil
	}
	return jag, nil
}

// exchangeEventKey carries, in a token exchange's context, its audit event,
// which the fault hook matches faults against and marks.
type exchangeEventKey struct{}

func withExchangeEvent(ctx context.Context, ev *audit.Event) context.Context {
	return context.WithValue(ctx, exchangeEventKey{}, ev)
}

func exchangeEvent(ctx context.Context) *audit.Event {
	ev, _ := ctx.Value(exchangeEventKey{}).(*audit.Event)
	return ev
}

// Values the broken ID-JAGs carry.
const (
	faultKID      = "xaa-idp-fault-unknown-kid"
	faultResource = "https://wrong-resource.invalid/mcp"
	faultIssuer   = "https://wrong-issuer.invalid"
	faultScope    = "xaa-idp-fault-unknown-scope"
	// faultJKT has the shape of a JWK SHA-256 thumbprint (RFC 7638) and
	// is of no key: the SHA-256 of "xaa-idp-fault-unheld-key", base64url.
	faultJKT    = "rkRxKMqdsMzIp7xCyOgWgHCCxI1YsZTMUYI9675C_SQ"
	faultOffset = 10 * time.Minute // how far expired or not-yet-valid tokens are off
)

// breakIDJAG returns a variant of the signed ID-JAG good, issued to the
// IdP client idpClient for the resource requested (the request's, "" for
// none), that fails one check of the authorization server (see
// policy.FaultIDJAGKinds).
func (fs *faultSigner) breakIDJAG(good string, claims idJAGClaims, idpClient, requested, kind string) (string, error) {
	if kind == policy.FaultBadSignature {
		parts := strings.Split(good, ".")
		sig, err := base64.RawURLEncoding.DecodeString(parts[len(parts)-1])
		if err != nil || len(sig) == 0 {
			return "", fmt.Errorf("idp: fault %s: %v", kind, err)
		}
		sig[0] ^= 0xff
		parts[len(parts)-1] = base64.RawURLEncoding.EncodeToString(sig)
		return strings.Join(parts, "."), nil
	}
	var m map[string]any
	if b, err := json.Marshal(claims); err != nil {
		return "", err
	} else if err := json.Unmarshal(b, &m); err != nil {
		return "", err
	}
	kid, typ := "", signer.IDJAGType
	lifetime := claims.Expiry - claims.IssuedAt
	offset := int64(faultOffset / time.Second)
	// The MCP server's URL, which the classic mix-up puts in aud: the
	// requested one when id_jag.resource_claim leaves it out of the
	// claims.
	mcpURL := claims.Resource
	if mcpURL == "" {
		mcpURL = requested
	}
	if mcpURL == "" {
		mcpURL = claims.Audience.value + "/wrong-audience"
	}
	switch kind {
	case policy.FaultWrongTyp:
		typ = "JWT"
	case policy.FaultWrongAud:
		// The classic mix-up: the MCP server's URL where its
		// authorization server's issuer belongs, written as aud is
		// (id_jag.aud), so that only its value is wrong.
		m["aud"] = audience{value: mcpURL, array: claims.Audience.array}
	case policy.FaultMultipleAud:
		// ID-JAG draft section 3: aud is the one authorization
		// server, a one-element array at most.
		m["aud"] = []string{claims.Audience.value, mcpURL}
	case policy.FaultExpired:
		m["exp"] = claims.IssuedAt - offset
		m["iat"] = claims.IssuedAt - offset - lifetime
	case policy.FaultNotYetValid:
		// exp and iat as issued: a later exp would lengthen the
		// lifetime (exp less iat) past what an authorization server
		// that bounds it accepts (RFC 7523 section 3), and it would
		// refuse the ID-JAG for that, its nbf check untested.
		m["nbf"] = claims.IssuedAt + offset
	case policy.FaultUnknownKID:
		kid = faultKID
	case policy.FaultMissingClientID:
		delete(m, "client_id")
	case policy.FaultWrongResource:
		m["resource"] = faultResource
	case policy.FaultAlgNone:
		return unsecuredIDJAG(good, m)
	case policy.FaultWrongCnf:
		// RFC 9449 section 6.1: a bound ID-JAG is redeemed only with a
		// proof of its key, which no client holds here, whether the
		// exchange bound it to the client's key or not.
		m["cnf"] = map[string]string{"jkt": faultJKT}
	case policy.FaultWrongIss:
		// Signed with the IdP's published key, so that only the
		// issuer check (a trust list, ID-JAG draft section 4.4.1)
		// refuses it.
		m["iss"] = faultIssuer
	case policy.FaultMissingSub:
		delete(m, "sub")
	case policy.FaultMissingJTI:
		// EMA section 7.4: without jti there is no replay detection.
		delete(m, "jti")
	case policy.FaultUnknownScope:
		// The scopes the policy granted and one the server does not
		// define, as an IdP that does not intersect scopes issues them.
		m["scope"] = withFaultScope(claims.Scope)
	case policy.FaultUnmappedClient:
		// The mapping skipped (ID-JAG draft section 3.1: client_id is
		// the client's id at the authorization server), the mistake
		// behind most client_id mismatches in the field.
		m["client_id"] = unmappedClientID(idpClient, claims.ClientID)
	default:
		return "", fmt.Errorf("idp: unknown id_jag fault %q", kind)
	}
	return fs.ring.SignIDJAGAs(m, kid, typ)
}

// withFaultScope is the scope of the unknown_scope fault: the scopes
// granted and one the MCP server does not define.
func withFaultScope(granted string) string {
	return strings.TrimSpace(granted + " " + faultScope)
}

// unmappedClientID is the client_id of the unmapped_client_id fault: the
// client's id at the IdP (idpClient) where its id at the server (mapped)
// belongs. A client mapped to its own id still gets one that is not that.
func unmappedClientID(idpClient, mapped string) string {
	if idpClient == mapped {
		return idpClient + "-unmapped"
	}
	return idpClient
}

// unsecuredIDJAG is the alg_none fault: the claims of the signed ID-JAG
// good as an unsecured JWT (RFC 7519 section 6.1: alg "none", an empty
// signature) under good's kid and typ, so that only an authorization
// server that takes the algorithm from the header accepts it (RFC 8725
// section 3.1; EMA section 7.4.1 allow-lists the algorithms).
func unsecuredIDJAG(good string, claims map[string]any) (string, error) {
	encoded, _, _ := strings.Cut(good, ".")
	raw, err := base64.RawURLEncoding.DecodeString(encoded)
	if err != nil {
		return "", fmt.Errorf("idp: fault %s: the header: %v", policy.FaultAlgNone, err)
	}
	var header struct {
		KID string `json:"kid"`
	}
	if err := json.Unmarshal(raw, &header); err != nil {
		return "", fmt.Errorf("idp: fault %s: the header: %v", policy.FaultAlgNone, err)
	}
	h, err := json.Marshal(map[string]string{"alg": "none", "kid": header.KID, "typ": signer.IDJAGType})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(payload) + ".", nil
}
