#!/bin/bash
# entrypoint.sh -- the stand-in InfluxDB image's entrypoint: on the first start, create the database and users like the official image.
#
# Variables (as the official influxdb:1.x image reads them): INFLUXDB_DB,
# INFLUXDB_HTTP_AUTH_ENABLED, INFLUXDB_ADMIN_USER/_PASSWORD, INFLUXDB_USER/
# _PASSWORD (ALL on the database), INFLUXDB_WRITE_USER/_PASSWORD,
# INFLUXDB_READ_USER/_PASSWORD, INFLUXDB_INIT_PORT (loopback port used while
# initialising, default 8086). Any other INFLUXDB_<SECTION>_<KEY> is read by
# influxd itself. Initialisation runs only while the meta folder is empty.
set -euo pipefail

say() { printf 'influxdb-standin: %s\n' "$*" >&2; }

# Single quotes inside an InfluxQL string literal are escaped with a backslash.
quote() { printf "'%s'" "${1//\'/\\\'}"; }

INIT_URL=""
AUTH=()

query() {
	curl -sS -f -o /dev/null -XPOST "${AUTH[@]}" "$INIT_URL/query" --data-urlencode "q=$1" ||
		{
			say "failed: ${1%% WITH PASSWORD*}"
			return 1
		}
}

create_user() { # user password privilege-statement
	[ -n "$1" ] || return 0
	[ -n "$2" ] || {
		say "a password is required for user $1"
		return 1
	}
	query "CREATE USER \"$1\" WITH PASSWORD $(quote "$2")"
	query "REVOKE ALL PRIVILEGES FROM \"$1\""
	[ -z "$3" ] || query "$3 TO \"$1\""
}

init() {
	local meta=${INFLUXDB_META_DIR:-/var/lib/influxdb/meta}
	if [ -n "$(ls -A "$meta" 2>/dev/null)" ]; then
		return 0
	fi
	if [ -z "${INFLUXDB_DB:-}${INFLUXDB_ADMIN_USER:-}${INFLUXDB_USER:-}${INFLUXDB_WRITE_USER:-}${INFLUXDB_READ_USER:-}" ]; then
		return 0
	fi
	local auth=${INFLUXDB_HTTP_AUTH_ENABLED:-false}
	if [ "$auth" = true ] && [ -z "${INFLUXDB_ADMIN_USER:-}" ]; then
		say "INFLUXDB_HTTP_AUTH_ENABLED=true needs INFLUXDB_ADMIN_USER and INFLUXDB_ADMIN_PASSWORD"
		exit 1
	fi
	local port=${INFLUXDB_INIT_PORT:-8086}
	INIT_URL="http://127.0.0.1:$port"
	say "first start: creating database and users (influxd on 127.0.0.1:$port meanwhile)"
	INFLUXDB_HTTP_BIND_ADDRESS="127.0.0.1:$port" INFLUXDB_HTTP_HTTPS_ENABLED=false influxd "$@" &
	local pid=$!
	local i
	for i in $(seq 300); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' "$INIT_URL/ping")" = 204 ] && break
		kill -0 "$pid" 2>/dev/null || {
			say "influxd exited during initialisation"
			exit 1
		}
		[ "$i" -lt 300 ] || {
			say "influxd did not answer /ping within 30 s"
			exit 1
		}
		sleep 0.1
	done
	if [ -n "${INFLUXDB_ADMIN_USER:-}" ]; then
		[ -n "${INFLUXDB_ADMIN_PASSWORD:-}" ] || {
			say "INFLUXDB_ADMIN_PASSWORD is required"
			exit 1
		}
		query "CREATE USER \"$INFLUXDB_ADMIN_USER\" WITH PASSWORD $(quote "$INFLUXDB_ADMIN_PASSWORD") WITH ALL PRIVILEGES"
		AUTH=(-u "$INFLUXDB_ADMIN_USER:$INFLUXDB_ADMIN_PASSWORD")
	fi
	if [ -n "${INFLUXDB_DB:-}" ]; then
		local db="\"$INFLUXDB_DB\""
		query "CREATE DATABASE $db"
		create_user "${INFLUXDB_USER:-}" "${INFLUXDB_USER_PASSWORD:-}" "GRANT ALL ON $db"
		create_user "${INFLUXDB_WRITE_USER:-}" "${INFLUXDB_WRITE_USER_PASSWORD:-}" "GRANT WRITE ON $db"
		create_user "${INFLUXDB_READ_USER:-}" "${INFLUXDB_READ_USER_PASSWORD:-}" "GRANT READ ON $db"
	fi
	kill -TERM "$pid"
	wait "$pid" || true
	say "initialised"
}

if [ "${1:0:1}" = - ]; then
	set -- influxd "$@"
fi
if [ "$1" = influxd ]; then
	init "${@:2}"
fi
exec "$@"
