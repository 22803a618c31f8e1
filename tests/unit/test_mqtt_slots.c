/* test_mqtt_slots.c -- the acknowledgement queue of mqtt.c: PUBACKs leave in receipt order
 * whatever order the commits answer in; a failed commit stops them; a reset forgets a
 * connection's slots and ignores its late answers. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include "mqtt_internal.h"

static struct mqtt_broker *broker(void)
{
	struct mqtt_broker *b = calloc(1, sizeof(*b));

	assert_non_null(b);
	pthread_mutex_init(&b->lock, NULL);
	b->wake_fd = eventfd(0, EFD_NONBLOCK);
	assert_true(b->wake_fd >= 0);
	return b;
}

static void broker_free(struct mqtt_broker *b)
{
	close(b->wake_fd);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

static void test_in_order(void **state)
{
	(void)state;
	struct mqtt_broker *b = broker();
	uint16_t ids[8];
	uint8_t acks[8];
	uint64_t s1 = mqtt_slot_take(b, 11, 1), s2 = mqtt_slot_take(b, 12, 2),
		 s3 = mqtt_slot_take(b, 13, 1);

	assert_int_equal(mqtt_slots_waiting(b), 3);
	/* the third and second commit first: nothing may leave before the first */
	mqtt_slot_answer(b, s3, true);
	mqtt_slot_answer(b, s2, true);
	assert_int_equal(mqtt_slots_due(b, ids, acks, 8), 0);
	mqtt_slot_answer(b, s1, true);
	assert_int_equal(mqtt_slots_due(b, ids, acks, 8), 3);
	assert_int_equal(ids[0], 11);
	assert_int_equal(ids[1], 12);
	assert_int_equal(ids[2], 13);
	assert_int_equal(acks[0], MQTT_PUBACK);
	assert_int_equal(acks[1], MQTT_PUBREC);
	assert_int_equal(mqtt_slots_waiting(b), 0);
	/* at most `max` at a time */
	for (uint16_t i = 1; i <= 5; i++)
		mqtt_slot_answer(b, mqtt_slot_take(b, i, 1), true);
	assert_int_equal(mqtt_slots_due(b, ids, acks, 2), 2);
	assert_int_equal(mqtt_slots_due(b, ids, acks, 8), 3);
	assert_int_equal(ids[2], 5);
	broker_free(b);
}

static void test_failed_and_reset(void **state)
{
	(void)state;
	struct mqtt_broker *b = broker();
	uint16_t ids[4];
	uint8_t acks[4];
	uint64_t s1 = mqtt_slot_take(b, 1, 1), s2 = mqtt_slot_take(b, 2, 1);

	mqtt_slot_answer(b, s1, true);
	mqtt_slot_answer(b, s2, false);
	assert_int_equal(mqtt_slots_due(b, ids, acks, 4), 1);  /* the first still leaves */
	assert_int_equal(mqtt_slots_due(b, ids, acks, 4), -1); /* then the failed one stops */
	mqtt_slots_reset(b);
	assert_int_equal(mqtt_slots_waiting(b), 0);
	/* a late answer of the old connection changes nothing */
	uint64_t s3 = mqtt_slot_take(b, 3, 1);
	mqtt_slot_answer(b, s2, true);
	assert_int_equal(mqtt_slots_due(b, ids, acks, 4), 0);
	mqtt_slot_answer(b, s3, true);
	assert_int_equal(mqtt_slots_due(b, ids, acks, 4), 1);
	assert_int_equal(ids[0], 3);
	broker_free(b);
}

static void test_ring_full(void **state)
{
	(void)state;
	struct mqtt_broker *b = broker();

	for (unsigned i = 0; i < MQTT_RING; i++)
		assert_true(mqtt_slot_take(b, (uint16_t)(i % 65535 + 1), 1) != UINT64_MAX);
	assert_true(mqtt_slot_take(b, 9, 1) == UINT64_MAX);
	broker_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_in_order),
	    cmocka_unit_test(test_failed_and_reset),
	    cmocka_unit_test(test_ring_full),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
