# ingest_lib.sh -- helpers for the test_ingest_*.sh scripts; source it after lib.sh.

# Send a request to the edge; prints the status, keeps the answer in
# $WORK/last_response and the headers in $WORK/last_headers.
# Usage: send METHOD PATH [curl args...]
send() {
	local method=$1 path=$2
	shift 2
	curl -s -o "$WORK/last_response" -D "$WORK/last_headers" -w '%{http_code}' \
		-X "$method" "$@" "$EDGE_URL$path"
}

# expect_answer STATUS FRAGMENT METHOD PATH [curl args...]: the status must
# match and the error message ("error", or "message" for /api/v2) must
# contain FRAGMENT (unless it is empty).
expect_answer() {
	local want=$1 fragment=$2 method=$3 path=$4
	shift 4
	local got
	got=$(send "$method" "$path" "$@")
	[ "$got" = "$want" ] ||
		fail "$method $path: expected $want, got $got: $(head -c 300 "$WORK/last_response")"
	if [ -n "$fragment" ]; then
		jq -e --arg f "$fragment" '(.error // .message) | contains($f)' \
			"$WORK/last_response" >/dev/null 2>&1 ||
			fail "$method $path: the answer should mention '$fragment': $(head -c 300 "$WORK/last_response")"
	fi
	say "ok: $want $method $path $(head -c 160 "$WORK/last_response")"
}

# The value of one answer header (case-insensitive name), without CR.
last_header() {
	grep -i "^$1:" "$WORK/last_headers" | head -n 1 | cut -d: -f2- | tr -d '\r' | sed 's/^ *//'
}

# Every line in the buffer, oldest first.
buffer_lines() {
	sqlite3 -cmd '.timeout 5000' "$BUFFER" 'SELECT line FROM points ORDER BY id;'
}

# One UDP datagram holding exactly PAYLOAD (dd makes it one write).
# Usage: udp_send PORT PAYLOAD
udp_send() {
	printf '%s' "$2" | dd iflag=fullblock bs=65536 count=1 status=none >"/dev/udp/127.0.0.1/$1"
}

# A UDP port nobody listens on now.
free_udp_port() { pick_free_port udp || fail "no free UDP port found"; }
