package audit

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
