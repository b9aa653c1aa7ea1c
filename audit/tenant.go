package audit

import "sync/atomic"

// Tenant returns the log as one tenant sees it, for an IdP that serves
// several (docs/configuration.md, "Tenants"): its Append stamps every
// event with the tenant's id, and Query, QueryPage and Subscribe see only
// that tenant's events. The events go to l, one log for every tenant; Close
// of the view does nothing. IndexStats and Len count every tenant's events.
func (l *Log) Tenant(id string) *Log {
	for l.shared != nil {
		l = l.shared
	}
	return &Log{shared: l, tenant: id, now: l.now}
}

// subscribeTenant is Subscribe of a tenant's view: the shared log's
// events, those of the tenant only, with the same rule for a subscriber
// that falls behind.
func (l *Log) subscribeTenant(buffer int, skip ...Skip) (<-chan *Event, func() int64, func()) {
	all, missed, cancel := l.shared.SubscribeCounting(buffer, skip...)
	relayMissed := new(atomic.Int64)
	out := make(chan *Event, max(buffer, 0))
	go func() {
		defer close(out)
		for ev := range all {
			if ev.Tenant != l.tenant {
				continue
			}
			select {
			case out <- ev:
			default:
				relayMissed.Add(1)
				l.shared.subs.missedAll.Add(1)
			}
		}
	}()
	return out, func() int64 { return missed() + relayMissed.Load() }, cancel
}
