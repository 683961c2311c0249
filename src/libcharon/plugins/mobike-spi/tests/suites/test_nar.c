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

#include <daemon.h>
#include <tests/utils/exchange_test_helper.h>
#include <tests/utils/exchange_test_asserts.h>

#include "../../mobike_spi_nar.h"
#include "../../mobike_spi_notify.h"
#include "../../mobike_spi_update.h"

/**
 * The gateway's side (b) and the mobile node's (a), sharing settings
 */
static mobike_spi_settings_t *settings;
static mobike_spi_update_listener_t *update;
static mobike_spi_nar_t *nar;

START_SETUP(setup)
{
	lib->settings->set_str(lib->settings, "%s.plugins.mobike-spi.announce",
						   "yes", lib->ns);
	lib->settings->set_str(lib->settings,
						   "%s.plugins.mobike-spi.max_round_trips", "3",
						   lib->ns);
	/* the MOBIKE update at once, each test runs its exchanges itself */
	lib->settings->set_str(lib->settings,
						   "%s.plugins.mobike-spi.update_delay", "0", lib->ns);
	/* room for fresh SPIs apart from the mock kernel's */
	lib->settings->set_str(lib->settings, "%s.spi_min", "0x1000", lib->ns);
	lib->settings->set_str(lib->settings, "%s.spi_max", "0x1003", lib->ns);
	settings = mobike_spi_settings_create();
	update = mobike_spi_update_listener_create(settings);
	nar = mobike_spi_nar_create(settings);
	charon->bus->add_listener(charon->bus, &update->listener);
	charon->bus->add_listener(charon->bus, &nar->listener);
}
END_SETUP

START_TEARDOWN(teardown)
{
	charon->bus->remove_listener(charon->bus, &nar->listener);
	charon->bus->remove_listener(charon->bus, &update->listener);
	nar->destroy(nar);
	update->destroy(update);
	settings->destroy(settings);
}
END_TEARDOWN

/* the mock kernel hands out SPI 1 to a (initiator), 2 to b */
#define SPI_A 1
#define SPI_B 2

/**
 * The only CHILD_SA of an IKE_SA
 */
static child_sa_t *child(ike_sa_t *ike_sa)
{
	enumerator_t *enumerator;
	child_sa_t *child_sa = NULL;

	enumerator = ike_sa->create_child_sa_enumerator(ike_sa);
	ck_assert(enumerator->enumerate(enumerator, &child_sa));
	enumerator->destroy(enumerator);
	return child_sa;
}

/**
 * b activates a context whose inbound SPI collides (with b's own CHILD_SA,
 * which is what the SAD holds): the hook picks a fresh SPI, b's CHILD_SA is
 * installed under it (as cxtp would), then the activation starts round 1
 */
static uint32_t activate(ike_sa_t *a, ike_sa_t *b)
{
	child_sa_t *child_sa;
	uint32_t spi;

	a->enable_extension(a, EXT_MOBIKE);
	b->enable_extension(b, EXT_MOBIKE);
	charon->bus->set_sa(charon->bus, b);
	spi = nar->hook.get_inbound_spi(&nar->hook, b, PROTO_ESP, SPI_B, SPI_A);
	ck_assert(spi != SPI_B);
	ck_assert(ntohl(spi) >= 0x1000 && ntohl(spi) <= 0x1003);
	child_sa = child(b);
	ck_assert(child_sa->update_spi(child_sa, TRUE, spi) == SUCCESS);
	nar->hook.activated(&nar->hook, b);
	charon->bus->set_sa(charon->bus, NULL);
	return spi;
}

/**
 * One round trip: the request with UPDATE_SPI to a, the answer to b
 */
static void round_trip(ike_sa_t *a, ike_sa_t *b, bool update_spi)
{
	/* INFORMATIONAL { N(UPD_SA_ADDR), N(COOKIE2), N(NATD_*), N(UPDATE_SPI) } */
	assert_notify(IN, UPDATE_SA_ADDRESSES);
	if (update_spi)
	{
		assert_notify(IN, MOBIKE_SPI_UPDATE_SPI);
	}
	else
	{
		assert_no_notify(IN, MOBIKE_SPI_UPDATE_SPI);
	}
	exchange_test_helper->process_message(exchange_test_helper, a, NULL);
	/* <-- INFORMATIONAL { N(COOKIE2), N(NATD_*), [N(UPDATE_SPI)] } */
	exchange_test_helper->process_message(exchange_test_helper, b, NULL);
}

START_TEST(test_resolved)
{
	ike_sa_t *a, *b;
	uint32_t spi;

	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, NULL);
	spi = activate(a, b);
	round_trip(a, b, TRUE);
	/* a sends under b's new inbound SPI, nothing else is asked */
	ck_assert_int_eq(child(a)->get_spi(child(a), FALSE), spi);
	ck_assert_int_eq(child(b)->get_spi(child(b), TRUE), spi);
	ck_assert(exchange_test_helper->sender->dequeue(
									exchange_test_helper->sender) == NULL);
	ck_assert(b->get_state(b) == IKE_ESTABLISHED);
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
}
END_TEST

