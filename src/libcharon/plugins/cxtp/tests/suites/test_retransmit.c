/*
 * Copyright (C) 2026 strongswan-cxtp developers
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 2 of the License, or (at your
 * option) any later version.  See <http://www.fsf.org/copyleft/gpl.txt>.
 *
 * This program is distributed in the hope that it will be useful, but
 * WITHOUT ANY WARRANTY; without even the implied warranty of MERCHANTABILITY
 * or FITNESS FOR A PARTICULAR PURPOSE.  See the GNU General Public License
 * for more details.
 */

#include <test_suite.h>

#include <limits.h>

#include <threading/mutex.h>
#include <threading/condvar.h>
#include <collections/array.h>

#include "../../cxtp_retransmit.h"

/**
 * Upper bound when waiting for something that must happen
 */
#define WAIT_MS 5000

/**
 * What a packet reported: a transmission or giving up
 */
typedef struct {
	/** tag of the packet */
	int tag;
	/** retransmission number, or retransmissions done when giving up */
	u_int n;
	/** ms since the start of the test */
	double ms;
} report_t;

/**
 * A packet of the tests
 */
typedef struct {
	/** implements cxtp_retransmit_packet_t */
	cxtp_retransmit_packet_t packet;
	/** tag to tell packets apart */
	int tag;
	/** whether the first transmission fails */
	bool fail_first;
	/** if set, give_up() adds a packet with tag + 100 and no tries to it */
	cxtp_retransmit_t *readd;
} test_packet_t;

/**
 * Object under test
 */
static cxtp_retransmit_t *retransmit;

/**
 * Reports, protected by mutex
 */
static mutex_t *mutex;
static condvar_t *condvar;
static array_t *sends;
static array_t *give_ups;
static int destroyed;

/**
 * Start of the test
 */
static timeval_t start;

/**
 * ms since the start of the test
 */
static double elapsed()
{
	timeval_t now, diff;

	time_monotonic(&now);
	timersub(&now, &start, &diff);
	return diff.tv_sec * 1000.0 + diff.tv_usec / 1000.0;
}

/**
 * Record a report and wake up waiters
 */
static void report(array_t *array, int tag, u_int n)
{
	report_t *r;

	INIT(r,
		.tag = tag,
		.n = n,
		.ms = elapsed(),
	);
	mutex->lock(mutex);
	array_insert(array, ARRAY_TAIL, r);
	condvar->broadcast(condvar);
	mutex->unlock(mutex);
}

static test_packet_t *create_packet(int tag);

METHOD(cxtp_retransmit_packet_t, packet_send, bool,
	test_packet_t *this, u_int retransmission)
{
	if (!retransmission && this->fail_first)
	{
		return FALSE;
	}
	report(sends, this->tag, retransmission);
	return TRUE;
}

METHOD(cxtp_retransmit_packet_t, packet_give_up, void,
	test_packet_t *this, u_int retransmissions)
{
	cxtp_retransmit_backoff_t backoff = {
		.timeout = 10,
		.base = 1.0,
	};

	report(give_ups, this->tag, retransmissions);
	if (this->readd)
	{
		ck_assert(this->readd->add(this->readd, this->tag + 100,
								   &create_packet(this->tag + 100)->packet,
								   &backoff, NULL));
	}
}

METHOD(cxtp_retransmit_packet_t, packet_destroy, void,
	test_packet_t *this)
{
	mutex->lock(mutex);
	destroyed++;
	condvar->broadcast(condvar);
	mutex->unlock(mutex);
	free(this);
}

static test_packet_t *create_packet(int tag)
{
	test_packet_t *this;

	INIT(this,
		.packet = {
			.send = _packet_send,
			.give_up = _packet_give_up,
			.destroy = _packet_destroy,
		},
		.tag = tag,
	);
	return this;
}

/**
 * Number of reports of a packet in an array, with the mutex held
 */
static u_int count_tag_locked(array_t *array, int tag)
{
	report_t *r;
	u_int i, count = 0;

	for (i = 0; i < array_count(array); i++)
	{
		array_get(array, i, &r);
		if (r->tag == tag)
		{
			count++;
		}
	}
	return count;
}

/**
 * Number of reports of a packet in an array
 */
static u_int count_tag(array_t *array, int tag)
{
	u_int count;

	mutex->lock(mutex);
	count = count_tag_locked(array, tag);
	mutex->unlock(mutex);
	return count;
}

