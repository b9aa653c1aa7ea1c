package policy

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// Warnings returns what in cfg, parsed from data (the file), is valid but
// will not work as the file seems to mean, at the line to change:
// check prints them, serve and demo log them at start. A warning's Msg
// starts with "warning: ".
//
// Today these: users that one could take for another (lookAlikeUsers);
// a client an MCP server lists that may not use token exchange, so that
// it never gets an ID-JAG for it;
// an MCP server with subject: email whose ID-JAGs carry no
// email (neither its include_email nor its IdP's id_jag.email, which a
// persona may preset), so that its demo authorization server refuses
// every ID-JAG; and an admin whose username holds a colon, which HTTP
// Basic cannot carry (RFC 7617 §2), so that the admin API takes them only
// through the console's session; and a client mapped at an MCP server to
// the client_id of that server's own introspection credentials at its
// demo authorization server (IntrospectionClientID), which demo refuses;
// and a URL that tokens carry as written but that no client writes so
// (urlSpellings); and an MCP server's scope offline_access or openid
// (loginScopes).
func Warnings(cfg *Config, data []byte, file string) Problems {
	return warnings(cfg, data, file, "")
}

// warnings is Warnings of the tenant with the id tenant alone, of every
// IdP for "".
func warnings(cfg *Config, data []byte, file, tenant string) Problems {
	var out Problems
	lines := &lineIndex{data: data}
	for ti, idp := range cfg.IdPs() {
		prefix := cfg.keyPrefix(ti)
		if tenant != "" && idp.ID != tenant {
			continue
		}
		for ui, u := range idp.Users {
			if !u.Admin || !strings.Contains(u.Username, ":") {
				continue
			}
			out = append(out, Problem{File: file, Line: lines.line(fmt.Sprintf("%susers[%d].username", prefix, ui)),
				Msg: fmt.Sprintf("warning: user %s: an admin whose username holds a colon cannot use HTTP Basic at the admin API (RFC 7617 §2: the first colon ends the user-id), only the console's session; rename the user without a colon", u.Username)})
		}
		out = append(out, lookAlikeUsers(idp.Users, lines, file, prefix)...)
		out = append(out, lookAlikeGroups(idp.Groups, lines, file, prefix)...)
		out = append(out, urlSpellings(idp, lines, file, prefix)...)
		out = append(out, literalValues(idp, lines, file, prefix)...)
		for ci, c := range idp.Clients {
			if c.TokenExchange && len(c.RedirectURIs) == 0 {
				out = append(out, Problem{File: file, Line: lines.line(fmt.Sprintf("%sclients[%d].client_id", prefix, ci)),
					Msg: fmt.Sprintf("warning: client %s: token_exchange is true but the client has no redirect_uris, so it can never sign a user in, and never holds an ID token or refresh token to exchange; add the URI its login returns to", c.ClientID)})
			}
			if c.TokenExchange {
				continue
			}
			for _, srv := range idp.MCPServers {
				if _, ok := srv.Clients[c.ClientID]; ok {
					out = append(out, Problem{File: file, Line: lines.line(fmt.Sprintf("%sclients[%d].client_id", prefix, ci)),
						Msg: fmt.Sprintf("warning: client %s: connected to MCP server %s, but token_exchange is false (the default), so it never gets an ID-JAG (unauthorized_client); set token_exchange: true", c.ClientID, srv.ID)})
					break
				}
			}
		}
		knobs := idp.Knobs()
		for si, s := range idp.MCPServers {
			for _, id := range s.IntrospectionClashes() {
				out = append(out, Problem{File: file, Line: lines.line(join(fmt.Sprintf("%smcp_servers[%d].clients", prefix, si), id)),
					Msg: "warning: " + IntrospectionClash(&s, id) + ", which xaa-idp demo refuses; map it to another client_id"})
			}
			for i, sc := range s.Scopes {
				if why := loginScopes[sc]; why != "" {
					out = append(out, Problem{File: file, Line: lines.line(fmt.Sprintf("%smcp_servers[%d].scopes[%d]", prefix, si, i)),
						Msg: fmt.Sprintf("warning: server %s: scope %s %s, not access to an MCP server: an exchange for it gets an ID-JAG and an access token that carry the word and nothing more, and its demo MCP server lists it in scopes_supported and its 401 challenge, which MCP authorization says a server SHOULD NOT do for offline_access; remove it from scopes and access", s.ID, sc, why)})
				}
			}
			if len(s.Access) > 0 && len(s.Clients) == 0 {
				out = append(out, Problem{File: file, Line: lines.line(fmt.Sprintf("%smcp_servers[%d].access", prefix, si)),
					Msg: fmt.Sprintf("warning: server %s: access entries but no clients, so every token exchange for it is invalid_target (the access entries say who, clients says through which IdP client and under which client_id at the server); add clients: {<client_id>: <its client_id at the server>}", s.ID)})
			}
			if s.Subject != SubjectEmail || s.IncludeEmail || knobs.Email {
				continue
			}
			out = append(out, Problem{File: file, Line: lines.line(fmt.Sprintf("%smcp_servers[%d].subject", prefix, si)),
				Msg: fmt.Sprintf("warning: server %s: subject: email, but its ID-JAGs carry no email (include_email is off, and so is id_jag.email), so its demo authorization server refuses every ID-JAG (invalid_grant); set include_email: true", s.ID)})
		}
	}
	return out
}

