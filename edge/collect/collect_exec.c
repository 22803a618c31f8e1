/* collect_exec.c -- exec collectors: a command's stdout as line protocol, run asynchronously in
 * the collector thread, in its own process group, killed at its timeout. */
#define _GNU_SOURCE /* posix_spawn_file_actions_addclosefrom_np, pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "collect_internal.h"
#include "point.h"
#include "log.h"
#include "lineproto_parse.h"
#include "text.h"

#define EXEC_READ_CHUNK 65536
#define EXEC_REAP_POLL_MS 10	   /* how often an exited-pipes child is checked */
#define EXEC_MAX_LINE (64u << 10)  /* longest line of output accepted */
#define EXEC_POINTS_MAX (4u << 20) /* canonical text of one run (tags added) */

extern char **environ;

/* argv for the command: split on blanks, or /bin/sh -c COMMAND. *argv and
 * *copy are malloc'd (the caller frees both). Returns 0 or -1 (no memory or
 * an empty command). */
static int exec_argv(const struct collect_config *cfg, char ***argv, char **copy)
{
	size_t n = 0, len = strlen(cfg->command);

	*argv = NULL;
	*copy = strdup(cfg->command);
	if (!*copy)
		return -1;
	*argv = calloc(cfg->shell ? 4 : len / 2 + 2, sizeof(**argv));
	if (!*argv)
		return -1;
	if (cfg->shell) {
		(*argv)[0] = "/bin/sh";
		(*argv)[1] = "-c";
		(*argv)[2] = *copy;
		return 0;
	}
	for (char *p = *copy; *p;) {
		p += strspn(p, " \t");
		if (!*p)
			break;
		(*argv)[n++] = p;
		p += strcspn(p, " \t");
		if (*p)
			*p++ = '\0';
	}
	return n ? 0 : -1;
}

/* Set NAME (len bytes of entry) to entry in env[0..*n): replaced if there, else added. */
static void exec_env_put(char **env, size_t *n, char *entry, size_t len)
{
	for (size_t i = 0; i < *n; i++) {
		if (strncmp(env[i], entry, len) == 0 && env[i][len] == '=') {
			env[i] = entry;
			return;
		}
	}
	env[(*n)++] = entry;
}

/* The child's environment: PATH, LANG, TZ and HOME as the daemon has them,
 * then the collector's env key ("NAME=value, NAME2": a bare NAME passes the
 * daemon's value); never an IOT_EDGE_* variable (the config refuses them,
 * and the daemon's own are not passed). *envp and *copy are malloc'd (the
 * caller frees both; the other strings belong to environ). Returns 0 or -1
 * (no memory). Collector thread (reads environ, which nothing changes). */