START_TEST(test_retries)
{
	ike_sa_t *a, *b;
	uint32_t first, spi;
	int i;

	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, NULL);
	first = activate(a, b);
	/* a announced UPDATE_SPI, but then ignores it */
	lib->settings->set_str(lib->settings, "%s.plugins.mobike-spi.announce",
						   "no", lib->ns);
	settings->reload(settings);
	for (i = 1; i <= 3; i++)
	{
		round_trip(a, b, TRUE);
		/* the retries come with new SPIs */
		spi = child(b)->get_spi(child(b), TRUE);
		ck_assert(i == 3 || spi != first);
		first = spi;
		ck_assert_int_eq(child(a)->get_spi(child(a), FALSE), SPI_B);
	}
	/* after MAX_ROUND_TRIPS, b deletes the IKE_SA: INFORMATIONAL { D } */
	assert_single_payload(IN, PLV2_DELETE);
	exchange_test_helper->process_message(exchange_test_helper, a, NULL);
	ck_assert(exchange_test_helper->process_message(exchange_test_helper, b,
													NULL) == DESTROY_ME);
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
}
END_TEST

START_TEST(test_retry_resolves)
{
	ike_sa_t *a, *b;

	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, NULL);
	activate(a, b);
	lib->settings->set_str(lib->settings, "%s.plugins.mobike-spi.announce",
						   "no", lib->ns);
	settings->reload(settings);
	round_trip(a, b, TRUE);
	/* a processes UPDATE_SPI again: the second round resolves it */
	lib->settings->set_str(lib->settings, "%s.plugins.mobike-spi.announce",
						   "yes", lib->ns);
	settings->reload(settings);
	round_trip(a, b, TRUE);
	ck_assert_int_eq(child(a)->get_spi(child(a), FALSE),
					 child(b)->get_spi(child(b), TRUE));
	ck_assert(exchange_test_helper->sender->dequeue(
									exchange_test_helper->sender) == NULL);
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
}
END_TEST

START_TEST(test_no_collision)
{
	ike_sa_t *a, *b;

	/* no collision: the MOBIKE update alone, SPIs as transferred */
	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, NULL);
	a->enable_extension(a, EXT_MOBIKE);
	b->enable_extension(b, EXT_MOBIKE);
	charon->bus->set_sa(charon->bus, b);
	ck_assert_int_eq(nar->hook.get_inbound_spi(&nar->hook, b, PROTO_ESP,
											   htonl(0x7777), SPI_A),
					 htonl(0x7777));
	nar->hook.activated(&nar->hook, b);
	charon->bus->set_sa(charon->bus, NULL);
	round_trip(a, b, FALSE);
	ck_assert(exchange_test_helper->sender->dequeue(
									exchange_test_helper->sender) == NULL);
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
}
END_TEST

START_TEST(test_no_collision_delayed)
{
	ike_sa_t *a, *b;

	/* without a collision, the update leaves the access link to the
	 * resumed traffic first */
	lib->settings->set_str(lib->settings,
						   "%s.plugins.mobike-spi.update_delay", "100",
						   lib->ns);
	settings->reload(settings);
	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, NULL);
	a->enable_extension(a, EXT_MOBIKE);
	b->enable_extension(b, EXT_MOBIKE);
	charon->bus->set_sa(charon->bus, b);
	ck_assert_int_eq(nar->hook.get_inbound_spi(&nar->hook, b, PROTO_ESP,
											   htonl(0x7777), SPI_A),
					 htonl(0x7777));
	nar->hook.activated(&nar->hook, b);
	charon->bus->set_sa(charon->bus, NULL);
	ck_assert(exchange_test_helper->sender->dequeue(
									exchange_test_helper->sender) == NULL);
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
}
END_TEST

/**
 * Holds back the job scheduled with TIMER's delay, so a test runs it when it
 * wants; other jobs go to the real scheduler (no thread runs them here)
 */
typedef struct {
	scheduler_t public;
	scheduler_t *real;
	job_t *job;
	uint32_t ms;
} mock_scheduler_t;

static mock_scheduler_t mock_scheduler;

#define TIMER_S 7

METHOD(scheduler_t, schedule_job_ms, void,
	mock_scheduler_t *this, job_t *job, uint32_t ms)
{
	if (ms == TIMER_S * 1000)
	{
		ck_assert(!this->job);
		this->job = job;
		this->ms = ms;
		return;
	}
	this->real->schedule_job_ms(this->real, job, ms);
}

METHOD(scheduler_t, schedule_job, void,
	mock_scheduler_t *this, job_t *job, uint32_t s)
{
	schedule_job_ms(this, job, s * 1000);
}

/**
 * Run the held TIMER job, as the scheduler would when it expires
 */
static void expire_timer()
{
	job_t *job = mock_scheduler.job;

	ck_assert(job);
	mock_scheduler.job = NULL;
	job->execute(job);
	job->destroy(job);
}

