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
#include "cxtp_ike_request.h"
#include "cxtp_notice.h"
#include "cxtp_options.h"

#include <inttypes.h>

#include <daemon.h>
#include <collections/array.h>

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
	 * IKE_SAs frozen while their context is with a peer
	 */
	cxtp_freeze_t *freeze;

	/**
	 * IKE_SAs by the mobile node's address
	 */
	cxtp_ike_index_t *index;

	/**
	 * Contexts sent to a peer, their IKE_SAs frozen here, entry_t
	 */
	cxtp_handovers_t *pending;

	/**
	 * CT-Reqs with an IKE request refused
	 */
	cxtp_notice_t *refused;
};

/**
 * Where a transfer is
 */
typedef enum {
	/** context sent, no answer yet */
	PHASE_SENT,
	/** imported by the peer, waiting for the activation */
	PHASE_IMPORTED,
	/** asked the peer with a CTC whether it activated it */
	PHASE_QUERYING,
	/** withdrawing it with a CTC */
	PHASE_CANCELLING,
} phase_t;

/**
 * Mask of all phases for withdraw()
 */
#define ALL_PHASES ((1 << PHASE_SENT) | (1 << PHASE_IMPORTED) | \
					(1 << PHASE_QUERYING) | (1 << PHASE_CANCELLING))

ENUM(phase_names, PHASE_SENT, PHASE_CANCELLING,
	"sent",
	"imported",
	"querying",
	"cancelling",
);

/**
 * A context sent to a peer, its IKE_SA frozen
 */
typedef struct {
	/** IKE_SA, peer, mobile node, transfer ID */
	cxtp_handover_t handover;
	/** where the transfer is */
	phase_t phase;
	/** why we asked the peer, in PHASE_QUERYING */
	char *query;
	/** who withdraws it, in PHASE_CANCELLING */
	char *cancel;
	/** peer to send the context to once withdrawn, NULL for none */
	char *redirect;
	/** transfer counter of the token key sent, and of the redirect's */
	uint32_t counter;
	uint32_t redirect_counter;
} entry_t;

