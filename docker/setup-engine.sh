#!/usr/bin/env bash
# setup-engine.sh -- make sure a Docker engine answers and the debian:bookworm-slim base image exists (idempotent).
#
# Usage: docker/setup-engine.sh            (as root; safe to run again and from several tests at once)
#
# 1. Checks that the tools are installed (it installs nothing: it names the
#    Debian packages that are missing and exits 2).
# 2. If `docker info` already works, uses that engine and leaves it alone.
#    Otherwise starts `dockerd --bridge=none --iptables=false` in the
#    background (these machines have no bridge and no iptables), with its log
#    in $STATE/dockerd.log and its pid in $STATE/dockerd.pid, and waits until
#    `docker info` works. docker/stop-engine.sh stops that dockerd, and only it.
# 3. If the image $EDGE_DOCKER_BASE (default debian:bookworm-slim) is
#    missing, makes it: `debootstrap --variant=minbase bookworm` (the rootfs
#    tarball is kept in $STATE, so a later run only re-imports it) trimmed like
#    Debian's official slim image, then `docker import`.
#
# Environment:
#   EDGE_DOCKER_STATE   state folder (default /var/tmp/iot-edge-docker)
#   EDGE_DOCKER_BASE    base image tag to provide (default debian:bookworm-slim)
#   EDGE_DEBIAN_MIRROR  mirror for debootstrap (default http://deb.debian.org/debian)
#
# Exit status: 0 ready, 1 something failed (the message says what), 2 tools missing.
set -euo pipefail

STATE=${EDGE_DOCKER_STATE:-/var/tmp/iot-edge-docker}
BASE=${EDGE_DOCKER_BASE:-debian:bookworm-slim}
MIRROR=${EDGE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
ROOTFS_TAR="$STATE/bookworm-minbase.tar"

say() { printf 'setup-engine: %s\n' "$*" >&2; }
die() {
	say "ERROR: $*"
	exit 1
}

check_tools() {
	local missing=() pair
	for pair in docker:docker.io dockerd:docker.io containerd:containerd runc:runc \
		docker-compose:docker-compose flock:util-linux setsid:util-linux; do
		command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		say "missing tools; install the Debian packages: $(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')"
		exit 2
	fi
	[ "$(id -u)" -eq 0 ] || die "run me as root (dockerd and debootstrap need it)"
}

engine_answers() { docker info >/dev/null 2>&1; }

# The pid in our pid file, if that process is a live dockerd.
our_dockerd_pid() {
	local pid
	[ -s "$STATE/dockerd.pid" ] || return 1
	pid=$(cat "$STATE/dockerd.pid")
	case "$pid" in '' | *[!0-9]*) return 1 ;; esac
	[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] || return 1
	echo "$pid"
}

start_engine() {
	if engine_answers; then
		say "a Docker engine already answers; using it"
		return 0
	fi
	if ! our_dockerd_pid >/dev/null; then
		say "starting dockerd --bridge=none --iptables=false (log: $STATE/dockerd.log)"
		rm -f "$STATE/dockerd.pid"
		# Its own session, so that a test's process group ending does not stop it.
		setsid dockerd --bridge=none --iptables=false --ip-masq=false \
			--pidfile="$STATE/dockerd.pid" >>"$STATE/dockerd.log" 2>&1 </dev/null 9>&- &
	else
		say "dockerd $(our_dockerd_pid) (ours) is starting; waiting for it"
	fi
	local deadline=$((SECONDS + 90))
	until engine_answers; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			tail -n 20 "$STATE/dockerd.log" >&2 || true
			die "dockerd did not answer within 90 s (log: $STATE/dockerd.log)"
		fi
		sleep 0.5
	done
	say "dockerd $(our_dockerd_pid || echo '?') answers"
}

# Trim a minbase rootfs the way Debian's official slim image is trimmed, and
# give it the same apt sources.
slim_rootfs() {
	local root=$1
	cat >"$root/etc/apt/sources.list.d/debian.sources" <<-'EOF'
		Types: deb
		URIs: http://deb.debian.org/debian
		Suites: bookworm bookworm-updates
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

		Types: deb
		URIs: http://deb.debian.org/debian-security
		Suites: bookworm-security
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
	rm -f "$root/etc/apt/sources.list"
	cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<-'EOF'
		path-exclude /usr/share/doc/*
		path-include /usr/share/doc/*/copyright
		path-exclude /usr/share/man/*
		path-exclude /usr/share/groff/*
		path-exclude /usr/share/info/*
		path-exclude /usr/share/lintian/*
		path-exclude /usr/share/linda/*
		path-exclude /usr/share/locale/*
		path-include /usr/share/locale/locale.alias
	EOF
	cat >"$root/etc/apt/apt.conf.d/docker-clean" <<-'EOF'
		DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
		APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
		Dir::Cache::pkgcache "";
		Dir::Cache::srcpkgcache "";
	EOF
	echo 'Acquire::Languages "none";' >"$root/etc/apt/apt.conf.d/docker-no-languages"
	echo 'Acquire::GzipIndexes "true";' >"$root/etc/apt/apt.conf.d/docker-gzip-indexes"
	echo 'APT::AutoRemove::SuggestsImportant "false";' >"$root/etc/apt/apt.conf.d/docker-autoremove-suggests"
	# No service may start while an image is being built.
	printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
	chmod 755 "$root/usr/sbin/policy-rc.d"
	find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
	rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* \
		"$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/cache/debconf/*-old \
		"$root"/var/log/* "$root"/tmp/* "$root"/root/.cache
	: >"$root/etc/machine-id"
	echo debian >"$root/etc/hostname"
}

make_rootfs_tar() {
	command -v debootstrap >/dev/null 2>&1 || {
		say "missing tools; install the Debian package: debootstrap"
		exit 2
	}
	local tmp
	tmp=$(mktemp -d "$STATE/rootfs.XXXXXX")
	say "debootstrap --variant=minbase bookworm from $MIRROR (about a minute; log: $STATE/debootstrap.log)"
	if ! debootstrap --variant=minbase bookworm "$tmp/root" "$MIRROR" >"$STATE/debootstrap.log" 2>&1; then
		tail -n 20 "$STATE/debootstrap.log" >&2 || true
		rm -rf "$tmp"
		die "debootstrap failed (log: $STATE/debootstrap.log)"
	fi
	slim_rootfs "$tmp/root"
	tar --numeric-owner -C "$tmp/root" -cf "$tmp/rootfs.tar" .
	mv "$tmp/rootfs.tar" "$ROOTFS_TAR"
	rm -rf "$tmp"
}

ensure_base_image() {
	if docker image inspect "$BASE" >/dev/null 2>&1; then
		say "base image $BASE is there"
		return 0
	fi
	[ -s "$ROOTFS_TAR" ] || make_rootfs_tar
	say "docker import $ROOTFS_TAR as $BASE"
	docker import \
		--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		--change 'CMD ["bash"]' \
		--message "debootstrap --variant=minbase bookworm, trimmed like the official slim image" \
		"$ROOTFS_TAR" "$BASE" >/dev/null || die "docker import failed"
	docker run --rm --pull never --network host "$BASE" true ||
		die "the imported image $BASE does not run"
}

main() {
	check_tools
	mkdir -p "$STATE"
	# One setup at a time: tests of several engineers may call this together.
	exec 9>"$STATE/lock"
	flock -w 900 9 || die "another setup-engine.sh held $STATE/lock for 15 minutes"
	start_engine
	ensure_base_image
	say "ready: $(docker version --format 'engine {{.Server.Version}}' 2>/dev/null), base image $BASE"
}

main "$@"
