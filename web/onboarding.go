package web

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/connect"
	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/policy"
)

// onboardingTimeout bounds one watched zero-touch run.
const onboardingTimeout = 30 * time.Second

// maxKeptText bounds each text a run's result keeps for its page (what a
// request got back, why a server was refused, what stopped the run): an
// MCP server's answer is read up to 1 MiB for the trace, and a result is
// kept for an hour, maxResults of them at once. The start of a text is
// kept, and how much was cut (audit.TruncateTo).
const maxKeptText = 4 << 10

// maxKeptScopes bounds the scopes a run's result keeps of each MCP
// server's (whoami's list, which a server may make as long as it likes),
// at most maxKeptText of them altogether; the page says how many more
// there were.
const maxKeptScopes = 64

type onboardingForm struct {
	User, Client, Password string
	All                    bool
	// CIMD runs the client as a Client ID Metadata Document client: it
	// serves its own document on loopback (connect.DefaultMetadataPort,
	// which the demo configuration names) and uses its URL as client_id.
	CIMD bool
}

// onboardingResult is one MCP server of a run, with the requests made for
// it, as the run's result keeps it (keptResult): its connect.Result's
// WhoAmI and Err as texts, cut, and its Scopes cut.
type onboardingResult struct {
	connect.Result
	Error      string
	Steps      []connect.Step
	WhoAmIText string // whoami's answer as indented JSON, cut to maxKeptText
	MoreScopes int    // how many scopes were not kept
}

type onboardingView struct {
	Issuer  string
	Users   []string
	Clients [][2]string // client_id, label
	Servers []onboardingServer
	Form    onboardingForm
	Try     string // the same run from a terminal, for this configuration
	Ran     bool
	Login   []connect.Step // the login's requests
	Results []onboardingResult
}

type onboardingServer struct{ ID, Name, Issuer, Resource string }

func (c *Console) onboardingView(form onboardingForm) *onboardingView {
	cfg := c.adminAPI.Config()
	v := &onboardingView{Issuer: c.idp.Issuer(), Form: form}
	for _, u := range cfg.Users {
		if u.Active() {
			v.Users = append(v.Users, u.Username)
		}
	}
	for _, cl := range cfg.Clients {
		// A run logs in as connect does, with a secret or as a public
		// client: one with keys alone (private_key_jwt) cannot, as the
		// demo banner and the landing page know.
		if cl.TokenExchange && (cl.ClientSecret != "" || len(cl.JWKS) == 0) {
			label := cl.ClientID
			if cl.Name != "" {
				label = cl.Name + " (" + cl.ClientID + ")"
			}
			v.Clients = append(v.Clients, [2]string{cl.ClientID, label})
		}
	}
	for _, s := range cfg.MCPServers {
		res := ""
		if len(s.Resources) > 0 {
			res = s.Resources[0]
		}
		v.Servers = append(v.Servers, onboardingServer{s.ID, s.Label(), s.Issuer, res})
	}
	v.Try = tryConnect(v.Issuer, cfg, v.Clients, v.Users)
	return v
}

// metadataPort is the loopback port of the metadata document the
// configuration names as a client of its MCP servers
// (http://127.0.0.1:PORT/client-metadata.json), so that the console's CIMD
// client is the one the policy lets in; connect.DefaultMetadataPort, which
// the demo configuration names, when it names none.
func metadataPort(cfg *policy.Config) int {
	prefix := "http://127.0.0.1:"
	for _, s := range cfg.MCPServers {
		for id := range s.Clients {
			rest, ok := strings.CutPrefix(id, prefix)
			if !ok {
				continue
			}
			port, path, ok := strings.Cut(rest, "/")
			if n, err := strconv.Atoi(port); ok && err == nil && "/"+path == connect.MetadataPath && n > 0 && n < 65536 {
				return n
			}
		}
	}
	return connect.DefaultMetadataPort
}

