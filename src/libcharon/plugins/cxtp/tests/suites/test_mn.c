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

#include <exchange_test_helper.h>
#include <sa/ikev2/tasks/ike_dpd.h>

/**
 * The mobile node's side: prepare, move, CTAR, activation or roll back,
 * thaw; CTAAs arrive through the dispatcher, nAR's IKE messages through the
 * IKE_SA, as in the plugin
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

/**
 * A key no transfer has
 */
static chunk_t key_of_nobody = chunk_from_chars(
	0x01,0x02,0x03,0x04,0x05,0x06,0x07,0x08,0x09,0x0a,
	0x0b,0x0c,0x0d,0x0e,0x0f,0x10,0x11,0x12,0x13,0x14);

/**
 * An address on a link without a global one yet
 */
#define MN_LINK_LOCAL	"169.254.7.10"

START_SETUP(setup)
{
	env = cxtp_charon_setup();
	icmp = cxtp_test_icmp_create();
	/* a mobile node only, without peers to reach */
	dispatcher = cxtp_dispatcher_create_with(env->settings, env->index,
								cxtp_test_icmp_constructor, icmp, NULL, NULL);
	mn = cxtp_mn_create(env->capture, env->transfers, env->settings,
						dispatcher->get_icmp(dispatcher),
						cxtp_source_create(cxtp_test_net_usable));
	dispatcher->set_roles(dispatcher, NULL, NULL, mn);
	mn->set_event_cb(mn, cxtp_test_event_cb, "mn");
	charon->bus->add_listener(charon->bus, &mn->ike_listener);
	key = cxtp_test_token_key(env, env->mn);
	/* negotiated in IKE_AUTH, as with any gateway of ours */
	env->mn->enable_extension(env->mn, EXT_MOBIKE);
	mn_id = cxtp_charon_checkin(env, env->mn);
}
END_SETUP

START_TEARDOWN(teardown)
{
	cxtp_charon_stop();
	charon->bus->remove_listener(charon->bus, &mn->ike_listener);
	dispatcher->destroy(dispatcher);
	mn->destroy(mn);
	chunk_clear(&key);
	cxtp_charon_teardown(env);
}
END_TEARDOWN

static ike_sa_t *checkout()
{
	ike_sa_t *ike_sa;

	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													mn_id);
	ck_assert(ike_sa);
	return ike_sa;
}

static void checkin(ike_sa_t *ike_sa)
{
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
}

/**
 * The operator's preparation or activation of the mobile node's IKE_SA,
 * returns why it failed
 */
static char *command(bool preparation, char *nar, bool ack)
{
	ike_sa_t *ike_sa;
	host_t *host = nar ? cxtp_test_host(nar) : NULL;
	char *reason;

	ike_sa = checkout();
	if (preparation)
	{
		reason = mn->prepare(mn, ike_sa, host, ack);
	}
	else
	{
		reason = mn->activate(mn, ike_sa, host, ack);
	}
	checkin(ike_sa);
	DESTROY_IF(host);
	return reason;
}

static char *prepare_for(char *nar, bool ack)
{
	return command(TRUE, nar, ack);
}

static char *activate(char *nar, bool ack)
{
	return command(FALSE, nar, ack);
}

static void prepare(char *nar, bool ack)
{
	char *reason = prepare_for(nar, ack);

	ck_assert_msg(!reason, "prepare failed: %s", reason);
}

/**
 * Where the transfer of the IKE_SA stands, NULL for none
 */
static char *state()
{
	ike_sa_t *ike_sa;
	char *state;

	ike_sa = checkout();
	state = mn->get_state(mn, ike_sa);
	checkin(ike_sa);
	return state;
}

/**
 * Whether charon's roaming leaves the IKE_SA alone
 */