static void entry_destroy(entry_t *entry)
{
	free(entry->redirect);
	free(entry->handover.peer);
	entry->handover.mn->destroy(entry->handover.mn);
	free(entry);
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
 * Build the PCTD/CTD with the context of an IKE_SA, a PCTD with the T flag
 * for a takeover
 */
static cxtp_message_t *build_context(private_cxtp_par_t *this,
									 ike_sa_t *ike_sa, cxtp_message_type_t type,
									 bool takeover, cxtp_transfer_id_t *id,
									 uint32_t counter)
{
	cxtp_context_t *context;
	cxtp_message_t *message;
	chunk_t key;
	bool ok;

	/* nAR sets the counter past the one of the token key it gets */
	context = cxtp_export(this->capture, ike_sa, counter);
	if (!context)
	{
		return NULL;
	}
	message = cxtp_message_create(type, ike_sa->get_other_host(ike_sa));
	message->set_ack(message, TRUE);
	message->set_takeover(message, takeover);
	ok = message->set_transfer_id(message, id) &&
		 this->transfers->derive_token_key(this->transfers, ike_sa, counter,
										   &key);
	if (ok)
	{
		ok = message->set_key(message, key) && add_cdbs(message, context);
		chunk_clear(&key);
	}
	context->destroy(context);
	if (!ok)
	{
		message->destroy(message);
		return NULL;
	}
	return message;
}

/**
 * Create the entry of a transfer of an IKE_SA
 */
static entry_t *create_entry(ike_sa_t *ike_sa, char *peer)
{
	ike_sa_id_t *id = ike_sa->get_id(ike_sa);
	entry_t *entry;

	INIT(entry,
		.handover = {
			.ike_id = ike_sa->get_unique_id(ike_sa),
			.peer = strdup(peer),
			.mn = ike_sa->get_other_host(ike_sa)->clone(
											ike_sa->get_other_host(ike_sa)),
			.id = {
				.spi_i = id->get_initiator_spi(id),
				.spi_r = id->get_responder_spi(id),
			},
		},
		.phase = PHASE_SENT,
	);
	return entry;
}

/**
 * Send the context of an IKE_SA to a peer in a PCTD (predictive, with
 * takeover the peer activates it at once) or a CTD (reactive, asked for
 * with a CT-Req) and freeze the IKE_SA; frozen is TRUE if it is frozen
 * already, its earlier transfer replaced by this one; counter is the
 * transfer counter of the token key sent along
 */
static char *transfer(private_cxtp_par_t *this, ike_sa_t *ike_sa, char *peer,
					  cxtp_message_type_t type, bool takeover, bool frozen,
					  uint32_t counter)
{
	cxtp_message_t *message;
	cxtp_peer_t *config;
	entry_t *entry;
	u_int ike_id = ike_sa->get_unique_id(ike_sa), serial;
	char *reason;

	config = this->settings->get_peer(this->settings, peer);
	if (!config)
	{
		return strdup("no such CXTP peer");
	}
	config->destroy(config);
	if (this->pending->has_ike_sa(this->pending, ike_id))
	{
		return strdup("a transfer of this IKE_SA is in progress");
	}
	if (!frozen)
	{
		reason = cxtp_export_check(this->capture, ike_sa);
		if (reason)
		{
			return reason;
		}
	}
	entry = create_entry(ike_sa, peer);
	entry->counter = counter;
	serial = this->pending->add(this->pending, &entry->handover);
	message = build_context(this, ike_sa, type, takeover, &entry->handover.id,
							counter);
	if (!message)
	{
		entry = (entry_t*)this->pending->remove(this->pending, serial);
		if (entry)
		{
			entry_destroy(entry);
		}
		return strdup("capturing or encoding its context failed, see the "
					  "log");
	}
	if (!frozen)
	{
		this->freeze->freeze(this->freeze, ike_sa);
	}
	DBG1(DBG_IKE, "cxtp: %s the context of IKE_SA %s[%u] to peer '%s', "
		 "IKE_SA frozen until it is activated there (transfer %u)",
		 takeover ? "handing over" : type == CXTP_PCTD ? "pushing" : "sending",
		 ike_sa->get_name(ike_sa), ike_id, peer, serial);
	if (!this->transport->send_reliable(this->transport, peer, message,
										serial))
	{
		message->destroy(message);
		entry = (entry_t*)this->pending->remove(this->pending, serial);
		if (entry)
		{
			entry_destroy(entry);
		}
		if (!frozen)
		{
			this->freeze->thaw(this->freeze, ike_sa);
		}
		return strdup("sending the context failed, see the log");
	}
	message->destroy(message);
	this->pending->event(this->pending, CXTP_EVENT_EXPORT, ike_id, peer,
						 ike_sa->get_other_host(ike_sa), NULL);
	return NULL;
}

METHOD(cxtp_par_t, push, char*,
	private_cxtp_par_t *this, ike_sa_t *ike_sa, char *peer, bool takeover)
{
	return transfer(this, ike_sa, peer, CXTP_PCTD, takeover, FALSE,
					this->transfers->get_transfers(this->transfers, ike_sa));
}

/**
 * Send a CTC for a transfer: reliably for one we wait for an answer to
 */
static void send_ctc(private_cxtp_par_t *this, char *peer, host_t *mn,
					 cxtp_transfer_id_t *id, bool reliable)
{
	cxtp_message_t *message;

	message = cxtp_message_create(CXTP_CTC, mn);
	message->set_transfer_id(message, id);
	if (reliable)
	{
		this->transport->send_reliable(this->transport, peer, message,
									   id->serial);
	}
	else
	{
		this->transport->send(this->transport, peer, message);
	}
	message->destroy(message);
}

/**
 * Move a transfer to PHASE_QUERYING or PHASE_CANCELLING and send the CTC,
 * unless one is under way, if the transfer with a serial is in one of the
 * phases given as mask (1 << phase)
 *
 * @return			TRUE if the transfer was in one of the phases
 */
static bool withdraw(private_cxtp_par_t *this, u_int serial, u_int phases,
					 phase_t phase, char *why, char *redirect,
					 uint32_t redirect_counter)
{
	enumerator_t *enumerator;
	entry_t *entry;
	cxtp_transfer_id_t id;
	host_t *mn = NULL;
	char *peer = NULL;
	bool found = FALSE, send = FALSE;
	u_int ike_id = 0;

	enumerator = this->pending->create_serial_enumerator(this->pending, serial);
	while (enumerator->enumerate(enumerator, &entry))
	{
		if (phases & (1 << entry->phase))
		{
			found = TRUE;
			send = entry->phase != PHASE_QUERYING &&
				   entry->phase != PHASE_CANCELLING;
			if (phase == PHASE_QUERYING)
			{
				entry->query = why;
			}
			else
			{
				entry->cancel = why;
			}
			entry->phase = phase;
			if (redirect && !entry->redirect)
			{
				entry->redirect = strdup(redirect);
				entry->redirect_counter = redirect_counter;
			}
			peer = strdup(entry->handover.peer);
			mn = entry->handover.mn->clone(entry->handover.mn);
			id = entry->handover.id;
			ike_id = entry->handover.ike_id;
		}
		break;
	}
	enumerator->destroy(enumerator);
	if (found)
	{
		DBG1(DBG_IKE, "cxtp: %s, %s peer '%s' whether it activated the "
			 "context of IKE_SA [%u] (transfer %u)", why,
			 send ? "asking" : "still asking", peer, ike_id, serial);
		if (send)
		{
			send_ctc(this, peer, mn, &id, TRUE);
		}
		free(peer);
		mn->destroy(mn);
	}
	return found;
}

/**
 * Check out the IKE_SA of a transfer that ended, reporting its failure if it
 * is gone
 */
static ike_sa_t *checkout_ended(private_cxtp_par_t *this,
								cxtp_handover_t *handover)
{
	ike_sa_t *ike_sa;

	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													handover->ike_id);
	if (!ike_sa)
	{
		DBG1(DBG_IKE, "cxtp: pushed IKE_SA [%u] is gone", handover->ike_id);
		this->pending->event(this->pending, CXTP_EVENT_FAILURE,
							 handover->ike_id, handover->peer, handover->mn,
							 "IKE_SA gone");
	}
	return ike_sa;
}

/**
 * End a transfer, removed from the pending ones: remove the IKE_SA once
 * activated elsewhere, or thaw it, reporting the event given; or, frozen
 * still, send the context to the peer that asked for it meanwhile
 */