// tryConnect is the terminal command of a run for this configuration: its
// first client allowed to exchange tokens and its first active user. A
// secret or password is a placeholder: the page does not show them.
func tryConnect(issuer string, cfg *policy.Config, clients [][2]string, users []string) string {
	if len(clients) == 0 || len(users) == 0 {
		return ""
	}
	cmd := "xaa-idp connect --issuer " + issuer + " --client-id " + clients[0][0]
	if cl := cfg.Client(clients[0][0]); cl != nil {
		if cl.ClientSecret != "" {
			cmd += " --client-secret <secret>"
		}
		if uri := idpclient.RedirectFor(cl.RedirectURIs); uri != "" {
			cmd += " --redirect-uri " + uri
		}
	}
	return cmd + " --username " + users[0] + " --password <password> --all --verbose"
}

// onboardingRun is a run's result, kept for its page (registry.putResult):
// the form it was made with, without the password, and what came back.
type onboardingRun struct {
	Form    onboardingForm
	Login   []connect.Step
	Results []onboardingResult
	Error   string // what stopped the run, if anything
}

// onboardingPage explains zero-touch onboarding and offers to watch it;
// with ?run=, it shows that run's result (runOnboarding redirects there).
func (c *Console) onboardingPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	id := r.URL.Query().Get("run")
	if id == "" {
		c.show(w, r, v, http.StatusOK, "onboarding.html", "Zero-touch onboarding", "onboarding", c.onboardingView(onboardingForm{All: true}), "", "")
		return
	}
	kept, ok := c.sessions.result(v.session, id)
	run, isRun := kept.(*onboardingRun)
	if !ok || !isRun {
		c.show(w, r, v, http.StatusNotFound, "onboarding.html", "Zero-touch onboarding", "onboarding", c.onboardingView(onboardingForm{All: true}), "",
			"The result of that run is no longer kept (a run's result is kept for an hour, for the session that made it, and not across a restart of the IdP, which signs every session out), so there is nothing to show; nothing was run again. To see it again, log in and connect below.")
		return
	}
	view := c.onboardingView(run.Form)
	view.Ran, view.Login, view.Results = true, run.Login, run.Results
	c.show(w, r, v, http.StatusOK, "onboarding.html", "Zero-touch onboarding", "onboarding", view, "", run.Error)
}

// runOnboarding logs a user in as an MCP client would and connects to
// each MCP server (package connect, over the network like any client),
// recording every request for the page it redirects to. The MCP servers must be running:
// `xaa-idp demo` serves them (with --config, those of any file).
func (c *Console) runOnboarding(w http.ResponseWriter, r *http.Request, v *viewer) {
	form := onboardingForm{
		User: strings.TrimSpace(r.PostFormValue("user")), Client: r.PostFormValue("client"),
		Password: r.PostFormValue("password"), All: r.PostFormValue("all") != "",
		CIMD: r.PostFormValue("cimd") != "",
	}
	view := c.onboardingView(form)
	cfg := c.adminAPI.Config()
	u, cl := cfg.User(form.User), cfg.Client(form.Client)
	if form.CIMD && u != nil {
		// The client is the metadata document, not a configured one.
		cl = &policy.Client{TokenExchange: true}
	}
	if u == nil || cl == nil || !cl.TokenExchange {
		c.show(w, r, v, http.StatusBadRequest, "onboarding.html", "Zero-touch onboarding", "onboarding", view, "", "Pick a user and a client that may use token exchange.")
		return
	}
	password := form.Password
	if password == "" {
		password = u.Password
	}
	if password == "" {
		c.show(w, r, v, http.StatusBadRequest, "onboarding.html", "Zero-touch onboarding", "onboarding", view, "", "User "+u.Username+" has only a password hash in the configuration: type the password.")
		return
	}
	var mu sync.Mutex
	steps := map[string][]connect.Step{}
	ctx, cancel := context.WithTimeout(r.Context(), onboardingTimeout)
	defer cancel()
	clientID, secret, redirect := cl.ClientID, cl.ClientSecret, idpclient.RedirectFor(cl.RedirectURIs)
	if form.CIMD {
		doc, err := connect.ServeMetadata(metadataPort(cfg))
		if err != nil {
			c.show(w, r, v, http.StatusConflict, "onboarding.html", "Zero-touch onboarding", "onboarding", view, "", err.Error())
			return
		}
		defer doc.Close()
		clientID, secret, redirect = doc.ClientID, "", ""
	}
	results, err := connect.Run(ctx, connect.Options{
		Issuer: c.idp.Issuer(), ClientID: clientID, ClientSecret: secret, RedirectURI: redirect,
		Username: u.Username, Password: password, All: form.All,
		// No redirect is followed: the run is made from inside the IdP's
		// process, and a 307 would carry its request wherever the
		// Location says, with its body, and its Authorization header to
		// the same host on any port (as the CLI's logins and token
		// requests, idpclient).
		HTTPClient: &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		Trace: func(s connect.Step) {
			mu.Lock()
			defer mu.Unlock()
			steps[s.MCPServer] = append(steps[s.MCPServer], s)
		},
	})
	mu.Lock()
	defer mu.Unlock()
	form.Password = ""
	run := &onboardingRun{Form: form, Login: keptSteps(steps[""])}
	for _, res := range results {
		run.Results = append(run.Results, keptResult(res, steps[res.MCPServer]))
	}
	if err != nil {
		run.Error = audit.TruncateTo(err.Error(), maxKeptText)
	}
	// The result has an address of its own: Reload and Back show it
	// again rather than log the user in and connect once more.
	http.Redirect(w, r, c.url("/admin/onboarding?run="+c.sessions.putResult(v.session, run)), http.StatusSeeOther)
}

