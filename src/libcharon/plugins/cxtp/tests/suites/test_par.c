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

/**
 * pAR's side of a transfer: push, freeze, thaw or removal, as the
 * dispatcher of an access router hands it messages
 */
static cxtp_charon_t *env;
static cxtp_test_ar_t *ar;
static cxtp_test_transport_t *transport;
static cxtp_test_icmp_t *icmp;

/**
 * pAR's IKE_SA with the mobile node, in the manager
 */
static u_int par_id;

START_SETUP(setup)
{
	env = cxtp_charon_setup();
	ar = cxtp_test_ar_create(env, "par");
	transport = ar->transport;
	icmp = ar->icmp;
	par_id = cxtp_charon_checkin(env, env->par);
}
END_SETUP

START_TEARDOWN(teardown)
{
	cxtp_charon_stop();
	cxtp_test_ar_destroy(ar);
	cxtp_charon_teardown(env);
}
END_TEARDOWN

/**
 * Push pAR's IKE_SA to a peer, returns why not
 */
static char *push_to(char *peer)
{
	ike_sa_t *ike_sa;
	char *reason;

	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													par_id);
	ck_assert(ike_sa);
	reason = ar->par->push(ar->par, ike_sa, peer);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	return reason;
}

static void push()
{
	char *reason = push_to("nar");

	ck_assert_msg(!reason, "push failed: %s", reason);
}

/**
 * The transfer state of pAR's IKE_SA
 */
static char *transfer_state()
{
	ike_sa_t *ike_sa;
	char *state;

	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													par_id);
	ck_assert(ike_sa);
	state = ar->par->get_state(ar->par, ike_sa);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	return state;
}

/**
 * Deliver a message from nAR, processed in a job as it checks out IKE_SAs
 */
static void deliver(cxtp_message_t *message)
{
	cxtp_test_transport_deliver(transport, "nar", message);
	ck_assert_int_eq(cxtp_charon_run_jobs(), 1);
}

/**
 * Deliver nAR's CTDR for the mobile node
 */
static void deliver_ctdr(bool success, uint8_t status)
{
	cxtp_message_t *ctdr;
	host_t *mn = cxtp_test_host(MN_OLD);

	ctdr = cxtp_message_create(CXTP_CTDR, mn);
	ctdr->set_success(ctdr, success);
	if (status)
	{
		ck_assert(ctdr->add_status(ctdr, CXTP_FPT_IKE_SA, status));
	}
	deliver(ctdr);
	mn->destroy(mn);
}

/**
 * Count the CDBs of a feature profile type in a message
 */
static int count_cdbs(cxtp_message_t *message, uint16_t fpt)
{
	enumerator_t *enumerator;
	cxtp_cdb_t *cdb;
	int count = 0;

	enumerator = message->create_cdb_enumerator(message);
	while (enumerator->enumerate(enumerator, &cdb))
	{
		if (cdb->fpt == fpt)
		{
			count++;
		}
	}
	enumerator->destroy(enumerator);
	return count;
}

/**
 * Assert that a PCTD/CTD carries pAR's context for the mobile node
 */
static void assert_context(cxtp_test_sent_t *sent, cxtp_message_type_t type)
{
	cxtp_message_t *message = sent->message;
	host_t *mn = cxtp_test_host(MN_OLD);
	chunk_t key = cxtp_test_token_key(env, env->mn);

	ck_assert_int_eq(message->get_type(message), type);
	ck_assert_str_eq(sent->peer, "nar");
	ck_assert(sent->reliable);
	ck_assert_int_eq(sent->id, par_id);
	ck_assert(message->get_ack(message));
	ck_assert(mn->ip_equals(mn, message->get_mn_address(message)));
	/* nAR verifies the mobile node's token with this key */
	ck_assert(chunk_equals(message->get_key(message), key));
	chunk_clear(&key);
	ck_assert_int_eq(count_cdbs(message, CXTP_FPT_IKE_SA), 1);
	ck_assert_int_eq(count_cdbs(message, CXTP_FPT_CHILD_SA), 1);
	ck_assert_int_eq(count_cdbs(message, CXTP_FPT_PAD), 1);
	mn->destroy(mn);
}

/**
 * Assert the IKE_SA was thawed once, with a failure event
 */
static void assert_thawed()
{
	cxtp_test_event_t *event;

	ck_assert_int_eq(cxtp_test_events_count("par", "failure"), 1);
	ck_assert_int_eq(cxtp_charon_state(par_id), IKE_ESTABLISHED);
	event = cxtp_test_events_get("par", "failure", 0);
	ck_assert_int_eq(event->ike_id, par_id);
	ck_assert_str_eq(event->peer, "nar");
	ck_assert(!transfer_state());
	/* its CHILD_SA kept working all along */
	ck_assert_int_eq(cxtp_test_kernel_count(par_id), 2);
	ck_assert_int_eq(cxtp_test_events_count("par", "activate"), 0);
}

