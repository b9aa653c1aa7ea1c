// Package access keeps the requests users make for access to MCP servers
// (docs/http.md, "Access requests"): a user asks at the IdP, an admin
// approves or denies through the admin API. The store is bounded and, with
// a file, survives restarts; it knows nothing of HTTP or of the policy, so
// that the IdP (the requester's side) and the admin API (the approver's)
// share it without depending on each other.
package access

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/xaa-idp/xaa-idp/internal/atomicfile"
	"github.com/xaa-idp/xaa-idp/internal/httpjson"
)

// Statuses of a request.
const (
	Pending  = "pending"
	Approved = "approved"
	Denied   = "denied"
)

// Bounds of the store and of a request's text (docs/http.md, "Access
// requests").
const (
	// DefaultMaxRequests is how many requests the store keeps by default:
	// beyond it the oldest decided request is forgotten.
	DefaultMaxRequests = 10000
	// DefaultMaxPendingPerUser is how many pending requests one user may
	// have by default.
	DefaultMaxPendingPerUser = 20
	// MaxReasonChars bounds a request's reason and a denial's reason, in
	// characters (Unicode code points): the pages' reason fields have
	// maxlength="1024", which counts characters (UTF-16 code units, so
	// never fewer than code points), and the server must take whatever
	// text they let a user type, in any script.
	MaxReasonChars = 1024
)

// Request is one request for access to an MCP server.
type Request struct {
	ID   string `json:"id"`
	User string `json:"user"`
	// Sub is the requester's sub when the request was made (or, for a
	// request written before requests recorded it, when the IdP first
	// started with it): a user of the same name with another sub is
	// another user, whose access this request never asked for.
	Sub     string    `json:"sub,omitempty"`
	Server  string    `json:"server"`
	Scopes  []string  `json:"scopes"`
	Reason  string    `json:"reason"` // written when empty too: the product contract lists it
	Status  string    `json:"status"`
	Created time.Time `json:"created"`
	// Decided, DecidedBy: when and by which admin it was approved or
	// denied.
	Decided   *time.Time `json:"decided,omitempty"`
	DecidedBy string     `json:"decided_by,omitempty"`
	// Granted are the scopes an approval granted (a subset of Scopes).
	Granted []string `json:"granted_scopes,omitempty"`
	// Expires is when the access an approval granted ends; nil: never.
	Expires *time.Time `json:"expires,omitempty"`
	// DenyReason is the admin's reason for a denial.
	DenyReason string `json:"deny_reason,omitempty"`
}

// Of reports whether r is a request of the user with this username and
// sub: another user of that name (another sub) did not make it. A request
// written before requests recorded a sub is the name's.
func (r Request) Of(username, sub string) bool {
	return r.User == username && (r.Sub == "" || r.Sub == sub)
}

// timeLayout is how a request's times are written: RFC 3339 in UTC with
// milliseconds, as the audit log writes its events' times, so that a
// request and the events about it read alike.
const timeLayout = "2006-01-02T15:04:05.000Z"

// MarshalJSON writes the request with its times in timeLayout. (Reading
// takes any RFC 3339 time, so files of earlier versions, with
// nanoseconds, still load.)
func (r Request) MarshalJSON() ([]byte, error) {
	type plain Request // without this method
	stamp := func(t *time.Time) *string {
		if t == nil {
			return nil
		}
		s := t.UTC().Format(timeLayout)
		return &s
	}
	// Without HTML escapes, which an encoder writing this would keep: a
	// reason's "&" reaches curl and jq as it is.
	b, err := httpjson.Marshal(struct {
		plain
		Created *string `json:"created"`
		Decided *string `json:"decided,omitempty"`
		Expires *string `json:"expires,omitempty"`
	}{plain(r), stamp(&r.Created), stamp(r.Decided), stamp(r.Expires)})
	return bytes.TrimSuffix(b, []byte("\n")), err
}

