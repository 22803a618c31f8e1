/* sdnotify.c -- the systemd notification protocol through libsystemd's sd_notify, or no-ops without
 * it. */
#include "sdnotify.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

#ifdef IOT_EDGE_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#define SDNOTIFY_MOD "sdnotify"
#define SDNOTIFY_STATUS_MAX 256

#ifdef IOT_EDGE_HAVE_SYSTEMD

/* An int, not an atomic_bool: ARMv6 (the Pi Zero's armhf build) has no byte
 * LDREXB/STREXB (ARMv6K), so a byte exchange would call libgcc's linux-atomic
 * helper; a word exchange is LDREX/STREX. */
static atomic_int sdnotify_warned;

/* Send one state string; map sd_notify's answer onto 1 / 0 / -1. */
static int sdnotify_send(const char *state)
{
	int rc = sd_notify(0, state);

	if (rc > 0)
		return 1;
	if (rc == 0)
		return 0;
	if (!atomic_exchange(&sdnotify_warned, 1))
		log_warn(SDNOTIFY_MOD, "cannot notify systemd (%.20s...): %s", state,
			 strerror(-rc));
	return -1;
}

bool sdnotify_supported(void)
{
	return true;
}

uint64_t sdnotify_watchdog_usec(void)
{
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	return usec;
}

#else /* no libsystemd: nothing to tell */

static int sdnotify_send(const char *state)
{
	(void)state;
	return 0;
}

bool sdnotify_supported(void)
{
	return false;
}

uint64_t sdnotify_watchdog_usec(void)
{
	return 0;
}

#endif

int sdnotify_ready(void)
{
	return sdnotify_send("READY=1");
}

int sdnotify_reloading(void)
{
	return sdnotify_send("RELOADING=1");
}

int sdnotify_stopping(void)
{
	return sdnotify_send("STOPPING=1");
}

int sdnotify_watchdog(void)
{
	return sdnotify_send("WATCHDOG=1");
}

int sdnotify_status(const char *text)
{
	char state[SDNOTIFY_STATUS_MAX];
	int n = snprintf(state, sizeof(state), "STATUS=%s", text);

	if (n < 0)
		return -1;
	/* One line: a newline would start a new (bogus) assignment. */
	for (char *p = state; *p; p++) {
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	}
	return sdnotify_send(state);
}