static bool roaming_suspended()
{
	ike_sa_t *ike_sa;
	bool suspended;

	ike_sa = checkout();
	suspended = ike_sa->has_condition(ike_sa, COND_ROAMING_SUSPENDED);
	checkin(ike_sa);
	return suspended;
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
 * What charon's roam job does with the IKE_SA on an address change,
 * returns the IKE message the IKE_SA sent, if any
 */
static message_t *charon_roam()
{
	ike_sa_t *ike_sa;

	ike_sa = checkout();
	charon->bus->set_sa(charon->bus, ike_sa);
	ike_sa->roam(ike_sa, TRUE);
	charon->bus->set_sa(charon->bus, NULL);
	checkin(ike_sa);
	return exchange_test_helper->sender->dequeue(exchange_test_helper->sender);
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
 * Assert the token key of the next transfer attempt is a fresh one, not the
 * one before any attempt
 */
static void assert_key(bool fresh)
{
	chunk_t next;

	next = cxtp_test_token_key(env, env->mn);
	ck_assert(chunk_equals(next, key) != fresh);
	chunk_clear(&next);
}

/**
 * Assert how many transfer attempts advanced the token counter
 */
static void assert_attempts(uint32_t attempts)
{
	ck_assert_int_eq(env->transfers->get_transfers(env->transfers, env->mn),
					 attempts);
}

/**
 * The token key of the attempt in progress, the last one counted
 */
static chunk_t attempt_key()
{
	uint32_t counter;

	counter = env->transfers->get_transfers(env->transfers, env->mn);
	ck_assert(counter > 0);
	return cxtp_test_token_key_for(env, env->mn, counter - 1);
}

/**
 * Assert the n-th CTAR sent
 */
static cxtp_test_sent_t *assert_ctar(u_int n, char *src, char *dst, char *ar,
									 bool ack, bool reliable)
{
	host_t *from = cxtp_test_host(src), *to = cxtp_test_host(dst);
	host_t *named = cxtp_test_host(ar), *old = cxtp_test_host(MN_OLD);
	cxtp_message_t *ctar;
	cxtp_test_sent_t *sent;
	chunk_t attempt;

	sent = cxtp_test_icmp_get(icmp, CXTP_CTAR, n);
	ctar = sent->message;
	ck_assert(from->ip_equals(from, sent->src));
	ck_assert(to->ip_equals(to, sent->dst));
	ck_assert(old->ip_equals(old, ctar->get_mn_address(ctar)));
	ck_assert(named->ip_equals(named, ctar->get_ar_address(ctar)));
	ck_assert(ctar->get_ack(ctar) == ack);
	ck_assert(sent->reliable == reliable);
	if (reliable)
	{
		ck_assert_int_eq(sent->id, ctar->get_sequence(ctar));
	}
	/* nAR and pAR check it with the key derived from the IKE_SA for the
	 * attempt, and the addresses it was sent from and to */
	attempt = attempt_key();
	ck_assert(ctar->verify_token(ctar, attempt, from, to));
	ck_assert(!ctar->verify_token(ctar, attempt, old->equals(old, from) ?
								  to : old, to));
	chunk_clear(&attempt);
	from->destroy(from);
	to->destroy(to);
	named->destroy(named);
	old->destroy(old);
	return sent;
}

/**
 * Assert the n-th CTAR was sent after the move, to be retransmitted until
 * the activation shows
 */
static cxtp_test_sent_t *assert_moved_ctar(u_int n, char *dst, bool ack)
{
	return assert_ctar(n, MN_NEW, dst, PAR, ack, TRUE);
}

/**
 * Assert the IKE_SA moved to nAR and waits for the activation: its roaming
 * suspended, the token counter advanced with the attempt
 */
static void assert_activating(char *nar)
{
	ck_assert_str_eq(state(), "activating");
	ck_assert_int_eq(cxtp_charon_state(mn_id), IKE_ESTABLISHED);
	ck_assert(roaming_suspended());
	assert_hosts(MN_NEW, nar);
	assert_key(TRUE);
	ck_assert_int_eq(cxtp_test_events_count("mn", "activate"), 0);
	ck_assert_int_eq(cxtp_test_events_count("mn", "failure"), 0);
	/* and an address change starts no MOBIKE update */
	ck_assert(!charon_roam());
}

/**
 * Assert the activation showed: the CTAR is no longer retransmitted, the
 * IKE_SA roams again and the next transfer's token has a fresh key
 */
static void assert_activated(char *nar, cxtp_test_sent_t *ctar)
{
	host_t *me = cxtp_test_host(MN_NEW);
	cxtp_test_event_t *event;

	ck_assert_int_eq(cxtp_test_events_count("mn", "activate"), 1);
	event = cxtp_test_events_get("mn", "activate", 0);
	ck_assert_int_eq(event->ike_id, mn_id);
	ck_assert_str_eq(event->peer, nar);
	ck_assert(me->ip_equals(me, event->mn));
	ck_assert(cxtp_test_icmp_acked(icmp, ctar->id));
	ck_assert_int_eq(cxtp_charon_state(mn_id), IKE_ESTABLISHED);
	ck_assert(!state());
	ck_assert(!roaming_suspended());
	assert_hosts(MN_NEW, nar);
	assert_key(TRUE);
	ck_assert_int_eq(cxtp_test_events_count("mn", "failure"), 0);
	me->destroy(me);
}

/**
 * nAR's copy of the IKE_SA sends an IKE request from an address (after the
 * activation mobike-spi sends a MOBIKE update; any message under the
 * IKE_SA's keys will do), and the mobile node processes it
 */
static void ike_message_from(char *from)
{
	ike_sa_t *ike_sa, *nar = env->par;
	message_t *message;

	/* pAR's IKE_SA has the same SPIs and keys as nAR's copy */
	call_ikesa(nar, set_my_host, cxtp_test_host(from));
	call_ikesa(nar, set_other_host, cxtp_test_host(MN_NEW));
	call_ikesa(nar, queue_task, (task_t*)ike_dpd_create(TRUE));
	call_ikesa(nar, initiate, NULL, NULL);
	message = exchange_test_helper->sender->dequeue(
												exchange_test_helper->sender);
	ck_assert(message);

	ike_sa = checkout();
	ck_assert_int_eq(exchange_test_helper->process_message(exchange_test_helper,
												ike_sa, message), SUCCESS);
	checkin(ike_sa);
	/* the mobile node's response */
	message = exchange_test_helper->sender->dequeue(
												exchange_test_helper->sender);
	ck_assert(message);
	ck_assert(!message->get_request(message));
	message->destroy(message);
}

/**
 * How a CTAA is authenticated
 */
typedef enum {
	/** with the attempt's token key */
	CTAA_SIGNED,
	/** not at all */
	CTAA_UNSIGNED,
	/** with another key */
	CTAA_FORGED,
	/** with the attempt's key, but for another sequence number */
	CTAA_OTHER_SEQUENCE,
} ctaa_auth_t;

/**
 * A CTAA from an access router for an address the CTAR named, answering
 * the last CTAR sent, with an IKE_SA status if not 0, processed
 */
static void ctaa_from_auth(char *from, char *mn_address, ctaa_auth_t auth,
						   uint8_t status)
{
	host_t *address = cxtp_test_host(mn_address);
	host_t *src = cxtp_test_host(from), *dst = cxtp_test_host(MN_NEW);
	cxtp_message_t *ctaa, *ctar;
	chunk_t key;

	ctar = cxtp_test_icmp_get(icmp, CXTP_CTAR,
						cxtp_test_icmp_count(icmp, CXTP_CTAR) - 1)->message;
	ctaa = cxtp_message_create(CXTP_CTAA, address);
	if (status)
	{
		ck_assert(ctaa->add_status(ctaa, CXTP_FPT_IKE_SA, status));
	}
	ctaa->set_sequence(ctaa, ctar->get_sequence(ctar) +
					   (auth == CTAA_OTHER_SEQUENCE ? 1 : 0));
	key = auth == CTAA_FORGED ? chunk_clone(key_of_nobody) : attempt_key();
	if (auth != CTAA_UNSIGNED)
	{
		ck_assert(ctaa->sign_ctaa(ctaa, key, src, dst));
	}
	chunk_clear(&key);
	cxtp_test_icmp_deliver(icmp, from, MN_NEW, ctaa);
	cxtp_charon_run_jobs();
	address->destroy(address);
	src->destroy(src);
	dst->destroy(dst);
}

/**
 * An authenticated CTAA acknowledging the activation
 */
static void ctaa_from(char *from, char *mn_address)
{
	ctaa_from_auth(from, mn_address, CTAA_SIGNED, 0);
}

/**
 * What the ICMP transport reports when the CTAR's retransmissions end
 */
static void ctar_timeout(cxtp_test_sent_t *ctar)
{
	icmp->timeout(icmp->timeout_data, ctar->id, ctar->dst);
	cxtp_charon_run_jobs();
}

/**
 * Assert the one failure reported, naming an access router or none, and
 * that the IKE_SA is back where it was: with pAR and the token counter
 * pAR has, in no transfer, roaming
 */
static void assert_back(char *peer)
{
	cxtp_test_event_t *event;

	ck_assert_int_eq(cxtp_test_events_count("mn", "failure"), 1);
	event = cxtp_test_events_get("mn", "failure", 0);
	ck_assert_int_eq(event->ike_id, mn_id);
	if (peer)
	{
		ck_assert_str_eq(event->peer, peer);
	}
	else
	{
		ck_assert(!event->peer);
	}
	ck_assert_int_eq(cxtp_test_events_count("mn", "activate"), 0);
	ck_assert_int_eq(cxtp_charon_state(mn_id), IKE_ESTABLISHED);
	ck_assert(!state());
	ck_assert(!roaming_suspended());
	/* the token of the failed attempt is worth nothing later */
	assert_key(TRUE);
}

/**
 * Assert the n-th CTAR is the last one and went out after the move, and
 * that nAR's IKE message completes the activation
 */
static void assert_handover(u_int n, char *nar)
{
	cxtp_test_sent_t *sent;

	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), n + 1);
	sent = assert_moved_ctar(n, nar, FALSE);
	assert_activating(nar);
	ike_message_from(nar);
	assert_activated(nar, sent);
}