// ReasonTooLong reports whether a reason has more than MaxReasonChars
// characters.
func ReasonTooLong(reason string) bool {
	return len(reason) > MaxReasonChars && utf8.RuneCountInString(reason) > MaxReasonChars
}

// Decision decides a pending request.
type Decision struct {
	Status  string // Approved or Denied
	Admin   string
	Granted []string   // Approved: the scopes granted
	Expires *time.Time // Approved: when the access ends; nil: never
	Reason  string     // Denied: why
	// At is when it was decided; zero means now. An approval settled
	// after a restart is dated when the admin made it, not when the
	// restart noticed it.
	At time.Time
}

// Errors of Create and Decide.
var (
	ErrNotFound = errors.New("access: no such request")
	ErrFull     = errors.New("access: the store is full of pending requests; decide some first")
)

// DuplicateError is Create's answer to a request while the same user's
// request for the same server is pending.
type DuplicateError struct{ Pending Request }

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("access: %s already has pending request %s for %s", e.Pending.User, e.Pending.ID, e.Pending.Server)
}

// TooManyError is Create's answer to a user with too many pending requests.
type TooManyError struct{ Max int }

func (e *TooManyError) Error() string {
	return fmt.Sprintf("access: the user has %d pending requests, the most allowed; wait for an admin to decide them", e.Max)
}

// NotPendingError is Decide's answer for a request already decided.
type NotPendingError struct{ Request Request }

func (e *NotPendingError) Error() string {
	return fmt.Sprintf("access: request %s is already %s", e.Request.ID, e.Request.Status)
}

// Options configure a Store.
type Options struct {
	// File, when set, keeps the requests across restarts: it is read at
	// Open and rewritten atomically after every change. "" keeps them in
	// memory.
	File string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxRequests and MaxPendingPerUser bound the store; 0 means
	// DefaultMaxRequests and DefaultMaxPendingPerUser.
	MaxRequests, MaxPendingPerUser int
}

// Store holds the requests, oldest first. It is safe for concurrent use.
type Store struct {
	mu       sync.Mutex
	o        Options
	requests []Request
}

// Open returns the store, with the requests of Options.File when it exists.
func Open(o Options) (*Store, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxRequests <= 0 {
		o.MaxRequests = DefaultMaxRequests
	}
	if o.MaxPendingPerUser <= 0 {
		o.MaxPendingPerUser = DefaultMaxPendingPerUser
	}
	s := &Store{o: o}
	if o.File == "" {
		return s, nil
	}
	data, err := os.ReadFile(o.File)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("access requests: %w", err)
	}
	if err := json.Unmarshal(data, &s.requests); err != nil {
		return nil, fmt.Errorf("access requests: %s is not the JSON array this program writes (%v); fix or remove it (its pending requests are then lost)", o.File, err)
	}
	return s, nil
}

// Create adds a pending request for r's User, Server, Scopes and Reason,
// and returns it with its id, status and creation time.
func (s *Store) Create(r Request) (Request, error) {
	return s.CreateRecorded(r, nil)
}

