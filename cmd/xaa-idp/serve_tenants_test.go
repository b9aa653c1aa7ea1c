package main

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestServe_TenantsPrintOneIssuerLogEachAndAnswerHealthz: `serve` with
// tenants keeps the contract's one line on stdout (the first tenant's
// issuer, which scripts read), logs every tenant's issuer, and answers
// `healthcheck` at the root /healthz, the default URL's path, as well as
// under each tenant's path.
func TestServe_TenantsPrintOneIssuerLogEachAndAnswerHealthz(t *testing.T) {
	file := tenantsConfig(t)
	ctx, cancel := context.WithCancel(context.Background())
	stdout, logs := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--config", file}, stdout, logs) }()
	stop := func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("serve exited %d", code)
			}
		case <-time.After(10 * time.Second):
			t.Error("serve did not stop")
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.HasSuffix(stdout.String(), "\n") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	issuer := strings.TrimSpace(stdout.String())
	u, err := url.Parse(issuer)
	if err != nil || u.Path != "/t/acme" {
		stop()
		t.Fatalf("serve printed %q, want the first tenant's issuer (…/t/acme)\n%s", stdout, logs)
	}
	root := u.Scheme + "://" + u.Host
	for _, path := range []string{"/healthz", "/t/acme/healthz", "/t/okta/healthz", "/issuers/acme/healthz"} {
		if code, _, stderr := runCLI(t, "healthcheck", "--url", root+path); code != 0 {
			t.Errorf("healthcheck %s: exit %d %s", path, code, stderr)
		}
	}
	stop()
	if got := stdout.String(); got != issuer+"\n" {
		t.Errorf("stdout %q, want the one issuer line", got)
	}
	for _, path := range []string{"/t/acme", "/t/okta", "/issuers/acme"} {
		if !strings.Contains(logs.String(), "issuer="+root+path+" ") {
			t.Errorf("the log names no tenant with issuer %s:\n%s", root+path, logs)
		}
	}
}
