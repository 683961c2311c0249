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

#include "../../cxtp_encode.h"

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
 * Push pAR's IKE_SA to a peer, for a gateway takeover or not, returns why
 * not
 */
static char *push_as(char *peer, bool takeover)
{
	ike_sa_t *ike_sa;
	char *reason;

	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													par_id);
	ck_assert(ike_sa);
	reason = ar->par->push(ar->par, ike_sa, peer, takeover);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	return reason;
}

static char *push_to(char *peer)
{
	return push_as(peer, FALSE);
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
 * (and the jobs that one queues)
 */
static void deliver(cxtp_message_t *message)
{
	cxtp_test_transport_deliver(transport, "nar", message);
	ck_assert(cxtp_charon_run_jobs() >= 1);
}

/**
 * The transfer ID of the n-th context pAR sent
 */
static cxtp_transfer_id_t sent_id(u_int n)
{
	cxtp_test_sent_t *sent;
	cxtp_transfer_id_t id;
	u_int pctds;

	pctds = cxtp_test_transport_count(transport, CXTP_PCTD);
	sent = n < pctds ? cxtp_test_transport_get(transport, CXTP_PCTD, n)
					 : cxtp_test_transport_get(transport, CXTP_CTD, n - pctds);
	ck_assert(sent->message->get_transfer_id(sent->message, &id));
	return id;
}

/**
 * Deliver nAR's CTDR for a transfer
 */
static void deliver_ctdr_for(cxtp_transfer_id_t id, bool success,
							 uint8_t status)
{
	cxtp_message_t *ctdr;
	host_t *mn = cxtp_test_host(MN_OLD);

	ctdr = cxtp_message_create(CXTP_CTDR, mn);
	ctdr->set_success(ctdr, success);
	ck_assert(ctdr->set_transfer_id(ctdr, &id));
	if (status)
	{
		ck_assert(ctdr->add_status(ctdr, CXTP_FPT_IKE_SA, status));
	}
	deliver(ctdr);
	mn->destroy(mn);
}

/**
 * Deliver nAR's CTDR for the first transfer
 */
static void deliver_ctdr(bool success, uint8_t status)
{
	deliver_ctdr_for(sent_id(0), success, status);
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
 * Assert that a transfer ID names pAR's IKE_SA
 */
static void assert_names_ike_sa(cxtp_transfer_id_t *id)
{
	ike_sa_t *ike_sa;
	ike_sa_id_t *ike_sa_id;

	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													par_id);
	ck_assert(ike_sa);
	ike_sa_id = ike_sa->get_id(ike_sa);
	ck_assert(id->spi_i == ike_sa_id->get_initiator_spi(ike_sa_id));
	ck_assert(id->spi_r == ike_sa_id->get_responder_spi(ike_sa_id));
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	ck_assert(id->serial);
}

/**
 * Assert that a PCTD/CTD carries pAR's context for the mobile node
 */
static void assert_context(cxtp_test_sent_t *sent, cxtp_message_type_t type)
{
	cxtp_message_t *message = sent->message;
	host_t *mn = cxtp_test_host(MN_OLD);
	chunk_t key = cxtp_test_token_key(env, env->mn);
	cxtp_transfer_id_t id;

	ck_assert_int_eq(message->get_type(message), type);
	ck_assert_str_eq(sent->peer, "nar");
	ck_assert(sent->reliable);
	ck_assert(message->get_transfer_id(message, &id));
	assert_names_ike_sa(&id);
	/* answers to it acknowledge it */
	ck_assert_int_eq(sent->id, id.serial);
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
 * Assert the n-th CTC pAR sent withdraws a transfer, reliably or not
 */
static void assert_ctc(u_int n, cxtp_transfer_id_t id, bool reliable)
{
	cxtp_test_sent_t *sent;
	cxtp_transfer_id_t got;
	host_t *mn = cxtp_test_host(MN_OLD);

	ck_assert(cxtp_test_transport_count(transport, CXTP_CTC) > n);
	sent = cxtp_test_transport_get(transport, CXTP_CTC, n);
	ck_assert_str_eq(sent->peer, "nar");
	ck_assert(sent->reliable == reliable);
	if (reliable)
	{
		ck_assert_int_eq(sent->id, id.serial);
	}
	ck_assert(sent->message->get_transfer_id(sent->message, &got));
	ck_assert(cxtp_transfer_id_equals(&got, &id));
	ck_assert(mn->ip_equals(mn, sent->message->get_mn_address(sent->message)));
	mn->destroy(mn);
}

/**
 * Assert the IKE_SA is frozen, its transfer pending, nothing reported yet
 */
static void assert_frozen()
{
	ck_assert_int_eq(cxtp_charon_state(par_id), IKE_PASSIVE);
	ck_assert_str_eq(transfer_state(), "pending");
	ck_assert_int_eq(cxtp_test_events_count("par", "failure"), 0);
	ck_assert_int_eq(cxtp_test_events_count("par", "thaw"), 0);
	ck_assert_int_eq(cxtp_test_events_count("par", "cancel"), 0);
	ck_assert_int_eq(cxtp_test_events_count("par", "activate"), 0);
}

/**
 * Assert the IKE_SA was thawed once, with an event of a name
 */
static void assert_thawed_with(char *name, char *error)
{
	cxtp_test_event_t *event;

	ck_assert_int_eq(cxtp_test_events_count("par", name), 1);
	ck_assert_int_eq(cxtp_charon_state(par_id), IKE_ESTABLISHED);
	event = cxtp_test_events_get("par", name, 0);
	ck_assert_int_eq(event->ike_id, par_id);
	ck_assert_str_eq(event->peer, "nar");
	if (error)
	{
		ck_assert_str_eq(event->error, error);
	}
	ck_assert(!transfer_state());
	/* its CHILD_SA kept working all along */
	ck_assert_int_eq(cxtp_test_kernel_count(par_id), 2);
	ck_assert_int_eq(cxtp_test_events_count("par", "activate"), 0);
	/* and it was not a DELETE that thawed it */
	ck_assert(!exchange_test_helper->sender->dequeue(
												exchange_test_helper->sender));
}

static void assert_thawed()
{
	assert_thawed_with("failure", NULL);
}

/**
 * Assert the IKE_SA is gone without a DELETE, with one event of a name and
 * none of the others: activated on nAR, or superseded there by a new IKE_SA
 * of the mobile node
 */
static void assert_removed_with(char *name)
{
	cxtp_test_event_t *event;
	char *others[] = { "activate", "supersede", "failure", "thaw" };
	int i;

	ck_assert_int_eq(cxtp_test_events_count("par", name), 1);
	event = cxtp_test_events_get("par", name, 0);
	ck_assert_int_eq(event->ike_id, par_id);
	ck_assert_str_eq(event->peer, "nar");
	/* gone with its kernel state, nAR continues it or the node left it */
	ck_assert_int_eq(cxtp_charon_state(par_id), IKE_DESTROYING);
	ck_assert_int_eq(cxtp_charon_count(), 0);
	ck_assert_int_eq(cxtp_test_kernel_count(par_id), 0);
	/* without a DELETE to the mobile node */
	ck_assert(!exchange_test_helper->sender->dequeue(
												exchange_test_helper->sender));
	for (i = 0; i < countof(others); i++)
	{
		if (!streq(others[i], name))
		{
			ck_assert_int_eq(cxtp_test_events_count("par", others[i]), 0);
		}
	}
}

static void assert_removed()
{
	assert_removed_with("activate");
}

START_TEST(test_push)
{
	cxtp_test_event_t *event;
	cxtp_message_t *pctd;
	host_t *mn = cxtp_test_host(MN_OLD);

	push();
	assert_frozen();
	ck_assert_int_eq(cxtp_test_transport_count(transport, 0), 1);
	assert_context(cxtp_test_transport_get(transport, CXTP_PCTD, 0), CXTP_PCTD);
	/* nAR waits for the mobile node */
	pctd = cxtp_test_transport_get(transport, CXTP_PCTD, 0)->message;
	ck_assert(!pctd->get_takeover(pctd));
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

START_TEST(test_push_takeover)
{
	cxtp_test_sent_t *sent;
	char *reason;

	reason = push_as("nar", TRUE);
	ck_assert_msg(!reason, "push failed: %s", reason);
	assert_frozen();
	sent = cxtp_test_transport_get(transport, CXTP_PCTD, 0);
	assert_context(sent, CXTP_PCTD);
	/* nAR activates it at once, the node stays where it is */
	ck_assert(sent->message->get_takeover(sent->message));
	ck_assert_int_eq(cxtp_test_kernel_count(par_id), 2);
	/* the one CTDR a takeover gets: removed without a DELETE */
	deliver_ctdr(TRUE, CXTP_STATUS_ACTIVATED);
	assert_removed();
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 0);
}
END_TEST

START_TEST(test_push_takeover_refused)
{
	char *reason;

	reason = push_as("nar", TRUE);
	ck_assert_msg(!reason, "push failed: %s", reason);
	deliver_ctdr(FALSE, CXTP_STATUS_FAILED);
	assert_thawed();
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 0);
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

/**
 * The inbound SPI of pAR's CHILD_SA
 */
static uint32_t child_spi_in()
{
	enumerator_t *enumerator;
	child_sa_t *child_sa;
	ike_sa_t *ike_sa;
	uint32_t spi;

	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													par_id);
	ck_assert(ike_sa);
	enumerator = ike_sa->create_child_sa_enumerator(ike_sa);
	ck_assert(enumerator->enumerate(enumerator, &child_sa));
	spi = child_sa->get_spi(child_sa, TRUE);
	enumerator->destroy(enumerator);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	return spi;
}

/**
 * Process the next message pAR sent on the mobile node's IKE_SA, and its
 * response on pAR's
 */
static void exchange_with_mn()
{
	ike_sa_t *ike_sa;

	exchange_test_helper->process_message(exchange_test_helper, env->mn,
										  NULL);
	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													par_id);
	ck_assert(ike_sa);
	exchange_test_helper->process_message(exchange_test_helper, ike_sa, NULL);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
}

