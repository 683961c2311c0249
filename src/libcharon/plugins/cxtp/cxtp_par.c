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


#include "cxtp_par.h"
#include "cxtp_encode.h"
#include "cxtp_export.h"
#include "cxtp_handovers.h"
#include "cxtp_options.h"

#include <daemon.h>

typedef struct private_cxtp_par_t private_cxtp_par_t;

/**
 * Private data of a cxtp_par_t object.
 */
struct private_cxtp_par_t {

	/**
	 * Public cxtp_par_t interface.
	 */
	cxtp_par_t public;

	/**
	 * Captured SA keys
	 */
	cxtp_capture_t *capture;

	/**
	 * Transfer counters and token keys
	 */
	cxtp_transfers_t *transfers;

	/**
	 * Plugin settings
	 */
	cxtp_settings_t *settings;

	/**
	 * Transport to other access routers
	 */
	cxtp_transport_t *transport;

	/**
	 * Contexts sent to a peer, their IKE_SAs frozen here
	 */
	cxtp_handovers_t *pending;
};

/**
 * Destroy a handover we sent
 */
static void handover_destroy(cxtp_handover_t *handover)
{
	free(handover->peer);
	handover->mn->destroy(handover->mn);
	free(handover);
}

/**
 * Add the CDBs of a context to a PCTD/CTD
 */
static bool add_cdbs(cxtp_message_t *message, cxtp_context_t *context)
{
	enumerator_t *enumerator;
	cxtp_child_context_t *child;
	chunk_t data;
	bool ok;

	data = cxtp_encode_ike(&context->ike);
	ok = message->add_cdb(message, CXTP_FPT_IKE_SA, data);
	chunk_clear(&data);
	enumerator = context->children->create_enumerator(context->children);
	while (ok && enumerator->enumerate(enumerator, &child))
	{
		data = cxtp_encode_child(child);
		ok = message->add_cdb(message, CXTP_FPT_CHILD_SA, data);
		chunk_clear(&data);
	}
	enumerator->destroy(enumerator);
	if (ok)
	{
		data = cxtp_encode_pad(&context->pad);
		ok = message->add_cdb(message, CXTP_FPT_PAD, data);
		chunk_clear(&data);
	}
	return ok;
}

/**
 * Send the context of an IKE_SA to a peer in a PCTD (predictive) or a CTD
 * (reactive, asked for with a CT-Req) and freeze the IKE_SA
 */
static char *transfer(private_cxtp_par_t *this, ike_sa_t *ike_sa, char *peer,
					  cxtp_message_type_t type)
{
	cxtp_handover_t *handover;
	cxtp_context_t *context;
	cxtp_message_t *message;
	cxtp_peer_t *config;
	u_int ike_id = ike_sa->get_unique_id(ike_sa);
	chunk_t key;
	char *reason;
	bool ok;

	config = this->settings->get_peer(this->settings, peer);
	if (!config)
	{
		return strdup("no such CXTP peer");
	}
	config->destroy(config);
	if (this->pending->has(this->pending, ike_id, NULL))
	{
		return strdup("a transfer of this IKE_SA is in progress");
	}
	reason = cxtp_export_check(this->capture, ike_sa);
	if (reason)
	{
		return reason;
	}
	context = cxtp_export(this->capture, ike_sa,
					this->transfers->get_transfers(this->transfers, ike_sa));
	if (!context)
	{
		return strdup("capturing its context failed, see the log");
	}
	message = cxtp_message_create(type, ike_sa->get_other_host(ike_sa));
	message->set_ack(message, TRUE);
	ok = this->transfers->derive_token_key(this->transfers, ike_sa, &key);
	ok = ok && message->set_key(message, key) && add_cdbs(message, context);
	chunk_clear(&key);
	context->destroy(context);
	if (!ok)
	{
		message->destroy(message);
		return strdup("encoding its context failed, see the log");
	}
	INIT(handover,
		.ike_id = ike_id,
		.peer = strdup(peer),
		.mn = ike_sa->get_other_host(ike_sa)->clone(
											ike_sa->get_other_host(ike_sa)),
	);
	this->pending->add(this->pending, handover);

	/* frozen: a passive IKE_SA starts no exchange and handles none, while
	 * its CHILD_SAs keep carrying traffic */
	ike_sa->set_state(ike_sa, IKE_PASSIVE);
	DBG1(DBG_IKE, "cxtp: %s the context of IKE_SA %s[%u] to peer '%s', "
		 "IKE_SA frozen until it is activated there",
		 type == CXTP_PCTD ? "pushing" : "sending", ike_sa->get_name(ike_sa),
		 ike_id, peer);
	if (!this->transport->send_reliable(this->transport, peer, message,
										ike_id))
	{
		message->destroy(message);
		handover = this->pending->remove(this->pending, ike_id, 0, NULL);
		ike_sa->set_state(ike_sa, IKE_ESTABLISHED);
		if (handover)
		{
			handover_destroy(handover);
		}
		return strdup("sending the context failed, see the log");
	}
	message->destroy(message);
	this->pending->event(this->pending, CXTP_EVENT_EXPORT, ike_id, peer,
						 ike_sa->get_other_host(ike_sa), NULL);
	return NULL;
}

