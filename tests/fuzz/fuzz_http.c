/* fuzz_http.c -- libFuzzer: the HTTP layer (routing, auth, body assembly, gzip, the answers) driven
 * through its libmicrohttpd callbacks, with a fake libmicrohttpd and storage; no sockets.
 *
 * Input: byte 0 = flags (bits 0-1 method GET/POST/HEAD/PUT; bit 2 storage
 * refuses the append (busy); bit 3 the commit fails; bits 4-7 chunk size
 * 1 << n), then the URL (with its query) up to '\n', then "Name: value\n"
 * header lines up to an empty line, then the body, handed over in chunks
 * as libmicrohttpd does.
 * Invariants: each request gets exactly one answer (or the connection is
 * closed with MHD_NO) with a known status; the body budget and the ingest
 * door are back to zero once the request completed; a 2xx to a write
 * stored canonical line protocol that re-parses without a bad line. */
#include "http.c" /* the handlers are static: the fuzzer sees them as libmicrohttpd does */

#include "lineproto_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* --- the fake libmicrohttpd -------------------------------------------- */

struct fuzz_header {
	const char *name, *value;
};

struct MHD_Connection {
	const char *query; /* after '?', or "" */
	struct fuzz_header headers[32];
	size_t n_headers;
	unsigned answered; /* responses queued */
	unsigned status;
	bool suspended;
	char body[512];
};

struct MHD_Response {
	char *body;
	size_t len;
};

static void fuzz_die(const char *what)
{
	fprintf(stderr, "invariant broken: %s\n", what);
	abort();
}

const char *MHD_lookup_connection_value(struct MHD_Connection *c, enum MHD_ValueKind kind,
					const char *key)
{
	if (kind == MHD_HEADER_KIND) {
		for (size_t i = 0; i < c->n_headers; i++)
			if (strcasecmp(c->headers[i].name, key) == 0)
				return c->headers[i].value;
		return NULL;
	}
	if (kind == MHD_GET_ARGUMENT_KIND) {
		/* name=value&...: values point into a static copy, as MHD's stay valid */
		static char copy[1024];
		size_t klen = strlen(key);

		snprintf(copy, sizeof(copy), "%s", c->query);
		for (char *p = copy; p && *p;) {
			char *amp = strchr(p, '&');

			if (amp)
				*amp = '\0';
			if (strncmp(p, key, klen) == 0 && (p[klen] == '=' || p[klen] == '\0'))
				return p[klen] == '=' ? p + klen + 1 : "";
			p = amp ? amp + 1 : NULL;
		}
	}
	return NULL;
}

struct MHD_Response *MHD_create_response_from_buffer(size_t size, void *buffer,
						     enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = calloc(1, sizeof(*r));

	(void)mode; /* always copied here */
	if (!r)
		return NULL;
	r->body = malloc(size + 1);
	if (!r->body) {
		free(r);
		return NULL;
	}
	memcpy(r->body, buffer, size);
	r->body[size] = '\0';
	r->len = size;
	return r;
}

enum MHD_Result MHD_add_response_header(struct MHD_Response *r, const char *h, const char *v)
{
	(void)r;
	if (!h || !v || strchr(v, '\n') || strchr(v, '\r'))
		fuzz_die("a header value holds a line break");
	return MHD_YES;
}

void MHD_destroy_response(struct MHD_Response *r)
{
	if (!r)
		return;
	free(r->body);
	free(r);
}

enum MHD_Result MHD_queue_response(struct MHD_Connection *c, unsigned int status,
				   struct MHD_Response *r)
{
	if (c->answered++)
		fuzz_die("two answers to one request");
	if (c->suspended)
		fuzz_die("an answer queued while suspended");
	c->status = status;
	snprintf(c->body, sizeof(c->body), "%s", r->body);
	return MHD_YES;
}

void MHD_suspend_connection(struct MHD_Connection *c)
{
	c->suspended = true;
}

void MHD_resume_connection(struct MHD_Connection *c)
{
	c->suspended = false;
}

char *MHD_basic_auth_get_username_password(struct MHD_Connection *c, char **password)
{
	(void)c;
	*password = NULL;
	return NULL; /* Basic is libmicrohttpd's decoding: not fuzzed here */
}

void MHD_free(void *p)
{
	free(p);
}

