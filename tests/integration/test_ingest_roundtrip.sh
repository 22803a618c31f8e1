#!/usr/bin/env bash
# Line protocol round trips: what a device writes to /write, /api/v2/write, UDP or
# /data (general JSON) is parsed, stored canonical, forwarded, and InfluxDB then
# returns the same values, types, tags and nanosecond times.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ingest_lib.sh"

UDP_PORT=$(free_udp_port)
influx_start
edge_start IOT_EDGE_UDP_LISTEN="127.0.0.1:$UDP_PORT"

LP=(-H 'Content-Type: text/plain; charset=utf-8')
# The raw "columns":[...],"values":[[...]] InfluxDB returns for `measurement`
# (raw text: jq would turn 64-bit integers into doubles).
point_of() { # MEASUREMENT [WHERE]
	influx_query "SELECT * FROM \"$1\" ${2:-}" ns | grep -o '"columns":.*]]'
}
count_of() { influx_query "SELECT count(*) FROM \"$1\"" | jq -r '.results[0].series[0].values[0][1:] | max'; }
types_of() {
	influx_query "SHOW FIELD KEYS FROM \"$1\"" | jq -r '[.results[0].series[0].values[] | join(":")] | join(",")'
}

# Every field type and spelling, tags out of order, precision s.
expect_answer 204 "" POST '/write?db=iot&precision=s' "${LP[@]}" --data-binary \
	$'# types\ntypes,zone=b,area=a f=-1.5e3,i=-9223372036854775808i,t=T,u=f,s="say \\"hi\\" c:\\\\\\\\ , = ok",e=1e-3 1489244453\n'
# Escaped names: a space and a comma in the measurement, '=' and ' ' in keys and values.
expect_answer 204 "" POST '/write?db=iot' "${LP[@]}" --data-binary \
	'esc\ m\,x,tag\ k=v\,a\=l\ ue field\=k=1i,plain=true 1489244453000000001'
# Precision h and m, a negative time, and many points at once.
expect_answer 204 "" POST '/write?db=iot&precision=h' "${LP[@]}" --data-binary $'prec v=1 413679\nprec,p=m v=2 -1'
for i in $(seq 1000); do echo "bulk,dev=d$((i % 7)) v=$i,n=${i}i $((1500000000000000000 + i))"; done >"$WORK/bulk.txt"
expect_answer 204 "" POST '/write?db=iot' "${LP[@]}" --data-binary "@$WORK/bulk.txt"
# No timestamp: the edge's receipt time, unique per point.
before=$(date +%s%N)
expect_answer 204 "" POST '/write?db=iot' "${LP[@]}" --data-binary $'now v=1\nnow v=2\nnow v=3'
after=$(date +%s%N)
# gzip, /api/v2/write with precision ms, UDP, and a general JSON object.
printf 'gz v=42 7\n' | gzip -c >"$WORK/gz.gz"
expect_answer 204 "" POST '/write?db=iot' "${LP[@]}" -H 'Content-Encoding: gzip' --data-binary "@$WORK/gz.gz"
expect_answer 204 "" POST '/api/v2/write?org=o&bucket=b&precision=ms' -H 'Authorization: Token x' \
	"${LP[@]}" --data-binary 'v2,src=api f=0.1 1489244453123'
udp_send "$UDP_PORT" $'udp,src=dgram v=1 1\nudp,src=dgram v=2 2\nnot line protocol'
expect_answer 201 "" POST /data -H 'Content-Type: application/json' --data-binary \
	'{"measurement":"json","tags":{"room":"kitchen"},"fields":{"temp":21.5,"ok":true,"note":"a \"b\""},"ts":1489244453.25}'

wait_until 30 buffer_empty || fail "the buffer did not drain"
wait_until 10 [ "$(count_of udp)" = 2 ] || fail "UDP points missing in InfluxDB"

assert_eq '"columns":["time","area","e","f","i","s","t","u","zone"],"values":[[1489244453000000000,"a",0.001,-1500,-9223372036854775808,"say \"hi\" c:\\\\ , = ok",true,false,"b"]]' \
	"$(point_of types)" "types"
assert_eq "e:float,f:float,i:integer,s:string,t:boolean,u:boolean" "$(types_of types)" "field types"
assert_eq '"columns":["time","field=k","plain","tag k"],"values":[[1489244453000000001,1,true,"v,a=l ue"]]' \
	"$(point_of 'esc m,x')" \
	"escaped names"

assert_eq '"columns":["time","p","v"],"values":[[-3600000000000,"m",2],[1489244400000000000,null,1]]' \
	"$(point_of prec)" "precision h, a negative time"
assert_eq 1000 "$(count_of bulk)" "bulk points"
sum=$(influx_query 'SELECT sum("v"), sum("n") FROM "bulk"' | jq -r '.results[0].series[0].values[0][1:] | join(" ")')
assert_eq "500500 500500" "$sum" "sum of the bulk values (float and integer)"
assert_eq "n:integer,v:float" "$(types_of bulk)" "bulk field types"
times=$(influx_query 'SELECT "v" FROM "now"' ns | grep -o '\[[0-9]*,[0-9]\]' | tr -d '[]' | tr , ' ')
assert_eq 3 "$(echo "$times" | wc -l)" "points without a timestamp (one each, none collapsed)"
echo "$times" | while read -r t v; do
	[ "$t" -ge "$before" ] && [ "$t" -le "$after" ] || fail "receipt time $t of v=$v outside [$before, $after]"
done
assert_eq '"columns":["time","v"],"values":[[7,42]]' "$(point_of gz)" "gzip body"
assert_eq '"columns":["time","f","src"],"values":[[1489244453123000000,0.1,"api"]]' "$(point_of v2)" \
	"/api/v2/write, precision ms"
assert_eq '"columns":["time","src","v"],"values":[[1,"dgram",1],[2,"dgram",2]]' "$(point_of udp)" \
	"UDP points"
assert_eq '"columns":["time","note","ok","room","temp"],"values":[[1489244453250000000,"a \"b\"",true,"kitchen",21.5]]' \
	"$(point_of json)" \
	"general JSON on /data"
edge_stop
grep -q 'udp\] stopped: received 1 datagrams, stored 2 points, 1 lines refused, 0 points dropped' "$EDGE_LOG" ||
	fail "UDP totals: $(grep 'udp\]' "$EDGE_LOG" | tail -n 2)"
say "ok: every value came back from InfluxDB as written"
