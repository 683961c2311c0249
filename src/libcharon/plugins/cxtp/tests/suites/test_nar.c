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

#include "../../cxtp_encode.h"
#include "../../cxtp_held.h"
#include "../../cxtp_spi_hook.h"

#include <exchange_test_helper.h>
#include <encoding/payloads/delete_payload.h>
#include <sa/ikev2/tasks/ike_dpd.h>
#include <processing/jobs/process_message_job.h>

/**
 * nAR's side of a transfer: import, CTAR, activation, expiry, CT-Req, as
 * the dispatcher of an access router hands it messages.
 *
 * pAR is an access router of its own in this process, whose messages the
 * tests carry to nAR.  As both share one IKE_SA manager, pAR's IKE_SA is
 * destroyed once its context is sent, as if it lived on another host.
 */
static cxtp_charon_t *env;
static cxtp_test_ar_t *par, *nar;
static cxtp_test_transport_t *par_transport, *nar_transport;

/**
 * The mobile node's link to nAR
 */
static cxtp_test_icmp_t *icmp;

/**
 * PAD entries of contexts nAR activated
 */
static cxtp_pad_t *nar_pad;

/**
 * pAR's IKE_SA, its IKE SPIs and its CHILD_SA's SPIs
 */
static u_int par_id;
static uint64_t spi_i, spi_r;
static uint32_t spi_in, spi_out;

/**
 * Sequence number of the mobile node's CTAR
 */
#define SEQ 0x01020304

/**
 * Whether nAR got the context in a CTD, after the node left pAR, rather than
 * in a PCTD
 */
static bool reactive;

/**
 * How long before the context arrived pAR may have taken it, in ms: the last
 * of the default 3 retransmissions leaves 1 s + 2 s + 4 s after the first
 */
#define TRANSIT_MS 7000

START_SETUP(setup)
{
	enumerator_t *enumerator;
	child_sa_t *child_sa;
	ike_sa_id_t *id;

	env = cxtp_charon_setup();
	reactive = FALSE;
	par = cxtp_test_ar_create(env, "par");
	par_transport = par->transport;
	nar = cxtp_test_ar_create(env, "nar");
	nar_transport = nar->transport;
	icmp = nar->icmp;
	nar_pad = nar->pad;

	id = env->par->get_id(env->par);
	spi_i = id->get_initiator_spi(id);
	spi_r = id->get_responder_spi(id);
	enumerator = env->par->create_child_sa_enumerator(env->par);
	ck_assert(enumerator->enumerate(enumerator, &child_sa));
	spi_in = child_sa->get_spi(child_sa, TRUE);
	spi_out = child_sa->get_spi(child_sa, FALSE);
	enumerator->destroy(enumerator);
	par_id = cxtp_charon_checkin(env, env->par);
}
END_SETUP

START_TEARDOWN(teardown)
{
	cxtp_charon_stop();
	cxtp_test_ar_destroy(par);
	cxtp_test_ar_destroy(nar);
	cxtp_charon_teardown(env);
}
END_TEARDOWN

/**
 * pAR pushes its context, gets it to another host
 *
 * @param takeover	TRUE for a gateway takeover
 * @return			the PCTD
 */
static cxtp_message_t *pushed_as(bool takeover)
{
	ike_sa_t *ike_sa;
	char *reason;

	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													par_id);
	ck_assert(ike_sa);
	reason = par->par->push(par->par, ike_sa, "nar", takeover);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	ck_assert_msg(!reason, "push failed: %s", reason);
	cxtp_charon_remove(par_id);
	return cxtp_test_message_copy(
				cxtp_test_transport_get(par_transport, CXTP_PCTD, 0)->message);
}

static cxtp_message_t *pushed()
{
	return pushed_as(FALSE);
}

/**
 * Another copy of the PCTD pAR sent
 */
static cxtp_message_t *pushed_copy()
{
	return cxtp_test_message_copy(
				cxtp_test_transport_get(par_transport, CXTP_PCTD, 0)->message);
}

/**
 * Deliver a PCTD/CTD to nAR, processed in a job, and assert the number of
 * CTDRs nAR sent so far
 */
static void deliver(cxtp_message_t *ctd, u_int ctdrs)
{
	cxtp_test_transport_deliver(nar_transport, "par", ctd);
	ck_assert_int_eq(cxtp_charon_run_jobs(), 1);
	ck_assert_int_eq(cxtp_test_transport_count(nar_transport, CXTP_CTDR),
					 ctdrs);
}

/**
 * Import the pushed context on nAR
 *
 * @param takeover	TRUE if pushed for a gateway takeover
 * @return			unique ID of the imported IKE_SA
 */
static u_int import_as(bool takeover)
{
	deliver(pushed_as(takeover), 1);
	ck_assert_int_eq(cxtp_test_events_count("nar", "import"), 1);
	return cxtp_test_events_get("nar", "import", 0)->ike_id;
}

static u_int import()
{
	return import_as(FALSE);
}

/**
 * The transfer ID of the context pAR sent
 */
static cxtp_transfer_id_t sent_id()
{
	cxtp_test_sent_t *sent;
	cxtp_transfer_id_t id;

	if (cxtp_test_transport_count(par_transport, CXTP_PCTD))
	{
		sent = cxtp_test_transport_get(par_transport, CXTP_PCTD, 0);
	}
	else
	{
		sent = cxtp_test_transport_get(par_transport, CXTP_CTD, 0);
	}
	ck_assert(sent->message->get_transfer_id(sent->message, &id));
	return id;
}

/**
 * Assert the n-th CTDR nAR sent to pAR, about a transfer
 */
static void assert_ctdr_for(u_int n, cxtp_transfer_id_t id, bool success,
							uint8_t status)
{
	cxtp_message_t *ctdr;
	enumerator_t *enumerator;
	cxtp_status_t *current;
	cxtp_transfer_id_t got;
	host_t *mn = cxtp_test_host(MN_OLD);
	uint8_t found = 0;
	cxtp_test_sent_t *sent;

	ck_assert(cxtp_test_transport_count(nar_transport, CXTP_CTDR) > n);
	sent = cxtp_test_transport_get(nar_transport, CXTP_CTDR, n);
	ctdr = sent->message;
	ck_assert_str_eq(sent->peer, "par");
	ck_assert(ctdr->get_transfer_id(ctdr, &got));
	ck_assert(cxtp_transfer_id_equals(&got, &id));
	ck_assert(mn->ip_equals(mn, ctdr->get_mn_address(ctdr)));
	ck_assert(ctdr->get_success(ctdr) == success);
	enumerator = ctdr->create_status_enumerator(ctdr);
	while (enumerator->enumerate(enumerator, &current))
	{
		if (current->fpt == CXTP_FPT_IKE_SA)
		{
			found = current->status;
		}
	}
	enumerator->destroy(enumerator);
	ck_assert_int_eq(found, status);
	mn->destroy(mn);
}

/**
 * Assert the n-th CTDR nAR sent to pAR, about pAR's transfer
 */
static void assert_ctdr(u_int n, bool success, uint8_t status)
{
	assert_ctdr_for(n, sent_id(), success, status);
}

/**
 * The transfer state of nAR's IKE_SA
 */
static char *transfer_state(u_int id)
{
	ike_sa_t *ike_sa;
	char *state;

	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													id);
	ck_assert(ike_sa);
	state = nar->nar->get_state(nar->nar, ike_sa);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	return state;
}

/**
 * Give pAR's IKE_SA the virtual IP it leased the mobile node
 */
static void lease_vip(char *address)
{
	ike_sa_t *ike_sa;
	host_t *vip = host_create_from_string(address, 0);

	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													par_id);
	ck_assert(ike_sa);
	ike_sa->add_virtual_ip(ike_sa, FALSE, vip);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	vip->destroy(vip);
}

/**
 * Another mobile node, 'dave', attached to nAR with a virtual IP of nAR's
 * pool, as charon reports it; destroy it when done
 */
static ike_sa_t *other_node(char *address)
{
	ike_sa_id_t *id = ike_sa_id_create(IKEV2, 0x1111, 0x2222, FALSE);
	host_t *vip = host_create_from_string(address, 0);
	ike_sa_t *ike_sa;

	ike_sa = ike_sa_create(id, FALSE, IKEV2);
	id->destroy(id);
	ike_sa->set_other_id(ike_sa, identification_create_from_string("dave"));
	ike_sa->add_virtual_ip(ike_sa, FALSE, vip);
	vip->destroy(vip);
	nar->leases->listener.assign_vips(&nar->leases->listener, ike_sa, TRUE);
	return ike_sa;
}

/**
 * Whether nAR holds an address for a node other than 'dave'
 */
static bool vip_held(char *address)
{
	identification_t *id = identification_create_from_string("dave");
	linked_list_t *vips;
	char *reason;

	vips = linked_list_create_with_items(host_create_from_string(address, 0),
										 NULL);
	reason = nar->leases->take(nar->leases, id, vips, NULL);
	vips->destroy_offset(vips, offsetof(host_t, destroy));
	id->destroy(id);
	free(reason);
	return reason != NULL;
}

/**
 * A source an attacker on nAR's access link spoofs
 */
#define SPOOFED "198.51.100.66"

/**
 * The mobile node's CTAR after its move, naming pAR
 */
static void process_ctar(uint32_t seq, uint32_t token_seq, bool ack)
{
	cxtp_message_t *ctar;

	ctar = cxtp_test_mn_request(env, CXTP_CTAR, PAR, seq, token_seq, ack,
								MN_NEW, NAR);
	cxtp_test_icmp_deliver(icmp, MN_NEW, NAR, ctar);
	/* processed in a job, off the ICMP watcher */
	ck_assert(cxtp_charon_run_job());
}

/**
 * A copy of the mobile node's CTAR from another source, as an attacker on
 * the access link sends it
 */
static void process_spoofed_ctar()
{
	cxtp_message_t *ctar;

	ctar = cxtp_test_mn_request(env, CXTP_CTAR, PAR, SEQ, SEQ, TRUE,
								MN_NEW, NAR);
	cxtp_test_icmp_deliver(icmp, SPOOFED, NAR, ctar);
}

/**
 * Assert nAR imported the context as a passive IKE_SA, and installed nothing
 */
static void assert_passive(u_int id)
{
	cxtp_test_ike_sa_info_t info;

	cxtp_charon_info(id, &info);
	ck_assert(info.found);
	ck_assert_int_eq(info.state, IKE_PASSIVE);
	ck_assert(info.spi_i == spi_i);
	ck_assert(info.spi_r == spi_r);
	ck_assert_int_eq(info.children, 0);
	cxtp_test_ike_sa_info_clear(&info);
	ck_assert_int_eq(cxtp_test_kernel_count(id), 0);
}

/**
 * The transfer nAR activated an IKE_SA from
 */
static cxtp_transfer_id_t activated_transfer(u_int ike_id)
{
	enumerator_t *enumerator;
	cxtp_transfer_info_t *info;
	cxtp_transfer_id_t id = {};

	enumerator = nar->nar->create_transfer_enumerator(nar->nar);
	while (enumerator->enumerate(enumerator, &info))
	{
		if (info->ike_id == ike_id && streq(info->state, "activated"))
		{
			id = *info->id;
		}
	}
	enumerator->destroy(enumerator);
	ck_assert(id.serial);
	return id;
}

/**
 * Assert nAR's outbound sequence numbers continue above anything pAR may
 * have sent since it took its counter
 */
static void assert_seq_out(cxtp_test_sa_t *sa)
{
	uint64_t jump = env->settings->get_seq_jump(env->settings);
	uint64_t rate = env->settings->get_seq_rate(env->settings);

	ck_assert(sa->has_replay);
	if (reactive)
	{	/* pAR took it after the node left */
		ck_assert_int_eq(sa->seq_out, TRAFFIC_SEQ_OUT + jump);
		return;
	}
	/* pAR may have sent at seq_rate since; the test takes well under 10 s
	 * between import and activation, even on a busy machine */
	ck_assert(sa->seq_out >= TRAFFIC_SEQ_OUT + jump + rate * TRANSIT_MS / 1000);
	ck_assert(sa->seq_out <= TRAFFIC_SEQ_OUT + jump +
						  rate * (TRANSIT_MS + 10000) / 1000);
}

/**
 * Assert the imported IKE_SA was activated between our address and the
 * mobile node's, with pAR's SAs
 */
