#!/usr/bin/env bash
# Runs staticcheck at the pinned version, installing it into GOBIN (or
# GOPATH/bin) first when it is missing or another version.
#   scripts/staticcheck.sh VERSION [staticcheck args...]
set -euo pipefail
version=${1:?usage: staticcheck.sh VERSION [args...]}
shift
go=${GO:-go}
bin=$($go env GOBIN)
[ -n "$bin" ] || bin="$($go env GOPATH)/bin"
sc="$bin/staticcheck"
# staticcheck -version prints e.g. "staticcheck 2026.2.2 (0.8.2)".
if ! "$sc" -version 2>/dev/null | grep -qF "(${version#v})"; then
	echo "installing staticcheck $version into $bin" >&2
	(cd / && GOFLAGS= "$go" install "honnef.co/go/tools/cmd/staticcheck@$version")
fi
exec "$sc" "$@"
