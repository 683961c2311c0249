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
#include "cxtp_held.h"
#include "cxtp_ike_request.h"
#include "cxtp_import.h"
#include "cxtp_notice.h"
#include "cxtp_options.h"
#include "cxtp_token.h"

#include <inttypes.h>

#include <daemon.h>
#include <collections/linked_list.h>
#include <processing/jobs/callback_job.h>
#include <processing/jobs/process_message_job.h>
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
	 * Contexts received from a peer and imported as passive IKE_SAs, and
	 * what became of them, entry_t
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
	 * Number of CTARs waiting for their context at most
	 */
	u_int max_waiting;

	/**
	 * CTARs dropped as too many waited, since the last notice and in all,
	 * and the time of the notice
	 */
	u_int waiting_dropped;
	uint64_t waiting_dropped_total;
	time_t waiting_log;

	/**
	 * IKE messages that did not activate an import
	 */
	cxtp_notice_t *refused;

	/**
	 * IKE requests for IKE_SAs we do not hold, whose context we fetch
	 */
	cxtp_held_t *held;

	/**
	 * IKE requests for IKE_SAs we do not hold that we fetch no context for
	 */
	cxtp_notice_t *unfetched;

	/**
	 * Protects the waiting CTARs and the CT-Req identifiers
	 */
	mutex_t *mutex;

	/**
	 * Serializes PCTDs, CTDs and CTCs: two copies of a PCTD imported at once
	 * would collide, and pAR thaw on the failure of the second
	 */
	mutex_t *transfer_mutex;
};

/**
 * What became of a transfer
 */
typedef enum {
	/** imported as a passive IKE_SA, waiting for the activation */
	STATE_IMPORTED,
	/** a CTAR activates it right now */
	STATE_ACTIVATING,
	/** activated, remembered while its IKE_SA lives */
	STATE_ACTIVATED,
	/** withdrawn, expired or failed, remembered */
	STATE_CANCELLED,
	/** dropped for a new IKE_SA the mobile node set up here, remembered */
	STATE_SUPERSEDED,
} state_t;

ENUM(state_names, STATE_IMPORTED, STATE_SUPERSEDED,
	"imported",
	"activating",
	"activated",
	"cancelled",
	"superseded",
);

/**
 * A context imported as a passive IKE_SA, or what became of it
 */
typedef struct {
	/** IKE_SA here (0 once cancelled), peer it came from, mobile node */
	cxtp_handover_t handover;
	/** what became of it */
	state_t state;
	/** the context, for the activation, while imported */
	cxtp_context_t *context;
	/** key of the mobile node's authorization token, while imported, and
	 * activated to answer the CTAR's retransmissions */
	chunk_t token_key;
	/** sequence number of the CTAR that activated it */
	uint32_t sequence;
	/** when it was imported */
	time_t imported;
	/** the IKE request we fetched it for, if any */
	chunk_t request;
} entry_t;

/**
 * Forget the context and token key of an entry
 */
static void entry_forget(entry_t *entry)
{
	DESTROY_IF(entry->context);
	entry->context = NULL;
	chunk_clear(&entry->token_key);
}

static void entry_destroy(entry_t *entry)
{
	chunk_free(&entry->request);
	free(entry->handover.peer);
	entry->handover.mn->destroy(entry->handover.mn);
	entry_forget(entry);
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
	/** the peer the CT-Req went to */
	char *peer;
} ctar_t;

static void ctar_destroy(ctar_t *ctar)
{
	free(ctar->peer);
	ctar->src->destroy(ctar->src);
	ctar->dst->destroy(ctar->dst);
	ctar->message->destroy(ctar->message);
	free(ctar);
}

/**
 * How long pAR may still ask about a transfer: until its handover_timeout
 * after the import, then a CTC retransmitted as long as the transport does,
 * after a PCTD retransmitted as long
 */
static uint32_t retention(private_cxtp_nar_t *this)
{
	uint64_t total;

	total = this->settings->get_handover_timeout(this->settings) +
			2 * (uint64_t)cxtp_transport_give_up_time(this->settings);
	return min(total, UINT32_MAX);
}

/**
 * Answer a PCTD/CTD or CTC with a CTDR, or report an activation with one
 */
static void send_ctdr(private_cxtp_nar_t *this, char *peer, host_t *mn,
					  cxtp_transfer_id_t *id, bool success, uint8_t status)
{
	cxtp_message_t *reply;

	reply = cxtp_message_create(CXTP_CTDR, mn);
	reply->set_success(reply, success);
	reply->set_transfer_id(reply, id);
	if (status)
	{
		reply->add_status(reply, CXTP_FPT_IKE_SA, status);
	}
	this->transport->send(this->transport, peer, reply);
	reply->destroy(reply);
}

/**
 * Send a CTAA for a CTAR from src to dst, authenticated with the token key
 * if we have it, with a status for the IKE_SA if not zero
 */
static void send_ctaa(private_cxtp_nar_t *this, host_t *src, host_t *dst,
					  cxtp_message_t *message, chunk_t key, uint8_t status)
{
	cxtp_message_t *reply;

	reply = cxtp_message_create(CXTP_CTAA, message->get_mn_address(message));
	if (status)
	{
		reply->add_status(reply, CXTP_FPT_IKE_SA, status);
	}
	reply->set_sequence(reply, message->get_sequence(message));
	if (key.len && !reply->sign_ctaa(reply, key, dst, src))
	{
		DBG1(DBG_IKE, "cxtp: authenticating the CTAA for %H failed",
			 message->get_mn_address(message));
	}
	this->icmp->send(this->icmp, dst, src, reply);
	reply->destroy(reply);
}

/**
 * Tell a mobile node whose CTAR we cannot activate that its context was not
 * transferred, so it does not keep a tunnel that carries nothing (RFC 4067
 * lists the feature profiles not transferred in the CTAA); without the token
 * key the node cannot authenticate it and retries until its own limit
 */
static void send_refusal(private_cxtp_nar_t *this, host_t *src, host_t *dst,
						 cxtp_message_t *message, chunk_t key)
{
	DBG1(DBG_IKE, "cxtp: refused the CTAR of %H, its context was not "
		 "transferred, sending a CTAA saying so",
		 message->get_mn_address(message));
	send_ctaa(this, src, dst, message, key, CXTP_STATUS_FAILED);
}

/**
 * Remove a passive IKE_SA we imported; passive: nothing installed, no DELETE
 * to send
 */
static void drop_passive(u_int ike_id)
{
	ike_sa_t *ike_sa;

	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													ike_id);
	if (ike_sa && ike_sa->get_state(ike_sa) == IKE_PASSIVE)
	{
		charon->ike_sa_manager->checkin_and_destroy(charon->ike_sa_manager,
													ike_sa);
	}
	else if (ike_sa)
	{
		charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	}
}

/**
 * A copy of what names a transfer, to use after unlocking
 */
typedef struct {
	u_int serial;
	u_int ike_id;
	char *peer;
	host_t *mn;
	cxtp_transfer_id_t id;
	state_t state;
} ref_t;

static void ref_init(ref_t *ref, entry_t *entry)
{
	*ref = (ref_t){
		.serial = entry->handover.serial,
		.ike_id = entry->handover.ike_id,
		.peer = strdup(entry->handover.peer),
		.mn = entry->handover.mn->clone(entry->handover.mn),
		.id = entry->handover.id,
		.state = entry->state,
	};
}

static void ref_clear(ref_t *ref)
{
	free(ref->peer);
	DESTROY_IF(ref->mn);
	*ref = (ref_t){};
}

/**
 * Turn an entry into a record of a cancelled transfer, locked
 */
static void cancel_entry(entry_t *entry)
{
	entry->state = STATE_CANCELLED;
	entry->handover.ike_id = 0;
	entry_forget(entry);
}

/**
 * Remember what became of a transfer for a while
 */
static void remember(private_cxtp_nar_t *this, u_int serial);

/**
 * An imported context not activated in time: remove it, and let pAR know
 * it may thaw its copy
 */
