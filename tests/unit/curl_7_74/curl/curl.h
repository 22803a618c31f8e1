/* curl.h -- the system's <curl/curl.h> as code built against curl 7.74 (Raspberry Pi OS
 * bullseye) sees it: LIBCURL_VERSION_NUM 7.74.0, no CURLOPT_PROTOCOLS_STR (new in 7.85.0), and
 * CURLOPT_PROTOCOLS not yet deprecated. For test_status_cli_curl_7_74 only. */
#ifndef IOT_EDGE_TEST_CURL_7_74_H
#define IOT_EDGE_TEST_CURL_7_74_H

#define CURL_DISABLE_DEPRECATION /* 7.74 did not deprecate CURLOPT_PROTOCOLS */
#include_next <curl/curl.h>

#undef LIBCURL_VERSION_NUM
#define LIBCURL_VERSION_NUM 0x074a00
/* A use of it fails to compile, as with 7.74's headers (curl's own macros
 * that name it, defined above, still expand). */
#pragma GCC poison CURLOPT_PROTOCOLS_STR

#endif
