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


#include "cxtp_ar.h"
#include "cxtp_encode.h"
#include "cxtp_export.h"
#include "cxtp_import.h"
#include "cxtp_message.h"
#include "cxtp_token.h"
#include "cxtp_transport.h"

#include <daemon.h>
#include <collections/linked_list.h>
#include <processing/jobs/callback_job.h>
#include <threading/mutex.h>

typedef struct private_cxtp_ar_t private_cxtp_ar_t;

/**
 * Private data of a cxtp_ar_t object.
 */
struct private_cxtp_ar_t {

	/**
	 * Public cxtp_ar_t interface.
	 */
	cxtp_ar_t public;

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
	 * Transport to mobile nodes
	 */
	cxtp_icmp_t *icmp;

	/**
	 * PAD entries of activated contexts
	 */
	cxtp_pad_t *pad;

	/**
	 * CTARs for contexts requested from their pAR with a CT-Req, ctar_t
	 */
	linked_list_t *waiting;

	/**
	 * Serial of the last push or import
	 */
	u_int serial;

	/**
	 * Callback for transfer events, and its data
	 */
	cxtp_event_cb_t event_cb;
	void *event_data;

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
	 * Contexts pushed to a peer, entry_t
	 */
	linked_list_t *pending;

	/**
	 * Contexts received from a peer and imported, entry_t
	 */
	linked_list_t *imported;

	/**
	 * Lock for both lists
	 */
	mutex_t *mutex;
};

/**
 * A context being transferred
 */
typedef struct {
	/** unique ID of the IKE_SA */
	u_int ike_id;
	/** the peer gateway it was pushed to or received from */
	char *peer;
	/** the mobile node's address when the context was captured */
	host_t *mn;
	/** imported: the context, for the activation */
	cxtp_context_t *context;
	/** imported: key of the mobile node's authorization token */
	chunk_t token_key;
	/** tells transfers of the same IKE_SA apart, for their timeouts */
	u_int serial;
} entry_t;

static void entry_destroy(entry_t *entry)
{
	free(entry->peer);
	entry->mn->destroy(entry->mn);
	DESTROY_IF(entry->context);
	chunk_clear(&entry->token_key);
	free(entry);
}

/**
 * Report a transfer step
 */
static void event(private_cxtp_ar_t *this, char *name, u_int ike_id,
				  char *peer, host_t *mn, char *error)
{
	cxtp_event_cb_t cb;
	void *data;

	this->mutex->lock(this->mutex);
	cb = this->event_cb;
	data = this->event_data;
	this->mutex->unlock(this->mutex);
	if (cb)
	{
		cb(data, name, ike_id, peer, mn, error);
	}
}

/**
 * Match an entry by its IKE_SA (and serial, if not 0) or by its mobile node
 */
CALLBACK(match_entry, bool,
	entry_t *entry, va_list args)
{
	host_t *mn;
	u_int ike_id, serial;

	VA_ARGS_VGET(args, ike_id, serial, mn);
	if (ike_id && entry->ike_id == ike_id)
	{
		return !serial || entry->serial == serial;
	}
	return mn && entry->mn->ip_equals(entry->mn, mn);
}

/**
 * Remove the entry of an IKE_SA (of the given push or import, if serial is
 * not 0) or of a mobile node from a list, NULL if none
 */
static entry_t *remove_entry(private_cxtp_ar_t *this, linked_list_t *list,
							 u_int ike_id, u_int serial, host_t *mn)
{
	entry_t *entry = NULL;

	this->mutex->lock(this->mutex);
	if (list->find_first(list, match_entry, (void**)&entry, ike_id, serial,
						 mn))
	{
		list->remove(list, entry, NULL);
	}
	this->mutex->unlock(this->mutex);
	return entry;
}

/**
 * Whether a list has an entry for an IKE_SA
 */
