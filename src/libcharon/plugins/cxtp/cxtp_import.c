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


#define _GNU_SOURCE
#include <stdio.h>

#include "cxtp_import.h"
#include "cxtp_seq.h"
#include "cxtp_spi_hook.h"
#include "cxtp_transport.h"

#include <inttypes.h>

#include <daemon.h>
#include <sa/ikev2/keymat_v2.h>
#include <processing/jobs/rekey_child_sa_job.h>
#include <processing/jobs/rekey_ike_sa_job.h>
#include <credentials/auth_cfg.h>

/**
 * The IKE proposal of a context
 */
static proposal_t *ike_proposal(cxtp_ike_context_t *ike)
{
	proposal_t *proposal = proposal_create(PROTO_IKE, 0);

	proposal->add_algorithm(proposal, ENCRYPTION_ALGORITHM, ike->encr_alg,
							ike->encr_size);
	if (ike->integ_alg)
	{
		proposal->add_algorithm(proposal, INTEGRITY_ALGORITHM, ike->integ_alg,
								0);
	}
	proposal->add_algorithm(proposal, PSEUDO_RANDOM_FUNCTION, ike->prf_alg, 0);
	if (ike->ke_method)
	{
		proposal->add_algorithm(proposal, KEY_EXCHANGE_METHOD, ike->ke_method,
								0);
	}
	return proposal;
}

/**
 * The peer's authentication as charon records a completed round
 */
static auth_cfg_t *remote_auth(cxtp_context_t *context)
{
	auth_cfg_t *auth = auth_cfg_create();

	auth->add(auth, AUTH_RULE_AUTH_CLASS, (uintptr_t)context->pad.auth_class);
	auth->add(auth, AUTH_RULE_IDENTITY,
			  context->ike.remote_id->clone(context->ike.remote_id));
	if (context->pad.auth_class == AUTH_CLASS_EAP)
	{
		auth->add(auth, AUTH_RULE_EAP_TYPE, (uintptr_t)context->pad.eap_type);
		if (context->ike.remote_eap_id)
		{
			auth->add(auth, AUTH_RULE_EAP_IDENTITY,
				context->ike.remote_eap_id->clone(context->ike.remote_eap_id));
		}
	}
	return auth;
}

/**
 * Set the reason of a failure, returns 0
 */
static u_int failed(char **reason, char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	if (vasprintf(reason, fmt, args) < 0)
	{
		*reason = strdup("importing the context failed");
	}
	va_end(args);
	return 0;
}

/*
 * Described in header
 */
