#!/usr/bin/env bash
# The iot-edge image: runs as non-root, becomes healthy, takes the seed POST /data and forwards it to a real
# influxd on loopback; `docker stop` is graceful (exit 0) and the buffer volume keeps unsent readings across
# a new container, which then delivers them.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib-docker.sh"

NAME="iot-edge-test-$$"
VOLUME="iot-edge-buffer-$$"
docker_track_container "$NAME"
docker_track_volume "$VOLUME"
docker_trap_with_lib
docker_engine >/dev/null 2>&1 || dfail "no Docker engine (run docker/setup-engine.sh)"
docker_images_present || dfail "the images are missing: the fixture docker_images builds them"

# --- what the image says about itself ------------------------------------------
cfg=$(docker image inspect -f '{{json .Config}}' "$EDGE_IMAGE")
assert_eq "10001:10001" "$(jq -r .User <<<"$cfg")" "image user (non-root)"
assert_eq SIGTERM "$(jq -r .StopSignal <<<"$cfg")" "stop signal"
assert_eq '["/var/lib/iot-edge"]' "$(jq -c '.Volumes | keys' <<<"$cfg")" "volumes"
assert_eq '["1337/tcp"]' "$(jq -c '.ExposedPorts | keys' <<<"$cfg")" "exposed ports"
assert_eq '["CMD","iot-edge-healthcheck"]' "$(jq -c .Healthcheck.Test <<<"$cfg")" "healthcheck"
assert_eq '["iot-edge"]' "$(jq -c .Entrypoint <<<"$cfg")" "entrypoint"
for label in title description source version revision created; do
	jq -e --arg l "org.opencontainers.image.$label" '.Labels | has($l)' <<<"$cfg" >/dev/null ||
		fail "OCI label org.opencontainers.image.$label is missing"
done
say "ok: OCI labels present; revision $(jq -r '.Labels["org.opencontainers.image.revision"]' <<<"$cfg")"
size=$(docker image inspect -f '{{.Size}}' "$EDGE_IMAGE")
base=$(docker image inspect -f '{{.Size}}' debian:bookworm-slim)
say "image size: $((size / 1000000)) MB ($(((size - base) / 1000000)) MB on top of debian:bookworm-slim, $((base / 1000000)) MB)"
ldd_out=$(docker run --rm --pull never --network host --entrypoint ldd "$EDGE_IMAGE" /usr/bin/iot-edge)
! grep -q 'not found' <<<"$ldd_out" || fail "libraries missing in the image: $(grep 'not found' <<<"$ldd_out")"
help=$(docker run --rm --pull never --network host "$EDGE_IMAGE" --help)
grep -q IOT_EDGE_UPLINK_URL <<<"$help" || fail "iot-edge --help in the image does not list the environment variables"

# --- run it against a real influxd ---------------------------------------------
influx_start
docker volume create "$VOLUME" >/dev/null
BUFFER="$(docker volume inspect -f '{{.Mountpoint}}' "$VOLUME")/buffer.db" # lib.sh's buffer_count reads it
run_edge() {
	docker run -d --pull never --network host --name "$NAME" -v "$VOLUME:/var/lib/iot-edge" \
		--health-interval 1s --health-start-period 1s \
		-e IOT_EDGE_HTTP_LISTEN="127.0.0.1:$EDGE_PORT" -e IOT_EDGE_UPLINK_URL="$INFLUX_URL" \
		-e IOT_EDGE_UPLINK_FLUSH_INTERVAL=100ms -e IOT_EDGE_UPLINK_RETRY_INITIAL=100ms \
		-e IOT_EDGE_UPLINK_RETRY_MAX=1s \
		-e IOT_EDGE_COLLECTOR_EDGE_ENABLED=false "$EDGE_IMAGE" >/dev/null
	wait_until 60 docker_is_healthy "$NAME" ||
		fail "the container is $(docker_health "$NAME"), not healthy: $(docker logs --tail 20 "$NAME" 2>&1)"
}
container_logs() { docker logs "$NAME" >"$EDGE_LOG" 2>&1 || true; }
run_edge
say "ok: the container became healthy"
assert_eq 10001 "$(docker exec "$NAME" sh -c 'awk "/^Uid:/ {print \$2}" /proc/1/status')" "uid of iot-edge (pid 1) in the container"
assert_eq "iot-edge" "$(docker exec "$NAME" cat /proc/1/comm)" "pid 1 in the container"

status=$(post /data '{"ts":"2017-03-11T15:00:53Z", "type": "temp", "value": 34, "sensor_id": 123 }')
assert_eq 201 "$status" "seed POST /data answer"
wait_until 20 buffer_empty || {
	container_logs
	fail "the buffer did not drain"
}
got=$(influx_query 'SELECT * FROM "data"' ns | grep -o '"columns":.*]]')
assert_eq '"columns":["time","sensor_id","type","value"],"values":[[1489244453000000000,123,"temp",34]]' \
	"$got" "point stored in InfluxDB"

# --- InfluxDB down: readings wait in the volume; docker stop is graceful ----------
influx_stop
sim_run "$WORK/sim.out" --count 50 --interval 0 --devices 5
assert_eq 50 "$(buffer_count)" "readings waiting in the buffer volume while InfluxDB is down"
start=$SECONDS
docker stop -t 30 "$NAME" >/dev/null
took=$((SECONDS - start))
assert_eq "0 false" "$(docker inspect -f '{{.State.ExitCode}} {{.State.OOMKilled}}' "$NAME")" "exit status after docker stop (SIGTERM)"
[ "$took" -lt 30 ] || fail "docker stop took $took s: iot-edge was killed, not stopped"
say "ok: docker stop took $took s"
docker logs "$NAME" >"$EDGE_LOG" 2>&1
assert_eq 50 "$(buffer_count)" "readings in the buffer volume after the container stopped"
[ ! -s "${BUFFER}-wal" ] || fail "the WAL was not checkpointed at shutdown ($(stat -c %s "${BUFFER}-wal") bytes)"
say "ok: the WAL was checkpointed into buffer.db at shutdown"

# --- a new container on the same volume delivers them -----------------------------
docker rm "$NAME" >/dev/null
run_edge
assert_eq 50 "$(buffer_count)" "readings in the buffer after a new container started (InfluxDB still down)"
influx_start
wait_until 30 buffer_empty || {
	container_logs
	fail "the buffer did not drain after InfluxDB came back"
}
assert_eq 51 "$(influx_count)" "points in InfluxDB (the seed reading and 50 from iot-sim)"
sim_points "$WORK/sim.out" >"$WORK/sent.txt"
influx_query 'SELECT "sensor_id", "value" FROM "data" WHERE time > 1489244453000000000' |
	jq -r '.results[0].series[0].values[]? | "\(.[0]) \(.[1]) \(.[2])"' >"$WORK/influx.txt"
ns_times "$WORK/influx.txt" >"$WORK/stored.txt"
diff "$WORK/sent.txt" "$WORK/stored.txt" >"$WORK/diff.txt" ||
	fail "InfluxDB differs from what iot-sim sent: $(head -n 5 "$WORK/diff.txt")"
say "ok: every reading sent while InfluxDB was down arrived once, with its time and values"
docker stop -t 30 "$NAME" >/dev/null
assert_eq 0 "$(docker inspect -f '{{.State.ExitCode}}' "$NAME")" "exit status of the second container"