START_TEST(test_prepare)
{
	char *reason;

	prepare(NULL, FALSE);
	ck_assert_int_eq(cxtp_charon_state(mn_id), IKE_PASSIVE);
	ck_assert_str_eq(state(), "prepared");
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

START_TEST(test_prepare_timeout)
{
	prepare(NULL, FALSE);
	ck_assert_int_eq(cxtp_charon_scheduled(HANDOVER_TIMEOUT * 1000), 1);
	ck_assert_int_eq(cxtp_test_events_count("mn", "failure"), 0);
	cxtp_charon_run_scheduled(HANDOVER_TIMEOUT * 1000);
	assert_back(NULL);
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 0);
	assert_hosts(MN_OLD, PAR);

	/* and a move later is charon's business, not ours */
	move(ROUTER);
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 0);
}
END_TEST

START_TEST(test_prepare_gone)
{
	ike_sa_t *ike_sa;

	prepare(NULL, FALSE);
	ike_sa = checkout();
	charon->ike_sa_manager->checkin_and_destroy(charon->ike_sa_manager, ike_sa);
	ck_assert_int_eq(cxtp_charon_count(), 0);
	/* nothing left to move or to thaw */
	move(ROUTER);
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 0);
	cxtp_charon_run_scheduled(HANDOVER_TIMEOUT * 1000);
	ck_assert_int_eq(cxtp_test_events_count("mn", "failure"), 0);
}
END_TEST

START_TEST(test_move_default_router)
{
	cxtp_test_sent_t *sent;

	prepare(NULL, FALSE);
	move(ROUTER);
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 1);
	sent = assert_moved_ctar(0, ROUTER, FALSE);
	assert_activating(ROUTER);

	ctaa_from(ROUTER, MN_OLD);
	assert_activated(ROUTER, sent);
}
END_TEST