static bool has_entry(private_cxtp_ar_t *this, linked_list_t *list,
					  u_int ike_id)
{
	bool found;

	this->mutex->lock(this->mutex);
	found = list->find_first(list, match_entry, NULL, ike_id, 0, NULL);
	this->mutex->unlock(this->mutex);
	return found;
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
static char *transfer(private_cxtp_ar_t *this, ike_sa_t *ike_sa, char *peer,
					  cxtp_message_type_t type)
{
	cxtp_context_t *context;
	cxtp_message_t *message;
	entry_t *entry;
	chunk_t key;
	char *reason;
	bool ok;

	if (!this->settings->get_peer_address(this->settings, peer))
	{
		return strdup("no such CXTP peer");
	}
	if (has_entry(this, this->pending, ike_sa->get_unique_id(ike_sa)))
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
	INIT(entry,
		.ike_id = ike_sa->get_unique_id(ike_sa),
		.peer = strdup(peer),
		.mn = ike_sa->get_other_host(ike_sa)->clone(
											ike_sa->get_other_host(ike_sa)),
	);
	this->mutex->lock(this->mutex);
	entry->serial = ++this->serial;
	this->pending->insert_last(this->pending, entry);
	this->mutex->unlock(this->mutex);

	/* frozen: a passive IKE_SA starts no exchange and handles none, while
	 * its CHILD_SAs keep carrying traffic */
	ike_sa->set_state(ike_sa, IKE_PASSIVE);
	DBG1(DBG_IKE, "cxtp: %s the context of IKE_SA %s[%u] to peer '%s', "
		 "IKE_SA frozen until it is activated there",
		 type == CXTP_PCTD ? "pushing" : "sending", ike_sa->get_name(ike_sa),
		 entry->ike_id, peer);
	if (!this->transport->send_reliable(this->transport, peer, message,
										entry->ike_id))
	{
		message->destroy(message);
		entry = remove_entry(this, this->pending, entry->ike_id, 0, NULL);
		ike_sa->set_state(ike_sa, IKE_ESTABLISHED);
		entry_destroy(entry);
		return strdup("sending the context failed, see the log");
	}
	message->destroy(message);
	event(this, "export", ike_sa->get_unique_id(ike_sa), peer,
		  ike_sa->get_other_host(ike_sa), NULL);
	return NULL;
}

METHOD(cxtp_ar_t, push, char*,
	private_cxtp_ar_t *this, ike_sa_t *ike_sa, char *peer)
{
	return transfer(this, ike_sa, peer, CXTP_PCTD);
}

/**
 * Thaw a pushed IKE_SA, or remove it once activated elsewhere
 */
static void finish_push(private_cxtp_ar_t *this, entry_t *entry, bool activated)
{
	ike_sa_t *ike_sa;

	this->transport->acknowledge(this->transport, entry->ike_id);
	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													entry->ike_id);
	if (!ike_sa)
	{
		DBG1(DBG_IKE, "cxtp: pushed IKE_SA [%u] is gone", entry->ike_id);
		return;
	}
	if (activated)
	{
		DBG1(DBG_IKE, "cxtp: IKE_SA %s[%u] was activated on peer '%s', "
			 "removing it", ike_sa->get_name(ike_sa), entry->ike_id,
			 entry->peer);
		/* no DELETE: nAR continues the very same SAs */
		charon->ike_sa_manager->checkin_and_destroy(charon->ike_sa_manager,
													ike_sa);
		event(this, "activate", entry->ike_id, entry->peer, entry->mn, NULL);
		return;
	}
	DBG1(DBG_IKE, "cxtp: thawing IKE_SA %s[%u], its transfer to peer '%s' "
		 "failed", ike_sa->get_name(ike_sa), entry->ike_id, entry->peer);
	ike_sa->set_state(ike_sa, IKE_ESTABLISHED);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	event(this, "failure", entry->ike_id, entry->peer, entry->mn,
		  "transfer failed, IKE_SA thawed");
}

/**
 * Timeout for the activation of a pushed or imported context
 */
typedef struct {
	private_cxtp_ar_t *ar;
	u_int ike_id;
	u_int serial;
} handover_t;

CALLBACK(handover_timeout, job_requeue_t,
	handover_t *handover)
{
	private_cxtp_ar_t *this = handover->ar;
	entry_t *entry;

	/* only the push this timer was started for, not a later one */
	entry = remove_entry(this, this->pending, handover->ike_id,
						 handover->serial, NULL);
	if (entry)
	{
		DBG1(DBG_IKE, "cxtp: the context of IKE_SA [%u] was not activated on "
			 "peer '%s' in time", entry->ike_id, entry->peer);
		finish_push(this, entry, FALSE);
		entry_destroy(entry);
	}
	return JOB_REQUEUE_NONE;
}