static void assert_activated_at(u_int id, char *local, char *remote)
{
	host_t *mn = cxtp_test_host(remote), *me = cxtp_test_host(local);
	host_t *old = cxtp_test_host(MN_OLD);
	cxtp_test_ike_sa_info_t info;
	cxtp_test_sa_t *sa;
	cxtp_test_event_t *event;

	ck_assert_int_eq(cxtp_test_events_count("nar", "activate"), 1);
	event = cxtp_test_events_get("nar", "activate", 0);
	ck_assert_int_eq(event->ike_id, id);
	ck_assert_str_eq(event->peer, "par");
	ck_assert(old->ip_equals(old, event->mn));

	cxtp_charon_info(id, &info);
	ck_assert(info.found);
	ck_assert_int_eq(info.state, IKE_ESTABLISHED);
	ck_assert(cxtp_test_host_is(info.me, local));
	ck_assert(cxtp_test_host_is(info.other, remote));
	ck_assert_int_eq(info.children, 1);
	cxtp_test_ike_sa_info_clear(&info);
	ck_assert(!transfer_state(id));

	/* the same SAs, continuing pAR's replay state */
	ck_assert_int_eq(cxtp_test_kernel_count(id), 2);
	sa = cxtp_test_kernel_find(id, spi_in, TRUE);
	ck_assert(sa);
	ck_assert(sa->src->ip_equals(sa->src, mn));
	ck_assert(sa->dst->ip_equals(sa->dst, me));
	ck_assert(sa->has_replay);
	ck_assert_int_eq(sa->seq_in, TRAFFIC_SEQ_IN);
	ck_assert_int_eq(sa->window, TRAFFIC_WINDOW);
	ck_assert_chunk_eq(sa->bitmap, TRAFFIC_BITMAP);
	sa = cxtp_test_kernel_find(id, spi_out, FALSE);
	ck_assert(sa);
	ck_assert(sa->src->ip_equals(sa->src, me));
	ck_assert(sa->dst->ip_equals(sa->dst, mn));
	assert_seq_out(sa);

	/* pAR may drop its copy: the last CTDR says so, for its transfer */
	assert_ctdr_for(cxtp_test_transport_count(nar_transport, CXTP_CTDR) - 1,
					activated_transfer(id), TRUE, CXTP_STATUS_ACTIVATED);
	mn->destroy(mn);
	me->destroy(me);
	old->destroy(old);
}

/**
 * Assert the imported IKE_SA was activated at the mobile node's new address,
 * with pAR's SAs
 */
static void assert_activated(u_int id)
{
	assert_activated_at(id, NAR, MN_NEW);
}

/**
 * Assert nAR sent one CTAA, to the mobile node's new address, and get its
 * status for the IKE_SA's feature profile, 0 for none
 */
static uint8_t ctaa_status()
{
	host_t *mn = cxtp_test_host(MN_NEW), *me = cxtp_test_host(NAR);
	host_t *old = cxtp_test_host(MN_OLD);
	enumerator_t *enumerator;
	cxtp_status_t *status;
	cxtp_test_sent_t *sent;
	uint8_t found = 0;
	chunk_t key;

	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 1);
	sent = cxtp_test_icmp_get(icmp, CXTP_CTAA, 0);
	ck_assert(sent->src->ip_equals(sent->src, me));
	ck_assert(sent->dst->ip_equals(sent->dst, mn));
	ck_assert(old->ip_equals(old,
							 sent->message->get_mn_address(sent->message)));
	/* authenticated with the token key the node has, for its CTAR */
	key = cxtp_test_token_key(env, env->mn);
	ck_assert_int_eq(sent->message->get_sequence(sent->message), SEQ);
	ck_assert(sent->message->verify_ctaa(sent->message, key, me, mn));
	chunk_clear(&key);
	enumerator = sent->message->create_status_enumerator(sent->message);
	while (enumerator->enumerate(enumerator, &status))
	{
		if (status->fpt == CXTP_FPT_IKE_SA)
		{
			found = status->status;
		}
	}
	enumerator->destroy(enumerator);
	mn->destroy(mn);
	me->destroy(me);
	old->destroy(old);
	return found;
}

/**
 * Assert nAR acknowledged the CTAR to the mobile node
 */
static void assert_ctaa()
{
	ck_assert_int_eq(ctaa_status(), 0);
}

/**
 * Assert nAR told the mobile node that its context was not transferred: a
 * CTAA listing the IKE_SA's feature profile as failed
 */
static void assert_refusal()
{
	ck_assert_int_eq(ctaa_status(), CXTP_STATUS_FAILED);
}

START_TEST(test_import)
{
	u_int id;

	id = import();
	assert_passive(id);
	ck_assert_str_eq(transfer_state(id), "imported");
	ck_assert_int_eq(cxtp_charon_count(), 1);
	assert_ctdr(0, TRUE, 0);
	ck_assert_int_eq(cxtp_test_events_get("nar", "import", 0)->ike_id, id);
	ck_assert_str_eq(cxtp_test_events_get("nar", "import", 0)->peer, "par");
}
END_TEST

START_TEST(test_import_duplicate)
{
	cxtp_message_t *pctd;
	u_int id;

	pctd = pushed();
	deliver(cxtp_test_message_copy(pctd), 1);
	/* a retransmission, as if the first CTDR got lost */
	deliver(pctd, 2);
	id = cxtp_test_events_get("nar", "import", 0)->ike_id;
	ck_assert_int_eq(cxtp_test_events_count("nar", "import"), 1);
	ck_assert_int_eq(cxtp_charon_count(), 1);
	assert_passive(id);
	assert_ctdr(0, TRUE, 0);
	assert_ctdr(1, TRUE, 0);
}
END_TEST

START_TEST(test_import_without_key)
{
	cxtp_message_t *pctd, *keyless;
	enumerator_t *enumerator;
	cxtp_transfer_id_t id;
	cxtp_cdb_t *cdb;

	pctd = pushed();
	keyless = cxtp_message_create(CXTP_PCTD, pctd->get_mn_address(pctd));
	ck_assert(pctd->get_transfer_id(pctd, &id));
	ck_assert(keyless->set_transfer_id(keyless, &id));
	enumerator = pctd->create_cdb_enumerator(pctd);
	while (enumerator->enumerate(enumerator, &cdb))
	{
		ck_assert(keyless->add_cdb(keyless, cdb->fpt, cdb->data));
	}
	enumerator->destroy(enumerator);
	pctd->destroy(pctd);
	deliver(keyless, 1);
	assert_ctdr(0, FALSE, CXTP_STATUS_FAILED);
	ck_assert_int_eq(cxtp_charon_count(), 0);
	ck_assert_int_eq(cxtp_test_events_count("nar", "import"), 0);
}
END_TEST

START_TEST(test_import_collision)
{
	ike_sa_t *ike_sa;
	cxtp_message_t *pctd;
	cxtp_test_event_t *event;
	char *reason;

	/* nAR holds an IKE_SA with the same SPIs already (here: pAR's) */
	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													par_id);
	ck_assert(ike_sa);
	reason = par->par->push(par->par, ike_sa, "nar", FALSE);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	ck_assert_msg(!reason, "push failed: %s", reason);
	pctd = cxtp_test_message_copy(
				cxtp_test_transport_get(par_transport, CXTP_PCTD, 0)->message);
	deliver(pctd, 1);
	assert_ctdr(0, FALSE, CXTP_STATUS_FAILED);
	ck_assert_int_eq(cxtp_test_events_count("nar", "import"), 0);
	ck_assert_int_eq(cxtp_test_events_count("nar", "failure"), 1);
	event = cxtp_test_events_get("nar", "failure", 0);
	ck_assert_str_eq(event->peer, "par");
	ck_assert_int_eq(cxtp_charon_count(), 1);
	ck_assert_int_eq(cxtp_charon_state(par_id), IKE_PASSIVE);
}
END_TEST

/**
 * The secrets nAR's PAD holds for an identity
 */
static int pad_secrets(char *name, chunk_t *secret)
{
	identification_t *id = identification_create_from_string(name);
	enumerator_t *enumerator;
	shared_key_t *key;
	int count = 0;

	enumerator = nar_pad->set.create_shared_enumerator(&nar_pad->set,
													   SHARED_IKE, NULL, id);
	while (enumerator->enumerate(enumerator, &key, NULL, NULL))
	{
		*secret = key->get_key(key);
		count++;
	}
	enumerator->destroy(enumerator);
	id->destroy(id);
	return count;
}

START_TEST(test_activate)
{
	chunk_t secret = chunk_empty;
	u_int id;

	id = import();
	ck_assert_int_eq(pad_secrets("init", &secret), 0);
	process_ctar(SEQ, SEQ, TRUE);
	assert_activated(id);
	assert_ctaa();
	ck_assert_int_eq(cxtp_test_transport_count(nar_transport, CXTP_CTREQ), 0);
	/* the mobile node's PSK came with the context, for reauthentication */
	ck_assert_int_eq(pad_secrets("init", &secret), 1);
	ck_assert_chunk_eq(secret, chunk_from_str("test"));
	ck_assert_int_eq(pad_secrets("resp", &secret), 0);
	/* the import's timeout, due now, leaves the activated IKE_SA alone */
	cxtp_charon_run_scheduled(HANDOVER_TIMEOUT * 1000);
	ck_assert_int_eq(cxtp_charon_state(id), IKE_ESTABLISHED);
	ck_assert_int_eq(cxtp_test_events_count("nar", "failure"), 0);
}
END_TEST

START_TEST(test_activate_without_ack)
{
	u_int id;

	id = import();
	process_ctar(SEQ, SEQ, FALSE);
	assert_activated(id);
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 0);
}
END_TEST

/**
 * Whether an IKE_SA has a CHILD_SA rekey queued or under way
 */
static bool rekeying(u_int id)
{
	enumerator_t *enumerator;
	ike_sa_t *ike_sa;
	task_t *task;
	task_queue_t queues[] = { TASK_QUEUE_ACTIVE, TASK_QUEUE_QUEUED };
	bool found = FALSE;
	int i;

	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													id);
	ck_assert(ike_sa);
	for (i = 0; i < countof(queues); i++)
	{
		enumerator = ike_sa->create_task_enumerator(ike_sa, queues[i]);
		while (enumerator->enumerate(enumerator, &task))
		{
			found = found || task->get_type(task) == TASK_CHILD_REKEY;
		}
		enumerator->destroy(enumerator);
	}
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	return found;
}

START_TEST(test_activate_seq_exhausted)
{
	cxtp_test_sa_t *sa;
	u_int id;

	/* pAR may have sent more than the 32-bit SA has numbers left */
	lib->settings->set_str(lib->settings, "%s.plugins.cxtp.seq_rate",
						   "4294967295", lib->ns);
	env->settings->reload(env->settings);
	id = import();
	process_ctar(SEQ, SEQ, TRUE);
	ck_assert_int_eq(cxtp_charon_state(id), IKE_ESTABLISHED);
	/* it sends nothing the node takes for a replay... */
	sa = cxtp_test_kernel_find(id, spi_out, FALSE);
	ck_assert(sa);
	ck_assert_int_eq(sa->seq_out, UINT32_MAX);
	sa = cxtp_test_kernel_find(id, spi_in, TRUE);
	ck_assert_int_eq(sa->seq_in, TRAFFIC_SEQ_IN);
	/* ...until a rekey gave it fresh numbers */
	ck_assert(!rekeying(id));
	cxtp_charon_run_jobs();
	ck_assert(rekeying(id));
}
END_TEST

START_TEST(test_activate_seq_fits)
{
	u_int id;

	id = import();
	process_ctar(SEQ, SEQ, TRUE);
	assert_activated(id);
	cxtp_charon_run_jobs();
	ck_assert(!rekeying(id));
}
END_TEST

START_TEST(test_activate_fails)
{
	cxtp_test_event_t *event;
	u_int id;

	id = import();
	cxtp_test_kernel_refuse(TRUE);
	process_ctar(SEQ, SEQ, TRUE);
	ck_assert_int_eq(cxtp_test_events_count("nar", "failure"), 1);
	event = cxtp_test_events_get("nar", "failure", 0);
	ck_assert_int_eq(event->ike_id, id);
	ck_assert_str_eq(event->peer, "par");
	/* nothing half-installed stays, pAR keeps the mobile node */
	ck_assert_int_eq(cxtp_charon_state(id), IKE_DESTROYING);
	ck_assert_int_eq(cxtp_test_kernel_count(id), 0);
	/* and the mobile node learns of it, not to keep a dead tunnel */
	assert_refusal();
	ck_assert_int_eq(cxtp_test_transport_count(nar_transport, CXTP_CTDR), 2);
	assert_ctdr(1, FALSE, CXTP_STATUS_FAILED);
	ck_assert_int_eq(cxtp_test_events_count("nar", "activate"), 0);
}
END_TEST

