package policy

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Fault is a deliberate misbehaviour of the IdP, so that a client's
// developers can test what their code does when the IdP says no, is slow,
// falls over or issues a broken ID-JAG, and a resource-side authorization
// server's developers what theirs does when the IdP's JWKS or discovery
// document is slow, gone or empty. Faults come from the configuration's
// faults: section or, at runtime, from the admin API.
//
// Exactly one of Error, Delay, HTTPStatus, IDJAG and JWKS is set. A delay
// is served and the request then continues, so a delay listed before
// another fault that matches the same request delays that fault's answer.
type Fault struct {
	// ID names the fault in the admin API and the audit log; the IdP
	// assigns one when it is empty.
	ID string `yaml:"id,omitempty" json:"id,omitempty" max:"name"`
	// Endpoint is the endpoint the fault acts on: one of the
	// FaultEndpoint values; "" is FaultEndpointToken. A fault of another
	// endpoint than the token endpoint gives Delay, HTTPStatus or (for
	// the JWKS) JWKS, and no Match: nothing on those GETs says who is
	// asking.
	Endpoint string     `yaml:"endpoint,omitempty" json:"endpoint,omitempty" max:"name"`
	Match    FaultMatch `yaml:"match,omitempty" json:"match,omitzero"`
	// Error answers with this OAuth error (RFC 6749 section 5.2).
	Error FaultError `yaml:"error,omitempty" json:"error,omitzero"`
	// Delay holds the request this long, then serves it normally.
	Delay Duration `yaml:"delay,omitempty" json:"delay,omitempty"`
	// HTTPStatus answers with a bare 5xx and an HTML body, as a crashed
	// IdP or the proxy in front of it would.
	HTTPStatus int `yaml:"http_status,omitempty" json:"http_status,omitempty"`
	// IDJAG issues a deliberately broken ID-JAG (one of the FaultIDJAG
	// values) with a normal 200 answer, for a token exchange that policy
	// allows.
	IDJAG string `yaml:"id_jag,omitempty" json:"id_jag,omitempty" max:"name"`
	// JWKS, on the JWKS endpoint, answers a 200 with a key set that is
	// not the real one: FaultJWKSEmpty, {"keys":[]}, as a key rotation
	// gone wrong publishes it.
	JWKS string `yaml:"jwks,omitempty" json:"jwks,omitempty" max:"name"`
	// Times makes the fault fire this many times, then stop; 0 means
	// every time.
	Times int `yaml:"times,omitempty" json:"times,omitempty"`
}

// The endpoints a fault acts on, Fault.Endpoint.
const (
	FaultEndpointToken     = "token"     // the token endpoint (the default)
	FaultEndpointJWKS      = "jwks"      // jwks_uri
	FaultEndpointDiscovery = "discovery" // both discovery documents, at every path they are served
	FaultEndpointUserinfo  = "userinfo"  // userinfo_endpoint
)

// FaultEndpoints lists the Endpoint values.
var FaultEndpoints = []string{FaultEndpointToken, FaultEndpointJWKS, FaultEndpointDiscovery, FaultEndpointUserinfo}

// FaultJWKSEmpty is the jwks fault that publishes no keys.
const FaultJWKSEmpty = "empty"

// On returns the endpoint the fault acts on, FaultEndpointToken for "".
func (f *Fault) On() string {
	if f.Endpoint == "" {
		return FaultEndpointToken
	}
	return f.Endpoint
}

// FaultMatch selects the requests a fault applies to. The fields that are
// given are ANDed; a fault without any applies to every token request.
type FaultMatch struct {
	// Client is an authenticated client's client_id: a configured
	// client, or the URL of a metadata document client (cimd).
	Client string `yaml:"client,omitempty" json:"client,omitempty" max:"url"`
	User   string `yaml:"user,omitempty" json:"user,omitempty" max:"username"` // a username
	Server string `yaml:"server,omitempty" json:"server,omitempty" max:"name"` // an MCP server's id: token exchanges for it
	// GrantType is one of FaultGrantAuthorizationCode,
	// FaultGrantRefreshToken and FaultGrantTokenExchange.
	GrantType string `yaml:"grant_type,omitempty" json:"grant_type,omitempty" max:"name"`
}