// CreateRecorded is Create that passes the request, once made, to record
// (when set) before anything changes: an error from record creates
// nothing, removes nothing, and is returned. The IdP audits the request
// there, so that none is kept without its audit event (the audit log
// closed by a stop, or broken). record runs under the store's lock; a
// save that fails after it is Create's error.
func (s *Store) CreateRecorded(r Request, record func(Request) error) (Request, error) {
	if ReasonTooLong(r.Reason) {
		return Request{}, fmt.Errorf("access: the reason is longer than %d characters", MaxReasonChars)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	pending := 0
	for _, q := range s.requests {
		if q.Status != Pending || q.User != r.User {
			continue
		}
		if q.Server == r.Server {
			return Request{}, &DuplicateError{Pending: clone(q)}
		}
		pending++
	}
	if pending >= s.o.MaxPendingPerUser {
		return Request{}, &TooManyError{Max: s.o.MaxPendingPerUser}
	}
	evict := -1 // the oldest decided request, which a full store drops
	if len(s.requests) >= s.o.MaxRequests {
		evict = slices.IndexFunc(s.requests, func(q Request) bool { return q.Status != Pending })
		if evict < 0 {
			return Request{}, ErrFull
		}
	}
	r = Request{ID: "ar_" + rand.Text(), User: r.User, Sub: r.Sub, Server: r.Server, Scopes: slices.Clone(r.Scopes),
		Reason: r.Reason, Status: Pending, Created: s.o.Now().UTC().Truncate(time.Millisecond)}
	if r.Scopes == nil {
		r.Scopes = []string{}
	}
	if record != nil {
		if err := record(clone(r)); err != nil {
			return Request{}, err
		}
	}
	var evicted Request
	if evict >= 0 {
		evicted = s.requests[evict]
		s.requests = slices.Delete(s.requests, evict, evict+1)
	}
	s.requests = append(s.requests, r)
	if err := s.saveLocked(); err != nil {
		// As it was, the request dropped for this one too.
		s.requests = s.requests[:len(s.requests)-1]
		if evict >= 0 {
			s.requests = slices.Insert(s.requests, evict, evicted)
		}
		return Request{}, err
	}
	return clone(r), nil
}

// Get returns the request with this id.
func (s *Store) Get(id string) (Request, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := s.index(id); i >= 0 {
		return clone(s.requests[i]), true
	}
	return Request{}, false
}

// List returns the requests with this status ("" for all), oldest first.
func (s *Store) List(status string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Request{}
	for _, r := range s.requests {
		if status == "" || r.Status == status {
			out = append(out, clone(r))
		}
	}
	return out
}

// Decide approves or denies the pending request id: ErrNotFound for an
// unknown id, *NotPendingError for one already decided.
func (s *Store) Decide(id string, d Decision) (Request, error) {
	return s.DecideRecorded(id, d, nil)
}

// DecideRecorded is Decide that passes the request, decided, to record
// (when set) before anything changes: an error from record decides
// nothing, and is returned (see CreateRecorded).
func (s *Store) DecideRecorded(id string, d Decision, record func(Request) error) (Request, error) {
	if d.Status != Approved && d.Status != Denied {
		return Request{}, fmt.Errorf("access: a decision is %s or %s, not %q", Approved, Denied, d.Status)
	}
	if ReasonTooLong(d.Reason) {
		return Request{}, fmt.Errorf("access: the reason is longer than %d characters", MaxReasonChars)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.index(id)
	if i < 0 {
		return Request{}, ErrNotFound
	}
	if s.requests[i].Status != Pending {
		return Request{}, &NotPendingError{Request: clone(s.requests[i])}
	}
	before := s.requests[i]
	now := d.At
	if now.IsZero() {
		now = s.o.Now()
	}
	now = now.UTC().Truncate(time.Millisecond)
	r := clone(before)
	r.Status, r.Decided, r.DecidedBy = d.Status, &now, d.Admin
	if d.Status == Approved {
		r.Granted, r.Expires = slices.Clone(d.Granted), d.Expires
	} else {
		r.DenyReason = d.Reason
	}
	if record != nil {
		if err := record(clone(r)); err != nil {
			return Request{}, err
		}
	}
	s.requests[i] = r
	if err := s.saveLocked(); err != nil {
		s.requests[i] = before
		return Request{}, err
	}
	return clone(r), nil
}

// DenyPending denies, at once and without an admin, every pending request
// for which why returns a reason (its DenyReason), and returns them as
// denied: one rewrite of the file however many there are, where Decide
// would rewrite it for each. Nothing changes when the rewrite fails.
func (s *Store) DenyPending(why func(Request) string) ([]Request, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var denied []int
	var before []Request // the denied ones as they were, put back if the save fails
	now := s.o.Now().UTC().Truncate(time.Millisecond)
	for i, r := range s.requests {
		if r.Status != Pending {
			continue
		}
		reason := why(clone(r))
		if reason == "" {
			continue
		}
		if ReasonTooLong(reason) {
			reason = string([]rune(reason)[:MaxReasonChars])
		}
		before = append(before, r)
		r = clone(r)
		r.Status, r.Decided, r.DenyReason = Denied, &now, reason
		s.requests[i] = r
		denied = append(denied, i)
	}
	if len(denied) == 0 {
		return nil, nil
	}
	if err := s.saveLocked(); err != nil {
		for k, i := range denied {
			s.requests[i] = before[k]
		}
		return nil, err
	}
	out := make([]Request, 0, len(denied))
	for _, i := range denied {
		out = append(out, clone(s.requests[i]))
	}
	return out, nil
}

// RenamePending gives every pending request for which to returns a
// username other than its user that username: a user renamed keeps its
// requests. One rewrite of the file; nothing changes when it fails.
func (s *Store) RenamePending(to func(Request) string) (int, error) {
	return s.updatePending(func(r *Request) bool {
		if name := to(clone(*r)); name != "" && name != r.User {
			r.User = name
			return true
		}
		return false
	})
}

// RecordSubs gives every pending request without a sub (one written
// before requests recorded it) the sub that sub returns for it, when not
// "". One rewrite of the file; nothing changes when it fails.
func (s *Store) RecordSubs(sub func(Request) string) (int, error) {
	return s.updatePending(func(r *Request) bool {
		if r.Sub != "" {
			return false
		}
		if v := sub(clone(*r)); v != "" {
			r.Sub = v
			return true
		}
		return false
	})
}

// updatePending lets edit change each pending request in place, reporting
// whether it did, and saves the changes in one rewrite of the file; when
// that fails, nothing changes. It returns how many requests changed.
func (s *Store) updatePending(edit func(*Request) bool) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	before := slices.Clone(s.requests)
	n := 0
	for i := range s.requests {
		if s.requests[i].Status == Pending && edit(&s.requests[i]) {
			n++
		}
	}
	if n == 0 {
		return 0, nil
	}
	if err := s.saveLocked(); err != nil {
		s.requests = before
		return 0, err
	}
	return n, nil
}

func (s *Store) index(id string) int {
	return slices.IndexFunc(s.requests, func(r Request) bool { return r.ID == id })
}

// saveLocked rewrites the file, when there is one, atomically: a crash
// leaves the old requests or the new, never half of them.
func (s *Store) saveLocked() error {
	if s.o.File == "" {
		return nil
	}
	data, err := json.Marshal(s.requests)
	if err != nil {
		return fmt.Errorf("access requests: %w", err)
	}
	if _, err := atomicfile.Write(s.o.File, data, 0o600); err != nil {
		return fmt.Errorf("access requests: writing %s: %w; check the state directory's disk and permissions", s.o.File, err)
	}
	return nil
}

func clone(r Request) Request {
	r.Scopes, r.Granted = slices.Clone(r.Scopes), slices.Clone(r.Granted)
	if r.Scopes == nil {
		r.Scopes = []string{}
	}
	return r
}

// TimeLeft says how long access lasts from now until until, as the pages
// show it: "expires in 7h 59m", "expires in 2d 3h", "expired"; "" for a zero
// until (access that does not expire).
func TimeLeft(until, now time.Time) string {
	if until.IsZero() {
		return ""
	}
	d := until.Sub(now)
	if d <= 0 {
		return "expired"
	}
	d = d.Truncate(time.Minute)
	days, hours, mins := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case days > 0:
		return fmt.Sprintf("expires in %dd %dh", days, hours)
	case hours > 0:
		return fmt.Sprintf("expires in %dh %dm", hours, mins)
	case mins > 0:
		return fmt.Sprintf("expires in %dm", mins)
	}
	return "expires in less than a minute"
}