/**
 * Wait until a packet has count reports in an array, or the timeout expires;
 * one retransmitted without end may have more by the time we look
 */
static u_int wait_tag(array_t *array, int tag, u_int count, u_int ms)
{
	timeval_t until;
	u_int n;

	time_monotonic(&until);
	timeval_add_ms(&until, ms);
	mutex->lock(mutex);
	while (count_tag_locked(array, tag) < count)
	{
		if (condvar->timed_wait_abs(condvar, mutex, until))
		{
			break;
		}
	}
	n = count_tag_locked(array, tag);
	mutex->unlock(mutex);
	return n;
}

/**
 * Wait until count packets were destroyed, or the timeout expires
 */
static int wait_destroyed(int count, u_int ms)
{
	timeval_t until;
	int n;

	time_monotonic(&until);
	timeval_add_ms(&until, ms);
	mutex->lock(mutex);
	while (destroyed < count)
	{
		if (condvar->timed_wait_abs(condvar, mutex, until))
		{
			break;
		}
	}
	n = destroyed;
	mutex->unlock(mutex);
	return n;
}

/**
 * Get the i-th report of a packet in an array
 */
static report_t get_tag(array_t *array, int tag, u_int i)
{
	report_t *r, found = {};
	u_int j;

	mutex->lock(mutex);
	for (j = 0; j < array_count(array); j++)
	{
		array_get(array, j, &r);
		if (r->tag == tag && i-- == 0)
		{
			found = *r;
			break;
		}
	}
	mutex->unlock(mutex);
	ck_assert_int_eq(found.tag, tag);
	return found;
}

/**
 * Add a packet with the given tag as identifier
 */
static void add(int tag, double timeout, double base, u_int tries,
				uint64_t limit)
{
	cxtp_retransmit_backoff_t backoff = {
		.timeout = timeout,
		.base = base,
		.tries = tries,
		.limit = limit,
	};

	ck_assert(retransmit->add(retransmit, tag, &create_packet(tag)->packet,
							  &backoff, NULL));
}

/**
 * Wait for a packet that gives up after three short intervals, longer than
 * the intervals of the packets it follows, so their timers have run by then
 */
static void wait_sentinel(cxtp_retransmit_t *on)
{
	cxtp_retransmit_backoff_t backoff = {
		.timeout = 10,
		.base = 1.0,
		.tries = 2,
	};

	ck_assert(on->add(on, 999, &create_packet(999)->packet, &backoff, NULL));
	ck_assert_int_eq(wait_tag(give_ups, 999, 1, WAIT_MS), 1);
	ck_assert_int_eq(count_tag(sends, 999), 3);
}

START_SETUP(setup)
{
	lib->processor->set_threads(lib->processor, 4);
	mutex = mutex_create(MUTEX_TYPE_DEFAULT);
	condvar = condvar_create(CONDVAR_TYPE_DEFAULT);
	sends = array_create(0, 0);
	give_ups = array_create(0, 0);
	destroyed = 0;
	retransmit = cxtp_retransmit_create();
	time_monotonic(&start);
}
END_SETUP

START_TEARDOWN(teardown)
{
	report_t *r;

	DESTROY_IF(retransmit);
	while (array_remove(sends, ARRAY_HEAD, &r))
	{
		free(r);
	}
	array_destroy(sends);
	while (array_remove(give_ups, ARRAY_HEAD, &r))
	{
		free(r);
	}
	array_destroy(give_ups);
	lib->processor->set_threads(lib->processor, 0);
	lib->processor->cancel(lib->processor);
	condvar->destroy(condvar);
	mutex->destroy(mutex);
}
END_TEARDOWN

START_TEST(test_schedule)
{
	report_t r;
	double expected = 0;
	int i;

	/* sent at 0, 20, 60 and 140 ms, given up at 300 ms */
	add(1, 20, 2.0, 3, 0);
	ck_assert_int_eq(wait_tag(give_ups, 1, 1, WAIT_MS), 1);
	ck_assert_int_eq(count_tag(sends, 1), 4);
	for (i = 0; i < 4; i++)
	{
		r = get_tag(sends, 1, i);
		ck_assert_int_eq(r.n, i);
		ck_assert_msg(r.ms >= expected && r.ms < expected + 1000,
					  "transmission %d after %.1f ms, expected %.1f ms", i,
					  r.ms, expected);
		expected += 20 << i;
	}
	r = get_tag(give_ups, 1, 0);
	ck_assert_int_eq(r.n, 3);
	ck_assert_msg(r.ms >= 300 && r.ms < 300 + 1000,
				  "given up after %.1f ms, expected 300 ms", r.ms);
	/* gone, and destroyed once given up */
	ck_assert(!retransmit->cancel(retransmit, 1, NULL));
	ck_assert_int_eq(wait_destroyed(1, WAIT_MS), 1);

	wait_sentinel(retransmit);
	ck_assert_int_eq(count_tag(sends, 1), 4);
	ck_assert_int_eq(count_tag(give_ups, 1), 1);
}
END_TEST

