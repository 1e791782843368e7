#!/usr/bin/env bash
# Installs what the test suite needs beyond Go; .ci/run calls it first.
set -uo pipefail
# Headless Chromium renders the HTML reports in the browser tests
# (internal/report, internal/cli). Without it those tests skip, loudly.
if ! command -v chromium >/dev/null; then
	if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }; then
		echo "WARNING: chromium could not be installed; the headless-browser tests will be skipped" >&2
	fi
fi
exit 0
