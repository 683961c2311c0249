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


#include "cxtp_nar.h"
#include "cxtp_encode.h"
#include "cxtp_handovers.h"
#include "cxtp_import.h"
#include "cxtp_options.h"

#include <daemon.h>
#include <collections/linked_list.h>
#include <threading/mutex.h>

typedef struct private_cxtp_nar_t private_cxtp_nar_t;

/**
 * Private data of a cxtp_nar_t object.
 */
struct private_cxtp_nar_t {

	/**
	 * Public cxtp_nar_t interface.
	 */
	cxtp_nar_t public;

	/**
	 * Transfer counters
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
	 * Transport to mobile nodes
	 */
	cxtp_icmp_t *icmp;

	/**
	 * PAD entries of activated contexts
	 */
	cxtp_pad_t *pad;

	/**
	 * Virtual IPs in use here, transferred leases
	 */
	cxtp_leases_t *leases;

	/**
	 * Contexts received from a peer and imported as passive IKE_SAs,
	 * entry_t
	 */
	cxtp_handovers_t *imported;

	/**
	 * CTARs for contexts requested from their pAR with a CT-Req, ctar_t
	 */
	linked_list_t *waiting;

	/**
	 * Identifier of the last CT-Req
	 */
	uint32_t requests;

	/**
	 * The last CTAR with a valid token, duplicates are ignored (RFC 4067 3.2)
	 */
	host_t *last_ctar_mn;
	uint32_t last_ctar_seq;

	/**
	 * Protects the waiting CTARs, the CT-Req identifiers and the last CTAR
	 */
	mutex_t *mutex;
};

/**
 * A context imported as a passive IKE_SA
 */
typedef struct {
	/** IKE_SA, peer it came from, mobile node */
	cxtp_handover_t handover;
	/** the context, for the activation */
	cxtp_context_t *context;
	/** key of the mobile node's authorization token */
	chunk_t token_key;
} entry_t;

static void entry_destroy(entry_t *entry)
{
	free(entry->handover.peer);
	entry->handover.mn->destroy(entry->handover.mn);
	entry->context->destroy(entry->context);
	chunk_clear(&entry->token_key);
	free(entry);
}

/**
 * A CTAR waiting for its context, with its addresses
 */
typedef struct {
	/** the mobile node's new address */
	host_t *src;
	/** our address the CTAR arrived at */
	host_t *dst;
	/** the CTAR */
	cxtp_message_t *message;
	/** identifier of the CT-Req sent for it */
	uint32_t request;
} ctar_t;

static void ctar_destroy(ctar_t *ctar)
{
	ctar->src->destroy(ctar->src);
	ctar->dst->destroy(ctar->dst);
	ctar->message->destroy(ctar->message);
	free(ctar);
}

CALLBACK(import_timeout, void,
	private_cxtp_nar_t *this, cxtp_handover_t *handover)
{
	entry_t *entry = (entry_t*)handover;
	ike_sa_t *ike_sa;
	char timeout[32];

	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													handover->ike_id);
	if (ike_sa && ike_sa->get_state(ike_sa) == IKE_PASSIVE)
	{
		DBG1(DBG_IKE, "cxtp: imported IKE_SA %s[%u] of '%Y' was not activated "
			 "within %s, removing it", ike_sa->get_name(ike_sa),
			 handover->ike_id, entry->context->ike.remote_id,
			 cxtp_options_print_time(
					this->settings->get_handover_timeout(this->settings),
					timeout, sizeof(timeout)));
		/* passive: nothing installed, no DELETE to send */
		charon->ike_sa_manager->checkin_and_destroy(charon->ike_sa_manager,
													ike_sa);
		this->imported->event(this->imported, CXTP_EVENT_FAILURE, handover->ike_id,
							handover->peer, handover->mn,
							"not activated in time, imported context removed");
	}
	else if (ike_sa)
	{
		charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	}
	entry_destroy(entry);
}

/**
 * Decode the context in a PCTD/CTD
 */
