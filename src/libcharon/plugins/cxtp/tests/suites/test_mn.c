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
#include "../../cxtp_mn.h"

/**
 * The mobile node's side: prepare, move, CTAR, thaw; CTAAs arrive through
 * the dispatcher, as in the plugin
 */
static cxtp_charon_t *env;
static cxtp_test_icmp_t *icmp;
static cxtp_dispatcher_t *dispatcher;
static cxtp_mn_t *mn;

/**
 * The mobile node's IKE_SA, in the manager
 */
static u_int mn_id;

/**
 * Token key of the next transfer, before the move
 */
static chunk_t key;

START_SETUP(setup)
{
	env = cxtp_charon_setup();
	icmp = cxtp_test_icmp_create();
	/* a mobile node only, without peers to reach */
	dispatcher = cxtp_dispatcher_create_with(env->settings,
								cxtp_test_icmp_constructor, icmp, NULL, NULL);
	mn = cxtp_mn_create(env->capture, env->transfers, env->settings,
						dispatcher->get_icmp(dispatcher));
	dispatcher->set_roles(dispatcher, NULL, NULL, mn);
	mn->set_event_cb(mn, cxtp_test_event_cb, "mn");
	key = cxtp_test_token_key(env, env->mn);
	mn_id = cxtp_charon_checkin(env, env->mn);
}
END_SETUP

START_TEARDOWN(teardown)
{
	cxtp_charon_stop();
	dispatcher->destroy(dispatcher);
	mn->destroy(mn);
	chunk_clear(&key);
	cxtp_charon_teardown(env);
}
END_TEARDOWN

/**
 * Prepare the mobile node's IKE_SA, returns why not
 */
static char *prepare_for(char *nar, bool ack)
{
	ike_sa_t *ike_sa;
	host_t *host = nar ? cxtp_test_host(nar) : NULL;
	char *reason;

	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													mn_id);
	ck_assert(ike_sa);
	reason = mn->prepare(mn, ike_sa, host, ack);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	DESTROY_IF(host);
	return reason;
}

static void prepare(char *nar, bool ack)
{
	char *reason = prepare_for(nar, ack);

	ck_assert_msg(!reason, "prepare failed: %s", reason);
}

static bool prepared()
{
	ike_sa_t *ike_sa;
	bool is;

	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													mn_id);
	ck_assert(ike_sa);
	is = mn->is_prepared(mn, ike_sa);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	return is;
}

/**
 * Address and route changes, as the kernel interface reports them; the
 * mobile node checks its prepared IKE_SAs in a job, if it has any
 */
static void roam()
{
	mn->listener.roam(&mn->listener, TRUE);
	cxtp_charon_run_jobs();
}

/**
 * The mobile node leaves pAR's link for one with a new address
 */
static void move(char *router)
{
	cxtp_test_net_set_address(MN_OLD, FALSE);
	cxtp_test_net_set_address(MN_NEW, TRUE);
	cxtp_test_net_set_router(router);
	roam();
}

/**
 * Assert the IKE_SA's addresses
 */
static void assert_hosts(char *me, char *other)
{
	cxtp_test_ike_sa_info_t info;

	cxtp_charon_info(mn_id, &info);
	ck_assert(info.found);
	ck_assert(cxtp_test_host_is(info.me, me));
	ck_assert(cxtp_test_host_is(info.other, other));
	cxtp_test_ike_sa_info_clear(&info);
}

/**
 * Assert the n-th CTAR sent
 */
static cxtp_test_sent_t *assert_ctar(u_int n, char *src, char *dst, char *ar,
									 bool ack)
{
	host_t *from = cxtp_test_host(src), *to = cxtp_test_host(dst);
	host_t *named = cxtp_test_host(ar), *old = cxtp_test_host(MN_OLD);
	cxtp_message_t *ctar;
	cxtp_test_sent_t *sent;

	sent = cxtp_test_icmp_get(icmp, CXTP_CTAR, n);
	ctar = sent->message;
	ck_assert(from->ip_equals(from, sent->src));
	ck_assert(to->ip_equals(to, sent->dst));
	ck_assert(old->ip_equals(old, ctar->get_mn_address(ctar)));
	ck_assert(named->ip_equals(named, ctar->get_ar_address(ctar)));
	ck_assert(ctar->get_ack(ctar) == ack);
	ck_assert(sent->reliable == ack);
	if (ack)
	{
		ck_assert_int_eq(sent->id, ctar->get_sequence(ctar));
	}
	/* nAR and pAR check it with the key derived from the IKE_SA */
	ck_assert(ctar->verify_token(ctar, key));
	from->destroy(from);
	to->destroy(to);
	named->destroy(named);
	old->destroy(old);
	return sent;
}