// FaultError is the OAuth error answer of an error fault.
type FaultError struct {
	Code string `yaml:"code,omitempty" json:"code,omitempty" max:"name"`
	// Status is the HTTP status, 400 to 599; see Fault.ErrorStatus for the
	// default.
	Status      int    `yaml:"status,omitempty" json:"status,omitempty"`
	Description string `yaml:"description,omitempty" json:"description,omitempty" max:"error_description"`
}

// Grant types a fault can match, as the token request's grant_type names
// them; the token exchange by its short name.
const (
	FaultGrantAuthorizationCode = "authorization_code"
	FaultGrantRefreshToken      = "refresh_token"
	FaultGrantTokenExchange     = "token-exchange"
	grantTypeTokenExchangeURN   = "urn:ietf:params:oauth:grant-type:token-exchange"
)

// The broken ID-JAGs an id_jag fault issues. Each fails exactly one of the
// checks an authorization server makes (ID-JAG draft section 4.4.1, RFC
// 7523 section 3), so a resource-side test can assert on the check.
const (
	FaultWrongTyp        = "wrong_typ"          // typ "JWT" instead of oauth-id-jag+jwt
	FaultWrongAud        = "wrong_aud"          // aud is the MCP server's URL, not its authorization server
	FaultExpired         = "expired"            // exp ten minutes ago
	FaultNotYetValid     = "not_yet_valid"      // nbf ten minutes ahead
	FaultBadSignature    = "bad_signature"      // a signature that does not verify with the named key
	FaultUnknownKID      = "unknown_kid"        // signed by the right key under a kid the JWKS does not have
	FaultMissingClientID = "missing_client_id"  // no client_id claim
	FaultWrongResource   = "wrong_resource"     // resource names an MCP server not behind that authorization server
	FaultAlgNone         = "alg_none"           // unsecured: alg "none" and no signature, under the signing key's kid
	FaultUnmappedClient  = "unmapped_client_id" // client_id is the client's id at the IdP, not at the server
	FaultMultipleAud     = "multiple_aud"       // aud is an array of the authorization server and the MCP server
	FaultWrongCnf        = "wrong_cnf"          // cnf.jkt names a key no client holds (a DPoP binding that cannot be proven)
	FaultWrongIss        = "wrong_iss"          // iss is an issuer no authorization server trusts, signed with the IdP's key
	FaultMissingSub      = "missing_sub"        // no sub claim
	FaultMissingJTI      = "missing_jti"        // no jti claim, so no replay detection
	FaultUnknownScope    = "unknown_scope"      // scope adds one the MCP server does not define
)

// maxFaultDelay bounds a delay fault: a longer one is a typo, not a test.
const maxFaultDelay = 5 * time.Minute

// FaultIDJAGKinds lists the id_jag fault values.
var FaultIDJAGKinds = []string{
	FaultWrongTyp, FaultWrongAud, FaultExpired, FaultNotYetValid,
	FaultBadSignature, FaultUnknownKID, FaultMissingClientID, FaultWrongResource, FaultAlgNone,
	FaultUnmappedClient, FaultMultipleAud, FaultWrongCnf, FaultWrongIss, FaultMissingSub, FaultMissingJTI, FaultUnknownScope,
}

// mcpjamIDJAGModes names, for each negative mode of MCPJam's XAA flow that
// is spelled otherwise here, what makes that ID-JAG here, so that a team
// moving its tests over is told instead of guessing.
var mcpjamIDJAGModes = map[string]string{
	"wrong_audience":      `"` + FaultWrongAud + `"`,
	"wrong_issuer":        `"` + FaultWrongIss + `"`,
	"invalid_type_header": `"` + FaultWrongTyp + `"`,
	"resource_mismatch":   `"` + FaultWrongResource + `"`,
	"client_id_mismatch":  `"` + FaultUnmappedClient + `"`,
	"missing_claims":      `"` + FaultMissingSub + `" or "` + FaultMissingJTI + `"`,
	"scope_denial":        `"` + FaultUnknownScope + `"`,
	"unknown_sub":         "no fault but a user your authorization server does not have",
}

