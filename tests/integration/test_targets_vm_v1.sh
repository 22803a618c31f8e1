#!/usr/bin/env bash
# The single [uplink] section, unchanged, pointed at VictoriaMetrics' v1 API
# (/write, basic auth): a wrong password is its 401 ("authentication failed",
# every point kept), the right one delivers every reading exactly once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/targets_lib.sh"

t0=$(date +%s%N)
vm_start -httpAuth.username=edge -httpAuth.password=right
VM_AUTH=edge:right
edge_start IOT_EDGE_UPLINK_URL="$VM_URL" IOT_EDGE_UPLINK_USERNAME=edge IOT_EDGE_UPLINK_PASSWORD=wrong
sim_run "$WORK/sim.out" --count 100 --interval 0 --devices 2
wait_until 30 uplink_state_is "authentication failed" ||
	fail "no authentication failure: $(status_jq .uplink)"
assert_eq auth "$(status_jq .uplink.last_error_class)" "the class of VictoriaMetrics' 401"
assert_eq '["default"]' "$(status_jq '[.uplinks[].name] | tostring')" "the one target's name"
assert_eq 100 "$(buffer_count)" "points kept in the buffer"
assert_eq 0 "$(vm_count)" "points in VictoriaMetrics with the wrong password"
edge_stop

edge_start IOT_EDGE_UPLINK_URL="$VM_URL" IOT_EDGE_UPLINK_USERNAME=edge IOT_EDGE_UPLINK_PASSWORD=right
wait_until 60 buffer_empty || fail "the buffer did not drain ($(buffer_count) left)"
wait_until 30 vm_has 100 || fail "VictoriaMetrics has $(vm_count) of 100"
assert_eq 100 "$(vm_count)" "points in VictoriaMetrics"
sim_points_ms "$WORK/sim.out" >"$WORK/sent_ms.txt"
vm_points >"$WORK/vm_stored.txt"
diff -q "$WORK/sent_ms.txt" "$WORK/vm_stored.txt" >/dev/null || fail "VictoriaMetrics differs from what was sent"
say "ok: VictoriaMetrics holds exactly the 100 readings sent"
assert_eq 1 "$(vm_curl -sf "$VM_URL/api/v1/export" -d 'match[]={__name__="data_value",db="iot"}' -d start=0 | wc -l)" \
	"series of data_value with VictoriaMetrics' db label (from ?db=iot)"
assert_eq ok "$(status_jq .uplink.state)" "the uplink's state"
edge_stop
say "took $((($(date +%s%N) - t0) / 1000000)) ms"