u_int cxtp_import(cxtp_context_t *context, cxtp_leases_t *leases,
				  char **reason)
{
	cxtp_ike_context_t *ike = &context->ike;
	cxtp_ike_keys_t *keys = &ike->keys;
	enumerator_t *enumerator;
	ike_sa_id_t *id;
	ike_sa_t *ike_sa, *existing;
	peer_cfg_t *peer_cfg;
	proposal_t *proposal;
	keymat_v2_t *keymat;
	host_t *vip;
	u_int unique_id;
	int i;

	id = ike_sa_id_create(IKEV2, ike->spi_i, ike->spi_r, ike->initiator);
	/* cxtp-spi-hook: a colliding SPI pair may get a new SPI of ours */
	cxtp_spi_hook_ike(id, ike->remote_id, ike->extensions);
	existing = charon->ike_sa_manager->checkout(charon->ike_sa_manager, id);
	if (existing)
	{
		DBG1(DBG_IKE, "cxtp: IKE_SA %.16"PRIx64"_i %.16"PRIx64"_r of '%Y' "
			 "collides with IKE_SA %s[%u]", be64toh(ike->spi_i),
			 be64toh(ike->spi_r), ike->remote_id, existing->get_name(existing),
			 existing->get_unique_id(existing));
		charon->ike_sa_manager->checkin(charon->ike_sa_manager, existing);
		id->destroy(id);
		return failed(reason, "its IKE SPIs collide with an IKE_SA here");
	}
	peer_cfg = charon->backends->get_peer_cfg_by_name(charon->backends,
													  ike->peer_cfg);
	if (!peer_cfg)
	{
		DBG1(DBG_IKE, "cxtp: no connection '%s' for the context of '%Y'",
			 ike->peer_cfg, ike->remote_id);
		id->destroy(id);
		return failed(reason, "no connection '%s' here", ike->peer_cfg);
	}
	ike_sa = ike_sa_create(id, ike->initiator, IKEV2);
	id->destroy(id);
	if (!ike_sa)
	{
		peer_cfg->destroy(peer_cfg);
		return failed(reason, "creating an IKE_SA failed");
	}
	charon->bus->set_sa(charon->bus, ike_sa);
	proposal = ike_proposal(ike);
	keymat = (keymat_v2_t*)ike_sa->get_keymat(ike_sa);
	if (!keymat->import_ike_keys(keymat, proposal, keys->sk_d, keys->sk_ai,
								 keys->sk_ar, keys->sk_ei, keys->sk_er,
								 keys->sk_pi, keys->sk_pr))
	{
		DBG1(DBG_IKE, "cxtp: importing the IKE_SA keys of '%Y' failed",
			 ike->remote_id);
		proposal->destroy(proposal);
		peer_cfg->destroy(peer_cfg);
		charon->bus->set_sa(charon->bus, NULL);
		ike_sa->destroy(ike_sa);
		return failed(reason, "importing its IKE_SA keys failed");
	}
	ike_sa->set_proposal(ike_sa, proposal);
	proposal->destroy(proposal);
	ike_sa->set_peer_cfg(ike_sa, peer_cfg);
	peer_cfg->destroy(peer_cfg);
	ike_sa->set_my_host(ike_sa, ike->local->clone(ike->local));
	ike_sa->set_other_host(ike_sa, ike->remote->clone(ike->remote));
	ike_sa->set_my_id(ike_sa, ike->local_id->clone(ike->local_id));
	ike_sa->set_other_id(ike_sa, ike->remote_id->clone(ike->remote_id));
	ike_sa->add_auth_cfg(ike_sa, FALSE, remote_auth(context));
	/* unsigned, as 1 << 31 overflows an int */
	for (i = 0; i < 32; i++)
	{
		if (ike->conditions & (1U << i))
		{
			ike_sa->set_condition(ike_sa, 1U << i, TRUE);
		}
		if (ike->extensions & (1U << i))
		{
			ike_sa->enable_extension(ike_sa, 1U << i);
		}
	}
	ike_sa->set_message_id(ike_sa, TRUE, ike->mid_initiate);
	ike_sa->set_message_id(ike_sa, FALSE, ike->mid_respond);
	/* the node keeps its addresses: refused here, before anything of it is
	 * in the manager, if another node uses one */
	*reason = leases->take(leases, ike->remote_id, ike->remote_vips,
						   ike->pool);
	if (*reason)
	{
		charon->bus->set_sa(charon->bus, NULL);
		ike_sa->destroy(ike_sa);
		return 0;
	}
	/* released with the IKE_SA, as charon releases any virtual IP */
	enumerator = ike->remote_vips->create_enumerator(ike->remote_vips);
	while (enumerator->enumerate(enumerator, &vip))
	{
		ike_sa->add_virtual_ip(ike_sa, FALSE, vip);
	}
	enumerator->destroy(enumerator);
	ike_sa->set_state(ike_sa, IKE_PASSIVE);
	unique_id = ike_sa->get_unique_id(ike_sa);
	DBG1(DBG_IKE, "cxtp: imported IKE_SA %s[%u] of '%Y' with %d CHILD_SA%s, "
		 "passive until activated", ike_sa->get_name(ike_sa), unique_id,
		 ike->remote_id, context->children->get_count(context->children),
		 context->children->get_count(context->children) == 1 ? "" : "s");
	charon->bus->set_sa(charon->bus, NULL);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	time_monotonic(&context->received);
	return unique_id;
}

/**
 * The proposal of a transferred CHILD_SA
 */
static proposal_t *child_proposal(cxtp_child_context_t *child)
{
	proposal_t *proposal = proposal_create(child->protocol, 0);

	proposal->add_algorithm(proposal, ENCRYPTION_ALGORITHM, child->encr_alg,
							child->encr_size);
	if (child->integ_alg)
	{
		proposal->add_algorithm(proposal, INTEGRITY_ALGORITHM,
								child->integ_alg, 0);
	}
	proposal->add_algorithm(proposal, EXTENDED_SEQUENCE_NUMBERS,
				child->esn ? EXT_SEQ_NUMBERS : NO_EXT_SEQ_NUMBERS, 0);
	return proposal;
}

/**
 * Find a child config of the IKE_SA's peer config by name
 */