START_TEST(test_move_named_nar)
{
	cxtp_test_sent_t *before, *after;

	prepare(NAR, FALSE);
	/* asking pAR to push the context to nAR */
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, CXTP_CTAR), 1);
	before = assert_ctar(0, MN_OLD, PAR, NAR, FALSE, FALSE);
	ck_assert_int_eq(cxtp_charon_state(mn_id), IKE_PASSIVE);

	/* the named access router wins over the default router */
	move(ROUTER);
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, CXTP_CTAR), 2);
	after = assert_moved_ctar(1, NAR, FALSE);
	/* the same sequence number as the CTAR to pAR (RFC 4067 3.2) */
	ck_assert_int_eq(after->message->get_sequence(after->message),
					 before->message->get_sequence(before->message));
	assert_activating(NAR);
	ike_message_from(NAR);
	assert_activated(NAR, after);
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
	ck_assert_str_eq(state(), "prepared");

	move(ROUTER);
	assert_handover(0, ROUTER);
}
END_TEST

START_TEST(test_move_tentative)
{
	prepare(NULL, FALSE);
	/* on the new link, its address in duplicate address detection */
	cxtp_test_net_set_tentative(MN_NEW, TRUE);
	move(ROUTER);
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 0);
	ck_assert_int_eq(cxtp_charon_state(mn_id), IKE_PASSIVE);
	ck_assert_str_eq(state(), "prepared");
	assert_hosts(MN_OLD, PAR);
	/* nor while it stays so */
	roam();
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 0);

	/* its flags change once DAD is done */
	cxtp_test_net_set_tentative(MN_NEW, FALSE);
	roam();
	assert_handover(0, ROUTER);
}
END_TEST

START_TEST(test_move_tentative_timeout)
{
	prepare(NULL, FALSE);
	cxtp_test_net_set_tentative(MN_NEW, TRUE);
	move(ROUTER);
	cxtp_charon_run_scheduled(HANDOVER_TIMEOUT * 1000);
	/* thawed, charon's roaming takes over */
	assert_back(NULL);
	ck_assert_str_eq(cxtp_test_events_get("mn", "failure", 0)->error,
				"no usable address on the new link in time, IKE_SA thawed");
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 0);
	assert_hosts(MN_OLD, PAR);
}
END_TEST

START_TEST(test_move_link_local)
{
	prepare(NULL, FALSE);
	/* the new link's link-local address first, reaching no router */
	cxtp_test_net_set_address(MN_OLD, FALSE);
	cxtp_test_net_set_address(MN_LINK_LOCAL, TRUE);
	cxtp_test_net_set_router(ROUTER);
	roam();
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 0);
	ck_assert_str_eq(state(), "prepared");

	cxtp_test_net_set_address(MN_NEW, TRUE);
	roam();
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 1);
	assert_moved_ctar(0, ROUTER, FALSE);
	assert_activating(ROUTER);
}
END_TEST

START_TEST(test_move_without_roam_events)
{
	cxtp_test_sent_t *sent;

	lib->settings->set_bool(lib->settings,
					"%s.plugins.kernel-netlink.roam_events", FALSE, lib->ns);
	prepare(NULL, FALSE);
	/* charon reports nothing, the plugin checks the addresses itself */
	ck_assert_int_eq(cxtp_charon_scheduled(CXTP_MN_POLL_INTERVAL), 1);
	cxtp_charon_run_scheduled(CXTP_MN_POLL_INTERVAL);
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 0);
	ck_assert_int_eq(cxtp_charon_scheduled(CXTP_MN_POLL_INTERVAL), 1);

	cxtp_test_net_set_address(MN_OLD, FALSE);
	cxtp_test_net_set_address(MN_NEW, TRUE);
	cxtp_test_net_set_router(ROUTER);
	cxtp_charon_run_scheduled(CXTP_MN_POLL_INTERVAL);
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 1);
	sent = assert_moved_ctar(0, ROUTER, FALSE);
	/* no more checks once moved */
	ck_assert_int_eq(cxtp_charon_scheduled(CXTP_MN_POLL_INTERVAL), 0);
	assert_activating(ROUTER);
	ike_message_from(ROUTER);
	assert_activated(ROUTER, sent);
}
END_TEST

START_TEST(test_move_send_fails)
{
	prepare(NULL, FALSE);
	icmp->fail = TRUE;
	move(ROUTER);
	/* still prepared where it was, the next address change tries again */
	ck_assert_int_eq(cxtp_test_events_count("mn", "failure"), 0);
	ck_assert_int_eq(cxtp_charon_state(mn_id), IKE_PASSIVE);
	ck_assert_str_eq(state(), "prepared");
	ck_assert(!roaming_suspended());
	assert_hosts(MN_OLD, PAR);
	/* counted when prepared, not with every CTAR sent for it */
	assert_attempts(1);

	icmp->fail = FALSE;
	roam();
	assert_handover(0, ROUTER);
	assert_attempts(1);
}
END_TEST

/**
 * The operator's command to activate on nAR after a move to a link where
 * charon knows an address, accepted
 */
static void activate_after_move(char *address)
{
	char *reason;

	cxtp_test_net_set_address(MN_OLD, FALSE);
	cxtp_test_net_set_address(address, TRUE);
	reason = activate(NAR, FALSE);
	ck_assert_msg(!reason, "activate failed: %s", reason);
}

