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

#include "../utils/cxtp_charon.h"

#include <exchange_test_helper.h>

#include "../../cxtp_drain.h"

/**
 * A drain on pAR: which IKE_SAs it selects and skips, how many contexts it
 * keeps in flight, and what it reports
 */
static cxtp_charon_t *env;
static cxtp_test_ar_t *ar;
static cxtp_test_transport_t *transport;
static cxtp_drain_t *drain;

/**
 * pAR's IKE_SAs with mobile nodes, in the manager
 */
static u_int ids[5];
static u_int count;

/**
 * The IKE_SAs of pAR established besides the one of the environment
 */
static ike_sa_t *more[2];

/**
 * Progress reports, the last one and their number
 */
static cxtp_drain_progress_t last;
static u_int reports;

/**
 * Establish another IKE_SA of pAR with a mobile node, before any is in the
 * manager, as the node's INITIAL_CONTACT would replace those
 */
static ike_sa_t *establish()
{
	ike_sa_t *mn, *par;

	exchange_test_helper->establish_sa(exchange_test_helper, &mn, &par, NULL);
	ck_assert_int_eq(par->get_state(par), IKE_ESTABLISHED);
	/* only pAR's side goes into the manager */
	call_ikesa(mn, destroy);
	charon->bus->set_sa(charon->bus, par);
	par->set_my_host(par, cxtp_test_host(PAR));
	par->set_other_host(par, cxtp_test_host(MN_OLD));
	charon->bus->set_sa(charon->bus, NULL);
	return par;
}

/**
 * Add an IKE_SA of the connection in a state, not established
 */
static u_int add_ike_sa_in(ike_sa_state_t state)
{
	ike_sa_t *ike_sa;

	ike_sa = charon->ike_sa_manager->create_new(charon->ike_sa_manager, IKEV2,
												TRUE);
	ike_sa->set_peer_cfg(ike_sa, env->par->get_peer_cfg(env->par));
	ike_sa->set_state(ike_sa, state);
	return cxtp_charon_checkin(env, ike_sa);
}

CALLBACK(par_event, void,
	char *who, cxtp_event_t name, u_int ike_id, char *peer, host_t *mn,
	char *error)
{
	drain->event(drain, name, ike_id);
	cxtp_test_event_cb(who, name, ike_id, peer, mn, error);
}

CALLBACK(progress_cb, void,
	void *data, char *peer, cxtp_drain_progress_t *progress)
{
	ck_assert_str_eq(peer, "nar");
	last = *progress;
	reports++;
}

/**
 * Set the window, the number of contexts in flight
 */
static void set_window(int window)
{
	lib->settings->set_int(lib->settings, "%s.plugins.cxtp.drain_window",
						   window, lib->ns);
	env->settings->reload(env->settings);
	ck_assert_int_eq(env->settings->get_drain_window(env->settings), window);
}

START_SETUP(setup)
{
	env = cxtp_charon_setup();
	ar = cxtp_test_ar_create(env, "par");
	transport = ar->transport;
	drain = cxtp_drain_create(ar->par, &transport->transport, env->settings);
	drain->set_progress_cb(drain, progress_cb, NULL);
	ar->par->set_event_cb(ar->par, par_event, "par");
	more[0] = establish();
	more[1] = establish();
	ids[0] = cxtp_charon_checkin(env, env->par);
	ids[1] = cxtp_charon_checkin(env, more[0]);
	ids[2] = cxtp_charon_checkin(env, more[1]);
	count = 3;
	last = (cxtp_drain_progress_t){};
	reports = 0;
}
END_SETUP

START_TEARDOWN(teardown)
{
	cxtp_charon_stop();
	drain->destroy(drain);
	cxtp_test_ar_destroy(ar);
	cxtp_charon_teardown(env);
}
END_TEARDOWN

/**
 * Deliver nAR's CTDR for the n-th context pAR sent: imported, activated or
 * refused
 */
