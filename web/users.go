package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/xaa-idp/xaa-idp/admin"
	"github.com/xaa-idp/xaa-idp/policy"
)

// userRow is a user of the page, as GET /admin/api/users answers it,
// with the matrix row: the access on each server of the page's columns, in
// their order (nil where the API lists none), found by column, not by a
// scan of the user's list per cell.
type userRow struct {
	admin.UserView
	Cells []*admin.ServerAccess
}

type groupRow struct {
	Name, Description string
	Members           []groupMember
}

// groupMember links to the member's row: on this page, or the page that
// shows that user alone.
type groupMember struct {
	Username, Href string
}

// usersPerPage is how many users the users page shows: at a company's size
// (5,000 users, 300 servers) a page of every user would be millions of
// decisions.
const usersPerPage = 100

func (c *Console) usersPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	cfg := c.adminAPI.Config()
	q := r.URL.Query()
	search, after := q.Get("user"), q.Get("after")
	data := struct {
		Users   []userRow
		Servers [][2]string // id, label
		Groups  []groupRow
		// Paged: the file has more users than a page, or the page was
		// asked for by after= or user=: the search box and the pager show.
		Paged                bool
		Search               string
		First, Last, Total   int    // 1-based positions of the page's users
		Previous, Next, All  string // links; "" for none
		NoSuchUser, NotFound string
		PerPage              int
	}{Search: search, Total: len(cfg.Users), PerPage: usersPerPage}
	data.Paged = len(cfg.Users) > usersPerPage || q.Has("user") || q.Has("after")
	page := c.base + "/admin/users"

	// What GET /admin/api/users answers, without its JSON: a page of it
	// at a company's size is 50 MB to encode and decode.
	views, more, err := c.adminAPI.UsersPage(admin.UsersQuery{After: after, User: search, Limit: usersPerPage, Config: cfg})
	if errors.Is(err, admin.ErrNoSuchUser) {
		// The user a next link named was removed or renamed since.
		data.NotFound = after
	}
	var users []userRow
	for _, u := range views {
		users = append(users, userRow{UserView: u})
	}
	if more && len(users) > 0 {
		data.Next = page + "?" + url.Values{"after": {users[len(users)-1].Username}}.Encode()
	}
	if search != "" && len(users) == 0 {
		data.NoSuchUser = search
	}
	if data.Paged {
		data.All = page
	}
	if len(users) > 0 && search == "" {
		if i := cfg.UserIndex(users[0].Username); i >= 0 {
			data.First, data.Last = i+1, i+len(users)
			switch prev := i - usersPerPage; {
			case i == 0:
			case prev <= 0:
				data.Previous = page
			default:
				data.Previous = page + "?" + url.Values{"after": {cfg.Users[prev-1].Username}}.Encode()
			}
		}
	}

	column := make(map[string]int, len(cfg.MCPServers))
	for i, s := range cfg.MCPServers {
		data.Servers = append(data.Servers, [2]string{s.ID, s.Label()})
		column[s.ID] = i
	}
	shown := make(map[string]bool, len(users))
	for i := range users {
		u := &users[i]
		shown[u.Username] = true
		u.Cells = make([]*admin.ServerAccess, len(data.Servers))
		for j := range u.Access {
			if k, ok := column[u.Access[j].Server]; ok {
				u.Cells[k] = &u.Access[j]
			}
		}
	}
	data.Users = users
	data.Groups = groupRows(cfg, shown, page)
	c.show(w, r, v, http.StatusOK, "users.html", "Users and groups", "users", data, "", "")
}

// groupRows lists every group with its members, in one pass over the
// users: a member shown on this page links to their row, another to the
// page that shows them alone.
func groupRows(cfg *policy.Config, shown map[string]bool, page string) []groupRow {
	rows := make([]groupRow, len(cfg.Groups))
	at := make(map[string]int, len(cfg.Groups))
	for i, g := range cfg.Groups {
		rows[i] = groupRow{Name: g.Name, Description: g.Description}
		at[g.Name] = i
	}
	for _, u := range cfg.Users {
		for j, g := range u.Groups {
			i, ok := at[g]
			if !ok || slices.Contains(u.Groups[:j], g) {
				continue
			}
			href := "#user-" + u.Username
			if !shown[u.Username] {
				href = page + "?" + url.Values{"user": {u.Username}}.Encode() + href
			}
			rows[i].Members = append(rows[i].Members, groupMember{Username: u.Username, Href: href})
		}
	}
	return rows
}
