package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// dockerfile reads the repository's Dockerfile: its ENV variables and
// its CMD (exec form).
func dockerfile(t *testing.T) (env []string, cmd []string) {
	t.Helper()
	for _, line := range dockerfileLines(t) {
		instr, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch instr {
		case "ENV":
			env = append(env, strings.Fields(rest)...)
		case "CMD":
			if err := json.Unmarshal([]byte(rest), &cmd); err != nil {
				t.Fatalf("Dockerfile CMD %s: %v", rest, err)
			}
		}
	}
	if len(cmd) == 0 {
		t.Fatal("the Dockerfile has no CMD")
	}
	return env, cmd
}

// dockerfileLines is the repository's Dockerfile, one line an
// instruction: continued lines joined.
func dockerfileLines(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.ReplaceAll(string(data), "\\\n", " "), "\n")
}

// The image's command takes its address and issuer from XAA_IDP_*
// variables, so that `docker run -e` and a CI service container's `env:`
// (GitHub Actions services take no command) can give the issuer that the
// tests use: a service reached as http://idp:8080, or a port published
// elsewhere. The command line's --issuer http://127.0.0.1:8080 overrode
// every XAA_IDP_ISSUER, and only a replaced command could change it.
func TestDockerfile_IssuerAndAddressComeFromTheEnvironment(t *testing.T) {
	env, cmd := dockerfile(t)
	for _, arg := range cmd {
		if strings.HasPrefix(arg, "-") {
			t.Errorf("the image's CMD %q gives %s, which no XAA_IDP_* variable can then change: set it with ENV", cmd, arg)
		}
	}
	if t.Failed() {
		return // it would listen where the CMD says, not where the test can
	}
	// As the container runs it, with what the user adds: the issuer the
	// tests use, and a free loopback port standing in for 0.0.0.0:8080.
	run := exec.Command(xaaIDPBinary(t), cmd...)
	run.Env = append(append(os.Environ(), env...), "XAA_IDP_ISSUER=http://idp:8080", "XAA_IDP_ADDR=127.0.0.1:0")
	stdout, err := run.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	run.Stderr = &stderr
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { run.Process.Kill(); run.Wait() }()
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- s
	}()
	select {
	case s := <-line:
		if got := strings.TrimSpace(s); got != "http://idp:8080" {
			t.Errorf("the image's command with XAA_IDP_ISSUER=http://idp:8080 serves the issuer %q\n%s", got, &stderr)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the image's command printed no issuer\n%s", &stderr)
	}
}