// FaultRequest is what a fault is matched against: a token request as far
// as the IdP could tell who sent it and for what. A field the IdP could not
// establish (a client that failed authentication, an invalid subject token,
// an unknown audience) is empty and matches no fault that names it.
type FaultRequest struct {
	GrantType string // as sent: authorization_code, refresh_token or the token-exchange URN
	Client    string // the authenticated client
	User      string // the username
	Server    string // the MCP server's id
}

// Matches reports whether the fault applies to the request.
func (f *Fault) Matches(r FaultRequest) bool {
	m := f.Match
	return (m.GrantType == "" || normalGrant(m.GrantType) == normalGrant(r.GrantType)) &&
		(m.Client == "" || m.Client == r.Client) &&
		(m.User == "" || m.User == r.User) &&
		(m.Server == "" || m.Server == r.Server)
}

// normalGrant spells the token exchange grant by its short name.
func normalGrant(g string) string {
	if g == grantTypeTokenExchangeURN {
		return FaultGrantTokenExchange
	}
	return g
}

// Kind names what the fault injects: "error", "delay", "http_status",
// "id_jag" or "jwks".
func (f *Fault) Kind() string {
	switch {
	case f.Error != (FaultError{}):
		return "error"
	case f.Delay != 0:
		return "delay"
	case f.HTTPStatus != 0:
		return "http_status"
	case f.IDJAG != "":
		return "id_jag"
	case f.JWKS != "":
		return "jwks"
	}
	return ""
}

// ErrorStatus is the HTTP status of an error fault's answer: the one given,
// else 503 for temporarily_unavailable, 500 for server_error, 401 for
// invalid_client and 400 for every other code (RFC 6749 section 5.2).
func (f *Fault) ErrorStatus() int {
	if f.Error.Status != 0 {
		return f.Error.Status
	}
	return defaultErrorStatus(f.Error.Code)
}

// defaultErrorStatus is the HTTP status a code gets: 401 for invalid_client
// and 400 for the others (RFC 6749 section 5.2), 500 and 503 for
// server_error and temporarily_unavailable, whose meaning (RFC 6749 section
// 4.1.2.1) those statuses carry. It is plain data, an int the IdP writes as
// it is: policy decides and does not speak HTTP.
func defaultErrorStatus(code string) int {
	switch code {
	case "temporarily_unavailable":
		return 503
	case "server_error":
		return 500
	case ErrInvalidClient:
		return 401
	}
	return 400
}

// Describe says in a few words what the fault injects, and where when that
// is not the token endpoint, for audit reasons and logs.
func (f *Fault) Describe() string {
	if on := f.On(); on != FaultEndpointToken && f.Kind() != "jwks" {
		return f.describe() + " at the " + on + " endpoint"
	}
	return f.describe()
}

func (f *Fault) describe() string {
	switch f.Kind() {
	case "error":
		return fmt.Sprintf("error %s (HTTP %d)", f.Error.Code, f.ErrorStatus())
	case "delay":
		return "a delay of " + f.Delay.String()
	case "http_status":
		return fmt.Sprintf("a bare HTTP %d without a JSON body", f.HTTPStatus)
	case "id_jag":
		return "a broken ID-JAG (" + f.IDJAG + ")"
	case "jwks":
		return `an empty JWKS ({"keys":[]})`
	}
	return "nothing"
}

// FaultStatusKeys are the read-only keys the admin API adds to an active
// fault it answers (its source and counters), which ParseFaults ignores.
var FaultStatusKeys = []string{"source", "fired", "remaining"}