START_TEST(test_activate_spi_taken)
{
	u_int id;

	/* another SA took the inbound SPI here after the import, nobody
	 * resolves the collision (no hook): the activation fails, and the
	 * CHILD_SA, destroyed, leaves the other's SA alone */
	id = import();
	cxtp_test_kernel_occupy(spi_in, NAR);
	process_ctar(SEQ, SEQ, TRUE);
	ck_assert_int_eq(cxtp_test_events_count("nar", "failure"), 1);
	ck_assert_int_eq(cxtp_test_events_count("nar", "activate"), 0);
	ck_assert_int_eq(cxtp_test_kernel_count(id), 0);
	ck_assert(cxtp_test_kernel_find(0, spi_in, TRUE));
}
END_TEST

/**
 * Calls of the test's SPI hook
 */
static u_int hook_calls;

METHOD(cxtp_spi_hook_t, hook_import_ike_sa, void,
	cxtp_spi_hook_t *this, ike_sa_id_t *id, identification_t *peer,
	uint32_t extensions)
{
}

METHOD(cxtp_spi_hook_t, hook_get_inbound_spi, uint32_t,
	cxtp_spi_hook_t *this, ike_sa_t *ike_sa, child_sa_t *child_sa,
	uint32_t in, uint32_t out)
{
	/* the first check passed, before the other SA came; the second finds
	 * the collision and moves the SA to a fresh SPI, as mobike-spi does */
	if (hook_calls++ == 0)
	{
		return in;
	}
	return child_sa->alloc_spi(child_sa, child_sa->get_protocol(child_sa));
}

METHOD(cxtp_spi_hook_t, hook_activated, void,
	cxtp_spi_hook_t *this, ike_sa_t *ike_sa, bool by_peer)
{
}

START_TEST(test_activate_spi_taken_resolved)
{
	cxtp_spi_hook_t hook = {
		.import_ike_sa = _hook_import_ike_sa,
		.get_inbound_spi = _hook_get_inbound_spi,
		.activated = _hook_activated,
	};
	cxtp_test_sa_t *sa;
	u_int id;

	/* the install refused for a taken SPI is a collision the hook resolves:
	 * the SA moves to a fresh SPI, the other SA stays */
	hook_calls = 0;
	lib->set(lib, CXTP_SPI_HOOK, &hook);
	id = import();
	cxtp_test_kernel_occupy(spi_in, NAR);
	process_ctar(SEQ, SEQ, TRUE);
	lib->set(lib, CXTP_SPI_HOOK, NULL);
	ck_assert_int_eq(hook_calls, 2);
	ck_assert_int_eq(cxtp_test_events_count("nar", "activate"), 1);
	ck_assert_int_eq(cxtp_test_kernel_count(id), 2);
	ck_assert(!cxtp_test_kernel_find(id, spi_in, TRUE));
	sa = cxtp_test_kernel_find(0, spi_in, TRUE);
	ck_assert(sa && cxtp_test_host_is(sa->src, ROUTER));
	ck_assert(cxtp_test_kernel_find(id, spi_out, FALSE));
}
END_TEST

START_TEST(test_forged_token)
{
	u_int id;

	id = import();
	/* the token of another CTAR, not valid for this sequence number */
	process_ctar(SEQ + 1, SEQ, TRUE);
	ck_assert_int_eq(cxtp_test_events_count("nar", "failure"), 1);
	ck_assert(!cxtp_test_events_get("nar", "failure", 0)->ike_id);
	assert_passive(id);
	ck_assert_str_eq(transfer_state(id), "imported");
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 0);
	ck_assert_int_eq(cxtp_test_transport_count(nar_transport, 0), 1);
	ck_assert_int_eq(cxtp_test_events_count("nar", "activate"), 0);

	/* the mobile node's own CTAR still works */
	process_ctar(SEQ, SEQ, TRUE);
	assert_activated(id);
	assert_ctaa();
}
END_TEST

START_TEST(test_forged_same_sequence)
{
	u_int id;

	id = import();
	/* the sequence number can be seen on pAR's link, the token can't */
	process_ctar(SEQ, SEQ + 1, TRUE);
	ck_assert_int_eq(cxtp_test_events_count("nar", "failure"), 1);
	assert_passive(id);

	/* not taken for a duplicate of the forged one */
	process_ctar(SEQ, SEQ, TRUE);
	assert_activated(id);
	assert_ctaa();
}
END_TEST

START_TEST(test_duplicate_ctar)
{
	u_int id;

	id = import();
	process_ctar(SEQ, SEQ, TRUE);
	assert_activated(id);
	/* a retransmission, as if the CTAA got lost: acknowledged again, not
	 * acted on */
	process_ctar(SEQ, SEQ, TRUE);
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, CXTP_CTAA), 2);
	ck_assert_int_eq(cxtp_test_events_count("nar", "activate"), 1);
	ck_assert_int_eq(cxtp_test_transport_count(nar_transport, 0), 2);
	ck_assert_int_eq(cxtp_charon_state(id), IKE_ESTABLISHED);
	ck_assert_int_eq(cxtp_test_kernel_count(id), 2);
}
END_TEST

START_TEST(test_spoofed_source)
{
	u_int id;

	id = import();
	/* the copy from a spoofed source comes first: its token fails, and
	 * nothing of it is remembered */
	process_spoofed_ctar();
	ck_assert_int_eq(cxtp_test_events_count("nar", "activate"), 0);
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 0);
	assert_passive(id);
	ck_assert_str_eq(transfer_state(id), "imported");
	/* the node's own activates, with its address */
	process_ctar(SEQ, SEQ, TRUE);
	assert_activated(id);
	assert_ctaa();
	/* and a spoofed copy after it is no duplicate to answer */
	process_spoofed_ctar();
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, CXTP_CTAA), 1);
	ck_assert_int_eq(cxtp_test_events_count("nar", "activate"), 1);
}
END_TEST

START_TEST(test_activate_lookahead)
{
	uint32_t counter;
	u_int id;

	id = import();
	/* the node's attempts that pAR's push did not see: the imported
	 * context's SK_d gives the keys of the next counters */
	env->transfers->set_transfers(env->transfers, env->mn, _i);
	process_ctar(SEQ, SEQ, TRUE);
	if (_i < CXTP_TOKEN_WINDOW)
	{
		assert_activated(id);
		assert_ctaa();
		/* and the next transfer takes the key after the one used */
		counter = cxtp_charon_transfers(env, id);
		ck_assert_int_eq(counter, _i + 1);
	}
	else
	{
		ck_assert_int_eq(cxtp_test_events_count("nar", "activate"), 0);
		assert_passive(id);
		ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 0);
	}
}
END_TEST

START_TEST(test_import_expires)
{
	cxtp_test_event_t *event;
	u_int id;

	id = import();
	ck_assert_int_eq(cxtp_charon_scheduled(HANDOVER_TIMEOUT * 1000), 1);
	ck_assert_int_eq(cxtp_test_events_count("nar", "failure"), 0);
	assert_passive(id);
	/* dropped, and pAR told it may thaw its copy */
	cxtp_charon_run_scheduled(HANDOVER_TIMEOUT * 1000);
	ck_assert_int_eq(cxtp_test_events_count("nar", "failure"), 1);
	event = cxtp_test_events_get("nar", "failure", 0);
	ck_assert_int_eq(event->ike_id, id);
	ck_assert_str_eq(event->peer, "par");
	ck_assert_int_eq(cxtp_charon_state(id), IKE_DESTROYING);
	ck_assert_int_eq(cxtp_charon_count(), 0);
	ck_assert_int_eq(cxtp_test_transport_count(nar_transport, CXTP_CTDR), 2);
	assert_ctdr(1, TRUE, CXTP_STATUS_CANCELLED);
	/* a late CTAR finds nothing to activate */
	process_ctar(SEQ, SEQ, TRUE);
	ck_assert_int_eq(cxtp_test_events_count("nar", "activate"), 0);
}
END_TEST

/**
 * The CTD pAR sends for the CT-Req nAR will send, answered while pAR still
 * has the IKE_SA, before it moves "away"
 */
static cxtp_message_t *requested()
{
	cxtp_message_t *ctreq;

	ctreq = cxtp_test_mn_request(env, CXTP_CTREQ, PAR, SEQ, SEQ, FALSE,
								 MN_NEW, NAR);
	cxtp_test_transport_deliver(par_transport, "nar", ctreq);
	ck_assert_int_eq(cxtp_charon_run_jobs(), 1);
	ck_assert_int_eq(cxtp_test_transport_count(par_transport, CXTP_CTD), 1);
	cxtp_charon_remove(par_id);
	reactive = TRUE;
	return cxtp_test_message_copy(
				cxtp_test_transport_get(par_transport, CXTP_CTD, 0)->message);
}

START_TEST(test_reactive)
{
	cxtp_message_t *ctd, *expected;
	host_t *old = cxtp_test_host(MN_OLD);
	cxtp_test_sent_t *sent;
	u_int id;

	ctd = requested();

	/* no context yet: nAR asks the pAR the CTAR names */
	process_ctar(SEQ, SEQ, TRUE);
	ck_assert_int_eq(cxtp_test_transport_count(nar_transport, CXTP_CTREQ), 1);
	sent = cxtp_test_transport_get(nar_transport, CXTP_CTREQ, 0);
	ck_assert_str_eq(sent->peer, "par");
	ck_assert(sent->reliable);
	ck_assert(old->ip_equals(old,
							 sent->message->get_mn_address(sent->message)));
	ck_assert_int_eq(sent->message->get_sequence(sent->message), SEQ);
	expected = cxtp_test_mn_request(env, CXTP_CTAR, PAR, SEQ, SEQ, TRUE,
									MN_NEW, NAR);
	ck_assert_int_eq(sent->message->get_token(sent->message),
					 expected->get_token(expected));
	expected->destroy(expected);
	ck_assert_int_eq(cxtp_charon_count(), 0);
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 0);

	/* the context arrives, and the waiting CTAR activates it */
	deliver(ctd, 2);
	id = cxtp_test_events_get("nar", "import", 0)->ike_id;
	assert_ctdr(0, TRUE, 0);
	assert_activated(id);
	assert_ctaa();
	ck_assert(cxtp_test_transport_acked(nar_transport, sent->id));
	old->destroy(old);
}
END_TEST

START_TEST(test_reactive_duplicate)
{
	cxtp_message_t *ctd;

	ctd = requested();
	process_ctar(SEQ, SEQ, TRUE);
	/* retransmitted while its context is on the way: asked for once */
	process_ctar(SEQ, SEQ, TRUE);
	ck_assert_int_eq(cxtp_test_transport_count(nar_transport, CXTP_CTREQ), 1);

	/* and activated once */
	deliver(ctd, 2);
	assert_activated(cxtp_test_events_get("nar", "import", 0)->ike_id);
	assert_ctaa();
}
END_TEST

START_TEST(test_reactive_spoofed_source)
{
	cxtp_message_t *ctd;
	u_int id;

	ctd = requested();
	/* the spoofed copy first: the node's own is no duplicate of it, both
	 * wait, each with the addresses pAR verifies the token with */
	process_spoofed_ctar();
	process_ctar(SEQ, SEQ, TRUE);
	ck_assert_int_eq(cxtp_test_transport_count(nar_transport, CXTP_CTREQ), 2);
	ck_assert(cxtp_test_host_is(cxtp_test_transport_get(nar_transport,
		CXTP_CTREQ, 0)->message->get_ctar_source(cxtp_test_transport_get(
		nar_transport, CXTP_CTREQ, 0)->message), SPOOFED));
	ck_assert(cxtp_test_host_is(cxtp_test_transport_get(nar_transport,
		CXTP_CTREQ, 1)->message->get_ctar_source(cxtp_test_transport_get(
		nar_transport, CXTP_CTREQ, 1)->message), MN_NEW));
	/* the context arrives: the token picks the node's own */
	deliver(ctd, 2);
	id = cxtp_test_events_get("nar", "import", 0)->ike_id;
	assert_activated(id);
	assert_ctaa();
	ck_assert_int_eq(cxtp_test_events_count("nar", "activate"), 1);
}
END_TEST

