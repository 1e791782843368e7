#!/usr/bin/env bash
# Installs what the test suite needs beyond Go; .ci/run calls it first.
set -euo pipefail
# Headless Chromium renders the HTML report in internal/report's browser test.
if ! command -v chromium >/dev/null; then
	apt-get update -qq && apt-get install -y -qq chromium
fi