static child_cfg_t *find_child_cfg(ike_sa_t *ike_sa, char *name)
{
	peer_cfg_t *peer_cfg = ike_sa->get_peer_cfg(ike_sa);
	enumerator_t *enumerator;
	child_cfg_t *cfg, *found = NULL;

	enumerator = peer_cfg->create_child_cfg_enumerator(peer_cfg);
	while (enumerator->enumerate(enumerator, &cfg))
	{
		if (streq(cfg->get_name(cfg), name))
		{
			found = cfg->get_ref(cfg);
			break;
		}
	}
	enumerator->destroy(enumerator);
	return found;
}

/**
 * Clone a list of traffic selectors
 */
static linked_list_t *clone_ts(linked_list_t *list)
{
	return list->clone_offset(list, offsetof(traffic_selector_t, clone));
}

/**
 * Whether the SAD holds an inbound SPI at our address
 */
static bool spi_taken(ike_sa_t *ike_sa, child_sa_t *child_sa, uint32_t spi)
{
	return charon->kernel->query_spi(charon->kernel, &(kernel_ipsec_sa_id_t){
			.dst = ike_sa->get_my_host(ike_sa),
			.spi = spi,
			.proto = child_sa->get_protocol(child_sa) == PROTO_ESP ?
						IPPROTO_ESP : IPPROTO_AH,
		}) == SUCCESS;
}

/**
 * Install the inbound SA of a transferred CHILD_SA. The hook's check and
 * the install are not one step: a negotiation may allocate the SPI, another
 * import install it in between, and the kernel then refuses the SA. That is
 * a collision as the check would have found it, so the hook resolves it.
 */
static bool install_inbound(ike_sa_t *ike_sa, child_sa_t *child_sa,
							cxtp_child_context_t *child, chunk_t encr,
							chunk_t integ, uint32_t *spi)
{
	bool initiator = child->keys.initiator;

	if (child_sa->install(child_sa, encr, integ, *spi, 0, initiator, TRUE,
						  TRUE) == SUCCESS)
	{
		return TRUE;
	}
	if (*spi != child->spi_in || !spi_taken(ike_sa, child_sa, *spi))
	{	/* a fresh SPI is allocated for us, the failure is another one */
		return FALSE;
	}
	DBG1(DBG_CHD, "cxtp: inbound SPI %.8x of CHILD_SA %s was taken here "
		 "after the collision check, resolving it as a collision",
		 ntohl(*spi), child->child_cfg);
	*spi = cxtp_spi_hook_inbound(ike_sa, child_sa, child->spi_in,
								 child->spi_out);
	if (*spi == child->spi_in)
	{	/* nobody resolves it; the CHILD_SA, destroyed, deletes the SA of its
		 * inbound SPI, which is the other's: let it hold one of its own */
		child_sa->alloc_spi(child_sa, child_sa->get_protocol(child_sa));
		return FALSE;
	}
	return *spi && child_sa->install(child_sa, encr, integ, *spi, 0,
									 initiator, TRUE, TRUE) == SUCCESS;
}

/**
 * Install one transferred CHILD_SA at the IKE_SA's new addresses, its
 * outbound sequence numbers jump ahead of pAR's by jump (rekeyed at once if
 * that leaves it short of numbers)
 */
