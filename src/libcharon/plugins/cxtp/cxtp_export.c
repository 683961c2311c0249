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

#include "cxtp_export.h"

#include <daemon.h>
#include <credentials/certificates/certificate.h>

/**
 * Why a CHILD_SA cannot be transferred, NULL if it can
 */
static char *check_child(cxtp_capture_t *capture, child_sa_t *child_sa)
{
	char *reason = NULL;

	if (child_sa->get_state(child_sa) != CHILD_INSTALLED)
	{
		if (asprintf(&reason, "CHILD_SA %s{%u} is %N, not installed",
				child_sa->get_name(child_sa), child_sa->get_unique_id(child_sa),
				child_sa_state_names, child_sa->get_state(child_sa)) < 0)
		{
			reason = NULL;
		}
	}
	else if (!capture->get_child_keys(capture, child_sa, NULL))
	{
		if (asprintf(&reason, "keys of CHILD_SA %s{%u} were derived before "
				"the cxtp plugin was loaded", child_sa->get_name(child_sa),
				child_sa->get_unique_id(child_sa)) < 0)
		{
			reason = NULL;
		}
	}
	return reason;
}

/**
 * Whether a CHILD_SA was replaced by a rekeying and only waits, deleted, for
 * inbound packets still in flight (charon.delete_rekeyed_delay): the new
 * gateway has no use for it
 */
static bool is_rekeyed(child_sa_t *child_sa)
{
	return child_sa->get_state(child_sa) == CHILD_DELETED;
}

/**
 * Whether we wait for the response to a request of ours
 */
static bool exchange_in_progress(ike_sa_t *ike_sa)
{
	enumerator_t *enumerator;
	task_t *task;
	bool active;

	enumerator = ike_sa->create_task_enumerator(ike_sa, TASK_QUEUE_ACTIVE);
	active = enumerator->enumerate(enumerator, &task);
	enumerator->destroy(enumerator);
	return active;
}

/*
 * Described in header
 */
void cxtp_export_drop_liveness_check(ike_sa_t *ike_sa)
{
	enumerator_t *enumerator;
	task_t *task;
	bool dpd = FALSE, other = FALSE, initiator;

	/* charon's original initiator checks with a MOBIKE task if it can */
	initiator = ike_sa->has_condition(ike_sa, COND_ORIGINAL_INITIATOR) &&
				ike_sa->supports_extension(ike_sa, EXT_MOBIKE);
	enumerator = ike_sa->create_task_enumerator(ike_sa, TASK_QUEUE_ACTIVE);
	while (enumerator->enumerate(enumerator, &task))
	{
		if (task->get_type(task) == TASK_IKE_DPD ||
			(initiator && task->get_type(task) == TASK_IKE_MOBIKE))
		{
			dpd = TRUE;
		}
		else
		{
			other = TRUE;
		}
	}
	enumerator->destroy(enumerator);
	if (dpd && !other)
	{
		DBG1(DBG_IKE, "cxtp: dropping our liveness check (message ID %u) of "
			 "IKE_SA %s[%u], the peer cannot answer it there",
			 ike_sa->get_message_id(ike_sa, TRUE), ike_sa->get_name(ike_sa),
			 ike_sa->get_unique_id(ike_sa));
		ike_sa->flush_queue(ike_sa, TASK_QUEUE_ACTIVE);
	}
}

/*
 * Described in header
 */