START_TEST(test_push_exchange_in_flight)
{
	ike_sa_t *ike_sa;
	char *reason;

	/* a DPD of ours waits for its response */
	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													par_id);
	ck_assert(ike_sa);
	ck_assert(ike_sa->send_dpd(ike_sa) == SUCCESS);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);

	/* nAR's MOBIKE update would reuse its message ID */
	reason = push_to("nar");
	ck_assert(reason);
	ck_assert_msg(strstr(reason, "exchange we started (message ID 0) is in "
						 "progress"), "%s", reason);
	free(reason);
	ck_assert_int_eq(cxtp_charon_state(par_id), IKE_ESTABLISHED);
	ck_assert_int_eq(cxtp_test_transport_count(transport, 0), 0);

	/* once answered, the next request would have ID 1, so would nAR's */
	exchange_with_mn();
	push();
	ck_assert_int_eq(cxtp_test_transport_count(transport, CXTP_PCTD), 1);
}
END_TEST

START_TEST(test_push_after_rekey)
{
	enumerator_t *enumerator;
	child_sa_t *child_sa;
	ike_sa_t *ike_sa;
	uint32_t old, spi;
	int children = 0;
	cxtp_message_t *pctd;
	cxtp_child_context_t *child;
	cxtp_cdb_t *cdb;

	old = child_spi_in();
	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													par_id);
	ck_assert(ike_sa);
	ike_sa->rekey_child_sa(ike_sa, PROTO_ESP, old);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	/* the rekeying, then the DELETE of the old CHILD_SA */
	exchange_with_mn();
	exchange_with_mn();

	/* the old one lingers for inbound packets in flight, not transferred */
	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													par_id);
	ck_assert(ike_sa);
	enumerator = ike_sa->create_child_sa_enumerator(ike_sa);
	while (enumerator->enumerate(enumerator, &child_sa))
	{
		children++;
		if (child_sa->get_spi(child_sa, TRUE) == old)
		{
			ck_assert_int_eq(child_sa->get_state(child_sa), CHILD_DELETED);
		}
		else
		{
			spi = child_sa->get_spi(child_sa, TRUE);
		}
	}
	enumerator->destroy(enumerator);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	ck_assert_int_eq(children, 2);

	push();
	pctd = cxtp_test_transport_get(transport, CXTP_PCTD, 0)->message;
	ck_assert_int_eq(count_cdbs(pctd, CXTP_FPT_CHILD_SA), 1);
	enumerator = pctd->create_cdb_enumerator(pctd);
	while (enumerator->enumerate(enumerator, &cdb))
	{
		if (cdb->fpt == CXTP_FPT_CHILD_SA)
		{
			child = cxtp_decode_child(cdb->data);
			ck_assert(child);
			ck_assert_int_eq(child->spi_in, spi);
			cxtp_child_context_destroy(child);
		}
	}
	enumerator->destroy(enumerator);
}
END_TEST