/**
 * pAR's answer to a CT-Req that it holds no context of the mobile node
 */
static void deliver_no_context()
{
	cxtp_message_t *ctdr;
	host_t *old = cxtp_test_host(MN_OLD);

	ctdr = cxtp_message_create(CXTP_CTDR, old);
	ctdr->set_success(ctdr, FALSE);
	ck_assert(ctdr->add_status(ctdr, CXTP_FPT_IKE_SA, CXTP_STATUS_NO_CONTEXT));
	cxtp_test_transport_deliver(nar_transport, "par", ctdr);
	ck_assert_int_eq(cxtp_charon_run_jobs(), 1);
	old->destroy(old);
}

START_TEST(test_reactive_no_context)
{
	cxtp_test_sent_t *sent;

	cxtp_charon_remove(par_id);
	process_ctar(SEQ, SEQ, TRUE);
	ck_assert_int_eq(cxtp_test_transport_count(nar_transport, CXTP_CTREQ), 1);
	sent = cxtp_test_transport_get(nar_transport, CXTP_CTREQ, 0);

	/* nAR stops asking, the CTAR no longer waits */
	deliver_no_context();
	ck_assert(cxtp_test_transport_acked(nar_transport, sent->id));
	ck_assert_int_eq(cxtp_test_transport_count(nar_transport, 0), 1);
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 0);
	process_ctar(SEQ, SEQ, TRUE);
	ck_assert_int_eq(cxtp_test_transport_count(nar_transport, CXTP_CTREQ), 2);
}
END_TEST

/**
 * How many of the CT-Reqs sent so far nAR no longer retransmits
 */
static int ctreqs_acked()
{
	int i, acked = 0;

	for (i = 0; i < cxtp_test_transport_count(nar_transport, CXTP_CTREQ); i++)
	{
		if (cxtp_test_transport_acked(nar_transport, cxtp_test_transport_get(
									nar_transport, CXTP_CTREQ, i)->id))
		{
			acked++;
		}
	}
	return acked;
}

START_TEST(test_reactive_waiting_per_node)
{
	int i;

	cxtp_charon_remove(par_id);
	/* forged CTARs for the node, each another sequence number: beyond the
	 * cap, each newcomer is asked for and a random waiting one goes */
	for (i = 0; i < CXTP_NAR_WAITING_PER_NODE + 2; i++)
	{
		process_ctar(SEQ + i, SEQ + i, TRUE);
	}
	ck_assert_int_eq(cxtp_test_transport_count(nar_transport, CXTP_CTREQ),
					 CXTP_NAR_WAITING_PER_NODE + 2);
	ck_assert_int_eq(ctreqs_acked(), 2);
	/* pAR's answer drops the rest */
	deliver_no_context();
	ck_assert_int_eq(ctreqs_acked(), CXTP_NAR_WAITING_PER_NODE + 2);
	process_ctar(SEQ + 10, SEQ + 10, TRUE);
	ck_assert_int_eq(cxtp_test_transport_count(nar_transport, CXTP_CTREQ),
					 CXTP_NAR_WAITING_PER_NODE + 3);
}
END_TEST

START_TEST(test_reactive_flooded_node)
{
	cxtp_message_t *ctd;
	int i;

	ctd = requested();
	/* forged CTARs for the node fill its slots before and after its own */
	for (i = 1; i <= CXTP_NAR_WAITING_PER_NODE; i++)
	{
		process_ctar(SEQ + i, SEQ + 100 + i, TRUE);
	}
	process_ctar(SEQ, SEQ, TRUE);
	for (i = 1; i <= 2 * CXTP_NAR_WAITING_PER_NODE; i++)
	{
		process_ctar(SEQ + 10 + i, SEQ + 200 + i, TRUE);
	}
	/* the node's own was asked for: the context pAR sends is imported
	 * whether its CTAR still waits or not, and activated by it or by its
	 * next retransmission */
	ck_assert_int_eq(cxtp_test_transport_count(nar_transport, CXTP_CTREQ),
					 3 * CXTP_NAR_WAITING_PER_NODE + 1);
	cxtp_test_transport_deliver(nar_transport, "par", ctd);
	ck_assert_int_eq(cxtp_charon_run_jobs(), 1);
	/* its retransmission activates it, unless it still waited (then it is
	 * a duplicate) */
	process_ctar(SEQ, SEQ, TRUE);
	assert_activated(cxtp_test_events_get("nar", "import", 0)->ike_id);
	ck_assert_int_eq(cxtp_test_events_count("nar", "activate"), 1);
}
END_TEST

START_TEST(test_ctar_from_previous_address)
{
	cxtp_message_t *ctar;

	/* not a node arriving here: no CT-Req */
	cxtp_charon_remove(par_id);
	ctar = cxtp_test_mn_request(env, CXTP_CTAR, PAR, SEQ, SEQ, TRUE,
								MN_OLD, NAR);
	cxtp_test_icmp_deliver(icmp, MN_OLD, NAR, ctar);
	ck_assert_int_eq(cxtp_charon_run_jobs(), 1);
	ck_assert_int_eq(cxtp_test_transport_count(nar_transport, 0), 0);
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 0);
}
END_TEST

START_TEST(test_import_vip)
{
	cxtp_test_ike_sa_info_t info;
	enumerator_t *enumerator;
	ike_sa_t *ike_sa;
	host_t *vip;
	u_int id;

	lease_vip("10.3.0.1");
	id = import();
	/* the passive IKE_SA holds it as a transferred lease */
	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													id);
	ck_assert(ike_sa);
	enumerator = ike_sa->create_virtual_ip_enumerator(ike_sa, FALSE);
	ck_assert(enumerator->enumerate(enumerator, &vip));
	ck_assert(cxtp_test_host_is(vip, "10.3.0.1"));
	ck_assert(!enumerator->enumerate(enumerator, &vip));
	enumerator->destroy(enumerator);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	ck_assert(vip_held("10.3.0.1"));
	/* not activated: released with the imported IKE_SA */
	cxtp_charon_run_scheduled(HANDOVER_TIMEOUT * 1000);
	cxtp_charon_info(id, &info);
	ck_assert(!info.found);
	ck_assert(!vip_held("10.3.0.1"));
}
END_TEST

START_TEST(test_import_vip_in_use)
{
	cxtp_test_event_t *event;
	ike_sa_t *dave;

	dave = other_node("10.3.0.1");
	lease_vip("10.3.0.1");
	deliver(pushed(), 1);
	/* refused before anything was imported, and pAR told so */
	assert_ctdr(0, FALSE, CXTP_STATUS_FAILED);
	ck_assert_int_eq(cxtp_charon_count(), 0);
	ck_assert_int_eq(cxtp_test_events_count("nar", "import"), 0);
	ck_assert_int_eq(cxtp_test_events_count("nar", "failure"), 1);
	event = cxtp_test_events_get("nar", "failure", 0);
	ck_assert_str_eq(event->peer, "par");
	ck_assert_str_eq(event->error,
					 "virtual IP 10.3.0.1 is in use by 'dave' here");
	/* the node's CTAR finds nothing to activate, nAR asks pAR for it */
	process_ctar(SEQ, SEQ, TRUE);
	ck_assert_int_eq(cxtp_test_transport_count(nar_transport, CXTP_CTREQ), 1);
	dave->destroy(dave);
}
END_TEST

START_TEST(test_reactive_vip_in_use)
{
	cxtp_message_t *ctd;
	cxtp_test_sent_t *sent;
	ike_sa_t *dave;

	dave = other_node("10.3.0.1");
	lease_vip("10.3.0.1");
	ctd = requested();
	process_ctar(SEQ, SEQ, TRUE);
	sent = cxtp_test_transport_get(nar_transport, CXTP_CTREQ, 0);
	deliver(ctd, 1);
	assert_ctdr(0, FALSE, CXTP_STATUS_FAILED);
	ck_assert_int_eq(cxtp_charon_count(), 0);
	/* the node waiting on our link learns that its context did not come,
	 * and the CT-Req is done */
	assert_refusal();
	ck_assert(cxtp_test_transport_acked(nar_transport, sent->id));
	dave->destroy(dave);
	/* once dave is gone, the address is free again */
	ck_assert(!vip_held("10.3.0.1"));
}
END_TEST

START_TEST(test_reactive_timeout)
{
	cxtp_message_t *ctd;
	cxtp_test_sent_t *sent;
	u_int id;

	ctd = requested();
	process_ctar(SEQ, SEQ, TRUE);
	sent = cxtp_test_transport_get(nar_transport, CXTP_CTREQ, 0);
	ck_assert(sent->id & CXTP_NAR_REQUEST);
	/* what the transport reports after its last retransmission */
	nar_transport->timeout(nar_transport->timeout_data, "par", sent->id);

	/* the CTAR was dropped: a late context waits for the next one */
	deliver(ctd, 1);
	id = cxtp_test_events_get("nar", "import", 0)->ike_id;
	assert_passive(id);
	ck_assert_str_eq(transfer_state(id), "imported");
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 0);
	ck_assert_int_eq(cxtp_test_events_count("nar", "activate"), 0);
}
END_TEST

START_TEST(test_ctar_unknown_par)
{
	cxtp_message_t *ctar;

	ctar = cxtp_test_mn_request(env, CXTP_CTAR, "192.0.2.222", SEQ, SEQ, TRUE,
								MN_NEW, NAR);
	cxtp_test_icmp_deliver(icmp, MN_NEW, NAR, ctar);
	ck_assert_int_eq(cxtp_charon_run_jobs(), 1);
	ck_assert_int_eq(cxtp_test_transport_count(nar_transport, 0), 0);
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 0);
}
END_TEST

/**
 * A copy of a PCTD as another transfer would send it: with another serial,
 * and, with other_ike_sa, of another IKE_SA of the same mobile node (other
 * SPIs, another token key)
 */
static cxtp_message_t *another(cxtp_message_t *pctd, uint32_t serial,
							   bool other_ike_sa)
{
	cxtp_message_t *copy;
	cxtp_context_t *context;
	cxtp_transfer_id_t id;
	enumerator_t *enumerator;
	cxtp_cdb_t *cdb;
	chunk_t data, key = chunk_from_chars(0x6f, 0x74, 0x68, 0x65, 0x72);

	ck_assert(pctd->get_transfer_id(pctd, &id));
	id.serial = serial;
	copy = cxtp_message_create(CXTP_PCTD, pctd->get_mn_address(pctd));
	copy->set_ack(copy, TRUE);
	ck_assert(copy->set_key(copy, other_ike_sa ? key : pctd->get_key(pctd)));
	enumerator = pctd->create_cdb_enumerator(pctd);
	while (enumerator->enumerate(enumerator, &cdb))
	{
		if (cdb->fpt == CXTP_FPT_IKE_SA && other_ike_sa)
		{
			context = cxtp_context_create();
			ck_assert(cxtp_decode_ike(cdb->data, &context->ike));
			context->ike.spi_i ^= 0xff;
			context->ike.spi_r ^= 0xff;
			id.spi_i = context->ike.spi_i;
			id.spi_r = context->ike.spi_r;
			data = cxtp_encode_ike(&context->ike);
			context->destroy(context);
			ck_assert(copy->add_cdb(copy, cdb->fpt, data));
			chunk_clear(&data);
			continue;
		}
		ck_assert(copy->add_cdb(copy, cdb->fpt, cdb->data));
	}
	enumerator->destroy(enumerator);
	ck_assert(copy->set_transfer_id(copy, &id));
	return copy;
}

/**
 * Count the transfers nAR holds or remembers in a state
 */
static u_int transfers(char *state)
{
	enumerator_t *enumerator;
	cxtp_transfer_info_t *info;
	u_int count = 0;

	enumerator = nar->nar->create_transfer_enumerator(nar->nar);
	while (enumerator->enumerate(enumerator, &info))
	{
		if (!state || streq(info->state, state))
		{
			count++;
		}
	}
	enumerator->destroy(enumerator);
	return count;
}

/**
 * How long nAR remembers a transfer: handover_timeout and twice the
 * retransmission time (1 s, doubled, 3 retransmissions: 15 s)
 */