START_TEST(test_zero_tries)
{
	report_t r;

	add(1, 20, 2.0, 0, 0);
	ck_assert_int_eq(wait_tag(give_ups, 1, 1, WAIT_MS), 1);
	ck_assert_int_eq(count_tag(sends, 1), 1);
	r = get_tag(give_ups, 1, 0);
	ck_assert_int_eq(r.n, 0);
	ck_assert(r.ms >= 20);
}
END_TEST

START_TEST(test_limit)
{
	report_t r;

	/* sent at 0, 50 and 150 ms; the next would be at 350 ms, past the
	 * limit, where it gives up instead */
	add(1, 50, 2.0, UINT_MAX, 200);
	ck_assert_int_eq(wait_tag(give_ups, 1, 1, WAIT_MS), 1);
	ck_assert_int_eq(count_tag(sends, 1), 3);
	r = get_tag(sends, 1, 2);
	ck_assert_int_eq(r.n, 2);
	ck_assert(r.ms >= 150);
	r = get_tag(give_ups, 1, 0);
	ck_assert_int_eq(r.n, 2);
	ck_assert_msg(r.ms >= 200 && r.ms < 350,
				  "given up after %.1f ms, expected 200 ms", r.ms);
}
END_TEST

START_TEST(test_limit_before_tries)
{
	report_t r;

	/* the limit ends it even if the first retransmission would be later */
	add(1, 500, 2.0, 3, 50);
	ck_assert_int_eq(wait_tag(give_ups, 1, 1, WAIT_MS), 1);
	ck_assert_int_eq(count_tag(sends, 1), 1);
	r = get_tag(give_ups, 1, 0);
	ck_assert_int_eq(r.n, 0);
	ck_assert_msg(r.ms >= 50 && r.ms < 500,
				  "given up after %.1f ms, expected 50 ms", r.ms);
}
END_TEST

START_TEST(test_cancel)
{
	cxtp_retransmit_packet_t *packet;
	u_int retransmissions, sent;

	add(1, 10, 1.0, UINT_MAX, 0);
	ck_assert(wait_tag(sends, 1, 3, WAIT_MS) >= 3);
	packet = retransmit->cancel(retransmit, 1, &retransmissions);
	ck_assert(packet);
	ck_assert(((test_packet_t*)packet)->tag == 1);
	sent = count_tag(sends, 1);
	ck_assert_int_eq(retransmissions, sent - 1);
	/* the caller owns it now */
	ck_assert_int_eq(wait_destroyed(0, WAIT_MS), 0);
	packet->destroy(packet);
	ck_assert(!retransmit->cancel(retransmit, 1, NULL));

	wait_sentinel(retransmit);
	ck_assert_int_eq(count_tag(sends, 1), sent);
	ck_assert_int_eq(count_tag(give_ups, 1), 0);
}
END_TEST

START_TEST(test_replace)
{
	cxtp_retransmit_backoff_t backoff = {
		.timeout = 20,
		.base = 2.0,
		.tries = 1,
	};
	cxtp_retransmit_packet_t *replaced;

	ck_assert(retransmit->add(retransmit, 1, &create_packet(1)->packet,
							  &backoff, &replaced));
	ck_assert(!replaced);
	ck_assert(retransmit->add(retransmit, 1, &create_packet(2)->packet,
							  &backoff, &replaced));
	ck_assert(replaced);
	ck_assert_int_eq(((test_packet_t*)replaced)->tag, 1);
	replaced->destroy(replaced);

	/* the replacement on its own schedule, the first one's timer does
	 * nothing */
	ck_assert_int_eq(wait_tag(give_ups, 2, 1, WAIT_MS), 1);
	ck_assert_int_eq(count_tag(sends, 2), 2);
	ck_assert_int_eq(get_tag(give_ups, 2, 0).n, 1);
	wait_sentinel(retransmit);
	ck_assert_int_eq(count_tag(sends, 1), 1);
	ck_assert_int_eq(count_tag(give_ups, 1), 0);
	ck_assert_int_eq(count_tag(give_ups, 2), 1);
}
END_TEST