// ParseFaults parses faults given as YAML or JSON (JSON is YAML): one fault
// as a mapping, or a list of them. They are validated as the configuration's
// faults: section is, against cfg (every client, user and MCP server named
// must exist in it); name is what problems refer to, with the line in data.
// The keys of FaultStatusKeys, which the admin API adds to a fault it
// answers, are ignored in a fault, so that what it answered may be sent
// back. The error is Problems.
func ParseFaults(data []byte, name string, cfg *Config) ([]Fault, error) {
	root, problems := parseYAML(data, name)
	if problems != nil {
		return nil, problems
	}
	d := &decoder{file: name, nodes: map[string]*yaml.Node{}, failedAt: map[string]bool{}, failedIn: map[string]bool{}, budget: maxNodes}
	d.ignore = func(path, key string) bool {
		return slices.Contains(FaultStatusKeys, key) && (path == "fault" || strings.HasPrefix(path, "faults[") && !strings.ContainsAny(path, "."))
	}
	var faults []Fault
	path := func(i int) string { return fmt.Sprintf("faults[%d]", i) }
	if resolve(root).Kind == yaml.SequenceNode {
		d.decode(root, "faults", reflect.ValueOf(&faults).Elem())
	} else {
		faults = make([]Fault, 1)
		d.decode(root, "fault", reflect.ValueOf(&faults[0]).Elem())
		path = func(int) string { return "fault" }
	}
	if len(faults) == 0 && len(d.problems) == 0 {
		d.add(root, "no fault given; send one fault such as {\"error\": {\"code\": \"temporarily_unavailable\"}}, or a list of them")
	}
	if d.budget > 0 {
		newFaultValidator(d, cfg).faults(faults, path)
	}
	if len(d.problems) > 0 {
		return nil, d.problems.sorted()
	}
	return faults, nil
}

// CheckFaults validates faults built in Go against cfg, as ParseFaults
// validates parsed ones; name is the file problems refer to, "" for none
// (each problem then starts with its fault: "fault: ...", "faults[1]...").
// The error is Problems.
func CheckFaults(faults []Fault, name string, cfg *Config) error {
	d := &decoder{file: name, nodes: map[string]*yaml.Node{}, failedAt: map[string]bool{}, failedIn: map[string]bool{}, budget: maxNodes}
	newFaultValidator(d, cfg).faults(faults, func(i int) string {
		if len(faults) == 1 {
			return "fault"
		}
		return fmt.Sprintf("faults[%d]", i)
	})
	if len(d.problems) > 0 {
		return d.problems.sorted()
	}
	return nil
}

// newFaultValidator returns a validator that knows cfg's names, for faults
// checked apart from the file they refer to.
func newFaultValidator(d *decoder, cfg *Config) *validator {
	v := &validator{decoder: d, cfg: cfg, groups: map[string]int{}, users: map[string]int{}, clients: map[string]int{}}
	for i, g := range cfg.Groups {
		v.groups[g.Name] = i
	}
	for i, u := range cfg.Users {
		v.users[u.Username] = i
	}
	for i, c := range cfg.Clients {
		v.clients[c.ClientID] = i
	}
	return v
}

// faultList validates the configuration's faults: section.
func (v *validator) faultList() {
	v.faults(v.cfg.Faults, func(i int) string { return fmt.Sprintf("faults[%d]", i) })
}

func (v *validator) faults(faults []Fault, pathOf func(int) string) {
	ids := map[string]int{}
	for i := range faults {
		path := pathOf(i)
		f := &faults[i]
		if f.ID != "" {
			if !serverIDPattern.MatchString(f.ID) {
				v.at(path+".id", "%q is not a valid fault id; use letters, digits, '.', '_' and '-', starting with a letter or digit", f.ID)
			} else {
				v.unique(ids, i, path+".id", "faults[%d].id", "fault id", f.ID)
			}
		}
		if v.faultEndpoint(path, f) {
			v.faultMatch(path+".match", f)
			v.faultAction(path, f)
		}
		if f.Times < 0 {
			v.at(path+".times", "%d is negative; give how many times the fault fires, or 0 (or nothing) for every time", f.Times)
		}
	}
}

