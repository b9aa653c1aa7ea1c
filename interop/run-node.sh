#!/usr/bin/env bash
# Interop test with the official MCP TypeScript client (@modelcontextprotocol/client):
# builds xaa-idp, serves the embedded demo configuration on a free loopback
# port, and runs interop/node/idjag.test.mjs against it with node's built-in
# test runner. Exits with the test's status.
#
# Needs Go and Node >= 20 (with npm). NODE and NPM may name other binaries.
# Usage: bash interop/run-node.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
node="${NODE:-node}"
npm="${NPM:-npm}"

tmp="$(mktemp -d)"
server_pid=""
cleanup() {
	if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
		kill "$server_pid" 2>/dev/null || true
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

echo "--- building xaa-idp"
(cd "$root" && go build -o "$tmp/xaa-idp" ./cmd/xaa-idp)

echo "--- starting xaa-idp serve --addr 127.0.0.1:0"
"$tmp/xaa-idp" serve --addr 127.0.0.1:0 >"$tmp/stdout" 2>"$tmp/stderr" &
server_pid=$!

# The issuer is the first stdout line, printed once the listener accepts.
issuer=""
for _ in $(seq 1 200); do # 200 x 0.1 s = 20 s
	if IFS= read -r line <"$tmp/stdout"; then
		issuer="$line"
		break
	fi
	if ! kill -0 "$server_pid" 2>/dev/null; then
		echo "run-node.sh: xaa-idp exited before listening:" >&2
		cat "$tmp/stderr" >&2
		exit 1
	fi
	sleep 0.1
done
if [ -z "$issuer" ]; then
	echo "run-node.sh: xaa-idp printed no issuer within 20 s; stderr:" >&2
	cat "$tmp/stderr" >&2
	exit 1
fi
echo "--- xaa-idp is at $issuer"

cd "$here/node"
if [ ! -d node_modules ]; then
	echo "--- npm ci"
	"$npm" ci --no-audit --no-fund
fi

echo "--- node $("$node" --version), @modelcontextprotocol/client $("$node" -p 'require("./node_modules/@modelcontextprotocol/client/package.json").version')"
status=0
XAA_IDP_ISSUER="$issuer" "$node" --test --test-reporter=spec idjag.test.mjs || status=$?
if [ "$status" -ne 0 ]; then
	echo "--- xaa-idp stderr" >&2
	cat "$tmp/stderr" >&2
fi
exit "$status"