char *cxtp_export_check(cxtp_capture_t *capture, ike_sa_t *ike_sa)
{
	enumerator_t *enumerator;
	child_sa_t *child_sa;
	char *reason = NULL;

	if (ike_sa->get_version(ike_sa) != IKEV2)
	{
		return strdup("only IKEv2 SAs can be transferred");
	}
	if (ike_sa->get_state(ike_sa) != IKE_ESTABLISHED)
	{
		if (asprintf(&reason, "IKE_SA is %N, not established",
					 ike_sa_state_names, ike_sa->get_state(ike_sa)) < 0)
		{
			return strdup("IKE_SA is not established");
		}
		return reason;
	}
	if (exchange_in_progress(ike_sa))
	{
		/* the context would carry the message ID of the request, which the
		 * new gateway's MOBIKE update would reuse and the peer discard */
		if (asprintf(&reason, "an IKE exchange we started (message ID %u) "
					 "is in progress", ike_sa->get_message_id(ike_sa, TRUE)) < 0)
		{
			return strdup("an IKE exchange is in progress");
		}
		return reason;
	}
	if (ike_sa->supports_extension(ike_sa, EXT_PPK))
	{
		/* the context carries no PPK, so nAR could not rekey with it */
		return strdup("IKE_SA uses a postquantum preshared key (PPK)");
	}
	if (!cxtp_capture_transferable(ike_sa))
	{
		if (asprintf(&reason, "connection '%s' is not one of "
					 "cxtp.connections", ike_sa->get_name(ike_sa)) < 0)
		{
			return strdup("connection is not one of cxtp.connections");
		}
		return reason;
	}
	if (!capture->get_ike_keys(capture, ike_sa, NULL))
	{
		return strdup("keys of the IKE_SA were derived before the cxtp "
					  "plugin was loaded, or before its connection was one "
					  "of cxtp.connections");
	}
	enumerator = ike_sa->create_child_sa_enumerator(ike_sa);
	while (!reason && enumerator->enumerate(enumerator, &child_sa))
	{
		if (!is_rekeyed(child_sa))
		{
			reason = check_child(capture, child_sa);
		}
	}
	enumerator->destroy(enumerator);
	return reason;
}

/**
 * Seconds from now until an absolute monotonic time, 0 for none or past
 */
static uint32_t remaining(time_t when, time_t now)
{
	if (!when)
	{
		return 0;
	}
	/* overdue (e.g. while frozen for the transfer): due at once on nAR */
	return when > now ? when - now : 1;
}

/**
 * Capture the IKE_SA part of a context
 */
static bool build_ike(cxtp_capture_t *capture, ike_sa_t *ike_sa,
					  uint32_t transfers, cxtp_ike_context_t *ike)
{
	ike_sa_id_t *id = ike_sa->get_id(ike_sa);
	proposal_t *proposal = ike_sa->get_proposal(ike_sa);
	peer_cfg_t *peer_cfg = ike_sa->get_peer_cfg(ike_sa);
	identification_t *eap_id;
	enumerator_t *enumerator;
	cxtp_ike_keys_t keys;
	host_t *vip;
	time_t now = time_monotonic(NULL);
	char *pool;
	int i;

	if (!proposal || !peer_cfg ||
		!capture->get_ike_keys(capture, ike_sa, &keys))
	{
		DBG1(DBG_IKE, "cxtp: IKE_SA has no proposal, config or keys");
		return FALSE;
	}
	ike->keys = keys;
	ike->spi_i = id->get_initiator_spi(id);
	ike->spi_r = id->get_responder_spi(id);
	ike->initiator = id->is_initiator(id);
	proposal->get_algorithm(proposal, ENCRYPTION_ALGORITHM, &ike->encr_alg,
							&ike->encr_size);
	proposal->get_algorithm(proposal, INTEGRITY_ALGORITHM, &ike->integ_alg,
							NULL);
	proposal->get_algorithm(proposal, PSEUDO_RANDOM_FUNCTION, &ike->prf_alg,
							NULL);
	proposal->get_algorithm(proposal, KEY_EXCHANGE_METHOD, &ike->ke_method,
							NULL);
	ike->mid_initiate = ike_sa->get_message_id(ike_sa, TRUE);
	ike->mid_respond = ike_sa->get_message_id(ike_sa, FALSE);
	ike->rekey_time = remaining(ike_sa->get_statistic(ike_sa, STAT_REKEY), now);
	ike->reauth_time = remaining(ike_sa->get_statistic(ike_sa, STAT_REAUTH),
								 now);
	ike->delete_time = remaining(ike_sa->get_statistic(ike_sa, STAT_DELETE),
								 now);
	ike->local = ike_sa->get_my_host(ike_sa)->clone(ike_sa->get_my_host(ike_sa));
	ike->remote = ike_sa->get_other_host(ike_sa)->clone(
											ike_sa->get_other_host(ike_sa));
	ike->local_id = ike_sa->get_my_id(ike_sa)->clone(ike_sa->get_my_id(ike_sa));
	ike->remote_id = ike_sa->get_other_id(ike_sa)->clone(
											ike_sa->get_other_id(ike_sa));
	eap_id = ike_sa->get_other_eap_id(ike_sa);
	if (!eap_id->equals(eap_id, ike->remote_id))
	{
		ike->remote_eap_id = eap_id->clone(eap_id);
	}
	/* unsigned, as 1 << 31 overflows an int */
	for (i = 0; i < 32; i++)
	{
		if (ike_sa->has_condition(ike_sa, 1U << i))
		{
			ike->conditions |= 1U << i;
		}
		if (ike_sa->supports_extension(ike_sa, 1U << i))
		{
			ike->extensions |= 1U << i;
		}
	}
	enumerator = ike_sa->create_virtual_ip_enumerator(ike_sa, FALSE);
	while (enumerator->enumerate(enumerator, &vip))
	{
		ike->remote_vips->insert_last(ike->remote_vips, vip->clone(vip));
	}
	enumerator->destroy(enumerator);
	enumerator = peer_cfg->create_pool_enumerator(peer_cfg);
	if (enumerator->enumerate(enumerator, &pool))
	{
		ike->pool = strdup(pool);
	}
	enumerator->destroy(enumerator);
	ike->peer_cfg = strdup(peer_cfg->get_name(peer_cfg));
	ike->transfers = transfers;
	return TRUE;
}

