/* bench_storage_append.c -- bench_ingest_lp.sh middle row: the same lines through storage_append().
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "storage.h"

/*
 * Usage: bench_storage_append DB full|normal PER_APPEND FILE
 * Opens DB with iot-edge's storage (the daemon's defaults: 512 MiB bound,
 * drop_oldest), reads FILE (canonical line protocol, one point per line) and
 * appends PER_APPEND lines at a time, waiting for each commit as a request
 * does: iot-edge without HTTP and without parsing. Prints
 * "POINTS SECONDS POINTS_PER_S".
 */

static pthread_mutex_t bench_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t bench_done = PTHREAD_COND_INITIALIZER;
static int bench_committed;
static int bench_failed;

static void bench_on_commit(void *arg, int result)
{
	(void)arg;
	pthread_mutex_lock(&bench_lock);
	bench_committed++;
	if (result != STORAGE_OK)
		bench_failed++;
	pthread_cond_signal(&bench_done);
	pthread_mutex_unlock(&bench_lock);
}

static double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct storage_options o = {.max_size = 512u << 20, .min_free_disk = 0};
	struct storage *s = NULL;
	char *text = NULL;
	size_t len = 0;
	size_t points = 0;
	int appends = 0;
	long per;
	char *end;
	FILE *f;
	double t0;
	double secs;
	int status = 1;
	char *p;

	if (argc != 5 || (strcmp(argv[2], "full") != 0 && strcmp(argv[2], "normal") != 0)) {
		fprintf(stderr, "usage: bench_storage_append DB full|normal PER_APPEND FILE\n");
		return 2;
	}
	errno = 0;
	per = strtol(argv[3], &end, 10);
	if (errno != 0 || *end != '\0' || per < 1) {
		fprintf(stderr, "bench_storage_append: PER_APPEND must be a positive number\n");
		return 2;
	}
	f = fopen(argv[4], "rb");
	if (!f || fseek(f, 0, SEEK_END) != 0) {
		fprintf(stderr, "bench_storage_append: cannot read %s\n", argv[4]);
		goto out;
	}
	len = (size_t)ftell(f);
	text = malloc(len + 1);
	if (!text || fseek(f, 0, SEEK_SET) != 0 || fread(text, 1, len, f) != len) {
		fprintf(stderr, "bench_storage_append: cannot read %s\n", argv[4]);
		goto out;
	}
	o.path = argv[1];
	o.durability =
	    strcmp(argv[2], "full") == 0 ? STORAGE_DURABILITY_FULL : STORAGE_DURABILITY_NORMAL;
	if (storage_open(&o, &s) != STORAGE_OK) {
		fprintf(stderr, "bench_storage_append: cannot open %s\n", argv[1]);
		goto out;
	}
	t0 = bench_now();
	for (p = text; p < text + len;) {
		char *q = p;
		char *chunk;
		long lines = 0;
		int rc;

		while (q < text + len && lines < per) {
			char *nl = memchr(q, '\n', (size_t)(text + len - q));

			q = nl ? nl + 1 : text + len;
			lines++;
		}
		chunk = malloc((size_t)(q - p));
		if (!chunk)
			goto out;
		memcpy(chunk, p, (size_t)(q - p));
		rc =
		    storage_append(s, chunk, (size_t)(q - p), (size_t)lines, bench_on_commit, NULL);
		if (rc != STORAGE_OK) {
			fprintf(stderr, "bench_storage_append: %s\n", storage_strerror(rc));
			free(chunk);
			goto out;
		}
		appends++;
		points += (size_t)lines;
		pthread_mutex_lock(&bench_lock);
		while (bench_committed < appends)
			pthread_cond_wait(&bench_done, &bench_lock);
		pthread_mutex_unlock(&bench_lock);
		p = q;
	}
	secs = bench_now() - t0;
	if (bench_failed) {
		fprintf(stderr, "bench_storage_append: %d commits failed\n", bench_failed);
		goto out;
	}
	printf("%zu %.3f %.0f\n", points, secs, secs > 0 ? (double)points / secs : 0.0);
	status = 0;
out:
	storage_close(s);
	if (f)
		fclose(f);
	free(text);
	return status;
}
