package authserver_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/internal/cimd"
	"github.com/xaa-idp/xaa-idp/internal/diskfull"
	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// restart stops e's authorization server and starts another with the
// same configuration at the same address, as a restart of the process
// does.
func (e *env) restart(t *testing.T) {
	t.Helper()
	if err := e.as.Close(); err != nil {
		t.Fatal(err)
	}
	as, err := authserver.New(e.cfg)
	if err != nil {
		t.Fatalf("New after the restart: %v", err)
	}
	t.Cleanup(func() { as.Close() })
	e.as = as
	e.setAS(as)
}

// TestReplayFile_JTIsOutliveARestart: with a ReplayFile, an ID-JAG, a
// client assertion and a DPoP proof used before a restart are refused
// after it as before it (the keys that signed them outlive the restart),
// new ones are accepted, and the file holds neither the JWTs nor their
// jti values. Without one, a restart forgets them, as before.
func TestReplayFile_JTIsOutliveARestart(t *testing.T) {
	m := newMetadataClients(t)
	file := filepath.Join(t.TempDir(), "replay.jsonl")
	e := newEnv(t, func(c *authserver.Config) {
		c.CIMD = cimd.New(cimd.DefaultConfig(), &cimd.Options{Timeout: time.Second})
		c.Clients[m.jwt] = ""
		c.ReplayFile = file
	})
	jag := e.jag(t, nil)
	jagID := e.claims()["jti"]
	assertionJAG := e.jag(t, func(c map[string]any) { c["client_id"] = m.jwt })
	assertion := m.assertion(t, e.asURL, e.clock.Now(), nil)
	key := newECKey(t)
	proof := e.tokenProof(t, key)

	if r := e.post(t, grant(jag)); r.status != http.StatusOK {
		t.Fatalf("the ID-JAG: HTTP %d %s", r.status, r.raw)
	}
	if r := e.post(t, metadataGrant(assertionJAG, "", assertion)); r.status != http.StatusOK {
		t.Fatalf("the client assertion: HTTP %d %s", r.status, r.raw)
	}
	if r := e.post(t, withProofs(grant(e.jag(t, nil)), proof)); r.status != http.StatusOK {
		t.Fatalf("the DPoP proof: HTTP %d %s", r.status, r.raw)
	}

	refusedAll := func(when string) {
		t.Helper()
		if r := e.post(t, grant(jag)); r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" || !strings.Contains(r.str("error_description"), "already redeemed") {
			t.Errorf("the ID-JAG again %s: HTTP %d %s, want 400 invalid_grant, already redeemed", when, r.status, r.raw)
		}
		if r := e.post(t, metadataGrant(e.jag(t, func(c map[string]any) { c["client_id"] = m.jwt }), "", assertion)); r.status != http.StatusUnauthorized || r.str("error") != "invalid_client" || !strings.Contains(r.str("error_description"), "already used") {
			t.Errorf("the client assertion again %s: HTTP %d %s, want 401 invalid_client, already used", when, r.status, r.raw)
		}
		if r := e.post(t, withProofs(grant(e.jag(t, nil)), proof)); r.status != http.StatusBadRequest || r.str("error") != "invalid_dpop_proof" || !strings.Contains(r.str("error_description"), "already used") {
			t.Errorf("the DPoP proof again %s: HTTP %d %s, want 400 invalid_dpop_proof, already used", when, r.status, r.raw)
		}
	}
	refusedAll("before the restart")
	e.restart(t)
	refusedAll("after the restart")
	if r := e.post(t, metadataGrant(e.jag(t, func(c map[string]any) { c["client_id"] = m.jwt }), "", m.assertion(t, e.asURL, e.clock.Now(), nil))); r.status != http.StatusOK {
		t.Errorf("a new ID-JAG with a new assertion after the restart: HTTP %d %s", r.status, r.raw)
	}
	if r := e.post(t, withProofs(grant(e.jag(t, nil)), e.tokenProof(t, key))); r.status != http.StatusOK {
		t.Errorf("a new ID-JAG with a new proof after the restart: HTTP %d %s", r.status, r.raw)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{jag, assertion, proof, jagID.(string)} {
		if strings.Contains(string(data), secret) {
			t.Errorf("the replay file holds %q:\n%s", secret, data)
		}
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the replay file: %v, mode %v, want 0600", err, fi.Mode())
	}

	// Once they have all expired, a start drops them from the file.
	e.clock.Advance(2 * time.Hour)
	e.restart(t)
	if data, err := os.ReadFile(file); err != nil || len(data) != 0 {
		t.Errorf("the replay file after every entry expired: %v %q, want it empty", err, data)
	}

	// Without a file, a restart forgets: the behaviour before ReplayFile.
	plain := newEnv(t)
	jag = plain.jag(t, nil)
	if r := plain.post(t, grant(jag)); r.status != http.StatusOK {
		t.Fatalf("without a file: HTTP %d %s", r.status, r.raw)
	}
	plain.restart(t)
	if r := plain.post(t, grant(jag)); r.status != http.StatusOK {
		t.Errorf("without a file, after a restart: HTTP %d %s", r.status, r.raw)
	}
}

