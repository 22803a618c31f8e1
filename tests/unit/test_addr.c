/* test_addr.c -- source CIDR lists (http.allow, udp.allow): parsing, matching, loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

/* Whether `list` allows the numeric address `ip` (IPv4 or IPv6). */
static bool allows(const char *list, const char *ip)
{
	struct addr_allow a;
	struct sockaddr_storage ss;
	char why[192];

	memset(&ss, 0, sizeof(ss));
	assert_int_equal(addr_allow_parse(list, &a, why, sizeof(why)), 0);
	if (inet_pton(AF_INET, ip, &((struct sockaddr_in *)&ss)->sin_addr) == 1)
		ss.ss_family = AF_INET;
	else {
		assert_int_equal(inet_pton(AF_INET6, ip, &((struct sockaddr_in6 *)&ss)->sin6_addr),
				 1);
		ss.ss_family = AF_INET6;
	}
	return addr_allow_match(&a, (struct sockaddr *)&ss);
}

static void test_allow_match(void **state)
{
	(void)state;
	/* empty: any source */
	assert_true(allows("", "192.0.2.1"));
	assert_true(allows("  ", "2001:db8::1"));
	const char *list = "127.0.0.0/8, ::1/128, 192.168.1.0/24 ,10.1.2.3";
	assert_true(allows(list, "127.0.0.1"));
	assert_true(allows(list, "127.255.0.9"));
	assert_true(allows(list, "::1"));
	assert_true(allows(list, "192.168.1.200"));
	assert_true(allows(list, "10.1.2.3"));
	assert_false(allows(list, "10.1.2.4"));
	assert_false(allows(list, "192.168.2.1"));
	assert_false(allows(list, "128.0.0.1"));
	assert_false(allows(list, "::2"));
	/* an IPv4-mapped IPv6 source (a dual-stack socket) is its IPv4 address */
	assert_true(allows(list, "::ffff:192.168.1.7"));
	assert_false(allows(list, "::ffff:192.168.3.7"));
	/* prefixes that do not end on a byte; /0 is everything of a family */
	assert_true(allows("192.168.0.0/23", "192.168.1.255"));
	assert_false(allows("192.168.0.0/23", "192.168.2.0"));
	assert_true(allows("fe80::/10", "febf::1"));
	assert_false(allows("fe80::/10", "fec0::1"));
	assert_true(allows("0.0.0.0/0", "203.0.113.9"));
	assert_false(allows("0.0.0.0/0", "2001:db8::1"));
}

static void test_allow_parse_errors(void **state)
{
	struct addr_allow a;
	char why[192];
	const char *bad[] = {"127.0.0.1/33", "::1/129",		 "localhost",
			     "10.0.0.0/x",   "10.0.0.0/",	 "1.2.3.4,",
			     ",1.2.3.4",     "1.2.3.4,,5.6.7.8", "1.2.3.4 5.6.7.8"};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(addr_allow_parse(bad[i], &a, why, sizeof(why)), -1);
		assert_int_equal(a.n, 0);
		assert_non_null(strstr(why, "expected a comma list"));
	}
	assert_int_equal(addr_allow_parse("127.0.0.1/33", &a, why, sizeof(why)), -1);
	assert_string_equal(why, "\"127.0.0.1/33\": an IPv4 prefix length is 0..32 (expected a "
				 "comma list like 127.0.0.0/8, ::1/128, 192.168.1.0/24)");
}

static void test_loopback(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len;
	const char *why;
	const struct {
		const char *listen;
		bool loopback;
	} cases[] = {{"127.0.0.1:8089", true}, {"127.3.0.1:1", true},	{"localhost:1", true},
		     {"[::1]:8089", true},     {"0.0.0.0:8089", false}, {":8089", false},
		     {"[::]:8089", false},     {"192.168.1.2:1", false}};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(addr_parse_listen(cases[i].listen, &ss, &len, &why), 0);
		assert_int_equal(addr_is_loopback(&ss), cases[i].loopback);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_allow_match),
	    cmocka_unit_test(test_allow_parse_errors),
	    cmocka_unit_test(test_loopback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