/**
 * Assert the IKE_SA was activated towards an access router
 */
static void assert_moved(char *nar)
{
	host_t *me = cxtp_test_host(MN_NEW);
	chunk_t next;
	cxtp_test_event_t *event;

	ck_assert_int_eq(cxtp_test_events_count("mn", "activate"), 1);
	event = cxtp_test_events_get("mn", "activate", 0);
	ck_assert_int_eq(event->ike_id, mn_id);
	ck_assert_str_eq(event->peer, nar);
	ck_assert(me->ip_equals(me, event->mn));
	ck_assert_int_eq(cxtp_charon_state(mn_id), IKE_ESTABLISHED);
	ck_assert(!prepared());
	assert_hosts(MN_NEW, nar);
	/* the next transfer's token has a fresh key */
	next = cxtp_test_token_key(env, env->mn);
	ck_assert(!chunk_equals(next, key));
	chunk_clear(&next);
	ck_assert_int_eq(cxtp_test_events_count("mn", "failure"), 0);
	me->destroy(me);
}

START_TEST(test_prepare)
{
	char *reason;

	prepare(NULL, FALSE);
	ck_assert_int_eq(cxtp_charon_state(mn_id), IKE_PASSIVE);
	ck_assert(prepared());
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 0);

	reason = prepare_for(NULL, FALSE);
	ck_assert(reason);
	free(reason);
}
END_TEST

START_TEST(test_not_moved)
{
	prepare(NULL, FALSE);
	/* some change, but our address is still there */
	cxtp_test_net_set_address(MN_NEW, TRUE);
	cxtp_test_net_set_router(ROUTER);
	roam();
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 0);
	ck_assert_int_eq(cxtp_charon_state(mn_id), IKE_PASSIVE);
	assert_hosts(MN_OLD, PAR);
}
END_TEST

START_TEST(test_move_default_router)
{
	prepare(NULL, FALSE);
	move(ROUTER);
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, CXTP_CTAR), 1);
	assert_ctar(0, MN_NEW, ROUTER, PAR, FALSE);
	assert_moved(ROUTER);
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 1);
}
END_TEST

START_TEST(test_move_named_nar)
{
	cxtp_test_sent_t *before, *after;

	prepare(NAR, FALSE);
	/* asking pAR to push the context to nAR */
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, CXTP_CTAR), 1);
	before = assert_ctar(0, MN_OLD, PAR, NAR, FALSE);
	ck_assert_int_eq(cxtp_charon_state(mn_id), IKE_PASSIVE);

	/* the named access router wins over the default router */
	move(ROUTER);
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, CXTP_CTAR), 2);
	after = assert_ctar(1, MN_NEW, NAR, PAR, FALSE);
	/* the same sequence number as the CTAR to pAR (RFC 4067 3.2) */
	ck_assert_int_eq(after->message->get_sequence(after->message),
					 before->message->get_sequence(before->message));
	assert_moved(NAR);
}
END_TEST

START_TEST(test_move_without_route)
{
	prepare(NULL, FALSE);
	/* gone from pAR's link, not yet on another one */
	cxtp_test_net_set_address(MN_OLD, FALSE);
	roam();
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 0);
	ck_assert_int_eq(cxtp_charon_state(mn_id), IKE_PASSIVE);
	ck_assert(prepared());

	move(ROUTER);
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, CXTP_CTAR), 1);
	assert_ctar(0, MN_NEW, ROUTER, PAR, FALSE);
	assert_moved(ROUTER);
}
END_TEST

START_TEST(test_prepare_timeout)
{
	cxtp_test_event_t *event;

	prepare(NULL, FALSE);
	ck_assert_int_eq(cxtp_charon_scheduled(HANDOVER_TIMEOUT * 1000), 1);
	ck_assert_int_eq(cxtp_test_events_count("mn", "failure"), 0);
	cxtp_charon_run_scheduled(HANDOVER_TIMEOUT * 1000);
	ck_assert_int_eq(cxtp_test_events_count("mn", "failure"), 1);
	event = cxtp_test_events_get("mn", "failure", 0);
	ck_assert_int_eq(event->ike_id, mn_id);
	ck_assert_int_eq(cxtp_charon_state(mn_id), IKE_ESTABLISHED);
	ck_assert(!prepared());
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 0);
	assert_hosts(MN_OLD, PAR);

	/* and a move later is charon's business, not ours */
	move(ROUTER);
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 0);
}
END_TEST