const union MHD_ConnectionInfo *MHD_get_connection_info(struct MHD_Connection *c,
							enum MHD_ConnectionInfoType t, ...)
{
	(void)c;
	(void)t;
	return NULL; /* no socket: the slow-loris list is not kept */
}

const union MHD_DaemonInfo *MHD_get_daemon_info(struct MHD_Daemon *d, enum MHD_DaemonInfoType t,
						...)
{
	(void)d;
	(void)t;
	return NULL;
}

/* Never reached (http_start()/http_stop() are not called), but linked. */
struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc,
				    void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
	(void)flags, (void)port, (void)apc, (void)apc_cls, (void)dh, (void)dh_cls;
	return NULL;
}

MHD_socket MHD_quiesce_daemon(struct MHD_Daemon *d)
{
	(void)d;
	return MHD_INVALID_SOCKET;
}

void MHD_stop_daemon(struct MHD_Daemon *d)
{
	(void)d;
}

/* --- the fake storage: the commit runs when the fuzzer says ------------- */

static storage_done_fn *fuzz_done;
static void *fuzz_done_arg;
static int fuzz_append_rc, fuzz_commit_rc;
static char *fuzz_stored;
static size_t fuzz_stored_len, fuzz_stored_points;

int storage_append(struct storage *s, char *text, size_t len, size_t points, storage_done_fn *done,
		   void *arg)
{
	(void)s;
	if (fuzz_append_rc != STORAGE_OK)
		return fuzz_append_rc;
	if (fuzz_done)
		fuzz_die("a second append for one request");
	fuzz_stored = text;
	fuzz_stored_len = len;
	fuzz_stored_points = points;
	fuzz_done = done;
	fuzz_done_arg = arg;
	return STORAGE_OK;
}

size_t storage_max_append_points(const struct storage *s)
{
	(void)s;
	return 1000;
}

void storage_get_stats(struct storage *s, struct storage_stats *out)
{
	(void)s;
	memset(out, 0, sizeof(*out));
}

const char *storage_strerror(int result)
{
	return result == STORAGE_OK ? "ok" : "fuzzed storage error";
}

/* --- the driver ----------------------------------------------------------- */

static struct http_server *fuzz_srv;

static struct http_server *fuzz_server(void)
{
	static struct http_server srv;

	if (fuzz_srv)
		return fuzz_srv;
	log_set_level(LOG_LEVEL_ERROR);
	srv.max_body = 65536;
	srv.max_points = 1000;
	srv.max_points_is_queue = true;
	srv.max_line = 4096;
	srv.max_tags = 8;
	srv.max_fields = 16;
	srv.max_inflight = srv.max_body + HTTP_BODY_GZ_COST;
	srv.timeout_ms = 3600 * 1000;
	srv.token = strdup("s3cret");
	srv.token_len = 6;
	pthread_mutex_init(&srv.conns_lock, NULL);
	if (!srv.token || ingest_create(NULL, HTTP_LOG, &srv.ingest) != 0)
		abort();
	fuzz_srv = &srv;
	return fuzz_srv;
}

/* The next '\n'-terminated piece of data[*pos..size) as a NUL-terminated
 * string (malloc'd into *store), or NULL at the end. */
static char *fuzz_line(const uint8_t *data, size_t size, size_t *pos)
{
	const uint8_t *nl;
	size_t n;
	char *s;

	if (*pos >= size)
		return NULL;
	nl = memchr(data + *pos, '\n', size - *pos);
	n = nl ? (size_t)(nl - (data + *pos)) : size - *pos;
	s = malloc(n + 1);
	if (!s)
		abort();
	memcpy(s, data + *pos, n);
	s[n] = '\0';
	*pos += n + (nl ? 1 : 0);
	return s;
}

