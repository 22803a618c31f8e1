#!/usr/bin/env bash
# A fleet of three real iot-edge processes (pi-1, pi-2, pi-3; edge collector at 1 s, iot-sim devices
# posting to each) and one real influxd; then EVERY query of the provisioned Grafana dashboard and
# alert rules runs against what they wrote, with Grafana's macros and variables expanded as its
# InfluxQL data source does: each panel returns rows for each edge, the alerts fire where they must.
# pi-3 starts with InfluxDB out of reach (its backlog and "failing" state are real), pi-2 forwards
# a point InfluxDB refuses (a real rejection). DASH and ALERTS may name other files (to try main's).
. "$(dirname "$0")/lib.sh"

TOP=$(cd "$(dirname "$0")/../.." && pwd)
DASH=${DASH:-$TOP/docker/grafana/dashboards/iot-edge.json}
ALERTS=${ALERTS:-$TOP/docker/grafana/provisioning/alerting/iot-edge.yml}
EDGES="pi-1 pi-2 pi-3"
declare -A PORT PID SIM # per edge: HTTP port, iot-edge pid, readings iot-sim had acknowledged

fleet_cleanup() {
	local rc=$? pid
	for pid in "${PID[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	set +e
	(exit "$rc")
	cleanup
}
trap fleet_cleanup EXIT

# --- the files Grafana reads ------------------------------------------------------
jq -e . "$DASH" >/dev/null || fail "the dashboard JSON does not parse"
python3 - "$ALERTS" >"$WORK/rules.tsv" <<-'PYEOF' || fail "the alert rules file does not parse as Grafana provisioning"
	import sys, yaml
	doc = yaml.safe_load(open(sys.argv[1]))
	assert doc["apiVersion"] == 1, "apiVersion"
	for group in doc["groups"]:
	    assert group["folder"] and group["interval"], "group folder and interval"
	    for rule in group["rules"]:
	        data = {d["refId"]: d for d in rule["data"]}
	        (query,) = [d for d in rule["data"] if d["datasourceUid"] == "iot-influxdb"]
	        assert query["model"]["rawQuery"] is True, rule["uid"]
	        cond = data[rule["condition"]]["model"]
	        assert cond["type"] == "threshold", rule["uid"]
	        reduce = data[cond["expression"]]["model"]
	        assert reduce["type"] == "reduce" and reduce["reducer"] == "last", rule["uid"]
	        assert reduce["expression"] == query["refId"], rule["uid"]
	        (ev,) = [c["evaluator"] for c in cond["conditions"]]
	        rng = query["relativeTimeRange"]
	        print("\t".join([rule["uid"], str(rng["from"]), str(rng["to"]), ev["type"], str(ev["params"][0]),
	                         " ".join(query["model"]["query"].split())]))
	PYEOF
assert_eq 3 "$(wc -l <"$WORK/rules.tsv")" "alert rules"
bad=$(jq -r '[.panels[] | select(.type != "row") |
	select(.datasource.uid != "iot-influxdb" or (.targets | length) == 0 or any(.targets[]; .datasource.uid != "iot-influxdb" or .rawQuery != true))
	| .title] | join(", ")' "$DASH")
[ -z "$bad" ] || fail "panels not reading data source iot-influxdb with raw queries: $bad"

# --- the fleet ----------------------------------------------------------------------
influx_start
DEAD_URL="http://127.0.0.1:$(free_port)" # nobody listens: InfluxDB out of reach

# fleet_start NAME UPLINK_URL: iot-edge NAME with its own port, buffer and log.
fleet_start() {
	local name=$1 url=$2
	[ -n "${PORT[$name]:-}" ] || PORT[$name]=$(free_port)
	cat >"$WORK/$name.conf" <<-EOF
		[edge]
		name = $name
		tag_all_points = true
		[tags]
		site = farm
		[collector.edge]
		interval = 1s
	EOF
	env IOT_EDGE_HTTP_LISTEN="127.0.0.1:${PORT[$name]}" IOT_EDGE_BUFFER_PATH="$WORK/$name.db" \
		IOT_EDGE_UPLINK_URL="$url" IOT_EDGE_UPLINK_FLUSH_INTERVAL=100ms \
		IOT_EDGE_UPLINK_RETRY_INITIAL=100ms IOT_EDGE_UPLINK_RETRY_MAX=500ms \
		"$IOT_EDGE" -c "$WORK/$name.conf" >>"$WORK/$name.log" 2>&1 &
	PID[$name]=$!
	wait_until 30 curl -sf -o /dev/null "http://127.0.0.1:${PORT[$name]}/health" ||
		fail "$name did not answer /health"
}

fleet_stop() {
	local rc=0
	kill -TERM "${PID[$1]}"
	wait "${PID[$1]}" || rc=$?
	unset "PID[$1]"
	[ "$rc" -eq 0 ] || fail "$1 exited with status $rc after SIGTERM"
}

