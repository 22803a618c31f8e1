/* schema.c -- the buffer file's schema: start-up checks, connection pragmas and migrations. */

/*
 * The buffer file (buffer.db), readable with the plain sqlite3 shell while
 * the daemon runs (WAL readers never block the writer):
 *
 *   sqlite3 /var/lib/iot-edge/buffer.db 'SELECT * FROM summary'
 *
 * Schema v4 (PRAGMA user_version = 4); docs/STORAGE.md has the queries.
 *
 *   points(id, received_ns, line)      -- v1: one row per point some target has not got
 *   backlog(id, received_utc, line)    -- v1 view: points with a readable time
 *   rejected(id, rejected_ns, reason, line, target)  -- v2 (target: v3): points a
 *                                         target refused for good; key (id, target)
 *   pending(id, received_utc, age_s, line)   -- v2 view: points, RFC 3339 time, age
 *   rejected_readable(id, rejected_utc, reason, line, target)
 *   summary(points, bytes, oldest_utc, newest_utc, oldest_age_s, rejected) -- one row
 *   targets(name, acked_id)            -- v3: each uplink's position: it has id <= acked_id
 *   target_backlog(name, acked_id, points, oldest_utc, oldest_age_s, rejected) -- v3 view
 *   refused(id, refused_ns, source, topic, reason, payload, payload_len) -- v4: messages
 *                                         an input could make no points of (refused.c)
 *   refused_readable(id, refused_utc, source, topic, reason, payload_len, payload) -- v4 view
 *
 * A point is deleted once every target's acked_id has passed it (target.c).
 *
 * `id` is the delivery order (oldest first); `received_ns` is when the edge
 * committed the point (ns since the Unix epoch); `line` is canonical line
 * protocol with a ns timestamp and no newline. A rejected row keeps the id
 * the point had in `points`; the table keeps the newest STORAGE_REJECTED_KEEP.
 *
 * New files get page_size STORAGE_PAGE_SIZE and auto_vacuum INCREMENTAL
 * before the first table is created, and a random PRAGMA application_id that
 * tells a WAL of another file from its own. The file is always in WAL mode.
 *
 * Migrations: storage_migrations[] lists steps keyed by the user_version they
 * produce; storage_schema_migrate runs the missing ones in one transaction. A
 * file with a user_version above STORAGE_SCHEMA_VERSION was written by a newer
 * iot-edge and is refused (STORAGE_ERR_SCHEMA), never modified.
 */

#include "storage_internal.h"

#include "log.h"

#include <stdio.h>
#include <string.h>

#define STORAGE_QUICK_CHECK_LOG_LINES 5

/* RFC 3339 UTC with milliseconds from a ns column. */
#define STORAGE_UTC(col) "strftime('%Y-%m-%dT%H:%M:%fZ', " col " / 1e9, 'unixepoch')"
/* Seconds from a ns column to now. */
#define STORAGE_AGE(col) "round((julianday('now') - 2440587.5) * 86400.0 - " col " / 1e9, 3)"

struct storage_migration {
	int version;	 /* the user_version once this step ran */
	const char *sql; /* one or more statements */
};

/* The summary view (v2, recreated by v3 with the table it reads). */
#define STORAGE_SUMMARY_VIEW                                                                       \
	"CREATE VIEW summary AS SELECT\n"                                                          \
	"  (SELECT count(*) FROM points) AS points,\n"                                             \
	"  (SELECT coalesce(sum(length(CAST(line AS BLOB))), 0) FROM points) AS bytes,\n"          \
	"  (SELECT " STORAGE_UTC(                                                                  \
	    "received_ns") " FROM points ORDER BY id LIMIT 1)"                                     \
			   " AS oldest_utc,\n"                                                     \
			   "  (SELECT " STORAGE_UTC(                                               \
			       "received_ns") " FROM points ORDER BY id DESC LIMIT 1)"             \
					      " AS newest_utc,\n"                                  \
					      "  (SELECT " STORAGE_AGE(                            \
						  "received_ns") " FROM points ORDER BY id LIMIT " \
								 "1)"                              \
								 " AS oldest_age_s,\n"             \
								 "  (SELECT count(*) FROM "        \
								 "rejected) AS rejected;\n"

