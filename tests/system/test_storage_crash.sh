#!/usr/bin/env bash
# kill -9 of iot-edge many times during heavy ingest (InfluxDB down, both durability modes) and during the drain that deletes what InfluxDB acknowledged: the buffer never turns corrupt, every acknowledged reading reaches InfluxDB exactly once.
#
# CRASH_INGEST_KILLS (15), CRASH_DRAIN_KILLS (10), CRASH_RATE (4000 readings/s).
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib_faults.sh"
. "$(dirname "$0")/lib_storage.sh"

INGEST_KILLS=${CRASH_INGEST_KILLS:-15}
DRAIN_KILLS=${CRASH_DRAIN_KILLS:-10}
RATE=${CRASH_RATE:-4000}

# sleep 0.2 .. 1.2 s
random_sleep() { sleep "$(printf '0.%d' $((RANDOM % 10 + 2)))"; [ $((RANDOM % 2)) = 0 ] || sleep 0.2; }

# start alternately with durability full and normal
durability() { if [ $(($1 % 2)) = 0 ]; then echo full; else echo normal; fi; }

# 1. Heavy ingest, InfluxDB down: kill -9 at random moments.
edge_start IOT_EDGE_LOG_LEVEL=info
sim_bg ingest --rate "$RATE" --count $((RATE * 30)) --batch 10 --connections 4 --devices 10 --retries 150
for i in $(seq "$INGEST_KILLS"); do
	random_sleep
	sim_running ingest || fail "iot-sim ended before kill $i"
	edge_kill9
	acked=$(rec_count ingest 200 300)
	stored=$(buffer_count)
	[ "$stored" -ge "$acked" ] || fail "kill $i: $acked readings acknowledged, only $stored in the buffer"
	[ "$(buffer_sql 'PRAGMA quick_check;')" = ok ] || fail "kill $i: quick_check of the buffer failed"
	edge_start IOT_EDGE_LOG_LEVEL=info IOT_EDGE_BUFFER_DURABILITY="$(durability "$i")"
done
say "ok: $INGEST_KILLS x kill -9 during ingest, every acknowledged reading in the buffer each time"
sim_wait ingest 120
backlog=$(buffer_count)
say "backlog: $backlog points"

# 2. InfluxDB up: kill -9 while the backlog drains (reads, sends, deletes).
edge_kill9
influx_start
edge_start IOT_EDGE_LOG_LEVEL=info IOT_EDGE_UPLINK_BATCH_POINTS=20
mid=0
for i in $(seq "$DRAIN_KILLS"); do
	sleep "0.$((RANDOM % 3))$((RANDOM % 10))"
	left=$(buffer_count)
	[ "$left" -gt 0 ] || break
	edge_kill9
	mid=$((mid + 1))
	[ "$(buffer_sql 'PRAGMA quick_check;')" = ok ] || fail "drain kill $i: quick_check of the buffer failed"
	# tiny batches: many requests and delete transactions for the kills to hit,
	# and a drain slow enough that they land during it even on an idle machine
	edge_start IOT_EDGE_LOG_LEVEL=info IOT_EDGE_BUFFER_DURABILITY="$(durability "$i")" \
		IOT_EDGE_UPLINK_BATCH_POINTS=20
done
say "ok: $mid x kill -9 during the drain ($(buffer_count) of $backlog points left after the last)"
[ "$mid" -ge $((DRAIN_KILLS / 2)) ] || fail "only $mid kills hit the drain: the backlog drained too fast"
t=$(now_ns)
wait_until 120 buffer_empty || fail "the buffer did not drain ($(buffer_count) left)"
DRAIN_S=$(seconds_since "$t")
assert_eq 0 "$(grep -c 'CORRUPT' "$EDGE_LOG" || true)" "log lines about a corrupt buffer"
assert_buffer_intact "after $((INGEST_KILLS + DRAIN_KILLS)) kills"
faults_verify "$INGEST_KILLS kills during ingest at ${RATE}/s + $mid during the drain, durability full and normal"
edge_stop