#define RETENTION ((HANDOVER_TIMEOUT + 2 * 15) * 1000)

START_TEST(test_import_replaces_older)
{
	cxtp_message_t *pctd, *newer;
	cxtp_transfer_id_t id;
	u_int first, second;

	pctd = pushed();
	ck_assert(pctd->get_transfer_id(pctd, &id));
	newer = another(pctd, id.serial + 1, FALSE);
	deliver(pctd, 1);
	first = cxtp_test_events_get("nar", "import", 0)->ike_id;

	/* never activated, pAR pushed the same IKE_SA again */
	deliver(newer, 2);
	ck_assert_int_eq(cxtp_test_events_count("nar", "import"), 2);
	second = cxtp_test_events_get("nar", "import", 1)->ike_id;
	ck_assert(first != second);
	ck_assert_int_eq(cxtp_charon_state(first), IKE_DESTROYING);
	ck_assert_int_eq(cxtp_charon_count(), 1);
	id.serial++;
	assert_ctdr_for(1, id, TRUE, 0);
	ck_assert_int_eq(transfers("imported"), 1);

	/* the node's valid CTAR activates the newer one */
	process_ctar(SEQ, SEQ, TRUE);
	assert_activated(second);
	ck_assert_int_eq(cxtp_test_events_count("nar", "failure"), 0);
}
END_TEST

START_TEST(test_import_other_ike_sa)
{
	cxtp_message_t *pctd, *other;
	cxtp_transfer_id_t id;
	u_int own, stale;

	/* an import of another IKE_SA of the same node is there already (its
	 * IKE_SA was replaced on pAR since) */
	pctd = pushed();
	ck_assert(pctd->get_transfer_id(pctd, &id));
	other = another(pctd, id.serial + 5, TRUE);
	deliver(other, 1);
	stale = cxtp_test_events_get("nar", "import", 0)->ike_id;
	deliver(pctd, 2);
	own = cxtp_test_events_get("nar", "import", 1)->ike_id;
	ck_assert_int_eq(cxtp_charon_count(), 2);
	ck_assert_int_eq(transfers("imported"), 2);

	/* the token decides which one the CTAR is for */
	process_ctar(SEQ, SEQ, TRUE);
	ck_assert_int_eq(cxtp_test_events_count("nar", "failure"), 0);
	assert_activated(own);
	ck_assert_int_eq(cxtp_charon_state(stale), IKE_PASSIVE);
}
END_TEST

/**
 * pAR's CTC for a transfer
 */
static void deliver_ctc(cxtp_transfer_id_t id, u_int ctdrs)
{
	cxtp_message_t *ctc;
	host_t *mn = cxtp_test_host(MN_OLD);

	ctc = cxtp_message_create(CXTP_CTC, mn);
	ck_assert(ctc->set_transfer_id(ctc, &id));
	mn->destroy(mn);
	deliver(ctc, ctdrs);
}

START_TEST(test_cancel)
{
	cxtp_message_t *pctd;
	cxtp_test_event_t *event;
	u_int id;

	pctd = pushed();
	deliver(cxtp_test_message_copy(pctd), 1);
	id = cxtp_test_events_get("nar", "import", 0)->ike_id;
	deliver_ctc(sent_id(), 2);
	assert_ctdr(1, TRUE, CXTP_STATUS_CANCELLED);
	ck_assert_int_eq(cxtp_charon_state(id), IKE_DESTROYING);
	ck_assert_int_eq(cxtp_test_events_count("nar", "cancel"), 1);
	event = cxtp_test_events_get("nar", "cancel", 0);
	ck_assert_int_eq(event->ike_id, id);
	ck_assert_int_eq(transfers("imported"), 0);
	/* its CTAR activates nothing */
	process_ctar(SEQ, SEQ, TRUE);
	ck_assert_int_eq(cxtp_test_events_count("nar", "activate"), 0);
	/* a late copy of its PCTD is refused */
	deliver(pctd, 3);
	assert_ctdr(2, TRUE, CXTP_STATUS_CANCELLED);
	ck_assert_int_eq(cxtp_test_events_count("nar", "import"), 1);
	ck_assert_int_eq(cxtp_charon_count(), 0);
	/* and a repeated CTC answered alike */
	deliver_ctc(sent_id(), 4);
	assert_ctdr(3, TRUE, CXTP_STATUS_CANCELLED);
}
END_TEST

START_TEST(test_cancel_activated)
{
	u_int id;

	id = import();
	process_ctar(SEQ, SEQ, TRUE);
	assert_activated(id);
	/* pAR asks, its CTDR about the activation got lost */
	deliver_ctc(sent_id(), 3);
	assert_ctdr(2, TRUE, CXTP_STATUS_ACTIVATED);
	ck_assert_int_eq(cxtp_charon_state(id), IKE_ESTABLISHED);
	ck_assert_int_eq(cxtp_test_events_count("nar", "cancel"), 0);
	/* a copy of its PCTD does not import it again */
	deliver(another(pushed_copy(), sent_id().serial, FALSE), 4);
	assert_ctdr(3, TRUE, CXTP_STATUS_ACTIVATED);
	ck_assert_int_eq(cxtp_test_events_count("nar", "import"), 1);
}
END_TEST

START_TEST(test_cancel_unknown)
{
	cxtp_message_t *pctd;

	/* the CTC overtook its PCTD */
	pctd = pushed();
	deliver_ctc(sent_id(), 1);
	assert_ctdr(0, TRUE, CXTP_STATUS_CANCELLED);
	deliver(pctd, 2);
	assert_ctdr(1, TRUE, CXTP_STATUS_CANCELLED);
	ck_assert_int_eq(cxtp_test_events_count("nar", "import"), 0);
	ck_assert_int_eq(cxtp_charon_count(), 0);
}
END_TEST

START_TEST(test_newer_transfer_of_live_ike_sa)
{
	u_int id;

	id = import();
	process_ctar(SEQ, SEQ, TRUE);
	assert_activated(id);
	/* a transfer of an IKE_SA live here: nothing for pAR to thaw */
	deliver(another(pushed_copy(), sent_id().serial + 1, FALSE), 3);
	assert_ctdr_for(2, (cxtp_transfer_id_t){
					.spi_i = spi_i, .spi_r = spi_r,
					.serial = sent_id().serial + 1,
				}, TRUE, CXTP_STATUS_ACTIVATED);
	ck_assert_int_eq(cxtp_charon_count(), 1);
}
END_TEST

START_TEST(test_remembered)
{
	u_int id;

	id = import();
	process_ctar(SEQ, SEQ, TRUE);
	assert_activated(id);
	ck_assert_int_eq(transfers("activated"), 1);
	/* long enough for pAR's questions, not forever */
	ck_assert_int_eq(cxtp_charon_scheduled(RETENTION), 1);
	cxtp_charon_run_scheduled(RETENTION);
	ck_assert_int_eq(transfers(NULL), 0);
	ck_assert_int_eq(cxtp_charon_state(id), IKE_ESTABLISHED);
}
END_TEST

START_TEST(test_activated_ike_sa_deleted)
{
	u_int id;

	id = import();
	process_ctar(SEQ, SEQ, TRUE);
	assert_activated(id);
	/* an IKE_SA that goes takes what we remember of it along */
	cxtp_charon_remove(id);
	ck_assert_int_eq(transfers(NULL), 0);
}
END_TEST

START_TEST(test_imported_ike_sa_deleted)
{
	u_int id;

	id = import();
	/* the operator terminated the passive IKE_SA */
	cxtp_charon_remove(id);
	ck_assert_int_eq(transfers("imported"), 0);
	ck_assert_int_eq(transfers("cancelled"), 1);
	/* pAR may thaw */
	ck_assert_int_eq(cxtp_test_transport_count(nar_transport, CXTP_CTDR), 2);
	assert_ctdr(1, TRUE, CXTP_STATUS_CANCELLED);
	ck_assert_int_eq(cxtp_test_events_count("nar", "failure"), 1);
	/* its timer does nothing more */
	cxtp_charon_run_scheduled(HANDOVER_TIMEOUT * 1000);
	ck_assert_int_eq(cxtp_test_transport_count(nar_transport, CXTP_CTDR), 2);
	ck_assert_int_eq(cxtp_test_events_count("nar", "failure"), 1);
}
END_TEST

/**
 * The mobile node sets up an IKE_SA of its own with nAR (a client without
 * MOBIKE re-establishes after its move), under the config and identities of
 * an imported IKE_SA, or as 'dave'; IKE_AUTH runs charon's uniqueness check
 * first, which with the node's INITIAL_CONTACT replaces any IKE_SA of the
 * node, the passive one included
 *
 * @param never		TRUE for a config of the same name with unique = never
 */
static void node_establishes_in(u_int imported, bool initial_contact,
								bool dave, bool never)
{
	ike_sa_id_t *id = ike_sa_id_create(IKEV2, 0x5555, 0x6666, FALSE);
	ike_sa_t *passive, *ike_sa;
	identification_t *other;
	peer_cfg_t *peer_cfg;

	ike_sa = ike_sa_create(id, FALSE, IKEV2);
	id->destroy(id);
	passive = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													 imported);
	ck_assert(passive);
	peer_cfg = passive->get_peer_cfg(passive);
	if (never)
	{
		peer_cfg = peer_cfg_create(peer_cfg->get_name(peer_cfg),
						peer_cfg->get_ike_cfg(peer_cfg)->get_ref(
											peer_cfg->get_ike_cfg(peer_cfg)),
						&(peer_cfg_create_t){ .unique = UNIQUE_NEVER });
		ike_sa->set_peer_cfg(ike_sa, peer_cfg);
		peer_cfg->destroy(peer_cfg);
	}
	else
	{
		ike_sa->set_peer_cfg(ike_sa, peer_cfg);
	}
	ike_sa->set_my_id(ike_sa, passive->get_my_id(passive)->clone(
												passive->get_my_id(passive)));
	other = passive->get_other_id(passive);
	ike_sa->set_other_id(ike_sa, dave ? identification_create_from_string("dave")
									  : other->clone(other));
	ike_sa->set_other_host(ike_sa, cxtp_test_host(MN_NEW));
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, passive);

	charon->bus->set_sa(charon->bus, ike_sa);
	if (initial_contact)
	{
		ck_assert(!charon->ike_sa_manager->check_uniqueness(
								charon->ike_sa_manager, ike_sa, TRUE));
	}
	charon->bus->set_sa(charon->bus, ike_sa);
	charon->bus->ike_updown(charon->bus, ike_sa, TRUE);
	charon->bus->set_sa(charon->bus, NULL);
	ike_sa->destroy(ike_sa);
}

static void node_establishes(u_int imported, bool initial_contact, bool dave)
{
	node_establishes_in(imported, initial_contact, dave, FALSE);
}

/**
 * Assert nAR dropped its import for the node's new IKE_SA and told pAR so,
 * to remove its copy rather than thaw it, with its n-th CTDR
 */
static void assert_superseded(u_int id, u_int ctdrs)
{
	cxtp_test_event_t *event;

	ck_assert_int_eq(cxtp_charon_state(id), IKE_DESTROYING);
	ck_assert_int_eq(cxtp_test_transport_count(nar_transport, CXTP_CTDR),
					 ctdrs);
	assert_ctdr(ctdrs - 1, TRUE, CXTP_STATUS_SUPERSEDED);
	ck_assert_int_eq(cxtp_test_events_count("nar", "supersede"), 1);
	event = cxtp_test_events_get("nar", "supersede", 0);
	ck_assert_int_eq(event->ike_id, id);
	ck_assert_str_eq(event->peer, "par");
	ck_assert_int_eq(cxtp_test_events_count("nar", "failure"), 0);
	ck_assert_int_eq(cxtp_test_events_count("nar", "cancel"), 0);
	ck_assert_int_eq(transfers("imported"), 0);
	ck_assert_int_eq(transfers("superseded"), 1);
	/* its handover timer does nothing more */
	cxtp_charon_run_scheduled(HANDOVER_TIMEOUT * 1000);
	ck_assert_int_eq(cxtp_test_transport_count(nar_transport, CXTP_CTDR),
					 ctdrs);
	ck_assert_int_eq(cxtp_test_events_count("nar", "failure"), 0);
}

