package web

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/xaa-idp/xaa-idp/connect"
)

// onboardingTimeout bounds one watched zero-touch run.
const onboardingTimeout = 30 * time.Second

type onboardingForm struct {
	User, Client, Password string
	All                    bool
}

// onboardingResult is one MCP server of a run, with the requests made for it.
type onboardingResult struct {
	connect.Result
	Error string
	Steps []connect.Step
}

type onboardingView struct {
	Issuer  string
	Users   []string
	Clients [][2]string // client_id, label
	Servers []onboardingServer
	Form    onboardingForm
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
		if cl.TokenExchange {
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
	return v
}

// onboardingPage explains zero-touch onboarding and offers to watch it.
func (c *Console) onboardingPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	c.show(w, r, v, http.StatusOK, "onboarding.html", "Zero-touch onboarding", "onboarding", c.onboardingView(onboardingForm{All: true}), "", "")
}

// runOnboarding logs a user in as an MCP client would and connects to
// each MCP server (package connect, over the network like any client),
// recording every request for the page. The MCP servers must be running:
// `xaa-idp demo` serves the demo configuration's.
func (c *Console) runOnboarding(w http.ResponseWriter, r *http.Request, v *viewer) {
	form := onboardingForm{
		User: strings.TrimSpace(r.PostFormValue("user")), Client: r.PostFormValue("client"),
		Password: r.PostFormValue("password"), All: r.PostFormValue("all") != "",
	}
	view := c.onboardingView(form)
	cfg := c.adminAPI.Config()
	u, cl := cfg.User(form.User), cfg.Client(form.Client)
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
	results, err := connect.Run(ctx, connect.Options{
		Issuer: c.idp.Issuer(), ClientID: cl.ClientID, ClientSecret: cl.ClientSecret,
		Username: u.Username, Password: password, All: form.All,
		HTTPClient: &http.Client{Timeout: 10 * time.Second},
		Trace: func(s connect.Step) {
			mu.Lock()
			defer mu.Unlock()
			steps[s.MCPServer] = append(steps[s.MCPServer], s)
		},
	})
	mu.Lock()
	defer mu.Unlock()
	view.Ran, view.Login = true, steps[""]
	for _, res := range results {
		or := onboardingResult{Result: res, Steps: steps[res.MCPServer]}
		if res.Err != nil {
			or.Error = res.Err.Error()
		}
		view.Results = append(view.Results, or)
	}
	errMsg := ""
	if err != nil {
		errMsg = err.Error()
	}
	c.show(w, r, v, http.StatusOK, "onboarding.html", "Zero-touch onboarding", "onboarding", view, "", errMsg)
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
