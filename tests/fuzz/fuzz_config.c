/* fuzz_config.c -- libFuzzer: any configuration file -> config_load_file(); no crash or leak. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "tags_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char fuzz_path[] = "/tmp/iot-edge-fuzz-config.XXXXXX";
static int fuzz_fd = -1;
static FILE *fuzz_null;

static void fuzz_cleanup(void)
{
	unlink(fuzz_path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_fd = mkstemp(fuzz_path);
	fuzz_null = fopen("/dev/null", "w");
	if (fuzz_fd < 0 || !fuzz_null) {
		perror("fuzz_config: setup");
		abort();
	}
	atexit(fuzz_cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct edge_config cfg;
	int problems;

	if (ftruncate(fuzz_fd, 0) != 0 || pwrite(fuzz_fd, data, size, 0) != (ssize_t)size) {
		perror("fuzz_config: write");
		abort();
	}
	config_init(&cfg);
	problems = config_load_file(&cfg, fuzz_path, fuzz_null);
	if (problems < 0) {
		fprintf(stderr, "invariant broken: negative problem count\n");
		abort();
	}
	problems += uplink_config_check(&cfg, fuzz_null); /* the [uplink.NAME] checks */
	/* What the daemon does next: the name and [tags] checked together. */
	if (problems == 0 && tags_config_finish(&cfg, fuzz_null) == 0) {
		char *tags = tags_config_collect(&cfg);
		free(tags);
	}
	config_print(&cfg, fuzz_null);
	config_cleanup(&cfg);
	return 0;
}
