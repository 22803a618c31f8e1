# lib_storage.sh -- storage system-test helpers over lib.sh and lib_faults.sh: a small tmpfs for the buffer, sqlite3 peeks, exact counts when some readings got 507.
#
# Source it after tests/integration/lib.sh and tests/system/lib_faults.sh.
# storage_mount_tmpfs puts the buffer on a tmpfs of its own (root only); the
# exit trap stops iot-edge before unmounting it, then runs lib_faults.sh's.

SMALL_MNT=""

storage_on_exit() {
	local rc=$?
	set +e
	# iot-edge holds files on the tmpfs: it goes first
	if [ -n "$EDGE_PID" ]; then
		kill -KILL "$EDGE_PID" 2>/dev/null
		wait "$EDGE_PID" 2>/dev/null
		EDGE_PID=""
	fi
	if [ -n "$SMALL_MNT" ] && mountpoint -q "$SMALL_MNT"; then
		umount "$SMALL_MNT" || say "could not unmount $SMALL_MNT"
	fi
	(exit "$rc")
	faults_on_exit
}
trap storage_on_exit EXIT

# storage_mount_tmpfs SIZE: a tmpfs of SIZE (e.g. 4m) at $WORK/small; the buffer moves there.
storage_mount_tmpfs() {
	[ "$(id -u)" = 0 ] || fail "mounting a tmpfs needs root (this test runs as root in CI)"
	SMALL_MNT=$WORK/small
	mkdir -p "$SMALL_MNT"
	mount -t tmpfs -o "size=$1,mode=0700" tmpfs "$SMALL_MNT" || fail "cannot mount a tmpfs at $SMALL_MNT"
	BUFFER=$SMALL_MNT/buffer.db
	say "buffer on a tmpfs of $1 at $SMALL_MNT"
}

# Bytes free on the buffer's filesystem.
fs_avail() { df -B1 --output=avail "$(dirname "$BUFFER")" | tail -n 1 | tr -d ' '; }

buffer_sql() { sqlite3 -cmd '.timeout 5000' "$BUFFER" "$1"; }

# PRAGMA integrity_check of the buffer must say "ok".
assert_buffer_intact() {
	assert_eq ok "$(buffer_sql 'PRAGMA integrity_check;')" "PRAGMA integrity_check of the buffer${1:+ ($1)}"
}

# sim_end NAME SECONDS: wait for iot-sim NAME; unlike sim_wait, readings
# refused with an HTTP error are expected (its exit status is then 1).
sim_end() {
	local name=$1 pid=${SIM_PIDS[$1]} rc=0
	wait_until "$2" eval '! sim_running '"$name" || fail "iot-sim $name did not finish within $2 s"
	wait "$pid" || rc=$?
	say "iot-sim $name: $(tail -n 1 "$WORK/$name.out")"
	[ "$rc" -le 1 ] || fail "iot-sim $name exited with status $rc: $(tail -n 3 "$WORK/$name.out")"
}

# rec_count NAME LO HI: readings in NAME's record with LO <= status < HI.
rec_count() {
	awk -v lo="$2" -v hi="$3" '$4 >= lo && $4 < hi { n++ } END { print n + 0 }' "$WORK/$1.rec"
}

# "ts_ns sensor_id value" of NAME's readings with LO <= status < HI, sorted.
rec_rows() {
	awk -v lo="$2" -v hi="$3" '$4 >= lo && $4 < hi { print $1, $2, $3 }' "$WORK/$1.rec" | sort
}

# The timestamps (ns) of the points waiting in the buffer, sorted.
buffer_ts() {
	buffer_sql 'SELECT line FROM points;' | awk '{ print $NF }' | sort
}

# The edge log's last "closed; since open ..." counter, e.g. storage_closed dropped.
storage_closed() {
	grep -o "closed; since open .*" "$EDGE_LOG" | tail -n 1 | grep -o "[0-9]* $1" | awk '{ print $1 }'
}