static bool activate_child(ike_sa_t *ike_sa, cxtp_child_context_t *child,
						   uint64_t jump)
{
	cxtp_child_keys_t *keys = &child->keys;
	child_sa_create_t data = {
		.encap = child->encap,
	};
	kernel_ipsec_replay_t in = {
		.seq_in = child->seq_in,
		.window = child->replay_window,
		.bitmap = child->replay_bitmap,
	}, out = {
		.window = child->replay_window,
	};
	linked_list_t *local_ts, *remote_ts;
	child_cfg_t *cfg;
	child_sa_t *child_sa;
	proposal_t *proposal;
	chunk_t encr_in, integ_in, encr_out, integ_out;
	uint32_t spi_in;
	time_t rekey, now;
	timeval_t start, took;
	bool ok, continues;

	continues = cxtp_seq_continue(child->seq_out, child->esn, jump,
								  &out.seq_out);

	cfg = find_child_cfg(ike_sa, child->child_cfg);
	if (!cfg)
	{
		DBG1(DBG_CHD, "cxtp: no CHILD_SA config '%s' in connection '%s'",
			 child->child_cfg, ike_sa->get_name(ike_sa));
		return FALSE;
	}
	child_sa = child_sa_create(ike_sa->get_my_host(ike_sa),
							   ike_sa->get_other_host(ike_sa), cfg, &data);
	cfg->destroy(cfg);
	child_sa->set_mode(child_sa, child->mode);
	child_sa->set_protocol(child_sa, child->protocol);
	proposal = child_proposal(child);
	child_sa->set_proposal(child_sa, proposal);
	proposal->destroy(proposal);
	child_sa->set_state(child_sa, CHILD_INSTALLING);
	local_ts = clone_ts(child->local_ts);
	remote_ts = clone_ts(child->remote_ts);
	child_sa->set_policies(child_sa, local_ts, remote_ts);
	child_sa->set_replay_state(child_sa, TRUE, &in);
	child_sa->set_replay_state(child_sa, FALSE, &out);
	/* a CHILD_SA that moves often must still get rekeyed in time */
	child_sa->set_remaining_lifetime(child_sa, child->rekey_time,
									 child->expire_time);
	/* cxtp-spi-hook: an inbound SPI already in use here may be replaced;
	 * timed, as its cost must not grow with the SAs held here (make bench) */
	time_monotonic(&start);
	spi_in = cxtp_spi_hook_inbound(ike_sa, child_sa, child->spi_in,
								   child->spi_out);
	time_monotonic(&took);
	timersub(&took, &start, &took);
	DBG2(DBG_CHD, "cxtp: collision check of CHILD_SA %s with SPI %.8x took "
		 "%ld us", child->child_cfg, ntohl(child->spi_in),
		 (long)(took.tv_sec * 1000000 + took.tv_usec));

	/* the initiator of the CHILD_SA sends with the _i keys */
	encr_in = keys->initiator ? keys->encr_r : keys->encr_i;
	integ_in = keys->initiator ? keys->integ_r : keys->integ_i;
	encr_out = keys->initiator ? keys->encr_i : keys->encr_r;
	integ_out = keys->initiator ? keys->integ_i : keys->integ_r;
	ok = spi_in && install_inbound(ike_sa, child_sa, child, encr_in, integ_in,
								   &spi_in) &&
		 child_sa->install(child_sa, encr_out, integ_out, child->spi_out, 0,
						   keys->initiator, FALSE, TRUE) == SUCCESS &&
		 child_sa->install_policies(child_sa) == SUCCESS;
	local_ts->destroy_offset(local_ts, offsetof(traffic_selector_t, destroy));
	remote_ts->destroy_offset(remote_ts, offsetof(traffic_selector_t, destroy));
	if (!ok)
	{
		DBG1(DBG_CHD, "cxtp: installing CHILD_SA %s with SPIs %.8x_i %.8x_o "
			 "failed", child->child_cfg, ntohl(spi_in),
			 ntohl(child->spi_out));
		child_sa->destroy(child_sa);
		return FALSE;
	}
	child_sa->set_state(child_sa, CHILD_INSTALLED);
	ike_sa->add_child_sa(ike_sa, child_sa);
	/* as if derived here, so listeners see the keys (and we can transfer
	 * the CHILD_SA again) */
	charon->bus->child_derived_keys(charon->bus, child_sa, keys->initiator,
									keys->encr_i, keys->encr_r,
									keys->integ_i, keys->integ_r);
	rekey = child_sa->get_lifetime(child_sa, FALSE);
	now = time_monotonic(NULL);
	DBG1(DBG_CHD, "cxtp: CHILD_SA %s{%u} installed with SPIs %.8x_i %.8x_o, "
		 "outbound sequence numbers from %"PRIu64" (%"PRIu64" + %"PRIu64"), "
		 "rekeying in %us", child_sa->get_name(child_sa),
		 child_sa->get_unique_id(child_sa), ntohl(spi_in),
		 ntohl(child->spi_out), out.seq_out + 1, child->seq_out, jump,
		 rekey > now ? (u_int)(rekey - now) : 0);
	if (!continues)
	{
		DBG1(DBG_CHD, "cxtp: a jump of %"PRIu64" leaves CHILD_SA %s{%u} "
			 "%s, rekeying it now", jump, child_sa->get_name(child_sa),
			 child_sa->get_unique_id(child_sa), child->esn ?
			 "with numbers its peer cannot place" :
			 out.seq_out >= UINT32_MAX ? "no sequence numbers to send with" :
			 "past half of its sequence numbers");
		/* queued: it runs once the IKE_SA is checked in */
		lib->processor->queue_job(lib->processor, (job_t*)
					rekey_child_sa_job_create(child->protocol, spi_in,
											  ike_sa->get_my_host(ike_sa)));
	}
	return TRUE;
}

/**
 * How far the outbound sequence numbers of a context jump ahead of pAR's
 */