/* clang-format off */
static const struct storage_migration storage_migrations[] = {
    {1, "CREATE TABLE points (\n"
	"  id          INTEGER PRIMARY KEY,\n"
	"  received_ns INTEGER NOT NULL,\n"
	"  line        TEXT    NOT NULL\n"
	");\n"
	"CREATE VIEW backlog AS SELECT id,\n"
	"  strftime('%Y-%m-%d %H:%M:%f', received_ns / 1e9, 'unixepoch') AS received_utc,"
	" line\n"
	"  FROM points;\n"},
    {2, "CREATE TABLE rejected (\n"
	"  id          INTEGER PRIMARY KEY,\n"
	"  rejected_ns INTEGER NOT NULL,\n"
	"  reason      TEXT    NOT NULL,\n"
	"  line        TEXT    NOT NULL\n"
	");\n"
	"CREATE VIEW pending AS SELECT id,\n"
	"  " STORAGE_UTC("received_ns") " AS received_utc,\n"
	"  " STORAGE_AGE("received_ns") " AS age_s,\n"
	"  line FROM points;\n"
	"CREATE VIEW rejected_readable AS SELECT id,\n"
	"  " STORAGE_UTC("rejected_ns") " AS rejected_utc,\n"
	"  reason, line FROM rejected;\n"
	STORAGE_SUMMARY_VIEW},
    /* Several targets: a position each, and `rejected` keyed by (id, target)
     * (its v2 rows were refused by the one uplink, now named "default"). */
    {3, "CREATE TABLE targets (\n"
	"  name     TEXT    PRIMARY KEY,\n"
	"  acked_id INTEGER NOT NULL\n"
	");\n"
	"CREATE TABLE rejected_v3 (\n"
	"  id          INTEGER NOT NULL,\n"
	"  rejected_ns INTEGER NOT NULL,\n"
	"  reason      TEXT    NOT NULL,\n"
	"  line        TEXT    NOT NULL,\n"
	"  target      TEXT    NOT NULL DEFAULT '" STORAGE_TARGET_DEFAULT "',\n"
	"  PRIMARY KEY (id, target)\n"
	");\n"
	"INSERT INTO rejected_v3 (id, rejected_ns, reason, line)\n"
	"  SELECT id, rejected_ns, reason, line FROM rejected;\n"
	"DROP VIEW rejected_readable;\n"
	"DROP VIEW summary;\n"
	"DROP TABLE rejected;\n"
	"ALTER TABLE rejected_v3 RENAME TO rejected;\n"
	"CREATE VIEW rejected_readable AS SELECT id,\n"
	"  " STORAGE_UTC("rejected_ns") " AS rejected_utc,\n"
	"  reason, line, target FROM rejected;\n"
	STORAGE_SUMMARY_VIEW
	"CREATE VIEW target_backlog AS SELECT name, acked_id,\n"
	"  (SELECT count(*) FROM points p WHERE p.id > t.acked_id) AS points,\n"
	"  (SELECT " STORAGE_UTC("received_ns") " FROM points p WHERE p.id > t.acked_id"
	" ORDER BY id LIMIT 1) AS oldest_utc,\n"
	"  (SELECT " STORAGE_AGE("received_ns") " FROM points p WHERE p.id > t.acked_id"
	" ORDER BY id LIMIT 1) AS oldest_age_s,\n"
	"  (SELECT count(*) FROM rejected r WHERE r.target = t.name) AS rejected\n"
	"  FROM targets t;\n"},
    /* Messages an input refused (MQTT): topic and payload are TEXT when
     * valid UTF-8, else BLOB (the view shows x'hex'); payload is cut at
     * STORAGE_REFUSED_PAYLOAD_MAX bytes, payload_len is its whole length. */
    {4, "CREATE TABLE refused (\n"
	"  id          INTEGER PRIMARY KEY,\n"
	"  refused_ns  INTEGER NOT NULL,\n"
	"  source      TEXT    NOT NULL,\n"
	"  topic       TEXT,\n"
	"  reason      TEXT    NOT NULL,\n"
	"  payload     BLOB    NOT NULL,\n"
	"  payload_len INTEGER NOT NULL\n"
	");\n"
	"CREATE VIEW refused_readable AS SELECT id,\n"
	"  " STORAGE_UTC("refused_ns") " AS refused_utc,\n"
	"  source,\n"
	"  CASE typeof(topic) WHEN 'blob' THEN 'x''' || hex(topic) || '''' ELSE topic END"
	" AS topic,\n"
	"  reason, payload_len,\n"
	"  CASE typeof(payload) WHEN 'blob' THEN 'x''' || hex(payload) || '''' ELSE payload END"
	" AS payload\n"
	"  FROM refused;\n"},
};
/* clang-format on */