static void finish(private_cxtp_par_t *this, entry_t *entry,
				   cxtp_event_t event, char *why)
{
	cxtp_handover_t *handover = &entry->handover;
	ike_sa_t *ike_sa;
	char *reason;

	this->transport->acknowledge(this->transport, handover->serial);
	ike_sa = checkout_ended(this, handover);
	if (!ike_sa)
	{
		return;
	}
	if (event == CXTP_EVENT_ACTIVATE || event == CXTP_EVENT_SUPERSEDE)
	{
		if (event == CXTP_EVENT_ACTIVATE)
		{
			DBG1(DBG_IKE, "cxtp: IKE_SA %s[%u] was activated on peer '%s', "
				 "removing it", ike_sa->get_name(ike_sa), handover->ike_id,
				 handover->peer);
		}
		else
		{
			DBG1(DBG_IKE, "cxtp: the mobile node set up a new IKE_SA with "
				 "peer '%s' instead of activating IKE_SA %s[%u] there "
				 "(transfer %u), removing it", handover->peer,
				 ike_sa->get_name(ike_sa), handover->ike_id,
				 handover->serial);
		}
		/* no DELETE: nAR continues the very same SAs, and what fell due;
		 * or the node left this IKE_SA behind for a new one */
		this->freeze->forget(this->freeze, handover->ike_id);
		charon->ike_sa_manager->checkin_and_destroy(charon->ike_sa_manager,
													ike_sa);
		this->pending->event(this->pending, event, handover->ike_id,
							 handover->peer, handover->mn, NULL);
		return;
	}
	if (entry->redirect)
	{	/* still frozen, with what fell due, for the peer that asked */
		reason = transfer(this, ike_sa, entry->redirect, CXTP_CTD, FALSE, TRUE,
						  entry->redirect_counter);
		if (!reason)
		{
			charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
			this->pending->event(this->pending, event, handover->ike_id,
								 handover->peer, handover->mn, why);
			return;
		}
		DBG1(DBG_IKE, "cxtp: not sending the context of IKE_SA [%u] to "
			 "peer '%s': %s", handover->ike_id, entry->redirect, reason);
		free(reason);
	}
	DBG1(DBG_IKE, "cxtp: thawing IKE_SA %s[%u], peer '%s' will not activate "
		 "its context (transfer %u): %s", ike_sa->get_name(ike_sa),
		 handover->ike_id, handover->peer, handover->serial, why);
	this->freeze->thaw(this->freeze, ike_sa);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	this->pending->event(this->pending, event, handover->ike_id,
						 handover->peer, handover->mn, why);
}

/**
 * No answer whether the peer activated the context: remove the IKE_SA, as
 * two live copies must never be, with a DELETE the mobile node only accepts
 * if no other router used the IKE_SA with it since (the peer's MOBIKE update
 * after an activation took the message ID)
 */
static void give_up(private_cxtp_par_t *this, entry_t *entry)
{
	cxtp_handover_t *handover = &entry->handover;
	ike_sa_t *ike_sa;

	ike_sa = checkout_ended(this, handover);
	if (!ike_sa)
	{
		return;
	}
	DBG1(DBG_IKE, "cxtp: peer '%s' did not answer whether it activated the "
		 "context of IKE_SA %s[%u] (transfer %u), deleting the IKE_SA here "
		 "as it may be live there", handover->peer, ike_sa->get_name(ike_sa),
		 handover->ike_id, handover->serial);
	/* a rekeyed IKE_SA sends its DELETE, a passive one does not */
	this->freeze->forget(this->freeze, handover->ike_id);
	ike_sa->set_state(ike_sa, IKE_REKEYED);
	ike_sa->delete(ike_sa, TRUE);
	charon->ike_sa_manager->checkin_and_destroy(charon->ike_sa_manager,
												ike_sa);
	this->pending->event(this->pending, CXTP_EVENT_FAILURE, handover->ike_id,
						 handover->peer, handover->mn,
						 "peer did not answer, IKE_SA deleted");
}

CALLBACK(activation_timeout, void,
	private_cxtp_par_t *this, u_int serial)
{
	withdraw(this, serial, 1 << PHASE_IMPORTED, PHASE_QUERYING,
			 "not activated in time", NULL, 0);
}

/**
 * What a CTDR reports about a transfer
 */
typedef enum {
	CTDR_IMPORTED,
	CTDR_ACTIVATED,
	CTDR_CANCELLED,
	CTDR_SUPERSEDED,
	CTDR_FAILED,
} ctdr_t;

ENUM(ctdr_names, CTDR_IMPORTED, CTDR_FAILED,
	"imported",
	"activated",
	"cancelled",
	"superseded",
	"failed",
);

/**
 * What a CTDR reports
 */
static ctdr_t get_outcome(cxtp_message_t *message)
{
	enumerator_t *enumerator;
	cxtp_status_t *status;
	ctdr_t outcome = CTDR_IMPORTED;

	enumerator = message->create_status_enumerator(message);
	while (enumerator->enumerate(enumerator, &status))
	{
		if (status->fpt != CXTP_FPT_IKE_SA)
		{
			continue;
		}
		switch (status->status)
		{
			case CXTP_STATUS_ACTIVATED:
				outcome = CTDR_ACTIVATED;
				break;
			case CXTP_STATUS_CANCELLED:
				outcome = CTDR_CANCELLED;
				break;
			case CXTP_STATUS_SUPERSEDED:
				outcome = CTDR_SUPERSEDED;
				break;
			case 0:
				break;
			default:
				outcome = CTDR_FAILED;
				break;
		}
	}
	enumerator->destroy(enumerator);
	if (outcome == CTDR_IMPORTED && !message->get_success(message))
	{
		outcome = CTDR_FAILED;
	}
	return outcome;
}

/**
 * A CTDR for no transfer of ours: a late one, or about a transfer we gave
 * up on, whose context the peer must not keep
 */
