/* reader.c -- an uplink's side of the buffer: read its target's oldest points as one write body. */
#include "storage_internal.h"

#include "log.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Make room for `want` bytes in batch->text. */
static int storage_batch_reserve(struct storage_batch *batch, size_t want)
{
	size_t cap = batch->cap ? batch->cap : 4096;
	char *text;

	if (want <= batch->cap && batch->text)
		return STORAGE_OK;
	while (cap < want) {
		if (cap > SIZE_MAX / 2)
			return STORAGE_ERR_NOMEM;
		cap *= 2;
	}
	text = realloc(batch->text, cap);
	if (!text)
		return STORAGE_ERR_NOMEM;
	batch->text = text;
	batch->cap = cap;
	return STORAGE_OK;
}

/* Make room for one more entry in batch->ids and batch->offsets. */
static int storage_batch_reserve_line(struct storage_batch *batch)
{
	size_t cap = batch->lines_cap ? batch->lines_cap * 2 : 256;
	int64_t *ids;
	size_t *offsets;

	if (batch->count < batch->lines_cap && batch->ids && batch->offsets)
		return STORAGE_OK;
	if (cap > SIZE_MAX / sizeof(int64_t) || cap > SIZE_MAX / sizeof(size_t))
		return STORAGE_ERR_NOMEM;
	ids = realloc(batch->ids, cap * sizeof(*ids));
	if (!ids)
		return STORAGE_ERR_NOMEM;
	batch->ids = ids;
	offsets = realloc(batch->offsets, cap * sizeof(*offsets));
	if (!offsets)
		return STORAGE_ERR_NOMEM; /* ids keeps its larger size; lines_cap stays */
	batch->offsets = offsets;
	batch->lines_cap = cap;
	return STORAGE_OK;
}

static void storage_batch_clear(struct storage_batch *batch)
{
	batch->len = 0;
	batch->count = 0;
	batch->last_id = 0;
	if (batch->text)
		batch->text[0] = '\0';
}

int storage_target_read_batch(struct storage_target *t, size_t max_points, size_t max_bytes,
			      struct storage_batch *batch)
{
	struct storage *s = t ? t->s : NULL;
	uint64_t wanted = max_points; /* compared in 64 bits: size_t is 32 on armhf */
	sqlite3_int64 limit = wanted > INT64_MAX ? INT64_MAX : (sqlite3_int64)wanted;
	int result = STORAGE_OK;
	int rc;

	if (!s || !batch || max_points == 0)
		return STORAGE_ERR_INVALID;
	storage_batch_clear(batch);
	rc = sqlite3_bind_int64(t->select_batch, 1, atomic_load(&t->acked_id));
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(t->select_batch, 2, limit);
	if (rc == SQLITE_OK && sqlite3_bind_parameter_count(t->select_batch) >= 3)
		rc = sqlite3_bind_text(t->select_batch, 3, t->name, -1, SQLITE_STATIC);
	if (rc != SQLITE_OK) {
		log_error(STORAGE_LOG, "%s: bind failed: %s", s->path, sqlite3_errmsg(t->rdb));
		result = storage_result_from_sqlite(rc);
		goto out;
	}
	for (;;) {
		const unsigned char *line;
		size_t n;

		rc = sqlite3_step(t->select_batch);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW) {
			log_error(STORAGE_LOG, "%s: reading a batch failed: %s", s->path,
				  sqlite3_errmsg(t->rdb));
			result = storage_result_from_sqlite(rc);
			goto out;
		}
		line = sqlite3_column_text(t->select_batch, 1);
		if (!line) {
			result = STORAGE_ERR_NOMEM;
			goto out;
		}
		n = (size_t)sqlite3_column_bytes(t->select_batch, 1);
		if (batch->count > 0 && (batch->len >= max_bytes || n + 1 > max_bytes - batch->len))
			break;
		/* + '\n' + a terminating NUL (not counted in len) for the reader's comfort */
		result = storage_batch_reserve(batch, batch->len + n + 2);
		if (result == STORAGE_OK)
			result = storage_batch_reserve_line(batch);
		if (result)
			goto out;
		batch->ids[batch->count] = sqlite3_column_int64(t->select_batch, 0);
		batch->offsets[batch->count] = batch->len;
		memcpy(batch->text + batch->len, line, n);
		batch->len += n;
		batch->text[batch->len++] = '\n';
		batch->text[batch->len] = '\0';
		batch->last_id = batch->ids[batch->count];
		batch->count++;
	}
out:
	/* Ends the read transaction: the WAL can be checkpointed past it. */
	sqlite3_reset(t->select_batch); /* its rc repeats the step's, handled above */
	if (result)
		storage_batch_clear(batch);
	return result;
}

int storage_read_batch(struct storage *s, size_t max_points, size_t max_bytes,
		       struct storage_batch *batch)
{
	return storage_target_read_batch(storage_target_at(s, 0), max_points, max_bytes, batch);
}

void storage_batch_free(struct storage_batch *batch)
{
	if (!batch)
		return;
	free(batch->text);
	free(batch->ids);
	free(batch->offsets);
	memset(batch, 0, sizeof(*batch));
}
