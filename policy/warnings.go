package policy

import (
	"fmt"
	"strings"
)

// Warnings returns what in cfg, parsed from data (the file), is valid but
// will not work as the file seems to mean, at the line to change:
// check prints them, serve and demo log them at start. A warning's Msg
// starts with "warning: ".
//
// Today two: an MCP server with subject: email whose ID-JAGs carry no
// email (neither its include_email nor its IdP's id_jag.email, which a
// persona may preset), so that its demo authorization server refuses
// every ID-JAG; and an admin whose username holds a colon, which HTTP
// Basic cannot carry (RFC 7617 §2), so that the admin API takes them only
// through the console's session.
func Warnings(cfg *Config, data []byte, file string) Problems {
	return warnings(cfg, data, file, "")
}

// warnings is Warnings of the tenant with the id tenant alone, of every
// IdP for "".
func warnings(cfg *Config, data []byte, file, tenant string) Problems {
	var out Problems
	for ti, idp := range cfg.IdPs() {
		prefix := ""
		if len(cfg.Tenants) > 0 {
			prefix = fmt.Sprintf("tenants[%d].", ti)
		}
		if tenant != "" && idp.ID != tenant {
			continue
		}
		for ui, u := range idp.Users {
			if !u.Admin || !strings.Contains(u.Username, ":") {
				continue
			}
			out = append(out, Problem{File: file, Line: Line(data, fmt.Sprintf("%susers[%d].username", prefix, ui)),
				Msg: fmt.Sprintf("warning: user %s: an admin whose username holds a colon cannot use HTTP Basic at the admin API (RFC 7617 §2: the first colon ends the user-id), only the console's session; rename the user without a colon", u.Username)})
		}
		knobs := idp.Knobs()
		for si, s := range idp.MCPServers {
			if s.Subject != SubjectEmail || s.IncludeEmail || knobs.Email {
				continue
			}
			out = append(out, Problem{File: file, Line: Line(data, fmt.Sprintf("%smcp_servers[%d].subject", prefix, si)),
				Msg: fmt.Sprintf("warning: server %s: subject: email, but its ID-JAGs carry no email (include_email is off, and so is id_jag.email), so its demo authorization server refuses every ID-JAG (invalid_grant); set include_email: true", s.ID)})
		}
	}
	return out
}
