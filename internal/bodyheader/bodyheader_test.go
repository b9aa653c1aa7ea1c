package bodyheader_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/internal/bodyheader"
)

func TestCoding(t *testing.T) {
	for _, c := range []struct {
		values []string
		want   string
	}{
		{nil, ""},
		{[]string{"identity"}, ""},
		{[]string{"Identity"}, ""},
		{[]string{""}, ""},
		{[]string{"gzip"}, "gzip"},
		{[]string{"identity, br"}, "br"},
		{[]string{"identity", "deflate"}, "deflate"},
		{[]string{" , zstd"}, "zstd"},
		{[]string{strings.Repeat("x", 10000)}, strings.Repeat("x", 32) + "…"},
	} {
		h := http.Header{}
		for _, v := range c.values {
			h.Add("Content-Encoding", v)
		}
		if got := bodyheader.Coding(h); got != c.want {
			t.Errorf("Coding(%q) = %q, want %q", c.values, got, c.want)
		}
	}
}
