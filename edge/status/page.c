/* page.c -- the status room's pages on the HTTP server: GET /status (JSON), GET /metrics
 * (Prometheus), GET /readings (JSON) and the status page at / (status_page.html, embedded at
 * build time). */
#include "status.h"

#include <cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "metrics.h"
#include "readings.h"

/* The page, generated into the build tree by embed_file.cmake from
 * status_page.html: its bytes, their number and the CSP hashes of its inline
 * <script> and <style>. */
extern const unsigned char status_page_html[];
extern const size_t status_page_html_len;
extern const char status_page_html_script_hash[];
extern const char status_page_html_style_hash[];

static char page_csp[400];
static pthread_once_t page_csp_once = PTHREAD_ONCE_INIT;

/* Only the page's own inline script and style (by their hashes), fetches to
 * this server, the empty data: icon; nothing else, no framing, no forms. */
static void page_csp_build(void)
{
	int n = snprintf(page_csp, sizeof(page_csp),
			 "default-src 'none'; script-src %s; style-src %s; connect-src 'self'; "
			 "img-src data:; base-uri 'none'; form-action 'none'; "
			 "frame-ancestors 'none'",
			 status_page_html_script_hash, status_page_html_style_hash);

	if (n < 0 || (size_t)n >= sizeof(page_csp))
		page_csp[0] = '\0'; /* the browser then blocks the script: visible at once */
}

static void page_html(struct http_page *out)
{
	pthread_once(&page_csp_once, page_csp_build);
	*out = (struct http_page){
	    .content_type = "text/html; charset=utf-8",
	    .body = (const char *)status_page_html,
	    .len = status_page_html_len,
	    .headers = {"Cache-Control", "no-cache", "Content-Security-Policy", page_csp,
			"X-Content-Type-Options", "nosniff", "Referrer-Policy", "no-referrer"},
	};
}

static void page_release_cjson(void *text)
{
	cJSON_free(text);
}

static void page_release(void *text)
{
	free(text);
}

/* GET /status and /metrics need no token, like /health: they hold no secrets.
 * Both render one snapshot, taken here. */
static enum http_page_result page_figures(struct status_sources *src, struct http_server *srv,
					  bool metrics, struct http_page *out)
{
	struct status_snapshot *snap = status_snapshot_take(src, srv);
	cJSON *root = NULL;
	char *text = NULL;

	if (snap && metrics) {
		text = metrics_render(snap);
	} else if (snap) {
		root = status_document(snap);
		text = root ? cJSON_Print(root) : NULL;
	}
	cJSON_Delete(root);
	status_snapshot_free(snap);
	if (!text)
		return HTTP_PAGE_ENOMEM;
	*out = (struct http_page){
	    .content_type = metrics ? METRICS_CONTENT_TYPE : "application/json",
	    .body = text,
	    .len = strlen(text),
	    .release = metrics ? page_release : page_release_cjson,
	};
	return HTTP_PAGE_OK;
}

/* GET /readings: the recent readings window (no token, like /status). */
static enum http_page_result page_readings(struct status_sources *src, struct http_page *out)
{
	cJSON *root = NULL;
	char *text;

	if (src->readings)
		root = readings_json(src->readings, clock_mono_ms());
	else
		root = cJSON_Parse("{\"series\":[]}");
	text = root ? cJSON_PrintUnformatted(root) : NULL;
	cJSON_Delete(root);
	if (!text)
		return HTTP_PAGE_ENOMEM;
	*out = (struct http_page){
	    .content_type = "application/json",
	    .body = text,
	    .len = strlen(text),
	    .release = page_release_cjson,
	};
	return HTTP_PAGE_OK;
}

enum http_page_result status_page(void *arg, struct http_server *srv, const char *url, bool fill,
				  struct http_page *out)
{
	bool html = strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0;
	bool status = strcmp(url, "/status") == 0, metrics = strcmp(url, "/metrics") == 0;
	bool readings = strcmp(url, "/readings") == 0;

	if (!html && !status && !metrics && !readings)
		return HTTP_PAGE_NONE;
	if (!fill)
		return HTTP_PAGE_OK;
	if (html) {
		page_html(out);
		return HTTP_PAGE_OK;
	}
	if (readings)
		return page_readings(arg, out);
	return page_figures(arg, srv, metrics, out);
}
