package web

import (
	"net/http"
)

// userAccess is one user's effective access to one MCP server, as the
// admin API's users endpoint reports it.
type userAccess struct {
	Server  string   `json:"server"`
	Allowed bool     `json:"allowed"`
	Scopes  []string `json:"scopes,omitempty"`
	Clients []string `json:"clients,omitempty"`
	Rule    string   `json:"rule,omitempty"`
	Reason  string   `json:"reason,omitempty"`
	Error   string   `json:"error,omitempty"`
}

// userRow is GET /admin/api/users: a user, their groups, and their
// effective access per MCP server.
type userRow struct {
	Username string       `json:"username"`
	Name     string       `json:"name,omitempty"`
	Email    string       `json:"email,omitempty"`
	Groups   []string     `json:"groups,omitempty"`
	Admin    bool         `json:"admin,omitempty"`
	Disabled bool         `json:"disabled,omitempty"`
	Access   []userAccess `json:"access"`
}

// On returns the user's access to a server; nil when the API lists none.
func (u userRow) On(serverID string) *userAccess {
	for i := range u.Access {
		if u.Access[i].Server == serverID {
			return &u.Access[i]
		}
	}
	return nil
}

type groupRow struct {
	Name, Description string
	Members           []string
}

func (c *Console) usersPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	var users []userRow
	errMsg := ""
	if _, err := c.apiGet(r, "/admin/api/users", &users); err != nil {
		errMsg = "Users could not be read: " + err.Error()
	}
	cfg := c.adminAPI.Config()
	data := struct {
		Users   []userRow
		Servers [][2]string // id, label
		Groups  []groupRow
	}{Users: users}
	for _, s := range cfg.MCPServers {
		data.Servers = append(data.Servers, [2]string{s.ID, s.Label()})
	}
	for _, g := range cfg.Groups {
		row := groupRow{Name: g.Name, Description: g.Description}
		for _, u := range cfg.Users {
			if u.InGroup(g.Name) {
				row.Members = append(row.Members, u.Username)
			}
		}
		data.Groups = append(data.Groups, row)
	}
	c.show(w, r, v, http.StatusOK, "users.html", "Users and groups", "users", data, "", errMsg)
}