static cxtp_context_t *decode_context(cxtp_message_t *message)
{
	cxtp_context_t *context;
	cxtp_child_context_t *child;
	enumerator_t *enumerator;
	cxtp_cdb_t *cdb;
	int ike = 0, pad = 0;
	bool ok = TRUE;

	context = cxtp_context_create();
	enumerator = message->create_cdb_enumerator(message);
	while (ok && enumerator->enumerate(enumerator, &cdb))
	{
		switch (cdb->fpt)
		{
			case CXTP_FPT_IKE_SA:
				ok = !ike++ && cxtp_decode_ike(cdb->data, &context->ike);
				break;
			case CXTP_FPT_CHILD_SA:
				child = cxtp_decode_child(cdb->data);
				if (child)
				{
					context->children->insert_last(context->children, child);
				}
				ok = child != NULL;
				break;
			case CXTP_FPT_PAD:
				ok = !pad++ && cxtp_decode_pad(cdb->data, &context->pad);
				break;
			default:
				DBG1(DBG_IKE, "cxtp: unknown feature profile type %#x",
					 cdb->fpt);
				ok = FALSE;
				break;
		}
	}
	enumerator->destroy(enumerator);
	context->predictive = message->get_type(message) == CXTP_PCTD;
	if (!ok || ike != 1 || pad != 1)
	{
		DBG1(DBG_IKE, "cxtp: invalid context for %H",
			 message->get_mn_address(message));
		context->destroy(context);
		return NULL;
	}
	return context;
}

/**
 * Answer a PCTD/CTD with a CTDR, or report an activation with one
 */
static void send_ctdr(private_cxtp_nar_t *this, char *peer, host_t *mn,
					  bool success, uint8_t status)
{
	cxtp_message_t *reply;

	reply = cxtp_message_create(CXTP_CTDR, mn);
	reply->set_success(reply, success);
	if (status)
	{
		reply->add_status(reply, CXTP_FPT_IKE_SA, status);
	}
	this->transport->send(this->transport, peer, reply);
	reply->destroy(reply);
}

/**
 * Tell a mobile node whose CTAR we cannot activate that its context was not
 * transferred, so it does not keep a tunnel that carries nothing (RFC 4067
 * lists the feature profiles not transferred in the CTAA)
 */
static void send_refusal(private_cxtp_nar_t *this, host_t *src, host_t *dst,
						 cxtp_message_t *message)
{
	cxtp_message_t *reply;

	DBG1(DBG_IKE, "cxtp: refused the CTAR of %H, its context was not "
		 "transferred, sending a CTAA saying so",
		 message->get_mn_address(message));
	reply = cxtp_message_create(CXTP_CTAA, message->get_mn_address(message));
	reply->add_status(reply, CXTP_FPT_IKE_SA, CXTP_STATUS_FAILED);
	this->icmp->send(this->icmp, dst, src, reply);
	reply->destroy(reply);
}

/**
 * Remember a CTAR whose token was valid, its retransmissions are duplicates;
 * remembering unverified ones would let a forged CTAR with a sequence number
 * seen on pAR's link block the mobile node's own
 */
static void remember_ctar(private_cxtp_nar_t *this, cxtp_message_t *message)
{
	host_t *mn = message->get_mn_address(message);

	this->mutex->lock(this->mutex);
	DESTROY_IF(this->last_ctar_mn);
	this->last_ctar_mn = mn->clone(mn);
	this->last_ctar_seq = message->get_sequence(message);
	this->mutex->unlock(this->mutex);
}

/**
 * Whether a context for the mobile node of a CTAR was imported, and if so,
 * whether the CTAR's token is valid for it
 */
static bool check_ctar(private_cxtp_nar_t *this, cxtp_message_t *message,
					   bool *valid)
{
	enumerator_t *enumerator;
	entry_t *entry;
	bool known;

	*valid = FALSE;
	enumerator = this->imported->create_enumerator(this->imported,
											message->get_mn_address(message));
	known = enumerator->enumerate(enumerator, &entry);
	if (known)
	{
		*valid = message->verify_token(message, entry->token_key);
	}
	enumerator->destroy(enumerator);
	if (known && !*valid)
	{
		DBG1(DBG_IKE, "cxtp: CTAR for %H has an invalid authorization "
			 "token, ignored", message->get_mn_address(message));
		this->imported->event(this->imported, CXTP_EVENT_FAILURE, 0, NULL,
							  message->get_mn_address(message),
							  "CTAR with an invalid authorization token");
	}
	return known;
}

/**
 * Activate the imported context a CTAR with a valid token asks for
 */
