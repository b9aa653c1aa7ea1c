#!/usr/bin/env bash
# Measures BenchmarkExchange against both floors of BenchmarkCryptoFloor
# and prints the ratios: against one raw ES256 signature (what an exchange
# must pay, the subject token being cached) and against the go-jose floor
# (RS256 verification + go-jose ES256 signature; goal: at most 1.3).
# The machine may be shared, so only ratios mean anything: each round runs
# the exchange and its floors back to back, a ratio is taken per round, and
# the median of the rounds is printed. Usage: scripts/bench-ratio.sh [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
bin=$(mktemp -d)/idp.test
trap 'rm -rf "$(dirname "$bin")"' EXIT
go test -c -o "$bin" ./idp/
out=$(for _ in $(seq "$rounds"); do
  (cd idp && "$bin" -test.run '^$' -test.bench '^Benchmark(Exchange|CryptoFloor)$' -test.benchmem -test.benchtime 1s)
done)
echo "$out" | grep -E '^Benchmark'
echo "$out" | awk '
  /^BenchmarkExchange-/                    { ex[++ne] = $3 }
  /^BenchmarkCryptoFloor\/raw-es256-sign-/ { rs[++nr] = $3; r1[nr] = ex[ne] / $3 }
  /^BenchmarkCryptoFloor\/gojose-/         { gj[++ng] = $3; r2[ng] = ex[ne] / $3 }
  function median(a, n,   i, j, t) {
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  END {
    printf "medians of %d rounds: exchange %.0f ns/op, raw ES256 sign %.0f ns/op, go-jose floor %.0f ns/op\n", ne, median(ex, ne), median(rs, nr), median(gj, ng)
    printf "exchange / raw-es256-sign = %.2fx\n", median(r1, nr)
    printf "exchange / gojose floor   = %.2fx (goal <= 1.30)\n", median(r2, ng)
  }'