/* PRAGMA quick_check: "ok", or one row per problem found. */
static int storage_quick_check(struct storage *s)
{
	sqlite3_stmt *stmt = NULL;
	int result = storage_prepare(s->wdb, s->path, "PRAGMA quick_check", &stmt);
	int rows = 0;
	int rc;

	if (result)
		goto out;
	for (;;) {
		const unsigned char *msg;

		rc = sqlite3_step(stmt);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW) {
			log_error(STORAGE_LOG, "%s: quick_check failed: %s", s->path,
				  sqlite3_errmsg(s->wdb));
			result = storage_result_from_sqlite(rc);
			goto out;
		}
		msg = sqlite3_column_text(stmt, 0);
		if (rows == 0 && msg && strcmp((const char *)msg, "ok") == 0)
			goto out;
		if (rows < STORAGE_QUICK_CHECK_LOG_LINES)
			log_error(STORAGE_LOG, "%s: quick_check: %s", s->path,
				  msg ? (const char *)msg : "(no text)");
		rows++;
		result = STORAGE_ERR_CORRUPT;
	}
	if (rows == 0)
		result = STORAGE_ERR_CORRUPT;
out:
	if (result == STORAGE_ERR_CORRUPT)
		log_error(STORAGE_LOG, "%s: THE BUFFER FILE IS CORRUPT (%d problems found)",
			  s->path, rows);
	sqlite3_finalize(stmt); /* its rc repeats the step's, handled above */
	return result;
}

int storage_schema_check(struct storage *s, int *is_new)
{
	int64_t tables = 0;
	int64_t version = 0;
	int result;

	/* The first read: a file that is not a database fails here (SQLITE_NOTADB). */
	result = storage_query_one(s->wdb, s->path, "SELECT count(*) FROM sqlite_master", NULL, 0,
				   &tables);
	if (result == STORAGE_ERR_CORRUPT)
		log_error(STORAGE_LOG, "%s: THE BUFFER FILE IS NOT A READABLE SQLITE DATABASE",
			  s->path);
	if (result)
		return result;
	/* The version first: a newer file is refused, not judged by our rules. */
	result = storage_query_one(s->wdb, s->path, "PRAGMA user_version", NULL, 0, &version);
	if (result)
		return result;
	if (version > STORAGE_SCHEMA_VERSION) {
		log_error(STORAGE_LOG,
			  "%s: schema version %lld was written by a newer iot-edge (this one knows "
			  "up to %d); refusing to touch it: run the newer release, or move the "
			  "file away to start with an empty buffer",
			  s->path, (long long)version, STORAGE_SCHEMA_VERSION);
		return STORAGE_ERR_SCHEMA;
	}
	result = storage_quick_check(s);
	if (result)
		return result;
	*is_new = tables == 0;
	return STORAGE_OK;
}

int storage_schema_configure(struct storage *s, int is_new)
{
	char sql[256];
	char mode[16];
	int64_t page_size = 0;
	int result;

	if (is_new) {
		snprintf(sql, sizeof(sql),
			 "PRAGMA page_size = %d; PRAGMA auto_vacuum = INCREMENTAL",
			 STORAGE_PAGE_SIZE);
		result = storage_exec(s->wdb, s->path, sql);
		if (result)
			return result;
	}
	result = storage_query_one(s->wdb, s->path, "PRAGMA journal_mode = WAL", mode, sizeof(mode),
				   NULL);
	if (result)
		return result;
	if (strcmp(mode, "wal") != 0) {
		log_error(STORAGE_LOG, "%s: cannot switch to WAL mode (journal_mode is \"%s\")",
			  s->path, mode);
		return STORAGE_ERR_IO;
	}
	s->wal_ready = 1;
	result = storage_query_one(s->wdb, s->path, "PRAGMA page_size", NULL, 0, &page_size);
	if (result)
		return result;
	s->page_size = page_size > 0 ? page_size : STORAGE_PAGE_SIZE;
	storage_space_init(s);
	/* secure_delete (on in Debian's build) would write zeros over every freed
	 * page: FAST only zeroes what is written anyway. */
	snprintf(sql, sizeof(sql),
		 "PRAGMA synchronous = %s; PRAGMA secure_delete = FAST; "
		 "PRAGMA wal_autocheckpoint = %lld; PRAGMA journal_size_limit = %lld",
		 s->durability == STORAGE_DURABILITY_FULL ? "FULL" : "NORMAL",
		 (long long)s->wal_pages, (long long)(s->wal_pages * (s->page_size + 24) + 32));
	return storage_exec(s->wdb, s->path, sql);
}