static void stale_ctdr(private_cxtp_par_t *this, char *peer,
					   cxtp_message_t *message, cxtp_transfer_id_t *id,
					   ctdr_t outcome, bool in_use)
{
	if (!in_use)
	{	/* nothing of ours waits for an answer with this serial */
		this->transport->acknowledge(this->transport, id->serial);
	}
	switch (outcome)
	{
		case CTDR_IMPORTED:
			DBG1(DBG_IKE, "cxtp: peer '%s' imported the context of %H for "
				 "transfer %u, which we ended, withdrawing it", peer,
				 message->get_mn_address(message), id->serial);
			send_ctc(this, peer, message->get_mn_address(message), id, FALSE);
			break;
		case CTDR_ACTIVATED:
		case CTDR_SUPERSEDED:
			DBG1(DBG_IKE, "cxtp: peer '%s' %s the context of %H for "
				 "transfer %u, which we ended", peer,
				 outcome == CTDR_ACTIVATED ? "activated" : "superseded",
				 message->get_mn_address(message), id->serial);
			break;
		default:
			DBG2(DBG_IKE, "cxtp: CTDR (%N) from peer '%s' for transfer %u "
				 "of %H matches no transfer, ignored", ctdr_names, outcome,
				 peer, id->serial, message->get_mn_address(message));
			break;
	}
}

METHOD(cxtp_par_t, process_ctdr, void,
	private_cxtp_par_t *this, char *peer, cxtp_message_t *message)
{
	enumerator_t *enumerator;
	cxtp_transfer_id_t id;
	entry_t *entry, *found = NULL;
	phase_t phase = PHASE_SENT;
	ctdr_t outcome;
	char timeout[32];
	u_int ike_id = 0;
	bool in_use = FALSE;

	if (!message->get_transfer_id(message, &id))
	{
		DBG1(DBG_IKE, "cxtp: CTDR from peer '%s' for %H names no transfer, "
			 "ignored", peer, message->get_mn_address(message));
		return;
	}
	outcome = get_outcome(message);
	/* pAR's transfer IDs carry the serial of their handover */
	enumerator = this->pending->create_serial_enumerator(this->pending,
														 id.serial);
	while (enumerator->enumerate(enumerator, &entry))
	{
		in_use = TRUE;
		if (streq(entry->handover.peer, peer) &&
			cxtp_transfer_id_equals(&entry->handover.id, &id))
		{
			found = entry;
			phase = entry->phase;
			ike_id = entry->handover.ike_id;
			if (outcome == CTDR_IMPORTED && phase == PHASE_SENT)
			{
				entry->phase = PHASE_IMPORTED;
			}
			break;
		}
	}
	enumerator->destroy(enumerator);
	if (!found)
	{
		stale_ctdr(this, peer, message, &id, outcome, in_use);
		return;
	}
	if (outcome == CTDR_IMPORTED)
	{
		if (phase == PHASE_SENT)
		{	/* now we wait for the activation */
			DBG1(DBG_IKE, "cxtp: peer '%s' imported the context of IKE_SA "
				 "[%u] (transfer %u), waiting %s for its activation", peer,
				 ike_id, id.serial, cxtp_options_print_time(
					this->settings->get_handover_timeout(this->settings),
					timeout, sizeof(timeout)));
			this->transport->acknowledge(this->transport, id.serial);
			this->pending->schedule(this->pending, id.serial,
						this->settings->get_handover_timeout(this->settings),
						activation_timeout, this);
			/* a drain pushes the next context */
			this->pending->event(this->pending, CXTP_EVENT_IMPORT, ike_id,
								 peer, message->get_mn_address(message), NULL);
		}
		/* else a repeated one, or a late one while we ask with a CTC */
		return;
	}
	entry = (entry_t*)this->pending->remove(this->pending, id.serial);
	if (!entry)
	{	/* ended by another thread meanwhile */
		return;
	}
	switch (outcome)
	{
		case CTDR_ACTIVATED:
			finish(this, entry, CXTP_EVENT_ACTIVATE, NULL);
			break;
		case CTDR_SUPERSEDED:
			finish(this, entry, CXTP_EVENT_SUPERSEDE, NULL);
			break;
		case CTDR_CANCELLED:
			if (entry->phase == PHASE_CANCELLING)
			{
				finish(this, entry, CXTP_EVENT_CANCEL, entry->cancel);
			}
			else if (entry->phase == PHASE_SENT)
			{
				finish(this, entry, CXTP_EVENT_FAILURE,
					   "peer did not import the context");
			}
			else
			{
				finish(this, entry, CXTP_EVENT_THAW,
					   entry->query ?: "peer dropped the context");
			}
			break;
		default:
			DBG1(DBG_IKE, "cxtp: peer '%s' could not import or activate the "
				 "context of IKE_SA [%u]", peer, ike_id);
			finish(this, entry, CXTP_EVENT_FAILURE,
				   "peer could not import or activate the context");
			break;
	}
	entry_destroy(entry);
}

/**
 * What the token of a CTAR or CT-Req is for one of our IKE_SAs
 */
typedef enum {
	/** not valid for it */
	TOKEN_INVALID,
	/** valid for a new transfer */
	TOKEN_VALID,
	/** of a CTAR or CT-Req acted on already */
	TOKEN_REPLAYED,
} token_t;

/**
 * Whether the token of a message is valid with the key of a transfer counter
 */
static bool token_valid(private_cxtp_par_t *this, ike_sa_t *ike_sa,
						cxtp_message_t *message, host_t *src, host_t *dst,
						uint32_t counter)
{
	chunk_t key;
	bool valid;

	if (!this->transfers->derive_token_key(this->transfers, ike_sa, counter,
										   &key))
	{
		return FALSE;
	}
	valid = message->verify_token(message, key, src, dst);
	chunk_clear(&key);
	return valid;
}

/**
 * The transfer counter of the token key sent with the transfer of an IKE_SA
 */