METHOD(cxtp_par_t, push, char*,
	private_cxtp_par_t *this, ike_sa_t *ike_sa, char *peer)
{
	return transfer(this, ike_sa, peer, CXTP_PCTD);
}

/**
 * Thaw a frozen IKE_SA, or remove it once activated elsewhere
 */
static void finish(private_cxtp_par_t *this, cxtp_handover_t *handover,
				   bool activated)
{
	ike_sa_t *ike_sa;

	this->transport->acknowledge(this->transport, handover->ike_id);
	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													handover->ike_id);
	if (!ike_sa)
	{
		DBG1(DBG_IKE, "cxtp: pushed IKE_SA [%u] is gone", handover->ike_id);
		return;
	}
	if (activated)
	{
		DBG1(DBG_IKE, "cxtp: IKE_SA %s[%u] was activated on peer '%s', "
			 "removing it", ike_sa->get_name(ike_sa), handover->ike_id,
			 handover->peer);
		/* no DELETE: nAR continues the very same SAs */
		charon->ike_sa_manager->checkin_and_destroy(charon->ike_sa_manager,
													ike_sa);
		this->pending->event(this->pending, CXTP_EVENT_ACTIVATE, handover->ike_id,
							 handover->peer, handover->mn, NULL);
		return;
	}
	DBG1(DBG_IKE, "cxtp: thawing IKE_SA %s[%u], its transfer to peer '%s' "
		 "failed", ike_sa->get_name(ike_sa), handover->ike_id, handover->peer);
	ike_sa->set_state(ike_sa, IKE_ESTABLISHED);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	this->pending->event(this->pending, CXTP_EVENT_FAILURE, handover->ike_id,
						 handover->peer, handover->mn,
						 "transfer failed, IKE_SA thawed");
}

CALLBACK(handover_timeout, void,
	private_cxtp_par_t *this, cxtp_handover_t *handover)
{
	DBG1(DBG_IKE, "cxtp: the context of IKE_SA [%u] was not activated on "
		 "peer '%s' in time", handover->ike_id, handover->peer);
	finish(this, handover, FALSE);
	handover_destroy(handover);
}

METHOD(cxtp_par_t, process_ctdr, void,
	private_cxtp_par_t *this, char *peer, cxtp_message_t *message)
{
	enumerator_t *enumerator;
	cxtp_handover_t *handover;
	cxtp_status_t *status;
	bool activated = FALSE;
	char timeout[32];

	enumerator = message->create_status_enumerator(message);
	while (enumerator->enumerate(enumerator, &status))
	{
		if (status->fpt == CXTP_FPT_IKE_SA &&
			status->status == CXTP_STATUS_ACTIVATED)
		{
			activated = TRUE;
		}
	}
	enumerator->destroy(enumerator);

	if (message->get_success(message) && !activated)
	{	/* imported, now we wait for the activation */
		enumerator = this->pending->create_enumerator(this->pending,
											message->get_mn_address(message));
		while (enumerator->enumerate(enumerator, &handover))
		{
			DBG1(DBG_IKE, "cxtp: peer '%s' imported the context of IKE_SA "
				 "[%u], waiting %s for its activation", peer,
				 handover->ike_id, cxtp_options_print_time(
					this->settings->get_handover_timeout(this->settings),
					timeout, sizeof(timeout)));
			this->transport->acknowledge(this->transport, handover->ike_id);
			this->pending->schedule_timeout(this->pending, handover->ike_id,
								handover->serial, handover_timeout, this);
		}
		enumerator->destroy(enumerator);
		return;
	}
	handover = this->pending->remove(this->pending, 0, 0,
									 message->get_mn_address(message));
	if (!handover)
	{
		DBG1(DBG_IKE, "cxtp: CTDR from peer '%s' for %H matches no pushed "
			 "context, ignored", peer, message->get_mn_address(message));
		return;
	}
	if (!message->get_success(message))
	{
		DBG1(DBG_IKE, "cxtp: peer '%s' could not import the context of "
			 "IKE_SA [%u]", peer, handover->ike_id);
	}
	finish(this, handover, message->get_success(message) && activated);
	handover_destroy(handover);
}

/**
 * Unique ID of the established IKE_SA with a mobile node, 0 if none
 */
static u_int find_ike_sa(host_t *mn)
{
	enumerator_t *enumerator;
	ike_sa_t *ike_sa;
	u_int ike_id = 0;

	enumerator = charon->controller->create_ike_sa_enumerator(
													charon->controller, TRUE);
	while (enumerator->enumerate(enumerator, &ike_sa))
	{
		if (ike_sa->get_state(ike_sa) == IKE_ESTABLISHED &&
			mn->ip_equals(mn, ike_sa->get_other_host(ike_sa)))
		{
			ike_id = ike_sa->get_unique_id(ike_sa);
			break;
		}
	}
	enumerator->destroy(enumerator);
	return ike_id;
}