static void activate(private_cxtp_nar_t *this, host_t *src, host_t *dst,
					 cxtp_message_t *message)
{
	cxtp_message_t *reply;
	ike_sa_t *ike_sa;
	entry_t *entry;
	bool ok = FALSE;

	/* the token key is used once: the entry goes whatever happens next */
	entry = (entry_t*)this->imported->remove(this->imported, 0, 0,
											  message->get_mn_address(message));
	if (!entry)
	{
		return;
	}
	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													entry->handover.ike_id);
	if (ike_sa)
	{
		charon->bus->set_sa(charon->bus, ike_sa);
		ok = cxtp_activate(ike_sa, entry->context, dst, src, this->settings);
		if (ok)
		{
			this->transfers->set_transfers(this->transfers, ike_sa,
										   entry->context->ike.transfers + 1);
			this->pad->add(this->pad, entry->context);
			charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
		}
		else
		{
			charon->ike_sa_manager->checkin_and_destroy(charon->ike_sa_manager,
														ike_sa);
		}
		charon->bus->set_sa(charon->bus, NULL);
	}
	if (ok && message->get_ack(message))
	{
		reply = cxtp_message_create(CXTP_CTAA,
									message->get_mn_address(message));
		this->icmp->send(this->icmp, dst, src, reply);
		reply->destroy(reply);
	}
	else if (!ok)
	{
		send_refusal(this, src, dst, message);
	}
	send_ctdr(this, entry->handover.peer, entry->handover.mn, ok,
			  ok ? CXTP_STATUS_ACTIVATED : CXTP_STATUS_FAILED);
	this->imported->event(this->imported, ok ? CXTP_EVENT_ACTIVATE : CXTP_EVENT_FAILURE,
						  entry->handover.ike_id, entry->handover.peer,
						  entry->handover.mn,
						  ok ? NULL : "activating the context failed");
	entry_destroy(entry);
}

/**
 * Take the CTARs waiting for a mobile node's context out of the queue, their
 * CT-Req answered
 */
static linked_list_t *take_waiting(private_cxtp_nar_t *this, host_t *mn)
{
	enumerator_t *enumerator;
	linked_list_t *found;
	ctar_t *ctar;

	found = linked_list_create();
	this->mutex->lock(this->mutex);
	enumerator = this->waiting->create_enumerator(this->waiting);
	while (enumerator->enumerate(enumerator, &ctar))
	{
		if (mn->ip_equals(mn, ctar->message->get_mn_address(ctar->message)))
		{
			this->waiting->remove_at(this->waiting, enumerator);
			found->insert_last(found, ctar);
		}
	}
	enumerator->destroy(enumerator);
	this->mutex->unlock(this->mutex);
	enumerator = found->create_enumerator(found);
	while (enumerator->enumerate(enumerator, &ctar))
	{
		this->transport->acknowledge(this->transport, ctar->request);
	}
	enumerator->destroy(enumerator);
	return found;
}

/**
 * Activate a context that arrived for the CTARs waiting for it
 */
static void activate_waiting(private_cxtp_nar_t *this, host_t *mn)
{
	linked_list_t *found;
	ctar_t *ctar;
	bool valid;

	/* a forged CTAR may wait beside the mobile node's own, its token
	 * decides which one activates */
	found = take_waiting(this, mn);
	while (found->remove_first(found, (void**)&ctar) == SUCCESS)
	{
		if (check_ctar(this, ctar->message, &valid) && valid)
		{
			remember_ctar(this, ctar->message);
			activate(this, ctar->src, ctar->dst, ctar->message);
		}
		ctar_destroy(ctar);
	}
	found->destroy(found);
}

/**
 * Answer the CTARs waiting for a context we refused, if their token is valid
 * for it
 */
static void refuse_waiting(private_cxtp_nar_t *this, host_t *mn, chunk_t key)
{
	linked_list_t *found;
	ctar_t *ctar;

	found = take_waiting(this, mn);
	while (found->remove_first(found, (void**)&ctar) == SUCCESS)
	{
		if (key.len && ctar->message->verify_token(ctar->message, key))
		{
			send_refusal(this, ctar->src, ctar->dst, ctar->message);
		}
		ctar_destroy(ctar);
	}
	found->destroy(found);
}

