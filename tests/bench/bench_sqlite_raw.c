/* bench_sqlite_raw.c -- bench_ingest_lp.sh baseline: the same lines INSERTed into SQLite. */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * Usage: bench_sqlite_raw DB full|normal PER_TXN FILE
 * Creates DB with the buffer's schema and pragmas (WAL, auto_vacuum
 * incremental, synchronous FULL or NORMAL), reads FILE (one line-protocol
 * point per line), and inserts every line with a prepared statement, PER_TXN
 * lines per transaction -- what iot-edge's writer does for one request,
 * minus HTTP, parsing and the queue. Prints "POINTS SECONDS POINTS_PER_S".
 */

static double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int bench_exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "bench_sqlite_raw: %s: %s\n", sql, err ? err : "?");
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

/* Reads the whole file into a malloc'd, NUL-terminated buffer. */
static char *bench_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	long size;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0)
		goto out;
	size = ftell(f);
	if (size < 0 || fseek(f, 0, SEEK_SET) != 0)
		goto out;
	text = malloc((size_t)size + 1);
	if (!text || fread(text, 1, (size_t)size, f) != (size_t)size) {
		free(text);
		text = NULL;
		goto out;
	}
	text[size] = '\0';
	*len = (size_t)size;
out:
	fclose(f);
	return text;
}

int main(int argc, char **argv)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *insert = NULL;
	char *text = NULL;
	char *end;
	size_t len = 0;
	size_t points = 0;
	size_t in_txn = 0;
	long per_txn;
	double t0;
	double secs;
	int status = 1;
	char *p;

	if (argc != 5 || (strcmp(argv[2], "full") != 0 && strcmp(argv[2], "normal") != 0)) {
		fprintf(stderr, "usage: bench_sqlite_raw DB full|normal PER_TXN FILE\n");
		return 2;
	}
	errno = 0;
	per_txn = strtol(argv[3], &end, 10);
	if (errno != 0 || *end != '\0' || per_txn < 1) {
		fprintf(stderr, "bench_sqlite_raw: PER_TXN must be a positive number\n");
		return 2;
	}
	text = bench_read(argv[4], &len);
	if (!text) {
		fprintf(stderr, "bench_sqlite_raw: cannot read %s\n", argv[4]);
		return 1;
	}
	if (sqlite3_open(argv[1], &db) != SQLITE_OK) {
		fprintf(stderr, "bench_sqlite_raw: %s: %s\n", argv[1], sqlite3_errmsg(db));
		goto out;
	}
	if (bench_exec(db, "PRAGMA auto_vacuum = INCREMENTAL") ||
	    bench_exec(db, "PRAGMA journal_mode = WAL") ||
	    bench_exec(db, strcmp(argv[2], "full") == 0 ? "PRAGMA synchronous = FULL"
							: "PRAGMA synchronous = NORMAL") ||
	    bench_exec(db, "CREATE TABLE points (id INTEGER PRIMARY KEY, "
			   "received_ns INTEGER NOT NULL, line TEXT NOT NULL)"))
		goto out;
	if (sqlite3_prepare_v2(db, "INSERT INTO points (received_ns, line) VALUES (?, ?)", -1,
			       &insert, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench_sqlite_raw: prepare: %s\n", sqlite3_errmsg(db));
		goto out;
	}
	t0 = bench_now();
	for (p = text; p < text + len;) {
		char *nl = memchr(p, '\n', (size_t)(text + len - p));
		int n = (int)((nl ? nl : text + len) - p);

		if (n > 0) {
			if (in_txn == 0 && bench_exec(db, "BEGIN"))
				goto out;
			if (sqlite3_bind_int64(insert, 1, (sqlite3_int64)time(NULL) * 1000000000) ||
			    sqlite3_bind_text(insert, 2, p, n, SQLITE_STATIC) ||
			    sqlite3_step(insert) != SQLITE_DONE || sqlite3_reset(insert)) {
				fprintf(stderr, "bench_sqlite_raw: insert: %s\n",
					sqlite3_errmsg(db));
				goto out;
			}
			points++;
			if (++in_txn == (size_t)per_txn) {
				if (bench_exec(db, "COMMIT"))
					goto out;
				in_txn = 0;
			}
		}
		p += n + 1;
	}
	if (in_txn && bench_exec(db, "COMMIT"))
		goto out;
	secs = bench_now() - t0;
	printf("%zu %.3f %.0f\n", points, secs, secs > 0 ? (double)points / secs : 0.0);
	status = 0;
out:
	sqlite3_finalize(insert);
	sqlite3_close(db);
	free(text);
	return status;
}