START_TEST(test_activate_unprepared)
{
	cxtp_test_sent_t *sent;
	char *reason;

	/* the operator's command after a move, without a preparation */
	activate_after_move(MN_NEW);
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 1);
	sent = assert_moved_ctar(0, NAR, FALSE);
	assert_activating(NAR);

	/* no preparation while it is in progress */
	reason = prepare_for(NULL, FALSE);
	ck_assert(reason);
	free(reason);
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 1);

	/* but the operator may start over, before anything showed */
	reason = activate(NAR, FALSE);
	ck_assert_msg(!reason, "activate failed: %s", reason);
	ck_assert(cxtp_test_icmp_acked(icmp, sent->id));
	sent = assert_moved_ctar(1, NAR, FALSE);
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 2);
	assert_activating(NAR);
	ike_message_from(NAR);
	assert_activated(NAR, sent);
}
END_TEST

START_TEST(test_activate_during_liveness_check)
{
	message_t *message;
	ike_sa_t *ike_sa;
	u_int mid;

	/* our DPD went to the previous router, which froze the IKE_SA for the
	 * push and answers nothing */
	ike_sa = checkout();
	mid = ike_sa->get_message_id(ike_sa, TRUE);
	ck_assert(ike_sa->send_dpd(ike_sa) == SUCCESS);
	checkin(ike_sa);
	message = exchange_test_helper->sender->dequeue(
												exchange_test_helper->sender);
	ck_assert(message);
	message->destroy(message);

	/* moved, the operator's activation goes ahead without it */
	activate_after_move(MN_NEW);
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, CXTP_CTAR), 1);
	assert_moved_ctar(0, NAR, FALSE);
	assert_activating(NAR);

	/* the next request reuses the check's ID, the one nAR expects */
	ike_sa = checkout();
	ck_assert_int_eq(ike_sa->get_message_id(ike_sa, TRUE), mid);
	checkin(ike_sa);
}
END_TEST

START_TEST(test_prepare_after_traffic)
{
	cxtp_test_sent_t *sent;

	prepare(NULL, FALSE);
	move(ROUTER);
	sent = assert_moved_ctar(0, ROUTER, FALSE);
	assert_activating(ROUTER);
	/* traffic through nAR before its MOBIKE update, and the next
	 * handover comes up */
	cxtp_test_kernel_set_received(3);
	prepare(NULL, FALSE);
	ck_assert_int_eq(cxtp_test_events_count("mn", "activate"), 1);
	ck_assert_str_eq(cxtp_test_events_get("mn", "activate", 0)->peer, ROUTER);
	ck_assert(cxtp_test_icmp_acked(icmp, sent->id));
	assert_key(TRUE);
	ck_assert_int_eq(cxtp_charon_state(mn_id), IKE_PASSIVE);
	ck_assert_str_eq(state(), "prepared");
}
END_TEST

/**
 * Assert an activation waits for a usable address: no CTAR, frozen with pAR
 */
static void assert_waiting()
{
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 0);
	ck_assert_int_eq(cxtp_charon_state(mn_id), IKE_PASSIVE);
	ck_assert_str_eq(state(), "prepared");
	assert_hosts(MN_OLD, PAR);
	ck_assert_int_eq(cxtp_test_events_count("mn", "failure"), 0);
}

START_TEST(test_activate_link_local)
{
	cxtp_test_sent_t *sent;
	char *reason;

	/* the operator's command right after a move: charon knows only the
	 * new link's link-local address yet */
	activate_after_move(MN_LINK_LOCAL);
	assert_waiting();
	/* nor with another change */
	roam();
	assert_waiting();

	/* the new global address shows */
	cxtp_test_net_set_address(MN_NEW, TRUE);
	roam();
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 1);
	sent = assert_moved_ctar(0, NAR, FALSE);
	/* the operator's command reports the CTAR sent */
	reason = mn->wait_activation(mn, mn_id);
	ck_assert_msg(!reason, "activation failed: %s", reason);
	assert_activating(NAR);
	/* counted once, when it started waiting */
	assert_attempts(1);
	/* no more checks once sent */
	cxtp_charon_run_scheduled(CXTP_MN_POLL_INTERVAL);
	ck_assert_int_eq(cxtp_charon_scheduled(CXTP_MN_POLL_INTERVAL), 0);
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 1);
	ike_message_from(NAR);
	assert_activated(NAR, sent);
	/* its timeout touches no other transfer */
	cxtp_charon_run_scheduled(HANDOVER_TIMEOUT * 1000);
	ck_assert_int_eq(cxtp_test_events_count("mn", "failure"), 0);
}
END_TEST

START_TEST(test_activate_tentative)
{
	cxtp_test_sent_t *sent;
	char *reason;

	cxtp_test_net_set_tentative(MN_NEW, TRUE);
	activate_after_move(MN_NEW);
	assert_waiting();
	cxtp_charon_run_scheduled(CXTP_MN_POLL_INTERVAL);
	assert_waiting();

	/* DAD is done, without a roam event: the next check sees it */
	cxtp_test_net_set_tentative(MN_NEW, FALSE);
	cxtp_charon_run_scheduled(CXTP_MN_POLL_INTERVAL);
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 1);
	sent = assert_moved_ctar(0, NAR, FALSE);
	reason = mn->wait_activation(mn, mn_id);
	ck_assert_msg(!reason, "activation failed: %s", reason);
	assert_activating(NAR);
	ike_message_from(NAR);
	assert_activated(NAR, sent);
}
END_TEST