/**
 * Query the anti-replay state of one direction of a CHILD_SA
 */
static bool query_replay(child_sa_t *child_sa, ike_sa_t *ike_sa, bool inbound,
						 kernel_ipsec_replay_t *replay)
{
	host_t *me = ike_sa->get_my_host(ike_sa);
	kernel_ipsec_sa_id_t id = {
		.src = inbound ? ike_sa->get_other_host(ike_sa) : me,
		.dst = inbound ? me : ike_sa->get_other_host(ike_sa),
		.spi = child_sa->get_spi(child_sa, inbound),
		.proto = child_sa->get_protocol(child_sa) == PROTO_AH ? IPPROTO_AH
															  : IPPROTO_ESP,
		.mark = child_sa->get_mark(child_sa, inbound),
		.if_id = child_sa->get_if_id(child_sa, inbound),
	};
	kernel_ipsec_query_sa_t query = {};
	status_t status;

	status = charon->kernel->query_replay(charon->kernel, &id, &query, replay);
	if (status != SUCCESS)
	{
		DBG1(DBG_IKE, "cxtp: unable to query the replay state of %s SA "
			 "%.8x of CHILD_SA %s{%u}%s", inbound ? "inbound" : "outbound",
			 ntohl(id.spi), child_sa->get_name(child_sa),
			 child_sa->get_unique_id(child_sa),
			 status == NOT_SUPPORTED ? ", the kernel backend does not "
			 "support it" : "");
		return FALSE;
	}
	return TRUE;
}

/**
 * Capture a CHILD_SA of a context
 */
static cxtp_child_context_t *build_child(cxtp_capture_t *capture,
								ike_sa_t *ike_sa, child_sa_t *child_sa)
{
	cxtp_child_context_t *child;
	proposal_t *proposal = child_sa->get_proposal(child_sa);
	kernel_ipsec_replay_t in = {}, out = {};
	traffic_selector_t *ts;
	enumerator_t *enumerator;
	cxtp_child_keys_t keys;
	uint16_t esn = NO_EXT_SEQ_NUMBERS;
	time_t now = time_monotonic(NULL);

	if (!proposal || !capture->get_child_keys(capture, child_sa, &keys))
	{
		DBG1(DBG_IKE, "cxtp: CHILD_SA %s{%u} has no proposal or keys",
			 child_sa->get_name(child_sa), child_sa->get_unique_id(child_sa));
		return NULL;
	}
	if (!query_replay(child_sa, ike_sa, TRUE, &in) ||
		!query_replay(child_sa, ike_sa, FALSE, &out))
	{
		chunk_free(&in.bitmap);
		cxtp_child_keys_clear(&keys);
		return NULL;
	}
	child = cxtp_child_context_create();
	child->keys = keys;
	child->child_cfg = strdup(child_sa->get_name(child_sa));
	child->protocol = child_sa->get_protocol(child_sa);
	child->mode = child_sa->get_mode(child_sa);
	child->encap = child_sa->has_encap(child_sa);
	child->spi_in = child_sa->get_spi(child_sa, TRUE);
	child->spi_out = child_sa->get_spi(child_sa, FALSE);
	proposal->get_algorithm(proposal, ENCRYPTION_ALGORITHM, &child->encr_alg,
							&child->encr_size);
	proposal->get_algorithm(proposal, INTEGRITY_ALGORITHM, &child->integ_alg,
							NULL);
	proposal->get_algorithm(proposal, EXTENDED_SEQUENCE_NUMBERS, &esn, NULL);
	child->esn = esn == EXT_SEQ_NUMBERS;
	enumerator = child_sa->create_ts_enumerator(child_sa, TRUE);
	while (enumerator->enumerate(enumerator, &ts))
	{
		child->local_ts->insert_last(child->local_ts, ts->clone(ts));
	}
	enumerator->destroy(enumerator);
	enumerator = child_sa->create_ts_enumerator(child_sa, FALSE);
	while (enumerator->enumerate(enumerator, &ts))
	{
		child->remote_ts->insert_last(child->remote_ts, ts->clone(ts));
	}
	enumerator->destroy(enumerator);
	child->seq_out = out.seq_out;
	child->seq_in = in.seq_in;
	child->replay_window = in.window;
	child->replay_bitmap = in.bitmap;
	chunk_free(&out.bitmap);
	child->rekey_time = remaining(child_sa->get_lifetime(child_sa, FALSE), now);
	child->expire_time = remaining(child_sa->get_lifetime(child_sa, TRUE), now);
	return child;
}