START_TEST(test_refused)
{
	push();
	deliver_ctdr(FALSE, CXTP_STATUS_FAILED);
	assert_thawed();
	ck_assert(cxtp_test_transport_acked(transport, sent_id(0).serial));
}
END_TEST

START_TEST(test_transport_timeout)
{
	cxtp_transfer_id_t id;

	push();
	id = sent_id(0);
	/* what the transport reports after its last retransmission: nAR may
	 * have imported the context, and activated it, with its CTDRs lost */
	transport->timeout(transport->timeout_data, "nar", id.serial);
	assert_frozen();
	ck_assert_int_eq(cxtp_test_transport_count(transport, CXTP_CTC), 1);
	assert_ctc(0, id, TRUE);

	deliver_ctdr(TRUE, CXTP_STATUS_CANCELLED);
	assert_thawed_with("thaw", "no answer to the context");
	ck_assert(cxtp_test_transport_acked(transport, id.serial));
}
END_TEST

START_TEST(test_transport_timeout_activated)
{
	push();
	transport->timeout(transport->timeout_data, "nar", sent_id(0).serial);
	/* a late answer to the PCTD does not end the wait for the CTC's */
	deliver_ctdr(TRUE, 0);
	assert_frozen();
	ck_assert(!cxtp_test_transport_acked(transport, sent_id(0).serial));
	ck_assert_int_eq(cxtp_charon_scheduled(HANDOVER_TIMEOUT * 1000), 0);
	deliver_ctdr(TRUE, CXTP_STATUS_ACTIVATED);
	assert_removed();
}
END_TEST

START_TEST(test_unreachable)
{
	cxtp_test_event_t *event;
	message_t *message;
	u_int serial;

	push();
	serial = sent_id(0).serial;
	transport->timeout(transport->timeout_data, "nar", serial);
	/* no answer to the CTC either: nAR may hold the IKE_SA live */
	transport->timeout(transport->timeout_data, "nar", serial);
	ck_assert_int_eq(cxtp_charon_state(par_id), IKE_DESTROYING);
	ck_assert_int_eq(cxtp_test_kernel_count(par_id), 0);
	ck_assert_int_eq(cxtp_test_events_count("par", "failure"), 1);
	event = cxtp_test_events_get("par", "failure", 0);
	ck_assert_str_eq(event->error, "peer did not answer, IKE_SA deleted");
	ck_assert_int_eq(cxtp_test_events_count("par", "thaw"), 0);

	/* the mobile node, not moved, accepts the DELETE pAR sent */
	message = exchange_test_helper->sender->dequeue(
												exchange_test_helper->sender);
	ck_assert(message);
	ck_assert_int_eq(message->get_exchange_type(message), INFORMATIONAL);
	ck_assert_int_eq(exchange_test_helper->process_message(
						exchange_test_helper, env->mn, message), DESTROY_ME);
}
END_TEST

START_TEST(test_unreachable_after_activation)
{
	message_t *message;
	u_int serial;

	push();
	serial = sent_id(0).serial;

	/* nAR activated it and took the message ID pAR would use next for its
	 * MOBIKE update, which the node answered */
	env->mn->set_message_id(env->mn, FALSE, 1);

	transport->timeout(transport->timeout_data, "nar", serial);
	transport->timeout(transport->timeout_data, "nar", serial);
	ck_assert_int_eq(cxtp_charon_state(par_id), IKE_DESTROYING);
	/* the node takes pAR's DELETE for a retransmission and keeps its SA */
	message = exchange_test_helper->sender->dequeue(
												exchange_test_helper->sender);
	ck_assert(message);
	ck_assert(exchange_test_helper->process_message(
						exchange_test_helper, env->mn, message) != DESTROY_ME);
	ck_assert_int_eq(env->mn->get_state(env->mn), IKE_ESTABLISHED);
}
END_TEST

START_TEST(test_handover_timeout)
{
	cxtp_transfer_id_t id;

	push();
	id = sent_id(0);
	deliver_ctdr(TRUE, 0);
	/* imported there: no retransmission, and the wait for activation */
	ck_assert(cxtp_test_transport_acked(transport, id.serial));
	ck_assert_int_eq(cxtp_charon_scheduled(HANDOVER_TIMEOUT * 1000), 1);
	assert_frozen();
	cxtp_charon_run_scheduled(HANDOVER_TIMEOUT * 1000);
	/* not activated in time: pAR asks before it thaws */
	assert_frozen();
	assert_ctc(0, id, TRUE);
	deliver_ctdr(TRUE, CXTP_STATUS_CANCELLED);
	assert_thawed_with("thaw", "not activated in time");
}
END_TEST

START_TEST(test_handover_timeout_activated)
{
	push();
	deliver_ctdr(TRUE, 0);
	/* nAR's CTDR about the activation got lost */
	cxtp_charon_run_scheduled(HANDOVER_TIMEOUT * 1000);
	assert_frozen();
	deliver_ctdr(TRUE, CXTP_STATUS_ACTIVATED);
	assert_removed();
}
END_TEST

START_TEST(test_expired_on_nar)
{
	push();
	deliver_ctdr(TRUE, 0);
	/* nAR dropped the import itself, no need to wait */
	deliver_ctdr(TRUE, CXTP_STATUS_CANCELLED);
	assert_thawed_with("thaw", "peer dropped the context");
	/* and the timer does nothing */
	cxtp_charon_run_scheduled(HANDOVER_TIMEOUT * 1000);
	ck_assert_int_eq(cxtp_test_transport_count(transport, CXTP_CTC), 0);
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
	deliver_ctdr_for(sent_id(1), TRUE, 0);
	ck_assert_int_eq(cxtp_charon_scheduled(HANDOVER_TIMEOUT * 1000), 2);
	cxtp_charon_run_scheduled(HANDOVER_TIMEOUT * 1000);
	ck_assert_int_eq(cxtp_charon_state(par_id), IKE_PASSIVE);
	ck_assert_int_eq(cxtp_test_transport_count(transport, CXTP_CTC), 0);
	/* its own timer asks nAR */
	cxtp_charon_run_scheduled(HANDOVER_TIMEOUT * 1000);
	assert_ctc(0, sent_id(1), TRUE);
	deliver_ctdr_for(sent_id(1), TRUE, CXTP_STATUS_CANCELLED);
	ck_assert_int_eq(cxtp_test_events_count("par", "thaw"), 1);
	ck_assert_int_eq(cxtp_charon_state(par_id), IKE_ESTABLISHED);
}
END_TEST

