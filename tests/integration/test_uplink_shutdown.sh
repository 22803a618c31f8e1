#!/usr/bin/env bash
# SIGTERM while a request is in flight: an answer that comes within the grace time (5 s) is
# still acknowledged and the points deleted; a request that hangs is abandoned after it and
# its points stay in the buffer. Exit status 0 both times.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink_lib.sh"

buffer_init
buffer_fill 100
fake_start '{"answers": [{"status": 204, "delay": 1.5}], "then": {"status": 204}}'
edge_start_fake
wait_until 30 fake_arrived 1 || fail "no request arrived"
edge_stop # waits for the exit and checks status 0
assert_eq 0 "$(buffer_count)" "points left after a 204 that came during shutdown"
assert_eq 100 "$(fake_stored)" "points stored"
grep -q 'stopped: 100 points sent in 1 requests' <(uplink_summary) || fail "counters: $(uplink_summary)"

buffer_fill 100 1000
fake_forget
fake_script '{"then": {"hang": true}}'
edge_start_fake
wait_until 30 fake_arrived 1 || fail "no request arrived"
start=$SECONDS
edge_stop
say "iot-edge stopped $((SECONDS - start)) s after SIGTERM"
assert_eq 100 "$(buffer_count)" "points kept after an abandoned request"
grep -q 'stopping: request abandoned, 100 points stay buffered' "$EDGE_LOG" || fail "no abandon line"
grep -q 'stopped: 0 points sent in 0 requests' <(uplink_summary) || fail "counters: $(uplink_summary)"
assert_eq 0 "$(fake_stored)" "points stored"
