#!/usr/bin/env bash
# bench/run.sh — whole-program scan benchmark (make bench-scan).
#
# Generates a deterministic synthetic Zeek corpus and two indicator sets
# (10,000 and 1,000,000 mixed indicators with planted hits), scans the
# corpus with whodunit and, as the peer, with ripgrep (rg -F -c -f) over
# the same files and indicator values, checks that every planted hit was
# found, and prints MB/s, events/s, CPU, peak RSS and the ratios.
#
# Environment:
#   BENCH_SIZE     corpus size (default 1GB; e.g. 200MB for a quick run)
#   BENCH_DIR      work directory, reused between runs (default $TMPDIR/whodunit-bench)
#   BENCH_SEED     random seed (default 1)
#   BENCH_SETS     indicator set sizes (default "10000 1000000")
#   BENCH_RG       0 to skip the ripgrep peer
#   BENCH_RG_TIMEOUT  seconds before a ripgrep run is abandoned (default 1800)
#   WHODUNIT       path of a whodunit binary (default: built from ./cmd/whodunit);
#                  used when its `scan` has --summary-json, otherwise the scan
#                  library is driven by whodunit-benchgen
#   BENCH_CORPUS   synthetic (default) or real: the real Zeek dns, ssl, conn and
#                  http logs of BENCH_DATA replicated to BENCH_SIZE, with planted hits
#   BENCH_DATA     the shared data directory (default ../shared/data)
#   BENCH_GREP     0 to skip the GNU grep -F -f peer (cat and wc -l always run)
#   BENCH_SCAN_FLAGS  extra flags for `whodunit scan` (default --no-behavior:
#                  the figures are for matching; behaviour analytics are
#                  measured by their own benchmarks)
set -euo pipefail

cd "$(dirname "$0")/.."
SIZE=${BENCH_SIZE:-1GB}
DIR=${BENCH_DIR:-${TMPDIR:-/tmp}/whodunit-bench}
SEED=${BENCH_SEED:-1}
SETS=${BENCH_SETS:-"10000 1000000"}
RG_TIMEOUT=${BENCH_RG_TIMEOUT:-1800}
CORPUS_KIND=${BENCH_CORPUS:-synthetic}
DATA=${BENCH_DATA:-$(pwd)/../shared/data}
real_flag=()
if [ "$CORPUS_KIND" = real ]; then
	real_flag=(-real "$DATA")
	DIR="$DIR/real"
elif [ "$CORPUS_KIND" != synthetic ]; then
	echo "bench: BENCH_CORPUS must be synthetic or real" >&2
	exit 2
fi
mkdir -p "$DIR/bin" "$DIR/results"
rm -f "$DIR"/results/*

need() { # need COMMAND DEBIAN-PACKAGE
	if ! command -v "$1" >/dev/null 2>&1 && [ ! -x "$1" ]; then
		echo "bench: installing $2" >&2
		if [ "$(id -u)" = 0 ]; then
			apt-get install -y -qq "$2" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$2" >/dev/null; }
		else
			sudo apt-get install -y -qq "$2" >/dev/null
		fi
	fi
}
need /usr/bin/time time
if [ "${BENCH_RG:-1}" != 0 ]; then need rg ripgrep; fi

echo "bench: building" >&2
CGO_ENABLED=0 go build -o "$DIR/bin/whodunit-benchgen" ./cmd/whodunit-benchgen
WHODUNIT=${WHODUNIT:-}
if [ -z "$WHODUNIT" ]; then
	CGO_ENABLED=0 go build -o "$DIR/bin/whodunit" ./cmd/whodunit
	WHODUNIT="$DIR/bin/whodunit"
fi
use_cli=0
if "$WHODUNIT" scan --help 2>/dev/null | grep -q -- '--summary-json'; then
	use_cli=1
fi

echo "bench: generating $SIZE corpus and indicator sets in $DIR" >&2
"$DIR/bin/whodunit-benchgen" gen -out "$DIR" -size "$SIZE" -seed "$SEED" -indicators "$(echo $SETS | tr ' ' ',')" "${real_flag[@]}"
CORPUS="$DIR/corpus"
FILES=$(ls "$CORPUS"/*.log)

timed() { # timed NAME COMMAND... ; stdout to results/NAME.out
	local name=$1
	shift
	cat $FILES >/dev/null # every run starts with the corpus in the page cache
	/usr/bin/time -o "$DIR/results/$name.time" -f '%e %U %S %M' "$@" >"$DIR/results/$name.out"
}

scan_run() { # scan_run SET WORKERS
	local n=$1 w=$2 name="whodunit-$1-w$2"
	echo "bench: $name" >&2
	# one worker runs pinned to one core: "per core" means one core
	local pin=()
	if [ "$w" = 1 ]; then
		pin=(env GOMAXPROCS=1)
		if command -v taskset >/dev/null 2>&1; then pin=(taskset -c 0 env GOMAXPROCS=1); fi
	fi
	if [ $use_cli = 1 ]; then
		local db="$DIR/bench-$n.db"
		if [ ! "$db" -nt "$DIR/indicators-$n.dat" ]; then
			rm -f "$db"
			"$WHODUNIT" --db "$db" --quiet intel import "$DIR/indicators-$n.dat" >/dev/null
		fi
		timed "$name" "${pin[@]}" "$WHODUNIT" --db "$db" --quiet scan ${BENCH_SCAN_FLAGS---no-behavior} --workers "$w" \
			--summary-json "$DIR/results/$name.json" $FILES
	else
		timed "$name" "${pin[@]}" "$DIR/bin/whodunit-benchgen" scan -indicators "$DIR/indicators-$n.dat" -workers "$w" \
			-summary "$DIR/results/$name.json" $FILES
	fi
}

rg_run() { # rg_run SET
	local n=$1 name="rg-$1"
	echo "bench: $name" >&2
	# rg exits 1 when nothing matched; that is a result, not a failure
	timed "$name" timeout "$RG_TIMEOUT" rg -F -c -f "$DIR/indicators-$n.txt" $FILES || {
		rc=$?
		if [ $rc = 124 ] || [ $rc = 137 ]; then echo timeout >"$DIR/results/$name.timeout"; fi
	}
}

peer_run() { # peer_run NAME COMMAND... ; a non-zero exit (no match, timeout) is recorded, not fatal
	local name=$1
	shift
	echo "bench: $name" >&2
	timed "$name" timeout "$RG_TIMEOUT" "$@" || {
		rc=$?
		if [ $rc = 124 ] || [ $rc = 137 ]; then echo timeout >"$DIR/results/$name.timeout"; fi
	}
}

peer_run cat-0 sh -c 'cat "$@" >/dev/null' cat $FILES
peer_run wc-0 wc -l $FILES
for n in $SETS; do
	if [ "${BENCH_GREP:-1}" != 0 ]; then peer_run "grep-$n" grep -F -c -f "$DIR/indicators-$n.txt" $FILES; fi
done

for n in $SETS; do
	scan_run "$n" 2
	if [ "$n" = "$(echo $SETS | tr ' ' '\n' | tail -1)" ]; then
		scan_run "$n" 1
	fi
	if [ "${BENCH_RG:-1}" != 0 ]; then rg_run "$n"; fi
done

"$DIR/bin/whodunit-benchgen" report -dir "$DIR"
