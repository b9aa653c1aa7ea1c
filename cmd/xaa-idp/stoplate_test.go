package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/xaa-idp/xaa-idp/fixtures"
	"github.com/xaa-idp/xaa-idp/idpclient"
)

// TestServe_StopAnswersRequestsWorkingPastItsWait: a request that has
// its whole body and is still working when the stop has waited its 5 s
// and the one more second (README, "Operations": Stopping) runs on while
// serve closes the audit log and the stores under it. Outside the token
// endpoint it then answered 500 (an access request, an admin API edit, a
// key rotation, a SCIM user), and an access request, or an admin's
// denial of one, was recorded without its audit event. Each now gets the stop's 503 temporarily_unavailable
// with Retry-After, in its endpoint's form, and nothing is changed: no
// event, no file written.
//
// serve's own start and stop run in the test's process, as runServe runs
// them, with each request held after its body was read (a slow disk)
// until the stop has closed the files.
func TestServe_StopAnswersRequestsWorkingPastItsWait(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the stop's grace period")
	}
	state := t.TempDir()
	config := filepath.Join(t.TempDir(), "idp.yaml")
	if err := os.WriteFile(config, fixtures.Demo, 0o600); err != nil {
		t.Fatal(err)
	}
	fs := newFlagSet("serve", io.Discard, io.Discard)
	flags := addIdPFlags(fs)
	if err := fs.Parse([]string{"--addr", "127.0.0.1:0", "--state-dir", state, "--config", config}); err != nil {
		t.Fatal(err)
	}
	if err := flags.check(); err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	r, code := flags.start(ctx, stderr, nil)
	if r == nil {
		t.Fatalf("start: exit %d\n%s", code, stderr)
	}
	defer r.close()
	issuer := r.srv.Issuer()

	var held sync.WaitGroup
	release := make(chan struct{})
	inner := r.handler
	handler := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Header.Get("X-Test-Hold") != "" {
			// Working, not waiting for its body: the gate waits for
			// it, and gives up.
			body, _ := io.ReadAll(req.Body)
			req.Body = io.NopCloser(bytes.NewReader(body))
			held.Done()
			<-release
		}
		inner.ServeHTTP(w, req)
	})
	served := make(chan error, 1)
	go func() { served <- serveUntilDone(ctx, r.ln, handler) }()

	bob, err := idpclient.Login(context.Background(), idpclient.LoginOptions{Issuer: issuer, ClientID: "mcp-client", ClientSecret: "mcp-secret", Username: "bob", Password: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	basic := "Basic YWxpY2U6YWxpY2U=" // alice:alice, an admin of the demo
	// A pending request, for an admin to deny.
	req, _ := http.NewRequest(http.MethodPost, issuer+"/me/access-requests", strings.NewReader(`{"server": "design"}`))
	req.Header.Set("Authorization", "Bearer "+fmt.Sprint(bob["access_token"]))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var pending struct{ ID string }
	json.NewDecoder(resp.Body).Decode(&pending)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || pending.ID == "" {
		t.Fatalf("bob's request for design: %s", resp.Status)
	}
	requests := []struct {
		name, method, path, auth, contentType, body string
		scim                                        bool
	}{
		{"access request", http.MethodPost, "/me/access-requests", "Bearer " + fmt.Sprint(bob["access_token"]), "application/json", `{"server": "tracker", "reason": "triage"}`, false},
		{"admin API edit", http.MethodPut, "/admin/api/users/zed", basic, "application/json", `{"password": "zed-password"}`, false},
		{"denial", http.MethodPost, "/admin/api/access-requests/" + pending.ID + "/deny", basic, "application/json", `{"reason": "not now"}`, false},
		{"key rotation", http.MethodPost, "/admin/api/keys/rotate", basic, "", "", false},
		{"SCIM", http.MethodPost, "/admin/api/scim/v2/Users", basic, "application/scim+json", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "yan", "password": "yan-password"}`, true},
	}
	type answer struct {
		code       int
		retryAfter string
		body       []byte
		err        error
	}
	answers := make([]chan answer, len(requests))
	for i, q := range requests {
		answers[i] = make(chan answer, 1)
		held.Add(1)
		go func() {
			req, _ := http.NewRequest(q.method, issuer+q.path, strings.NewReader(q.body))
			req.Header.Set("Authorization", q.auth)
			req.Header.Set("X-Test-Hold", "1")
			if q.contentType != "" {
				req.Header.Set("Content-Type", q.contentType)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				answers[i] <- answer{err: err}
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			answers[i] <- answer{resp.StatusCode, resp.Header.Get("Retry-After"), b, nil}
		}()
	}
	held.Wait()
	files := func() map[string]string {
		m := map[string]string{}
		filepath.WalkDir(state, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				b, _ := os.ReadFile(p)
				m[p] = string(b)
			}
			return nil
		})
		b, _ := os.ReadFile(config)
		m[config] = string(b)
		return m
	}
	before := files()

	// The stop, as runServe makes it: serve's wait, then the files close.
	stop()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	r.close()
	close(release)
	for i, q := range requests {
		a := <-answers[i]
		if a.err != nil {
			t.Errorf("%s: no answer: %v", q.name, a.err)
			continue
		}
		if a.code != http.StatusServiceUnavailable || a.retryAfter == "" {
			t.Errorf("%s: answered %d (Retry-After %q), want 503 with Retry-After:\n%s", q.name, a.code, a.retryAfter, a.body)
			continue
		}
		var e map[string]any
		if err := json.Unmarshal(a.body, &e); err != nil {
			t.Errorf("%s: the refusal is not JSON: %v\n%s", q.name, err, a.body)
			continue
		}
		if !q.scim && e["error"] != "temporarily_unavailable" || q.scim && e["status"] != "503" {
			t.Errorf("%s: not the stop's refusal in its endpoint's form:\n%s", q.name, a.body)
		}
	}
	after := files()
	for p, b := range before {
		if after[p] != b {
			t.Errorf("%s changed after the stop closed the files:\n%s", p, strings.TrimPrefix(after[p], b))
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("%s was written after the stop closed the files", p)
		}
	}
	if !strings.Contains(stderr.String(), "requests still working were not waited for longer") {
		t.Errorf("the stop did not give up on the requests held (the test held none past its wait):\n%s", stderr)
	}
}