# sim NAME COUNT: COUNT readings of 4 devices to NAME, 4 a round every 0.25 s, every one acknowledged.
sim() {
	"$IOT_SIM" -h 127.0.0.1 -p "${PORT[$1]}" --count "$2" --devices 4 --interval 0.25 --quiet \
		>"$WORK/sim-$1.out" 2>&1 || fail "iot-sim to $1: $(tail -n 1 "$WORK/sim-$1.out")"
	SIM[$1]=$((${SIM[$1]:-0} + $2))
}

q() { influx_query "$1" | jq -r "${2:-.results[0].series[0].values[0][1] // 0}"; }
host_count() { q "SELECT count(\"$2\") FROM \"$1\" WHERE \"host\" = '$3'"; }

started=$SECONDS
fleet_start pi-1 "$INFLUX_URL"
fleet_start pi-2 "$INFLUX_URL"
fleet_start pi-3 "$DEAD_URL"
# pi-3 takes readings while it cannot forward them, for a few seconds.
sim pi-3 40
sleep 3
grep -q 'uplink' "$WORK/pi-3.log" || fail "pi-3 logged nothing about its uplink"
[ "$(sqlite3 "$WORK/pi-3.db" 'SELECT count(*) FROM points')" -ge 40 ] || fail "pi-3 does not hold its readings"
fleet_stop pi-3
fleet_start pi-3 "$INFLUX_URL"
say "ok: pi-3 buffered 40 readings and its own reports while InfluxDB was out of reach, restarted with it"

sim pi-1 120 &
s1=$!
sim pi-2 120 &
s2=$!
sim pi-3 80 &
s3=$!
wait "$s1" "$s2" "$s3" || fail "an iot-sim run failed"
SIM[pi-1]=120 SIM[pi-2]=120 SIM[pi-3]=120 # the background runs counted in their own shells
# A point InfluxDB refuses for good on pi-2: "value" is a float field, this one is a string.
wait_until 20 bash -c "[ \"\$(curl -sfG '$INFLUX_URL/query' --data-urlencode db=iot --data-urlencode \"q=SELECT count(value) FROM data WHERE host = 'pi-2'\" |
	jq -r '.results[0].series[0].values[0][1] // 0')\" -gt 0 ]" || fail "no reading of pi-2 reached InfluxDB"
code=$(curl -s -o /dev/null -w '%{http_code}' -XPOST "http://127.0.0.1:${PORT[pi-2]}/write?db=iot" --data-binary 'data,type=temp value="oops"')
assert_eq 204 "$code" "pi-2 accepts the point InfluxDB will refuse"
# Every edge reports for a while more (the panels' 20 s buckets need more than one report each).
all_in() {
	local e
	for e in $EDGES; do
		[ "$(host_count data value "$e")" = "${SIM[$e]}" ] || return 1
		[ "$(host_count iot_edge buffer_points "$e")" -ge 25 ] || return 1
	done
	[ "$(sqlite3 "$WORK/pi-2.db" 'SELECT count(*) FROM rejected')" = 1 ]
}
wait_until 60 all_in || fail "the fleet's readings did not all reach InfluxDB: $(for e in $EDGES; do
	printf '%s data %s/%s iot_edge %s; ' "$e" "$(host_count data value "$e")" "${SIM[$e]}" "$(host_count iot_edge buffer_points "$e")"; done)"
for e in $EDGES; do
	# Both ends, exactly: what iot-sim had acknowledged (pi-2: and the /write) is what InfluxDB holds.
	got=$(curl -sf "http://127.0.0.1:${PORT[$e]}/status" | jq -r '"\(.edge) \(.ingest.points)"')
	want=${SIM[$e]}
	[ "$e" = pi-2 ] && want=$((want + 1))
	[ "$e" = pi-3 ] && want=80 # since its restart
	assert_eq "$e $want" "$got" "$e: /status names the edge and counts its readings"
	assert_eq "${SIM[$e]}" "$(host_count data value "$e")" "$e: readings in InfluxDB under host=$e"
	assert_eq farm "$(q "SELECT last(value), site FROM data WHERE host = '$e'" '.results[0].series[0].values[0][2]')" "$e: [tags] site on its readings"
done
assert_eq 1 "$(sqlite3 "$WORK/pi-2.db" 'SELECT count(*) FROM rejected')" "points in pi-2's rejected table"
for e in $EDGES; do fleet_stop "$e"; done
grep -q 'ready: edge pi-1,' "$WORK/pi-1.log" || fail "pi-1's start line does not name it"
say "measured: the fleet ran for $((SECONDS - started)) s"