static bool pending_counter(private_cxtp_par_t *this, u_int ike_id,
							uint32_t *counter)
{
	enumerator_t *enumerator;
	entry_t *entry;
	bool found = FALSE;

	enumerator = this->pending->create_ike_sa_enumerator(this->pending,
														 ike_id);
	if (enumerator->enumerate(enumerator, &entry))
	{
		*counter = entry->counter;
		found = TRUE;
	}
	enumerator->destroy(enumerator);
	return found;
}

/**
 * Check the token of a CTAR (src and dst its IP addresses) or CT-Req (NULL,
 * it carries the CTAR's) for an IKE_SA: one acted on before on the same
 * path, or a valid one for the counters the mobile node may use now, ours
 * and a few ahead (its CTARs lost before reaching us), or, for a CT-Req,
 * the counter of the transfer in progress (the node did not arrive where
 * its predictive CTAR said)
 */
static token_t check_token(private_cxtp_par_t *this, ike_sa_t *ike_sa,
						   cxtp_message_t *message, host_t *src, host_t *dst,
						   cxtp_replay_path_t path, uint32_t *counter)
{
	uint32_t next, i;

	if (this->transfers->find_accepted(this->transfers, ike_sa, path,
								message->get_sequence(message), counter) &&
		token_valid(this, ike_sa, message, src, dst, *counter))
	{
		return TOKEN_REPLAYED;
	}
	next = this->transfers->get_transfers(this->transfers, ike_sa);
	for (i = 0; i < CXTP_TOKEN_WINDOW; i++)
	{
		if (token_valid(this, ike_sa, message, src, dst, next + i))
		{
			*counter = next + i;
			return TOKEN_VALID;
		}
	}
	if (path == CXTP_REPLAY_CTREQ &&
		pending_counter(this, ike_sa->get_unique_id(ike_sa), counter) &&
		*counter < next &&
		token_valid(this, ike_sa, message, src, dst, *counter))
	{
		return TOKEN_VALID;
	}
	return TOKEN_INVALID;
}

/**
 * Unique ID of an IKE_SA with a mobile node that the token of a CTAR or
 * CT-Req is valid for: an established one, or one whose context we sent
 *
 * @param known		set if we hold any IKE_SA with the mobile node
 * @param token		receives what the token is for the IKE_SA returned
 * @param counter	receives the transfer counter of its key
 */
static u_int find_ike_sa(private_cxtp_par_t *this, cxtp_message_t *message,
						 host_t *src, host_t *dst, cxtp_replay_path_t path,
						 bool *known, token_t *token, uint32_t *counter)
{
	host_t *mn = message->get_mn_address(message);
	enumerator_t *enumerator;
	ike_sa_t *ike_sa;
	u_int id, found = 0;

	*known = FALSE;
	*token = TOKEN_INVALID;
	/* the token tells the node's IKE_SAs apart */
	enumerator = this->index->create_enumerator(this->index, mn);
	while (enumerator->enumerate(enumerator, &ike_sa))
	{
		id = ike_sa->get_unique_id(ike_sa);
		/* a passive one is nAR's import or a node's, unless we froze it */
		if (ike_sa->get_state(ike_sa) == IKE_ESTABLISHED ||
			(ike_sa->get_state(ike_sa) == IKE_PASSIVE &&
			 this->pending->has_ike_sa(this->pending, id)))
		{
			*known = TRUE;
			*token = check_token(this, ike_sa, message, src, dst, path,
								 counter);
			if (*token == TOKEN_VALID)
			{	/* remembered before anything is done with it */
				this->transfers->accept_token(this->transfers, ike_sa, path,
								message->get_sequence(message), *counter);
			}
			if (*token != TOKEN_INVALID)
			{
				found = id;
				break;
			}
		}
	}
	enumerator->destroy(enumerator);
	return found;
}

/**
 * The serial and peer of the transfer of an IKE_SA, if any
 */
static u_int find_transfer(private_cxtp_par_t *this, u_int ike_id,
						   char **peer)
{
	enumerator_t *enumerator;
	entry_t *entry;
	u_int serial = 0;

	enumerator = this->pending->create_ike_sa_enumerator(this->pending,
														 ike_id);
	if (enumerator->enumerate(enumerator, &entry))
	{
		serial = entry->handover.serial;
		*peer = strdup(entry->handover.peer);
	}
	enumerator->destroy(enumerator);
	return serial;
}

/**
 * A CT-Req for a context we sent already: the mobile node arrived at the
 * peer asking. Sent there, the import is gone: send it again, replacing the
 * transfer. Sent elsewhere: withdraw it there, then send it.
 */
static void transfer_again(private_cxtp_par_t *this, ike_sa_t *ike_sa,
						   char *peer, u_int serial, char *sent_to,
						   uint32_t counter)
{
	entry_t *entry;
	char *reason;

	if (!streq(peer, sent_to))
	{
		DBG1(DBG_IKE, "cxtp: peer '%s' asks for the context of IKE_SA [%u] "
			 "sent to peer '%s', sending it once withdrawn there", peer,
			 ike_sa->get_unique_id(ike_sa), sent_to);
		withdraw(this, serial, ALL_PHASES, PHASE_CANCELLING,
				 "the mobile node arrived at another peer", peer, counter);
		return;
	}
	entry = (entry_t*)this->pending->remove(this->pending, serial);
	if (!entry)
	{
		return;
	}
	DBG1(DBG_IKE, "cxtp: peer '%s' asks for the context of IKE_SA [%u] it "
		 "did not activate (transfer %u), sending it again", peer,
		 entry->handover.ike_id, serial);
	this->transport->acknowledge(this->transport, serial);
	reason = transfer(this, ike_sa, peer, CXTP_CTD, FALSE, TRUE, counter);
	if (reason)
	{	/* we hold the IKE_SA, frozen, and no transfer: thaw it */
		DBG1(DBG_IKE, "cxtp: not sending the context of IKE_SA [%u] to peer "
			 "'%s': %s", entry->handover.ike_id, peer, reason);
		free(reason);
		this->freeze->thaw(this->freeze, ike_sa);
		this->pending->event(this->pending, CXTP_EVENT_FAILURE,
							 entry->handover.ike_id, peer, entry->handover.mn,
							 "sending the context again failed, IKE_SA thawed");
	}
	entry_destroy(entry);
}

