#!/usr/bin/env bash
# One request must not stall the others: worst-case bodies (120 000 JSON fields with a
# duplicate, the widest JSON point, nesting past cJSON's limit, 1 MiB of 1024-field and
# 64-tag lines, a type conflict in 50 000 lines) posted in a loop from two clients while
# /health is timed; every answer is the expected one and the stored points are counted.
. "$(dirname "$0")/lib.sh"

HOSTILE="$(dirname "$0")/http_hostile.py"
edge_start IOT_EDGE_HTTP_MAX_BODY=2MiB IOT_EDGE_HTTP_MAX_FIELDS=120000
python3 "$HOSTILE" load "$EDGE_PORT" 3 120000 | tee "$WORK/load.txt" || fail "hostile load"
say "VmHWM after the load: $(awk '/^VmHWM:/ { print $2 }' "/proc/$EDGE_PID/status") KiB"
want=$(awk '$1 == "points" { print $2 }' "$WORK/load.txt")
assert_eq "$want" "$(buffer_count)" "points stored (the points of the 2xx and partial answers)"
edge_stop
