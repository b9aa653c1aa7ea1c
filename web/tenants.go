package web

// tenantNav is the tenant a console page is about, for the navigation bar:
// its id and persona, and the consoles of the other tenants of the process,
// for an admin of several (docs/configuration.md, "Tenants"). Each console
// has its own sign-in, so a link to another leads to its sign-in, once.
type tenantNav struct {
	ID, Persona string
	Others      []Tenant
}

// tenantNav is nil for a file without tenants: its console looks as it
// always did.
func (c *Console) tenantNav() *tenantNav {
	cfg := c.adminAPI.Config()
	if cfg.ID == "" {
		return nil
	}
	n := &tenantNav{ID: cfg.ID, Persona: cfg.Knobs().Persona}
	for _, t := range c.tenants {
		if t.ID != n.ID {
			n.Others = append(n.Others, t)
		}
	}
	return n
}