func (v *validator) faultMatch(path string, f *Fault) {
	m := f.Match
	if m.Client != "" {
		if _, ok := v.clients[m.Client]; !ok && !v.cimdClient(path+".client", m.Client) {
			v.at(path+".client", "unknown client %q%s", m.Client, v.known("clients", v.clientIDs, m.Client))
		}
	}
	if m.User != "" {
		if _, ok := v.users[m.User]; !ok {
			v.at(path+".user", "unknown user %q%s", m.User, v.known("users", v.usernames, m.User))
		}
	}
	if m.Server != "" && v.cfg.Server(m.Server) == nil {
		v.at(path+".server", "unknown MCP server %q%s", m.Server, v.known("MCP servers", v.serverIDs, m.Server))
	}
	switch normalGrant(m.GrantType) {
	case "", FaultGrantTokenExchange:
	case FaultGrantAuthorizationCode, FaultGrantRefreshToken:
		if m.Server != "" {
			v.at(path+".server", "an MCP server is only named in token exchanges, so this fault never matches grant_type %s; remove server or grant_type", m.GrantType)
		}
	default:
		v.at(path+".grant_type", "unknown grant type %q; use authorization_code, refresh_token or token-exchange%s", m.GrantType,
			didYouMean(m.GrantType, []string{FaultGrantAuthorizationCode, FaultGrantRefreshToken, FaultGrantTokenExchange}))
	}
}