START_TEST(test_push)
{
	cxtp_test_event_t *event;
	host_t *mn = cxtp_test_host(MN_OLD);

	push();
	ck_assert_int_eq(cxtp_charon_state(par_id), IKE_PASSIVE);
	ck_assert_str_eq(transfer_state(), "pending");
	ck_assert_int_eq(cxtp_test_transport_count(transport, 0), 1);
	assert_context(cxtp_test_transport_get(transport, CXTP_PCTD, 0), CXTP_PCTD);
	/* frozen, but its CHILD_SA still carries traffic */
	ck_assert_int_eq(cxtp_test_kernel_count(par_id), 2);
	ck_assert_int_eq(cxtp_test_events_count("par", "export"), 1);
	event = cxtp_test_events_get("par", "export", 0);
	ck_assert_int_eq(event->ike_id, par_id);
	ck_assert_str_eq(event->peer, "nar");
	ck_assert(mn->ip_equals(mn, event->mn));
	mn->destroy(mn);
}
END_TEST

START_TEST(test_push_unknown_peer)
{
	char *reason;

	reason = push_to("nobody");
	ck_assert(reason);
	free(reason);
	ck_assert_int_eq(cxtp_charon_state(par_id), IKE_ESTABLISHED);
	ck_assert_int_eq(cxtp_test_transport_count(transport, 0), 0);
	ck_assert_int_eq(cxtp_test_events_count("par", "export"), 0);
}
END_TEST

START_TEST(test_push_twice)
{
	char *reason;

	push();
	reason = push_to("nar");
	ck_assert(reason);
	free(reason);
	ck_assert_int_eq(cxtp_charon_state(par_id), IKE_PASSIVE);
	ck_assert_int_eq(cxtp_test_transport_count(transport, 0), 1);
	ck_assert_int_eq(cxtp_test_events_count("par", "export"), 1);
}
END_TEST

START_TEST(test_push_send_fails)
{
	char *reason;

	transport->fail = TRUE;
	reason = push_to("nar");
	ck_assert(reason);
	free(reason);
	ck_assert_int_eq(cxtp_charon_state(par_id), IKE_ESTABLISHED);
	ck_assert(!transfer_state());
	ck_assert_int_eq(cxtp_test_events_count("par", "export"), 0);
}
END_TEST

START_TEST(test_refused)
{
	push();
	deliver_ctdr(FALSE, CXTP_STATUS_FAILED);
	assert_thawed();
	ck_assert(cxtp_test_transport_acked(transport, par_id));
}
END_TEST

START_TEST(test_transport_timeout)
{
	push();
	/* what the transport reports after its last retransmission */
	transport->timeout(transport->timeout_data, "nar", par_id);
	assert_thawed();
}
END_TEST

START_TEST(test_handover_timeout)
{
	push();
	deliver_ctdr(TRUE, 0);
	/* imported there: no retransmission, and the wait for activation */
	ck_assert(cxtp_test_transport_acked(transport, par_id));
	ck_assert_int_eq(cxtp_charon_scheduled(HANDOVER_TIMEOUT * 1000), 1);
	ck_assert_int_eq(cxtp_charon_state(par_id), IKE_PASSIVE);
	ck_assert_int_eq(cxtp_test_events_count("par", "failure"), 0);
	cxtp_charon_run_scheduled(HANDOVER_TIMEOUT * 1000);
	assert_thawed();
}
END_TEST

START_TEST(test_handover_timeout_later_push)
{
	push();
	deliver_ctdr(TRUE, 0);
	deliver_ctdr(FALSE, CXTP_STATUS_FAILED);
	ck_assert_int_eq(cxtp_test_events_count("par", "failure"), 1);

	/* pushed again while the first push's handover timer still runs */
	push();
	deliver_ctdr(TRUE, 0);
	ck_assert_int_eq(cxtp_charon_scheduled(HANDOVER_TIMEOUT * 1000), 2);
	cxtp_charon_run_scheduled(HANDOVER_TIMEOUT * 1000);
	ck_assert_int_eq(cxtp_charon_state(par_id), IKE_PASSIVE);
	ck_assert_str_eq(transfer_state(), "pending");
	ck_assert_int_eq(cxtp_test_events_count("par", "failure"), 1);
	/* thawed by its own timer, not the first one */
	cxtp_charon_run_scheduled(HANDOVER_TIMEOUT * 1000);
	ck_assert_int_eq(cxtp_test_events_count("par", "failure"), 2);
	ck_assert_int_eq(cxtp_charon_state(par_id), IKE_ESTABLISHED);
}
END_TEST

