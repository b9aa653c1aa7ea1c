package main

import (
	"regexp"
	"strings"
	"testing"
)

// TestHelp_MarksEveryRequiredFlag: a flag that a command refuses to run
// without (exit 2, "--password ... are required") says "(required)" in the
// command's -h, as its siblings do. login -h and connect -h marked
// --client-id and --username but not --password, which a newcomer reading
// the help then left out, to be told off by the command.
func TestHelp_MarksEveryRequiredFlag(t *testing.T) {
	flagRE := regexp.MustCompile(`(?:^|[ ,(])--([a-z-]+)`)
	for _, args := range [][]string{{"login"}, {"connect"}, {"exchange"}, {"explain"}, {"keys", "rotate"}, {"ca"}} {
		t.Run(args[0], func(t *testing.T) {
			code, _, stderr := runCLI(t, args...)
			msg, _, ok := strings.Cut(stderr, " required")
			if code != exitUsage || !ok {
				t.Fatalf("%v without flags: exit %d, %q; want %d and \"... required\"", args, code, stderr, exitUsage)
			}
			// Alternatives ("(or --cimd)", "one of --id-token or
			// --refresh-token") are no flag required on its own.
			msg = regexp.MustCompile(`\(or [^)]*\)|one of .*`).ReplaceAllString(msg, "")
			_, hout, herr := runCLI(t, append(args, "-h")...)
			help := hout + herr
			for _, m := range flagRE.FindAllStringSubmatch(msg, -1) {
				usage := flagUsage(help, m[1])
				if usage == "" {
					t.Errorf("%s -h does not list --%s:\n%s", args[0], m[1], help)
				} else if !strings.Contains(usage, "(required)") {
					t.Errorf("%s -h: --%s is required (%q) but its help says %q", args[0], m[1], strings.TrimSpace(stderr), usage)
				}
			}
		})
	}
}

// flagUsage is the text flag.PrintDefaults prints for one flag: its name
// line and the indented lines under it.
func flagUsage(help, name string) string {
	lines := strings.Split(help, "\n")
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) == 0 || f[0] != "-"+name || !strings.HasPrefix(l, "  -") {
			continue
		}
		out := l
		for _, next := range lines[i+1:] {
			if !strings.HasPrefix(next, "    \t") {
				break
			}
			out += "\n" + next
		}
		return out
	}
	return ""
}
