#!/usr/bin/env bash
# A damaged buffer at start-up (truncated, header overwritten, pages overwritten, a WAL from another file): iot-edge moves it aside (kept), salvages what it can read, says so loudly, keeps serving; the salvaged and the new readings reach InfluxDB exactly once.
#
# CORRUPT_READINGS (3000 readings in each buffer before it is damaged).
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib_faults.sh"
. "$(dirname "$0")/lib_storage.sh"

N=${CORRUPT_READINGS:-3000}
: >"$WORK/expected.txt"

# make_buffer CASE: a buffer of N readings at $WORK/CASE/buffer.db, closed cleanly.
make_buffer() {
	mkdir -p "$WORK/$1"
	BUFFER=$WORK/$1/buffer.db
	edge_start IOT_EDGE_LOG_LEVEL=info
	sim_bg "$1-before" --count "$N" --rate 5000 --batch 10 --connections 2 --devices 10 --retries 20
	sim_wait "$1-before" 60
	assert_eq "$N" "$(buffer_count)" "$1: readings in the buffer before the damage"
	edge_stop
}

# open_damaged CASE MIN MAX: start on the damaged buffer; between MIN and MAX
# readings must be salvaged, each one of those sent; new readings are taken.
open_damaged() {
	local case=$1 min=$2 max=$3 mark salvaged aside
	mark=$(log_mark)
	edge_start IOT_EDGE_LOG_LEVEL=info
	log_since "$mark" | grep -q "THE BUFFER FILE WAS CORRUPT: moved it to" ||
		fail "$case: no loud log line about the corrupt buffer"
	log_since "$mark" | grep -q "SALVAGED [0-9]* points" || fail "$case: no log line about the salvage"
	aside=$(find "$WORK/$case" -name 'buffer.db.corrupt-*' ! -name '*-wal*' ! -name '*-shm' | wc -l)
	assert_eq 1 "$aside" "$case: damaged files kept beside the buffer"
	assert_eq 200 "$(curl -s -o "$WORK/status.json" -w '%{http_code}' "$EDGE_URL/status")" \
		"$case: GET /status"
	jq -e '.buffer.quarantined == true' "$WORK/status.json" >/dev/null ||
		fail "$case: /status does not say quarantined"
	say "ok: $case: /status says quarantined"
	assert_buffer_intact "$case"
	salvaged=$(buffer_count)
	say "$case: salvaged $salvaged of $N"
	[ "$salvaged" -ge "$min" ] && [ "$salvaged" -le "$max" ] ||
		fail "$case: salvaged $salvaged, expected $min..$max"
	buffer_ts >"$WORK/$case-salvaged.txt"
	rec_rows "$case-before" 200 300 | awk '{ print $1 }' | sort >"$WORK/$case-sent.txt"
	assert_eq 0 "$(comm -23 "$WORK/$case-salvaged.txt" "$WORK/$case-sent.txt" | wc -l)" \
		"$case: salvaged points that were never sent"
	sim_bg "$case-after" --count 200 --rate 1000 --connections 2 --devices 5 --retries 20
	sim_wait "$case-after" 60
	assert_eq $((salvaged + 200)) "$(buffer_count)" "$case: points after new readings"
	cat "$WORK/$case-salvaged.txt" >>"$WORK/expected.txt"
	rec_rows "$case-after" 200 300 | awk '{ print $1 }' >>"$WORK/expected.txt"
	edge_stop
}

pages() { sqlite3 "$BUFFER" 'PRAGMA page_count;'; }
page_size() { sqlite3 "$BUFFER" 'PRAGMA page_size;'; }

# 1. the last tenth cut off (not at a page boundary): what the b-tree still
#    reaches is salvaged (an interior page in the lost part hides its leaves)
make_buffer truncated
truncate -s $(($(pages) * $(page_size) * 9 / 10 - 100)) "$BUFFER"
open_damaged truncated 0 $((N - 1))

# 2. the 100-byte header overwritten: a copy with a rebuilt header gives all back
make_buffer header
dd if=/dev/urandom of="$BUFFER" bs=100 count=1 conv=notrunc status=none
open_damaged header "$N" "$N"

# 3. three pages in the middle overwritten with random bytes
make_buffer pages
dd if=/dev/urandom of="$BUFFER" bs="$(page_size)" seek=$(($(pages) / 2)) count=3 conv=notrunc status=none
open_damaged pages $((N * 9 / 10)) $((N - 1))

# 4. a WAL from another buffer beside it (another iot-edge killed with -9)
make_buffer foreign
BUFFER=$WORK/foreign/other.db
edge_start IOT_EDGE_LOG_LEVEL=info
sim_bg other --count 300 --rate 1000 --connections 1 --devices 3
sim_wait other 30
edge_kill9
[ -s "$BUFFER-wal" ] || fail "the killed edge left no WAL"
cp "$BUFFER-wal" "$WORK/foreign/buffer.db-wal"
BUFFER=$WORK/foreign/buffer.db
open_damaged foreign "$N" "$N"
[ -s "$(ls "$WORK"/foreign/buffer.db.corrupt-*-wal.foreign)" ] || fail "the foreign WAL was not kept"
say "ok: the foreign WAL is kept as $(basename "$(ls "$WORK"/foreign/buffer.db.corrupt-*-wal.foreign)")"

# Everything salvaged or taken afterwards reaches InfluxDB, nothing else.
influx_start
for case in truncated header pages foreign; do
	BUFFER=$WORK/$case/buffer.db
	edge_start IOT_EDGE_LOG_LEVEL=info
	wait_until 60 buffer_empty || fail "$case: the buffer did not drain"
	edge_stop
done
sort -o "$WORK/expected.txt" "$WORK/expected.txt"
influx_rows | awk '{ print $1 }' | sort >"$WORK/stored.txt"
assert_eq "$(wc -l <"$WORK/expected.txt")" "$(wc -l <"$WORK/stored.txt")" "points in InfluxDB = salvaged + new"
cmp -s "$WORK/expected.txt" "$WORK/stored.txt" || fail "InfluxDB holds other points than salvaged + new"
say "PASS"
