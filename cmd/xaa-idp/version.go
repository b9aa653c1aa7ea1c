package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// runVersion prints what the binary was built from: the module version
// (a tag for `go install ...@vX`, "(devel)" for a build from a checkout),
// the VCS revision and whether the work tree had local changes, and the Go
// toolchain.
func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("version", stdout, stderr)
	if code, stop := parse(fs, args); stop {
		return code
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		fmt.Fprintf(stdout, "xaa-idp: no build information in this binary\ngo        %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return exitOK
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	revision := settings["vcs.revision"]
	switch {
	case revision == "":
		revision = "unknown (built without VCS information)"
	case settings["vcs.modified"] == "true":
		revision += " (modified)"
	}
	fmt.Fprintf(stdout, "xaa-idp   %s\n", info.Main.Version)
	fmt.Fprintf(stdout, "module    %s\n", info.Main.Path)
	fmt.Fprintf(stdout, "revision  %s\n", revision)
	if t := settings["vcs.time"]; t != "" {
		fmt.Fprintf(stdout, "committed %s\n", t)
	}
	fmt.Fprintf(stdout, "go        %s %s/%s\n", info.GoVersion, runtime.GOOS, runtime.GOARCH)
	return exitOK
}