/**
 * Send the context of the IKE_SA we hold with a mobile node to a peer, if
 * the CTAR (sent from src to dst) or CT-Req (src and dst NULL) asking for it
 * carries the node's valid token, and no such request was acted on before.
 *
 * @return			FALSE if we hold no IKE_SA with the mobile node
 */
static bool transfer_for(private_cxtp_par_t *this, char *peer,
						 cxtp_message_t *message, cxtp_message_type_t type,
						 host_t *src, host_t *dst)
{
	host_t *mn = message->get_mn_address(message);
	cxtp_replay_path_t path;
	ike_sa_t *ike_sa;
	token_t token;
	char *reason, *sent_to = NULL;
	u_int ike_id, serial;
	uint32_t counter = 0;
	bool known;

	path = type == CXTP_CTD ? CXTP_REPLAY_CTREQ : CXTP_REPLAY_CTAR;
	ike_id = find_ike_sa(this, message, src, dst, path, &known, &token,
						 &counter);
	if (!ike_id)
	{
		if (known)
		{
			DBG1(DBG_IKE, "cxtp: %N for %H has an invalid authorization "
				 "token, ignored", cxtp_message_type_names,
				 message->get_type(message), mn);
		}
		return known;
	}
	if (token == TOKEN_REPLAYED)
	{	/* the context went with the first one, retransmitted as needed */
		DBG1(DBG_IKE, "cxtp: %N %u for %H from peer '%s' repeats one acted on "
			 "already for IKE_SA [%u], ignored", cxtp_message_type_names,
			 message->get_type(message), message->get_sequence(message), mn,
			 peer, ike_id);
		return TRUE;
	}
	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													ike_id);
	if (!ike_sa)
	{
		return FALSE;
	}
	serial = find_transfer(this, ike_id, &sent_to);
	if (serial && type == CXTP_CTD)
	{
		transfer_again(this, ike_sa, peer, serial, sent_to, counter);
	}
	else
	{
		if (type == CXTP_CTD)
		{	/* the node asked nAR from its new link, a check sent to its
			 * previous address goes unanswered (predictive: the node is
			 * still here and answers it, it may have done so already) */
			cxtp_export_drop_liveness_check(ike_sa);
		}
		reason = transfer(this, ike_sa, peer, type, FALSE, FALSE, counter);
		if (reason)
		{
			DBG1(DBG_IKE, "cxtp: not sending the context of IKE_SA [%u] to "
				 "peer '%s': %s", ike_id, peer, reason);
			free(reason);
		}
	}
	free(sent_to);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	return TRUE;
}

/**
 * Whether the CTAR a CT-Req carries the token of was not sent to another
 * peer than the one that asks, so a peer cannot use a token the node meant
 * for another router
 */
static bool ctreq_from_addressee(private_cxtp_par_t *this, char *peer,
								 cxtp_message_t *message)
{
	host_t *dst = message->get_ctar_destination(message);
	cxtp_peer_t *config;
	bool match;

	if (!dst || !message->get_ctar_source(message) ||
		!message->get_ar_address(message))
	{
		DBG1(DBG_IKE, "cxtp: CT-Req from peer '%s' for %H lacks the CTAR's "
			 "addresses its token covers, ignored", peer,
			 message->get_mn_address(message));
		return FALSE;
	}
	if (charon->kernel->get_interface(charon->kernel, dst, NULL))
	{	/* a CTAR we got ourselves, acted on on its own path */
		DBG1(DBG_IKE, "cxtp: CT-Req from peer '%s' for %H carries a CTAR sent "
			 "to us, ignored", peer, message->get_mn_address(message));
		return FALSE;
	}
	/* a default router may have an address not listed for it */
	config = this->settings->find_peer(this->settings, dst, TRUE);
	match = !config || streq(config->get_name(config), peer);
	if (!match)
	{
		DBG1(DBG_IKE, "cxtp: CT-Req from peer '%s' for %H carries a CTAR sent "
			 "to %H of peer '%s', ignored", peer,
			 message->get_mn_address(message), dst, config->get_name(config));
	}
	DESTROY_IF(config);
	return match;
}

/**
 * Answer a CT-Req for a mobile node we hold no IKE_SA with, once: nAR would
 * retransmit it otherwise, four CT-Reqs for one forged CTAR
 */
static void send_no_context(private_cxtp_par_t *this, char *peer,
							cxtp_message_t *message)
{
	cxtp_message_t *reply;

	DBG1(DBG_IKE, "cxtp: CT-Req from peer '%s' for %H, but we hold no IKE_SA "
		 "with it, answering so", peer, message->get_mn_address(message));
	reply = cxtp_message_create(CXTP_CTDR, message->get_mn_address(message));
	reply->set_success(reply, FALSE);
	if (reply->add_status(reply, CXTP_FPT_IKE_SA, CXTP_STATUS_NO_CONTEXT))
	{
		this->transport->send(this->transport, peer, reply);
	}
	reply->destroy(reply);
}