static uint64_t seq_jump(cxtp_context_t *context, cxtp_settings_t *settings)
{
	cxtp_seq_jump_t jump = {
		.fixed = settings->get_seq_jump(settings),
	};
	timeval_t now;

	if (context->predictive)
	{	/* pAR kept sending, the node receiving, until the node moved */
		time_monotonic(&now);
		jump.rate = settings->get_seq_rate(settings);
		/* pAR took the counter before the first transmission of the
		 * context, the copy that arrived left at most this much later, if
		 * our retransmission options are pAR's */
		jump.elapsed = cxtp_transport_last_send_time(settings) +
			(now.tv_sec - context->received.tv_sec) * 1000 +
			(now.tv_usec - context->received.tv_usec) / 1000;
	}
	return cxtp_seq_jump(&jump);
}

/**
 * Continue the IKE_SA's rekeying and reauthentication schedule where pAR
 * left it: set_state() schedules nAR's own, shorter, times only, so an
 * IKE_SA that moves often still gets rekeyed in time
 */
static void keep_lifetimes(ike_sa_t *ike_sa, cxtp_ike_context_t *ike,
						   time_t now, bool scheduled)
{
	statistic_t stats[] = { STAT_REKEY, STAT_REAUTH };
	uint32_t times[] = { ike->rekey_time, ike->reauth_time };
	int i;

	for (i = 0; i < countof(stats); i++)
	{
		if (!times[i])
		{
			continue;
		}
		if (!scheduled)
		{
			ike_sa->set_statistic(ike_sa, stats[i], now + times[i]);
		}
		else if (ike_sa->get_statistic(ike_sa, stats[i]) == now + times[i])
		{	/* not replaced by a shorter time of our own */
			lib->scheduler->schedule_job(lib->scheduler, (job_t*)
					rekey_ike_sa_job_create(ike_sa->get_id(ike_sa),
											stats[i] == STAT_REAUTH),
					times[i]);
			DBG1(DBG_IKE, "cxtp: continuing the transferred %s schedule, "
				 "due in %us", stats[i] == STAT_REAUTH ? "reauthentication"
													   : "rekeying", times[i]);
		}
	}
}

/*
 * Described in header
 */
bool cxtp_activate(ike_sa_t *ike_sa, cxtp_context_t *context, host_t *local,
				   host_t *remote, cxtp_settings_t *settings, bool by_peer)
{
	cxtp_ike_context_t *ike = &context->ike;
	enumerator_t *enumerator;
	cxtp_child_context_t *child;
	host_t *me, *other;
	uint64_t jump;
	time_t now;
	bool ok = TRUE;

	/* keep the ports in use, the NAT-T port in particular */
	me = local->clone(local);
	me->set_port(me, ike->local->get_port(ike->local));
	other = remote->clone(remote);
	other->set_port(other, ike->remote->get_port(ike->remote));
	ike_sa->set_my_host(ike_sa, me);
	ike_sa->set_other_host(ike_sa, other);

	jump = seq_jump(context, settings);
	enumerator = context->children->create_enumerator(context->children);
	while (ok && enumerator->enumerate(enumerator, &child))
	{
		ok = activate_child(ike_sa, child, jump);
	}
	enumerator->destroy(enumerator);
	if (!ok)
	{	/* passive where it was imported, as the IKE_SA index has it: no
		 * state change tells the index it moved */
		ike_sa->set_my_host(ike_sa, ike->local->clone(ike->local));
		ike_sa->set_other_host(ike_sa, ike->remote->clone(ike->remote));
		return FALSE;
	}
	now = time_monotonic(NULL);
	keep_lifetimes(ike_sa, ike, now, FALSE);
	ike_sa->set_state(ike_sa, IKE_ESTABLISHED);
	keep_lifetimes(ike_sa, ike, now, TRUE);
	/* its virtual IPs are served here now (imported as transferred leases) */
	charon->bus->assign_vips(charon->bus, ike_sa, TRUE);
	/* cxtp-spi-hook: the MOBIKE update, UPDATE_SPI for replaced SPIs */
	cxtp_spi_hook_activated(ike_sa, by_peer);
	DBG1(DBG_IKE, "cxtp: IKE_SA %s[%u] activated between %H[%Y]...%H[%Y]",
		 ike_sa->get_name(ike_sa), ike_sa->get_unique_id(ike_sa),
		 ike_sa->get_my_host(ike_sa), ike_sa->get_my_id(ike_sa),
		 ike_sa->get_other_host(ike_sa), ike_sa->get_other_id(ike_sa));
	return TRUE;
}