START_TEST(test_activated)
{
	cxtp_test_event_t *event;

	push();
	deliver_ctdr(TRUE, 0);
	deliver_ctdr(TRUE, CXTP_STATUS_ACTIVATED);
	ck_assert_int_eq(cxtp_test_events_count("par", "activate"), 1);
	event = cxtp_test_events_get("par", "activate", 0);
	ck_assert_int_eq(event->ike_id, par_id);
	ck_assert_str_eq(event->peer, "nar");
	/* gone with its kernel state, nAR continues it */
	ck_assert_int_eq(cxtp_charon_state(par_id), IKE_DESTROYING);
	ck_assert_int_eq(cxtp_charon_count(), 0);
	ck_assert_int_eq(cxtp_test_kernel_count(par_id), 0);
	/* without a DELETE to the mobile node */
	ck_assert(!exchange_test_helper->sender->dequeue(
												exchange_test_helper->sender));
	ck_assert_int_eq(cxtp_test_events_count("par", "failure"), 0);
}
END_TEST

START_TEST(test_ctdr_unknown)
{
	cxtp_message_t *ctdr;
	host_t *other = cxtp_test_host("192.0.2.99");

	push();
	/* activation of another mobile node's context */
	ctdr = cxtp_message_create(CXTP_CTDR, other);
	ctdr->set_success(ctdr, TRUE);
	ck_assert(ctdr->add_status(ctdr, CXTP_FPT_IKE_SA, CXTP_STATUS_ACTIVATED));
	deliver(ctdr);
	other->destroy(other);
	ck_assert_int_eq(cxtp_charon_state(par_id), IKE_PASSIVE);
	ck_assert_str_eq(transfer_state(), "pending");
	ck_assert_int_eq(cxtp_test_events_count("par", "activate"), 0);
}
END_TEST

/**
 * A CT-Req from nAR, with the mobile node's token if valid
 */
static void deliver_ctreq(bool valid)
{
	cxtp_message_t *ctreq;

	ctreq = cxtp_test_mn_request(env, CXTP_CTREQ, NULL, 4711,
								 valid ? 4711 : 4712, FALSE);
	deliver(ctreq);
}

START_TEST(test_ctreq)
{
	deliver_ctreq(TRUE);
	ck_assert_int_eq(cxtp_test_transport_count(transport, CXTP_CTD), 1);
	assert_context(cxtp_test_transport_get(transport, CXTP_CTD, 0), CXTP_CTD);
	ck_assert_int_eq(cxtp_charon_state(par_id), IKE_PASSIVE);
	ck_assert_int_eq(cxtp_test_events_count("par", "export"), 1);
}
END_TEST

START_TEST(test_ctreq_forged)
{
	deliver_ctreq(FALSE);
	ck_assert_int_eq(cxtp_test_transport_count(transport, 0), 0);
	ck_assert_int_eq(cxtp_charon_state(par_id), IKE_ESTABLISHED);
	ck_assert_int_eq(cxtp_test_events_count("par", "export"), 0);
}
END_TEST

/**
 * The mobile node's CTAR before its move, naming nAR
 */
static void process_ctar(bool valid)
{
	cxtp_message_t *ctar;

	ctar = cxtp_test_mn_request(env, CXTP_CTAR, NAR, 815, valid ? 815 : 816,
								FALSE);
	cxtp_test_icmp_deliver(icmp, MN_OLD, PAR, ctar);
}

START_TEST(test_ctar_predictive)
{
	process_ctar(TRUE);
	/* in the thread that received it, no job */
	ck_assert_int_eq(cxtp_charon_run_jobs(), 0);
	ck_assert_int_eq(cxtp_test_transport_count(transport, CXTP_PCTD), 1);
	assert_context(cxtp_test_transport_get(transport, CXTP_PCTD, 0), CXTP_PCTD);
	ck_assert_int_eq(cxtp_charon_state(par_id), IKE_PASSIVE);
	/* the CTAA comes from nAR after the move */
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 0);
}
END_TEST

START_TEST(test_ctar_predictive_forged)
{
	process_ctar(FALSE);
	ck_assert_int_eq(cxtp_charon_run_jobs(), 0);
	ck_assert_int_eq(cxtp_test_transport_count(transport, 0), 0);
	ck_assert_int_eq(cxtp_charon_state(par_id), IKE_ESTABLISHED);
}
END_TEST

Suite *par_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("cxtp pAR");

	tc = tcase_create("push");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_push);
	tcase_add_test(tc, test_push_unknown_peer);
	tcase_add_test(tc, test_push_twice);
	tcase_add_test(tc, test_push_send_fails);
	suite_add_tcase(s, tc);

	tc = tcase_create("thaw");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_transport_timeout);
	tcase_add_test(tc, test_handover_timeout);
	tcase_add_test(tc, test_handover_timeout_later_push);
	tcase_add_test(tc, test_ctdr_unknown);
	suite_add_tcase(s, tc);

	tc = tcase_create("activation");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_activated);
	suite_add_tcase(s, tc);

	tc = tcase_create("requested");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ctreq);
	tcase_add_test(tc, test_ctreq_forged);
	tcase_add_test(tc, test_ctar_predictive);
	tcase_add_test(tc, test_ctar_predictive_forged);
	suite_add_tcase(s, tc);

	return s;
}
