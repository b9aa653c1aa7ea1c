package main

import (
	"fmt"
	"strings"

	"github.com/xaa-idp/xaa-idp/policy"
)

// plural is "1 user", "2 users" (every noun counted here takes a plain s).
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// maxListedUsers is how many users the startup log names; more are
// counted.
const maxListedUsers = 10

// userList names the configuration's users for the startup log, or counts
// them when there are many.
func userList(cfg *policy.Config) string {
	if len(cfg.Users) > maxListedUsers || len(cfg.Users) == 0 {
		return plural(len(cfg.Users), "user")
	}
	names := make([]string, len(cfg.Users))
	for i, u := range cfg.Users {
		names[i] = u.Username
		if !u.Active() {
			names[i] += " (disabled)"
		}
	}
	return strings.Join(names, ", ")
}
