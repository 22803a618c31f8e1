#!/usr/bin/env bash
# Slow and idle clients cannot hold the edge: a request head or body trickled
# byte by byte and an idle connection are cut after http.connection_timeout while
# normal requests go on being served; http.max_connections bounds the clients.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ingest_lib.sh"

trap '' PIPE # writing to a connection the edge closed must fail, not kill us

edge_start IOT_EDGE_HTTP_CONNECTION_TIMEOUT=1s IOT_EDGE_HTTP_MAX_CONNECTIONS=8

# trickle NAME PREFIX: open a connection, send PREFIX, then one byte every 0.2 s
# for at most 20 s; writes "cut" to $WORK/NAME once a write fails (the edge
# closed the connection) or "survived" if it never does.
trickle() {
	local name=$1 prefix=$2 fd
	exec {fd}<>"/dev/tcp/127.0.0.1/$EDGE_PORT"
	printf '%s' "$prefix" >&"$fd"
	for _ in $(seq 100); do
		sleep 0.2
		if ! printf 'X' >&"$fd" 2>/dev/null; then
			echo cut >"$WORK/$name"
			exec {fd}>&-
			return 0
		fi
	done
	echo survived >"$WORK/$name"
	exec {fd}>&-
}

# idle NAME: open a connection, send nothing; "cut" once the edge closes it.
idle() {
	local name=$1 fd
	exec {fd}<>"/dev/tcp/127.0.0.1/$EDGE_PORT"
	if timeout 20 cat <&"$fd" >/dev/null; then echo cut >"$WORK/$name"; else echo survived >"$WORK/$name"; fi
	exec {fd}>&-
}

slow=()
trickle head1 'POST /write?db=iot HTTP/1.1' &
slow+=($!)
trickle head2 'GET /health HTTP/1.1' &
slow+=($!)
trickle head3 '' &
slow+=($!)
trickle body $'POST /write?db=iot HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nslow v=1 1\n' &
slow+=($!)
idle idle1 &
slow+=($!)
sleep 0.5
# Meanwhile the edge serves everyone else, promptly.
for i in 1 2 3 4 5; do
	expect_answer 204 "" POST '/write?db=iot' --data-binary "fast v=$i $i"
done
wait "${slow[@]}"
for name in head1 head2 head3 body idle1; do
	assert_eq cut "$(cat "$WORK/$name")" "slow client $name"
done
assert_eq 5 "$(buffer_count)" "points stored (the slow body stored nothing)"
grep -q 'sent no complete request within 1000 ms' "$EDGE_LOG" || fail "no log line for the cut heads"
grep -q 'a request body took longer than 1000 ms' "$EDGE_LOG" || fail "no log line for the cut body"
edge_stop

# max_connections: two idle clients hold both slots; a third waits until one goes.
edge_start IOT_EDGE_HTTP_CONNECTION_TIMEOUT=60s IOT_EDGE_HTTP_MAX_CONNECTIONS=2
exec {c1}<>"/dev/tcp/127.0.0.1/$EDGE_PORT"
exec {c2}<>"/dev/tcp/127.0.0.1/$EDGE_PORT"
sleep 0.3
status=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$EDGE_URL/health" || true)
assert_eq 000 "$status" "a third client while two hold both slots (not served)"
exec {c1}>&-
status=$(curl -s -o /dev/null -m 10 -w '%{http_code}' "$EDGE_URL/health")
assert_eq 200 "$status" "a client once a slot is free"
exec {c2}>&-
edge_stop

# http.max_points must fit the buffer's write queue (100000 points): a larger
# setting is refused at start-up, naming both limits, instead of a request of
# 100001..max_points points being answered 500 (which clients retry forever).
rc=0
IOT_EDGE_HTTP_MAX_POINTS=100001 "$IOT_EDGE" -n -c /dev/null >/dev/null 2>"$WORK/limits.txt" || rc=$?
cat "$WORK/limits.txt"
assert_eq 1 "$rc" "exit status of -n with http.max_points past the write queue"
grep -q "max_points: 100001 is more than one request can store: the buffer's write queue holds 100000 points" \
	"$WORK/limits.txt" || fail "-n did not name http.max_points and the write queue"
rc=0
IOT_EDGE_HTTP_MAX_POINTS=200000 IOT_EDGE_HTTP_LISTEN="127.0.0.1:$EDGE_PORT" IOT_EDGE_BUFFER_PATH="$BUFFER" \
	timeout 20 "$IOT_EDGE" -c /dev/null >>"$EDGE_LOG" 2>&1 || rc=$?
assert_eq 1 "$rc" "exit status of iot-edge started with http.max_points past the write queue"
grep -q "max_points: 200000 is more than one request can store" "$EDGE_LOG" ||
	fail "the refused start did not say why"

# The largest request http.max_points allows (its default, the queue's size) is stored whole.
edge_start IOT_EDGE_HTTP_MAX_BODY=4MiB
before=$(buffer_count)
awk 'BEGIN { for (i = 1; i <= 100000; i++) printf "q v=%di %d\n", i, i }' >"$WORK/max.lp"
expect_answer 204 "" POST '/write?db=iot' --data-binary "@$WORK/max.lp"
assert_eq $((before + 100000)) "$(buffer_count)" "points stored from a request of http.max_points points"
echo 'q v=0i 0' >>"$WORK/max.lp"
expect_answer 413 'more than 100000 points in one request (http.max_points)' POST '/write?db=iot' \
	--data-binary "@$WORK/max.lp"
assert_eq $((before + 100000)) "$(buffer_count)" "points stored after one point too many"
edge_stop
