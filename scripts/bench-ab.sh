#!/usr/bin/env bash
# bench-ab.sh: runs test binaries built at different commits in turns, so
# that each meets the same state of a shared machine, and prints, per
# binary and benchmark, the median of a custom metric and every figure.
#
#   git stash; go test -c -o /tmp/x.old ./internal/telemetry/eve/; git stash pop
#   go test -c -o /tmp/x.new ./internal/telemetry/eve/
#   scripts/bench-ab.sh -d internal/telemetry/eve -b EVE -t 40x -r 5 /tmp/x.old /tmp/x.new
#
# -m names the metric (default MB/cpu-s); the package directory is where
# the binaries run, as `go test` runs them.
set -euo pipefail
dir=. bench=. benchtime=1x rounds=5 metric=MB/cpu-s
while getopts d:b:t:r:m: o; do
	case $o in
	d) dir=$OPTARG ;; b) bench=$OPTARG ;; t) benchtime=$OPTARG ;; r) rounds=$OPTARG ;; m) metric=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "usage: $0 [-d dir] [-b bench] [-t benchtime] [-r rounds] [-m metric] binary..." >&2; exit 2; }
bins=()
for b in "$@"; do bins+=("$(realpath "$b")"); done
out=$(mktemp)
trap 'rm -f "$out"' EXIT
cd "$dir"
for _ in $(seq "$rounds"); do
	for b in "${bins[@]}"; do
		"$b" -test.run '^$' -test.bench "$bench" -test.benchtime "$benchtime" 2>&1 |
			awk -v bin="$(basename "$b")" -v m="$metric" '/^Benchmark/ { for (j = 2; j <= NF; j++) if ($j == m) print bin, $1, $(j-1) }' >>"$out"
	done
done
sort -k2,2 -k1,1 "$out" | awk '
	{ k = $2 " " $1; if (!(k in v)) order[++n] = k; v[k] = v[k] " " $3 }
	END {
		for (i = 1; i <= n; i++) {
			k = order[i]; c = split(v[k], x, " ")
			for (a = 1; a <= c; a++) for (b = a + 1; b <= c; b++) if (x[b] + 0 < x[a] + 0) { t = x[a]; x[a] = x[b]; x[b] = t }
			med = c % 2 ? x[(c + 1) / 2] : (x[c / 2] + x[c / 2 + 1]) / 2
			printf "%-55s median %10.4g  (", k, med
			for (a = 1; a <= c; a++) printf "%s%s", x[a], a < c ? " " : ")\n"
		}
	}'