START_TEST(test_activated)
{
	push();
	deliver_ctdr(TRUE, 0);
	deliver_ctdr(TRUE, CXTP_STATUS_ACTIVATED);
	assert_removed();
}
END_TEST

START_TEST(test_superseded)
{
	push();
	deliver_ctdr(TRUE, 0);
	deliver_ctdr(TRUE, CXTP_STATUS_SUPERSEDED);
	assert_removed_with("supersede");
	/* and its handover timer does nothing more */
	cxtp_charon_run_scheduled(HANDOVER_TIMEOUT * 1000);
	ck_assert_int_eq(cxtp_test_transport_count(transport, CXTP_CTC), 0);
}
END_TEST

START_TEST(test_superseded_after_timeout)
{
	cxtp_transfer_id_t id;

	push();
	id = sent_id(0);
	deliver_ctdr(TRUE, 0);
	/* nAR's CTDR saying so got lost, it answers the CTC alike */
	cxtp_charon_run_scheduled(HANDOVER_TIMEOUT * 1000);
	assert_frozen();
	assert_ctc(0, id, TRUE);
	deliver_ctdr(TRUE, CXTP_STATUS_SUPERSEDED);
	assert_removed_with("supersede");
}
END_TEST

START_TEST(test_ctdr_unknown)
{
	cxtp_message_t *ctdr;
	cxtp_transfer_id_t id;
	host_t *other = cxtp_test_host("192.0.2.99");

	push();
	/* activation of another mobile node's context */
	id = sent_id(0);
	id.spi_i++;
	ctdr = cxtp_message_create(CXTP_CTDR, other);
	ctdr->set_success(ctdr, TRUE);
	ck_assert(ctdr->set_transfer_id(ctdr, &id));
	ck_assert(ctdr->add_status(ctdr, CXTP_FPT_IKE_SA, CXTP_STATUS_ACTIVATED));
	deliver(ctdr);
	other->destroy(other);
	/* of another transfer of this IKE_SA */
	id = sent_id(0);
	id.serial++;
	deliver_ctdr_for(id, TRUE, CXTP_STATUS_ACTIVATED);
	/* of no transfer at all */
	ctdr = cxtp_message_create(CXTP_CTDR, cxtp_test_host(MN_OLD));
	ctdr->set_success(ctdr, TRUE);
	ck_assert(ctdr->add_status(ctdr, CXTP_FPT_IKE_SA, CXTP_STATUS_ACTIVATED));
	deliver(ctdr);
	assert_frozen();
	ck_assert(!cxtp_test_transport_acked(transport, sent_id(0).serial));
}
END_TEST

START_TEST(test_ctdr_stale_import)
{
	cxtp_transfer_id_t id;

	push();
	id = sent_id(0);
	id.serial += 10;
	/* nAR imported a context we no longer stand by: it must not keep it */
	deliver_ctdr_for(id, TRUE, 0);
	assert_ctc(0, id, FALSE);
	ck_assert(cxtp_test_transport_acked(transport, id.serial));
	assert_frozen();
	/* its answer ends it */
	deliver_ctdr_for(id, TRUE, CXTP_STATUS_CANCELLED);
	ck_assert_int_eq(cxtp_test_transport_count(transport, CXTP_CTC), 1);
	assert_frozen();
}
END_TEST

/**
 * Delete pAR's IKE_SA as swanctl --terminate does a passive one
 */
static void terminate()
{
	ike_sa_t *ike_sa;

	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													par_id);
	ck_assert(ike_sa);
	ck_assert(ike_sa->delete(ike_sa, FALSE) == DESTROY_ME);
	charon->ike_sa_manager->checkin_and_destroy(charon->ike_sa_manager, ike_sa);
}

START_TEST(test_terminated)
{
	cxtp_test_event_t *event;
	cxtp_transfer_id_t id;
	enumerator_t *enumerator;
	cxtp_transfer_info_t *info;

	push();
	id = sent_id(0);
	deliver_ctdr(TRUE, 0);
	terminate();
	/* the transfer goes with it, withdrawn from nAR */
	ck_assert_int_eq(cxtp_charon_count(), 0);
	enumerator = ar->par->create_transfer_enumerator(ar->par);
	ck_assert(!enumerator->enumerate(enumerator, &info));
	enumerator->destroy(enumerator);
	assert_ctc(0, id, TRUE);
	ck_assert_int_eq(cxtp_test_events_count("par", "failure"), 1);
	event = cxtp_test_events_get("par", "failure", 0);
	ck_assert_int_eq(event->ike_id, par_id);
	ck_assert_str_eq(event->error, "IKE_SA deleted, context withdrawn");

	/* nAR's late answers are booked against nothing */
	deliver_ctdr(TRUE, CXTP_STATUS_ACTIVATED);
	deliver_ctdr(TRUE, CXTP_STATUS_CANCELLED);
	ck_assert(cxtp_test_transport_acked(transport, id.serial));
	ck_assert_int_eq(cxtp_test_events_count("par", "activate"), 0);
	ck_assert_int_eq(cxtp_test_events_count("par", "failure"), 1);
	/* its timer does nothing either */
	cxtp_charon_run_scheduled(HANDOVER_TIMEOUT * 1000);
	ck_assert_int_eq(cxtp_test_transport_count(transport, CXTP_CTC), 1);
}
END_TEST

