#!/usr/bin/env bash
# iot-edge -n names the file, line and key of every mistake; --help lists every key.
. "$(dirname "$0")/lib.sh"

cat >"$WORK/bad.conf" <<'CONF'
[http]
listen = 0.0.0.0:99999
[buffer]
durability = sometimes
[uplink]
batch_points = 0
colour = blue
CONF
rc=0
"$IOT_EDGE" -n -c "$WORK/bad.conf" 2>"$WORK/errors.txt" || rc=$?
assert_eq 1 "$rc" "exit status of -n with a bad file"
cat "$WORK/errors.txt"
grep -q "bad.conf:2: \[http\] listen" "$WORK/errors.txt" || fail "listen error not reported with its line"
grep -q "bad.conf:4: \[buffer\] durability.*full|normal" "$WORK/errors.txt" || fail "durability error not reported"
grep -q "bad.conf:6: \[uplink\] batch_points.*out of range" "$WORK/errors.txt" || fail "range error not reported"
grep -q "bad.conf:7: \[uplink\] colour: unknown key" "$WORK/errors.txt" || fail "unknown key not reported"
grep -q "4 problems" "$WORK/errors.txt" || fail "problem count missing"

cat >"$WORK/good.conf" <<'CONF'
[buffer]
durability = normal
[uplink]
password = s3cret
CONF
out=$(IOT_EDGE_UPLINK_DATABASE=site7 "$IOT_EDGE" -n -c "$WORK/good.conf")
grep -q "configuration OK" <<<"$out" || fail "-n did not say configuration OK"
grep -q "durability = normal" <<<"$out" || fail "file value not applied"
grep -q "database = site7" <<<"$out" || fail "environment override not applied"
grep -q "s3cret" <<<"$out" && fail "the password was printed"
say "ok: -n applies file and environment, hides the password"

rc=0
IOT_EDGE_HTTP_LISTN=:1 "$IOT_EDGE" -n -c "$WORK/good.conf" 2>"$WORK/env.txt" >/dev/null || rc=$?
assert_eq 1 "$rc" "exit status with a misspelt variable"
grep -q "IOT_EDGE_HTTP_LISTN: unknown setting" "$WORK/env.txt" || fail "misspelt variable not named"

rc=0
"$IOT_EDGE" -n -c "$WORK/missing.conf" 2>"$WORK/missing.txt" || rc=$?
assert_eq 1 "$rc" "exit status with a missing file"
grep -q "missing.conf: cannot open" "$WORK/missing.txt" || fail "missing file not named"

"$IOT_EDGE" --help >"$WORK/help.txt"
for key in IOT_EDGE_HTTP_LISTEN IOT_EDGE_BUFFER_PATH IOT_EDGE_BUFFER_DURABILITY IOT_EDGE_UPLINK_URL IOT_EDGE_UPLINK_DATABASE; do
	grep -q "$key" "$WORK/help.txt" || fail "--help does not list $key"
done
say "ok: --help lists the documented environment variables"