# --- Grafana's expansion of macros and variables --------------------------------------
NOW_MS=$(date +%s%3N)
TO_MS=$((NOW_MS + 1000))
FROM_MS=$((TO_MS - 6 * 3600 * 1000)) # the dashboard's range: now-6h .. now
INTERVAL=20s                         # what Grafana picks for 6 h on a panel about 1000 px wide

# expand QUERY: QUERY with $timeFilter, $__interval and the variables as Grafana writes them.
expand() {
	local q=$1
	q=${q//\$timeFilter/time >= ${FROM_MS}ms and time <= ${TO_MS}ms}
	q=${q//\$__interval/$INTERVAL}
	q=${q//\$type/$VAR_type}
	q=${q//\$sensor/$VAR_sensor}
	q=${q//\$edge/$VAR_edge}
	printf '%s' "$q"
}

# run QUERY: InfluxDB's JSON answer (epoch ms, as Grafana asks), the query logged.
run() {
	printf '%s\n' "$1" >>"$WORK/queries.txt"
	curl -sS -G "$INFLUX_URL/query" --data-urlencode db=iot --data-urlencode epoch=ms --data-urlencode "q=$1"
}

# Variables: the second column when there is one (SHOW TAG VALUES, SELECT DISTINCT), else the first.
VAR_type="" VAR_sensor="" VAR_edge=""
declare -A VALUES
while IFS=$'\t' read -r name query; do
	values=$(run "$(expand "$query")" | jq -r '.results[0] | if .error then error(.error) else . end |
		[.series[]?.values[] | (.[1] // .[0]) | tostring] | unique | join(" ")') ||
		fail "variable $name: query failed: $query"
	VALUES[$name]=$values
	say "ok: variable $name = $values"
done < <(jq -r '.templating.list[] | [.name, .query] | @tsv' "$DASH")
assert_eq "$EDGES" "${VALUES[edge]:-}" "values of variable edge"
assert_eq "temp" "${VALUES[type]:-}" "values of variable type"
assert_eq "1 2 3 4" "${VALUES[sensor]:-}" "values of variable sensor"

# per_edge JSON: "host value" for each edge with a non-null value (series tag host, or a host column).
per_edge() {
	jq -r '.results[0] | if .error then "error \(.error)" else .series[]? | . as $s |
		($s.columns | index("host")) as $hc | $s.values[] | select(.[1:] | any(. != null)) |
		"\(if $hc then .[$hc] else ($s.tags.host // "") end) \(if $hc then .[-1] else ([.[1:][] | select(. != null)] | last) end)"
		end' <<<"$1"
}

# check_panel TITLE REF QUERY: rows with values for each edge; prints "host value" (the last one per host).
check_panel() {
	local out rows e
	out=$(run "$(expand "$3")")
	rows=$(per_edge "$out")
	case "$rows" in error*) fail "panel \"$1\" $2: $rows; query: $(expand "$3")" ;; esac
	for e in $EDGES; do
		grep -q "^$e " <<<"$rows" || fail "panel \"$1\" $2 has no rows for $e: $(expand "$3")"
	done
	say "ok: panel \"$1\" $2: $(wc -l <<<"$rows") rows, each edge: $(awk '{v[$1]=$2} END {for (h in v) printf "%s=%s ", h, v[h]}' <<<"$rows")"
	PANEL_ROWS=$rows
}

# value_of HOST: the panel's last value for HOST.
value_of() { awk -v h="$1" '$1 == h {v = $2} END {print v}' <<<"$PANEL_ROWS"; }
max_of() { awk -v h="$1" '$1 == h && $2 > m {m = $2} END {print m + 0}' <<<"$PANEL_ROWS"; }

# The "All" of a multi-value variable with includeAll: allValue when set, else (a|b|c).
VAR_type="(${VALUES[type]// /|})"
n_queries=0
for VAR_edge in "(${VALUES[edge]// /|})" "$(jq -r '.templating.list[] | select(.name == "edge") | .allValue // ""' "$DASH")"; do
	[ -n "$VAR_edge" ] || continue
	say "--- edge = $VAR_edge"
	while IFS=$'\t' read -r title repeat ref query; do
		sensors=-
		[ "$repeat" = sensor ] && sensors=${VALUES[sensor]}
		for VAR_sensor in $sensors; do
			check_panel "${title/\$sensor/$VAR_sensor}" "$ref" "$query"
			n_queries=$((n_queries + 1))
			case "$title" in
			"Readings in range")
				for e in $EDGES; do assert_eq "${SIM[$e]}" "$(value_of "$e")" "$title, $e (what iot-sim sent it)"; done ;;
			"Sensors reporting")
				for e in $EDGES; do assert_eq 4 "$(value_of "$e")" "$title, $e"; done ;;
			"Types reporting")
				for e in $EDGES; do assert_eq 1 "$(value_of "$e")" "$title, $e"; done ;;
			"Rejected in range")
				assert_eq "0 1 0" "$(value_of pi-1) $(value_of pi-2) $(value_of pi-3)" "$title, pi-1 pi-2 pi-3" ;;
			"Dropped in range")
				assert_eq "0 0 0" "$(value_of pi-1) $(value_of pi-2) $(value_of pi-3)" "$title, pi-1 pi-2 pi-3" ;;
			"State now")
				assert_eq "0 0 0" "$(value_of pi-1) $(value_of pi-2) $(value_of pi-3)" "$title (0: ok)" ;;
			"State")
				assert_eq "0 0 1" "$(max_of pi-1) $(max_of pi-2) $(max_of pi-3)" "$title: the worst in range (pi-3 was failing)" ;;
			"Oldest buffered reading age")
				awk -v m="$(max_of pi-3)" 'BEGIN {exit !(m >= 2)}' || fail "$title: pi-3's oldest reading was only $(max_of pi-3) s old"
				say "ok: $title: pi-3 held readings up to $(max_of pi-3) s old" ;;
			"Points written to disk per day" | "Bytes written to disk per day")
				for e in $EDGES; do [ "$(value_of "$e")" -gt 0 ] || fail "$title, $e: $(value_of "$e")"; done ;;
			"Edges: last seen") # the time column: each edge's last report, a moment before it stopped
				out=$(run "$(expand "$query")")
				for e in $EDGES; do
					t=$(jq -r --arg e "$e" '.results[0].series[] | select(.tags.host == $e) | .values[0][0]' <<<"$out")
					if [ "$t" -gt "$NOW_MS" ] || [ "$t" -lt $((NOW_MS - 30000)) ]; then
						fail "$title: $e last seen at $t (now $NOW_MS)"
					fi
				done
				say "ok: $title: every edge's time is its last report, within 30 s before now" ;;
			"Latest readings")
				assert_eq 100 "$(wc -l <<<"$PANEL_ROWS")" "$title rows" ;;
			esac
		done
	done < <(jq -r '.panels[] | select(.type != "row") | . as $p | .targets[] | [$p.title, ($p.repeat // "-"), .refId, .query] | @tsv' "$DASH")
