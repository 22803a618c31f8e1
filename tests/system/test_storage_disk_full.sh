#!/usr/bin/env bash
# The buffer on a 4 MiB tmpfs: reject_new answers 507 at min_free_disk and stores nothing of a refused request; a really full disk (ENOSPC) crashes and corrupts nothing, the uplink still drains, ingest resumes when space returns; drop_oldest keeps the newest. Every acknowledged reading that was not dropped reaches InfluxDB once.
#
# Needs root (mount -t tmpfs). DISK_FULL_READINGS (80000 readings per fill).
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib_faults.sh"
. "$(dirname "$0")/lib_storage.sh"

N=${DISK_FULL_READINGS:-80000}
MIN_FREE=262144

storage_mount_tmpfs 4m
edge_start IOT_EDGE_BUFFER_FULL_POLICY=reject_new IOT_EDGE_BUFFER_MIN_FREE_DISK=$MIN_FREE \
	IOT_EDGE_LOG_LEVEL=info

# 1. InfluxDB down: fill the filesystem up to min_free_disk.
sim_bg fill --count "$N" --rate 10000 --batch 20 --connections 4 --devices 10 --retries 20
sim_end fill 120
ok=$(rec_count fill 200 300)
full=$(rec_count fill 507 508)
other=$(($(wc -l <"$WORK/fill.rec") - ok - full))
say "fill: $ok readings stored, $full refused with 507, $other otherwise"
[ "$full" -gt 0 ] || fail "the filesystem never filled up: no 507"
[ "$ok" -gt 10000 ] || fail "only $ok readings fit 4 MiB"
assert_eq 0 "$other" "readings answered neither 2xx nor 507"
assert_eq "$ok" "$(buffer_count)" "points in the buffer = readings answered 2xx (nothing of a 507 stored)"
avail=$(fs_avail)
[ "$avail" -ge "$MIN_FREE" ] || fail "only $avail bytes free: min_free_disk $MIN_FREE was crossed"
say "ok: $avail bytes still free (min_free_disk $MIN_FREE)"
assert_buffer_intact "full at min_free_disk"
[ "$(post /data '{"type":"temp","value":1}')" = 507 ] || fail "a reading at the bound was not refused with 507"
say "ok: 507 at the bound: $(cat "$WORK/last_response")"

# 2. The disk really full (ENOSPC for everyone): no crash, no corruption, 507.
dd if=/dev/zero of="$SMALL_MNT/filler" bs=64k 2>/dev/null || true
assert_eq 0 "$(fs_avail)" "bytes free after filling the tmpfs"
for _ in 1 2 3; do
	[ "$(post /data '{"type":"temp","value":2}')" = 507 ] || fail "a reading on a full disk was not refused with 507"
done
kill -0 "$EDGE_PID" || fail "iot-edge died on a full disk"
assert_buffer_intact "disk full"
# ... and the uplink drains it all the same (deletes reuse the WAL's space)
influx_start
wait_until 90 buffer_empty || fail "the buffer did not drain on a full disk ($(buffer_count) left)"
say "ok: drained on a full disk"
assert_buffer_intact "drained on a full disk"

# 3. Space returns: ingest resumes by itself.
rm -f "$SMALL_MNT/filler"
sim_bg resume --count 2000 --rate 1000 --connections 2 --devices 5 --retries 20
sim_end resume 60
assert_eq 2000 "$(rec_count resume 200 300)" "readings acknowledged once space returned"
wait_until 60 buffer_empty || fail "the buffer did not drain after space returned"
rec_rows fill 200 300 >"$WORK/acked1.txt"
rec_rows resume 200 300 >>"$WORK/acked1.txt"
sort -o "$WORK/acked1.txt" "$WORK/acked1.txt"
influx_rows >"$WORK/stored1.txt"
assert_eq "$(wc -l <"$WORK/acked1.txt")" "$(wc -l <"$WORK/stored1.txt")" "points in InfluxDB = readings acknowledged"
cmp -s "$WORK/acked1.txt" "$WORK/stored1.txt" || fail "InfluxDB holds other points than the acknowledged ones"
say "ok: InfluxDB holds exactly the $(wc -l <"$WORK/stored1.txt") acknowledged readings, none of the 507 ones"
edge_stop

# 4. drop_oldest on the same small disk, InfluxDB down: every reading is
#    acknowledged, the oldest are dropped (counted), the newest kept.
influx_stop
edge_start IOT_EDGE_BUFFER_FULL_POLICY=drop_oldest IOT_EDGE_BUFFER_MIN_FREE_DISK=$MIN_FREE \
	IOT_EDGE_LOG_LEVEL=info
sim_bg drop --count "$N" --rate 10000 --batch 20 --connections 4 --devices 10 --retries 20
sim_end drop 120
acked=$(rec_count drop 200 300)
assert_eq "$N" "$acked" "readings acknowledged with drop_oldest"
kept=$(buffer_count)
assert_buffer_intact "drop_oldest at the bound"
buffer_ts >"$WORK/kept.txt"
edge_stop
dropped=$(storage_closed dropped)
say "drop_oldest: $kept kept, $dropped dropped"
[ "$dropped" -gt 0 ] || fail "nothing was dropped"
assert_eq "$N" "$((kept + dropped))" "kept + dropped = acknowledged"
grep -q "dropped the [0-9]* oldest undelivered points" "$EDGE_LOG" || fail "no log line about dropped points"
# The oldest went: of the readings sorted by time, the first (dropped - 100)
# are gone and the last (kept - 100) are there (100: requests in flight may
# commit out of timestamp order).
rec_rows drop 200 300 | awk '{ print $1 }' | sort -n >"$WORK/acked4.txt"
head -n $((dropped - 100)) "$WORK/acked4.txt" | sort >"$WORK/oldest.txt"
tail -n $((kept - 100)) "$WORK/acked4.txt" | sort >"$WORK/newest.txt"
assert_eq 0 "$(comm -12 "$WORK/oldest.txt" "$WORK/kept.txt" | wc -l)" "old readings still in the buffer"
assert_eq "$((kept - 100))" "$(comm -12 "$WORK/newest.txt" "$WORK/kept.txt" | wc -l)" "newest readings in the buffer"
# what was kept reaches InfluxDB
influx_start
edge_start IOT_EDGE_BUFFER_FULL_POLICY=drop_oldest IOT_EDGE_BUFFER_MIN_FREE_DISK=$MIN_FREE
wait_until 90 buffer_empty || fail "the kept points did not drain"
influx_rows | awk '{ print $1 }' | sort >"$WORK/stored2.txt"
assert_eq "$((kept + $(wc -l <"$WORK/stored1.txt")))" "$(wc -l <"$WORK/stored2.txt")" "points in InfluxDB (phases 1-3 and the kept ones)"
assert_eq "$kept" "$(comm -12 "$WORK/kept.txt" "$WORK/stored2.txt" | wc -l)" "kept points in InfluxDB"
edge_stop
say "PASS"