static void expire_import(private_cxtp_nar_t *this, ref_t *ref)
{
	char timeout[32];

	DBG1(DBG_IKE, "cxtp: imported IKE_SA [%u] of transfer %u from peer '%s' "
		 "was not activated within %s, removing it", ref->ike_id,
		 ref->id.serial, ref->peer, cxtp_options_print_time(
				this->settings->get_handover_timeout(this->settings),
				timeout, sizeof(timeout)));
	drop_passive(ref->ike_id);
	send_ctdr(this, ref->peer, ref->mn, &ref->id, TRUE, CXTP_STATUS_CANCELLED);
	this->imported->event(this->imported, CXTP_EVENT_FAILURE, ref->ike_id,
						  ref->peer, ref->mn,
						  "not activated in time, imported context removed");
	remember(this, ref->serial);
}

CALLBACK(entry_timeout, void,
	private_cxtp_nar_t *this, u_int serial)
{
	enumerator_t *enumerator;
	entry_t *entry;
	ref_t ref = {};
	bool expired = FALSE, forget = FALSE;

	enumerator = this->imported->create_serial_enumerator(this->imported,
														  serial);
	while (enumerator->enumerate(enumerator, &entry))
	{
		switch (entry->state)
		{
			case STATE_IMPORTED:
				ref_init(&ref, entry);
				cancel_entry(entry);
				expired = TRUE;
				break;
			case STATE_ACTIVATED:
			case STATE_CANCELLED:
			case STATE_SUPERSEDED:
				forget = TRUE;
				break;
			case STATE_ACTIVATING:
				/* its activation remembers it */
				break;
		}
		break;
	}
	enumerator->destroy(enumerator);
	if (expired)
	{
		expire_import(this, &ref);
		ref_clear(&ref);
	}
	else if (forget)
	{
		entry = (entry_t*)this->imported->remove(this->imported, serial);
		if (entry)
		{
			entry_destroy(entry);
		}
	}
}

static void remember(private_cxtp_nar_t *this, u_int serial)
{
	this->imported->schedule(this->imported, serial, retention(this),
							 entry_timeout, this);
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
 * Whether a CTAR's token (sent from src to dst) is valid for an imported
 * context: with the token key pAR sent, or, as the mobile node counts every
 * attempt and pAR's push did not see those that failed before it, with the
 * key of one of the next counters, derived from the context's SK_d
 *
 * @param key		receives the key it is valid with
 * @param counter	receives the transfer counter of that key
 */
static bool token_valid(entry_t *entry, cxtp_message_t *message, host_t *src,
						host_t *dst, chunk_t *key, uint32_t *counter)
{
	cxtp_ike_context_t *ike = &entry->context->ike;
	chunk_t derived;
	uint32_t i;

	if (message->verify_token(message, entry->token_key, src, dst))
	{
		*key = chunk_clone(entry->token_key);
		*counter = ike->transfers;
		return TRUE;
	}
	for (i = 1; i < CXTP_TOKEN_WINDOW; i++)
	{
		if (!cxtp_token_derive_key(ike->prf_alg, ike->keys.sk_d, ike->spi_i,
								   ike->spi_r, ike->transfers + i, &derived))
		{
			break;
		}
		if (message->verify_token(message, derived, src, dst))
		{
			*key = derived;
			*counter = ike->transfers + i;
			return TRUE;
		}
		chunk_clear(&derived);
	}
	return FALSE;
}

/**
 * Find the imported context a CTAR's token (sent from src to dst) is valid
 * for and start its activation, taking its context; the node may have
 * contexts of several IKE_SAs imported, the token tells them apart. A copy
 * with another source or destination fails the token and changes nothing.
 *
 * @param ref		receives the transfer, if found
 * @param context	receives its context, if found
 * @param key		receives a copy of its token key, if found
 * @param counter	receives the transfer counter of its token key
 * @return			FALSE if no context for the mobile node is imported
 */
static bool select_import(private_cxtp_nar_t *this, host_t *src, host_t *dst,
						  cxtp_message_t *message, ref_t *ref,
						  cxtp_context_t **context, chunk_t *key,
						  uint32_t *counter)
{
	enumerator_t *enumerator;
	entry_t *entry;
	bool known = FALSE;

	*context = NULL;
	enumerator = this->imported->create_enumerator(this->imported,
											message->get_mn_address(message));
	while (enumerator->enumerate(enumerator, &entry))
	{
		if (entry->state != STATE_IMPORTED)
		{
			continue;
		}
		known = TRUE;
		if (token_valid(entry, message, src, dst, key, counter))
		{
			/* the key stays to answer retransmissions of this CTAR */
			ref_init(ref, entry);
			entry->state = STATE_ACTIVATING;
			entry->sequence = message->get_sequence(message);
			*context = entry->context;
			entry->context = NULL;
			chunk_clear(&entry->token_key);
			entry->token_key = chunk_clone(*key);
			break;
		}
	}
	enumerator->destroy(enumerator);
	if (known && !*context)
	{
		DBG1(DBG_IKE, "cxtp: CTAR for %H has an invalid authorization "
			 "token, ignored (from %H to %H)", message->get_mn_address(message),
			 src, dst);
		this->imported->event(this->imported, CXTP_EVENT_FAILURE, 0, NULL,
							  message->get_mn_address(message),
							  "CTAR with an invalid authorization token");
	}
	return known;
}

/**
 * Remaining lifetimes of a context shrink while it waits for its activation,
 * as they do on pAR; what fell due meanwhile is due at once
 */
static void age_context(cxtp_context_t *context, time_t imported)
{
	enumerator_t *enumerator;
	cxtp_child_context_t *child;
	uint32_t elapsed, *times[3];
	int i;

	elapsed = time_monotonic(NULL) - imported;
	if (!elapsed)
	{
		return;
	}
	times[0] = &context->ike.rekey_time;
	times[1] = &context->ike.reauth_time;
	times[2] = &context->ike.delete_time;
	for (i = 0; i < countof(times); i++)
	{
		if (*times[i])
		{
			*times[i] = *times[i] > elapsed ? *times[i] - elapsed : 1;
		}
	}
	enumerator = context->children->create_enumerator(context->children);
	while (enumerator->enumerate(enumerator, &child))
	{
		if (child->rekey_time)
		{
			child->rekey_time = child->rekey_time > elapsed ?
								child->rekey_time - elapsed : 1;
		}
		if (child->expire_time)
		{
			child->expire_time = child->expire_time > elapsed ?
								 child->expire_time - elapsed : 1;
		}
	}
	enumerator->destroy(enumerator);
}

/**
 * Install the context of an import on its IKE_SA, checked out, at the mobile
 * node's new address
 *
 * @param counter	transfer counter the node uses for its next token
 * @param by_peer	TRUE if the node's own IKE request activates it
 * @return			TRUE if activated, FALSE if the IKE_SA stays passive
 */
static bool activate_ike_sa(private_cxtp_nar_t *this, ike_sa_t *ike_sa,
							ref_t *ref, cxtp_context_t *context, host_t *local,
							host_t *remote, uint32_t counter, bool by_peer)
{
	enumerator_t *enumerator;
	entry_t *entry;
	time_t imported = 0;

	enumerator = this->imported->create_serial_enumerator(this->imported,
														  ref->serial);
	if (enumerator->enumerate(enumerator, &entry))
	{
		imported = entry->imported;
	}
	enumerator->destroy(enumerator);
	age_context(context, imported);

	if (!cxtp_activate(ike_sa, context, local, remote, this->settings,
					   by_peer))
	{
		return FALSE;
	}
	this->transfers->set_transfers(this->transfers, ike_sa, counter);
	this->pad->add(this->pad, context);
	return TRUE;
}

/**
 * Record what became of an activation, remembered for a while
 */
static void activation_done(private_cxtp_nar_t *this, ref_t *ref, bool ok)
{
	enumerator_t *enumerator;
	entry_t *entry;

	enumerator = this->imported->create_serial_enumerator(this->imported,
														  ref->serial);
	if (enumerator->enumerate(enumerator, &entry))
	{
		if (ok)
		{
			entry->state = STATE_ACTIVATED;
		}
		else
		{
			cancel_entry(entry);
		}
	}
	enumerator->destroy(enumerator);
	remember(this, ref->serial);
}

/**
 * Tell pAR what became of an activation: it removes its copy without a
 * DELETE, or thaws it
 */
static void report_activation(private_cxtp_nar_t *this, ref_t *ref, bool ok)
{
	send_ctdr(this, ref->peer, ref->mn, &ref->id, ok,
			  ok ? CXTP_STATUS_ACTIVATED : CXTP_STATUS_FAILED);
	this->imported->event(this->imported,
						  ok ? CXTP_EVENT_ACTIVATE : CXTP_EVENT_FAILURE,
						  ref->ike_id, ref->peer, ref->mn,
						  ok ? NULL : "activating the context failed");
}

/**
 * Check out the IKE_SA of an import and activate it, see activate_ike_sa();
 * it goes if that fails
 */
static bool activate_by_id(private_cxtp_nar_t *this, ref_t *ref,
						   cxtp_context_t *context, host_t *local,
						   host_t *remote, uint32_t counter, bool by_peer)
{
	ike_sa_t *ike_sa;
	bool ok = FALSE;

	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													ref->ike_id);
	if (ike_sa)
	{
		charon->bus->set_sa(charon->bus, ike_sa);
		ok = activate_ike_sa(this, ike_sa, ref, context, local, remote,
							 counter, by_peer);
		if (ok)
		{
			charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
		}
		else
		{
			charon->ike_sa_manager->checkin_and_destroy(charon->ike_sa_manager,
														ike_sa);
		}
		charon->bus->set_sa(charon->bus, NULL);
	}
	return ok;
}