/**
 * Capture the PAD entry of the peer
 */
static void build_pad(ike_sa_t *ike_sa, cxtp_pad_context_t *pad)
{
	identification_t *me = ike_sa->get_my_id(ike_sa), *other;
	enumerator_t *enumerator;
	auth_cfg_t *auth;
	certificate_t *cert;
	shared_key_t *key = NULL;
	uintptr_t value;

	pad->id = ike_sa->get_other_id(ike_sa)->clone(ike_sa->get_other_id(ike_sa));
	/* the peer's first completed authentication round authenticates it */
	enumerator = ike_sa->create_auth_cfg_enumerator(ike_sa, FALSE);
	if (!enumerator->enumerate(enumerator, &auth))
	{
		enumerator->destroy(enumerator);
		return;
	}
	enumerator->destroy(enumerator);
	value = (uintptr_t)auth->get(auth, AUTH_RULE_AUTH_CLASS);
	pad->auth_class = value;
	switch (pad->auth_class)
	{
		case AUTH_CLASS_PSK:
			pad->secret_type = SHARED_IKE;
			key = lib->credmgr->get_shared(lib->credmgr, SHARED_IKE, me,
										   pad->id);
			break;
		case AUTH_CLASS_EAP:
			pad->eap_type = (uintptr_t)auth->get(auth, AUTH_RULE_EAP_TYPE);
			pad->secret_type = SHARED_EAP;
			other = ike_sa->get_other_eap_id(ike_sa);
			key = lib->credmgr->get_shared(lib->credmgr, SHARED_EAP, me, other);
			break;
		case AUTH_CLASS_PUBKEY:
			cert = auth->get(auth, AUTH_RULE_SUBJECT_CERT);
			if (cert)
			{
				pad->cert_subject = cert->get_subject(cert)->clone(
													cert->get_subject(cert));
			}
			break;
		default:
			break;
	}
	if (key)
	{
		pad->secret = chunk_clone(key->get_key(key));
		key->destroy(key);
	}
}

/*
 * Described in header
 */
cxtp_context_t *cxtp_export(cxtp_capture_t *capture, ike_sa_t *ike_sa,
							uint32_t transfers)
{
	cxtp_context_t *context;
	cxtp_child_context_t *child;
	enumerator_t *enumerator;
	child_sa_t *child_sa;
	bool ok;

	context = cxtp_context_create();
	ok = build_ike(capture, ike_sa, transfers, &context->ike);
	enumerator = ike_sa->create_child_sa_enumerator(ike_sa);
	while (ok && enumerator->enumerate(enumerator, &child_sa))
	{
		if (is_rekeyed(child_sa))
		{
			continue;
		}
		child = build_child(capture, ike_sa, child_sa);
		if (child)
		{
			context->children->insert_last(context->children, child);
		}
		ok = child != NULL;
	}
	enumerator->destroy(enumerator);
	if (!ok)
	{
		context->destroy(context);
		return NULL;
	}
	build_pad(ike_sa, &context->pad);
	return context;
}