static int exec_env(const struct collect_config *cfg, char ***envp, char **copy)
{
	static const char *const keep[] = {"PATH", "LANG", "TZ", "HOME"};
	size_t max = 5, n = 0;
	const char *spec = cfg->env ? cfg->env : "";

	for (const char *p = spec; *p; p++)
		max += *p == ',';
	*copy = strdup(spec);
	*envp = calloc(max + sizeof(keep) / sizeof(keep[0]), sizeof(**envp));
	if (!*copy || !*envp)
		return -1;
	for (size_t k = 0; k < sizeof(keep) / sizeof(keep[0]); k++) {
		size_t len = strlen(keep[k]);
		for (char **e = environ; e && *e; e++) {
			if (strncmp(*e, keep[k], len) == 0 && (*e)[len] == '=') {
				(*envp)[n++] = *e;
				break;
			}
		}
	}
	for (char *p = *copy; *p;) {
		p += strspn(p, " \t,");
		if (!*p)
			break;
		char *entry = p;
		size_t len = strcspn(p, "=,"), name = len;
		while (name > 0 && (entry[name - 1] == ' ' || entry[name - 1] == '\t'))
			name--;
		p += strcspn(p, ",");
		char *end = p;
		if (*p)
			*p++ = '\0';
		while (end > entry + len && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0'; /* trailing blanks of a value */
		if (name == 0 || strncmp(entry, "IOT_EDGE_", 9) == 0)
			continue; /* the config refuses both: never passed */
		if (entry[len] == '=') {
			memmove(entry + name, entry + len, strlen(entry + len) + 1);
			exec_env_put(*envp, &n, entry, name);
			continue;
		}
		entry[name] = '\0';
		for (char **e = environ; e && *e; e++) {
			if (strncmp(*e, entry, name) == 0 && (*e)[name] == '=') {
				exec_env_put(*envp, &n, *e, name);
				break;
			}
		}
	}
	(*envp)[n] = NULL;
	return 0;
}

static void exec_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* posix_spawn for `it`'s command with stdout and stderr on the pipes' write
 * ends. Returns 0 or an errno value. */
static int exec_spawn(struct collect_item *it, int out_w, int err_w, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dfl;
	char **argv = NULL, *copy = NULL, **envp = NULL, *env_copy = NULL;
	int rc = ENOMEM;

	if (exec_argv(&it->cfg, &argv, &copy) != 0 || exec_env(&it->cfg, &envp, &env_copy) != 0)
		goto out_argv;
	rc = posix_spawn_file_actions_init(&fa);
	if (rc != 0)
		goto out_argv;
	rc = posix_spawnattr_init(&attr);
	if (rc != 0)
		goto out_fa;
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGHUP);
	rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (rc == 0)
		rc = posix_spawn_file_actions_adddup2(&fa, out_w, 1);
	if (rc == 0)
		rc = posix_spawn_file_actions_adddup2(&fa, err_w, 2);
	if (rc == 0)
		rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	if (rc == 0)
		rc = posix_spawnattr_setflags(
		    &attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	if (rc == 0)
		rc = posix_spawnattr_setpgroup(&attr, 0);
	if (rc == 0)
		rc = posix_spawnattr_setsigmask(&attr, &none);
	if (rc == 0)
		rc = posix_spawnattr_setsigdefault(&attr, &dfl);
	if (rc == 0)
		rc = posix_spawnp(pid, argv[0], &fa, &attr, argv, envp);
	posix_spawnattr_destroy(&attr);
out_fa:
	posix_spawn_file_actions_destroy(&fa);
out_argv:
	free(argv);
	free(copy);
	free(envp);
	free(env_copy);
	return rc;
}

/* Count and report a problem of it's run: `brief` (no command line, no
 * stderr: /status is open) becomes last_error; the log gets the command,
 * `sep`, brief and the first line of stderr when `e` has one, escaped. */
static void exec_problem(struct collect_item *it, uint64_t errors, const char *sep,
			 const char *brief, const struct collect_exec *e)
{
	char detail[COLLECT_DETAIL_MAX], err[200];
	size_t err_len = e ? strcspn(e->err, "\n") : 0;

	if (err_len)
		text_quote(err, sizeof(err), e->err, err_len, TEXT_QUOTE_ASCII);
	snprintf(detail, sizeof(detail), "\"%s\"%s%s%s%s", it->cfg.command, sep, brief,
		 err_len ? ": " : "", err_len ? err : "");
	collect_problem_detail(it, errors, brief, detail);
}

int collect_exec_start(struct collect_item *it, int64_t grid_ns)
{
	struct collect_exec *e = &it->exec;
	int out[2] = {-1, -1}, err[2] = {-1, -1};
	char msg[160];
	pid_t pid = 0;
	int rc;

	if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
		rc = errno;
		goto fail;
	}
	rc = exec_spawn(it, out[1], err[1], &pid);
	if (rc != 0)
		goto fail;
	exec_close(&out[1]);
	exec_close(&err[1]);
	if (fcntl(out[0], F_SETFL, O_NONBLOCK) != 0 || fcntl(err[0], F_SETFL, O_NONBLOCK) != 0)
		log_warn(COLLECT_MOD, "%s: fcntl: %s", it->cfg.name, strerror(errno));
	*e = (struct collect_exec){.pid = pid,
				   .out_fd = out[0],
				   .err_fd = err[0],
				   .grid_ns = grid_ns,
				   .deadline_ms = clock_mono_ms() + (int64_t)it->cfg.timeout_ms};
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		exec_close(&out[i]);
		exec_close(&err[i]);
	}
	snprintf(msg, sizeof(msg), "cannot run the command: %s", strerror(rc));
	exec_problem(it, 1, " ", msg, NULL);
	return -1;
}

size_t collect_exec_pollfds(struct collect_item *it, struct pollfd *pfd)
{
	size_t n = 0;
	if (it->exec.pid <= 0)
		return 0;
	if (it->exec.out_fd >= 0)
		pfd[n++] = (struct pollfd){.fd = it->exec.out_fd, .events = POLLIN};
	if (it->exec.err_fd >= 0)
		pfd[n++] = (struct pollfd){.fd = it->exec.err_fd, .events = POLLIN};
	return n;
}

/* Kill the run's process group (the leader is not reaped yet, so its id is
 * still ours) and stop listening to it. */
static void exec_kill(struct collect_exec *e)
{
	if (kill(-e->pid, SIGKILL) != 0 && errno != ESRCH)
		log_warn(COLLECT_MOD, "kill %d: %s", (int)-e->pid, strerror(errno));
	exec_close(&e->out_fd);
	exec_close(&e->err_fd);
}

