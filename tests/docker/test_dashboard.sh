#!/usr/bin/env bash
# The Grafana provisioning files fit the compose stack: the data source's variables are set for grafana, the
# dashboards and the alert rules are mounted where Grafana reads them and read the provisioned data source.
# Every query of the dashboard and of the alert rules runs against a real fleet of edges in
# tests/integration/test_fleet_dashboard.sh (it needs no docker).
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
assert_eq "20" "$(jq '[.panels[] | select(.type != "row")] | length' "$DASH")" "panels"
assert_eq "22" "$(jq '[.panels[] | .targets[]?] | length' "$DASH")" "queries in panels"
assert_eq "edge type sensor" "$(jq -r '[.templating.list[].name] | join(" ")' "$DASH")" "variables"
# The alert rules read the same data source and go into the dashboards' folder.
ALERTS="$D/grafana/provisioning/alerting/iot-edge.yml"
alert_uses=$("$PY" - "$ALERTS" <<-'PYEOF'
	import sys, yaml
	doc = yaml.safe_load(open(sys.argv[1]))
	assert doc["apiVersion"] == 1, "apiVersion"
	print(" ".join(sorted({d["datasourceUid"] for g in doc["groups"] for r in g["rules"] for d in r["data"]})),
	      " ".join(sorted({g["folder"] for g in doc["groups"]})))
PYEOF
) || fail "the alert rules file does not parse"
folder=$("$PY" -c 'import sys, yaml; (p,) = yaml.safe_load(open(sys.argv[1]))["providers"]; print(p["folder"])' "$PROVFILE")
assert_eq "__expr__ $ds_uid $folder" "$alert_uses" "data sources and folder of the alert rules"
say PASS