// TestReplayFile_UnreadableLineFailsClosed: a line the start cannot read
// (here a torn last line) may have been any jti's: every ID-JAG, client
// assertion and DPoP proof made until that start (and the skew, or the
// DPoP window, after it) is refused, the log names the file and line, and
// what is made later is accepted. Another start keeps the floor while it
// matters.
func TestReplayFile_UnreadableLineFailsClosed(t *testing.T) {
	m := newMetadataClients(t)
	file := filepath.Join(t.TempDir(), "replay.jsonl")
	e := newEnv(t, func(c *authserver.Config) {
		c.CIMD = cimd.New(cimd.DefaultConfig(), &cimd.Options{Timeout: time.Second})
		c.Clients[m.jwt] = ""
		c.ReplayFile = file
	})
	// Two of each, made before the start that loses a record.
	type made struct{ jag, assertion, proof string }
	key := newECKey(t)
	var sets [2]made
	for i := range sets {
		sets[i] = made{e.jag(t, nil), m.assertion(t, e.asURL, e.clock.Now(), nil), e.tokenProof(t, key)}
	}

	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"kind":"jti","key":"abc`)
	f.Close()
	var log bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&log, nil)))
	e.restart(t)
	slog.SetDefault(old)
	if !strings.Contains(log.String(), file) || !strings.Contains(log.String(), "line=1") {
		t.Errorf("the start did not name the unreadable record's file and line:\n%s", log.String())
	}

	check := func(when string, s made) {
		t.Helper()
		if r := e.post(t, grant(s.jag)); r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" || !strings.Contains(r.str("error_description"), "cannot tell whether this one was redeemed") {
			t.Errorf("an ID-JAG made before the start %s: HTTP %d %s, want 400 invalid_grant", when, r.status, r.raw)
		}
		if r := e.post(t, metadataGrant(e.jag(t, func(c map[string]any) { c["client_id"] = m.jwt }), "", s.assertion)); r.status != http.StatusUnauthorized || r.str("error") != "invalid_client" || !strings.Contains(r.str("error_description"), "cannot tell whether this one was used") {
			t.Errorf("a client assertion made before the start %s: HTTP %d %s, want 401 invalid_client", when, r.status, r.raw)
		}
		if r := e.post(t, withProofs(grant(e.jag(t, nil)), s.proof)); r.status != http.StatusBadRequest || r.str("error") != "invalid_dpop_proof" || !strings.Contains(r.str("error_description"), "cannot tell whether this one was used") {
			t.Errorf("a DPoP proof made before the start %s: HTTP %d %s, want 400 invalid_dpop_proof", when, r.status, r.raw)
		}
	}
	// The ID-JAGs that come with the assertions and proofs are made
	// after the floor and the skew; the proofs are still in the window.
	e.clock.Advance(31 * time.Second)
	check("that lost a record", sets[0])
	// The floor outlives another start, though the file is whole again.
	e.restart(t)
	check("after another start", sets[1])

	// Made after the floor (and the skew, and the DPoP window): accepted.
	e.clock.Advance(2 * time.Minute)
	if r := e.post(t, metadataGrant(e.jag(t, func(c map[string]any) { c["client_id"] = m.jwt }), "", m.assertion(t, e.asURL, e.clock.Now(), nil))); r.status != http.StatusOK {
		t.Errorf("an ID-JAG and a client assertion made after the floor: HTTP %d %s", r.status, r.raw)
	}
	if r := e.post(t, withProofs(grant(e.jag(t, nil)), e.tokenProof(t, key))); r.status != http.StatusOK {
		t.Errorf("a DPoP proof made after the floor: HTTP %d %s", r.status, r.raw)
	}
}