// loginScopes are the scopes that ask the IdP for something at a login
// (OpenID Connect Core §3.1.2.1, §11), by what they ask: at an MCP server
// they ask for nothing, as its authorization server issues neither a
// refresh token nor an ID token for an ID-JAG (the demo's issues none),
// and MCP authorization (Refresh Tokens) says a server SHOULD NOT list
// offline_access in scopes_supported or its challenge's scope.
var loginScopes = map[string]string{
	"offline_access": "asks an authorization server for a refresh token at a login",
	"openid":         "asks an OpenID provider for an ID token at a login",
}

// lookAlikeGroups warns of each group of one IdP whose name looks the
// same as an earlier group's once folded (foldName), at the later group's
// line. Names are compared with case everywhere but SCIM, which compares a
// group's displayName without the case of ASCII letters (RFC 7643 section
// 4.2, caseExact false): a provisioning client's filter displayName eq
// "ENG" finds both eng and ENG, and pushes members into whichever it
// takes; the names that only Unicode's folding makes one (fullwidth
// letters, a Kelvin sign) an administrator reading a list takes for one.
func lookAlikeGroups(groups []Group, lines *lineIndex, file, prefix string) Problems {
	var out Problems
	names := map[string]int{} // foldName(name) -> index of the first group
	for i, g := range groups {
		k := foldName(g.Name)
		j, ok := names[k]
		switch {
		case !ok:
			names[k] = i
		case groups[j].Name != g.Name:
			out = append(out, Problem{File: file, Line: lines.line(fmt.Sprintf("%sgroups[%d].name", prefix, i)),
				Msg: fmt.Sprintf("warning: group %s: name %q looks the same as group %s's %q (line %d) once case and Unicode compatibility forms are folded: SCIM compares group names without case, so a provisioning client that looks one up by name may find both, and people take them for one group; rename one", g.Name, g.Name, groups[j].Name, groups[j].Name, lines.line(fmt.Sprintf("%sgroups[%d].name", prefix, j)))})
		}
	}
	return out
}