START_TEST(test_activate_no_address_timeout)
{
	char *reason;

	activate_after_move(MN_LINK_LOCAL);
	assert_waiting();
	cxtp_charon_run_scheduled(HANDOVER_TIMEOUT * 1000);
	/* the command fails as it would have at once, left with pAR */
	reason = mn->wait_activation(mn, mn_id);
	ck_assert(reason);
	ck_assert_str_eq(reason, "no usable address towards " NAR " yet: only "
					 "the link-local address " MN_LINK_LOCAL);
	free(reason);
	assert_back(NAR);
	ck_assert_str_eq(cxtp_test_events_get("mn", "failure", 0)->error,
					 "no usable address towards " NAR " yet: only the "
					 "link-local address " MN_LINK_LOCAL);
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 0);
	assert_hosts(MN_OLD, PAR);
	/* no more checks */
	ck_assert_int_eq(cxtp_charon_scheduled(CXTP_MN_POLL_INTERVAL), 1);
	cxtp_charon_run_scheduled(CXTP_MN_POLL_INTERVAL);
	ck_assert_int_eq(cxtp_charon_scheduled(CXTP_MN_POLL_INTERVAL), 0);
	/* an address later sends nothing */
	cxtp_test_net_set_address(MN_NEW, TRUE);
	roam();
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 0);
	/* and nothing is left to wait for */
	ck_assert(!mn->wait_activation(mn, mn_id));
}
END_TEST

START_TEST(test_activate_without_router)
{
	char *reason;

	/* pAR is still the next hop: no new access router to name */
	cxtp_test_net_set_router(PAR);
	reason = activate(NULL, FALSE);
	ck_assert(reason);
	free(reason);
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, 0), 0);
	ck_assert_int_eq(cxtp_charon_state(mn_id), IKE_ESTABLISHED);
	assert_hosts(MN_OLD, PAR);
}
END_TEST

START_TEST(test_activate_send_fails)
{
	char *reason;

	prepare(NULL, FALSE);
	cxtp_test_net_set_address(MN_OLD, FALSE);
	cxtp_test_net_set_address(MN_NEW, TRUE);
	icmp->fail = TRUE;
	reason = activate(NAR, FALSE);
	ck_assert(reason);
	free(reason);
	/* thawed where it was, pAR may still have it */
	assert_back(NAR);
	assert_hosts(MN_OLD, PAR);
}
END_TEST

START_TEST(test_ctaa)
{
	cxtp_test_sent_t *sent;

	prepare(NULL, TRUE);
	move(ROUTER);
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, CXTP_CTAR), 1);
	sent = assert_moved_ctar(0, ROUTER, TRUE);
	assert_activating(ROUTER);

	/* from another router, or for another address: not ours */
	ctaa_from(NAR, MN_OLD);
	ctaa_from(ROUTER, MN_NEW);
	assert_activating(ROUTER);

	ctaa_from(ROUTER, MN_OLD);
	assert_activated(ROUTER, sent);
}
END_TEST

START_TEST(test_ctaa_forged)
{
	cxtp_test_sent_t *sent;

	prepare(NULL, TRUE);
	move(ROUTER);
	sent = assert_moved_ctar(0, ROUTER, TRUE);
	assert_activating(ROUTER);

	/* anyone on the link may send a CTAA: without the MAC of the attempt's
	 * token key over the CTAR's sequence number it stops nothing */
	ctaa_from_auth(ROUTER, MN_OLD, CTAA_UNSIGNED, 0);
	ctaa_from_auth(ROUTER, MN_OLD, CTAA_FORGED, 0);
	ctaa_from_auth(ROUTER, MN_OLD, CTAA_OTHER_SEQUENCE, 0);
	assert_activating(ROUTER);
	ck_assert(!cxtp_test_icmp_acked(icmp, sent->id));
	/* nor does a refusal, authenticated or not: the retry limit decides */
	ctaa_from_auth(ROUTER, MN_OLD, CTAA_UNSIGNED, CXTP_STATUS_FAILED);
	ctaa_from_auth(ROUTER, MN_OLD, CTAA_SIGNED, CXTP_STATUS_FAILED);
	assert_activating(ROUTER);
	ck_assert(!cxtp_test_icmp_acked(icmp, sent->id));

	ctaa_from(ROUTER, MN_OLD);
	assert_activated(ROUTER, sent);
}
END_TEST

START_TEST(test_ike_message_elsewhere)
{
	cxtp_test_sent_t *sent;

	prepare(NULL, FALSE);
	move(ROUTER);
	sent = assert_moved_ctar(0, ROUTER, FALSE);
	/* an IKE message with the keys, but not from the router activating */
	ike_message_from(PAR);
	ck_assert_str_eq(state(), "activating");
	ck_assert(roaming_suspended());
	ck_assert(!cxtp_test_icmp_acked(icmp, sent->id));
	ck_assert_int_eq(cxtp_test_events_count("mn", "activate"), 0);
}
END_TEST

START_TEST(test_activated_by_esp)
{
	cxtp_test_sent_t *sent;

	prepare(NULL, FALSE);
	move(ROUTER);
	sent = assert_moved_ctar(0, ROUTER, FALSE);
	assert_activating(ROUTER);
	/* neither a CTAA nor an IKE message, but traffic from nAR */
	cxtp_test_kernel_set_received(10);
	ctar_timeout(sent);
	assert_activated(ROUTER, sent);
}
END_TEST