METHOD(cxtp_nar_t, process_ctd, void,
	private_cxtp_nar_t *this, char *peer, cxtp_message_t *message)
{
	host_t *mn = message->get_mn_address(message);
	cxtp_context_t *context;
	entry_t *entry;
	char *reason = NULL;
	u_int ike_id, serial;

	if (this->imported->has(this->imported, 0, mn))
	{	/* a retransmission, our CTDR got lost */
		send_ctdr(this, peer, mn, TRUE, 0);
		return;
	}
	if (!message->get_key(message).len)
	{
		DBG1(DBG_IKE, "cxtp: %N from peer '%s' for %H has no token key",
			 cxtp_message_type_names, message->get_type(message), peer, mn);
		send_ctdr(this, peer, mn, FALSE, CXTP_STATUS_FAILED);
		return;
	}
	context = decode_context(message);
	ike_id = context ? cxtp_import(context, this->leases, &reason) : 0;
	if (!ike_id)
	{
		if (context)
		{
			DBG1(DBG_IKE, "cxtp: refusing the context of '%Y' from peer '%s': "
				 "%s", context->ike.remote_id, peer, reason);
			context->destroy(context);
		}
		send_ctdr(this, peer, mn, FALSE, CXTP_STATUS_FAILED);
		this->imported->event(this->imported, CXTP_EVENT_FAILURE, 0, peer, mn,
							  reason ?: "importing the context failed");
		free(reason);
		/* reactive: the mobile node waits for it on our link */
		refuse_waiting(this, mn, message->get_key(message));
		return;
	}
	DBG1(DBG_IKE, "cxtp: context of '%Y' at %H from peer '%s' imported as "
		 "IKE_SA [%u]", context->ike.remote_id, mn, peer, ike_id);
	INIT(entry,
		.handover = {
			.ike_id = ike_id,
			.peer = strdup(peer),
			.mn = mn->clone(mn),
		},
		.context = context,
		.token_key = chunk_clone(message->get_key(message)),
	);
	serial = this->imported->add(this->imported, &entry->handover);
	/* pAR thaws its copy if no activation follows, so must we drop ours */
	this->imported->schedule_timeout(this->imported, ike_id, serial,
									 import_timeout, this);
	send_ctdr(this, peer, mn, TRUE, 0);
	this->imported->event(this->imported, CXTP_EVENT_IMPORT, ike_id, peer, mn, NULL);
	/* reactive: the mobile node asked for it already */
	activate_waiting(this, mn);
}

METHOD(cxtp_nar_t, is_duplicate, bool,
	private_cxtp_nar_t *this, cxtp_message_t *message)
{
	host_t *mn = message->get_mn_address(message);
	bool duplicate;

	this->mutex->lock(this->mutex);
	duplicate = this->last_ctar_mn &&
				this->last_ctar_mn->ip_equals(this->last_ctar_mn, mn) &&
				this->last_ctar_seq == message->get_sequence(message);
	this->mutex->unlock(this->mutex);
	return duplicate;
}

METHOD(cxtp_nar_t, has_context, bool,
	private_cxtp_nar_t *this, host_t *mn)
{
	return this->imported->has(this->imported, 0, mn);
}

METHOD(cxtp_nar_t, process_ctar, void,
	private_cxtp_nar_t *this, host_t *src, host_t *dst,
	cxtp_message_t *message)
{
	bool valid;

	if (!check_ctar(this, message, &valid))
	{	/* expired since the dispatcher asked */
		DBG1(DBG_IKE, "cxtp: CTAR for %H, but its imported context is gone, "
			 "ignored", message->get_mn_address(message));
	}
	else if (valid)
	{
		remember_ctar(this, message);
		activate(this, src, dst, message);
	}
	message->destroy(message);
}

/**
 * Whether a CTAR repeats one waiting for its context
 */
CALLBACK(match_waiting, bool,
	ctar_t *ctar, va_list args)
{
	cxtp_message_t *waiting = ctar->message, *message;
	host_t *mn;

	VA_ARGS_VGET(args, message);
	mn = waiting->get_mn_address(waiting);
	return mn->ip_equals(mn, message->get_mn_address(message)) &&
		   waiting->get_sequence(waiting) == message->get_sequence(message) &&
		   waiting->get_token(waiting) == message->get_token(message);
}

