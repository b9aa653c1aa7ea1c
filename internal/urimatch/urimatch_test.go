package urimatch

import "testing"

func TestNormal(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://as.example", "https://as.example"},
		{"HTTPS://AS.Example", "https://as.example"},
		{"https://as.example:443", "https://as.example"},
		{"https://as.example:443/", "https://as.example/"},
		{"http://as.example:80/x", "http://as.example/x"},
		{"https://as.example:/x", "https://as.example/x"},
		{"http://as.example:443/x", "http://as.example:443/x"},
		{"https://as.example:8443/x", "https://as.example:8443/x"},
		{"https://[::1]:443/x", "https://[::1]/x"},
		{"https://[::1]/x", "https://[::1]/x"},
		// The path's case, dot segments and the query count.
		{"https://as.example/MCP", "https://as.example/MCP"},
		{"https://as.example/a/../b", "https://as.example/a/../b"},
		{"https://as.example/x?A=B", "https://as.example/x?A=B"},
		// An empty path is "/" before a query or fragment too.
		{"https://as.example?x=1", "https://as.example/?x=1"},
		{"HTTPS://as.example:443#f", "https://as.example/#f"},
		{"https://as.example/%6dcp%7e", "https://as.example/mcp~"},
		{"https://as.example/a%2fb%c3%a9", "https://as.example/a%2Fb%C3%A9"},
		{"https://as.example/a%2", "https://as.example/a%2"},
		{"https://as.example/a%zz", "https://as.example/a%zz"},
		// Not http(s), or with userinfo: as it is.
		{"urn:example:as", "urn:example:as"},
		{"HTTPS://u@AS.example", "HTTPS://u@AS.example"},
		{"FTP://AS.example", "FTP://AS.example"},
		// Not a host and a port: as it is.
		{"http://127.0.0.1:8101:80", "http://127.0.0.1:8101:80"},
		{"HTTP://127.0.0.1:8101:80/x", "HTTP://127.0.0.1:8101:80/x"},
		{"http://a:8x/", "http://a:8x/"},
		{"HTTP://[::1", "HTTP://[::1"},
		{"HTTP://[]:80", "HTTP://[]:80"},
		{"HTTPS://[::1]x:443", "HTTPS://[::1]x:443"},
		{"HTTPS://:443/", "HTTPS://:443/"},
		{"HTTPS://[::1]:", "https://[::1]"},
		{"", ""},
	} {
		if got := Normal(tc.in); got != tc.want {
			t.Errorf("Normal(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNormal_AlreadyNormalDoesNotAllocate(t *testing.T) {
	s := "https://mcp.example.com:8443/mcp?x=%2F"
	if n := testing.AllocsPerRun(100, func() { Normal(s) }); n != 0 {
		t.Errorf("Normal allocated %v times for a normal URL", n)
	}
}

// refSlashEqual is the one-slash tolerance as the documents say it.
func refSlashEqual(a, b string) bool {
	return a == b || a+"/" == b || a == b+"/"
}

func TestSlashEqual_MatchesReference(t *testing.T) {
	values := []string{"", "/", "//", "a", "a/", "a//", "/a", "ab", "ab/", "b/", "https://as.example", "https://as.example/", "https://as.example//", "https://as.exampl", "https://as.examplex"}
	for _, c := range values {
		for _, p := range values {
			if got, want := slashEqual(c, p), refSlashEqual(c, p); got != want {
				t.Errorf("slashEqual(%q, %q) = %v, want %v", c, p, got, want)
			}
		}
	}
}

func TestSame(t *testing.T) {
	for _, tc := range []struct {
		configured, presented string
		want                  bool
	}{
		{"https://as.example", "https://as.example/", true},
		{"https://as.example/", "HTTPS://AS.EXAMPLE:443", true},
		{"https://mcp.example/mcp", "https://MCP.example:443/mcp/", true},
		{"https://mcp.example/mcp", "https://mcp.example/MCP", false},
		{"https://mcp.example/mcp", "https://mcp.example/mcp//", false},
		{"https://mcp.example/mcp", "http://mcp.example/mcp", false},
		{"", "", false},
		{"", "/", false},
	} {
		if got := Same(tc.configured, tc.presented); got != tc.want {
			t.Errorf("Same(%q, %q) = %v, want %v", tc.configured, tc.presented, got, tc.want)
		}
		for _, k := range Keys(tc.configured) {
			if tc.configured != "" && !Same(tc.configured, k) {
				t.Errorf("Keys(%q) has %q, which Same refuses", tc.configured, k)
			}
		}
	}
}

func TestSameResolved(t *testing.T) {
	for _, c := range []struct {
		a, b string
		same bool
	}{
		{"http://idp.example", "http://idp.example/.", true},
		{"http://idp.example", "http://idp.example/./", true},
		{"http://idp.example", "http://idp.example/a/..", true},
		{"http://idp.example", "http://idp.example/a/../", true},
		{"http://idp.example", "HTTP://IDP.example:80/%2E", true},
		{"http://idp.example/t/acme", "http://idp.example/t/x/../acme/.", true},
		{"http://idp.example/t/acme", "http://idp.example/t/acme/..", false},
		{"http://idp.example", "http://idp.example/..", true},
		{"http://idp.example/t/acme", "http://idp.example/t/acme", true},
		{"http://idp.example", "http://idp.example/a", false},
		{"http://idp.example", "http://idp.example/a/.b", false},
		{"http://idp.example", "https://idp.example/.", false},
		{"http://idp.example", "http://idp.example/?x=/..", false},
		{"", "", false},
	} {
		if got := SameResolved(c.a, c.b); got != c.same {
			t.Errorf("SameResolved(%q, %q) = %v, want %v", c.a, c.b, got, c.same)
		}
		if got := SameResolved(c.b, c.a); got != c.same && c.a != "" {
			t.Errorf("SameResolved(%q, %q) = %v, want %v", c.b, c.a, got, c.same)
		}
	}
	if Same("http://idp.example", "http://idp.example/.") {
		t.Error(`Same takes "/." for "": audience matching keeps dot segments (docs/http.md)`)
	}
}
