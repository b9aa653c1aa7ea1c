package web

import (
	"net/http"

	"github.com/xaa-idp/xaa-idp/admin"
	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/policy"
)

// status asks the admin API where the configuration lives; nil when it
// cannot say.
func (c *Console) status(r *http.Request) *admin.StatusView {
	var s admin.StatusView
	if _, err := c.apiGet(r, "/admin/api/status", &s); err != nil {
		return nil
	}
	return &s
}

type count struct {
	Label string
	N     int
	Link  string
}

// recentRefusals is how many refusals the overview lists.
const recentRefusals = 10

func (c *Console) overview(w http.ResponseWriter, r *http.Request, v *viewer) {
	cfg := c.adminAPI.Config()
	admins, disabled, entries := 0, 0, 0
	for _, u := range cfg.Users {
		if u.Admin {
			admins++
		}
		if u.Disabled {
			disabled++
		}
	}
	for _, s := range cfg.MCPServers {
		entries += len(s.Access)
	}
	data := struct {
		Counts   []count
		Refusals []audit.Event
		Issuer   string
		Requests []accessRequest
		ETag     string // the configuration's version, for an approval's If-Match when its request has none
	}{
		Counts: []count{
			{"MCP servers", len(cfg.MCPServers), c.url("/admin/servers")},
			{"assignments", entries, c.url("/admin/servers")},
			{"users", len(cfg.Users), c.url("/admin/users")},
			{"groups", len(cfg.Groups), c.url("/admin/users#groups")},
			{"admins", admins, c.url("/admin/users")},
			{"disabled users", disabled, c.url("/admin/users")},
			{"clients", len(cfg.Clients), c.url("/admin/servers#clients")},
		},
		Refusals: c.adminAPI.Audit(audit.Filter{Outcome: audit.Denied, Limit: recentRefusals}),
		Issuer:   c.idp.Issuer(),
		Requests: c.pendingRequests(r, ""),
	}
	if st := c.status(r); st != nil {
		data.ETag = st.ETag
	}
	// An approval changes its server alone: it is checked against that
	// server's version, as on the server's page, so that a change
	// elsewhere since the page was opened (a SCIM sync, another server's
	// edit) does not refuse it. Each server's version is made once: it
	// hashes the whole server, which may have many requests pending.
	versions := map[string]string{}
	for i, q := range data.Requests {
		tag, ok := versions[q.Server]
		if !ok {
			if s := cfg.Server(q.Server); s != nil {
				tag = `"` + policy.ServerVersion(s) + `"`
			}
			versions[q.Server] = tag
		}
		data.Requests[i].ETag = tag
	}
	c.show(w, r, v, http.StatusOK, "overview.html", "Overview", "overview", data, c.sessions.takeFlash(v.session, r.URL.Path), "")
}
