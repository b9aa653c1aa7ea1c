package audit

import (
	"bytes"
	"sync"
	"sync/atomic"
)

// subscribers fans committed events out to live tails.
type subscribers struct {
	mu     sync.Mutex
	next   int
	chans  map[int]chan *Event
	skip   map[int][]skipLine    // per subscriber, the events it does not want, as lines hold them
	tenant map[int][]byte        // per subscriber of a tenant's view, its tenant as lines hold it
	missed map[int]*atomic.Int64 // per subscriber, the events left out because its buffer was full
	closed bool

	// counted are the subscribers SubscribeCounting made (serve's log),
	// whose missed events, by the events' tenant, are SubscriberMisses.
	counted  map[int]bool
	missedBy map[string]int64
}

// Subscribe returns a channel that receives every event appended from now on, in append order,
// and a function that stops the subscription and closes the channel. Events reach the channel
// only after they are durable, so a tail never shows an event that a crash could take back. Every
// subscriber receives the same *Event, which none may modify; the channel holds pointers, so that
// a buffer for a burst costs little while it is empty.
//
// A subscriber that falls more than buffer events behind misses events rather than slowing
// Append: the audit log must not let one stalled console tab hold up logins. With buffer 0 an
// event is delivered only if the receiver is already waiting. cancel may be called any number of
// times, from any goroutine. Close closes every subscription's channel; Subscribe after Close
// returns a closed channel.
func (l *Log) Subscribe(buffer int) (events <-chan *Event, cancel func()) {
	return l.SubscribeExcept(buffer)
}

// SubscribeExcept is Subscribe without the events of the given types, which are then not even
// decoded for it.
func (l *Log) SubscribeExcept(buffer int, types ...string) (events <-chan *Event, cancel func()) {
	skip := make([]Skip, len(types))
	for i, t := range types {
		skip[i] = Skip{Type: t}
	}
	return l.SubscribeSkipping(buffer, skip...)
}

// Skip names events a subscriber does not want: those of Type and, if Outcome is not empty, of
// that outcome only.
type Skip struct{ Type, Outcome string }

// SubscribeSkipping is Subscribe without the events that skip names, which are then not even
// decoded for it: the server's log of audit events skips allowed token exchanges below debug
// level, the one event of every exchange, and still logs the refused ones.
func (l *Log) SubscribeSkipping(buffer int, skip ...Skip) (events <-chan *Event, cancel func()) {
	events, _, cancel = l.subscribe(buffer, false, skip)
	return events, cancel
}

// SubscribeCounting is SubscribeSkipping that also reports how many events the subscription has
// left out so far because it fell behind, so that its reader can say so (serve's log does). Its
// misses, unlike those of the other subscriptions (a console's tail), are SubscriberMisses'.
func (l *Log) SubscribeCounting(buffer int, skip ...Skip) (events <-chan *Event, missed func() int64, cancel func()) {
	return l.subscribe(buffer, true, skip)
}

// subscribe is SubscribeCounting, whose misses count in SubscriberMisses when counted is true. A
// tenant's view subscribes to the shared log for that tenant's events alone: it neither receives
// nor misses another's.
func (l *Log) subscribe(buffer int, counted bool, skip []Skip) (events <-chan *Event, missed func() int64, cancel func()) {
	var tenant []byte
	if l.shared != nil {
		tenant = appendString(nil, l.tenant)
		l = l.shared
	}
	ch := make(chan *Event, max(buffer, 0))
	n := new(atomic.Int64)
	s := &l.subs
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		close(ch)
		return ch, n.Load, func() {}
	}
	if s.chans == nil {
		s.chans = make(map[int]chan *Event)
		s.missed = make(map[int]*atomic.Int64)
	}
	id := s.next
	s.next++
	s.chans[id] = ch
	s.missed[id] = n
	if tenant != nil {
		if s.tenant == nil {
			s.tenant = make(map[int][]byte)
		}
		s.tenant[id] = tenant
	}
	if counted {
		if s.counted == nil {
			s.counted = make(map[int]bool)
		}
		s.counted[id] = true
	}
	if len(skip) > 0 {
		if s.skip == nil {
			s.skip = make(map[int][]skipLine)
		}
		for _, k := range skip {
			sl := skipLine{typ: appendString(nil, k.Type)}
			if k.Outcome != "" {
				sl.outcome = appendString(nil, k.Outcome)
			}
			s.skip[id] = append(s.skip[id], sl)
		}
	}
	return ch, n.Load, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		// Close may already have closed it; the map tells whether it is still ours to close.
		if c, ok := s.chans[id]; ok {
			delete(s.chans, id)
			delete(s.skip, id)
			delete(s.tenant, id)
			delete(s.missed, id)
			delete(s.counted, id)
			close(c)
		}
	}
}

// publish sends evs to every subscriber that has room. Holding mu while sending is what makes it
// safe against a concurrent cancel closing the channel; the sends never block, so neither does
// cancel for long.
// The events are decoded from their lines only if some subscriber wants them.
func (s *subscribers) publish(evs []slot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.chans) == 0 {
		return
	}
	for i := range evs {
		var e *Event
		typ := field(evs[i].line, evs[i].rec.typ)
		outcome := field(evs[i].line, evs[i].rec.outcome)
		tenant := field(evs[i].line, evs[i].rec.tenant)
		for id, ch := range s.chans {
			if skips(s.skip[id], typ, outcome) {
				continue
			}
			if want, ok := s.tenant[id]; ok && !bytes.Equal(tenant, want) {
				continue
			}
			if e == nil {
				e = new(Event)
				*e = evs[i].decode()
			}
			select {
			case ch <- e:
			default:
				s.missed[id].Add(1)
				if s.counted[id] {
					if s.missedBy == nil {
						s.missedBy = make(map[string]int64)
					}
					s.missedBy[e.Tenant]++
				}
			}
		}
	}
}

// SubscriberMisses reports how many events the subscriptions of SubscribeCounting (serve's log)
// have left out, all of them together, because they fell behind: not events lost, since the log
// has them. A console's tail (Subscribe) is not counted. A tenant's view reports those of its
// tenant's events.
func (l *Log) SubscriberMisses() int64 {
	s := &l.root().subs
	s.mu.Lock()
	defer s.mu.Unlock()
	if l.shared != nil {
		return s.missedBy[l.tenant]
	}
	var n int64
	for _, m := range s.missedBy {
		n += m
	}
	return n
}

// skipLine is a Skip as lines hold its strings; outcome nil matches any.
type skipLine struct{ typ, outcome []byte }

func skips(skip []skipLine, typ, outcome []byte) bool {
	for _, k := range skip {
		if bytes.Equal(k.typ, typ) && (k.outcome == nil || bytes.Equal(k.outcome, outcome)) {
			return true
		}
	}
	return false
}

func (s *subscribers) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, ch := range s.chans {
		delete(s.chans, id)
		close(ch)
	}
	s.closed = true
}