START_TEST(test_cancel)
{
	cxtp_transfer_id_t id;
	char *reason;

	push();
	id = sent_id(0);
	deliver_ctdr(TRUE, 0);
	reason = ar->par->cancel(ar->par, par_id);
	ck_assert_msg(!reason, "%s", reason);
	/* frozen until nAR confirms */
	assert_frozen();
	assert_ctc(0, id, TRUE);
	/* a repeated cancel sends nothing more */
	reason = ar->par->cancel(ar->par, par_id);
	ck_assert(!reason);
	ck_assert_int_eq(cxtp_test_transport_count(transport, CXTP_CTC), 1);
	deliver_ctdr(TRUE, CXTP_STATUS_CANCELLED);
	assert_thawed_with("cancel", "cancelled by the operator");
	ck_assert(cxtp_test_transport_acked(transport, id.serial));
}
END_TEST

START_TEST(test_cancel_sent)
{
	push();
	/* withdrawn before nAR answered the PCTD */
	ck_assert(!ar->par->cancel(ar->par, par_id));
	assert_ctc(0, sent_id(0), TRUE);
	deliver_ctdr(TRUE, 0);
	assert_frozen();
	deliver_ctdr(TRUE, CXTP_STATUS_CANCELLED);
	assert_thawed_with("cancel", NULL);
}
END_TEST

START_TEST(test_cancel_too_late)
{
	push();
	deliver_ctdr(TRUE, 0);
	ck_assert(!ar->par->cancel(ar->par, par_id));
	deliver_ctdr(TRUE, CXTP_STATUS_ACTIVATED);
	assert_removed();
}
END_TEST

START_TEST(test_cancel_nothing)
{
	char *reason;

	reason = ar->par->cancel(ar->par, par_id);
	ck_assert(reason);
	free(reason);
	ck_assert_int_eq(cxtp_test_transport_count(transport, 0), 0);
	ck_assert_int_eq(cxtp_charon_state(par_id), IKE_ESTABLISHED);
}
END_TEST

/**
 * Let the kernel report the expiry of pAR's inbound SA, and run the job
 * charon creates for it
 */
static void expire(bool hard)
{
	cxtp_test_sa_t *sa;
	host_t *dst;

	sa = cxtp_test_kernel_find(par_id, child_spi_in(), TRUE);
	ck_assert(sa);
	dst = sa->dst->clone(sa->dst);
	charon->kernel->expire(charon->kernel, IPPROTO_ESP, sa->spi, dst, hard);
	dst->destroy(dst);
	cxtp_charon_run_jobs();
}

/**
 * A CT-Req from a peer, with the mobile node's token if valid
 */
static void deliver_ctreq_from(char *peer, bool valid)
{
	cxtp_message_t *ctreq;

	/* the node sent its CTAR to the peer that asks */
	ctreq = cxtp_test_mn_request(env, CXTP_CTREQ, PAR, 4711,
								 valid ? 4711 : 4712, FALSE, MN_NEW,
								 streq(peer, "nar") ? NAR : PAR);
	cxtp_test_transport_deliver(transport, peer, ctreq);
	ck_assert_int_eq(cxtp_charon_run_jobs(), 1);
}

static void deliver_ctreq(bool valid)
{
	deliver_ctreq_from("nar", valid);
}

/**
 * Assert pAR sent the mobile node a request of an exchange type
 */
static void assert_sent(exchange_type_t type)
{
	message_t *message;

	message = exchange_test_helper->sender->dequeue(
												exchange_test_helper->sender);
	ck_assert(message);
	ck_assert_int_eq(message->get_exchange_type(message), type);
	message->destroy(message);
}

START_TEST(test_rekey_after_freeze)
{
	push();
	expire(FALSE);
	/* refused while frozen */
	ck_assert(!exchange_test_helper->sender->dequeue(
												exchange_test_helper->sender));
	deliver_ctdr(FALSE, CXTP_STATUS_FAILED);
	/* thawed, the rekeying runs */
	cxtp_charon_run_jobs();
	assert_sent(CREATE_CHILD_SA);
}
END_TEST

START_TEST(test_delete_after_freeze)
{
	message_t *message;

	push();
	expire(FALSE);
	expire(TRUE);
	ck_assert(!exchange_test_helper->sender->dequeue(
												exchange_test_helper->sender));
	deliver_ctdr(TRUE, 0);
	cxtp_charon_run_scheduled(HANDOVER_TIMEOUT * 1000);
	deliver_ctdr(TRUE, CXTP_STATUS_CANCELLED);
	/* thawed, the expired CHILD_SA goes, with a DELETE */
	cxtp_charon_run_jobs();
	message = exchange_test_helper->sender->dequeue(
												exchange_test_helper->sender);
	ck_assert(message);
	ck_assert_int_eq(message->get_exchange_type(message), INFORMATIONAL);
	ck_assert_int_eq(env->mn->get_child_count(env->mn), 1);
	exchange_test_helper->process_message(exchange_test_helper, env->mn,
										  message);
	ck_assert_int_eq(env->mn->get_child_count(env->mn), 0);
}
END_TEST

START_TEST(test_ike_rekey_after_freeze)
{
	ike_sa_t *ike_sa;

	push();
	/* the IKE_SA's rekeying fell due meanwhile */
	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													par_id);
	ck_assert(ike_sa);
	ike_sa->set_statistic(ike_sa, STAT_REKEY, time_monotonic(NULL) - 1);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	deliver_ctdr(FALSE, CXTP_STATUS_FAILED);
	cxtp_charon_run_jobs();
	assert_sent(CREATE_CHILD_SA);
}
END_TEST

START_TEST(test_rekey_after_redirect)
{
	cxtp_message_t *ctdr;
	cxtp_test_sent_t *sent;
	cxtp_transfer_id_t id;
	host_t *mn = cxtp_test_host(MN_OLD);

	push();
	deliver_ctdr(TRUE, 0);
	expire(FALSE);
	/* sent elsewhere once nAR confirmed: frozen all along */
	deliver_ctreq_from("par", TRUE);
	deliver_ctdr(TRUE, CXTP_STATUS_CANCELLED);
	ck_assert(!exchange_test_helper->sender->dequeue(
												exchange_test_helper->sender));
	sent = cxtp_test_transport_get(transport, CXTP_CTD, 0);
	ck_assert(sent->message->get_transfer_id(sent->message, &id));
	/* the other router refuses: thawed, the rekeying that fell due runs */
	ctdr = cxtp_message_create(CXTP_CTDR, mn);
	ck_assert(ctdr->set_transfer_id(ctdr, &id));
	ck_assert(ctdr->add_status(ctdr, CXTP_FPT_IKE_SA, CXTP_STATUS_FAILED));
	cxtp_test_transport_deliver(transport, "par", ctdr);
	cxtp_charon_run_jobs();
	ck_assert_int_eq(cxtp_charon_state(par_id), IKE_ESTABLISHED);
	assert_sent(CREATE_CHILD_SA);
	mn->destroy(mn);
}
END_TEST