/**
 * Activate the imported context a CTAR with a valid token selected
 */
static void activate(private_cxtp_nar_t *this, host_t *src, host_t *dst,
					 cxtp_message_t *message, ref_t *ref,
					 cxtp_context_t *context, chunk_t key, uint32_t counter)
{
	bool ok;

	ok = activate_by_id(this, ref, context, dst, src, counter + 1, FALSE);
	context->destroy(context);
	activation_done(this, ref, ok);

	if (ok && message->get_ack(message))
	{
		send_ctaa(this, src, dst, message, key, 0);
	}
	else if (!ok)
	{
		send_refusal(this, src, dst, message, key);
	}
	report_activation(this, ref, ok);
}

/**
 * Activate the context a valid CTAR asks for, if imported
 *
 * @return			FALSE if no context for the mobile node is imported
 */
static bool activate_for(private_cxtp_nar_t *this, host_t *src, host_t *dst,
						 cxtp_message_t *message)
{
	cxtp_context_t *context;
	chunk_t key = chunk_empty;
	uint32_t counter = 0;
	ref_t ref = {};

	if (!select_import(this, src, dst, message, &ref, &context, &key,
					   &counter))
	{
		return FALSE;
	}
	if (context)
	{
		activate(this, src, dst, message, &ref, context, key, counter);
		ref_clear(&ref);
		chunk_clear(&key);
	}
	return TRUE;
}

/**
 * Take the CTARs waiting for a mobile node's context (from a peer, NULL for
 * any) out of the queue, their CT-Req answered
 */