static void deliver_ctdr(u_int n, bool success, uint8_t status)
{
	cxtp_test_sent_t *sent;
	cxtp_transfer_id_t id;
	cxtp_message_t *ctdr;
	host_t *mn = cxtp_test_host(MN_OLD);

	ck_assert(cxtp_test_transport_count(transport, CXTP_PCTD) > n);
	sent = cxtp_test_transport_get(transport, CXTP_PCTD, n);
	ck_assert(sent->message->get_transfer_id(sent->message, &id));
	ctdr = cxtp_message_create(CXTP_CTDR, mn);
	ctdr->set_success(ctdr, success);
	ck_assert(ctdr->set_transfer_id(ctdr, &id));
	if (status)
	{
		ck_assert(ctdr->add_status(ctdr, CXTP_FPT_IKE_SA, status));
	}
	cxtp_test_transport_deliver(transport, "nar", ctdr);
	/* processed in a job, which may queue the next push */
	ck_assert(cxtp_charon_run_jobs() >= 1);
	mn->destroy(mn);
}

/**
 * Start a drain that must start
 */
static cxtp_drain_progress_t start(char *name)
{
	cxtp_drain_progress_t progress;
	char *reason;

	reason = drain->start(drain, name, "nar", FALSE, &progress);
	ck_assert_msg(!reason, "drain failed: %s", reason);
	ck_assert(progress.id);
	return progress;
}

/**
 * Number of pAR's IKE_SAs in a state
 */
static u_int in_state(ike_sa_state_t state)
{
	u_int i, n = 0;

	for (i = 0; i < count; i++)
	{
		n += cxtp_charon_state(ids[i]) == state;
	}
	return n;
}

START_TEST(test_all)
{
	cxtp_drain_progress_t p;
	int i;

	set_window(2);

	p = start(NULL);
	ck_assert_int_eq(p.selected, 3);
	ck_assert_int_eq(p.skipped, 0);
	/* two in flight, frozen; the third waits, and keeps running */
	ck_assert_int_eq(p.pushed, 2);
	ck_assert_int_eq(p.in_flight, 2);
	ck_assert_int_eq(p.queued, 1);
	ck_assert(!p.done);
	ck_assert_int_eq(cxtp_test_transport_count(transport, CXTP_PCTD), 2);
	ck_assert_int_eq(in_state(IKE_PASSIVE), 2);
	ck_assert_int_eq(in_state(IKE_ESTABLISHED), 1);
	ck_assert_int_eq(reports, 1);
	/* pushed together, to go in as few datagrams as fit */
	ck_assert(cxtp_test_transport_get(transport, CXTP_PCTD, 0)->corked);
	ck_assert(cxtp_test_transport_get(transport, CXTP_PCTD, 1)->corked);
	ck_assert_int_eq(transport->corked, 0);

	/* the peer's import frees a slot: the third goes, and is reported */
	deliver_ctdr(0, TRUE, 0);
	ck_assert_int_eq(cxtp_test_transport_count(transport, CXTP_PCTD), 3);
	ck_assert_int_eq(reports, 2);
	ck_assert_int_eq(last.pushed, 3);
	ck_assert_int_eq(last.queued, 0);
	ck_assert_int_eq(in_state(IKE_PASSIVE), 3);
	ck_assert(drain->get_progress(drain, p.id, &p));
	ck_assert_int_eq(p.pushed, 3);
	ck_assert_int_eq(p.in_flight, 2);
	ck_assert_int_eq(p.queued, 0);

	/* each activation ends a transfer, the last one the drain */
	for (i = 0; i < 3; i++)
	{
		ck_assert(!last.done);
		deliver_ctdr(i, TRUE, CXTP_STATUS_ACTIVATED);
		ck_assert_int_eq(last.activated, i + 1);
		ck_assert_int_eq(in_state(IKE_DESTROYING), i + 1);
	}
	ck_assert(last.done);
	ck_assert_int_eq(last.in_flight, 0);
	ck_assert_int_eq(last.failed, 0);
	ck_assert_int_eq(cxtp_test_events_count("par", "activate"), 3);
	ck_assert(drain->get_progress(drain, p.id, &p));
	ck_assert(p.done);
	ck_assert_int_eq(cxtp_charon_count(), 0);
}
END_TEST