METHOD(cxtp_par_t, has_ike_sa, bool,
	private_cxtp_par_t *this, host_t *mn)
{
	return find_ike_sa(mn) != 0;
}

/**
 * Send the context of the IKE_SA we hold with a mobile node to a peer, if
 * the CTAR or CT-Req asking for it carries the node's valid token.
 *
 * @return			FALSE if we hold no IKE_SA with the mobile node
 */
static bool transfer_for(private_cxtp_par_t *this, char *peer,
						 cxtp_message_t *message, cxtp_message_type_t type)
{
	host_t *mn = message->get_mn_address(message);
	ike_sa_t *ike_sa = NULL;
	chunk_t key;
	u_int ike_id;
	char *reason;
	bool valid = FALSE;

	ike_id = find_ike_sa(mn);
	if (ike_id)
	{
		ike_sa = charon->ike_sa_manager->checkout_by_id(
											charon->ike_sa_manager, ike_id);
	}
	if (!ike_sa)
	{
		return FALSE;
	}
	/* we check the mobile node's token ourselves before handing out keys */
	if (this->transfers->derive_token_key(this->transfers, ike_sa, &key))
	{
		valid = message->verify_token(message, key);
		chunk_clear(&key);
	}
	if (!valid)
	{
		DBG1(DBG_IKE, "cxtp: %N for %H has an invalid authorization token, "
			 "ignored", cxtp_message_type_names, message->get_type(message),
			 mn);
		charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
		return TRUE;
	}
	reason = transfer(this, ike_sa, peer, type);
	if (reason)
	{
		DBG1(DBG_IKE, "cxtp: not sending the context of IKE_SA [%u] to peer "
			 "'%s': %s", ike_id, peer, reason);
		free(reason);
	}
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	return TRUE;
}

METHOD(cxtp_par_t, process_ctreq, void,
	private_cxtp_par_t *this, char *peer, cxtp_message_t *message)
{
	if (!transfer_for(this, peer, message, CXTP_CTD))
	{
		DBG1(DBG_IKE, "cxtp: CT-Req from peer '%s' for %H, but we hold no "
			 "IKE_SA with it, ignored", peer, message->get_mn_address(message));
	}
}

METHOD(cxtp_par_t, process_ctar, void,
	private_cxtp_par_t *this, char *peer, cxtp_message_t *message)
{
	if (!transfer_for(this, peer, message, CXTP_PCTD))
	{	/* gone since the dispatcher asked */
		DBG1(DBG_IKE, "cxtp: CTAR for %H names peer '%s', but we hold no "
			 "IKE_SA with it, ignored", message->get_mn_address(message),
			 peer);
	}
	message->destroy(message);
}

METHOD(cxtp_par_t, timeout, void,
	private_cxtp_par_t *this, char *peer, u_int ike_id)
{
	cxtp_handover_t *handover;

	handover = this->pending->remove(this->pending, ike_id, 0, NULL);
	if (handover)
	{
		DBG1(DBG_IKE, "cxtp: peer '%s' did not answer for the context of "
			 "IKE_SA [%u]", peer, ike_id);
		finish(this, handover, FALSE);
		handover_destroy(handover);
	}
}

METHOD(cxtp_par_t, get_state, char*,
	private_cxtp_par_t *this, ike_sa_t *ike_sa)
{
	return this->pending->has(this->pending, ike_sa->get_unique_id(ike_sa),
							  NULL) ? "pending" : NULL;
}

METHOD(cxtp_par_t, set_event_cb, void,
	private_cxtp_par_t *this, cxtp_event_cb_t cb, void *data)
{
	this->pending->set_event_cb(this->pending, cb, data);
}

METHOD(cxtp_par_t, destroy, void,
	private_cxtp_par_t *this)
{
	this->pending->destroy(this->pending);
	free(this);
}

/*
 * Described in header
 */
cxtp_par_t *cxtp_par_create(cxtp_capture_t *capture,
							cxtp_transfers_t *transfers,
							cxtp_settings_t *settings,
							cxtp_transport_t *transport)
{
	private_cxtp_par_t *this;

	INIT(this,
		.public = {
			.push = _push,
			.has_ike_sa = _has_ike_sa,
			.process_ctar = _process_ctar,
			.process_ctreq = _process_ctreq,
			.process_ctdr = _process_ctdr,
			.timeout = _timeout,
			.get_state = _get_state,
			.set_event_cb = _set_event_cb,
			.destroy = _destroy,
		},
		.capture = capture,
		.transfers = transfers,
		.settings = settings,
		.transport = transport,
		.pending = cxtp_handovers_create(settings, handover_destroy),
	);
	return &this->public;
}
