package push

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/xaa-idp/xaa-idp/internal/atomicfile"
	"github.com/xaa-idp/xaa-idp/internal/strictjson"
	"github.com/xaa-idp/xaa-idp/policy"
)

// StandingFile is the name of the file in the state directory that holds
// who could reach each server with an events endpoint when the Pusher last
// acted on a configuration (docs/configuration.md, "Revocation push"). At
// start the configuration loaded is compared with it, so that a
// revocation is sent even when the process died between the new
// configuration file and its SETs, or the file was edited while the IdP
// was stopped.
const StandingFile = "push-standing.json"

// standing is who could reach which server: what Revocations needs of the
// configuration before, and no more. It holds one line per server with an
// events endpoint and the usernames of the users who could reach it, so
// it is never larger than the configuration's users times those servers.
type standing struct {
	Servers []standingServer `json:"servers"`
	// Subs is each listed user's sub, which a SET names even once the
	// user is gone from the configuration.
	Subs map[string]string `json:"subs"`
}

type standingServer struct {
	ID       string   `json:"id"`
	Issuer   string   `json:"issuer"`
	Endpoint string   `json:"endpoint"`
	Users    []string `json:"users"` // usernames, sorted
}

// standingOf is who can reach each server of cfg with an events endpoint
// at at.
func (p *Pusher) standingOf(cfg *policy.Config, at time.Time) standing {
	st := standing{Servers: []standingServer{}, Subs: map[string]string{}}
	for i := range cfg.MCPServers {
		s := &cfg.MCPServers[i]
		endpoint := p.endpoint(s)
		if endpoint == "" {
			continue
		}
		line := standingServer{ID: s.ID, Issuer: s.Issuer, Endpoint: endpoint, Users: []string{}}
		for j := range cfg.Users {
			if u := &cfg.Users[j]; cfg.Reachable(u, s, at) {
				line.Users = append(line.Users, u.Username)
				st.Subs[u.Username] = u.Sub
			}
		}
		slices.Sort(line.Users)
		st.Servers = append(st.Servers, line)
	}
	return st
}

// revocationsSince compares the standing saved with cfg at at, as
// policy.Revocations compares two configurations: every user who could
// reach a server then and cannot now, disabled, removed, known by another
// sub (when the standing saved the old one), or without the entry that
// gave access (or the server itself). The result is ordered by username,
// then server id.
func revocationsSince(st standing, cfg *policy.Config, at time.Time) []policy.Revocation {
	var out []policy.Revocation
	for _, was := range st.Servers {
		s := cfg.Server(was.ID)
		for _, name := range was.Users {
			u := &policy.User{Username: name, Sub: st.Subs[name]}
			now := cfg.User(name)
			r := policy.Revocation{User: u, Server: s}
			if s == nil {
				r.Server = &policy.MCPServer{ID: was.ID, Issuer: was.Issuer, EventsEndpoint: was.Endpoint}
			}
			switch {
			case now != nil && !now.Active():
				r.Disabled, r.Reason = true, fmt.Sprintf("user %s was disabled", name)
			case now == nil || (u.Sub != "" && now.Sub != u.Sub):
				r.Reason = policy.GoneReason(u, cfg)
			case s == nil:
				r.Reason = fmt.Sprintf("MCP server %s was removed", was.ID)
			case !cfg.Reachable(now, s, at):
				r.Reason = cfg.LostReason(now, s, at)
			default:
				continue
			}
			r.Reason += " (found at start, against the configuration last acted on)"
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].User.Username != out[j].User.Username {
			return out[i].User.Username < out[j].User.Username
		}
		return out[i].Server.ID < out[j].Server.ID
	})
	return out
}

// readStanding reads dir's standing; ok is false when there is none (the
// first start with this state directory).
func readStanding(path string) (st standing, ok bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return st, false, nil
	}
	if err != nil {
		return st, false, fmt.Errorf("push: reading %s: %w", path, err)
	}
	// Written whole or not at all (atomicfile): a bad file is not what a
	// crash leaves. Going on without it could drop revocations; that is
	// for a person to decide. Strictly: taking another program's JSON
	// (through a symbolic link, say) for an empty standing would replace
	// it with this one's.
	err = strictjson.Decode(data, &st, strictjson.Options{})
	if err == nil {
		err = st.check()
	}
	if err != nil {
		return standing{}, false, fmt.Errorf("push: %s: %v: not a file this program writes; fix or remove it (the revocations made while the IdP was stopped are then not sent)", path, err)
	}
	return st, true, nil
}

// check refuses what saveStanding never writes: no servers or subs, or a
// user listed without the sub a SET would name.
func (st standing) check() error {
	if st.Servers == nil || st.Subs == nil {
		return errors.New(`want an object with "servers" and "subs"`)
	}
	for _, s := range st.Servers {
		for _, u := range s.Users {
			if _, ok := st.Subs[u]; !ok {
				return fmt.Errorf("server %q lists user %q, who has no sub in \"subs\"", s.ID, u)
			}
		}
	}
	return nil
}

// saveStanding writes who can reach each server of cfg at at, durably,
// unless the file already says so. The caller holds watchMu.
func (p *Pusher) saveStanding(cfg *policy.Config, at time.Time) {
	if p.standingPath == "" || p.standingHeld {
		return
	}
	data, err := json.Marshal(p.standingOf(cfg, at))
	if err != nil {
		p.o.Logger.Error("push: standing", "err", err)
		return
	}
	if bytes.Equal(data, p.standingSaved) {
		return
	}
	if _, err := atomicfile.Write(p.standingPath, append(data, '\n'), 0o600); err != nil {
		// The old standing stays: the next start compares with it, and at
		// worst sends a revocation already sent.
		p.o.Logger.Error("push: the standing of the servers' users was not saved; the next start compares the configuration with an older one", "file", p.standingPath, "err", err)
		return
	}
	p.standingSaved = data
}

// catchUp, at start, queues the revocations that the configuration loaded
// implies against the standing saved by the last run, then saves the
// standing of the configuration loaded. Without a saved standing (the
// first start) it only saves.
func (p *Pusher) catchUp(dir string) error {
	p.standingPath = filepath.Join(dir, StandingFile)
	st, ok, err := readStanding(p.standingPath)
	if err != nil {
		return err
	}
	if ok {
		p.standingSaved, _ = json.Marshal(st)
		revs := revocationsSince(st, p.cfg, p.cfgAt)
		if len(revs) > 0 {
			p.o.Logger.Info("push: the configuration loaded took access away since the IdP last acted on its configuration; queuing the revocations",
				"revocations", len(revs), "file", p.standingPath)
		}
		if err := p.enqueue(p.sets(revs, p.cfgAt)); err != nil {
			// The SETs refused are logged and audited; the standing stays,
			// for the next start to try again.
			p.holdStanding()
			return nil
		}
	}
	p.saveStanding(p.cfg, p.cfgAt)
	return nil
}

// holdStanding stops saving the standing after SETs were refused, until
// the next start (see Pusher.standingHeld). The caller holds watchMu, or
// is New.
func (p *Pusher) holdStanding() {
	if p.standingPath == "" || p.standingHeld {
		return
	}
	p.standingHeld = true
	p.o.Logger.Warn("push: SETs were refused (the queue is full); the standing of the servers' users is kept as it was until the next start, which finds those revocations again", "file", p.standingPath)
}