START_TEST(test_failed_frees_slot)
{
	cxtp_drain_progress_t p;

	set_window(1);

	p = start(NULL);
	ck_assert_int_eq(p.pushed, 1);
	ck_assert_int_eq(p.queued, 2);
	/* the peer refuses the first, which thaws and stays here */
	deliver_ctdr(0, FALSE, 0);
	ck_assert_int_eq(in_state(IKE_ESTABLISHED), 2);
	ck_assert_int_eq(in_state(IKE_PASSIVE), 1);
	ck_assert_int_eq(cxtp_test_transport_count(transport, CXTP_PCTD), 2);
	ck_assert_int_eq(last.failed, 1);
	ck_assert(!last.done);
	/* an activation frees it too */
	deliver_ctdr(1, TRUE, CXTP_STATUS_ACTIVATED);
	ck_assert_int_eq(cxtp_test_transport_count(transport, CXTP_PCTD), 3);
	ck_assert(!last.done);
	deliver_ctdr(2, TRUE, CXTP_STATUS_ACTIVATED);
	ck_assert(last.done);
	ck_assert_int_eq(last.activated, 2);
	ck_assert_int_eq(last.failed, 1);
	ck_assert_int_eq(cxtp_charon_count(), 1);
}
END_TEST

START_TEST(test_by_name)
{
	cxtp_drain_progress_t p;
	char *reason;

	/* same connection: one being set up, one passive (an import) */
	ids[count++] = add_ike_sa_in(IKE_CONNECTING);
	ids[count++] = add_ike_sa_in(IKE_PASSIVE);

	reason = drain->start(drain, "no-such-connection", "nar", FALSE, &p);
	ck_assert_str_eq(reason, "no IKE_SA with that name");
	free(reason);
	ck_assert_int_eq(cxtp_test_transport_count(transport, CXTP_PCTD), 0);

	p = start(env->par->get_name(env->par));
	ck_assert_int_eq(p.selected, 5);
	ck_assert_int_eq(p.skipped, 2);
	ck_assert_int_eq(p.pushed, 3);
	ck_assert_int_eq(cxtp_test_transport_count(transport, CXTP_PCTD), 3);
	ck_assert_int_eq(cxtp_charon_state(ids[3]), IKE_CONNECTING);
	ck_assert_int_eq(cxtp_charon_state(ids[4]), IKE_PASSIVE);

	/* those in a transfer are not pushed again, nothing can be */
	reason = drain->start(drain, env->par->get_name(env->par), "nar", FALSE, &p);
	ck_assert_str_eq(reason, "none of the 5 IKE_SAs can be pushed, see the "
					 "log");
	free(reason);
	ck_assert_int_eq(cxtp_test_transport_count(transport, CXTP_PCTD), 3);
}
END_TEST

START_TEST(test_unknown_peer)
{
	cxtp_drain_progress_t p;
	char *reason;

	reason = drain->start(drain, NULL, "nowhere", FALSE, &p);
	ck_assert_str_eq(reason, "no such CXTP peer");
	free(reason);
	ck_assert_int_eq(cxtp_test_transport_count(transport, 0), 0);
	ck_assert_int_eq(in_state(IKE_ESTABLISHED), 3);
}
END_TEST

START_TEST(test_push_fails)
{
	cxtp_drain_progress_t p;

	transport->fail = TRUE;
	p = start(NULL);
	/* refused by the push, counted, and the drain is over */
	ck_assert_int_eq(p.selected, 3);
	ck_assert_int_eq(p.skipped, 3);
	ck_assert_int_eq(p.pushed, 0);
	ck_assert(p.done);
	ck_assert(last.done);
	ck_assert_int_eq(in_state(IKE_ESTABLISHED), 3);
}
END_TEST

Suite *drain_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("cxtp drain");

	tc = tcase_create("window");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_all);
	tcase_add_test(tc, test_failed_frees_slot);
	suite_add_tcase(s, tc);

	tc = tcase_create("selection");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_by_name);
	tcase_add_test(tc, test_unknown_peer);
	tcase_add_test(tc, test_push_fails);
	suite_add_tcase(s, tc);

	return s;
}