START_TEST(test_roll_back)
{
	cxtp_test_sent_t *sent;
	message_t *message;

	prepare(NULL, TRUE);
	move(ROUTER);
	sent = assert_moved_ctar(0, ROUTER, TRUE);
	assert_activating(ROUTER);

	/* no CTAA, no IKE message, no ESP within CT_RETRY_MAX */
	ctar_timeout(sent);
	assert_back(ROUTER);
	/* where it was before the move, and charon roams from there: a MOBIKE
	 * update from the new address, to pAR's addresses */
	assert_hosts(MN_OLD, PAR);
	message = exchange_test_helper->sender->dequeue(
												exchange_test_helper->sender);
	ck_assert(message);
	ck_assert_int_eq(message->get_exchange_type(message), INFORMATIONAL);
	ck_assert(message->get_request(message));
	ck_assert(cxtp_test_host_is(message->get_source(message), MN_NEW));
	message->destroy(message);

	/* a late CTAA changes nothing */
	ctaa_from(ROUTER, MN_OLD);
	ck_assert_int_eq(cxtp_test_events_count("mn", "activate"), 0);
	assert_attempts(1);
}
END_TEST

/**
 * Another address pAR announced in IKE_AUTH (ADDITIONAL_IP4_ADDRESS), one
 * no other router has
 */
#define PAR_ANNOUNCED	"192.0.2.2"

/**
 * Replace the IKE_SA's MOBIKE peer addresses, as ike_mobike does with those
 * a router announces
 */
static void set_peer_addresses(char *first, char *second)
{
	ike_sa_t *ike_sa;

	ike_sa = checkout();
	ike_sa->clear_peer_addresses(ike_sa);
	ike_sa->add_peer_address(ike_sa, cxtp_test_host(first));
	ike_sa->add_peer_address(ike_sa, cxtp_test_host(second));
	checkin(ike_sa);
}

/**
 * Assert the IKE_SA's MOBIKE peer addresses, where charon looks for a path
 * when the current one fails, in order, e.g. "192.0.2.1 192.0.2.2"
 */
static void assert_peer_addresses(char *expected)
{
	enumerator_t *enumerator;
	ike_sa_t *ike_sa;
	host_t *address;
	char buf[256] = "";
	int len = 0;

	ike_sa = checkout();
	enumerator = ike_sa->create_peer_address_enumerator(ike_sa);
	while (enumerator->enumerate(enumerator, &address) &&
		   len < sizeof(buf))
	{
		len += snprintf(buf + len, sizeof(buf) - len, "%s%H", len ? " " : "",
						address);
	}
	enumerator->destroy(enumerator);
	/* checked in before asserting, a failure must not leave it out */
	checkin(ike_sa);
	ck_assert_str_eq(buf, expected);
}

/**
 * Assert the MOBIKE probes the IKE_SA sent went from an address to one
 * router only, returns the last one
 */
static message_t *assert_probes(char *from, char *to)
{
	message_t *message, *last = NULL;

	while ((message = exchange_test_helper->sender->dequeue(
												exchange_test_helper->sender)))
	{
		ck_assert_int_eq(message->get_exchange_type(message), INFORMATIONAL);
		ck_assert(message->get_request(message));
		ck_assert_msg(cxtp_test_host_is(message->get_destination(message), to),
					  "probe to %H, not to %s", message->get_destination(message),
					  to);
		ck_assert(cxtp_test_host_is(message->get_source(message), from));
		DESTROY_IF(last);
		last = message;
	}
	ck_assert(last);
	return last;
}

/**
 * A router with the IKE_SA's keys answers its request, and the mobile node
 * processes the answer and whatever follows, until it sends no more
 */
static void answered_by(char *router, message_t *request)
{
	ike_sa_t *ike_sa, *copy = env->par;
	message_t *response;
	status_t status;

	call_ikesa(copy, set_my_host, cxtp_test_host(router));
	call_ikesa(copy, set_other_host, cxtp_test_host(MN_NEW));
	while (request)
	{
		ck_assert_int_eq(exchange_test_helper->process_message(
								exchange_test_helper, copy, request), SUCCESS);
		response = exchange_test_helper->sender->dequeue(
												exchange_test_helper->sender);
		ck_assert(response);
		ck_assert(!response->get_request(response));
		ike_sa = checkout();
		status = exchange_test_helper->process_message(exchange_test_helper,
													   ike_sa, response);
		checkin(ike_sa);
		ck_assert_int_eq(status, SUCCESS);
		request = exchange_test_helper->sender->dequeue(
												exchange_test_helper->sender);
	}
}