/**
 * Answer a CT-Req with an IKE request that we send no context for, so nAR
 * drops the request rather than ask again; the node's next try may succeed
 */
static void answer_no_context(private_cxtp_par_t *this, char *peer,
							  cxtp_message_t *message)
{
	cxtp_message_t *reply;

	reply = cxtp_message_create(CXTP_CTDR, message->get_mn_address(message));
	reply->set_success(reply, FALSE);
	if (reply->add_status(reply, CXTP_FPT_IKE_SA, CXTP_STATUS_NO_CONTEXT))
	{
		this->transport->send(this->transport, peer, reply);
	}
	reply->destroy(reply);
}

/**
 * Refuse a CT-Req with an IKE request: answered once, so that nAR drops the
 * request, and logged at most once a second, as anyone may make nAR send
 * such CT-Reqs with made-up requests
 */
static void refuse_request(private_cxtp_par_t *this, char *peer,
						   cxtp_message_t *message, message_t *request,
						   char *reason)
{
	ike_sa_id_t *id;
	uint64_t total;
	u_int refused;
	bool log;

	log = this->refused->count(this->refused, &refused, &total);
	if (log && request)
	{
		id = request->get_ike_sa_id(request);
		DBG1(DBG_IKE, "cxtp: CT-Req from peer '%s' with %N request %u of %H "
			 "for IKE_SA %.16"PRIx64"_i %.16"PRIx64"_r refused, %s, nothing "
			 "frozen (%u refused since the last notice, %"PRIu64" in all)",
			 peer, exchange_type_names, request->get_exchange_type(request),
			 request->get_message_id(request),
			 message->get_mn_address(message),
			 be64toh(id->get_initiator_spi(id)),
			 be64toh(id->get_responder_spi(id)), reason, refused, total);
	}
	else if (log)
	{
		DBG1(DBG_IKE, "cxtp: CT-Req from peer '%s' with an IKE request of %H "
			 "refused, %s, nothing frozen (%u refused since the last notice, "
			 "%"PRIu64" in all)", peer, message->get_mn_address(message),
			 reason, refused, total);
	}
	answer_no_context(this, peer, message);
}

/**
 * A CT-Req that carries the IKE request of a mobile node that sends no CTAR
 * (a stock MOBIKE client arriving at the peer without a push): the request
 * names the IKE_SA by its SPIs and authorizes the transfer if it is the one
 * the IKE_SA expects next from the node and verifies with its keys, checked
 * before anything is frozen
 */
static void transfer_verified(private_cxtp_par_t *this, char *peer,
							  cxtp_message_t *message)
{
	host_t *mn = message->get_mn_address(message), *any;
	message_t *request;
	ike_sa_id_t *id;
	ike_sa_t *ike_sa;
	char *reason, *sent_to = NULL;
	u_int ike_id, serial;
	uint32_t counter;

	any = host_create_any(mn->get_family(mn));
	request = cxtp_ike_request_parse(message->get_ike_request(message), mn,
									 any);
	any->destroy(any);
	if (!request)
	{
		refuse_request(this, peer, message, NULL, "its IKE header is invalid");
		return;
	}
	id = request->get_ike_sa_id(request);
	id = id->clone(id);
	id->switch_initiator(id);
	ike_sa = charon->ike_sa_manager->checkout(charon->ike_sa_manager, id);
	id->destroy(id);
	if (!ike_sa)
	{
		refuse_request(this, peer, message, request, "we hold no such IKE_SA");
		request->destroy(request);
		return;
	}
	ike_id = ike_sa->get_unique_id(ike_sa);
	/* a passive one is an import or the ha plugin's, unless we froze it */
	if (ike_sa->get_state(ike_sa) != IKE_ESTABLISHED &&
		!this->pending->has_ike_sa(this->pending, ike_id))
	{
		reason = "the IKE_SA is not established";
	}
	else
	{
		reason = cxtp_ike_request_check(ike_sa, request);
	}
	if (reason)
	{
		refuse_request(this, peer, message, request, reason);
		charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
		request->destroy(request);
		return;
	}
	DBG1(DBG_IKE, "cxtp: CT-Req from peer '%s' carries %N request %u of %H "
		 "that verifies with IKE_SA %s[%u]", peer, exchange_type_names,
		 request->get_exchange_type(request), request->get_message_id(request),
		 mn, ike_sa->get_name(ike_sa), ike_id);
	request->destroy(request);
	serial = find_transfer(this, ike_id, &sent_to);
	if (serial && pending_counter(this, ike_id, &counter))
	{
		transfer_again(this, ike_sa, peer, serial, sent_to, counter);
	}
	else
	{
		cxtp_export_drop_liveness_check(ike_sa);
		counter = this->transfers->get_transfers(this->transfers, ike_sa);
		reason = transfer(this, ike_sa, peer, CXTP_CTD, FALSE, FALSE, counter);
		if (reason)
		{
			DBG1(DBG_IKE, "cxtp: not sending the context of IKE_SA [%u] to "
				 "peer '%s': %s", ike_id, peer, reason);
			free(reason);
			answer_no_context(this, peer, message);
		}
	}
	free(sent_to);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
}

METHOD(cxtp_par_t, process_ctreq, void,
	private_cxtp_par_t *this, char *peer, cxtp_message_t *message)
{
	if (message->get_ike_request(message).len)
	{
		transfer_verified(this, peer, message);
		return;
	}
	if (!ctreq_from_addressee(this, peer, message))
	{
		return;
	}
	if (!transfer_for(this, peer, message, CXTP_CTD, NULL, NULL))
	{
		send_no_context(this, peer, message);
	}
}