CALLBACK(import_timeout, job_requeue_t,
	handover_t *handover)
{
	private_cxtp_ar_t *this = handover->ar;
	ike_sa_t *ike_sa;
	entry_t *entry;

	entry = remove_entry(this, this->imported, handover->ike_id,
						 handover->serial, NULL);
	if (!entry)
	{	/* activated, or replaced by a later transfer */
		return JOB_REQUEUE_NONE;
	}
	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													entry->ike_id);
	if (ike_sa && ike_sa->get_state(ike_sa) == IKE_PASSIVE)
	{
		DBG1(DBG_IKE, "cxtp: imported IKE_SA %s[%u] of '%Y' was not activated "
			 "within %us, removing it", ike_sa->get_name(ike_sa),
			 entry->ike_id, entry->context->ike.remote_id,
			 this->settings->get_handover_timeout(this->settings));
		/* passive: nothing installed, no DELETE to send */
		charon->ike_sa_manager->checkin_and_destroy(charon->ike_sa_manager,
													ike_sa);
		event(this, "failure", entry->ike_id, entry->peer, entry->mn,
			  "not activated in time, imported context removed");
	}
	else if (ike_sa)
	{
		charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	}
	entry_destroy(entry);
	return JOB_REQUEUE_NONE;
}

/**
 * Start the activation timeout of a pushed or imported context
 */
static void schedule_timeout(private_cxtp_ar_t *this, entry_t *entry,
							 callback_job_cb_t cb)
{
	handover_t *handover;

	INIT(handover,
		.ar = this,
		.ike_id = entry->ike_id,
		.serial = entry->serial,
	);
	lib->scheduler->schedule_job(lib->scheduler, (job_t*)
			callback_job_create(cb, handover, free, NULL),
			this->settings->get_handover_timeout(this->settings));
}

/**
 * A CTDR from nAR about a context we pushed
 */
static void process_ctdr(private_cxtp_ar_t *this, char *peer,
						 cxtp_message_t *message)
{
	enumerator_t *enumerator;
	cxtp_status_t *status;
	bool activated = FALSE;
	entry_t *entry;

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
		this->mutex->lock(this->mutex);
		enumerator = this->pending->create_enumerator(this->pending);
		while (enumerator->enumerate(enumerator, &entry))
		{
			if (entry->mn->ip_equals(entry->mn, message->get_mn_address(message)))
			{
				DBG1(DBG_IKE, "cxtp: peer '%s' imported the context of "
					 "IKE_SA [%u], waiting %us for its activation", peer,
					 entry->ike_id,
					 this->settings->get_handover_timeout(this->settings));
				this->transport->acknowledge(this->transport, entry->ike_id);
				schedule_timeout(this, entry, handover_timeout);
			}
		}
		enumerator->destroy(enumerator);
		this->mutex->unlock(this->mutex);
		return;
	}
	entry = remove_entry(this, this->pending, 0, 0,
						 message->get_mn_address(message));
	if (!entry)
	{
		DBG1(DBG_IKE, "cxtp: CTDR from peer '%s' for %H matches no pushed "
			 "context, ignored", peer, message->get_mn_address(message));
		return;
	}
	if (!message->get_success(message))
	{
		DBG1(DBG_IKE, "cxtp: peer '%s' could not import the context of "
			 "IKE_SA [%u]", peer, entry->ike_id);
	}
	finish_push(this, entry, message->get_success(message) && activated);
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
 * Answer a CTD with a CTDR
 */
