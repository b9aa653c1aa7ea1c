#!/usr/bin/env bash
# Measures BenchmarkExchange against BenchmarkCryptoFloor in one run and
# prints the ratio (goal: at most 1.3). Usage: scripts/bench-ratio.sh [count]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-5}
out=$(go test ./idp/ -run '^$' -bench '^Benchmark(Exchange|CryptoFloor)$' -benchtime 2s -count "$count")
echo "$out" | grep -E '^Benchmark'
echo "$out" | awk '
  /^BenchmarkExchange-/    { ex[++ne] = $3 }
  /^BenchmarkCryptoFloor-/ { fl[++nf] = $3 }
  function median(a, n,   i, j, t) {
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  END {
    e = median(ex, ne); f = median(fl, nf)
    printf "exchange %.0f ns/op, floor %.0f ns/op, ratio %.2f (goal <= 1.30)\n", e, f, e / f
  }'