METHOD(cxtp_par_t, process_ctar, void,
	private_cxtp_par_t *this, char *peer, host_t *src, host_t *dst,
	cxtp_message_t *message)
{
	if (!transfer_for(this, peer, message, CXTP_PCTD, src, dst))
	{	/* gone since the dispatcher asked */
		DBG1(DBG_IKE, "cxtp: CTAR for %H names peer '%s', but we hold no "
			 "IKE_SA with it, ignored", message->get_mn_address(message),
			 peer);
	}
	message->destroy(message);
}

METHOD(cxtp_par_t, cancel, char*,
	private_cxtp_par_t *this, u_int ike_id)
{
	char *peer = NULL;
	u_int serial;

	serial = find_transfer(this, ike_id, &peer);
	free(peer);
	if (!serial ||
		!withdraw(this, serial, ALL_PHASES, PHASE_CANCELLING,
				  "cancelled by the operator", NULL, 0))
	{
		return strdup("no transfer of this IKE_SA in progress");
	}
	return NULL;
}

/**
 * Whether the transfer with a serial is in one of some phases
 */
static bool in_phase(private_cxtp_par_t *this, u_int serial, u_int phases)
{
	enumerator_t *enumerator;
	entry_t *entry;
	bool found = FALSE;

	enumerator = this->pending->create_serial_enumerator(this->pending, serial);
	if (enumerator->enumerate(enumerator, &entry))
	{
		found = phases & (1 << entry->phase);
	}
	enumerator->destroy(enumerator);
	return found;
}

METHOD(cxtp_par_t, timeout, void,
	private_cxtp_par_t *this, char *peer, u_int serial)
{
	entry_t *entry;

	if (withdraw(this, serial, 1 << PHASE_SENT, PHASE_QUERYING,
				 "no answer to the context", NULL, 0))
	{
		return;
	}
	/* no answer to a CTC either (the phase of a CTC is never left but
	 * for the end of the transfer) */
	if (in_phase(this, serial, (1 << PHASE_QUERYING) |
							   (1 << PHASE_CANCELLING)))
	{
		entry = (entry_t*)this->pending->remove(this->pending, serial);
		if (entry)
		{
			give_up(this, entry);
			entry_destroy(entry);
		}
	}
}

METHOD(cxtp_par_t, get_state, char*,
	private_cxtp_par_t *this, ike_sa_t *ike_sa)
{
	return this->pending->has_ike_sa(this->pending,
						ike_sa->get_unique_id(ike_sa)) ? "pending" : NULL;
}

/**
 * The phase of a transfer, for listings
 */
static char *transfer_state(cxtp_handover_t *handover)
{
	return enum_to_name(phase_names, ((entry_t*)handover)->phase);
}

METHOD(cxtp_par_t, create_transfer_enumerator, enumerator_t*,
	private_cxtp_par_t *this)
{
	return this->pending->create_info_enumerator(this->pending,
												 transfer_state);
}

METHOD(listener_t, ike_state_change, bool,
	listener_t *listener, ike_sa_t *ike_sa, ike_sa_state_t state)
{
	private_cxtp_par_t *this = (private_cxtp_par_t*)((char*)listener -
								offsetof(private_cxtp_par_t, public.listener));
	entry_t *entry;

	if (state != IKE_DESTROYING)
	{
		return TRUE;
	}
	/* ours are gone before we destroy the IKE_SA */
	entry = (entry_t*)this->pending->remove_ike_sa(this->pending,
											ike_sa->get_unique_id(ike_sa));
	if (entry)
	{
		DBG1(DBG_IKE, "cxtp: IKE_SA %s[%u] is deleted, withdrawing its context "
			 "from peer '%s' (transfer %u)", ike_sa->get_name(ike_sa),
			 entry->handover.ike_id, entry->handover.peer,
			 entry->handover.serial);
		this->freeze->forget(this->freeze, entry->handover.ike_id);
		/* answered like a late CTDR, which it is for us */
		send_ctc(this, entry->handover.peer, entry->handover.mn,
				 &entry->handover.id, TRUE);
		this->pending->event(this->pending, CXTP_EVENT_FAILURE,
							 entry->handover.ike_id, entry->handover.peer,
							 entry->handover.mn,
							 "IKE_SA deleted, context withdrawn");
		entry_destroy(entry);
	}
	return TRUE;
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
	this->refused->destroy(this->refused);
	free(this);
}

/*
 * Described in header
 */
cxtp_par_t *cxtp_par_create(cxtp_capture_t *capture,
							cxtp_transfers_t *transfers,
							cxtp_settings_t *settings,
							cxtp_transport_t *transport,
							cxtp_freeze_t *freeze,
							cxtp_ike_index_t *index)
{
	private_cxtp_par_t *this;

	INIT(this,
		.public = {
			.listener = {
				.ike_state_change = _ike_state_change,
			},
			.push = _push,
			.cancel = _cancel,
			.process_ctar = _process_ctar,
			.process_ctreq = _process_ctreq,
			.process_ctdr = _process_ctdr,
			.timeout = _timeout,
			.get_state = _get_state,
			.create_transfer_enumerator = _create_transfer_enumerator,
			.set_event_cb = _set_event_cb,
			.destroy = _destroy,
		},
		.capture = capture,
		.transfers = transfers,
		.settings = settings,
		.transport = transport,
		.freeze = freeze,
		.index = index,
		.pending = cxtp_handovers_create((void*)entry_destroy),
		.refused = cxtp_notice_create(),
	);
	return &this->public;
}