START_TEST(test_superseded)
{
	u_int id;

	id = import();
	/* without INITIAL_CONTACT (make-before-break), the import stays */
	node_establishes(id, FALSE, FALSE);
	ck_assert_int_eq(cxtp_charon_run_jobs(), 1);
	assert_superseded(id, 2);
	/* pAR asks after its timeout, its CTDR got lost: the same answer */
	deliver_ctc(sent_id(), 3);
	assert_ctdr(2, TRUE, CXTP_STATUS_SUPERSEDED);
	/* the node's CTAR activates nothing any more */
	process_ctar(SEQ, SEQ, TRUE);
	ck_assert_int_eq(cxtp_test_events_count("nar", "activate"), 0);
	ck_assert_int_eq(cxtp_charon_count(), 0);
}
END_TEST

START_TEST(test_superseded_initial_contact)
{
	u_int id;

	id = import();
	/* charon's uniqueness check destroys the passive IKE_SA itself */
	node_establishes(id, TRUE, FALSE);
	assert_superseded(id, 2);
	ck_assert_int_eq(cxtp_charon_count(), 0);
}
END_TEST

START_TEST(test_superseded_late_pctd)
{
	cxtp_message_t *pctd;
	u_int id;

	pctd = pushed();
	deliver(cxtp_test_message_copy(pctd), 1);
	id = cxtp_test_events_get("nar", "import", 0)->ike_id;
	node_establishes(id, FALSE, FALSE);
	ck_assert_int_eq(cxtp_charon_run_jobs(), 1);
	assert_superseded(id, 2);
	/* a late copy of its PCTD does not import it again */
	deliver(pctd, 3);
	assert_ctdr(2, TRUE, CXTP_STATUS_SUPERSEDED);
	ck_assert_int_eq(cxtp_test_events_count("nar", "import"), 1);
	ck_assert_int_eq(cxtp_charon_count(), 0);
}
END_TEST

START_TEST(test_not_superseded_by_other_node)
{
	u_int id;

	id = import();
	node_establishes(id, FALSE, TRUE);
	ck_assert_int_eq(cxtp_charon_run_jobs(), 0);
	assert_passive(id);
	ck_assert_int_eq(transfers("imported"), 1);
	ck_assert_int_eq(cxtp_test_transport_count(nar_transport, CXTP_CTDR), 1);
	ck_assert_int_eq(cxtp_test_events_count("nar", "supersede"), 0);
	/* its CTAR still activates it */
	process_ctar(SEQ, SEQ, TRUE);
	assert_activated(id);
}
END_TEST

START_TEST(test_not_superseded_identities_shared)
{
	u_int id;

	id = import();
	/* the config's identities may stand for several nodes */
	node_establishes_in(id, FALSE, FALSE, TRUE);
	ck_assert_int_eq(cxtp_charon_run_jobs(), 0);
	assert_passive(id);
	ck_assert_int_eq(transfers("imported"), 1);
	ck_assert_int_eq(cxtp_test_events_count("nar", "supersede"), 0);
}
END_TEST

START_TEST(test_not_superseded_after_activation)
{
	u_int id;

	id = import();
	process_ctar(SEQ, SEQ, TRUE);
	assert_activated(id);
	/* e.g. the node reauthenticates with make-before-break */
	node_establishes(id, FALSE, FALSE);
	ck_assert_int_eq(cxtp_charon_run_jobs(), 0);
	ck_assert_int_eq(cxtp_charon_state(id), IKE_ESTABLISHED);
	ck_assert_int_eq(transfers("activated"), 1);
	ck_assert_int_eq(cxtp_test_events_count("nar", "supersede"), 0);
}
END_TEST

/**
 * The message ID the mobile node sends its next request with
 */
static uint32_t mn_mid()
{
	return env->mn->get_message_id(env->mn, TRUE);
}

/**
 * An INFORMATIONAL of the mobile node, protected with the keys of its
 * IKE_SA, from and to the given addresses
 *
 * @param mid		message ID
 * @param request	FALSE for a response
 * @param update	TRUE to ask for a MOBIKE update (UPDATE_SA_ADDRESSES)
 * @param payload	another payload to carry, adopted, NULL for none
 * @return			the packet as nAR receives it
 */
static packet_t *mn_informational_at(uint32_t mid, bool request, bool update,
									 payload_t *payload, char *src, char *dst)
{
	message_t *message;
	packet_t *packet;

	message = message_create(IKEV2_MAJOR_VERSION, IKEV2_MINOR_VERSION);
	message->set_exchange_type(message, INFORMATIONAL);
	message->set_request(message, request);
	message->set_message_id(message, mid);
	message->set_ike_sa_id(message, env->mn->get_id(env->mn));
	if (update)
	{
		message->add_notify(message, FALSE, UPDATE_SA_ADDRESSES, chunk_empty);
	}
	if (payload)
	{
		message->add_payload(message, payload);
	}
	message->set_source(message, cxtp_test_host(src));
	message->set_destination(message, cxtp_test_host(dst));
	ck_assert(message->generate(message, env->mn->get_keymat(env->mn),
								&packet) == SUCCESS);
	message->destroy(message);
	return packet;
}

/**
 * An INFORMATIONAL of the mobile node from its new address, as a stock
 * MOBIKE client sends it to the anycast gateway address after its move, see
 * mn_informational_at()
 */
static packet_t *mn_informational_with(uint32_t mid, bool request,
									   bool update, payload_t *payload)
{
	return mn_informational_at(mid, request, update, payload, MN_NEW, NAR);
}

/**
 * The mobile node's INFORMATIONAL, see mn_informational_with()
 */
static packet_t *mn_informational(uint32_t mid, bool request, bool update)
{
	return mn_informational_with(mid, request, update, NULL);
}

/**
 * nAR's charon receives an IKE packet, as its receiver hands it on
 */
static void receive_ike(packet_t *packet)
{
	message_t *message;
	job_t *job;

	message = message_create_from_packet(packet);
	ck_assert(message->parse_header(message) == SUCCESS);
	job = (job_t*)process_message_job_create(message);
	job->execute(job);
	job->destroy(job);
}

/**
 * The IKE message nAR's charon sent, if any
 */
static message_t *ike_sent()
{
	return exchange_test_helper->sender->dequeue(exchange_test_helper->sender);
}

/**
 * Assert nAR answered the mobile node's request with the message ID mid,
 * protected with the IKE_SA's keys, from the address the request went to
 */
static void assert_answer(uint32_t mid)
{
	message_t *message;

	message = ike_sent();
	ck_assert(message);
	ck_assert_int_eq(message->get_exchange_type(message), INFORMATIONAL);
	ck_assert(!message->get_request(message));
	ck_assert_int_eq(message->get_message_id(message), mid);
	ck_assert(cxtp_test_host_is(message->get_source(message), NAR));
	ck_assert(cxtp_test_host_is(message->get_destination(message), MN_NEW));
	ck_assert(message->parse_body(message,
								  env->mn->get_keymat(env->mn)) == SUCCESS);
	message->destroy(message);
	ck_assert(!ike_sent());
}

/**
 * Assert an IKE message changed nothing on nAR: the import waits for its
 * activation, pAR and the mobile node were told nothing
 */
static void assert_unchanged(u_int id)
{
	assert_passive(id);
	ck_assert_str_eq(transfer_state(id), "imported");
	ck_assert_int_eq(cxtp_test_events_count("nar", "activate"), 0);
	ck_assert_int_eq(cxtp_test_events_count("nar", "failure"), 0);
	ck_assert_int_eq(cxtp_test_transport_count(nar_transport, CXTP_CTDR), 1);
	ck_assert(!ike_sent());
}

START_TEST(test_mobike_update)
{
	uint32_t mid = mn_mid();
	packet_t *packet;
	u_int id;

	id = import();
	packet = mn_informational(mid, TRUE, TRUE);
	receive_ike(packet->clone(packet));
	assert_activated(id);
	/* no CTAR, no CTAA: the node gets the standard MOBIKE answer */
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 0);
	assert_answer(mid);
	/* a retransmission gets the same answer, without a second activation */
	receive_ike(packet);
	assert_answer(mid);
	ck_assert_int_eq(cxtp_test_events_count("nar", "activate"), 1);
	ck_assert_int_eq(cxtp_test_transport_count(nar_transport, CXTP_CTDR), 2);
	/* the import's timeout, due now, leaves the activated IKE_SA alone */
	cxtp_charon_run_scheduled(HANDOVER_TIMEOUT * 1000);
	ck_assert_int_eq(cxtp_charon_state(id), IKE_ESTABLISHED);
}
END_TEST

START_TEST(test_mobike_probe)
{
	uint32_t mid = mn_mid();
	u_int id;

	/* a stock strongSwan client probes the new path with an empty
	 * INFORMATIONAL, and sends its update only once that is answered */
	id = import();
	receive_ike(mn_informational(mid, TRUE, FALSE));
	assert_activated(id);
	assert_answer(mid);
	receive_ike(mn_informational(mid + 1, TRUE, TRUE));
	assert_answer(mid + 1);
	assert_activated(id);
}
END_TEST

START_TEST(test_mobike_delete)
{
	uint32_t mid = mn_mid();
	u_int id;

	/* the node deletes the IKE_SA from its new link: pAR drops its copy as
	 * activated here, where charon deletes it as the node asks, rather than
	 * thaw one the node considers gone */
	id = import();
	receive_ike(mn_informational_with(mid, TRUE, FALSE, (payload_t*)
						delete_payload_create(PLV2_DELETE, PROTO_IKE)));
	ck_assert_int_eq(cxtp_test_events_count("nar", "activate"), 1);
	assert_ctdr(1, TRUE, CXTP_STATUS_ACTIVATED);
	assert_answer(mid);
	ck_assert_int_eq(cxtp_charon_state(id), IKE_DESTROYING);
	ck_assert_int_eq(cxtp_test_kernel_count(id), 0);
}
END_TEST

START_TEST(test_mobike_activate_fails)
{
	cxtp_test_event_t *event;
	u_int id;

	id = import();
	cxtp_test_kernel_refuse(TRUE);
	receive_ike(mn_informational(mn_mid(), TRUE, TRUE));
	ck_assert_int_eq(cxtp_test_events_count("nar", "failure"), 1);
	event = cxtp_test_events_get("nar", "failure", 0);
	ck_assert_int_eq(event->ike_id, id);
	ck_assert_str_eq(event->peer, "par");
	/* pAR keeps the mobile node, the node gets no answer from here */
	assert_ctdr(1, FALSE, CXTP_STATUS_FAILED);
	ck_assert_int_eq(cxtp_test_events_count("nar", "activate"), 0);
	ck_assert(!ike_sent());
	/* the IKE_SA goes once charon checked it in, nothing half-installed */
	ck_assert(cxtp_charon_run_jobs() >= 1);
	ck_assert_int_eq(cxtp_charon_state(id), IKE_DESTROYING);
	ck_assert_int_eq(cxtp_test_kernel_count(id), 0);
}
END_TEST

START_TEST(test_mobike_tampered)
{
	uint32_t mid = mn_mid();
	packet_t *packet;
	chunk_t data;
	u_int id;

	id = import();
	packet = mn_informational(mid, TRUE, TRUE);
	data = packet->get_data(packet);
	/* its integrity check value, the message as such parses */
	data.ptr[data.len - 1] ^= 0x01;
	receive_ike(packet);
	assert_unchanged(id);
	/* the node's own copy still activates */
	receive_ike(mn_informational(mid, TRUE, TRUE));
	assert_activated(id);
	assert_answer(mid);
}
END_TEST

START_TEST(test_mobike_replayed)
{
	uint32_t mid = mn_mid();
	u_int id;

	/* a request the node sent pAR before, captured on the old link */
	id = import();
	receive_ike(mn_informational(mid - 1, TRUE, TRUE));
	assert_unchanged(id);
	receive_ike(mn_informational(mid + 1, TRUE, TRUE));
	assert_unchanged(id);
}
END_TEST

START_TEST(test_mobike_response)
{
	uint32_t mid = mn_mid();
	u_int id;

	id = import();
	receive_ike(mn_informational(mid, FALSE, TRUE));
	assert_unchanged(id);
	/* pAR never sent a request, its next one has ID 0 */
	receive_ike(mn_informational(0, FALSE, FALSE));
	assert_unchanged(id);
}
END_TEST