static void send_ctdr(private_cxtp_ar_t *this, char *peer, host_t *mn,
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

static void activate_waiting(private_cxtp_ar_t *this, host_t *mn);
static void process_ctreq(private_cxtp_ar_t *this, char *peer,
						  cxtp_message_t *message);

/**
 * A PCTD/CTD with a context for us
 */
static void process_ctd(private_cxtp_ar_t *this, char *peer,
						cxtp_message_t *message)
{
	host_t *mn = message->get_mn_address(message);
	cxtp_context_t *context;
	entry_t *entry;
	u_int ike_id;

	entry = remove_entry(this, this->imported, 0, 0, mn);
	if (entry)
	{	/* a retransmission, our CTDR got lost */
		this->mutex->lock(this->mutex);
		this->imported->insert_last(this->imported, entry);
		this->mutex->unlock(this->mutex);
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
	ike_id = context ? cxtp_import(context) : 0;
	if (!ike_id)
	{
		DESTROY_IF(context);
		send_ctdr(this, peer, mn, FALSE, CXTP_STATUS_FAILED);
		event(this, "failure", 0, peer, mn, "importing the context failed");
		return;
	}
	INIT(entry,
		.ike_id = ike_id,
		.peer = strdup(peer),
		.mn = mn->clone(mn),
		.context = context,
		.token_key = chunk_clone(message->get_key(message)),
	);
	this->mutex->lock(this->mutex);
	entry->serial = ++this->serial;
	this->imported->insert_last(this->imported, entry);
	this->mutex->unlock(this->mutex);
	/* pAR thaws its copy if no activation follows, so must we drop ours */
	schedule_timeout(this, entry, import_timeout);
	DBG1(DBG_IKE, "cxtp: context of '%Y' at %H from peer '%s' imported as "
		 "IKE_SA [%u]", context->ike.remote_id, mn, peer, ike_id);
	send_ctdr(this, peer, mn, TRUE, 0);
	event(this, "import", ike_id, peer, mn, NULL);
	/* reactive: the mobile node asked for it already */
	activate_waiting(this, mn);
}

/**
 * A CTAR with its addresses
 */
typedef struct {
	private_cxtp_ar_t *ar;
	host_t *src;
	host_t *dst;
	cxtp_message_t *message;
	/** identifier of the CT-Req sent for it, if any */
	uint32_t request;
} ctar_t;

static bool predict(private_cxtp_ar_t *this, ctar_t *ctar);

static void ctar_destroy(ctar_t *ctar)
{
	DESTROY_IF(ctar->src);
	DESTROY_IF(ctar->dst);
	DESTROY_IF(ctar->message);
	free(ctar);
}

/**
 * A received message, handled in a job as it checks out IKE_SAs
 */
typedef struct {
	private_cxtp_ar_t *ar;
	char *peer;
	cxtp_message_t *message;
} received_t;

static void received_destroy(received_t *received)
{
	received->message->destroy(received->message);
	free(received->peer);
	free(received);
}

CALLBACK(process_received, job_requeue_t,
	received_t *received)
{
	private_cxtp_ar_t *this = received->ar;
	cxtp_message_t *message = received->message;

	switch (message->get_type(message))
	{
		case CXTP_PCTD:
		case CXTP_CTD:
			process_ctd(this, received->peer, message);
			break;
		case CXTP_CTDR:
			process_ctdr(this, received->peer, message);
			break;
		case CXTP_CTREQ:
			process_ctreq(this, received->peer, message);
			break;
		default:
			DBG1(DBG_IKE, "cxtp: %N from peer '%s' not supported, ignored",
				 cxtp_message_type_names, message->get_type(message),
				 received->peer);
			break;
	}
	return JOB_REQUEUE_NONE;
}

CALLBACK(receive, void,
	private_cxtp_ar_t *this, char *peer, host_t *from, cxtp_message_t *message)
{
	received_t *received;

	DBG2(DBG_IKE, "cxtp: received %N from peer '%s' (%#H) for %H",
		 cxtp_message_type_names, message->get_type(message), peer, from,
		 message->get_mn_address(message));
	INIT(received,
		.ar = this,
		.peer = strdup(peer),
		.message = message,
	);
	lib->processor->queue_job(lib->processor, (job_t*)
				callback_job_create(process_received, received,
									(void*)received_destroy, NULL));
}

CALLBACK(timeout, void,
	private_cxtp_ar_t *this, char *peer, uint32_t id)
{
	enumerator_t *enumerator;
	ctar_t *ctar, *found = NULL;
	entry_t *entry;

	this->mutex->lock(this->mutex);
	enumerator = this->waiting->create_enumerator(this->waiting);
	while (enumerator->enumerate(enumerator, &ctar))
	{
		if (ctar->request == id)
		{
			this->waiting->remove_at(this->waiting, enumerator);
			found = ctar;
			break;
		}
	}
	enumerator->destroy(enumerator);
	this->mutex->unlock(this->mutex);
	if (found)
	{
		DBG1(DBG_IKE, "cxtp: peer '%s' sent no context for the CTAR of %H",
			 peer, found->message->get_mn_address(found->message));
		ctar_destroy(found);
		return;
	}
	entry = remove_entry(this, this->pending, id, 0, NULL);
	if (entry)
	{
		DBG1(DBG_IKE, "cxtp: peer '%s' did not answer for the context of "
			 "IKE_SA [%u]", peer, id);
		finish_push(this, entry, FALSE);
		entry_destroy(entry);
	}
}

/**
 * Whether a CTAR repeats the last one with a valid token
 */
static bool is_duplicate(private_cxtp_ar_t *this, cxtp_message_t *message)
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

/**
 * Remember a CTAR whose token was valid, its retransmissions are duplicates;
 * remembering unverified ones would let a forged CTAR with a sequence number
 * seen on pAR's link block the mobile node's own
 */
static void remember_ctar(private_cxtp_ar_t *this, cxtp_message_t *message)
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
static bool check_ctar(private_cxtp_ar_t *this, cxtp_message_t *message,
					   bool *valid)
{
	enumerator_t *enumerator;
	entry_t *entry;
	bool known = FALSE;

	*valid = FALSE;
	this->mutex->lock(this->mutex);
	enumerator = this->imported->create_enumerator(this->imported);
	while (enumerator->enumerate(enumerator, &entry))
	{
		if (entry->mn->ip_equals(entry->mn, message->get_mn_address(message)))
		{
			known = TRUE;
			*valid = message->verify_token(message, entry->token_key);
			break;
		}
	}
	enumerator->destroy(enumerator);
	this->mutex->unlock(this->mutex);
	if (known && !*valid)
	{
		DBG1(DBG_IKE, "cxtp: CTAR for %H has an invalid authorization "
			 "token, ignored", message->get_mn_address(message));
		event(this, "failure", 0, NULL, message->get_mn_address(message),
			  "CTAR with an invalid authorization token");
	}
	return known;
}

/**
 * Activate the imported context a CTAR with a valid token asks for
 */
static void activate(private_cxtp_ar_t *this, ctar_t *ctar)
{
	cxtp_message_t *message = ctar->message, *reply;
	ike_sa_t *ike_sa;
	entry_t *entry;
	bool ok = FALSE;

	/* the token key is used once: the entry goes whatever happens next */
	entry = remove_entry(this, this->imported, 0, 0,
						 message->get_mn_address(message));
	if (!entry)
	{
		return;
	}
	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													entry->ike_id);
	if (ike_sa)
	{
		charon->bus->set_sa(charon->bus, ike_sa);
		ok = cxtp_activate(ike_sa, entry->context, ctar->dst, ctar->src,
						   this->settings->get_seq_jump(this->settings));
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
		this->icmp->send(this->icmp, ctar->dst, ctar->src, reply);
		reply->destroy(reply);
	}
	send_ctdr(this, entry->peer, entry->mn, ok,
			  ok ? CXTP_STATUS_ACTIVATED : CXTP_STATUS_FAILED);
	event(this, ok ? "activate" : "failure", entry->ike_id, entry->peer,
		  entry->mn, ok ? NULL : "activating the context failed");
	entry_destroy(entry);
}

/**
 * Ask the pAR a CTAR names for the context (reactive transfer), keeping
 * the CTAR until the context arrives
 */
static void request_context(private_cxtp_ar_t *this, ctar_t *ctar)
{
	cxtp_message_t *message = ctar->message, *request;
	host_t *par = message->get_ar_address(message);
	enumerator_t *enumerator;
	ctar_t *waiting;
	bool duplicate = FALSE;
	uint32_t id;
	char *peer;

	peer = par ? this->settings->find_peer(this->settings, par) : NULL;
	if (!peer)
	{
		DBG1(DBG_IKE, "cxtp: CTAR for %H names %H as previous access router, "
			 "which is no CXTP peer, ignored",
			 message->get_mn_address(message), par);
		return;
	}
	this->mutex->lock(this->mutex);
	enumerator = this->waiting->create_enumerator(this->waiting);
	while (enumerator->enumerate(enumerator, &waiting))
	{
		if (waiting->message->get_mn_address(waiting->message)->ip_equals(
					waiting->message->get_mn_address(waiting->message),
					message->get_mn_address(message)) &&
			waiting->message->get_sequence(waiting->message) ==
										message->get_sequence(message) &&
			waiting->message->get_token(waiting->message) ==
										message->get_token(message))
		{
			duplicate = TRUE;
			break;
		}
	}
	enumerator->destroy(enumerator);
	id = 0x80000000 | (++this->requests & 0x7fffffff);
	this->mutex->unlock(this->mutex);
	if (duplicate)
	{
		DBG1(DBG_IKE, "cxtp: duplicate CTAR %u for %H ignored, its context "
			 "was requested from peer '%s'", message->get_sequence(message),
			 message->get_mn_address(message), peer);
		return;
	}
	request = cxtp_message_create(CXTP_CTREQ,
								  message->get_mn_address(message));
	request->set_sequence(request, message->get_sequence(message));
	request->set_token(request, message->get_token(message));
	INIT(waiting,
		.ar = this,
		.src = ctar->src,
		.dst = ctar->dst,
		.message = message,
		/* apart from the IKE_SA IDs pushes use */
		.request = id,
	);
	ctar->src = ctar->dst = NULL;
	ctar->message = NULL;
	this->mutex->lock(this->mutex);
	this->waiting->insert_last(this->waiting, waiting);
	this->mutex->unlock(this->mutex);
	DBG1(DBG_IKE, "cxtp: no context for %H, requesting it from peer '%s'",
		 waiting->message->get_mn_address(waiting->message), peer);
	this->transport->send_reliable(this->transport, peer, request,
								   waiting->request);
	request->destroy(request);
}

/**
 * Activate a context that arrived for a CTAR waiting for it
 */
static void activate_waiting(private_cxtp_ar_t *this, host_t *mn)
{
	enumerator_t *enumerator;
	linked_list_t *found;
	ctar_t *ctar;
	bool valid;

	/* a forged CTAR may wait beside the mobile node's own, its token
	 * decides which one activates */
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
	while (found->remove_first(found, (void**)&ctar) == SUCCESS)
	{
		this->transport->acknowledge(this->transport, ctar->request);
		if (check_ctar(this, ctar->message, &valid) && valid)
		{
			remember_ctar(this, ctar->message);
			activate(this, ctar);
		}
		ctar_destroy(ctar);
	}
	found->destroy(found);
}

/**
 * Send the context of the IKE_SA we hold with a mobile node to a peer, if
 * the CTAR or CT-Req asking for it carries the node's valid token.
 *
 * @return			FALSE if we hold no IKE_SA with the mobile node
 */
static bool transfer_for(private_cxtp_ar_t *this, char *peer,
						 cxtp_message_t *message, cxtp_message_type_t type)
{
	host_t *mn = message->get_mn_address(message);
	enumerator_t *enumerator;
	ike_sa_t *ike_sa;
	chunk_t key;
	u_int ike_id = 0;
	char *reason;
	bool valid = FALSE;

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
	ike_sa = ike_id ? charon->ike_sa_manager->checkout_by_id(
									charon->ike_sa_manager, ike_id) : NULL;
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

/**
 * A CT-Req from nAR for the context of a mobile node that moved there
 */
static void process_ctreq(private_cxtp_ar_t *this, char *peer,
						  cxtp_message_t *message)
{
	if (!transfer_for(this, peer, message, CXTP_CTD))
	{
		DBG1(DBG_IKE, "cxtp: CT-Req from peer '%s' for %H, but we hold no "
			 "IKE_SA with it, ignored", peer, message->get_mn_address(message));
	}
}

/**
 * A CTAR from a mobile node still attached to us, naming the access router
 * it is about to move to: push its context there (predictive transfer
 * started by the mobile node)
 */
static bool predict(private_cxtp_ar_t *this, ctar_t *ctar)
{
	cxtp_message_t *message = ctar->message;
	host_t *nar = message->get_ar_address(message);
	char *peer;

	peer = nar ? this->settings->find_peer(this->settings, nar) : NULL;
	if (!peer)
	{
		return FALSE;
	}
	return transfer_for(this, peer, message, CXTP_PCTD);
}

METHOD(cxtp_ar_t, process_ctar, void,
	private_cxtp_ar_t *this, host_t *src, host_t *dst, cxtp_message_t *message)
{
	ctar_t *ctar;
	bool valid;

	INIT(ctar,
		.ar = this,
		.src = src->clone(src),
		.dst = dst->clone(dst),
		.message = message,
	);
	if (is_duplicate(this, message))
	{
		DBG1(DBG_IKE, "cxtp: duplicate CTAR %u for %H ignored",
			 message->get_sequence(message), message->get_mn_address(message));
	}
	else if (!check_ctar(this, message, &valid))
	{
		if (!predict(this, ctar))
		{
			request_context(this, ctar);
		}
	}
	else if (valid)
	{
		remember_ctar(this, message);
		activate(this, ctar);
	}
	ctar_destroy(ctar);
}

METHOD(cxtp_ar_t, get_state, char*,
	private_cxtp_ar_t *this, ike_sa_t *ike_sa)
{
	u_int id = ike_sa->get_unique_id(ike_sa);

	if (has_entry(this, this->pending, id))
	{
		return "pending";
	}
	if (has_entry(this, this->imported, id))
	{
		return "imported";
	}
	return NULL;
}

METHOD(cxtp_ar_t, set_event_cb, void,
	private_cxtp_ar_t *this, cxtp_event_cb_t cb, void *data)
{
	this->mutex->lock(this->mutex);
	this->event_cb = cb;
	this->event_data = data;
	this->mutex->unlock(this->mutex);
}

METHOD(cxtp_ar_t, destroy, void,
	private_cxtp_ar_t *this)
{
	this->transport->destroy(this->transport);
	this->pending->destroy_function(this->pending, (void*)entry_destroy);
	this->imported->destroy_function(this->imported, (void*)entry_destroy);
	this->waiting->destroy_function(this->waiting, (void*)ctar_destroy);
	DESTROY_IF(this->last_ctar_mn);
	this->mutex->destroy(this->mutex);
	free(this);
}

/*
 * Described in header
 */
cxtp_ar_t *cxtp_ar_create_with_transport(cxtp_capture_t *capture,
										 cxtp_transfers_t *transfers,
										 cxtp_settings_t *settings,
										 cxtp_icmp_t *icmp, cxtp_pad_t *pad,
										 cxtp_ar_transport_create_t create,
										 void *data)
{
	private_cxtp_ar_t *this;

	INIT(this,
		.public = {
			.push = _push,
			.process_ctar = _process_ctar,
			.get_state = _get_state,
			.set_event_cb = _set_event_cb,
			.destroy = _destroy,
		},
		.capture = capture,
		.transfers = transfers,
		.settings = settings,
		.icmp = icmp,
		.pad = pad,
		.pending = linked_list_create(),
		.imported = linked_list_create(),
		.waiting = linked_list_create(),
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
	);
	this->transport = create(data, receive, this);
	if (!this->transport)
	{
		DBG1(DBG_NET, "cxtp: unable to listen for other access routers");
		this->pending->destroy(this->pending);
		this->imported->destroy(this->imported);
		this->waiting->destroy(this->waiting);
		this->mutex->destroy(this->mutex);
		free(this);
		return NULL;
	}
	this->transport->set_timeout_cb(this->transport, timeout, this);
	return &this->public;
}

/**
 * The UDP transport between access routers
 */
static cxtp_transport_t *create_udp(void *data, cxtp_transport_receive_cb_t cb,
									void *cb_data)
{
	return cxtp_transport_create(data, cb, cb_data);
}

/*
 * Described in header
 */
cxtp_ar_t *cxtp_ar_create(cxtp_capture_t *capture,
						  cxtp_transfers_t *transfers,
						  cxtp_settings_t *settings, cxtp_icmp_t *icmp,
						  cxtp_pad_t *pad)
{
	return cxtp_ar_create_with_transport(capture, transfers, settings, icmp,
										 pad, create_udp, settings);
}