// lookAlikeUsers warns of each user of one IdP whose email is the address
// of an earlier user for a mail system (equal but for ASCII case, as the
// demo authorization servers compare them: authserver.SameEmail), or whose
// username or email looks the same as an earlier user's once folded
// (foldName, foldEmail), at the later user's line: a resource server that
// maps users by email, or compares names so, takes one for the other. A
// warning, not an error: an IdP may hold two accounts of one address, as
// Okta does, and a file that has them works, but not as it seems to mean.
// It also warns of a username that is another user's email, and of a sub
// (given or defaulted) that looks the same as an earlier user's once
// folded, unless their usernames do.
func lookAlikeUsers(users []User, lines *lineIndex, file, prefix string) Problems {
	var out Problems
	names := map[string]int{}  // foldName(username) -> index of the first user
	mails := map[string]int{}  // email in ASCII lower case -> index
	folded := map[string]int{} // foldEmail(email) -> index
	subs := map[string]int{}   // foldName(sub) -> index
	for i, u := range users {
		line := func(field string) int { return lines.line(fmt.Sprintf("%susers[%d].%s", prefix, i, field)) }
		firstLine := func(j int) int { return lines.line(fmt.Sprintf("%susers[%d].username", prefix, j)) }
		if k := foldName(u.Username); u.Username != "" {
			j, ok := names[k]
			if ok && users[j].Username != u.Username {
				out = append(out, Problem{File: file, Line: line("username"),
					Msg: fmt.Sprintf("warning: user %s: username %q looks the same as user %s's %q (line %d) once case and Unicode compatibility forms are folded: people, and systems that compare names so, take one for the other; rename one", u.Username, u.Username, users[j].Username, users[j].Username, firstLine(j))})
			} else if !ok {
				names[k] = i
			}
			if !ok && !norm.NFC.IsNormalString(u.Username) {
				out = append(out, Problem{File: file, Line: line("username"),
					Msg: fmt.Sprintf("warning: user %s: username is not written composed (Unicode NFC), as keyboards type it (an \u00e9 as one character, not an e and a combining accent), and the login compares it byte for byte, so a name typed at the login form does not match it; write it composed", u.Username)})
			}
		}
		// A loaded user's sub is set (fillDefaults), to the default when
		// the file gives none, whose line is then its username's. Subs
		// that follow look-alike usernames are the username's warning,
		// not another one.
		if j, ok := subs[foldName(u.Sub)]; ok && users[j].Sub != u.Sub && foldName(u.Username) != foldName(users[j].Username) {
			at := "sub"
			if u.Sub == DefaultSub(u.Username) {
				at = "username"
			}
			out = append(out, Problem{File: file, Line: line(at),
				Msg: fmt.Sprintf("warning: user %s: sub %q looks the same as user %s's %q (line %d) once case and Unicode compatibility forms are folded: relying parties and resource servers that compare subs so (a database column compared without case) take them for one user; give one of them another sub", u.Username, u.Sub, users[j].Username, users[j].Sub, firstLine(j))})
		} else if !ok {
			subs[foldName(u.Sub)] = i
		}
		if mix := mixedScripts(u.Username); mix != "" {
			out = append(out, Problem{File: file, Line: line("username"),
				Msg: fmt.Sprintf("warning: user %s: username %q mixes %s letters, which is how one name imitates another (a Cyrillic \u0430 for a Latin a); write it in one script", u.Username, u.Username, mix)})
		}
		if u.Email == "" {
			continue
		}
		for _, part := range strings.FieldsFunc(u.Email, func(r rune) bool { return r == '@' || r == '.' }) {
			if mix := mixedScripts(part); mix != "" {
				out = append(out, Problem{File: file, Line: line("email"),
					Msg: fmt.Sprintf("warning: user %s: email %q mixes %s letters in %q, which is how one name imitates another (a Cyrillic \u0430 for a Latin a); write each part in one script", u.Username, u.Email, mix, part)})
				break
			}
		}
		lower, fold := asciiLower(u.Email), foldEmail(u.Email)
		if j, ok := mails[lower]; ok {
			out = append(out, Problem{File: file, Line: line("email"),
				Msg: fmt.Sprintf("warning: user %s: email %q is the address of user %s too (line %d): mail systems and resource servers that map users by email (subject: email) take them for one user, and the demo authorization servers map that address to neither; give each user their own address", u.Username, u.Email, users[j].Username, firstLine(j))})
		} else if j, ok := folded[fold]; ok {
			out = append(out, Problem{File: file, Line: line("email"),
				Msg: fmt.Sprintf("warning: user %s: email %q looks the same as user %s's %q (line %d) once case, Unicode compatibility forms and international domain names are folded: resource servers that map users by email and fold addresses so take them for one user; give each user their own address", u.Username, u.Email, users[j].Username, users[j].Email, firstLine(j))})
		}
		if _, ok := mails[lower]; !ok {
			mails[lower] = i
		}
		if _, ok := folded[fold]; !ok {
			folded[fold] = i
		}
	}
	// The login form takes a user's email in place of the username, and a
	// username wins: a user named as another user's address takes the
	// sign-ins of that address, whose owner is checked against this
	// account (and its throttle).
	for i, u := range users {
		j, ok := mails[asciiLower(u.Username)]
		if !ok || j == i || asciiLower(u.Email) == asciiLower(u.Username) {
			continue
		}
		out = append(out, Problem{File: file, Line: lines.line(fmt.Sprintf("%susers[%d].username", prefix, i)),
			Msg: fmt.Sprintf("warning: user %s: username %q is the email of user %s (line %d), but for case at most: the login form takes an email in place of a username, and a username wins, so that address typed there is a sign-in as %s, not as %s; rename the user or change the address", u.Username, u.Username, users[j].Username, lines.line(fmt.Sprintf("%susers[%d].username", prefix, j)), u.Username, users[j].Username)})
	}
	return out
}