START_TEST(test_mobike_cancelled)
{
	uint32_t mid = mn_mid();
	u_int id;

	id = import();
	deliver_ctc(sent_id(), 2);
	assert_ctdr(1, TRUE, CXTP_STATUS_CANCELLED);
	receive_ike(mn_informational(mid, TRUE, TRUE));
	ck_assert_int_eq(cxtp_charon_state(id), IKE_DESTROYING);
	ck_assert_int_eq(cxtp_charon_count(), 0);
	ck_assert_int_eq(cxtp_test_events_count("nar", "activate"), 0);
	ck_assert_int_eq(cxtp_test_transport_count(nar_transport, CXTP_CTDR), 2);
	ck_assert(!ike_sent());
}
END_TEST

START_TEST(test_mobike_after_ctar)
{
	uint32_t mid = mn_mid();
	u_int id;

	/* the project's node confirms its CTAR's move with MOBIKE, as usual */
	id = import();
	process_ctar(SEQ, SEQ, TRUE);
	assert_activated(id);
	receive_ike(mn_informational(mid, TRUE, TRUE));
	assert_answer(mid);
	ck_assert_int_eq(cxtp_test_events_count("nar", "activate"), 1);
	ck_assert_int_eq(cxtp_test_transport_count(nar_transport, CXTP_CTDR), 2);
}
END_TEST

/**
 * The first octet of an SPI, the label under the mask we configure
 */
static uint8_t label_of(uint64_t spi)
{
	return ((uint8_t*)&spi)[0];
}

/**
 * Label the SPIs with the first octet: pAR's responder SPI carries peer
 * "par"'s label, ours (nAR's) another one
 */
static void configure_labels()
{
	char label[32];

	lib->settings->set_str(lib->settings, "%s.spi_mask", "0xff00000000000000",
						   lib->ns);
	snprintf(label, sizeof(label), "0x%02x00000000000000",
			 label_of(spi_r) ^ 0x80);
	lib->settings->set_str(lib->settings, "%s.spi_label", label, lib->ns);
	snprintf(label, sizeof(label), "0x%02x00000000000000", label_of(spi_r));
	lib->settings->set_str(lib->settings, "%s.plugins.cxtp.peers.par.spi_label",
						   label, lib->ns);
	env->settings->reload(env->settings);
}

/**
 * An INFORMATIONAL request of the mobile node for an IKE_SA with other SPIs
 */
static packet_t *mn_informational_spis(uint64_t ispi, uint64_t rspi,
									   char *src)
{
	ike_sa_id_t *id;
	message_t *message;
	packet_t *packet;

	message = message_create(IKEV2_MAJOR_VERSION, IKEV2_MINOR_VERSION);
	message->set_exchange_type(message, INFORMATIONAL);
	message->set_request(message, TRUE);
	message->set_message_id(message, mn_mid());
	id = ike_sa_id_create(IKEV2_MAJOR_VERSION, ispi, rspi, TRUE);
	message->set_ike_sa_id(message, id);
	id->destroy(id);
	message->add_notify(message, FALSE, UPDATE_SA_ADDRESSES, chunk_empty);
	message->set_source(message, cxtp_test_host(src));
	message->set_destination(message, cxtp_test_host(NAR));
	ck_assert(message->generate(message, env->mn->get_keymat(env->mn),
								&packet) == SUCCESS);
	message->destroy(message);
	return packet;
}

/**
 * The CT-Req nAR sends for an IKE request, delivered to pAR, which holds
 * the IKE_SA still, as in requested()
 *
 * @return			number of CTDs pAR sent, 0 or 1
 */
static u_int ask_par(packet_t *packet)
{
	cxtp_message_t *ctreq;
	host_t *src = cxtp_test_host(MN_NEW);

	ctreq = cxtp_message_create(CXTP_CTREQ, src);
	ck_assert(ctreq->set_ike_request(ctreq, packet->get_data(packet)));
	cxtp_test_transport_deliver(par_transport, "nar", ctreq);
	ck_assert_int_eq(cxtp_charon_run_jobs(), 1);
	src->destroy(src);
	return cxtp_test_transport_count(par_transport, CXTP_CTD);
}

/**
 * Assert pAR refused a CT-Req: answered "no context", nothing frozen
 */
static void assert_par_refused()
{
	cxtp_test_sent_t *sent;
	enumerator_t *enumerator;
	cxtp_status_t *status;
	cxtp_transfer_id_t id;
	ike_sa_t *ike_sa;
	uint8_t found = 0;

	ck_assert_int_eq(cxtp_test_transport_count(par_transport, CXTP_CTD), 0);
	ck_assert_int_eq(cxtp_test_transport_count(par_transport, CXTP_CTDR), 1);
	sent = cxtp_test_transport_get(par_transport, CXTP_CTDR, 0);
	ck_assert_str_eq(sent->peer, "nar");
	ck_assert(!sent->message->get_success(sent->message));
	ck_assert(!sent->message->get_transfer_id(sent->message, &id));
	ck_assert(cxtp_test_host_is(sent->message->get_mn_address(sent->message),
								MN_NEW));
	enumerator = sent->message->create_status_enumerator(sent->message);
	while (enumerator->enumerate(enumerator, &status))
	{
		found = status->status;
	}
	enumerator->destroy(enumerator);
	ck_assert_int_eq(found, CXTP_STATUS_NO_CONTEXT);
	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													par_id);
	ck_assert(ike_sa);
	ck_assert_int_eq(ike_sa->get_state(ike_sa), IKE_ESTABLISHED);
	ck_assert(!par->par->get_state(par->par, ike_sa));
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	ck_assert_int_eq(cxtp_test_events_count("par", "export"), 0);
}

/**
 * The CT-Req nAR sent for a held IKE request
 */
static cxtp_test_sent_t *fetch_sent(u_int n, packet_t *packet)
{
	cxtp_test_sent_t *sent;
	cxtp_message_t *ctreq;

	ck_assert(cxtp_test_transport_count(nar_transport, CXTP_CTREQ) > n);
	sent = cxtp_test_transport_get(nar_transport, CXTP_CTREQ, n);
	ctreq = sent->message;
	ck_assert_str_eq(sent->peer, "par");
	ck_assert(sent->reliable);
	ck_assert(cxtp_test_host_is(ctreq->get_mn_address(ctreq), MN_NEW));
	if (packet)
	{
		ck_assert_chunk_eq(ctreq->get_ike_request(ctreq),
						   packet->get_data(packet));
	}
	return sent;
}

/**
 * The CTD pAR sends for the node's request, verified while pAR still holds
 * the IKE_SA, before it moves "away"
 */
static cxtp_message_t *fetched(packet_t *packet)
{
	cxtp_message_t *ctd;

	ck_assert_int_eq(ask_par(packet), 1);
	ctd = cxtp_test_message_copy(
				cxtp_test_transport_get(par_transport, CXTP_CTD, 0)->message);
	cxtp_charon_remove(par_id);
	reactive = TRUE;
	return ctd;
}

/**
 * Deliver the CTD for a held request to nAR, which imports it and processes
 * the request again in a job of its own
 *
 * @return			unique ID of the imported IKE_SA
 */
static u_int deliver_fetched(cxtp_message_t *ctd)
{
	cxtp_test_transport_deliver(nar_transport, "par", ctd);
	ck_assert(cxtp_charon_run_jobs() >= 2);
	assert_ctdr(0, TRUE, 0);
	return cxtp_test_events_get("nar", "import", 0)->ike_id;
}

START_TEST(test_fetch)
{
	cxtp_message_t *ctd;
	cxtp_test_sent_t *sent;
	packet_t *packet;
	uint32_t mid = mn_mid();
	u_int id;

	configure_labels();
	packet = mn_informational(mid, TRUE, TRUE);
	/* pAR verifies the request before it freezes and sends the context */
	ctd = fetched(packet);

	/* the node's MOBIKE update for an IKE_SA nAR does not hold: its SPI's
	 * label names pAR, asked with the request itself */
	receive_ike(packet->clone(packet));
	sent = fetch_sent(0, packet);
	ck_assert_int_eq(cxtp_test_transport_count(nar_transport, CXTP_CTREQ), 1);
	ck_assert(!ike_sent());
	/* its retransmission is not asked for again */
	receive_ike(packet->clone(packet));
	ck_assert_int_eq(cxtp_test_transport_count(nar_transport, CXTP_CTREQ), 1);

	/* the context arrives, the held request activates it, charon answers */
	id = deliver_fetched(ctd);
	assert_activated(id);
	assert_answer(mid);
	ck_assert(cxtp_test_transport_acked(nar_transport, sent->id));
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 0);
	packet->destroy(packet);
}
END_TEST

START_TEST(test_fetch_dpd_in_flight)
{
	cxtp_message_t *ctd;
	message_t *dpd;
	packet_t *packet;
	ike_sa_t *ike_sa;
	uint32_t mid = mn_mid(), ours;
	u_int id;

	/* pAR checks the node's liveness at its previous address just as the
	 * node moved: never answered there, the check must not keep the
	 * context from going */
	configure_labels();
	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													par_id);
	ours = ike_sa->get_message_id(ike_sa, TRUE);
	ike_sa->queue_task(ike_sa, (task_t*)ike_dpd_create(TRUE));
	ck_assert(ike_sa->initiate(ike_sa, NULL, NULL) == SUCCESS);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	dpd = ike_sent();
	ck_assert(dpd);
	ck_assert_int_eq(dpd->get_message_id(dpd), ours);
	dpd->destroy(dpd);

	packet = mn_informational(mid, TRUE, TRUE);
	ctd = fetched(packet);
	receive_ike(packet->clone(packet));
	fetch_sent(0, packet);
	id = deliver_fetched(ctd);
	assert_activated(id);
	assert_answer(mid);
	/* nAR's own requests continue with the check's message ID */
	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager, id);
	ck_assert_int_eq(ike_sa->get_message_id(ike_sa, TRUE), ours);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	packet->destroy(packet);
}
END_TEST

START_TEST(test_fetch_tampered)
{
	packet_t *packet;
	chunk_t data;

	configure_labels();
	packet = mn_informational(mn_mid(), TRUE, TRUE);
	data = packet->get_data(packet);
	data.ptr[data.len - 1] ^= 0x01;
	ck_assert_int_eq(ask_par(packet), 0);
	assert_par_refused();
	packet->destroy(packet);
}
END_TEST

START_TEST(test_fetch_replayed)
{
	packet_t *packet;

	/* a request the node sent pAR before, captured on the old link */
	configure_labels();
	packet = mn_informational(mn_mid() - 1, TRUE, TRUE);
	ck_assert_int_eq(ask_par(packet), 0);
	assert_par_refused();
	packet->destroy(packet);
}
END_TEST

START_TEST(test_fetch_unknown_ike_sa)
{
	packet_t *packet;

	configure_labels();
	packet = mn_informational_spis(spi_i ^ htobe64(1), spi_r ^ htobe64(1),
								   MN_NEW);
	ck_assert_int_eq(ask_par(packet), 0);
	assert_par_refused();
	packet->destroy(packet);
}
END_TEST

START_TEST(test_fetch_unknown_label)
{
	uint64_t spi;

	configure_labels();
	cxtp_charon_remove(par_id);
	/* no peer's label */
	spi = spi_r;
	((uint8_t*)&spi)[0] ^= 0x01;
	receive_ike(mn_informational_spis(spi_i, spi, MN_NEW));
	/* our own label: a stale SPI of ours, nothing to fetch */
	spi = spi_r;
	((uint8_t*)&spi)[0] ^= 0x80;
	receive_ike(mn_informational_spis(spi_i, spi, MN_NEW));
	ck_assert_int_eq(cxtp_test_transport_count(nar_transport, 0), 0);
	ck_assert_int_eq(cxtp_charon_count(), 0);
	ck_assert(!ike_sent());
}
END_TEST

START_TEST(test_fetch_not_verified)
{
	cxtp_message_t *ctd;
	packet_t *packet, *tampered;
	chunk_t data;
	u_int id;

	/* pAR verified the node's request, a forged copy of it with the same
	 * SPIs arrived at nAR first */
	configure_labels();
	packet = mn_informational(mn_mid(), TRUE, TRUE);
	ctd = fetched(packet);
	tampered = packet->clone(packet);
	data = tampered->get_data(tampered);
	data.ptr[data.len - 1] ^= 0x01;
	receive_ike(tampered);
	fetch_sent(0, NULL);

	/* imported, the held request does not verify: dropped, pAR thaws */
	id = deliver_fetched(ctd);
	assert_ctdr(1, TRUE, CXTP_STATUS_CANCELLED);
	ck_assert_int_eq(cxtp_test_events_count("nar", "activate"), 0);
	ck_assert_int_eq(cxtp_test_events_count("nar", "failure"), 1);
	ck_assert_int_eq(cxtp_charon_state(id), IKE_DESTROYING);
	ck_assert(!ike_sent());
	packet->destroy(packet);
}
END_TEST

