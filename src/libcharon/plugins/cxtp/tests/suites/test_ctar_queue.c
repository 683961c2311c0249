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

#include <threading/mutex.h>
#include <threading/condvar.h>
#include <collections/array.h>

#include "../../cxtp_ctar_queue.h"

/**
 * CTARs wait for processing in a bounded queue, in the order they arrived
 * per mobile node; a job blocked in processing (an IKE_SA checkout) holds
 * up no more than its lane and the queue's room.
 */

static cxtp_ctar_queue_t *queue;
static mutex_t *mutex;
static condvar_t *condvar;

/**
 * Sequence numbers of the CTARs processed, in order
 */
static array_t *processed;

/**
 * Whether the callback blocks until released, and whether one blocks
 */
static bool blocking;
static bool blocked;

CALLBACK(process, void,
	void *data, host_t *src, host_t *dst, cxtp_message_t *message)
{
	uint32_t seq = message->get_sequence(message);

	message->destroy(message);
	mutex->lock(mutex);
	array_insert(processed, ARRAY_TAIL, &seq);
	blocked = blocking;
	condvar->broadcast(condvar);
	while (blocking)
	{
		condvar->wait(condvar, mutex);
	}
	blocked = FALSE;
	condvar->broadcast(condvar);
	mutex->unlock(mutex);
}

/**
 * Queue a CTAR of a mobile node
 */
static bool enqueue(char *mn, uint32_t seq)
{
	cxtp_message_t *ctar;
	host_t *host, *src, *dst;
	bool queued;

	host = host_create_from_string(mn, 0);
	src = host_create_from_string("192.0.2.99", 0);
	dst = host_create_from_string("192.0.2.1", 0);
	ctar = cxtp_message_create(CXTP_CTAR, host);
	ck_assert(ctar->set_ar_address(ctar, dst));
	ctar->set_sequence(ctar, seq);
	queued = queue->enqueue(queue, src, dst, ctar);
	host->destroy(host);
	src->destroy(src);
	dst->destroy(dst);
	return queued;
}

/**
 * Wait until a number of CTARs were processed
 */
static void wait_processed(u_int count)
{
	mutex->lock(mutex);
	while (array_count(processed) < count)
	{
		ck_assert(!condvar->timed_wait(condvar, mutex, 5000));
	}
	mutex->unlock(mutex);
}

/**
 * Let the blocked callback return, and the ones after it
 */
static void release()
{
	mutex->lock(mutex);
	blocking = FALSE;
	condvar->broadcast(condvar);
	mutex->unlock(mutex);
}

START_SETUP(setup)
{
	lib->processor->set_threads(lib->processor, 4);
	mutex = mutex_create(MUTEX_TYPE_DEFAULT);
	condvar = condvar_create(CONDVAR_TYPE_DEFAULT);
	processed = array_create(sizeof(uint32_t), 0);
	blocking = blocked = FALSE;
	lib->settings->set_int(lib->settings, "%s.plugins.cxtp.ctar_queue", 8,
						   lib->ns);
	queue = cxtp_ctar_queue_create(process, NULL);
}
END_SETUP

START_TEARDOWN(teardown)
{
	release();
	queue->destroy(queue);
	lib->settings->set_str(lib->settings, "%s.plugins.cxtp.ctar_queue", NULL,
						   lib->ns);
	array_destroy(processed);
	condvar->destroy(condvar);
	mutex->destroy(mutex);
}
END_TEARDOWN

START_TEST(test_order)
{
	uint32_t seq;
	int i;

	for (i = 1; i <= 8; i++)
	{
		ck_assert(enqueue("192.0.2.10", i));
	}
	wait_processed(8);
	for (i = 0; i < 8; i++)
	{
		array_get(processed, i, &seq);
		ck_assert_int_eq(seq, i + 1);
	}
}
END_TEST

START_TEST(test_bounded)
{
	uint64_t done, dropped;
	int i;

	/* the first one blocks its job, as an IKE_SA checkout could */
	blocking = TRUE;
	ck_assert(enqueue("192.0.2.10", 1));
	mutex->lock(mutex);
	while (!blocked)
	{
		ck_assert(!condvar->timed_wait(condvar, mutex, 5000));
	}
	mutex->unlock(mutex);

	/* 8 wait behind it (its lane's job is blocked, another lane's would
	 * take one out), any further one is dropped, of any mobile node */
	for (i = 2; i <= 9; i++)
	{
		ck_assert(enqueue("192.0.2.10", i));
	}
	ck_assert(!enqueue("192.0.2.10", 10));
	ck_assert(!enqueue("192.0.2.12", 11));
	queue->get_counters(queue, &done, &dropped);
	ck_assert_int_eq(dropped, 2);

	/* the room comes back as they are processed */
	release();
	wait_processed(9);
	ck_assert(enqueue("192.0.2.12", 12));
	wait_processed(10);
	queue->get_counters(queue, &done, &dropped);
	ck_assert_int_eq(done, 10);
	ck_assert_int_eq(dropped, 2);
}
END_TEST

Suite *ctar_queue_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("cxtp CTAR queue");

	tc = tcase_create("queue");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_order);
	tcase_add_test(tc, test_bounded);
	suite_add_tcase(s, tc);

	return s;
}
