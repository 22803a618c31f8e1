#!/usr/bin/env bash
# The cloud stack of docker/docker-compose.yml, started with docker-compose from .env.example-style settings:
# InfluxDB comes up with database iot and the admin, write and read users; the api profile's iot-edge writes the
# seed reading with the write user and Grafana's read user reads it; `down` is graceful. The official InfluxDB
# image cannot be pulled here: a stand-in built from Debian's influxdb package takes its place, and Grafana and
# Caddy (pulled from a registry only) are not started.
set -euo pipefail
. "$(dirname "$0")/lib-docker.sh"
docker_trap
docker_engine >/dev/null 2>&1 || dfail "no Docker engine (run docker/setup-engine.sh)"
docker_images_present || dfail "the images are missing: the fixture docker_images builds them"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/iot-edge-stack.XXXXXX")
# shellcheck disable=SC2154 # rc is set inside the trap
trap 'rc=$?; docker_cleanup "$rc"; [ "$rc" -ne 0 ] || rm -rf "$WORK"; exit "$rc"' EXIT
D="$DOCKER_TOP/docker"
INFLUX_PORT=$(docker_free_port)
EDGE_PORT=$(docker_free_port)
PROJECT="iotstack$$"

# .env.example with fresh passwords, the local images, and this test's ports.
pw() { head -c 18 /dev/urandom | base64 | tr -d '/+='; }
ADMIN_PW=$(pw) WRITE_PW=$(pw) READ_PW=$(pw)
sed -e "s/^INFLUXDB_ADMIN_PASSWORD=.*/INFLUXDB_ADMIN_PASSWORD=$ADMIN_PW/" \
	-e "s/^INFLUXDB_WRITE_USER_PASSWORD=.*/INFLUXDB_WRITE_USER_PASSWORD=$WRITE_PW/" \
	-e "s/^INFLUXDB_READ_USER_PASSWORD=.*/INFLUXDB_READ_USER_PASSWORD=$READ_PW/" \
	-e "s#^INFLUXDB_IMAGE=.*#INFLUXDB_IMAGE=$INFLUX_STANDIN_IMAGE#" \
	-e "s#^IOT_EDGE_IMAGE=.*#IOT_EDGE_IMAGE=$EDGE_IMAGE#" \
	-e "s/^COMPOSE_PROFILES=.*/COMPOSE_PROFILES=api/" \
	-e "s/^COMPOSE_PROJECT_NAME=.*/COMPOSE_PROJECT_NAME=$PROJECT/" "$D/.env.example" >"$WORK/env"
cat >>"$WORK/env" <<-EOF2
	TEST_INFLUX_PORT=$INFLUX_PORT
	TEST_INFLUX_RPC_PORT=$(docker_free_port)
	TEST_INFLUX_INIT_PORT=$(docker_free_port)
	TEST_EDGE_PORT=$EDGE_PORT
EOF2
# docker-compose resolves docker-compose.yml with the env file; published ports are
# dropped (docker-compose 1.29 refuses them with the host network, and an override
# cannot remove them), then tests/docker/compose-hostnet.yml is merged in.
docker-compose --env-file "$WORK/env" -f "$D/docker-compose.yml" config >"$WORK/resolved.yml" ||
	dfail "docker-compose config failed"
/usr/bin/python3 - "$WORK/resolved.yml" "$DOCKER_TOP/tests/docker/compose-hostnet.yml" "$WORK/env" \
	>"$WORK/hostnet.yml" <<-'PYEOF'
	import os, re, string, sys, yaml
	resolved = yaml.safe_load(open(sys.argv[1]))
	env = dict(l.split("=", 1) for l in open(sys.argv[3]).read().splitlines() if re.match(r"^[A-Z_]+=", l))
	text = re.sub(r"\$\{([A-Z_]+):\?\}", r"${\1}", open(sys.argv[2]).read())
	override = yaml.safe_load(string.Template(text).substitute(env))
	def merge(a, b):
	    for k, v in b.items():
	        a[k] = merge(a.get(k, {}), v) if isinstance(v, dict) and isinstance(a.get(k), dict) else v
	    return a
	for name, svc in resolved["services"].items():
	    svc.pop("ports", None)
	    svc.pop("networks", None)
	    merge(svc, override["services"].get(name, {}))
	resolved.pop("networks", None)
	print(yaml.safe_dump(resolved, sort_keys=False))
	PYEOF