START_TEST(test_fetch_no_context)
{
	cxtp_message_t *ctdr;
	cxtp_test_sent_t *sent;
	packet_t *packet;
	host_t *src = cxtp_test_host(MN_NEW);

	configure_labels();
	cxtp_charon_remove(par_id);
	packet = mn_informational(mn_mid(), TRUE, TRUE);
	receive_ike(packet->clone(packet));
	sent = fetch_sent(0, packet);

	/* pAR refused it: the request goes, the node's next try asks again */
	ctdr = cxtp_message_create(CXTP_CTDR, src);
	ctdr->set_success(ctdr, FALSE);
	ck_assert(ctdr->add_status(ctdr, CXTP_FPT_IKE_SA, CXTP_STATUS_NO_CONTEXT));
	cxtp_test_transport_deliver(nar_transport, "par", ctdr);
	ck_assert_int_eq(cxtp_charon_run_jobs(), 1);
	ck_assert(cxtp_test_transport_acked(nar_transport, sent->id));
	receive_ike(packet);
	fetch_sent(1, NULL);
	ck_assert_int_eq(cxtp_charon_count(), 0);
	src->destroy(src);
}
END_TEST

START_TEST(test_fetch_flood)
{
	uint64_t spi;
	char src[32];
	int i;

	configure_labels();
	cxtp_charon_remove(par_id);
	/* random SPIs with pAR's label, from one source */
	for (i = 0; i < 50; i++)
	{
		spi = spi_r ^ htobe64(i + 1);
		receive_ike(mn_informational_spis(spi_i, spi, MN_NEW));
	}
	ck_assert_int_eq(cxtp_test_transport_count(nar_transport, CXTP_CTREQ),
					 CXTP_HELD_PER_SOURCE);
	/* and from many */
	for (i = 0; i < 100; i++)
	{
		snprintf(src, sizeof(src), "198.51.100.%d", 100 + i);
		spi = spi_r ^ htobe64(0x1000 + i);
		receive_ike(mn_informational_spis(spi_i, spi, src));
	}
	ck_assert(cxtp_test_transport_count(nar_transport, CXTP_CTREQ) <=
			  CXTP_HELD_MAX);
	ck_assert_int_eq(cxtp_charon_count(), 0);
	ck_assert(!ike_sent());
}
END_TEST

/**
 * An empty INFORMATIONAL request of the mobile node that stayed where it
 * was, to the gateway address that moved to nAR (a DPD)
 */
static packet_t *mn_dpd(uint32_t mid)
{
	return mn_informational_at(mid, TRUE, FALSE, NULL, MN_OLD, PAR);
}

/**
 * Assert a takeover activated the IKE_SA at the addresses pAR held it with,
 * told pAR so in its only CTDR, and sent the mobile node nothing
 */
static void assert_taken_over(u_int id)
{
	assert_activated_at(id, PAR, MN_OLD);
	ck_assert_int_eq(cxtp_test_transport_count(nar_transport, CXTP_CTDR), 1);
	assert_ctdr(0, TRUE, CXTP_STATUS_ACTIVATED);
	ck_assert_int_eq(transfers("activated"), 1);
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 0);
	ck_assert(!ike_sent());
}

START_TEST(test_takeover)
{
	chunk_t secret = chunk_empty;
	u_int id;

	id = import_as(TRUE);
	assert_taken_over(id);
	/* the PSK came with it, for a reauthentication */
	ck_assert_int_eq(pad_secrets("init", &secret), 1);
	ck_assert_chunk_eq(secret, chunk_from_str("test"));
	/* no import waits for the node, nothing expires */
	cxtp_charon_run_scheduled(HANDOVER_TIMEOUT * 1000);
	ck_assert_int_eq(cxtp_charon_state(id), IKE_ESTABLISHED);
	ck_assert_int_eq(cxtp_test_events_count("nar", "failure"), 0);
	ck_assert_int_eq(cxtp_test_transport_count(nar_transport, CXTP_CTDR), 1);
}
END_TEST

START_TEST(test_takeover_dpd)
{
	uint32_t mid = mn_mid();
	message_t *message;
	u_int id;

	id = import_as(TRUE);
	assert_taken_over(id);
	/* the node's next request, to the same gateway address, continues the
	 * message IDs and gets its answer from there */
	receive_ike(mn_dpd(mid));
	message = ike_sent();
	ck_assert(message);
	ck_assert(!message->get_request(message));
	ck_assert_int_eq(message->get_message_id(message), mid);
	ck_assert(cxtp_test_host_is(message->get_source(message), PAR));
	ck_assert(cxtp_test_host_is(message->get_destination(message), MN_OLD));
	ck_assert(message->parse_body(message,
								  env->mn->get_keymat(env->mn)) == SUCCESS);
	message->destroy(message);
	ck_assert_int_eq(cxtp_charon_state(id), IKE_ESTABLISHED);
}
END_TEST

START_TEST(test_takeover_duplicate)
{
	u_int id;

	id = import_as(TRUE);
	/* a retransmission, as if our CTDR got lost: answered, not activated
	 * again */
	deliver(pushed_copy(), 2);
	assert_ctdr(1, TRUE, CXTP_STATUS_ACTIVATED);
	ck_assert_int_eq(cxtp_test_events_count("nar", "activate"), 1);
	ck_assert_int_eq(cxtp_test_events_count("nar", "import"), 1);
	ck_assert_int_eq(cxtp_charon_count(), 1);
	ck_assert_int_eq(cxtp_charon_state(id), IKE_ESTABLISHED);
}
END_TEST

START_TEST(test_takeover_fails)
{
	u_int id;

	cxtp_test_kernel_refuse(TRUE);
	id = import_as(TRUE);
	/* nothing half-installed stays, pAR keeps the mobile node */
	ck_assert_int_eq(cxtp_charon_state(id), IKE_DESTROYING);
	ck_assert_int_eq(cxtp_test_kernel_count(id), 0);
	ck_assert_int_eq(cxtp_test_transport_count(nar_transport, CXTP_CTDR), 1);
	assert_ctdr(0, FALSE, CXTP_STATUS_FAILED);
	ck_assert_int_eq(cxtp_test_events_count("nar", "activate"), 0);
	ck_assert_int_eq(cxtp_test_events_count("nar", "failure"), 1);
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 0);
	ck_assert(!ike_sent());
}
END_TEST

START_TEST(test_takeover_flag_in_ctd)
{
	cxtp_message_t *pctd, *ctd;
	enumerator_t *enumerator;
	cxtp_transfer_id_t id;
	cxtp_cdb_t *cdb;
	u_int ike_id;

	/* a CTD answers the node's CT-Req on nAR's link: no T flag there */
	pctd = pushed_as(TRUE);
	ctd = cxtp_message_create(CXTP_CTD, pctd->get_mn_address(pctd));
	ctd->set_takeover(ctd, TRUE);
	ck_assert(pctd->get_transfer_id(pctd, &id));
	ck_assert(ctd->set_transfer_id(ctd, &id));
	ck_assert(ctd->set_key(ctd, pctd->get_key(pctd)));
	enumerator = pctd->create_cdb_enumerator(pctd);
	while (enumerator->enumerate(enumerator, &cdb))
	{
		ck_assert(ctd->add_cdb(ctd, cdb->fpt, cdb->data));
	}
	enumerator->destroy(enumerator);
	pctd->destroy(pctd);
	deliver(cxtp_test_message_copy(ctd), 1);
	ctd->destroy(ctd);
	ike_id = cxtp_test_events_get("nar", "import", 0)->ike_id;
	assert_passive(ike_id);
	assert_ctdr(0, TRUE, 0);
}
END_TEST

Suite *nar_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("cxtp nAR");

	tc = tcase_create("import");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_import);
	tcase_add_test(tc, test_import_duplicate);
	tcase_add_test(tc, test_import_without_key);
	tcase_add_test(tc, test_import_collision);
	tcase_add_test(tc, test_import_expires);
	tcase_add_test(tc, test_import_vip);
	tcase_add_test(tc, test_import_vip_in_use);
	suite_add_tcase(s, tc);

	tc = tcase_create("activation");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_activate);
	tcase_add_test(tc, test_activate_without_ack);
	tcase_add_test(tc, test_activate_fails);
	tcase_add_test(tc, test_activate_spi_taken);
	tcase_add_test(tc, test_activate_spi_taken_resolved);
	tcase_add_test(tc, test_activate_seq_fits);
	tcase_add_test(tc, test_activate_seq_exhausted);
	tcase_add_test(tc, test_forged_token);
	tcase_add_test(tc, test_forged_same_sequence);
	tcase_add_test(tc, test_duplicate_ctar);
	tcase_add_test(tc, test_spoofed_source);
	tcase_add_loop_test(tc, test_activate_lookahead, 0,
						CXTP_TOKEN_WINDOW + 1);
	suite_add_tcase(s, tc);

	tc = tcase_create("lifecycle");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_import_replaces_older);
	tcase_add_test(tc, test_import_other_ike_sa);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_cancel_activated);
	tcase_add_test(tc, test_cancel_unknown);
	tcase_add_test(tc, test_newer_transfer_of_live_ike_sa);
	tcase_add_test(tc, test_remembered);
	tcase_add_test(tc, test_activated_ike_sa_deleted);
	tcase_add_test(tc, test_imported_ike_sa_deleted);
	suite_add_tcase(s, tc);

	tc = tcase_create("superseded");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_superseded);
	tcase_add_test(tc, test_superseded_initial_contact);
	tcase_add_test(tc, test_superseded_late_pctd);
	tcase_add_test(tc, test_not_superseded_by_other_node);
	tcase_add_test(tc, test_not_superseded_identities_shared);
	tcase_add_test(tc, test_not_superseded_after_activation);
	suite_add_tcase(s, tc);

	tc = tcase_create("reactive");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_reactive);
	tcase_add_test(tc, test_reactive_duplicate);
	tcase_add_test(tc, test_reactive_spoofed_source);
	tcase_add_test(tc, test_reactive_timeout);
	tcase_add_test(tc, test_reactive_vip_in_use);
	tcase_add_test(tc, test_reactive_no_context);
	tcase_add_test(tc, test_reactive_waiting_per_node);
	tcase_add_test(tc, test_reactive_flooded_node);
	tcase_add_test(tc, test_ctar_from_previous_address);
	tcase_add_test(tc, test_ctar_unknown_par);
	suite_add_tcase(s, tc);

	tc = tcase_create("mobike");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_mobike_update);
	tcase_add_test(tc, test_mobike_probe);
	tcase_add_test(tc, test_mobike_delete);
	tcase_add_test(tc, test_mobike_activate_fails);
	tcase_add_test(tc, test_mobike_tampered);
	tcase_add_test(tc, test_mobike_replayed);
	tcase_add_test(tc, test_mobike_response);
	tcase_add_test(tc, test_mobike_cancelled);
	tcase_add_test(tc, test_mobike_after_ctar);
	suite_add_tcase(s, tc);

	tc = tcase_create("takeover");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_takeover);
	tcase_add_test(tc, test_takeover_dpd);
	tcase_add_test(tc, test_takeover_duplicate);
	tcase_add_test(tc, test_takeover_fails);
	tcase_add_test(tc, test_takeover_flag_in_ctd);
	suite_add_tcase(s, tc);

	tc = tcase_create("fetch");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_fetch);
	tcase_add_test(tc, test_fetch_dpd_in_flight);
	tcase_add_test(tc, test_fetch_tampered);
	tcase_add_test(tc, test_fetch_replayed);
	tcase_add_test(tc, test_fetch_unknown_ike_sa);
	tcase_add_test(tc, test_fetch_unknown_label);
	tcase_add_test(tc, test_fetch_not_verified);
	tcase_add_test(tc, test_fetch_no_context);
	tcase_add_test(tc, test_fetch_flood);
	suite_add_tcase(s, tc);

	return s;
}