done
want=$(jq '[.panels[] | select(.type != "row") | (.targets | length) * (if .repeat == "sensor" then 4 else 1 end)] | add' "$DASH")
assert_eq $((2 * want)) "$n_queries" "panel queries run (every target, the sensor panel once per sensor, for both forms of edge)"

# --- the alert rules, evaluated as Grafana does: its range, reduce last, threshold ---------
# alert QUERY FROM_S TO_S TYPE PARAM AT_MS: $timeFilter is the rule's relativeTimeRange before
# AT_MS (Grafana's evaluation time); sets ALERT_ROWS ("host value", the reduced value of
# each edge) and FIRING (the hosts for which the rule fires at AT_MS, sorted).
alert() {
	local q=$1 at=$6
	q=${q//\$timeFilter/time >= $((at - $2 * 1000))ms and time <= $((at - $3 * 1000))ms}
	ALERT_ROWS=$(per_edge "$(run "$q")")
	case "$ALERT_ROWS" in error*) fail "alert query: $ALERT_ROWS: $q" ;; esac
	FIRING=$(awk -v t="$4" -v p="$5" '{v[$1] = $2} END {
		for (h in v) if ((t == "gt" && v[h] > p) || (t == "lt" && v[h] < p)) print h }' <<<"$ALERT_ROWS" |
		sort | tr '\n' ' ' | sed 's/ $//')
	say "alert query at $at: $(awk '{v[$1] = $2} END {for (h in v) printf "%s=%s ", h, v[h]}' <<<"$ALERT_ROWS")-> firing: ${FIRING:-none}"
}
while IFS=$'\t' read -r uid from to type param query; do
	alert "$query" "$from" "$to" "$type" "$param" "$NOW_MS"
	for e in $EDGES; do grep -q "^$e " <<<"$ALERT_ROWS" || fail "alert $uid: no row for $e"; done
	case "$uid" in
	iot-edge-silent)
		assert_eq "" "$FIRING" "$uid now (every edge reported a moment ago)"
		alert "$query" "$from" "$to" "$type" "$param" $((NOW_MS + 10 * 60 * 1000))
		assert_eq "$EDGES" "$FIRING" "$uid evaluated 10 minutes later (no edge has reported since)" ;;
	iot-edge-backlog-old) assert_eq "" "$FIRING" "$uid (no reading waited 15 minutes)" ;;
	iot-edge-rejected) assert_eq pi-2 "$FIRING" "$uid (pi-2 forwarded a point InfluxDB refused)" ;;
	*) fail "alert rule $uid: no expectation in this test" ;;
	esac
done <"$WORK/rules.tsv"
say "measured: $(wc -l <"$WORK/queries.txt") queries run, the whole test took $SECONDS s"
say PASS
