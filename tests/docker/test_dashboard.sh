#!/usr/bin/env bash
# The Grafana provisioning files are what Grafana reads, and every query of the dashboard runs against a real
# influxd holding readings that came through a real iot-edge (plus iot_edge health points) and returns rows.
# Grafana itself cannot be pulled here: its macros and variables are expanded the way Grafana does.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib-docker.sh"

D="$DOCKER_TOP/docker"
DASH="$D/grafana/dashboards/iot-edge.json"
DSFILE="$D/grafana/provisioning/datasources/influxdb.yml"
PROVFILE="$D/grafana/provisioning/dashboards/iot-edge.yml"
PY=/usr/bin/python3 # Debian's, with python3-yaml (docker-compose and yamllint need it too)

# --- the provisioning files ---------------------------------------------------
jq -e . "$DASH" >/dev/null || fail "the dashboard JSON does not parse"
read -r ds_uid ds_type ds_url ds_db ds_dbname ds_user ds_pw < <("$PY" - "$DSFILE" <<-'PYEOF'
	import sys, yaml
	doc = yaml.safe_load(open(sys.argv[1]))
	assert doc["apiVersion"] == 1, "apiVersion"
	(ds,) = doc["datasources"]
	print(ds["uid"], ds["type"], ds["url"], ds["database"], ds["jsonData"]["dbName"], ds["user"],
	      ds["secureJsonData"]["password"])
PYEOF
) || fail "the data source provisioning file does not parse or has not exactly one data source"
assert_eq "iot-influxdb influxdb" "$ds_uid $ds_type" "data source uid and type"
assert_eq '${IOT_INFLUXDB_DB} ${IOT_INFLUXDB_DB}' "$ds_db $ds_dbname" "data source database (Grafana fills it from the environment)"
# Every variable the data source file names is set for the grafana service by the compose file.
grafana_env=$(docker-compose --env-file "$D/.env.example" -f "$D/docker-compose.yml" config |
	"$PY" -c 'import sys, yaml; print(" ".join(sorted(yaml.safe_load(sys.stdin)["services"]["grafana"]["environment"])))')
for v in $(grep -o '\${[A-Z_]*}' "$DSFILE" | tr -d '${}' | sort -u); do
	case " $grafana_env " in *" $v "*) ;; *) fail "$v is used by $DSFILE but not set for the grafana service" ;; esac
done
say "ok: every variable of the data source file ($ds_url $ds_user $ds_pw) is set for grafana"
prov_path=$("$PY" -c 'import sys, yaml; (p,) = yaml.safe_load(open(sys.argv[1]))["providers"]; print(p["options"]["path"])' "$PROVFILE")
grep -q -- "- ./grafana/dashboards:$prov_path:ro" "$D/docker-compose.yml" ||
	fail "the dashboard provider reads $prov_path, which docker-compose.yml does not mount from ./grafana/dashboards"
grep -q -- "- ./grafana/provisioning:/etc/grafana/provisioning:ro" "$D/docker-compose.yml" ||
	fail "docker-compose.yml does not mount ./grafana/provisioning where Grafana reads it"
say "ok: the provider's path $prov_path is where docker-compose.yml mounts the dashboards"
# Every panel and target reads the provisioned data source.
bad=$(jq -r --arg uid "$ds_uid" '[.panels[] | select(.type != "row") |
	select(.datasource.uid != $uid or (.targets | length) == 0 or any(.targets[]; .datasource.uid != $uid or .rawQuery != true))
	| .title] | join(", ")' "$DASH")
[ -z "$bad" ] || fail "panels not reading data source $ds_uid with raw queries: $bad"
bad=$(jq -r --arg uid "$ds_uid" '[.templating.list[] | select(.datasource.uid != $uid) | .name] | join(", ")' "$DASH")
[ -z "$bad" ] || fail "variables not reading data source $ds_uid: $bad"
assert_eq "15" "$(jq '[.panels[] | select(.type != "row")] | length' "$DASH")" "panels"
assert_eq "17" "$(jq '[.panels[] | .targets[]?] | length' "$DASH")" "queries in panels"
assert_eq "type sensor edge" "$(jq -r '[.templating.list[].name] | join(" ")' "$DASH")" "variables"

# --- test data: readings through iot-edge, health points straight into InfluxDB -
influx_start
edge_start
now_s=$(date +%s)
# 3 types x 4 sensors, one reading a minute for 30 minutes: 360 readings in 30 requests.
# sensor_id is a field, so each sensor sends at its own second (same type and time = one point).
for m in $(seq 1 30); do
	body=$(jq -cn --argjson t0 "$((now_s - m * 60))" --argjson m "$m" '[
		("temp", "humidity", "pressure") as $t | range(1; 5) as $s |
		{ts: ($t0 + $s | todate), type: $t, sensor_id: $s, value: ($m * 10 + $s)}]')
	status=$(post /data "$body")
	[ "$status" = 201 ] || fail "POST /data of minute $m answered $status: $(cat "$WORK/last_response")"
done
wait_until 30 buffer_empty || fail "the edge's buffer did not drain"
assert_eq 360 "$(influx_count)" "readings in InfluxDB"
# iot_edge: two edges report every 30 s for 30 minutes; pi-2 restarts halfway (its counters start again).
: >"$WORK/health.lp"
for i in $(seq 0 59); do
	t=$((now_s - 1800 + i * 30))
	echo "iot_edge,host=pi-1 buffered_points=$((i * 7 % 50))i,oldest_age_s=$((i % 9)).5,sent=$((i * 120))i,rejected=$((i / 20))i,dropped=0i $t" >>"$WORK/health.lp"
	j=$((i % 30))
	echo "iot_edge,host=pi-2 buffered_points=$((j * 100))i,oldest_age_s=$j.0,sent=$((j * 60))i,rejected=0i,dropped=$((j / 10))i $t" >>"$WORK/health.lp"
