package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestREADME_CommandTableIsTheHelp: the README's command table ("##
// Commands") has a row for every command 'xaa-idp help' lists, and each
// row names exactly the flags that 'xaa-idp help <command>' shows, so that
// a newcomer who reads one never looks in vain for a flag in the other.
func TestREADME_CommandTableIsTheHelp(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(readme), "\n## Commands\n")
	if !ok {
		t.Fatal(`README.md has no "## Commands" section`)
	}
	table, _, _ = strings.Cut(table, "\n#")
	flagRE := regexp.MustCompile(`--([a-z][a-z-]*)`)
	rows := map[string][]string{}
	for _, line := range strings.Split(table, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cell, _, _ := strings.Cut(strings.TrimPrefix(line, "| `"), "` |")
		name, _, _ := strings.Cut(cell, " ")
		var flags []string
		for _, m := range flagRE.FindAllStringSubmatch(cell, -1) {
			if !slices.Contains(flags, m[1]) {
				flags = append(flags, m[1])
			}
		}
		slices.Sort(flags)
		rows[name] = flags
	}
	helpFlagRE := regexp.MustCompile(`(?m)^  -([a-z][a-z-]*)`)
	for _, c := range commands() {
		if c.name == "help" {
			continue // its row is "help [COMMAND]", "--help", "-h"
		}
		t.Run(c.name, func(t *testing.T) {
			documented, ok := rows[c.name]
			if !ok {
				t.Fatalf("README's command table has no row for %q", c.name)
			}
			code, stdout, stderr := runCLI(t, "help", c.name)
			if code != exitOK {
				t.Fatalf("help %s: exit %d: %s", c.name, code, stderr)
			}
			var shown []string
			for _, m := range helpFlagRE.FindAllStringSubmatch(stdout+stderr, -1) {
				shown = append(shown, m[1])
			}
			slices.Sort(shown)
			if !slices.Equal(documented, shown) {
				t.Errorf("README's row for %s names the flags %v; 'help %s' shows %v", c.name, documented, c.name, shown)
			}
		})
	}
	for name := range rows {
		if name == "help" {
			continue
		}
		if !slices.ContainsFunc(commands(), func(c command) bool { return c.name == name }) {
			t.Errorf("README's command table has a row for %q, which 'xaa-idp help' does not list", name)
		}
	}
}