// TestReplayFile_RevocationsOutliveARestart: a user's access that a
// pushed SET revoked stays revoked after a restart: an ID-JAG issued
// before the SET, unredeemed, is refused as before it, while one issued
// after it is redeemed. Without this the restart forgot the revocation,
// and the SET's jti, kept, refused the IdP's resending of it.
func TestReplayFile_RevocationsOutliveARestart(t *testing.T) {
	file := filepath.Join(t.TempDir(), "replay.jsonl")
	e := newEnv(t, func(c *authserver.Config) { c.ReplayFile = file })
	before := e.jag(t, nil)
	e.pushRevocation(t)
	refused := func(when string) {
		t.Helper()
		if r := e.post(t, grant(before)); r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" || !strings.Contains(r.str("error_description"), "revoked") {
			t.Errorf("an ID-JAG issued before the SET, %s: HTTP %d %s, want 400 invalid_grant, revoked", when, r.status, r.raw)
		}
	}
	refused("before the restart")
	e.restart(t)
	refused("after the restart")
	e.clock.Advance(time.Second)
	if r := e.post(t, grant(e.jag(t, nil))); r.status != http.StatusOK {
		t.Errorf("an ID-JAG issued after the SET, after the restart: HTTP %d %s", r.status, r.raw)
	}
}

// TestReplayFile_AppendCutShortLeavesNoTornLine: a record the disk takes
// only part of (a full disk; here the process's file size limit, which
// cuts a write short as a full disk does) is cut off again: the next
// record is not glued to it, and the next start reads the file whole
// instead of failing closed for a damaged line, so an ID-JAG made before
// it and never redeemed is still accepted, and the ones redeemed before
// and after the failure are still refused.
func TestReplayFile_AppendCutShortLeavesNoTornLine(t *testing.T) {
	file := filepath.Join(t.TempDir(), "replay.jsonl")
	e := newEnv(t, func(c *authserver.Config) { c.ReplayFile = file })
	first, lost, last, unused := e.jag(t, nil), e.jag(t, nil), e.jag(t, nil), e.jag(t, nil)
	if r := e.post(t, grant(first)); r.status != http.StatusOK {
		t.Fatalf("the first ID-JAG: HTTP %d %s", r.status, r.raw)
	}
	lift := diskfull.After(t, file, 20) // room for the start of a line only
	r := e.post(t, grant(lost))
	lift()
	if r.status != http.StatusOK {
		t.Fatalf("the ID-JAG whose record the disk cut short: HTTP %d %s", r.status, r.raw)
	}
	if r := e.post(t, grant(last)); r.status != http.StatusOK {
		t.Fatalf("the ID-JAG after it: HTTP %d %s", r.status, r.raw)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("line %d is not a whole record: %q", i+1, line)
		}
	}
	e.restart(t)
	for _, jag := range []string{first, last} {
		if r := e.post(t, grant(jag)); r.status != http.StatusBadRequest || !strings.Contains(r.str("error_description"), "already redeemed") {
			t.Errorf("an ID-JAG redeemed before the restart: HTTP %d %s, want 400 already redeemed", r.status, r.raw)
		}
	}
	if r := e.post(t, grant(unused)); r.status != http.StatusOK {
		t.Errorf("an ID-JAG made before the restart, never redeemed: HTTP %d %s, want 200 (the start failed closed)", r.status, r.raw)
	}
}
