package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/fixtures"
)

// configCall makes an admin API request as alice (the demo's admin).
func configCall(t *testing.T, method, url, body string, header ...string) (*http.Response, []byte) {
	t.Helper()
	return basicCall(t, "alice", "alice", method, url, body, header...)
}

// basicCall makes an admin API request with HTTP Basic as user, with a
// JSON body ("": none) and headers given as name, value pairs.
func basicCall(t *testing.T, user, password, method, url, body string, header ...string) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(user, password)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

type configStatus struct {
	File            string `json:"file"`
	InMemory        bool   `json:"in_memory"`
	ETag            string `json:"etag"`
	Watching        bool   `json:"watching"`
	LastReload      string `json:"last_reload"`
	LastReloadError string `json:"last_reload_error"`
}

func configStatusOf(t *testing.T, issuer string) configStatus {
	t.Helper()
	_, body := configCall(t, http.MethodGet, issuer+"/admin/api/status", "")
	var st configStatus
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return st
}

// TestServe_ConfigFileIsEditedAndWatched: with --config, a change through
// the admin API is written to the file, and a change to the file is
// picked up by the running server.
func TestServe_ConfigFileIsEditedAndWatched(t *testing.T) {
	file := filepath.Join(t.TempDir(), "idp.yaml")
	if err := os.WriteFile(file, fixtures.Demo, 0o600); err != nil {
		t.Fatal(err)
	}
	issuer := startServe(t, "--config", file)
	st := configStatusOf(t, issuer)
	if st.File != file || st.InMemory || !st.Watching {
		t.Fatalf("status = %+v", st)
	}
	resp, body := configCall(t, http.MethodPut, issuer+"/admin/api/groups/legal", `{"description":"Reads contracts"}`, "If-Match", st.ETag)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT group: %d %s", resp.StatusCode, body)
	}
	data, err := os.ReadFile(file)
	if err != nil || !strings.Contains(string(data), "  - name: legal\n    description: Reads contracts\n") {
		t.Fatalf("file:\n%s", data)
	}
	edited := strings.Replace(string(data), "name: Wiki\n", "name: Team Wiki\n", 1)
	if err := os.WriteFile(file, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, body := configCall(t, http.MethodGet, issuer+"/admin/api/servers/wiki", "")
		if strings.Contains(string(body), `"name": "Team Wiki"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the change to the file was not picked up")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st := configStatusOf(t, issuer); st.LastReload == "" {
		t.Errorf("status = %+v", st)
	}
}

func TestServe_DemoConfigurationEditsLiveInMemory(t *testing.T) {
	issuer := startServe(t)
	st := configStatusOf(t, issuer)
	if !st.InMemory || st.File != "" || st.Watching {
		t.Fatalf("status = %+v", st)
	}
	if resp, body := configCall(t, http.MethodDelete, issuer+"/admin/api/users/erin", "", "If-Match", st.ETag); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE user: %d %s", resp.StatusCode, body)
	}
	_, yaml := configCall(t, http.MethodGet, issuer+"/admin/api/config/yaml", "")
	if strings.Contains(string(yaml), "username: erin") || !strings.Contains(string(yaml), "username: mallory") {
		t.Errorf("download:\n%s", yaml)
	}
}

// TestServe_ReplacedFileWithTheSameSizeAndTimeIsReloaded: a file put in
// place of --config by rename with the same size and modification time as
// the one running (a copy that kept its time: cp -p, rsync -a, install -p,
// touch -r) is still a new file, and is loaded.
func TestServe_ReplacedFileWithTheSameSizeAndTimeIsReloaded(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "idp.yaml")
	if err := os.WriteFile(file, fixtures.Demo, 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(file, old, old); err != nil {
		t.Fatal(err)
	}
	issuer := startServe(t, "--config", file)
	edited := bytes.Replace(fixtures.Demo, []byte("name: Wiki\n"), []byte("name: Wika\n"), 1)
	if len(edited) != len(fixtures.Demo) || bytes.Equal(edited, fixtures.Demo) {
		t.Fatal("no wiki name in the demo configuration")
	}
	tmp := filepath.Join(dir, "idp.yaml.new")
	if err := os.WriteFile(tmp, edited, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(tmp, old, old); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, file); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, body := configCall(t, http.MethodGet, issuer+"/admin/api/servers/wiki", "")
		if strings.Contains(string(body), `"name": "Wika"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the file put in place was not loaded")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