START_TEST(test_no_rekey_after_activation)
{
	push();
	expire(FALSE);
	deliver_ctdr(TRUE, CXTP_STATUS_ACTIVATED);
	cxtp_charon_run_jobs();
	/* nAR rekeys it now */
	ck_assert(!exchange_test_helper->sender->dequeue(
												exchange_test_helper->sender));
}
END_TEST

START_TEST(test_ctreq)
{
	deliver_ctreq(TRUE);
	ck_assert_int_eq(cxtp_test_transport_count(transport, CXTP_CTD), 1);
	assert_context(cxtp_test_transport_get(transport, CXTP_CTD, 0), CXTP_CTD);
	ck_assert_int_eq(cxtp_charon_state(par_id), IKE_PASSIVE);
	ck_assert_int_eq(cxtp_test_events_count("par", "export"), 1);
}
END_TEST

START_TEST(test_ctreq_during_liveness_check)
{
	ike_sa_t *ike_sa;

	/* our DPD went to the node's previous address, which is gone */
	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													par_id);
	ck_assert(ike_sa);
	ck_assert(ike_sa->send_dpd(ike_sa) == SUCCESS);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);

	/* the node's token shows it alive at nAR, the check must not block */
	deliver_ctreq(TRUE);
	ck_assert_int_eq(cxtp_test_transport_count(transport, CXTP_CTD), 1);
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

START_TEST(test_ctreq_after_push)
{
	cxtp_transfer_id_t first, second;

	push();
	first = sent_id(0);
	deliver_ctdr(TRUE, 0);
	/* the node arrived at nAR, which lost its import: sent again, as a
	 * transfer of its own */
	deliver_ctreq(TRUE);
	ck_assert_int_eq(cxtp_test_transport_count(transport, CXTP_CTD), 1);
	assert_context(cxtp_test_transport_get(transport, CXTP_CTD, 0), CXTP_CTD);
	second = sent_id(1);
	ck_assert(second.serial != first.serial);
	ck_assert(cxtp_test_transport_acked(transport, first.serial));
	assert_frozen();
	/* the first one's answers count no more */
	deliver_ctdr_for(first, TRUE, CXTP_STATUS_CANCELLED);
	assert_frozen();
	deliver_ctdr_for(second, TRUE, 0);
	deliver_ctdr_for(second, TRUE, CXTP_STATUS_ACTIVATED);
	assert_removed();
}
END_TEST

START_TEST(test_ctreq_elsewhere)
{
	cxtp_test_sent_t *sent;
	cxtp_transfer_id_t id;

	/* pushed to the wrong router */
	push();
	id = sent_id(0);
	deliver_ctdr(TRUE, 0);
	/* the node arrived at another one (here called "par"), which asks */
	deliver_ctreq_from("par", TRUE);
	ck_assert_int_eq(cxtp_test_transport_count(transport, CXTP_CTD), 0);
	assert_ctc(0, id, TRUE);
	assert_frozen();
	/* withdrawn from the first, sent to the second */
	deliver_ctdr(TRUE, CXTP_STATUS_CANCELLED);
	ck_assert_int_eq(cxtp_test_events_count("par", "cancel"), 1);
	ck_assert_int_eq(cxtp_test_transport_count(transport, CXTP_CTD), 1);
	sent = cxtp_test_transport_get(transport, CXTP_CTD, 0);
	ck_assert_str_eq(sent->peer, "par");
	ck_assert_int_eq(cxtp_charon_state(par_id), IKE_PASSIVE);
	ck_assert_str_eq(transfer_state(), "pending");
}
END_TEST

/**
 * The mobile node's CTAR before its move, naming nAR
 */
static void process_ctar(bool valid)
{
	cxtp_message_t *ctar;

	ctar = cxtp_test_mn_request(env, CXTP_CTAR, NAR, 815, valid ? 815 : 816,
								FALSE, MN_OLD, PAR);
	cxtp_test_icmp_deliver(icmp, MN_OLD, PAR, ctar);
	/* processed in a job, off the ICMP watcher */
	ck_assert_int_eq(cxtp_charon_run_jobs(), 1);
}

START_TEST(test_ctar_predictive)
{
	process_ctar(TRUE);
	ck_assert_int_eq(cxtp_charon_run_jobs(), 0);
	ck_assert_int_eq(cxtp_test_transport_count(transport, CXTP_PCTD), 1);
	assert_context(cxtp_test_transport_get(transport, CXTP_PCTD, 0), CXTP_PCTD);
	ck_assert_int_eq(cxtp_charon_state(par_id), IKE_PASSIVE);
	/* the CTAA comes from nAR after the move */
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 0);
}
END_TEST

START_TEST(test_ctar_after_move)
{
	/* moved away: a CTAR for the old address finds no IKE_SA there */
	cxtp_charon_move(par_id, MN_NEW);
	process_ctar(TRUE);
	ck_assert_int_eq(cxtp_charon_run_jobs(), 0);
	ck_assert_int_eq(cxtp_test_transport_count(transport, 0), 0);
	ck_assert_int_eq(cxtp_charon_state(par_id), IKE_ESTABLISHED);
	/* back: found where it is */
	cxtp_charon_move(par_id, MN_OLD);
	process_ctar(TRUE);
	ck_assert_int_eq(cxtp_charon_run_jobs(), 0);
	ck_assert_int_eq(cxtp_test_transport_count(transport, CXTP_PCTD), 1);
	ck_assert_int_eq(cxtp_charon_state(par_id), IKE_PASSIVE);
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

/**
 * Deliver a copy of the first predictive CTAR pAR got, as an attacker on its
 * link who captured it would
 */
static void replay_ctar(cxtp_message_t *captured)
{
	cxtp_test_icmp_deliver(icmp, MN_OLD, PAR,
						   cxtp_test_message_copy(captured));
	ck_assert_int_eq(cxtp_charon_run_jobs(), 1);
}

/**
 * The transfer counter of pAR's IKE_SA
 */
static uint32_t par_counter()
{
	ike_sa_t *ike_sa;
	uint32_t counter;

	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													par_id);
	ck_assert(ike_sa);
	counter = env->transfers->get_transfers(env->transfers, ike_sa);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	return counter;
}

