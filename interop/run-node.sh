#!/usr/bin/env bash
# Interop test with the official MCP TypeScript client (@modelcontextprotocol/client):
# starts `xaa-idp demo --addr 127.0.0.1:0` (the IdP on a free loopback port
# plus the demo's MCP servers and their authorization servers on their fixed
# ports 8101-8104 and 8201-8204), and runs the tests of interop/node against
# it with node's built-in test runner. Exits with the tests' status; also
# fails if the demo does not stop cleanly (exit 0) on SIGTERM.
#
# Needs Go (unless XAA_IDP_BIN is set) and Node >= 20 (with npm).
# Environment:
#   XAA_IDP_BIN     a prebuilt xaa-idp binary (default: built from this checkout)
#   XAA_IDP_ISSUER  the issuer of an already running `xaa-idp demo`: use it
#                   instead of starting one
#   NODE, NPM       other node and npm binaries
# Usage: bash interop/run-node.sh [test files in interop/node]
#
# Only one demo can run at a time (fixed ports): do not run this in parallel
# with itself or with `go test ./interop/`.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
node="${NODE:-node}"
npm="${NPM:-npm}"

tmp="$(mktemp -d)"
server_pid=""
cleanup() {
	if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
		kill -TERM "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

major="$("$node" -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt 20 ]; then
	echo "run-node.sh: Node >= 20 is required, found $("$node" --version)" >&2
	exit 2
fi

issuer="${XAA_IDP_ISSUER:-}"
if [ -n "$issuer" ]; then
	echo "--- using the running demo at $issuer"
else
	bin="${XAA_IDP_BIN:-}"
	if [ -z "$bin" ]; then
		echo "--- building xaa-idp"
		(cd "$root" && go build -o "$tmp/xaa-idp" ./cmd/xaa-idp)
		bin="$tmp/xaa-idp"
	fi

	echo "--- starting xaa-idp demo --addr 127.0.0.1:0"
	"$bin" demo --addr 127.0.0.1:0 >"$tmp/stdout" 2>"$tmp/stderr" &
	server_pid=$!

	# The banner, printed once every listener is bound, has the line
	# "  IdP   http://127.0.0.1:PORT".
	for _ in $(seq 1 200); do # 200 x 0.1 s = 20 s
		issuer="$(awk '$1 == "IdP" && $2 ~ /^https?:\/\// { print $2; exit }' "$tmp/stdout")"
		if [ -n "$issuer" ]; then
			break
		fi
		if ! kill -0 "$server_pid" 2>/dev/null; then
			wait "$server_pid" && rc=0 || rc=$?
			server_pid=""
			echo "run-node.sh: xaa-idp demo exited ($rc) before listening; another demo may hold its ports 8101-8104, 8201-8204. stderr:" >&2
			cat "$tmp/stderr" >&2
			exit 1
		fi
		sleep 0.1
	done
	if [ -z "$issuer" ]; then
		echo "run-node.sh: xaa-idp demo printed no \"IdP <url>\" line within 20 s; stdout:" >&2
		cat "$tmp/stdout" >&2
		echo "stderr:" >&2
		cat "$tmp/stderr" >&2
		exit 1
	fi
	echo "--- xaa-idp demo: IdP at $issuer"
fi

cd "$here/node"
if [ ! -d node_modules ]; then
	echo "--- npm ci"
	"$npm" ci --no-audit --no-fund
fi

if [ "$#" -gt 0 ]; then
	tests=("$@")
else
	tests=(*.test.mjs)
fi

echo "--- node $("$node" --version), @modelcontextprotocol/client $("$node" -p 'require("./node_modules/@modelcontextprotocol/client/package.json").version')"
status=0
XAA_IDP_ISSUER="$issuer" "$node" --test --test-reporter=spec "${tests[@]}" || status=$?

if [ -n "$server_pid" ]; then
	kill -TERM "$server_pid" 2>/dev/null || true
	wait "$server_pid" && rc=0 || rc=$?
	server_pid=""
	if [ "$rc" -ne 0 ]; then
		echo "run-node.sh: xaa-idp demo exited $rc on SIGTERM, want 0" >&2
		[ "$status" -ne 0 ] || status=1
	fi
	if [ "$status" -ne 0 ]; then
		echo "--- xaa-idp demo stderr" >&2
		cat "$tmp/stderr" >&2
	fi
fi
exit "$status"