METHOD(cxtp_nar_t, request_context, void,
	private_cxtp_nar_t *this, char *peer, host_t *src, host_t *dst,
	cxtp_message_t *message)
{
	cxtp_message_t *request;
	ctar_t *ctar;
	bool duplicate;

	this->mutex->lock(this->mutex);
	duplicate = this->waiting->find_first(this->waiting, match_waiting, NULL,
										  message);
	this->mutex->unlock(this->mutex);
	if (duplicate)
	{
		DBG1(DBG_IKE, "cxtp: duplicate CTAR %u for %H ignored, its context "
			 "was requested from peer '%s'", message->get_sequence(message),
			 message->get_mn_address(message), peer);
		message->destroy(message);
		return;
	}
	request = cxtp_message_create(CXTP_CTREQ,
								  message->get_mn_address(message));
	request->set_sequence(request, message->get_sequence(message));
	request->set_token(request, message->get_token(message));
	INIT(ctar,
		.src = src->clone(src),
		.dst = dst->clone(dst),
		.message = message,
	);
	this->mutex->lock(this->mutex);
	ctar->request = CXTP_NAR_REQUEST | (++this->requests & ~CXTP_NAR_REQUEST);
	this->waiting->insert_last(this->waiting, ctar);
	this->mutex->unlock(this->mutex);
	DBG1(DBG_IKE, "cxtp: no context for %H, requesting it from peer '%s'",
		 message->get_mn_address(message), peer);
	this->transport->send_reliable(this->transport, peer, request,
								   ctar->request);
	request->destroy(request);
}

/**
 * Match a waiting CTAR by the identifier of its CT-Req
 */
CALLBACK(match_request, bool,
	ctar_t *ctar, va_list args)
{
	uint32_t id;

	VA_ARGS_VGET(args, id);
	return ctar->request == id;
}

METHOD(cxtp_nar_t, timeout, void,
	private_cxtp_nar_t *this, char *peer, uint32_t id)
{
	ctar_t *ctar = NULL;

	this->mutex->lock(this->mutex);
	if (this->waiting->find_first(this->waiting, match_request,
								  (void**)&ctar, id))
	{
		this->waiting->remove(this->waiting, ctar, NULL);
	}
	this->mutex->unlock(this->mutex);
	if (ctar)
	{
		DBG1(DBG_IKE, "cxtp: peer '%s' sent no context for the CTAR of %H",
			 peer, ctar->message->get_mn_address(ctar->message));
		ctar_destroy(ctar);
	}
}

METHOD(cxtp_nar_t, get_state, char*,
	private_cxtp_nar_t *this, ike_sa_t *ike_sa)
{
	return this->imported->has(this->imported, ike_sa->get_unique_id(ike_sa),
							   NULL) ? "imported" : NULL;
}

METHOD(cxtp_nar_t, set_event_cb, void,
	private_cxtp_nar_t *this, cxtp_event_cb_t cb, void *data)
{
	this->imported->set_event_cb(this->imported, cb, data);
}

METHOD(cxtp_nar_t, destroy, void,
	private_cxtp_nar_t *this)
{
	this->imported->destroy(this->imported);
	this->waiting->destroy_function(this->waiting, (void*)ctar_destroy);
	DESTROY_IF(this->last_ctar_mn);
	this->mutex->destroy(this->mutex);
	free(this);
}

/*
 * Described in header
 */
cxtp_nar_t *cxtp_nar_create(cxtp_transfers_t *transfers,
							cxtp_settings_t *settings,
							cxtp_transport_t *transport, cxtp_icmp_t *icmp,
							cxtp_pad_t *pad, cxtp_leases_t *leases)
{
	private_cxtp_nar_t *this;

	INIT(this,
		.public = {
			.is_duplicate = _is_duplicate,
			.has_context = _has_context,
			.process_ctar = _process_ctar,
			.request_context = _request_context,
			.process_ctd = _process_ctd,
			.timeout = _timeout,
			.get_state = _get_state,
			.set_event_cb = _set_event_cb,
			.destroy = _destroy,
		},
		.transfers = transfers,
		.settings = settings,
		.transport = transport,
		.icmp = icmp,
		.pad = pad,
		.leases = leases,
		.imported = cxtp_handovers_create(settings, (void*)entry_destroy),
		.waiting = linked_list_create(),
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
	);
	return &this->public;
}
