#!/usr/bin/env bash
# Installs and starts what the test suite needs beyond Go; .ci/run calls it
# first. It never fails the run: when something cannot be installed it
# warns loudly, and the tests that need it fail under CI=true (or skip
# outside CI).
#   - headless Chromium and its driver render the HTML reports in the
#     browser tests (internal/report, internal/cli);
#   - Suricata, which loads the exported rules (suricata -T);
#   - PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres) and NATS with
#     JetStream on 127.0.0.1:4222, started here only when nothing answers.
# .ci/run exports WHODUNIT_TEST_POSTGRES and WHODUNIT_TEST_NATS to match.
set -uo pipefail

warn() { echo "WARNING: setup: $*" >&2; }

# apt_install PACKAGE...: apt-get update once, then install; the output
# goes to a log that is shown only when the install fails.
updated=
apt_install() {
	local apt=(apt-get) log
	[ "$(id -u)" = 0 ] || apt=(sudo -n apt-get)
	log=$(mktemp /tmp/whodunit-apt.XXXXXX)
	echo "setup: installing $*"
	if [ -z "$updated" ]; then
		"${apt[@]}" update -qq >"$log" 2>&1 || { tail -n 20 "$log" >&2; return 1; }
		updated=1
	fi
	DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq "$@" >>"$log" 2>&1 ||
		{ tail -n 20 "$log" >&2; return 1; }
}

# answers HOST PORT: something accepts TCP connections there.
answers() { timeout 2 bash -c "</dev/tcp/$1/$2" 2>/dev/null; }

# wait_for HOST PORT SECONDS
wait_for() {
	local i
	for ((i = 0; i < $3 * 4; i++)); do
		answers "$1" "$2" && return 0
		sleep 0.25
	done
	return 1
}

setup_chromium() {
	local need=()
	command -v chromium >/dev/null || need+=(chromium)
	command -v chromedriver >/dev/null || [ -x /usr/bin/chromedriver ] || need+=(chromium-driver)
	[ ${#need[@]} -eq 0 ] && return
	apt_install "${need[@]}" || warn "${need[*]} could not be installed; the headless-browser tests will be skipped"
}

# A throw-away cluster of Debian's postgresql with trust auth, listening on
# loopback only; initdb and the server run as user postgres.
setup_postgres() {
	if answers 127.0.0.1 5432; then
		echo "setup: PostgreSQL answers on 127.0.0.1:5432"
		return
	fi
	ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || apt_install postgresql ||
		{ warn "postgresql could not be installed; the PostgreSQL tests will fail under CI=true"; return; }
	local bin dir run
	bin=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -n 1)")
	dir=$(mktemp -d /tmp/whodunit-pg.XXXXXX)
	run=()
	if [ "$(id -u)" = 0 ]; then
		chown postgres: "$dir" || { warn "no postgres user for the PostgreSQL cluster"; return; }
		run=(runuser -u postgres --)
	fi
	if ! "${run[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1; then
		warn "initdb failed (see $dir/initdb.log)"
		return
	fi
	if ! "${run[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
		-o "-c listen_addresses=127.0.0.1 -p 5432 -k $dir" start >/dev/null; then
		warn "PostgreSQL did not start (see $dir/server.log)"
		return
	fi
	echo "setup: started PostgreSQL in $dir on 127.0.0.1:5432"
}

# Debian's nats-server with JetStream in a temporary store, loopback only.
setup_nats() {
	if answers 127.0.0.1 4222; then
		echo "setup: NATS answers on 127.0.0.1:4222"
		return
	fi
	command -v nats-server >/dev/null || apt_install nats-server ||
		{ warn "nats-server could not be installed; the NATS tests will fail under CI=true"; return; }
	local dir
	dir=$(mktemp -d /tmp/whodunit-nats.XXXXXX)
	nohup nats-server -js -a 127.0.0.1 -p 4222 -sd "$dir/jetstream" >"$dir/server.log" 2>&1 &
	if wait_for 127.0.0.1 4222 15; then
		echo "setup: started NATS with JetStream in $dir on 127.0.0.1:4222"
	else
		warn "nats-server did not start (see $dir/server.log)"
	fi
}

# Suricata loads the rules `whodunit export --format suricata` writes
# (suricata -T). Debian bookworm has it only in bookworm-backports, so that
# suite is added (signed by the archive key the system already trusts).
setup_suricata() {
	command -v suricata >/dev/null && return
	local list=/etc/apt/sources.list.d/whodunit-backports.sources
	. /etc/os-release 2>/dev/null
	if [ "${VERSION_CODENAME:-}" = bookworm ] && [ ! -e "$list" ] && [ "$(id -u)" = 0 ]; then
		printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' >"$list"
		updated=
	fi
	# Its dependencies (libhtp2) must come from backports too: ask for the
	# suite, not just the package, when it is configured.
	local suite=()
	[ -e "$list" ] && suite=(-t bookworm-backports)
	apt_install "${suite[@]}" suricata || warn "suricata could not be installed; the export test that loads its rules will fail under CI=true"
}

setup_chromium
setup_suricata
setup_postgres
setup_nats
echo "setup: WHODUNIT_TEST_POSTGRES=${WHODUNIT_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
echo "setup: WHODUNIT_TEST_NATS=${WHODUNIT_TEST_NATS:-nats://127.0.0.1:4222}"
exit 0