START_TEST(test_first_fails)
{
	cxtp_retransmit_backoff_t backoff = {
		.timeout = 20,
		.base = 2.0,
		.tries = 1,
	};
	cxtp_retransmit_packet_t *replaced = (void*)1;
	test_packet_t *packet;

	add(1, 20, 2.0, 1, 0);
	packet = create_packet(2);
	packet->fail_first = TRUE;
	ck_assert(!retransmit->add(retransmit, 1, &packet->packet, &backoff,
							   &replaced));
	ck_assert(!replaced);
	ck_assert_int_eq(wait_destroyed(1, WAIT_MS), 1);

	/* the pending one with the same identifier goes on */
	ck_assert_int_eq(wait_tag(give_ups, 1, 1, WAIT_MS), 1);
	ck_assert_int_eq(count_tag(sends, 1), 2);
	ck_assert_int_eq(count_tag(sends, 2), 0);
}
END_TEST

START_TEST(test_give_up_adds)
{
	cxtp_retransmit_backoff_t backoff = {
		.timeout = 10,
		.base = 1.0,
	};
	test_packet_t *packet;

	/* the give_up() callback may add, without deadlock */
	packet = create_packet(1);
	packet->readd = retransmit;
	ck_assert(retransmit->add(retransmit, 1, &packet->packet, &backoff,
							  NULL));
	ck_assert_int_eq(wait_tag(give_ups, 101, 1, WAIT_MS), 1);
	ck_assert_int_eq(count_tag(sends, 101), 1);
	ck_assert_int_eq(count_tag(give_ups, 1), 1);
}
END_TEST

START_TEST(test_flush)
{
	add(1, 10, 1.0, UINT_MAX, 0);
	add(2, 10000, 2.0, 3, 0);
	ck_assert(wait_tag(sends, 1, 2, WAIT_MS) >= 2);
	retransmit->flush(retransmit);
	ck_assert_int_eq(wait_destroyed(2, WAIT_MS), 2);
	ck_assert(!retransmit->cancel(retransmit, 1, NULL));
	ck_assert(!retransmit->cancel(retransmit, 2, NULL));
	/* still usable */
	add(3, 10, 2.0, 0, 0);
	ck_assert_int_eq(wait_tag(give_ups, 3, 1, WAIT_MS), 1);
	ck_assert_int_eq(count_tag(give_ups, 1), 0);
	ck_assert_int_eq(count_tag(give_ups, 2), 0);
}
END_TEST

START_TEST(test_destroy_pending)
{
	cxtp_retransmit_t *sentinel;
	u_int sent;
	int i;

	/* timers far in the future, and one retransmitting all the time */
	for (i = 1; i <= 10; i++)
	{
		add(i, 10000, 2.0, 3, 0);
	}
	add(11, 10, 1.0, UINT_MAX, 0);
	ck_assert(wait_tag(sends, 11, 3, WAIT_MS) >= 3);
	retransmit->destroy(retransmit);
	retransmit = NULL;
	sent = count_tag(sends, 11);
	ck_assert_int_eq(wait_destroyed(11, WAIT_MS), 11);

	/* the timers scheduled before run and do nothing */
	sentinel = cxtp_retransmit_create();
	wait_sentinel(sentinel);
	sentinel->destroy(sentinel);
	ck_assert_int_eq(count_tag(sends, 11), sent);
	ck_assert_int_eq(count_tag(give_ups, 999), 1);
	ck_assert_int_eq(count_tag(give_ups, 11), 0);
}
END_TEST

Suite *retransmit_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("cxtp retransmit");

	tc = tcase_create("schedule");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_schedule);
	tcase_add_test(tc, test_zero_tries);
	tcase_add_test(tc, test_limit);
	tcase_add_test(tc, test_limit_before_tries);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("pending");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_replace);
	tcase_add_test(tc, test_first_fails);
	tcase_add_test(tc, test_give_up_adds);
	tcase_add_test(tc, test_flush);
	tcase_add_test(tc, test_destroy_pending);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	return s;
}