static linked_list_t *take_waiting(private_cxtp_nar_t *this, host_t *mn,
								   char *peer)
{
	enumerator_t *enumerator;
	linked_list_t *found;
	ctar_t *ctar;

	found = linked_list_create();
	this->mutex->lock(this->mutex);
	enumerator = this->waiting->create_enumerator(this->waiting);
	while (enumerator->enumerate(enumerator, &ctar))
	{
		if ((!peer || streq(ctar->peer, peer)) &&
			mn->ip_equals(mn, ctar->message->get_mn_address(ctar->message)))
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

	/* a forged CTAR may wait beside the mobile node's own, its token
	 * decides which one activates */
	found = take_waiting(this, mn, NULL);
	while (found->remove_first(found, (void**)&ctar) == SUCCESS)
	{
		activate_for(this, ctar->src, ctar->dst, ctar->message);
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

	found = take_waiting(this, mn, NULL);
	while (found->remove_first(found, (void**)&ctar) == SUCCESS)
	{
		if (key.len && ctar->message->verify_token(ctar->message, key,
												   ctar->src, ctar->dst))
		{
			send_refusal(this, ctar->src, ctar->dst, ctar->message, key);
		}
		ctar_destroy(ctar);
	}
	found->destroy(found);
}

/**
 * What we know of a transfer a PCTD/CTD or CTC names
 */
typedef enum {
	/** nothing */
	KNOWN_NOTHING,
	/** this very transfer, its state in the ref */
	KNOWN_TRANSFER,
	/** its IKE_SA is live here, activated from an earlier transfer */
	KNOWN_LIVE,
	/** its IKE_SA is being activated from another transfer right now */
	KNOWN_ACTIVATING,
} known_t;

/**
 * Look up a transfer, and its IKE_SA, among ours; with replace, an older
 * import of the same IKE_SA is cancelled and returned in older, unless the
 * transfer or its live IKE_SA is known here
 */
static known_t lookup(private_cxtp_nar_t *this, char *peer,
					  cxtp_transfer_id_t *id, ref_t *ref, bool replace,
					  ref_t *older)
{
	enumerator_t *enumerator;
	entry_t *entry;
	known_t known = KNOWN_NOTHING;

	enumerator = this->imported->create_id_enumerator(this->imported, id);
	while (enumerator->enumerate(enumerator, &entry))
	{
		if (entry->handover.id.serial == id->serial &&
			streq(entry->handover.peer, peer))
		{
			ref_init(ref, entry);
			known = KNOWN_TRANSFER;
			break;
		}
		if (entry->state == STATE_ACTIVATED)
		{
			known = KNOWN_LIVE;
		}
		else if (entry->state == STATE_ACTIVATING && known != KNOWN_LIVE)
		{
			known = KNOWN_ACTIVATING;
		}
	}
	enumerator->destroy(enumerator);
	if (known != KNOWN_NOTHING || !replace)
	{
		return known;
	}
	enumerator = this->imported->create_id_enumerator(this->imported, id);
	while (enumerator->enumerate(enumerator, &entry))
	{
		if (entry->state == STATE_IMPORTED)
		{
			ref_init(older, entry);
			cancel_entry(entry);
			break;
		}
	}
	enumerator->destroy(enumerator);
	return known;
}

/**
 * Answer a PCTD/CTD we know about: a retransmission (our CTDR got lost),
 * or one for an IKE_SA live here
 *
 * @return			TRUE if answered
 */
static bool answer_known(private_cxtp_nar_t *this, char *peer, host_t *mn,
						 cxtp_transfer_id_t *id, known_t known, ref_t *ref)
{
	switch (known)
	{
		case KNOWN_TRANSFER:
			switch (ref->state)
			{
				case STATE_IMPORTED:
					send_ctdr(this, peer, mn, id, TRUE, 0);
					break;
				case STATE_ACTIVATED:
					send_ctdr(this, peer, mn, id, TRUE, CXTP_STATUS_ACTIVATED);
					break;
				case STATE_CANCELLED:
					DBG1(DBG_IKE, "cxtp: transfer %u from peer '%s' for %H "
						 "ended here already, refused", id->serial, peer, mn);
					send_ctdr(this, peer, mn, id, TRUE, CXTP_STATUS_CANCELLED);
					break;
				case STATE_SUPERSEDED:
					DBG1(DBG_IKE, "cxtp: transfer %u from peer '%s' for %H "
						 "was superseded here already, refused", id->serial,
						 peer, mn);
					send_ctdr(this, peer, mn, id, TRUE,
							  CXTP_STATUS_SUPERSEDED);
					break;
				case STATE_ACTIVATING:
					/* answered once activated */
					break;
			}
			return TRUE;
		case KNOWN_LIVE:
			DBG1(DBG_IKE, "cxtp: transfer %u from peer '%s' is of an IKE_SA "
				 "activated here already", id->serial, peer);
			send_ctdr(this, peer, mn, id, TRUE, CXTP_STATUS_ACTIVATED);
			return TRUE;
		case KNOWN_ACTIVATING:
			/* pAR retransmits, by then we know */
			return TRUE;
		case KNOWN_NOTHING:
		default:
			return FALSE;
	}
}

/**
 * Process an IKE request held for the context just imported, as it had
 * arrived now: it reaches the passive IKE_SA, whose alert activates it if
 * the request verifies with the transferred keys, as a pushed one would be
 */
static void process_held(private_cxtp_nar_t *this, cxtp_held_request_t *held,
						 u_int ike_id)
{
	message_t *message;

	this->transport->acknowledge(this->transport, held->request);
	message = cxtp_held_request_message(held);
	if (message)
	{
		DBG1(DBG_IKE, "cxtp: processing the IKE request from %#H held for "
			 "imported IKE_SA [%u]", held->src, ike_id);
		lib->processor->queue_job(lib->processor,
								  (job_t*)process_message_job_create(message));
	}
	cxtp_held_request_destroy(held);
}

static int claim_import(private_cxtp_nar_t *this, u_int ike_id, bool claim,
						ref_t *ref, cxtp_context_t **context);

/**
 * Take over an IKE_SA pushed with the T flag: the mobile node stays where it
 * is and the gateway address moves here, so the import is activated at once
 * at the addresses pAR held it with, nothing is sent to the node (whose
 * message IDs, SPIs and addresses do not change), and pAR learns of it as
 * of any activation
 */
static void take_over(private_cxtp_nar_t *this, u_int ike_id)
{
	cxtp_context_t *context = NULL;
	ref_t ref = {};
	bool ok;

	claim_import(this, ike_id, TRUE, &ref, &context);
	if (!context)
	{	/* a CTAR of the node claimed it meanwhile */
		return;
	}
	DBG1(DBG_IKE, "cxtp: taking over IKE_SA %s[%u] from peer '%s' (transfer "
		 "%u) at %H...%H, activating it without the mobile node",
		 context->ike.peer_cfg, ike_id, ref.peer, ref.id.serial,
		 context->ike.local, context->ike.remote);
	/* the node used no token, its counter stays where pAR's push left it;
	 * its addresses stay, so no MOBIKE update of ours either */
	ok = activate_by_id(this, &ref, context, context->ike.local,
						context->ike.remote, context->ike.transfers, TRUE);
	context->destroy(context);
	activation_done(this, &ref, ok);
	report_activation(this, &ref, ok);
	ref_clear(&ref);
}

/**
 * Import the context of a PCTD/CTD
 */
static void import(private_cxtp_nar_t *this, char *peer,
				   cxtp_message_t *message, cxtp_transfer_id_t *id)
{
	host_t *mn = message->get_mn_address(message);
	cxtp_context_t *context;
	entry_t *entry;
	ref_t ref = {}, older = {};
	known_t known;
	cxtp_held_request_t *held;
	char *reason = NULL;
	u_int ike_id, serial;

	if (!message->get_key(message).len)
	{
		DBG1(DBG_IKE, "cxtp: %N from peer '%s' for %H has no token key",
			 cxtp_message_type_names, message->get_type(message), peer, mn);
		send_ctdr(this, peer, mn, id, FALSE, CXTP_STATUS_FAILED);
		return;
	}
	context = decode_context(message);
	if (context && !(context->ike.spi_i == id->spi_i &&
					 context->ike.spi_r == id->spi_r))
	{
		DBG1(DBG_IKE, "cxtp: %N from peer '%s' for %H names another IKE_SA "
			 "than its context", cxtp_message_type_names,
			 message->get_type(message), peer, mn);
		context->destroy(context);
		context = NULL;
	}
	if (!context)
	{
		send_ctdr(this, peer, mn, id, FALSE, CXTP_STATUS_FAILED);
		this->imported->event(this->imported, CXTP_EVENT_FAILURE, 0, peer, mn,
							  "importing the context failed");
		return;
	}
	known = lookup(this, peer, id, &ref, TRUE, &older);
	if (older.serial)
	{	/* a newer transfer of the same IKE_SA replaces it */
		DBG1(DBG_IKE, "cxtp: transfer %u from peer '%s' replaces transfer %u "
			 "of the same IKE_SA, removing IKE_SA [%u]", id->serial, peer,
			 older.id.serial, older.ike_id);
		drop_passive(older.ike_id);
		remember(this, older.serial);
		ref_clear(&older);
	}
	if (answer_known(this, peer, mn, id, known, &ref))
	{
		ref_clear(&ref);
		context->destroy(context);
		return;
	}
	ike_id = cxtp_import(context, this->leases, &reason);
	if (!ike_id)
	{
		DBG1(DBG_IKE, "cxtp: refusing the context of '%Y' from peer '%s': %s",
			 context->ike.remote_id, peer, reason);
		send_ctdr(this, peer, mn, id, FALSE, CXTP_STATUS_FAILED);
		this->imported->event(this->imported, CXTP_EVENT_FAILURE, 0, peer, mn,
							  reason ?: "importing the context failed");
		free(reason);
		/* reactive: the mobile node waits for it on our link */
		refuse_waiting(this, mn, message->get_key(message));
		context->destroy(context);
		return;
	}
	DBG1(DBG_IKE, "cxtp: context of '%Y' at %H from peer '%s' (transfer %u) "
		 "imported as IKE_SA [%u]", context->ike.remote_id, mn, peer,
		 id->serial, ike_id);
	held = this->held->take_spis(this->held, peer, id->spi_i, id->spi_r);
	INIT(entry,
		.handover = {
			.ike_id = ike_id,
			.peer = strdup(peer),
			.mn = mn->clone(mn),
			.id = *id,
		},
		.state = STATE_IMPORTED,
		.context = context,
		.token_key = chunk_clone(message->get_key(message)),
		.imported = time_monotonic(NULL),
		.request = held ? chunk_clone(held->data) : chunk_empty,
	);
	serial = this->imported->add(this->imported, &entry->handover);
	if (message->get_takeover(message))
	{	/* one CTDR, about the activation */
		this->imported->event(this->imported, CXTP_EVENT_IMPORT, ike_id, peer,
							  mn, NULL);
		take_over(this, ike_id);
	}
	else
	{
		/* pAR thaws its copy if no activation follows, so must we drop ours */
		this->imported->schedule(this->imported, serial,
						this->settings->get_handover_timeout(this->settings),
						entry_timeout, this);
		send_ctdr(this, peer, mn, id, TRUE, 0);
		this->imported->event(this->imported, CXTP_EVENT_IMPORT, ike_id, peer,
							  mn, NULL);
		/* reactive: the mobile node asked for it already */
		activate_waiting(this, mn);
	}
	if (held)
	{
		process_held(this, held, ike_id);
	}
}

METHOD(cxtp_nar_t, process_ctd, void,
	private_cxtp_nar_t *this, char *peer, cxtp_message_t *message)
{
	cxtp_transfer_id_t id;

	if (!message->get_transfer_id(message, &id))
	{
		DBG1(DBG_IKE, "cxtp: %N from peer '%s' for %H names no transfer, "
			 "ignored", cxtp_message_type_names, message->get_type(message),
			 peer, message->get_mn_address(message));
		return;
	}
	this->transfer_mutex->lock(this->transfer_mutex);
	import(this, peer, message, &id);
	this->transfer_mutex->unlock(this->transfer_mutex);
}

METHOD(cxtp_nar_t, process_ctc, void,
	private_cxtp_nar_t *this, char *peer, cxtp_message_t *message)
{
	host_t *mn = message->get_mn_address(message);
	cxtp_transfer_id_t id;
	enumerator_t *enumerator;
	entry_t *entry;
	ref_t ref = {}, none = {};
	known_t known;
	bool cancelled = FALSE;

	if (!message->get_transfer_id(message, &id))
	{
		DBG1(DBG_IKE, "cxtp: CTC from peer '%s' for %H names no transfer, "
			 "ignored", peer, mn);
		return;
	}
	this->transfer_mutex->lock(this->transfer_mutex);
	known = lookup(this, peer, &id, &ref, FALSE, &none);
	if (known == KNOWN_TRANSFER && ref.state == STATE_IMPORTED)
	{
		enumerator = this->imported->create_serial_enumerator(this->imported,
															  ref.serial);
		if (enumerator->enumerate(enumerator, &entry) &&
			entry->state == STATE_IMPORTED)
		{
			cancel_entry(entry);
			cancelled = TRUE;
		}
		enumerator->destroy(enumerator);
		if (!cancelled)
		{	/* a CTAR came first */
			ref.state = STATE_ACTIVATING;
		}
	}
	switch (known)
	{
		case KNOWN_NOTHING:
			/* so a late copy of its PCTD is refused */
			INIT(entry,
				.handover = {
					.peer = strdup(peer),
					.mn = mn->clone(mn),
					.id = id,
				},
				.state = STATE_CANCELLED,
			);
			remember(this, this->imported->add(this->imported,
											   &entry->handover));
			/* fall-through */
		case KNOWN_TRANSFER:
			if (cancelled || known == KNOWN_NOTHING ||
				ref.state == STATE_CANCELLED)
			{
				if (cancelled)
				{
					DBG1(DBG_IKE, "cxtp: peer '%s' withdrew transfer %u, "
						 "removing IKE_SA [%u]", peer, id.serial, ref.ike_id);
					drop_passive(ref.ike_id);
					remember(this, ref.serial);
					this->imported->event(this->imported, CXTP_EVENT_CANCEL,
										  ref.ike_id, peer, mn,
										  "withdrawn by the previous router");
				}
				send_ctdr(this, peer, mn, &id, TRUE, CXTP_STATUS_CANCELLED);
			}
			else if (ref.state == STATE_ACTIVATED)
			{
				send_ctdr(this, peer, mn, &id, TRUE, CXTP_STATUS_ACTIVATED);
			}
			else if (ref.state == STATE_SUPERSEDED)
			{
				send_ctdr(this, peer, mn, &id, TRUE, CXTP_STATUS_SUPERSEDED);
			}
			/* activating: pAR retransmits, by then we know */
			break;
		case KNOWN_LIVE:
			send_ctdr(this, peer, mn, &id, TRUE, CXTP_STATUS_ACTIVATED);
			break;
		case KNOWN_ACTIVATING:
			break;
	}
	this->transfer_mutex->unlock(this->transfer_mutex);
	ref_clear(&ref);
}

METHOD(cxtp_nar_t, is_duplicate, bool,
	private_cxtp_nar_t *this, host_t *src, host_t *dst,
	cxtp_message_t *message)
{
	enumerator_t *enumerator;
	entry_t *entry;
	chunk_t key = chunk_empty;
	bool duplicate = FALSE, ack = FALSE;

	enumerator = this->imported->create_enumerator(this->imported,
											message->get_mn_address(message));
	while (enumerator->enumerate(enumerator, &entry))
	{
		if ((entry->state == STATE_ACTIVATING ||
			 entry->state == STATE_ACTIVATED) &&
			entry->sequence == message->get_sequence(message) &&
			entry->token_key.len &&
			message->verify_token(message, entry->token_key, src, dst))
		{
			duplicate = TRUE;
			/* while activating, the activation answers */
			ack = entry->state == STATE_ACTIVATED && message->get_ack(message);
			if (ack)
			{
				key = chunk_clone(entry->token_key);
			}
			break;
		}
	}
	enumerator->destroy(enumerator);
	if (ack)
	{	/* the node did not get our CTAA, or not yet */
		send_ctaa(this, src, dst, message, key, 0);
		chunk_clear(&key);
	}
	return duplicate;
}

METHOD(cxtp_nar_t, has_context, bool,
	private_cxtp_nar_t *this, host_t *mn)
{
	enumerator_t *enumerator;
	entry_t *entry;
	bool found = FALSE;

	enumerator = this->imported->create_enumerator(this->imported, mn);
	while (!found && enumerator->enumerate(enumerator, &entry))
	{
		found = entry->state == STATE_IMPORTED;
	}
	enumerator->destroy(enumerator);
	return found;
}

METHOD(cxtp_nar_t, process_ctar, void,
	private_cxtp_nar_t *this, host_t *src, host_t *dst,
	cxtp_message_t *message)
{
	if (!activate_for(this, src, dst, message))
	{	/* expired since the dispatcher asked */
		DBG1(DBG_IKE, "cxtp: CTAR for %H, but its imported context is gone, "
			 "ignored", message->get_mn_address(message));
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

	host_t *src, *dst;

	/* a copy from another source is no duplicate: its token decides */
	VA_ARGS_VGET(args, src, dst, message);
	mn = waiting->get_mn_address(waiting);
	return mn->ip_equals(mn, message->get_mn_address(message)) &&
		   ctar->src->ip_equals(ctar->src, src) &&
		   ctar->dst->ip_equals(ctar->dst, dst) &&
		   waiting->get_sequence(waiting) == message->get_sequence(message) &&
		   waiting->get_token(waiting) == message->get_token(message);
}

/**
 * Make room for a CTAR to wait for its context (mutex held): when too many
 * wait already for its mobile node or in all, a random one of those goes.
 * Refusing the newcomer instead would let a flood of spoofed CTARs keep the
 * node's own from ever being asked for; an evicted CTAR's CT-Req is no
 * longer retransmitted, but pAR's answer to it still imports the context,
 * which the node's next CTAR activates. Logged at most once a second during
 * a flood, with the number evicted.
 *
 * @return			the evicted CTAR, to acknowledge and destroy, or NULL
 */
static ctar_t *make_room(private_cxtp_nar_t *this, host_t *mn, char *peer,
						 uint32_t sequence)
{
	enumerator_t *enumerator;
	ctar_t *ctar, *evicted = NULL;
	u_int count = 0, pick;
	time_t now;
	bool all;

	all = this->waiting->get_count(this->waiting) >= this->max_waiting;
	if (!all)
	{
		enumerator = this->waiting->create_enumerator(this->waiting);
		while (enumerator->enumerate(enumerator, &ctar))
		{
			if (mn->ip_equals(mn, ctar->message->get_mn_address(ctar->message)))
			{
				count++;
			}
		}
		enumerator->destroy(enumerator);
		if (count < CXTP_NAR_WAITING_PER_NODE)
		{
			return NULL;
		}
	}
	pick = random() % (all ? this->waiting->get_count(this->waiting) : count);
	enumerator = this->waiting->create_enumerator(this->waiting);
	while (enumerator->enumerate(enumerator, &ctar))
	{
		if (!all &&
			!mn->ip_equals(mn, ctar->message->get_mn_address(ctar->message)))
		{
			continue;
		}
		if (pick-- == 0)
		{
			this->waiting->remove_at(this->waiting, enumerator);
			evicted = ctar;
			break;
		}
	}
	enumerator->destroy(enumerator);
	this->waiting_dropped++;
	this->waiting_dropped_total++;
	now = time_monotonic(NULL);
	if (this->waiting_log && now == this->waiting_log)
	{
		return evicted;
	}
	if (all)
	{
		DBG1(DBG_IKE, "cxtp: %u CTARs wait for their context already, a "
			 "random one dropped for CTAR %u for %H (%u dropped since the "
			 "last notice, %"PRIu64" in all)", this->max_waiting, sequence,
			 mn, this->waiting_dropped, this->waiting_dropped_total);
	}
	else
	{
		DBG1(DBG_IKE, "cxtp: %u CTARs for %H wait for its context already, a "
			 "random one dropped for CTAR %u (%u dropped since the last "
			 "notice, %"PRIu64" in all)", count, mn, sequence,
			 this->waiting_dropped, this->waiting_dropped_total);
	}
	this->waiting_dropped = 0;
	this->waiting_log = now;
	return evicted;
}

METHOD(cxtp_nar_t, request_context, void,
	private_cxtp_nar_t *this, char *peer, host_t *src, host_t *dst,
	cxtp_message_t *message)
{
	cxtp_message_t *request;
	ctar_t *ctar, *evicted;
	uint32_t id;
	bool duplicate;

	this->mutex->lock(this->mutex);
	duplicate = this->waiting->find_first(this->waiting, match_waiting, NULL,
										  src, dst, message);
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
	/* what the token covers, for pAR to verify it */
	request->set_ack(request, message->get_ack(message));
	request->set_ar_address(request, message->get_ar_address(message));
	request->set_ctar_addresses(request, src, dst);
	INIT(ctar,
		.src = src->clone(src),
		.dst = dst->clone(dst),
		.message = message,
		.peer = strdup(peer),
	);
	DBG1(DBG_IKE, "cxtp: no context for %H, requesting it from peer '%s'",
		 message->get_mn_address(message), peer);
	this->mutex->lock(this->mutex);
	evicted = make_room(this, message->get_mn_address(message), peer,
						message->get_sequence(message));
	id = ctar->request = CXTP_NAR_REQUEST |
						 (++this->requests & ~CXTP_NAR_REQUEST);
	/* once in the list, another thread may take and destroy it */
	this->waiting->insert_last(this->waiting, ctar);
	this->mutex->unlock(this->mutex);
	if (evicted)
	{
		this->transport->acknowledge(this->transport, evicted->request);
		ctar_destroy(evicted);
	}
	this->transport->send_reliable(this->transport, peer, request, id);
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
	cxtp_held_request_t *held;
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
	held = this->held->take_request(this->held, id);
	if (held)
	{
		DBG1(DBG_IKE, "cxtp: peer '%s' sent no context for the IKE request "
			 "from %#H, dropping it", peer, held->src);
		cxtp_held_request_destroy(held);
	}
}

METHOD(cxtp_nar_t, process_no_context, void,
	private_cxtp_nar_t *this, char *peer, cxtp_message_t *message)
{
	host_t *mn = message->get_mn_address(message);
	cxtp_held_request_t *held;
	linked_list_t *found;
	ctar_t *ctar;

	found = take_waiting(this, mn, peer);
	if (!found->get_count(found))
	{
		DBG2(DBG_IKE, "cxtp: peer '%s' holds no context of %H, but no CTAR "
			 "waits for it", peer, mn);
	}
	else
	{	/* no answer to the mobile node, its address is not confirmed */
		DBG1(DBG_IKE, "cxtp: peer '%s' holds no context of %H, dropping %d "
			 "CTAR%s waiting for it", peer, mn, found->get_count(found),
			 found->get_count(found) == 1 ? "" : "s");
	}
	while (found->remove_first(found, (void**)&ctar) == SUCCESS)
	{
		ctar_destroy(ctar);
	}
	found->destroy(found);
	while ((held = this->held->take_source(this->held, peer, mn)))
	{	/* it did not verify there, or names an IKE_SA gone */
		DBG1(DBG_IKE, "cxtp: peer '%s' sends no context for the IKE request "
			 "from %#H, dropping it", peer, held->src);
		this->transport->acknowledge(this->transport, held->request);
		cxtp_held_request_destroy(held);
	}
}

METHOD(cxtp_nar_t, get_state, char*,
	private_cxtp_nar_t *this, ike_sa_t *ike_sa)
{
	enumerator_t *enumerator;
	entry_t *entry;
	u_int ike_id = ike_sa->get_unique_id(ike_sa);
	char *state = NULL;

	enumerator = this->imported->create_ike_sa_enumerator(this->imported,
														  ike_id);
	if (enumerator->enumerate(enumerator, &entry) &&
		(entry->state == STATE_IMPORTED || entry->state == STATE_ACTIVATING))
	{
		state = "imported";
	}
	enumerator->destroy(enumerator);
	return state;
}

/**
 * The state of a transfer, for listings
 */
static char *transfer_state(cxtp_handover_t *handover)
{
	return enum_to_name(state_names, ((entry_t*)handover)->state);
}

METHOD(cxtp_nar_t, create_transfer_enumerator, enumerator_t*,
	private_cxtp_nar_t *this)
{
	return this->imported->create_info_enumerator(this->imported,
												  transfer_state);
}

/**
 * Log why an IKE message did not activate an import: at most once a second,
 * as anyone on the access link sees the IKE SPIs and may send many
 */
static void refuse_message(private_cxtp_nar_t *this, ike_sa_t *ike_sa,
						   message_t *message, char *reason)
{
	uint64_t total;
	u_int refused;

	if (!this->refused->count(this->refused, &refused, &total))
	{
		return;
	}
	DBG1(DBG_IKE, "cxtp: %N %s %u from %#H for imported IKE_SA %s[%u] "
		 "ignored, %s (%u refused since the last notice, %"PRIu64" in all)",
		 exchange_type_names, message->get_exchange_type(message),
		 message->get_request(message) ? "request" : "response",
		 message->get_message_id(message), message->get_source(message),
		 ike_sa->get_name(ike_sa), ike_sa->get_unique_id(ike_sa), reason,
		 refused, total);
}

/**
 * The state of the transfer an IKE_SA was imported with, and, if imported,
 * start its activation, taking its context
 *
 * @param claim		TRUE to start the activation
 * @param ref		receives the transfer, if claimed
 * @param context	receives its context, if claimed
 * @return			its state, -1 if the IKE_SA is not an import of ours
 */
static int claim_import(private_cxtp_nar_t *this, u_int ike_id, bool claim,
						ref_t *ref, cxtp_context_t **context)
{
	enumerator_t *enumerator;
	entry_t *entry;
	int state = -1;

	enumerator = this->imported->create_ike_sa_enumerator(this->imported,
														  ike_id);
	if (enumerator->enumerate(enumerator, &entry))
	{
		state = entry->state;
		if (claim && entry->state == STATE_IMPORTED)
		{
			ref_init(ref, entry);
			entry->state = STATE_ACTIVATING;
			*context = entry->context;
			entry->context = NULL;
			/* no CTAR to answer retransmissions of */
			chunk_clear(&entry->token_key);
		}
	}
	enumerator->destroy(enumerator);
	return state;
}

CALLBACK(drop_failed, job_requeue_t,
	void *ike_id)
{
	drop_passive((uintptr_t)ike_id);
	return JOB_REQUEUE_NONE;
}

/**
 * The IKE request we fetched an import for did not verify with it (pAR
 * verified it, so its keys or message ID changed meanwhile): drop the
 * import, and let pAR thaw its copy
 */
static void fail_fetched(private_cxtp_nar_t *this, u_int ike_id,
						 message_t *message, char *reason)
{
	enumerator_t *enumerator;
	entry_t *entry;
	ref_t ref = {};

	enumerator = this->imported->create_ike_sa_enumerator(this->imported,
														  ike_id);
	while (enumerator->enumerate(enumerator, &entry))
	{
		if (entry->state == STATE_IMPORTED && entry->request.len &&
			chunk_equals(entry->request, message->get_packet_data(message)))
		{
			ref_init(&ref, entry);
			cancel_entry(entry);
			break;
		}
	}
	enumerator->destroy(enumerator);
	if (!ref.serial)
	{
		return;
	}
	DBG1(DBG_IKE, "cxtp: the IKE request imported IKE_SA [%u] of transfer %u "
		 "was fetched for did not verify (%s), removing it and telling peer "
		 "'%s'", ike_id, ref.id.serial, reason, ref.peer);
	lib->processor->queue_job(lib->processor, (job_t*)
				callback_job_create(drop_failed, (void*)(uintptr_t)ike_id,
									NULL, NULL));
	send_ctdr(this, ref.peer, ref.mn, &ref.id, TRUE, CXTP_STATUS_CANCELLED);
	this->imported->event(this->imported, CXTP_EVENT_FAILURE, ike_id,
						  ref.peer, ref.mn, "IKE request did not verify");
	remember(this, ref.serial);
	ref_clear(&ref);
}

/**
 * An IKE message for an imported IKE_SA, checked out in this thread: the
 * mobile node's request from its new address (e.g. a stock client's MOBIKE
 * update sent to the anycast gateway address), protected with the
 * transferred keys, authorizes the activation as a CTAR's token does. The
 * IKE_SA moves to the addresses of the request, and charon processes the
 * request once we return, as it does for any active IKE_SA: a MOBIKE update
 * then moves the SAs, the node gets its standard answer. Any request does,
 * not only a MOBIKE update: the node evidently uses this router now, and a
 * stock strongSwan client probes the path with an empty INFORMATIONAL before
 * it sends its update, only once that probe is answered.
 */
static void activate_by_message(private_cxtp_nar_t *this, ike_sa_t *ike_sa,
								message_t *message)
{
	u_int ike_id = ike_sa->get_unique_id(ike_sa);
	cxtp_context_t *context = NULL;
	char *reason, buf[64];
	ref_t ref = {};
	uint32_t counter;
	int state;
	bool ok;

	state = claim_import(this, ike_id, FALSE, NULL, NULL);
	if (state == -1)
	{	/* passive for another reason (e.g. the ha plugin), not ours */
		return;
	}
	if (state != STATE_IMPORTED)
	{
		snprintf(buf, sizeof(buf), "its transfer is %N", state_names, state);
		refuse_message(this, ike_sa, message, buf);
		return;
	}
	reason = cxtp_ike_request_check(ike_sa, message);
	if (reason)
	{
		refuse_message(this, ike_sa, message, reason);
		fail_fetched(this, ike_id, message, reason);
		return;
	}
	state = claim_import(this, ike_id, TRUE, &ref, &context);
	if (!context)
	{	/* a CTAR came first, it checks the IKE_SA out once we are done */
		snprintf(buf, sizeof(buf), "its transfer is %N", state_names, state);
		refuse_message(this, ike_sa, message, buf);
		return;
	}
	DBG1(DBG_IKE, "cxtp: %N request %u from %#H verified with the keys of "
		 "transfer %u from peer '%s', activating imported IKE_SA %s[%u]",
		 exchange_type_names, message->get_exchange_type(message),
		 message->get_message_id(message), message->get_source(message),
		 ref.id.serial, ref.peer, ike_sa->get_name(ike_sa), ike_id);
	/* the node used no token, its counter stays where pAR's push left it */
	counter = context->ike.transfers;
	ok = activate_ike_sa(this, ike_sa, &ref, context,
						 message->get_destination(message),
						 message->get_source(message), counter, TRUE);
	context->destroy(context);
	if (!ok)
	{	/* still passive: charon drops the request and checks it in */
		lib->processor->queue_job(lib->processor, (job_t*)
				callback_job_create(drop_failed, (void*)(uintptr_t)ike_id,
									NULL, NULL));
	}
	activation_done(this, &ref, ok);
	report_activation(this, &ref, ok);
	ref_clear(&ref);
}

/**
 * Log why an IKE request for an IKE_SA we do not hold fetches no context:
 * at most once a second, as anyone may send many with made-up SPIs
 */
static void refuse_fetch(private_cxtp_nar_t *this, message_t *message,
						 char *peer, char *reason)
{
	ike_sa_id_t *id = message->get_ike_sa_id(message);
	uint64_t total;
	u_int refused;

	if (!this->unfetched->count(this->unfetched, &refused, &total))
	{
		return;
	}
	DBG1(DBG_IKE, "cxtp: %N request %u from %#H for unknown IKE_SA "
		 "%.16"PRIx64"_i %.16"PRIx64"_r fetches no context%s%s%s, %s (%u "
		 "refused since the last notice, %"PRIu64" in all)",
		 exchange_type_names, message->get_exchange_type(message),
		 message->get_message_id(message), message->get_source(message),
		 be64toh(id->get_initiator_spi(id)), be64toh(id->get_responder_spi(id)),
		 peer ? " from peer '" : "", peer ?: "", peer ? "'" : "", reason,
		 refused, total);
}

/**
 * An IKE request for an IKE_SA we do not hold, maybe the MOBIKE update of a
 * stock client that arrives here without a push: the label of our SPI names
 * the router that allocated it, which holds the IKE_SA. Ask it for the
 * context with a CT-Req that carries the request, its only authorization
 * (pAR verifies it with the IKE_SA's keys before it freezes anything), and
 * hold the request to process it once the context is imported.
 */
static void fetch_for_message(private_cxtp_nar_t *this, message_t *message)
{
	ike_sa_id_t *id = message->get_ike_sa_id(message);
	cxtp_message_t *request;
	cxtp_peer_t *peer;
	uint64_t spi;
	uint32_t rid;
	char *reason, *name;
	bool own;

	if (message->get_major_version(message) != IKEV2_MAJOR_VERSION ||
		message->get_exchange_type(message) != INFORMATIONAL ||
		!message->get_request(message))
	{
		return;
	}
	/* our SPI is the one the node did not choose */
	spi = id->is_initiator(id) ? id->get_responder_spi(id)
							   : id->get_initiator_spi(id);
	peer = this->settings->find_peer_by_spi(this->settings, spi, &own);
	if (!peer)
	{
		if (!own)
		{
			refuse_fetch(this, message, NULL,
						 "its SPI carries no peer's label");
		}
		return;
	}
	name = strdupa(peer->get_name(peer));
	peer->destroy(peer);
	if (message->get_packet_data(message).len > CXTP_IKE_REQUEST_MAX)
	{
		refuse_fetch(this, message, name, "it is too long");
		return;
	}
	this->mutex->lock(this->mutex);
	rid = CXTP_NAR_REQUEST | (++this->requests & ~CXTP_NAR_REQUEST);
	this->mutex->unlock(this->mutex);
	reason = this->held->hold(this->held, message, name, rid);
	if (reason)
	{
		refuse_fetch(this, message, name, reason);
		return;
	}
	request = cxtp_message_create(CXTP_CTREQ, message->get_source(message));
	request->set_ike_request(request, message->get_packet_data(message));
	DBG1(DBG_IKE, "cxtp: %N request %u from %#H for IKE_SA %.16"PRIx64"_i "
		 "%.16"PRIx64"_r of peer '%s', requesting its context",
		 exchange_type_names, message->get_exchange_type(message),
		 message->get_message_id(message), message->get_source(message),
		 be64toh(id->get_initiator_spi(id)), be64toh(id->get_responder_spi(id)),
		 name);
	this->transport->send_reliable(this->transport, name, request, rid);
	request->destroy(request);
}

METHOD(listener_t, alert, bool,
	listener_t *listener, ike_sa_t *ike_sa, alert_t alert, va_list args)
{
	private_cxtp_nar_t *this = (private_cxtp_nar_t*)((char*)listener -
								offsetof(private_cxtp_nar_t, public.listener));

	if (alert == ALERT_MESSAGE_FOR_PASSIVE_IKE_SA && ike_sa)
	{
		activate_by_message(this, ike_sa, va_arg(args, message_t*));
	}
	else if (alert == ALERT_INVALID_IKE_SPI)
	{
		fetch_for_message(this, va_arg(args, message_t*));
	}
	return TRUE;
}

/**
 * Whether an imported context is of the mobile node an IKE_SA is with, under
 * the same config: the same identities, EAP's included, in a config whose
 * identities name one node each (not unique = never, as charon sees them)
 */
static bool same_node(entry_t *entry, ike_sa_t *ike_sa)
{
	cxtp_ike_context_t *ike = &entry->context->ike;
	identification_t *other;
	peer_cfg_t *peer_cfg;

	peer_cfg = ike_sa->get_peer_cfg(ike_sa);
	other = ike->remote_eap_id ?: ike->remote_id;
	return peer_cfg && streq(peer_cfg->get_name(peer_cfg), ike->peer_cfg) &&
		   peer_cfg->get_unique_policy(peer_cfg) != UNIQUE_NEVER &&
		   ike->local_id->equals(ike->local_id, ike_sa->get_my_id(ike_sa)) &&
		   other->equals(other, ike_sa->get_other_eap_id(ike_sa));
}

/**
 * Drop the imports an IKE_SA of the mobile node supersedes: it set up a new
 * one here instead of activating them (a client without MOBIKE does so after
 * its move), so neither router may keep a copy, nor pAR thaw one that nobody
 * would use. With its INITIAL_CONTACT charon's uniqueness check destroys our
 * passive IKE_SA itself (gone, the IKE_SA given), otherwise we remove those
 * of the node, in a job as the new IKE_SA is checked out in this thread.
 */
static void supersede(private_cxtp_nar_t *this, ike_sa_t *ike_sa, bool gone)
{
	enumerator_t *enumerator;
	linked_list_t *refs;
	entry_t *entry;
	ref_t *ref;
	u_int ike_id = ike_sa->get_unique_id(ike_sa);
	bool match;

	refs = linked_list_create();
	/* gone, ours is the only one it can be; else any of the node's */
	enumerator = gone ? this->imported->create_ike_sa_enumerator(
												this->imported, ike_id)
					  : this->imported->create_enumerator(this->imported, NULL);
	while (enumerator->enumerate(enumerator, &entry))
	{
		if (entry->state != STATE_IMPORTED)
		{
			continue;
		}
		match = gone ? entry->handover.ike_id == ike_id
					 : entry->handover.ike_id != ike_id &&
					   same_node(entry, ike_sa);
		if (match)
		{
			INIT(ref);
			ref_init(ref, entry);
			refs->insert_last(refs, ref);
			entry->state = STATE_SUPERSEDED;
			entry->handover.ike_id = 0;
			entry_forget(entry);
		}
	}
	enumerator->destroy(enumerator);
	while (refs->remove_first(refs, (void**)&ref) == SUCCESS)
	{
		if (gone)
		{
			DBG1(DBG_IKE, "cxtp: the mobile node's INITIAL_CONTACT "
				 "supersedes imported IKE_SA %s[%u] of transfer %u, telling "
				 "peer '%s'", ike_sa->get_name(ike_sa), ref->ike_id,
				 ref->id.serial, ref->peer);
		}
		else
		{
			DBG1(DBG_IKE, "cxtp: IKE_SA %s[%u] of the mobile node supersedes "
				 "imported IKE_SA [%u] of transfer %u, removing it and telling "
				 "peer '%s'", ike_sa->get_name(ike_sa), ike_id, ref->ike_id,
				 ref->id.serial, ref->peer);
			lib->processor->queue_job(lib->processor, (job_t*)
					callback_job_create(drop_failed,
										(void*)(uintptr_t)ref->ike_id,
										NULL, NULL));
		}
		send_ctdr(this, ref->peer, ref->mn, &ref->id, TRUE,
				  CXTP_STATUS_SUPERSEDED);
		this->imported->event(this->imported, CXTP_EVENT_SUPERSEDE,
							  ref->ike_id, ref->peer, ref->mn, NULL);
		remember(this, ref->serial);
		ref_clear(ref);
		free(ref);
	}
	refs->destroy(refs);
}

METHOD(listener_t, ike_updown, bool,
	listener_t *listener, ike_sa_t *ike_sa, bool up)
{
	private_cxtp_nar_t *this = (private_cxtp_nar_t*)((char*)listener -
								offsetof(private_cxtp_nar_t, public.listener));

	if (up)
	{
		supersede(this, ike_sa, FALSE);
	}
	else if (ike_sa->get_state(ike_sa) == IKE_PASSIVE)
	{	/* only a peer's INITIAL_CONTACT takes a passive IKE_SA down */
		supersede(this, ike_sa, TRUE);
	}
	return TRUE;
}

METHOD(listener_t, ike_state_change, bool,
	listener_t *listener, ike_sa_t *ike_sa, ike_sa_state_t state)
{
	private_cxtp_nar_t *this = (private_cxtp_nar_t*)((char*)listener -
								offsetof(private_cxtp_nar_t, public.listener));
	enumerator_t *enumerator;
	entry_t *entry;
	u_int ike_id, forget = 0;
	ref_t ref = {};

	if (state != IKE_DESTROYING)
	{
		return TRUE;
	}
	/* the transfers we end are no longer tied to their IKE_SA when we
	 * destroy it; one activating is the activation's to end */
	ike_id = ike_sa->get_unique_id(ike_sa);
	enumerator = this->imported->create_ike_sa_enumerator(this->imported,
														  ike_id);
	while (enumerator->enumerate(enumerator, &entry))
	{
		if (entry->state == STATE_IMPORTED)
		{
			ref_init(&ref, entry);
			cancel_entry(entry);
		}
		else if (entry->state == STATE_ACTIVATED)
		{
			forget = entry->handover.serial;
		}
		break;
	}
	enumerator->destroy(enumerator);
	if (ref.serial)
	{
		DBG1(DBG_IKE, "cxtp: imported IKE_SA %s[%u] of transfer %u is "
			 "deleted, telling peer '%s'", ike_sa->get_name(ike_sa), ike_id,
			 ref.id.serial, ref.peer);
		send_ctdr(this, ref.peer, ref.mn, &ref.id, TRUE,
				  CXTP_STATUS_CANCELLED);
		this->imported->event(this->imported, CXTP_EVENT_FAILURE, ike_id,
							  ref.peer, ref.mn, "imported IKE_SA deleted");
		remember(this, ref.serial);
		ref_clear(&ref);
	}
	if (forget)
	{
		entry = (entry_t*)this->imported->remove(this->imported, forget);
		if (entry)
		{
			entry_destroy(entry);
		}
	}
	return TRUE;
}

METHOD(listener_t, ike_rekey, bool,
	listener_t *listener, ike_sa_t *old, ike_sa_t *new)
{
	private_cxtp_nar_t *this = (private_cxtp_nar_t*)((char*)listener -
								offsetof(private_cxtp_nar_t, public.listener));
	enumerator_t *enumerator;
	entry_t *entry;
	u_int ike_id = old->get_unique_id(old);

	/* an activation is remembered while the IKE_SA lives, rekeyed or not */
	enumerator = this->imported->create_ike_sa_enumerator(this->imported,
														  ike_id);
	while (enumerator->enumerate(enumerator, &entry))
	{
		if (entry->state == STATE_ACTIVATED)
		{
			entry->handover.ike_id = new->get_unique_id(new);
			break;
		}
	}
	enumerator->destroy(enumerator);
	return TRUE;
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
	this->held->destroy(this->held);
	this->refused->destroy(this->refused);
	this->unfetched->destroy(this->unfetched);
	this->waiting->destroy_function(this->waiting, (void*)ctar_destroy);
	this->mutex->destroy(this->mutex);
	this->transfer_mutex->destroy(this->transfer_mutex);
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
	cxtp_options_t *options;

	options = cxtp_options_create("cxtp");
	INIT(this,
		.public = {
			.listener = {
				.alert = _alert,
				.ike_updown = _ike_updown,
				.ike_state_change = _ike_state_change,
				.ike_rekey = _ike_rekey,
			},
			.process_ctc = _process_ctc,
			.create_transfer_enumerator = _create_transfer_enumerator,
			.is_duplicate = _is_duplicate,
			.has_context = _has_context,
			.process_ctar = _process_ctar,
			.request_context = _request_context,
			.process_no_context = _process_no_context,
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
		.imported = cxtp_handovers_create((void*)entry_destroy),
		.waiting = linked_list_create(),
		.held = cxtp_held_create(),
		.refused = cxtp_notice_create(),
		.unfetched = cxtp_notice_create(),
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
		.transfer_mutex = mutex_create(MUTEX_TYPE_DEFAULT),
		.max_waiting = options->get_uint(options, "ctar_waiting",
										 CXTP_NAR_WAITING_MAX, 1, 1 << 20),
	);
	options->destroy(options);
	return &this->public;
}
