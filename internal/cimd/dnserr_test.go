package cimd_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/internal/cimd"
)

// A client_id whose host does not resolve is refused naming the host, not
// the IdP's own DNS server: net's error ("lookup h on 10.0.0.53:53: no
// such host") told any client the resolver's address inside the IdP's
// network.
func TestResolve_UnresolvableHostNamesNoResolver(t *testing.T) {
	r := fastResolver(cimd.Config{Enabled: true, Allow: []string{"http://*"}})
	_, err := r.Resolve(t.Context(), "http://no-such-host.invalid/client.json")
	if !errors.Is(err, cimd.ErrFetch) || !strings.Contains(err.Error(), "no-such-host.invalid") {
		t.Fatalf("err = %v, want ErrFetch naming the host", err)
	}
	if addr := regexp.MustCompile(`\d+\.\d+\.\d+\.\d+|\[[0-9a-f:]+\]|:53\b| on `); addr.MatchString(err.Error()) {
		t.Errorf("err = %v: names an address of the IdP's network", err)
	}
}