// faultAction checks that the fault injects exactly one thing, and that
// thing.
func (v *validator) faultAction(path string, f *Fault) {
	var kinds []string
	for _, k := range []struct {
		key string
		set bool
	}{
		{"error", f.Error != (FaultError{})},
		{"delay", f.Delay != 0},
		{"http_status", f.HTTPStatus != 0},
		{"id_jag", f.IDJAG != ""},
		{"jwks", f.JWKS != ""},
	} {
		if k.set || v.given(path+"."+k.key) {
			kinds = append(kinds, k.key)
		}
	}
	// The fault's own path is not checked with failedNear: a typo under
	// match must not hide that the fault injects two things. A kind that
	// failed to decode has its problem already.
	for _, k := range []string{"error", "delay", "http_status", "id_jag", "jwks"} {
		if v.failedNear(path + "." + k) {
			return
		}
	}
	on := f.On()
	switch len(kinds) {
	case 0:
		switch on {
		case FaultEndpointToken:
			v.add(v.node(path), fmt.Sprintf("%s: injects nothing; give one of error: {code: ...}, delay: 2s, http_status: 500 or id_jag: %s", path, FaultWrongAud))
		case FaultEndpointJWKS:
			v.add(v.node(path), fmt.Sprintf("%s: injects nothing; give one of delay: 2s, http_status: 503 or jwks: %s", path, FaultJWKSEmpty))
		default:
			v.add(v.node(path), fmt.Sprintf("%s: injects nothing; give one of delay: 2s or http_status: 503", path))
		}
		return
	case 1:
	default:
		one := "error, delay, http_status and id_jag"
		switch on {
		case FaultEndpointJWKS:
			one = "delay, http_status and jwks"
		case FaultEndpointDiscovery, FaultEndpointUserinfo:
			one = "delay and http_status"
		}
		v.add(v.node(path), fmt.Sprintf("%s: gives %s; give exactly one of %s per fault (list two faults to combine a delay with another)", path, strings.Join(kinds, " and "), one))
		return
	}
	switch k := kinds[0]; {
	case on != FaultEndpointToken && (k == "error" || k == "id_jag"):
		what, instead := "an OAuth error", "delay or http_status"
		if k == "id_jag" {
			what = "an ID-JAG"
		}
		if on == FaultEndpointJWKS {
			instead = "delay, http_status or jwks: " + FaultJWKSEmpty
		}
		v.at(path+"."+k, "only the token endpoint answers with %s; a fault of the %s endpoint gives %s", what, on, instead)
		return
	case k == "jwks" && on != FaultEndpointJWKS:
		v.at(path+".jwks", "only the JWKS endpoint publishes keys; give endpoint: jwks")
		return
	}
	switch kinds[0] {
	case "error":
		e := f.Error
		switch {
		case e.Code == "":
			v.at(path+".error.code", "missing; give an OAuth error code such as temporarily_unavailable, invalid_grant or access_denied")
		case !ValidScope(e.Code):
			v.at(path+".error.code", "%q is not an OAuth error code; an error code is printable ASCII without spaces, quotes or backslashes (RFC 6749 section 5.2)", e.Code)
		}
		if e.Status != 0 && (e.Status < 400 || e.Status > 599) {
			hint := ""
			if e.Code != "" {
				hint = fmt.Sprintf("; without status, %s is answered with %d", e.Code, defaultErrorStatus(e.Code))
			}
			v.at(path+".error.status", "%d is not an error status; use 400 to 599%s", e.Status, hint)
		}
		if !validDescription(e.Description) {
			v.at(path+".error.description", "has characters an error_description may not have; use printable ASCII without \" or \\ (RFC 6749 section 5.2)")
		}
	case "delay":
		if f.Delay == 0 {
			v.at(path+".delay", "a delay of 0 does nothing; use a duration such as 300ms or 2s")
		} else if f.Delay.D() > maxFaultDelay {
			v.at(path+".delay", "%s is longer than any client waits; use at most %s", f.Delay, Duration(maxFaultDelay))
		}
	case "http_status":
		switch {
		case f.HTTPStatus >= 500 && f.HTTPStatus <= 599:
		case on == FaultEndpointToken:
			v.at(path+".http_status", "%d is not a 5xx status; use 500 to 599, or error: {code: ..., status: %d} for an OAuth error answer", f.HTTPStatus, f.HTTPStatus)
		default:
			v.at(path+".http_status", "%d is not a 5xx status; use 500 to 599", f.HTTPStatus)
		}
	case "id_jag":
		if ours, ok := mcpjamIDJAGModes[f.IDJAG]; ok {
			v.at(path+".id_jag", "unknown broken ID-JAG %q: MCPJam's %q is %s here; use one of %s", f.IDJAG, f.IDJAG, ours, strings.Join(FaultIDJAGKinds, ", "))
		} else if !contains(FaultIDJAGKinds, f.IDJAG) {
			v.at(path+".id_jag", "unknown broken ID-JAG %q; use one of %s%s", f.IDJAG, strings.Join(FaultIDJAGKinds, ", "), didYouMean(f.IDJAG, FaultIDJAGKinds))
		} else if g := normalGrant(f.Match.GrantType); g != "" && g != FaultGrantTokenExchange {
			v.at(path+".match.grant_type", "an ID-JAG is only issued by the token exchange, so this fault never fires for grant_type %s; use token-exchange", f.Match.GrantType)
		}
	case "jwks":
		if f.JWKS != FaultJWKSEmpty {
			v.at(path+".jwks", "unknown JWKS fault %q; use %s, which publishes {\"keys\":[]}", f.JWKS, FaultJWKSEmpty)
		}
	}
}

// faultEndpoint checks the fault's endpoint, and that a fault of an
// endpoint other than the token endpoint matches nothing: no client, user
// or grant is known on a GET of the JWKS or the discovery document. It
// reports whether the rest of the fault is worth checking.
func (v *validator) faultEndpoint(path string, f *Fault) bool {
	switch f.Endpoint {
	case "", FaultEndpointToken:
		return true
	case FaultEndpointJWKS, FaultEndpointDiscovery, FaultEndpointUserinfo:
	default:
		v.at(path+".endpoint", "unknown endpoint %q; use one of %s%s", f.Endpoint, strings.Join(FaultEndpoints, ", "), didYouMean(f.Endpoint, FaultEndpoints))
		return false
	}
	if f.Match != (FaultMatch{}) || v.given(path+".match") {
		v.at(path+".match", "a fault of the %s endpoint matches every request to it: no client or user is known on that request; remove match", f.Endpoint)
	}
	return true
}

// validDescription checks RFC 6749's error_description characters:
// %x20-21 / %x23-5B / %x5D-7E.
func validDescription(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func (v *validator) serverIDs() []string {
	out := make([]string, len(v.cfg.MCPServers))
	for i, s := range v.cfg.MCPServers {
		out[i] = s.ID
	}
	return out
}