START_TEST(test_roll_back_after_handover)
{
	cxtp_test_sent_t *sent;
	message_t *probe;
	char *reason;

	/* pAR announced another address of its own in IKE_AUTH */
	set_peer_addresses(PAR, PAR_ANNOUNCED);
	prepare(NULL, FALSE);
	move(ROUTER);
	assert_handover(0, ROUTER);
	/* what pAR announced leads nowhere now, nAR announced nothing */
	assert_peer_addresses(ROUTER);

	/* back on pAR's link, and back to pAR, but no activation shows */
	cxtp_test_net_set_address(MN_NEW, FALSE);
	cxtp_test_net_set_address(MN_OLD, TRUE);
	cxtp_test_net_set_router(PAR);
	reason = activate(PAR, FALSE);
	ck_assert_msg(!reason, "activate failed: %s", reason);
	ck_assert_int_eq(cxtp_test_icmp_count(icmp, CXTP_CTAR), 2);
	sent = cxtp_test_icmp_get(icmp, CXTP_CTAR, 1);
	ck_assert(cxtp_test_host_is(sent->dst, PAR));
	ctar_timeout(sent);
	ck_assert_int_eq(cxtp_test_events_count("mn", "failure"), 1);
	ck_assert_int_eq(cxtp_charon_state(mn_id), IKE_ESTABLISHED);
	ck_assert(!state());
	assert_hosts(MN_NEW, ROUTER);
	/* MOBIKE looks for a path to the router it went back to, not to what
	 * pAR announced rounds ago */
	assert_peer_addresses(ROUTER);
	probe = assert_probes(MN_OLD, ROUTER);
	probe->destroy(probe);

	/* the router of that address is not reachable from pAR's link here: the
	 * mobile node returns to its link, where the next probe reaches it */
	cxtp_test_net_set_address(MN_OLD, FALSE);
	cxtp_test_net_set_address(MN_NEW, TRUE);
	cxtp_test_net_set_router(ROUTER);
	cxtp_charon_run_scheduled(ROUTABILITY_CHECK_INTERVAL);
	probe = assert_probes(MN_NEW, ROUTER);
	answered_by(ROUTER, probe);
	ck_assert_int_eq(cxtp_charon_state(mn_id), IKE_ESTABLISHED);
	assert_hosts(MN_NEW, ROUTER);
	/* no more probing: the retransmission due finds the exchange done */
	cxtp_charon_run_scheduled(ROUTABILITY_CHECK_INTERVAL);
	ck_assert(!exchange_test_helper->sender->dequeue(
												exchange_test_helper->sender));
	ck_assert_int_eq(cxtp_charon_state(mn_id), IKE_ESTABLISHED);
	ck_assert_int_eq(cxtp_test_events_count("mn", "activate"), 1);
}
END_TEST

START_TEST(test_roll_back_probes_par_first)
{
	cxtp_test_sent_t *sent;
	message_t *probe;

	/* pAR's current address last, as after a MOBIKE update to it */
	set_peer_addresses(PAR_ANNOUNCED, PAR);
	prepare(NULL, TRUE);
	move(ROUTER);
	sent = assert_moved_ctar(0, ROUTER, TRUE);
	ctar_timeout(sent);
	assert_back(ROUTER);
	assert_hosts(MN_OLD, PAR);
	/* the path MOBIKE looks for is the one to where it went back */
	assert_peer_addresses(PAR " " PAR_ANNOUNCED);
	probe = exchange_test_helper->sender->dequeue(exchange_test_helper->sender);
	ck_assert(probe);
	ck_assert(cxtp_test_host_is(probe->get_destination(probe), PAR));
	probe->destroy(probe);
	while ((probe = exchange_test_helper->sender->dequeue(
												exchange_test_helper->sender)))
	{
		probe->destroy(probe);
	}
}
END_TEST

START_TEST(test_activating_gone)
{
	cxtp_test_sent_t *sent;
	ike_sa_t *ike_sa;

	prepare(NULL, FALSE);
	move(ROUTER);
	sent = assert_moved_ctar(0, ROUTER, FALSE);
	ike_sa = checkout();
	charon->ike_sa_manager->checkin_and_destroy(charon->ike_sa_manager, ike_sa);
	/* its CTAR is no longer retransmitted, a timeout finds nothing */
	ck_assert(cxtp_test_icmp_acked(icmp, sent->id));
	ctar_timeout(sent);
	ck_assert_int_eq(cxtp_test_events_count("mn", "failure"), 0);
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
	tcase_add_test(tc, test_prepare_gone);
	suite_add_tcase(s, tc);

	tc = tcase_create("move");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_move_default_router);
	tcase_add_test(tc, test_move_named_nar);
	tcase_add_test(tc, test_move_without_route);
	tcase_add_test(tc, test_move_tentative);
	tcase_add_test(tc, test_move_tentative_timeout);
	tcase_add_test(tc, test_move_link_local);
	tcase_add_test(tc, test_move_without_roam_events);
	tcase_add_test(tc, test_move_send_fails);
	suite_add_tcase(s, tc);

	tc = tcase_create("activate");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_activate_unprepared);
	tcase_add_test(tc, test_activate_during_liveness_check);
	tcase_add_test(tc, test_prepare_after_traffic);
	tcase_add_test(tc, test_activate_link_local);
	tcase_add_test(tc, test_activate_tentative);
	tcase_add_test(tc, test_activate_no_address_timeout);
	tcase_add_test(tc, test_activate_without_router);
	tcase_add_test(tc, test_activate_send_fails);
	suite_add_tcase(s, tc);

	tc = tcase_create("activation");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ctaa);
	tcase_add_test(tc, test_ctaa_forged);
	tcase_add_test(tc, test_ike_message_elsewhere);
	tcase_add_test(tc, test_activated_by_esp);
	tcase_add_test(tc, test_roll_back);
	tcase_add_test(tc, test_roll_back_after_handover);
	tcase_add_test(tc, test_roll_back_probes_par_first);
	tcase_add_test(tc, test_activating_gone);
	suite_add_tcase(s, tc);

	return s;
}