done
code=$(curl -s -o "$WORK/write.out" -w '%{http_code}' -XPOST "$INFLUX_URL/write?db=iot&precision=s" --data-binary @"$WORK/health.lp")
assert_eq 204 "$code" "writing 120 iot_edge points"

# --- Grafana's expansion of macros and variables --------------------------------
to_ms=$(($(date +%s%3N) + 60000))
from_ms=$((to_ms - 6 * 3600 * 1000 - 60000)) # the dashboard's range: now-6h .. now
TIME_FILTER="time >= ${from_ms}ms and time <= ${to_ms}ms"
INTERVAL=20s # what Grafana picks for 6 h on a panel about 1000 px wide

# grafana_query QUERY: InfluxDB's JSON answer to QUERY with the macros expanded.
grafana_query() {
	local q=$1
	q=${q//\$timeFilter/$TIME_FILTER}
	q=${q//\$__interval/$INTERVAL}
	q=${q//\$type/$VAR_type}
	q=${q//\$sensor/$VAR_sensor}
	q=${q//\$edge/$VAR_edge}
	printf '%s\n' "$q" >>"$WORK/queries.txt"
	curl -sS -G "$INFLUX_URL/query" --data-urlencode db=iot --data-urlencode "q=$q"
}

# A variable's values as Grafana's InfluxDB response parser takes them: the
# second column when there is one (SHOW TAG VALUES, SELECT DISTINCT), else the first.
VAR_type="" VAR_sensor="" VAR_edge=""
declare -A VALUES
while IFS=$'\t' read -r name query; do
	values=$(grafana_query "$query" | jq -r '.results[0] | if .error then error(.error) else . end |
		[.series[]?.values[] | (.[1] // .[0]) | tostring] | unique | join(" ")') ||
		fail "variable $name: query failed: $query"
	VALUES[$name]=$values
	say "ok: variable $name = $values"
done < <(jq -r '.templating.list[] | [.name, .query] | @tsv' "$DASH")
assert_eq "humidity pressure temp" "${VALUES[type]}" "values of variable type"
assert_eq "1 2 3 4" "${VALUES[sensor]}" "values of variable sensor"
assert_eq "pi-1 pi-2" "${VALUES[edge]}" "values of variable edge"
# "All" of a multi-value variable in a regex: Grafana writes (a|b|c).
VAR_type="($(tr ' ' '|' <<<"${VALUES[type]}"))"
VAR_edge="($(tr ' ' '|' <<<"${VALUES[edge]}"))"

# run_panel TITLE REFID QUERY: the query must succeed and return at least one row with a value.
run_panel() {
	local out rows
	out=$(grafana_query "$3")
	# Rows with a value besides the time (fill(null) buckets do not count).
	rows=$(jq -r '.results[0] | if .error then "error: " + .error else
		([.series[]?.values[] | select(.[1:] | any(. != null))] | length | tostring) end' <<<"$out")
	case "$rows" in
	error:*) fail "panel \"$1\" query $2: $rows; query: $3" ;;
	0) fail "panel \"$1\" query $2 returned no rows: $3" ;;
	esac
	say "ok: panel \"$1\" $2 returns $rows rows with values"
	LAST_OUT=$out
	ROWS=$rows
}

LAST_OUT=""
ROWS=0
while IFS=$'\t' read -r title repeat ref query; do
	if [ "$repeat" = sensor ]; then
		for VAR_sensor in ${VALUES[sensor]}; do
			run_panel "${title/\$sensor/$VAR_sensor}" "$ref" "$query"
			# 3 types x 30 minutes, each reading in its own 20 s bucket.
			assert_eq 90 "$ROWS" "readings in panel ${title/\$sensor/$VAR_sensor}"
		done
		VAR_sensor=""
		continue
	fi
	run_panel "$title" "$ref" "$query"
	case "$title" in
	"Readings in range") assert_eq 360 "$(jq '.results[0].series[0].values[0][1]' <<<"$LAST_OUT")" "$title" ;;
	"Sensors reporting") assert_eq 4 "$(jq '.results[0].series[0].values[0][1]' <<<"$LAST_OUT")" "$title" ;;
	"Types reporting") assert_eq 3 "$(jq '.results[0].series[0].values[0][1]' <<<"$LAST_OUT")" "$title" ;;
	"Latest readings") assert_eq 100 "$(jq '.results[0].series[0].values | length' <<<"$LAST_OUT")" "$title rows" ;;
	"Rejected in range") assert_eq 2 "$(jq '.results[0].series[0].values[0][1]' <<<"$LAST_OUT")" "$title (pi-1 went 0 -> 2)" ;;
	"Dropped in range") assert_eq 4 "$(jq '.results[0].series[0].values[0][1]' <<<"$LAST_OUT")" "$title (pi-2: 2, restart, 2)" ;;
	"Buffered points now") assert_eq 2 "$(jq '.results[0].series | length' <<<"$LAST_OUT")" "$title: one series per edge" ;;
	esac
done < <(jq -r '.panels[] | select(.type != "row") | . as $p | .targets[] | [$p.title, ($p.repeat // "-"), .refId, .query] | @tsv' "$DASH")
assert_eq 23 "$(wc -l <"$WORK/queries.txt")" "queries run (3 variables, 16 panel queries, the sensor panel once for each of 4 sensors)"
edge_stop