START_SETUP(setup_timer)
{
	setup(_i);
	lib->settings->set_str(lib->settings, "%s.plugins.mobike-spi.timer",
						   "7s", lib->ns);
	settings->reload(settings);
	mock_scheduler = (mock_scheduler_t){
		.public = {
			.schedule_job = _schedule_job,
			.schedule_job_ms = _schedule_job_ms,
		},
		.real = lib->scheduler,
	};
	lib->scheduler = &mock_scheduler.public;
}
END_SETUP

START_TEARDOWN(teardown_timer)
{
	lib->scheduler = mock_scheduler.real;
	if (mock_scheduler.job)
	{
		mock_scheduler.job->destroy(mock_scheduler.job);
	}
	teardown(_i);
}
END_TEARDOWN

/**
 * The gateway's IKE_SA goes to the IKE_SA manager, where the TIMER job looks
 * for it by its unique ID
 */
static u_int register_sa(ike_sa_t *b)
{
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, b);
	return b->get_unique_id(b);
}

/**
 * Take the gateway's IKE_SA back from the IKE_SA manager, if it is there
 */
static ike_sa_t *unregister_sa(u_int id)
{
	ike_sa_t *b;

	b = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager, id);
	if (b)
	{
		charon->ike_sa_manager->checkin_and_destroy(charon->ike_sa_manager,
													b);
	}
	return b;
}

START_TEST(test_timer_expired)
{
	ike_sa_t *a, *b;
	message_t *message;
	u_int id;

	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, NULL);
	id = register_sa(b);
	activate(a, b);
	ck_assert_int_eq(mock_scheduler.ms, TIMER_S * 1000);
	/* round 1 went out, but the mobile node never answers it */
	assert_notify(IN, MOBIKE_SPI_UPDATE_SPI);
	message = exchange_test_helper->sender->dequeue(
											exchange_test_helper->sender);
	message->destroy(message);
	expire_timer();
	/* the gateway fell back: its IKE_SA is gone */
	ck_assert(unregister_sa(id) == NULL);
	call_ikesa(a, destroy);
}
END_TEST

START_TEST(test_timer_resolved)
{
	ike_sa_t *a, *b;
	uint32_t spi;
	u_int id;

	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, NULL);
	id = register_sa(b);
	spi = activate(a, b);
	round_trip(a, b, TRUE);
	/* TIMER expires after the collision was resolved: nothing happens */
	expire_timer();
	ck_assert(exchange_test_helper->sender->dequeue(
									exchange_test_helper->sender) == NULL);
	b = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager, id);
	ck_assert(b);
	ck_assert(b->get_state(b) == IKE_ESTABLISHED);
	ck_assert_int_eq(child(b)->get_spi(child(b), TRUE), spi);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, b);
	ck_assert(unregister_sa(id) != NULL);
	call_ikesa(a, destroy);
}
END_TEST

/**
 * Changes the COOKIE2 in the mobile node's answer
 */
static listener_t cookie2_tamper;

METHOD(listener_t, tamper_cookie2, bool,
	listener_t *this, ike_sa_t *ike_sa, message_t *message, bool incoming,
	bool plain)
{
	notify_payload_t *notify;
	chunk_t data;

	if (plain && !incoming && !message->get_request(message) &&
		message->get_exchange_type(message) == INFORMATIONAL)
	{
		notify = message->get_notify(message, COOKIE2);
		if (notify)
		{
			data = notify->get_notification_data(notify);
			ck_assert(data.len);
			data.ptr[0] ^= 0x01;
		}
	}
	return TRUE;
}

START_TEST(test_cookie2_mismatch)
{
	ike_sa_t *a, *b;

	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, NULL);
	activate(a, b);
	cookie2_tamper = (listener_t){
		.message = _tamper_cookie2,
	};
	charon->bus->add_listener(charon->bus, &cookie2_tamper);
	/* INFORMATIONAL { N(UPD_SA_ADDR), N(COOKIE2), ... } --> */
	assert_notify(IN, COOKIE2);
	exchange_test_helper->process_message(exchange_test_helper, a, NULL);
	charon->bus->remove_listener(charon->bus, &cookie2_tamper);
	/* <-- INFORMATIONAL { N(COOKIE2) changed, ... }: the gateway deletes */
	ck_assert(exchange_test_helper->process_message(exchange_test_helper, b,
													NULL) == DESTROY_ME);
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
}
END_TEST

Suite *nar_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("new access router");

	tc = tcase_create("Algorithm 1");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_no_collision);
	tcase_add_test(tc, test_no_collision_delayed);
	tcase_add_test(tc, test_resolved);
	tcase_add_test(tc, test_retries);
	tcase_add_test(tc, test_retry_resolves);
	tcase_add_test(tc, test_cookie2_mismatch);
	suite_add_tcase(s, tc);

	tc = tcase_create("TIMER");
	tcase_add_checked_fixture(tc, setup_timer, teardown_timer);
	tcase_add_test(tc, test_timer_expired);
	tcase_add_test(tc, test_timer_resolved);
	suite_add_tcase(s, tc);

	return s;
}
