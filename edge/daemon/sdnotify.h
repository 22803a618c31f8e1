/* sdnotify.h -- tell systemd we are ready, reloading, stopping, alive (sd_notify); no-ops without
 * systemd. */
#ifndef IOT_EDGE_SDNOTIFY_H
#define IOT_EDGE_SDNOTIFY_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Every sdnotify_* call below returns 1 when systemd was told, 0 when there
 * is no one to tell (not started by systemd with Type=notify: NOTIFY_SOCKET is
 * unset, or the daemon was built without libsystemd), and -1 when sending
 * failed (logged once per process, then silently counted as -1).
 * They only read the environment and send one datagram: any thread may call
 * them, and nothing they return needs freeing.
 */

/* True if this build talks to systemd (built with libsystemd). */
bool sdnotify_supported(void);

/* READY=1: the buffer is open and the HTTP port is listening. */
int sdnotify_ready(void);

/* RELOADING=1: a SIGHUP reload begins; follow it with sdnotify_ready(). */
int sdnotify_reloading(void);

/* STOPPING=1: an orderly shutdown begins. */
int sdnotify_stopping(void);

/* WATCHDOG=1: "all threads that matter are alive"; see watchdog.h for when. */
int sdnotify_watchdog(void);

/* STATUS=<text>: one line shown by `systemctl status`. `text` is copied;
 * newlines in it are sent as spaces. */
int sdnotify_status(const char *text);

/* The watchdog period systemd expects pings within (WatchdogSec=), in
 * microseconds, or 0 when the watchdog is off for this process. */
uint64_t sdnotify_watchdog_usec(void);

#endif