START_TEST(test_ctar_replayed)
{
	cxtp_message_t *captured;

	captured = cxtp_test_mn_request(env, CXTP_CTAR, NAR, 815, 815, FALSE,
									MN_OLD, PAR);
	replay_ctar(captured);
	ck_assert_int_eq(cxtp_test_transport_count(transport, CXTP_PCTD), 1);
	/* the token is used up: the next one needs the next key */
	ck_assert_int_eq(par_counter(), 1);
	assert_frozen();

	/* while the transfer is in progress */
	replay_ctar(captured);
	ck_assert_int_eq(cxtp_test_transport_count(transport, CXTP_PCTD), 1);

	/* and after it was cancelled: nothing frozen, nothing pushed */
	ck_assert(!ar->par->cancel(ar->par, par_id));
	deliver_ctdr(TRUE, CXTP_STATUS_CANCELLED);
	assert_thawed_with("cancel", NULL);
	replay_ctar(captured);
	ck_assert_int_eq(cxtp_test_transport_count(transport, CXTP_PCTD), 1);
	ck_assert_int_eq(cxtp_charon_state(par_id), IKE_ESTABLISHED);
	ck_assert(!transfer_state());
	ck_assert_int_eq(par_counter(), 1);
	captured->destroy(captured);
}
END_TEST

START_TEST(test_ctar_rewritten_ar)
{
	cxtp_message_t *ctar;
	host_t *other = cxtp_test_host(PAR);

	/* the CTAR names nAR; a copy naming another configured peer fails the
	 * token, which covers the field */
	ctar = cxtp_test_mn_request(env, CXTP_CTAR, NAR, 815, 815, FALSE,
								MN_OLD, PAR);
	ck_assert(ctar->set_ar_address(ctar, other));
	cxtp_test_icmp_deliver(icmp, MN_OLD, PAR, ctar);
	ck_assert_int_eq(cxtp_charon_run_jobs(), 1);
	ck_assert_int_eq(cxtp_test_transport_count(transport, 0), 0);
	ck_assert_int_eq(cxtp_charon_state(par_id), IKE_ESTABLISHED);
	/* nothing remembered, nothing used up */
	ck_assert_int_eq(par_counter(), 0);
	other->destroy(other);
}
END_TEST

START_TEST(test_ctar_other_destination)
{
	cxtp_message_t *ctar;

	/* the node's CTAR to nAR, sent to pAR instead */
	ctar = cxtp_test_mn_request(env, CXTP_CTAR, NAR, 815, 815, FALSE,
								MN_OLD, NAR);
	cxtp_test_icmp_deliver(icmp, MN_OLD, PAR, ctar);
	ck_assert_int_eq(cxtp_charon_run_jobs(), 1);
	ck_assert_int_eq(cxtp_test_transport_count(transport, 0), 0);
	ck_assert_int_eq(cxtp_charon_state(par_id), IKE_ESTABLISHED);
}
END_TEST

START_TEST(test_ctar_lookahead)
{
	cxtp_message_t *ctar;

	/* the node's CTARs of _i attempts got lost before pAR */
	env->transfers->set_transfers(env->transfers, env->mn, _i);
	ctar = cxtp_test_mn_request(env, CXTP_CTAR, NAR, 815, 815, FALSE,
								MN_OLD, PAR);
	cxtp_test_icmp_deliver(icmp, MN_OLD, PAR, ctar);
	ck_assert_int_eq(cxtp_charon_run_jobs(), 1);
	if (_i < CXTP_TOKEN_WINDOW)
	{
		ck_assert_int_eq(cxtp_test_transport_count(transport, CXTP_PCTD), 1);
		ck_assert_int_eq(par_counter(), _i + 1);
	}
	else
	{
		ck_assert_int_eq(cxtp_test_transport_count(transport, 0), 0);
		ck_assert_int_eq(par_counter(), 0);
	}
}
END_TEST

START_TEST(test_ctreq_replayed)
{
	deliver_ctreq(TRUE);
	ck_assert_int_eq(cxtp_test_transport_count(transport, CXTP_CTD), 1);
	/* a retransmission, or a copy a peer sends again */
	deliver_ctreq(TRUE);
	ck_assert_int_eq(cxtp_test_transport_count(transport, CXTP_CTD), 1);
	assert_frozen();
}
END_TEST

START_TEST(test_ctreq_after_predictive)
{
	cxtp_message_t *ctreq;

	/* the predictive CTAR pushed the context, nAR lost it, and asks with
	 * the CTAR the node sent it, the same attempt: its token key is the
	 * used up one */
	process_ctar(TRUE);
	ck_assert_int_eq(cxtp_test_transport_count(transport, CXTP_PCTD), 1);
	deliver_ctdr(TRUE, 0);
	ctreq = cxtp_test_mn_request(env, CXTP_CTREQ, PAR, 815, 815, TRUE,
								 MN_NEW, NAR);
	cxtp_test_transport_deliver(transport, "nar", ctreq);
	ck_assert_int_eq(cxtp_charon_run_jobs(), 1);
	ck_assert_int_eq(cxtp_test_transport_count(transport, CXTP_CTD), 1);
	assert_frozen();
}
END_TEST

START_TEST(test_ctreq_for_us)
{
	cxtp_message_t *ctreq;

	/* a peer wraps a CTAR that was sent to us */
	cxtp_test_net_set_address(PAR, TRUE);
	ctreq = cxtp_test_mn_request(env, CXTP_CTREQ, NAR, 815, 815, FALSE,
								 MN_OLD, PAR);
	cxtp_test_transport_deliver(transport, "nar", ctreq);
	cxtp_charon_run_jobs();
	ck_assert_int_eq(cxtp_test_transport_count(transport, 0), 0);
	ck_assert_int_eq(cxtp_charon_state(par_id), IKE_ESTABLISHED);
}
END_TEST