void collect_exec_read(struct collect_item *it, int fd)
{
	struct collect_exec *e = &it->exec;
	char chunk[EXEC_READ_CHUNK];

	if (fd < 0 || (fd != e->out_fd && fd != e->err_fd))
		return; /* closed earlier in this round */
	ssize_t n = read(fd, chunk, sizeof(chunk));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) { /* end of output, or an error that ends it */
		exec_close(fd == e->out_fd ? &e->out_fd : &e->err_fd);
		return;
	}
	if (fd == e->err_fd) {
		size_t room = sizeof(e->err) - 1 - e->err_len;
		size_t take = (size_t)n < room ? (size_t)n : room;
		memcpy(e->err + e->err_len, chunk, take);
		e->err_len += take;
		e->err[e->err_len] = '\0';
		return;
	}
	if (e->out_len + (size_t)n > COLLECT_OUTPUT_MAX) {
		e->out_over = true;
		exec_kill(e);
		return;
	}
	char *grown = realloc(e->out, e->out_len + (size_t)n);
	if (!grown) {
		e->out_over = true;
		exec_kill(e);
		return;
	}
	e->out = grown;
	memcpy(e->out + e->out_len, chunk, (size_t)n);
	e->out_len += (size_t)n;
}

int collect_exec_step(struct collect_item *it, int64_t now_ms, int64_t *wake_ms)
{
	struct collect_exec *e = &it->exec;
	siginfo_t si;

	if (e->pid <= 0)
		return 0;
	if (!e->timed_out && now_ms >= e->deadline_ms) {
		e->timed_out = true;
		exec_kill(e);
	}
	if (e->out_fd >= 0 || e->err_fd >= 0) {
		if (e->deadline_ms < *wake_ms)
			*wake_ms = e->deadline_ms;
		return 0;
	}
	/* Both pipes closed: has the leader exited? (WNOWAIT keeps its id ours.) */
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)e->pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid == 0) {
		int64_t again = now_ms + EXEC_REAP_POLL_MS;
		if (!e->timed_out && e->deadline_ms < again)
			again = e->deadline_ms;
		if (again < *wake_ms)
			*wake_ms = again;
		return 0;
	}
	/* Whatever it left running in its group goes with it. */
	if (kill(-e->pid, SIGKILL) != 0 && errno != ESRCH)
		log_warn(COLLECT_MOD, "kill %d: %s", (int)-e->pid, strerror(errno));
	while (waitpid(e->pid, &e->status, 0) < 0 && errno == EINTR)
		;
	return 1;
}

static void exec_reset(struct collect_exec *e)
{
	free(e->out);
	*e = (struct collect_exec){.out_fd = -1, .err_fd = -1};
}

void collect_exec_finish(struct collect_item *it)
{
	struct collect_exec *e = &it->exec;
	char msg[160];

	if (e->timed_out) {
		snprintf(msg, sizeof(msg), "killed after its timeout of %" PRIu64 " ms",
			 it->cfg.timeout_ms);
		exec_problem(it, 1, " ", msg, NULL);
		goto out;
	}
	if (e->out_over) {
		snprintf(msg, sizeof(msg), "wrote more than %u bytes: killed, nothing stored",
			 COLLECT_OUTPUT_MAX);
		exec_problem(it, 1, " ", msg, NULL);
		goto out;
	}
	struct lineproto_parse_options o = {.precision_ns = LINEPROTO_NS,
					    .max_line = EXEC_MAX_LINE,
					    .unsigned_ok = it->owner->src.unsigned_ok};
	struct lineproto_report report;
	struct lineproto_buf points;
	lineproto_buf_init(&points, EXEC_POINTS_MAX);
	int rc = point_lines(e->out ? e->out : "", e->out_len, &o, it->cfg.tags, e->grid_ns,
			     &points, &report);
	if (rc == LINEPROTO_OK) {
		collect_submit(it, &points, report.points);
	} else {
		snprintf(msg, sizeof(msg), "output not stored (%s)",
			 rc == LINEPROTO_ETOOBIG ? "too large" : "out of memory or bad tags");
		exec_problem(it, 1, ": ", msg, NULL);
	}
	lineproto_buf_free(&points);
	if (rc == LINEPROTO_OK && report.bad_lines) {
		snprintf(msg, sizeof(msg), "%zu bad line%s: %.100s", report.bad_lines,
			 report.bad_lines == 1 ? "" : "s", report.errors);
		exec_problem(it, report.bad_lines, ": ", msg, NULL);
	}
	if (WIFEXITED(e->status) && WEXITSTATUS(e->status) != 0) {
		snprintf(msg, sizeof(msg), "exited with status %d", WEXITSTATUS(e->status));
		exec_problem(it, 1, " ", msg, e);
	} else if (WIFSIGNALED(e->status)) {
		snprintf(msg, sizeof(msg), "killed by signal %d (%s)", WTERMSIG(e->status),
			 sigabbrev_np(WTERMSIG(e->status)) ? sigabbrev_np(WTERMSIG(e->status))
							   : "?");
		exec_problem(it, 1, " ", msg, e);
	}
out:
	exec_reset(e);
}

void collect_exec_abort(struct collect_item *it)
{
	struct collect_exec *e = &it->exec;

	if (e->pid > 0) {
		exec_kill(e);
		while (waitpid(e->pid, &e->status, 0) < 0 && errno == EINTR)
			;
		log_info(COLLECT_MOD, "%s: \"%s\" killed at shutdown", it->cfg.name,
			 it->cfg.command);
	}
	exec_reset(e);
}