static bool fuzz_status_known(unsigned s)
{
	static const unsigned known[] = {200, 201, 204, 400, 401, 403, 404,
					 405, 413, 415, 500, 503, 507};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (s == known[i])
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const methods[] = {"GET", "POST", "HEAD", "PUT"};
	struct http_server *srv = fuzz_server();
	struct MHD_Connection conn;
	char *lines[33] = {NULL};
	size_t n_lines = 0;
	void *con_cls = NULL;
	const char *method;
	char *url;
	char *query;
	size_t chunk, pos = 1, zero = 0;
	enum MHD_Result ret;
	uint8_t flags;

	if (size < 1)
		return 0;
	flags = data[0];
	method = methods[flags & 3];
	fuzz_append_rc = flags & 4 ? STORAGE_ERR_BUSY : STORAGE_OK;
	fuzz_commit_rc = flags & 8 ? STORAGE_ERR_FULL : STORAGE_OK;
	chunk = (size_t)1 << (flags >> 4);
	memset(&conn, 0, sizeof(conn));
	url = fuzz_line(data, size, &pos);
	if (!url)
		return 0;
	lines[n_lines++] = url;
	query = strchr(url, '?');
	conn.query = "";
	if (query) {
		*query = '\0';
		conn.query = query + 1;
	}
	for (;;) {
		char *h = fuzz_line(data, size, &pos);
		char *colon;

		if (!h)
			break;
		lines[n_lines++] = h;
		if (*h == '\0' || n_lines == sizeof(lines) / sizeof(lines[0]))
			break;
		colon = strchr(h, ':');
		if (!colon || conn.n_headers == sizeof(conn.headers) / sizeof(conn.headers[0]))
			continue;
		*colon = '\0';
		colon++;
		while (*colon == ' ')
			colon++;
		conn.headers[conn.n_headers++] = (struct fuzz_header){h, colon};
	}

	/* As libmicrohttpd: the head, the body in pieces, the end. */
	ret = http_on_request(srv, &conn, url, method, "HTTP/1.1", NULL, &zero, &con_cls);
	while (ret == MHD_YES && !conn.answered && con_cls && pos < size) {
		size_t n = size - pos < chunk ? size - pos : chunk;
		size_t left = n;

		ret = http_on_request(srv, &conn, url, method, "HTTP/1.1", (const char *)data + pos,
				      &left, &con_cls);
		if (left != 0)
			fuzz_die("a body piece was not consumed");
		pos += n;
	}
	/* The end of the body; then, if the request waits for its commit, the
	 * writer thread commits and libmicrohttpd calls the handler again once
	 * the connection is resumed (at once when the hand-off was refused). */
	for (int call = 0; ret == MHD_YES && !conn.answered && con_cls && call < 3; call++) {
		if (conn.suspended) {
			if (!fuzz_done)
				fuzz_die("suspended without a hand-off");
			fuzz_done(fuzz_done_arg, fuzz_commit_rc);
			fuzz_done = NULL;
			if (conn.suspended)
				fuzz_die("not resumed after the commit");
		}
		ret = http_on_request(srv, &conn, url, method, "HTTP/1.1", NULL, &zero, &con_cls);
	}
	if (conn.suspended)
		fuzz_die("left suspended");
	if (ret == MHD_YES && conn.answered != 1)
		fuzz_die("no answer");
	if (conn.answered && !fuzz_status_known(conn.status)) {
		fprintf(stderr, "status %u: %s\n", conn.status, conn.body);
		fuzz_die("unexpected status");
	}
	http_on_completed(srv, &conn, &con_cls, MHD_REQUEST_TERMINATED_COMPLETED_OK);
	if (atomic_load(&srv->inflight) != 0)
		fuzz_die("the body budget was not given back");

	/* What a 2xx stored is canonical line protocol. */
	if (fuzz_stored && conn.status / 100 == 2 && fuzz_commit_rc == STORAGE_OK) {
		struct lineproto_parse_options o = {.precision_ns = LINEPROTO_NS,
						    .unsigned_ok = 1,
						    .max_tags = srv->max_tags,
						    .max_fields = srv->max_fields};
		struct lineproto_report report;
		struct lineproto_buf again;

		lineproto_buf_init(&again, fuzz_stored_len * 2 + 64);
		if (lineproto_parse(fuzz_stored, fuzz_stored_len, &o, &again, &report) !=
			LINEPROTO_OK ||
		    report.bad_lines || report.points != fuzz_stored_points)
			fuzz_die("stored text does not re-parse as its points");
		lineproto_buf_free(&again);
	}
	free(fuzz_stored);
	fuzz_stored = NULL;
	fuzz_done = NULL;
	for (size_t i = 0; i < n_lines; i++)
		free(lines[i]);
	return 0;
}