START_TEST(test_ctreq_for_another_peer)
{
	/* "par" asks with a CTAR the node sent to nAR */
	cxtp_message_t *ctreq;

	ctreq = cxtp_test_mn_request(env, CXTP_CTREQ, PAR, 4711, 4711, FALSE,
								 MN_NEW, NAR);
	cxtp_test_transport_deliver(transport, "par", ctreq);
	cxtp_charon_run_jobs();
	ck_assert_int_eq(cxtp_test_transport_count(transport, 0), 0);
	ck_assert_int_eq(cxtp_charon_state(par_id), IKE_ESTABLISHED);
	ck_assert_int_eq(par_counter(), 0);
}
END_TEST

START_TEST(test_ctreq_no_ike_sa)
{
	cxtp_test_sent_t *sent;
	cxtp_transfer_id_t id;
	cxtp_status_t *status;
	enumerator_t *enumerator;

	cxtp_charon_remove(par_id);
	deliver_ctreq(TRUE);
	/* one answer, not retransmitted, so nAR stops asking */
	ck_assert_int_eq(cxtp_test_transport_count(transport, 0), 1);
	ck_assert_int_eq(cxtp_test_transport_count(transport, CXTP_CTDR), 1);
	sent = cxtp_test_transport_get(transport, CXTP_CTDR, 0);
	ck_assert_str_eq(sent->peer, "nar");
	ck_assert(!sent->reliable);
	ck_assert(!sent->message->get_success(sent->message));
	ck_assert(!sent->message->get_transfer_id(sent->message, &id));
	ck_assert(cxtp_test_host_is(sent->message->get_mn_address(sent->message),
								MN_OLD));
	enumerator = sent->message->create_status_enumerator(sent->message);
	ck_assert(enumerator->enumerate(enumerator, &status));
	ck_assert_int_eq(status->fpt, CXTP_FPT_IKE_SA);
	ck_assert_int_eq(status->status, CXTP_STATUS_NO_CONTEXT);
	ck_assert(!enumerator->enumerate(enumerator, &status));
	enumerator->destroy(enumerator);
}
END_TEST

/**
 * A CTAR from an attacker naming nAR for the IKE_SA pAR froze after the
 * node's own CTAR: pAR holds the context, asking nAR for it would reflect
 * the CTAR there
 */
START_TEST(test_ctar_frozen_no_reflection)
{
	cxtp_message_t *ctar;

	process_ctar(TRUE);
	ck_assert_int_eq(cxtp_test_transport_count(transport, CXTP_PCTD), 1);
	ck_assert_int_eq(cxtp_charon_state(par_id), IKE_PASSIVE);

	ctar = cxtp_test_mn_request(env, CXTP_CTAR, NAR, 816, 816, FALSE,
								"192.0.2.66", PAR);
	cxtp_test_icmp_deliver(icmp, "192.0.2.66", PAR, ctar);
	ck_assert_int_eq(cxtp_charon_run_jobs(), 1);
	ck_assert_int_eq(cxtp_test_transport_count(transport, 0), 1);
	ck_assert_int_eq(cxtp_test_transport_count(transport, CXTP_CTREQ), 0);
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 0);
	ck_assert_str_eq(transfer_state(), "pending");
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
	tcase_add_test(tc, test_push_takeover);
	tcase_add_test(tc, test_push_takeover_refused);
	tcase_add_test(tc, test_push_unknown_peer);
	tcase_add_test(tc, test_push_twice);
	tcase_add_test(tc, test_push_send_fails);
	tcase_add_test(tc, test_push_exchange_in_flight);
	tcase_add_test(tc, test_push_after_rekey);
	suite_add_tcase(s, tc);

	tc = tcase_create("thaw");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_transport_timeout);
	tcase_add_test(tc, test_handover_timeout);
	tcase_add_test(tc, test_expired_on_nar);
	tcase_add_test(tc, test_handover_timeout_later_push);
	tcase_add_test(tc, test_ctdr_unknown);
	tcase_add_test(tc, test_ctdr_stale_import);
	suite_add_tcase(s, tc);

	tc = tcase_create("activation");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_activated);
	tcase_add_test(tc, test_transport_timeout_activated);
	tcase_add_test(tc, test_handover_timeout_activated);
	tcase_add_test(tc, test_superseded);
	tcase_add_test(tc, test_superseded_after_timeout);
	suite_add_tcase(s, tc);

	tc = tcase_create("unreachable");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_unreachable);
	tcase_add_test(tc, test_unreachable_after_activation);
	suite_add_tcase(s, tc);

	tc = tcase_create("withdraw");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_terminated);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_cancel_sent);
	tcase_add_test(tc, test_cancel_too_late);
	tcase_add_test(tc, test_cancel_nothing);
	suite_add_tcase(s, tc);

	tc = tcase_create("deferred");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_rekey_after_freeze);
	tcase_add_test(tc, test_delete_after_freeze);
	tcase_add_test(tc, test_ike_rekey_after_freeze);
	tcase_add_test(tc, test_rekey_after_redirect);
	tcase_add_test(tc, test_no_rekey_after_activation);
	suite_add_tcase(s, tc);

	tc = tcase_create("requested");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ctreq);
	tcase_add_test(tc, test_ctreq_during_liveness_check);
	tcase_add_test(tc, test_ctreq_forged);
	tcase_add_test(tc, test_ctreq_after_push);
	tcase_add_test(tc, test_ctreq_elsewhere);
	tcase_add_test(tc, test_ctar_predictive);
	tcase_add_test(tc, test_ctar_predictive_forged);
	tcase_add_test(tc, test_ctar_after_move);
	tcase_add_test(tc, test_ctreq_no_ike_sa);
	tcase_add_test(tc, test_ctar_frozen_no_reflection);
	suite_add_tcase(s, tc);

	tc = tcase_create("replay");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ctar_replayed);
	tcase_add_test(tc, test_ctar_rewritten_ar);
	tcase_add_test(tc, test_ctar_other_destination);
	tcase_add_loop_test(tc, test_ctar_lookahead, 0, CXTP_TOKEN_WINDOW + 1);
	tcase_add_test(tc, test_ctreq_replayed);
	tcase_add_test(tc, test_ctreq_after_predictive);
	tcase_add_test(tc, test_ctreq_for_us);
	tcase_add_test(tc, test_ctreq_for_another_peer);
	suite_add_tcase(s, tc);

	return s;
}