// keptResult is res as a run's result keeps it for its page, for an
// hour: what the MCP server sent cut to maxKeptText (its whoami answer,
// why it refused) or to maxKeptScopes (the scopes it lists).
func keptResult(res connect.Result, steps []connect.Step) onboardingResult {
	or := onboardingResult{Result: res, Steps: keptSteps(steps)}
	if res.Err != nil {
		or.Error = audit.TruncateTo(res.Err.Error(), maxKeptText)
		or.Err = nil // which holds the text whole
	}
	if res.WhoAmI != nil {
		or.WhoAmIText = audit.TruncateTo(prettyJSON(res.WhoAmI), maxKeptText)
		or.WhoAmI = nil
	}
	n := 0
	for i, s := range res.Scopes {
		if i == maxKeptScopes || n+len(s) > maxKeptText {
			// A copy: the cut list's array would keep every scope.
			or.Scopes, or.MoreScopes = slices.Clone(res.Scopes[:i]), len(res.Scopes)-i
			break
		}
		n += len(s)
	}
	return or
}

// keptSteps are a run's steps as its result keeps them, what each got
// back and the URL it asked cut to maxKeptText (an MCP server names URLs
// the run asks, as long as it likes: its 401's resource_metadata); steps
// is the run's own, changed in place.
func keptSteps(steps []connect.Step) []connect.Step {
	for i := range steps {
		steps[i].Detail = audit.TruncateTo(steps[i].Detail, maxKeptText)
		steps[i].URL = audit.TruncateTo(steps[i].URL, maxKeptText)
	}
	return steps
}

// downloadYAML passes on the admin API's YAML download: the running
// configuration as a file (the only copy when edits live in memory).
func (c *Console) downloadYAML(w http.ResponseWriter, r *http.Request, v *viewer) {
	a := c.api(r, http.MethodGet, "/admin/api/config/yaml", nil, nil, "")
	if a.Status != http.StatusOK {
		c.errorPage(w, r, v, a.Status, "Download failed", a.apiError())
		return
	}
	ct := a.Header.Get("Content-Type")
	if ct == "" {
		ct = "application/yaml; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	cd := a.Header.Get("Content-Disposition")
	if cd == "" {
		cd = `attachment; filename="xaa-idp.yaml"`
	}
	w.Header().Set("Content-Disposition", cd)
	_, _ = w.Write(a.Body)
}
