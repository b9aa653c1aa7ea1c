package web

import (
	"net/http"
	"strconv"
	"sync"
)

// Live tails held at once: each is a connection, a goroutine and an audit
// subscription for as long as it lasts, so neither one session (a page
// reloaded in many tabs, a script) nor all of them may hold them without
// bound.
const (
	maxTailsPerSession = 4
	maxTails           = 64
	// tailRetryAfter is the Retry-After of a tail refused at a cap: a slot
	// frees when a tail ends, which no one can foresee.
	tailRetryAfter = 30
)

// TailSlots counts the live tails open, per console session and in all.
// The consoles of one process (every tenant's) share one, so that maxTails
// bounds the process, not each tenant (Options.TailSlots).
type TailSlots struct {
	mu        sync.Mutex
	bySession map[string]int
	total     int
}

// NewTailSlots returns the count of a process's live tails, none open.
func NewTailSlots() *TailSlots { return &TailSlots{bySession: map[string]int{}} }

// take takes a slot for a tail of session (a console session's ID,
// random, so unique across the consoles sharing s), or answers the
// refusal into w (429 at the session's cap, 503 at the total's, both with
// Retry-After) and reports false. The caller gives a slot it took back
// with give.
func (s *TailSlots) take(w http.ResponseWriter, session string) bool {
	s.mu.Lock()
	perSession, total := s.bySession[session] >= maxTailsPerSession, s.total >= maxTails
	if !perSession && !total {
		s.bySession[session]++
		s.total++
	}
	s.mu.Unlock()
	switch {
	case perSession:
		w.Header().Set("Retry-After", strconv.Itoa(tailRetryAfter))
		http.Error(w, "this console session has "+strconv.Itoa(maxTailsPerSession)+" live tails open, the most it may: close one (another tab) and retry", http.StatusTooManyRequests)
		return false
	case total:
		w.Header().Set("Retry-After", strconv.Itoa(tailRetryAfter))
		http.Error(w, "the console has "+strconv.Itoa(maxTails)+" live tails open, the most it serves at once: retry later", http.StatusServiceUnavailable)
		return false
	}
	return true
}

// give gives back a slot of session that take took.
func (s *TailSlots) give(session string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bySession[session]--; s.bySession[session] <= 0 {
		delete(s.bySession, session)
	}
	s.total--
}
