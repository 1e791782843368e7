#!/usr/bin/env bash
# Runs every Go fuzz target of the module for $FUZZTIME (default 10s) each.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-10s}
fail=0
while IFS= read -r file; do
	dir=$(dirname "$file")
	for target in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)\(' "$file" | sed -E 's/^func (Fuzz[A-Za-z0-9_]+)\(/\1/'); do
		echo "== ./$dir $target"
		rc=0
		out=$(go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime 5s "./$dir" 2>&1) || rc=$?
		# The fuzz engine itself sometimes stops a short run with "context
		# deadline exceeded" and no input: run such a target once more.
		if [ $rc -ne 0 ] && grep -q "context deadline exceeded" <<<"$out" && ! grep -q "Failing input" <<<"$out"; then
			rc=0
			out=$(go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime 5s "./$dir" 2>&1) || rc=$?
		fi
		echo "$out"
		[ $rc -eq 0 ] || fail=1
	done
done < <(grep -rl --include='*_test.go' -E '^func Fuzz' internal cmd 2>/dev/null | sort)
exit $fail