/* Give the file a random application_id once: a WAL whose page 1 names
 * another id belongs to another file (see storage_schema_wal_foreign). */
static int storage_schema_identify(sqlite3 *db, const char *path)
{
	int64_t id = 0;
	uint32_t r = 0;
	char sql[64];
	int result = storage_query_one(db, path, "PRAGMA application_id", NULL, 0, &id);

	if (result || id != 0)
		return result;
	while (r == 0 || r == 0x80000000u)
		sqlite3_randomness((int)sizeof(r), &r);
	snprintf(sql, sizeof(sql), "PRAGMA application_id = %d", (int)(int32_t)r);
	return storage_exec(db, path, sql);
}

uint32_t storage_schema_file_id(const char *path)
{
	unsigned char h[100];
	FILE *fp = fopen(path, "rb");
	size_t n = fp ? fread(h, 1, sizeof(h), fp) : 0;

	if (fp && fclose(fp) != 0)
		return 0;
	if (n < sizeof(h) || memcmp(h, "SQLite format 3", 16) != 0)
		return 0;
	return (uint32_t)h[68] << 24 | (uint32_t)h[69] << 16 | (uint32_t)h[70] << 8 | h[71];
}

int storage_schema_wal_foreign(struct storage *s, uint32_t file_id)
{
	int64_t id = 0;
	int result;

	if (file_id == 0)
		return STORAGE_OK; /* new, or never checkpointed since it got its id */
	result = storage_query_one(s->wdb, s->path, "PRAGMA application_id", NULL, 0, &id);
	if (result)
		return result;
	if ((uint32_t)id == file_id)
		return STORAGE_OK;
	log_error(STORAGE_LOG,
		  "%s: THE WAL FILE BESIDE IT BELONGS TO ANOTHER DATABASE (its id is %08x, the "
		  "buffer's %08x): it must not be replayed into the buffer",
		  s->path, (unsigned)(uint32_t)id, (unsigned)file_id);
	return STORAGE_ERR_CORRUPT;
}

int storage_schema_migrate(sqlite3 *db, const char *path)
{
	size_t n = sizeof(storage_migrations) / sizeof(storage_migrations[0]);
	int64_t version = 0;
	char sql[64];
	int result;

	result = storage_exec(db, path, "BEGIN IMMEDIATE");
	if (result)
		return result;
	result = storage_query_one(db, path, "PRAGMA user_version", NULL, 0, &version);
	if (result)
		goto out;
	const int64_t found = version; /* 0: a new file, created by the steps in one go */
	for (size_t i = 0; i < n; i++) {
		if (storage_migrations[i].version <= version)
			continue;
		if (found > 0)
			log_info(STORAGE_LOG, "%s: migrating schema from version %lld to %d", path,
				 (long long)version, storage_migrations[i].version);
		result = storage_exec(db, path, storage_migrations[i].sql);
		if (result)
			goto out;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
			 storage_migrations[i].version);
		result = storage_exec(db, path, sql);
		if (result)
			goto out;
		version = storage_migrations[i].version;
	}
	result = storage_schema_identify(db, path);
	if (result)
		goto out;
	result = storage_exec(db, path, "COMMIT");
out:
	if (result && !sqlite3_get_autocommit(db) &&
	    storage_exec(db, path, "ROLLBACK") != STORAGE_OK)
		log_error(STORAGE_LOG, "%s: rollback of the migration failed", path);
	return result;
}
