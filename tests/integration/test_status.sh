#!/usr/bin/env bash
# GET /status tells a person whether data flows: after a known workload every
# count is exact (ingest by endpoint and status code, buffer, uplink), the
# configuration summary holds no secret, and the uplink's state follows
# InfluxDB going away and coming back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/status_lib.sh"

CONF="$WORK/edge.conf"
status_conf "$CONF"
# Credentials in the URL (InfluxDB without auth ignores them): never shown.
INFLUX_HOSTPORT=${INFLUX_URL#http://}
status_edge_start "$CONF" IOT_EDGE_UPLINK_URL="http://probe:pw-s3cret@$INFLUX_HOSTPORT" \
	IOT_EDGE_UPLINK_BATCH_POINTS=10 # InfluxDB is not started yet: its port refuses connections

# The workload: 30 readings on /data, 3 + 1 points on /write (one request a
# partial write with a bad line), 2 on /api/v2/write, a bad /data and a 404.
sim_run "$WORK/sim.out" --count 30 --interval 0 --devices 3 --quiet
assert_eq 204 "$(CONTENT_TYPE=text/plain post '/write?db=x' $'data,type=lp value=1 1700000000000000001\ndata,type=lp value=2 1700000000000000002\ndata,type=lp value=3 1700000000000000003')" "POST /write"
assert_eq 400 "$(CONTENT_TYPE=text/plain post '/write?db=x' $'data,type=lp value=4 1700000000000000004\nnot line protocol')" "POST /write, partial"
assert_eq 204 "$(CONTENT_TYPE=text/plain post '/api/v2/write?org=o&bucket=b' $'data,type=v2 value=5 1700000000000000005\ndata,type=v2 value=6 1700000000000000006')" "POST /api/v2/write"
assert_eq 400 "$(CONTENT_TYPE=application/json post /data '{"type":"temp"}')" "POST /data without value"
assert_eq 404 "$(curl -s -o /dev/null -w '%{http_code}' "$EDGE_URL/nope")" "GET /nope"
wait_until 20 uplink_failing || fail "no failure counted"

snap
assert_eq 36 "$(snap_get .ingest.points)" "ingest.points"
assert_eq 1 "$(snap_get .ingest.bad_lines)" "ingest.bad_lines"
assert_eq 3 "$(snap_get .ingest.client_errors)" "ingest.client_errors"
assert_eq 0 "$(snap_get .ingest.server_errors)" "ingest.server_errors"
assert_eq "31 30" "$(snap_get '.ingest.endpoints.data | "\(.requests) \(.points)"')" "ingest.endpoints.data requests, points"
assert_eq "2 4" "$(snap_get '.ingest.endpoints.write | "\(.requests) \(.points)"')" "ingest.endpoints.write"
assert_eq "1 2" "$(snap_get '.ingest.endpoints.api_v2_write | "\(.requests) \(.points)"')" "ingest.endpoints.api_v2_write"
assert_eq null "$(snap_get .ingest.endpoints.udp)" "no udp endpoint without udp.listen"
assert_eq "30 2 2 1" "$(snap_get '.ingest.answers | "\(."201") \(."204") \(."400") \(."404")"')" "answers 201 204 400 404"
# Every answer is counted under its code (the rest are 200s of /health and /status).
assert_eq "$(snap_get .ingest.requests)" "$(snap_get '[.ingest.answers[]] | add')" "requests = sum of answers"
assert_eq "$(snap_get '.ingest.requests - 35')" "$(snap_get '.ingest.answers."200"')" "every other answer a 200"

assert_eq 36 "$(snap_get .buffer.points)" "buffer.points while InfluxDB is down"
assert_eq 36 "$(buffer_count)" "points in the buffer file"
assert_eq "$(buffer_bytes)" "$(snap_get .buffer.bytes)" "buffer.bytes = the line bytes in the file"
assert_eq "36 0 0 0 0" "$(snap_get '.buffer | "\(.appended) \(.acked) \(.dropped) \(.rejected) \(.points - .appended)"')" "buffer appended acked dropped rejected"
assert_eq false "$(snap_get .buffer.quarantined)" "buffer.quarantined"
assert_eq true "$(snap_get '.buffer.oldest_age_s > 0 and .buffer.newest_age_s > 0')" "oldest and newest ages above 0"
assert_eq true "$(snap_get '.buffer.newest_age_s < .buffer.oldest_age_s')" "the newest point is younger than the oldest"

assert_eq failing "$(snap_get .uplink.state)" "uplink.state while InfluxDB is down"
assert_eq network "$(snap_get .uplink.last_error_class)" "uplink.last_error_class"
assert_eq "0 0" "$(snap_get '.uplink | "\(.points_sent) \(.requests_ok)"')" "uplink delivered nothing"
assert_eq true "$(snap_get '.uplink.consecutive_failures > 0 and .uplink.requests_failed >= .uplink.consecutive_failures')" "failures counted"
assert_eq null "$(snap_get .uplink.last_success_age_s)" "uplink.last_success_age_s before any success"
assert_eq null "$(snap_get .uplink.backlog_drain_s)" "no drain estimate while nothing drains"
assert_eq true "$(snap_get '.uplink.last_error_age_s >= 0 and .uplink.last_error != ""')" "last error and its age"

# The configuration summary: what runs, without the URL's credentials.
assert_eq "127.0.0.1:$EDGE_PORT" "$(snap_get .config.http.listen)" "config.http.listen"
assert_eq "$BUFFER full 536870912 drop_oldest" "$(snap_get '.config.buffer | "\(.path) \(.durability) \(.max_size) \(.full_policy)"')" "config.buffer"
assert_eq "v1 http://$INFLUX_HOSTPORT iot 10 true" "$(snap_get '.config.uplink | "\(.api) \(.url) \(.database) \(.batch_points) \(.gzip)"')" "config.uplink without credentials"
assert_eq debug "$(snap_get .config.log.level)" "config.log.level"
grep -q s3cret "$WORK/status.json" && fail "a secret of the URL is in /status"
assert_eq "$("$IOT_EDGE" --version | cut -d' ' -f2)" "$(snap_get .version)" "version"
assert_eq true "$(snap_get '.uptime_s > 0')" "uptime_s above 0"
assert_eq 0 "$(snap_get '.collectors | length')" "no collectors"

influx_start
wait_until 60 buffer_empty || fail "the buffer did not drain"
wait_until 10 uplink_ok || fail "uplink.state did not return to ok"
snap
assert_eq 36 "$(snap_get .uplink.points_sent)" "uplink.points_sent"
assert_eq "0 0 36 36" "$(snap_get '.buffer | "\(.points) \(.bytes) \(.appended) \(.acked)"')" "buffer after the drain"
assert_eq "0 0" "$(snap_get '.buffer | "\(.oldest_age_s) \(.newest_age_s)"')" "ages of an empty buffer"
assert_eq 0 "$(snap_get .uplink.consecutive_failures)" "consecutive failures after recovery"
assert_eq true "$(snap_get '.uplink.requests_ok >= 4')" "uplink.requests_ok: at least 4 (36 points, 10 a batch)"
assert_eq true "$(snap_get '.uplink.last_success_age_s >= 0 and .uplink.bytes_sent > 0')" "last success and bytes sent"
assert_eq null "$(snap_get .uplink.backlog_drain_s)" "no drain estimate for an empty buffer"
assert_eq 36 "$(influx_count)" "points in InfluxDB"
edge_stop