stack() {
	docker-compose --env-file "$WORK/env" -p "$PROJECT" -f "$WORK/hostnet.yml" "$@"
}
docker_track_project stack
dsay "InfluxDB: $INFLUX_STANDIN_IMAGE stands in for the official influxdb image (no registry here)"
dsay "not started: grafana and caddy (their images come only from a registry)"
stack up -d --no-build influxdb api >"$WORK/up.log" 2>&1 || {
	cat "$WORK/up.log"
	dfail "docker-compose up failed"
}
api=$(stack ps -q api)
influx=$(stack ps -q influxdb)
wait_until 60 docker_is_healthy "$influx" || dfail "influxdb is $(docker_health "$influx")"
wait_until 60 docker_is_healthy "$api" || dfail "api is $(docker_health "$api")"
dsay "ok: influxdb and api are healthy"

URL="http://127.0.0.1:$INFLUX_PORT"
q() { # user password query
	curl -sS -G "$URL/query" -u "$1:$2" --data-urlencode db=iot --data-urlencode "q=$3"
}
check() {
	[ "$2" = "$3" ] || dfail "$1: expected $2, got $3"
	dsay "ok: $1 = $3"
}
check "databases after the first start" "iot" \
	"$(q admin "$ADMIN_PW" 'SHOW DATABASES' | jq -r '[.results[0].series[0].values[][0] | select(. != "_internal")] | join(",")')"
check "users" "admin:true,edge:false,grafana:false" \
	"$(q admin "$ADMIN_PW" 'SHOW USERS' | jq -r '[.results[0].series[0].values[] | "\(.[0]):\(.[1])"] | sort | join(",")')"
check "grants of edge" "iot:WRITE" "$(q admin "$ADMIN_PW" 'SHOW GRANTS FOR "edge"' | jq -r '[.results[0].series[0].values[] | join(":")] | join(",")')"
check "grants of grafana" "iot:READ" "$(q admin "$ADMIN_PW" 'SHOW GRANTS FOR "grafana"' | jq -r '[.results[0].series[0].values[] | join(":")] | join(",")')"
check "anonymous query" "401" "$(curl -s -o /dev/null -w '%{http_code}' -G "$URL/query" --data-urlencode 'q=SHOW DATABASES')"

status=$(curl -s -o "$WORK/answer" -w '%{http_code}' -XPOST -H 'Content-Type: application/json' \
	--data-binary '{"ts":"2017-03-11T15:00:53Z", "type": "temp", "value": 34, "sensor_id": 123 }' \
	"http://127.0.0.1:$EDGE_PORT/data")
check "seed POST /data to the api service" 201 "$status"
seed() { q grafana "$READ_PW" 'SELECT * FROM "data"' | jq -c '.results[0].series[0].values // []'; }
arrived() { [ "$(seed)" != "[]" ]; }
wait_until 30 arrived || dfail "the seed reading did not arrive in InfluxDB"
check "the seed reading, read by Grafana's user" '[["2017-03-11T15:00:53Z",123,"temp",34]]' "$(seed)"
check "the write user may not read" "true" \
	"$(q edge "$WRITE_PW" 'SELECT * FROM "data"' | jq '.results[0].error // .error | test("not authorized")')"

stack stop -t 30 api >/dev/null 2>&1
check "api exit status after compose stop" 0 "$(docker inspect -f '{{.State.ExitCode}}' "$api")"
stack down -v >/dev/null 2>&1
check "containers left after down" "" "$(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT")"
