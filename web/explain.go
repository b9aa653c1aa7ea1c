package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/xaa-idp/xaa-idp/policy"
)

// explainPage is the what-if form: the decision a token exchange would get
// now, from the admin API's explain (the same answer scripts get).
func (c *Console) explainPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	q := r.URL.Query()
	form := struct {
		User, Client, Server, Resource, Scope, AuthAge string
	}{
		User: strings.TrimSpace(q.Get("user")), Client: strings.TrimSpace(q.Get("client")),
		Server: strings.TrimSpace(q.Get("server")), Resource: strings.TrimSpace(q.Get("resource")),
		Scope: strings.TrimSpace(q.Get("scope")), AuthAge: strings.TrimSpace(q.Get("auth_age")),
	}
	cfg := c.adminAPI.Config()
	data := struct {
		Form   any
		Users  []string
		Client []string
		Server [][2]string // id, label
		Result *policy.Explanation
		// Invalid is a field the form cannot read, said beside it.
		Invalid *fieldError
	}{Form: form}
	for _, u := range cfg.Users {
		data.Users = append(data.Users, u.Username)
	}
	for _, cl := range cfg.Clients {
		data.Client = append(data.Client, cl.ClientID)
	}
	data.Client = append(data.Client, documentClients(cfg, form.Client)...)
	for _, s := range cfg.MCPServers {
		data.Server = append(data.Server, [2]string{s.ID, s.Label() + " (" + s.ID + ")"})
	}
	// A user or server the address names that the configuration does not
	// (a user removed since a link was made, a typo, an authorization
	// server's issuer) stays in the form, selected, beside the decision
	// about it: a blank field would show a refusal about no one.
	if form.User != "" && cfg.User(form.User) == nil {
		data.Users = append(data.Users, form.User)
	}
	if form.Server != "" && cfg.Server(form.Server) == nil {
		data.Server = append(data.Server, [2]string{form.Server, form.Server + " (no MCP server has this id)"})
	}
	errMsg := ""
	if d, err := time.ParseDuration(form.AuthAge); form.AuthAge != "" && (err != nil || d < 0) {
		// The admin API would refuse it too (a negative one as well), but
		// by its parameter's name in a message about its own URL.
		data.Invalid = &fieldError{"auth_age", "Login age", fmt.Errorf("%q is not a duration such as 30m or 2h, not negative", form.AuthAge)}
		errMsg = data.Invalid.Error()
	} else if form.User != "" && form.Client != "" && form.Server != "" {
		// The form names the server by id; the API takes the audience a
		// client would send.
		audience := form.Server
		if s := cfg.Server(form.Server); s != nil {
			audience = s.Issuer
		}
		p := url.Values{"user": {form.User}, "client": {form.Client}, "audience": {audience}}
		for k, val := range map[string]string{"resource": form.Resource, "scope": form.Scope, "auth_age": form.AuthAge} {
			if val != "" {
				p.Set(k, val)
			}
		}
		var e policy.Explanation
		if _, err := c.apiGet(r, "/admin/api/explain?"+p.Encode(), &e); err != nil {
			errMsg = err.Error()
		} else {
			data.Result = &e
		}
	}
	c.show(w, r, v, http.StatusOK, "explain.html", "Explain a decision", "explain", data, "", errMsg)
}

// documentClients are the metadata document clients (their client_id is
// the document's URL, defined in no clients: entry) that the
// configuration names in an MCP server's clients, access or deny, sorted,
// and also, when it is no defined client, the client the form names (one
// typed into the address): the Explain page offers them as it offers the
// defined clients.
func documentClients(cfg *policy.Config, named string) []string {
	var urls []string
	add := func(id string) {
		if id != "" && cfg.Client(id) == nil && !slices.Contains(urls, id) {
			urls = append(urls, id)
		}
	}
	for i := range cfg.MCPServers {
		s := &cfg.MCPServers[i]
		for id := range s.Clients {
			add(id)
		}
		for _, a := range s.Access {
			for _, id := range a.Clients {
				add(id)
			}
		}
		for _, d := range s.Deny {
			for _, id := range d.Clients {
				add(id)
			}
		}
	}
	add(named)
	slices.Sort(urls)
	return urls
}
