package idp_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/idp"
)

// BenchmarkRefreshGrant_Parallel is refresh grants through the real HTTP
// handler, each goroutine rotating its own login's refresh token: in
// memory, and with a state directory, where each rotation is synced to
// refresh-tokens.jsonl before its answer leaves. Run with -cpu 1,4,16 to
// see whether concurrent grants wait for each other's fsync.
func BenchmarkRefreshGrant_Parallel(b *testing.B) {
	for _, c := range []struct {
		name  string
		state bool
	}{{"memory", false}, {"state-dir", true}} {
		b.Run(c.name, func(b *testing.B) {
			var tweak []func(*idp.Options)
			if c.state {
				dir := b.TempDir()
				tweak = append(tweak, func(o *idp.Options) { o.StateDir = dir })
			}
			p := startIdP(b, loadConfig(b, "testdata/conformance.yaml"), tweak...)
			b.RunParallel(func(pb *testing.PB) {
				rt := p.login(b, "mcp-client", "s1", "alice", "alice-pw", "openid", "offline_access").RefreshToken()
				for pb.Next() {
					form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
					req, _ := http.NewRequest(http.MethodPost, p.URL+"/oauth/token", strings.NewReader(form.Encode()))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.SetBasicAuth("mcp-client", "s1")
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					var body map[string]any
					err = json.NewDecoder(resp.Body).Decode(&body)
					resp.Body.Close()
					next, _ := body["refresh_token"].(string)
					if err != nil || resp.StatusCode != http.StatusOK || next == "" {
						b.Errorf("refresh: %d %v %v", resp.StatusCode, body, err)
						return
					}
					rt = next
				}
			})
		})
	}
}
