package policytest

import (
	"fmt"
	"strings"
)

// Size is the shape of a generated configuration (Large): how many of each.
type Size struct {
	Users, Groups, Servers, Clients int
}

// Company is the size of a real company's configuration: 5,000 users, 500
// groups, 300 MCP servers and 200 clients.
var Company = Size{Users: 5000, Groups: 500, Servers: 300, Clients: 200}

// Large returns a generated configuration of size s, written as people
// write them (comments, blank lines, flow lists): users in three groups
// each with a few claims, clients, and MCP servers each with a client map,
// access entries naming groups (and a user) and a deny rule. User i is
// "user<i>" (password the same), client i "client<i>" (secret "s<i>"),
// server i "srv<i>" at issuer https://srv<i>.example, group i "group<i>";
// user i is in groups i, i+1 and i+2 (mod Groups), and server j grants
// groups j..j+4 (mod Groups) through clients j..j+4 (mod Clients).
func Large(s Size) []byte {
	var b strings.Builder
	b.Grow(s.Users*260 + s.Servers*900)
	b.WriteString("# A generated configuration of a large company.\n\nissuer: http://127.0.0.1:8080\n\n")
	b.WriteString("groups:\n")
	for i := range s.Groups {
		fmt.Fprintf(&b, "  - name: group%d\n    description: Team number %d\n", i, i)
	}
	b.WriteString("\n# Everyone, one entry each.\nusers:\n")
	for i := range s.Users {
		if i == 0 {
			b.WriteString("  # the first user administers the IdP\n")
		}
		fmt.Fprintf(&b, "  - username: user%d\n    password: user%d\n    email: user%d@corp.example\n    name: User Number %d\n",
			i, i, i, i)
		fmt.Fprintf(&b, "    groups: [group%d, group%d, group%d]\n", i%s.Groups, (i+1)%s.Groups, (i+2)%s.Groups)
		if i == 0 {
			b.WriteString("    admin: true\n")
		}
		fmt.Fprintf(&b, "    claims: {department: dept%d, cost_center: \"%d\", location: site%d}\n", i%40, 1000+i%97, i%12)
	}
	b.WriteString("\nclients:\n")
	for i := range s.Clients {
		fmt.Fprintf(&b, "  - client_id: client%d\n    name: Client %d\n    client_secret: s%d\n    redirect_uris: [http://127.0.0.1/callback, https://app%d.corp.example/cb]\n    token_exchange: true\n",
			i, i, i, i)
	}
	b.WriteString("\nmcp_servers:\n")
	for j := range s.Servers {
		fmt.Fprintf(&b, "  - id: srv%d\n    name: Server %d\n    issuer: https://srv%d.example\n    resources: [https://srv%d.example/mcp]\n    scopes: [read, write, admin]\n    clients:\n",
			j, j, j, j)
		for k := range 5 {
			c := (j + k) % s.Clients
			fmt.Fprintf(&b, "      client%d: client%d-at-srv%d\n", c, c, j)
		}
		b.WriteString("    access:\n")
		for k := range 5 {
			fmt.Fprintf(&b, "      - groups: [group%d]\n        scopes: [read, write]\n", (j+k)%s.Groups)
		}
		fmt.Fprintf(&b, "      - users: [user%d]   # the owner\n        scopes: [read, write, admin]\n", j%s.Users)
		fmt.Fprintf(&b, "    deny:\n      - users: [user%d]\n", (j+7)%s.Users)
		b.WriteString("\n")
	}
	return []byte(b.String())
}

// LargeTenants returns a tenants file of n tenants, each a configuration of
// size s (Large, indented under its entry; issuers at /t/<id>).
func LargeTenants(n int, s Size) []byte {
	one := string(Large(s))
	one = strings.Replace(one, "issuer: http://127.0.0.1:8080\n", "", 1)
	var b strings.Builder
	b.WriteString("# A generated tenants file.\n\ntenants:\n")
	for t := range n {
		fmt.Fprintf(&b, "  - id: t%d\n", t)
		for _, line := range strings.Split(strings.TrimRight(one, "\n"), "\n") {
			if line == "" {
				b.WriteString("\n")
				continue
			}
			b.WriteString("    " + line + "\n")
		}
	}
	return []byte(b.String())
}
