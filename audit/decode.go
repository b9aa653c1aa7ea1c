package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
)

// decodeLine decodes a line of appendJSON's own format into e, all but its time (the index's
// record has it): a flat object of string fields, "injected":true, and "details", always last.
// encoding/json's reflection over Event cost 6 to 8 µs an event, which Query paid for every
// event of a page and Subscribe (serve's log of audit events) for every event appended. Here
// the line becomes one string, and strings without escapes are substrings of it (the line is
// valid UTF-8, as every bounded string is): one allocation, like Event.own's. Only escaped
// strings and Details go through encoding/json.
func decodeLine(line []byte, e *Event) error {
	str := string(line)
	if len(line) < 2 || line[0] != '{' || line[len(line)-1] != '}' {
		return errBadLine
	}
	for i := 1; ; {
		if line[i] != '"' {
			return errBadLine
		}
		j := bytes.IndexByte(line[i+1:], '"') // names have no escapes
		if j < 0 || i+j+3 > len(line)-1 || line[i+j+2] != ':' {
			return errBadLine
		}
		name := line[i+1 : i+1+j]
		i += j + 3
		switch string(name) {
		case "details":
			return json.Unmarshal(line[i:len(line)-1], &e.Details)
		case "injected":
			if !bytes.HasPrefix(line[i:], []byte("true")) {
				return errBadLine
			}
			e.Injected = true
			i += len("true")
		default:
			end := stringEnd(line, i)
			if end < 0 {
				return errBadLine
			}
			if p := e.textField(string(name)); p != nil {
				if err := unquote(str, i, end, p); err != nil {
					return err
				}
			}
			i = end
		}
		switch {
		case line[i] == '}' && i == len(line)-1:
			return nil
		case line[i] != ',':
			return errBadLine
		}
		i++
	}
}

var errBadLine = errors.New("audit: index line not in the encoder's format")

// stringEnd returns the index just past the JSON string that starts at b[i], or -1.
func stringEnd(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	for k := i + 1; k < len(b); {
		j := bytes.IndexAny(b[k:], `"\`)
		if j < 0 {
			return -1
		}
		k += j
		if b[k] == '"' {
			return k + 1
		}
		k += 2 // an escape: the backslash and the character after it
	}
	return -1
}

// unquote decodes the JSON string line[i:end] (quotes included) into *p.
func unquote(line string, i, end int, p *string) error {
	s := line[i:end]
	if strings.IndexByte(s, '\\') < 0 {
		*p = s[1 : len(s)-1]
		return nil
	}
	return json.Unmarshal([]byte(s), p)
}

// textField returns the string field of e with the given JSON name, or nil ("time", unknown).
func (e *Event) textField(name string) *string {
	switch name {
	case "id":
		return &e.ID
	case "type":
		return &e.Type
	case "tenant":
		return &e.Tenant
	case "outcome":
		return &e.Outcome
	case "error":
		return &e.Error
	case "user":
		return &e.User
	case "sub":
		return &e.Sub
	case "client_id":
		return &e.ClientID
	case "server":
		return &e.Server
	case "audience":
		return &e.Audience
	case "resource":
		return &e.Resource
	case "scope_requested":
		return &e.ScopeRequested
	case "scope_granted":
		return &e.ScopeGranted
	case "rule":
		return &e.Rule
	case "reason":
		return &e.Reason
	case "jti":
		return &e.JTI
	case "admin":
		return &e.Admin
	case "grant_type":
		return &e.GrantType
	}
	return nil
}