START_TEST(test_activate_unprepared)
{
	ike_sa_t *ike_sa;
	host_t *nar = cxtp_test_host(NAR);
	char *reason;

	/* the operator's command after a move, without a preparation */
	cxtp_test_net_set_address(MN_OLD, FALSE);
	cxtp_test_net_set_address(MN_NEW, TRUE);
	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													mn_id);
	ck_assert(ike_sa);
	reason = mn->activate(mn, ike_sa, nar, FALSE);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	nar->destroy(nar);
	ck_assert_msg(!reason, "activate failed: %s", reason);
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 1);
	assert_ctar(0, MN_NEW, NAR, PAR, FALSE);
	assert_moved(NAR);
}
END_TEST

START_TEST(test_activate_without_router)
{
	ike_sa_t *ike_sa;
	char *reason;

	/* pAR is still the next hop: no new access router to name */
	cxtp_test_net_set_router(PAR);
	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													mn_id);
	ck_assert(ike_sa);
	reason = mn->activate(mn, ike_sa, NULL, FALSE);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	ck_assert(reason);
	free(reason);
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 0);
	ck_assert_int_eq(cxtp_charon_state(mn_id), IKE_ESTABLISHED);
	assert_hosts(MN_OLD, PAR);
}
END_TEST

START_TEST(test_ctaa)
{
	cxtp_message_t *ctaa;
	host_t *old = cxtp_test_host(MN_OLD);
	cxtp_test_sent_t *sent;

	prepare(NULL, TRUE);
	move(ROUTER);
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, CXTP_CTAR), 1);
	sent = assert_ctar(0, MN_NEW, ROUTER, PAR, TRUE);
	assert_moved(ROUTER);

	ctaa = cxtp_message_create(CXTP_CTAA, old);
	cxtp_test_icmp_deliver(icmp, ROUTER, MN_NEW, ctaa);
	ck_assert(cxtp_test_icmp_acked(icmp, sent->id));
	old->destroy(old);
}
END_TEST

START_TEST(test_ctar_timeout)
{
	cxtp_test_event_t *event;
	host_t *nar = cxtp_test_host(ROUTER);
	cxtp_test_sent_t *sent;

	prepare(NULL, TRUE);
	move(ROUTER);
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, CXTP_CTAR), 1);
	sent = assert_ctar(0, MN_NEW, ROUTER, PAR, TRUE);
	assert_moved(ROUTER);

	/* what the ICMP transport reports after CT_RETRY_MAX */
	icmp->timeout(icmp->timeout_data, sent->id, nar);
	ck_assert_int_eq(cxtp_test_events_count("mn", "failure"), 1);
	event = cxtp_test_events_get("mn", "failure", 0);
	ck_assert_int_eq(event->ike_id, mn_id);
	ck_assert_str_eq(event->peer, ROUTER);
	nar->destroy(nar);
}
END_TEST

START_TEST(test_ctar_send_fails)
{
	chunk_t next;
	cxtp_test_event_t *event;

	prepare(NULL, FALSE);
	icmp->fail = TRUE;
	move(ROUTER);
	ck_assert_int_eq(cxtp_test_events_count("mn", "failure"), 1);
	event = cxtp_test_events_get("mn", "failure", 0);
	ck_assert_int_eq(event->ike_id, mn_id);
	ck_assert_str_eq(event->peer, ROUTER);
	/* thawed where it was, pAR may still have it */
	ck_assert_int_eq(cxtp_charon_state(mn_id), IKE_ESTABLISHED);
	ck_assert(!prepared());
	assert_hosts(MN_OLD, PAR);
	next = cxtp_test_token_key(env, env->mn);
	ck_assert(chunk_equals(next, key));
	chunk_clear(&next);
	ck_assert_int_eq(cxtp_test_events_count("mn", "activate"), 0);
}
END_TEST

Suite *mn_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("cxtp MN");

	tc = tcase_create("prepare");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_prepare);
	tcase_add_test(tc, test_not_moved);
	tcase_add_test(tc, test_prepare_timeout);
	suite_add_tcase(s, tc);

	tc = tcase_create("move");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_move_default_router);
	tcase_add_test(tc, test_move_named_nar);
	tcase_add_test(tc, test_move_without_route);
	suite_add_tcase(s, tc);

	tc = tcase_create("CTAR");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_activate_unprepared);
	tcase_add_test(tc, test_activate_without_router);
	tcase_add_test(tc, test_ctaa);
	tcase_add_test(tc, test_ctar_timeout);
	tcase_add_test(tc, test_ctar_send_fails);
	suite_add_tcase(s, tc);

	return s;
}