// foldName is s as people and lenient systems read it: compatibility
// forms (fullwidth letters, ligatures) and compositions (an e and a
// combining acute for an é) made one by NFKC (UAX #15), and case by
// lower case.
func foldName(s string) string {
	return norm.NFKC.String(strings.ToLower(norm.NFKC.String(s)))
}

// foldEmail is foldName of an address, with its domain's punycode labels
// (xn--, RFC 5891) read as the Unicode they stand for: café.example and
// xn--caf-dma.example are one domain.
func foldEmail(s string) string {
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return foldName(s)
	}
	domain := s[at+1:]
	if u, err := idna.ToUnicode(domain); err == nil {
		domain = u
	}
	return foldName(s[:at]) + "@" + foldName(domain)
}

// asciiLower is s with ASCII letters in lower case and every other byte
// kept: how mail systems compare addresses for an account.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// confusableScripts are the scripts whose letters imitate each other
// most (Unicode's confusables, UTS #39: Cyrillic а, е, о, р, с for Latin
// a, e, o, p, c; Greek ο, ν), in the order mixedScripts names them.
var confusableScripts = []struct {
	name  string
	table *unicode.RangeTable
}{{"Cyrillic", unicode.Cyrillic}, {"Greek", unicode.Greek}, {"Latin", unicode.Latin}}

// mixedScripts names the scripts of confusableScripts whose letters s
// mixes ("Cyrillic and Latin"), or is "" when it has letters of one at
// most: a name in one script is as its owner writes it, one that mixes
// them imitates another (UTS #39 §5.2, single-script restriction).
func mixedScripts(s string) string {
	var found []string
	for _, sc := range confusableScripts {
		if strings.IndexFunc(s, func(r rune) bool { return unicode.Is(sc.table, r) }) >= 0 {
			found = append(found, sc.name)
		}
	}
	if len(found) < 2 {
		return ""
	}
	return strings.Join(found[:len(found)-1], ", ") + " and " + found[len(found)-1]
}

// IntrospectionClashes returns the clients that s maps to the client_id
// of its own introspection credentials (IntrospectionClientID), sorted:
// xaa-idp demo refuses such a mapping, and check warns of it.
func (s *MCPServer) IntrospectionClashes() []string {
	var out []string
	for _, id := range sortedKeys(s.Clients) {
		if s.Clients[id] == IntrospectionClientID(s.ID) {
			out = append(out, id)
		}
	}
	return out
}

// IntrospectionClash says what is wrong with the mapping of client, one
// of s.IntrospectionClashes, in the words demo and check both use.
func IntrospectionClash(s *MCPServer, client string) string {
	return fmt.Sprintf("server %s: client %s is mapped to %s, the client_id of the MCP server's own introspection credentials at its demo authorization server", s.ID, client, s.Clients[client])
}

// IntrospectionClientID is the client_id the MCP server with the id
// serverID has at its demo authorization server, for RFC 7662
// introspection (demo.IntrospectionCredentials): no IdP client may be
// mapped to it there.
func IntrospectionClientID(serverID string) string { return "mcp-server-" + serverID }

// ExpiredWarnings warns, at its expires, of each access entry that has
// expired at now: it matches nobody from the start, which is more often
// a mistyped year than meant. check prints them with Warnings, by the
// machine's clock; serve and demo do not, since their clock may be moved
// (--clock) and an entry that expires while running is audited instead.
func ExpiredWarnings(cfg *Config, data []byte, file string, now time.Time) Problems {
	var out Problems
	lines := &lineIndex{data: data}
	for ti, idp := range cfg.IdPs() {
		prefix := cfg.keyPrefix(ti)
		for si, s := range idp.MCPServers {
			for j := range s.Access {
				e := &s.Access[j]
				if e.Expires.IsZero() || !e.Expired(now) {
					continue
				}
				path := fmt.Sprintf("%smcp_servers[%d].access[%d]", prefix, si, j)
				out = append(out, Problem{File: file, Line: lines.line(path + ".expires"),
					Msg: fmt.Sprintf("warning: %s: expires %s has passed (this machine's clock reads %s), so the entry matches nobody; correct the date, or start the IdP before it with serve --clock", path, e.Expires.T().Format(time.RFC3339Nano), now.UTC().Format(time.RFC3339))})
			}
		}
	}
	return out
}
