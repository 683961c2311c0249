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


#include "cxtp_mn.h"
#include "cxtp_options.h"
#include "cxtp_export.h"

#include <daemon.h>
#include <threading/mutex.h>
#include <threading/condvar.h>
#include <collections/array.h>
#include <collections/linked_list.h>
#include <processing/jobs/callback_job.h>

typedef struct private_cxtp_mn_t private_cxtp_mn_t;

/**
 * How long wait_activation() waits past handover_timeout for the timeout
 * job, in ms
 */
#define CXTP_MN_WAIT_SLACK 5000

/**
 * Private data of a cxtp_mn_t object.
 */
struct private_cxtp_mn_t {

	/**
	 * Public cxtp_mn_t interface.
	 */
	cxtp_mn_t public;

	/**
	 * Captured SA keys, to check whether an IKE_SA can be transferred
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
	 * Transport to access routers
	 */
	cxtp_icmp_t *icmp;

	/**
	 * Source addresses of CTARs
	 */
	cxtp_source_t *source;

	/**
	 * Transfers of our IKE_SAs, transfer_t*
	 */
	linked_list_t *transfers_list;

	/**
	 * Serial of the last transfer
	 */
	u_int serial;

	/**
	 * Callback for events, and its data
	 */
	cxtp_event_cb_t event_cb;
	void *event_data;

	/**
	 * Activations waiting for a usable address, outcome_t*
	 */
	linked_list_t *outcomes;

	/**
	 * Signals a resolved outcome, or that we are going away
	 */
	condvar_t *condvar;

	/**
	 * Threads in wait_activation()
	 */
	u_int waiters;

	/**
	 * Set while destroying, the waiters return
	 */
	bool destroying;

	/**
	 * Protects the members above
	 */
	mutex_t *mutex;
};

/**
 * How an activation that waited for a usable address ended, for the
 * operator's command waiting for it
 */
typedef struct {
	/** the IKE_SA and the serial of its transfer */
	u_int ike_id;
	u_int serial;
	/** whether it ended */
	bool done;
	/** why no CTAR went out, NULL if one did */
	char *reason;
} outcome_t;

static void outcome_destroy(outcome_t *outcome)
{
	free(outcome->reason);
	free(outcome);
}

/**
 * Where a transfer stands
 */
typedef enum {
	/** frozen, waiting for the move and a usable address on the new link */
	TRANSFER_PREPARED,
	/** CTAR sent, SAs moved, waiting for the activation */
	TRANSFER_ACTIVATING,
} transfer_state_t;

/**
 * A transfer of one of our IKE_SAs to a new access router
 */
typedef struct {
	/** the IKE_SA, by unique ID and SPIs */
	u_int ike_id;
	ike_sa_id_t *id;
	/** serial, the timers started for a transfer touch only that one */
	u_int serial;
	/** where it stands */
	transfer_state_t state;
	/** the access router: when prepared the one named, NULL for the
	 * default router after the move; when activating the one the CTAR
	 * went to */
	host_t *nar;
	/** sequence number of the CTAR, 0 while prepared without a CTAR to pAR */
	uint32_t sequence;
	/** transfer counter of the token key of this attempt */
	uint32_t counter;
	/** whether the CTAR after the move asks for a CTAA */
	bool ack;
	/** why the last check of a moved IKE_SA sent no CTAR, logged once */
	char *waiting;
	/** prepared by an activation after the move, which found no usable
	 * address: it waits for one, not for the move */
	bool moved;
	/** moved: why there is no usable address, the failure if none comes */
	char *unusable;
	/** activating: the addresses before the move, to go back to */
	host_t *old_me;
	host_t *old_other;
	/** activating: ESP packets its CHILD_SAs had received at the CTAR */
	uint64_t packets;
} transfer_t;

static void transfer_destroy(transfer_t *transfer)
{
	transfer->id->destroy(transfer->id);
	DESTROY_IF(transfer->nar);
	DESTROY_IF(transfer->old_me);
	DESTROY_IF(transfer->old_other);
	free(transfer->waiting);
	free(transfer->unusable);
	free(transfer);
}

/**
 * Whether a transfer belongs to an IKE_SA: the same unique ID and SPIs
 */
static bool transfer_of(transfer_t *transfer, ike_sa_t *ike_sa)
{
	return transfer->ike_id == ike_sa->get_unique_id(ike_sa) &&
		   transfer->id->equals(transfer->id, ike_sa->get_id(ike_sa));
}

CALLBACK(transfer_match, bool,
	transfer_t *transfer, va_list args)
{
	ike_sa_t *ike_sa;

	VA_ARGS_VGET(args, ike_sa);
	return transfer_of(transfer, ike_sa);
}

/**
 * Find the transfer of an IKE_SA, this->mutex held
 */
static transfer_t *find_transfer(private_cxtp_mn_t *this, ike_sa_t *ike_sa)
{
	transfer_t *transfer;

	if (this->transfers_list->find_first(this->transfers_list, transfer_match,
										 (void**)&transfer, ike_sa))
	{
		return transfer;
	}
	return NULL;
}

/**
 * Remove the transfer of an IKE_SA, in a state
 */
static transfer_t *remove_transfer(private_cxtp_mn_t *this, ike_sa_t *ike_sa,
								   transfer_state_t state)
{
	transfer_t *transfer;

	this->mutex->lock(this->mutex);
	transfer = find_transfer(this, ike_sa);
	if (transfer && transfer->state == state)
	{
		this->transfers_list->remove(this->transfers_list, transfer, NULL);
	}
	else
	{
		transfer = NULL;
	}
	this->mutex->unlock(this->mutex);
	return transfer;
}

/**
 * Report an event, if anyone listens
 */
static void event(private_cxtp_mn_t *this, cxtp_event_t name, u_int ike_id,
				  host_t *ar, host_t *mn, char *error)
{
	cxtp_event_cb_t cb;
	void *data;
	char peer[INET6_ADDRSTRLEN + 1] = "";

	this->mutex->lock(this->mutex);
	cb = this->event_cb;
	data = this->event_data;
	this->mutex->unlock(this->mutex);
	if (cb)
	{
		if (ar)
		{
			snprintf(peer, sizeof(peer), "%H", ar);
		}
		cb(data, name, ike_id, ar ? peer : NULL, mn, error);
	}
}

/**
 * End the wait of an activation for a usable address, if one waits with
 * the transfer of a serial
 */
static void resolve(private_cxtp_mn_t *this, u_int serial, char *reason)
{
	enumerator_t *enumerator;
	outcome_t *outcome;

	this->mutex->lock(this->mutex);
	enumerator = this->outcomes->create_enumerator(this->outcomes);
	while (enumerator->enumerate(enumerator, &outcome))
	{
		if (outcome->serial == serial && !outcome->done)
		{
			outcome->done = TRUE;
			outcome->reason = strdupnull(reason);
			this->condvar->broadcast(this->condvar);
		}
	}
	enumerator->destroy(enumerator);
	this->mutex->unlock(this->mutex);
}

/**
 * A random sequence number for a CTAR (RFC 4067 3.2)
 */
static bool random_sequence(uint32_t *sequence)
{
	rng_t *rng;
	bool ok;

	rng = lib->crypto->create_rng(lib->crypto, RNG_WEAK);
	if (!rng)
	{
		return FALSE;
	}
	do
	{	/* 0 stands for none */
		ok = rng->get_bytes(rng, sizeof(*sequence), (uint8_t*)sequence);
	}
	while (ok && !*sequence);
	rng->destroy(rng);
	return ok;
}

/**
 * The transfer counter of a new attempt to transfer an IKE_SA: pAR accepts
 * each token once and looks ahead for attempts it never saw, so a token of
 * an attempt that did not complete is worth nothing later
 */
static uint32_t new_attempt(private_cxtp_mn_t *this, ike_sa_t *ike_sa)
{
	uint32_t counter;

	counter = this->transfers->get_transfers(this->transfers, ike_sa);
	this->transfers->set_transfers(this->transfers, ike_sa, counter + 1);
	return counter;
}

/**
 * Build the CTAR sent from src to dst, with the token keyed from the
 * IKE_SA's SK_d and the transfer counter of the attempt
 */
static cxtp_message_t *build_ctar(private_cxtp_mn_t *this, ike_sa_t *ike_sa,
								  host_t *ar, uint32_t sequence,
								  uint32_t counter, bool ack, host_t *src,
								  host_t *dst)
{
	cxtp_message_t *message;
	chunk_t key = chunk_empty;
	bool ok;

	if (!this->transfers->derive_token_key(this->transfers, ike_sa, counter,
										   &key))
	{
		return NULL;
	}
	if (!sequence && !random_sequence(&sequence))
	{
		chunk_clear(&key);
		return NULL;
	}
	message = cxtp_message_create(CXTP_CTAR, ike_sa->get_my_host(ike_sa));
	message->set_ar_address(message, ar);
	message->set_sequence(message, sequence);
	message->set_ack(message, ack);
	ok = message->sign_token(message, key, src, dst);
	chunk_clear(&key);
	if (!ok)
	{
		message->destroy(message);
		return NULL;
	}
	return message;
}

/**
 * The default router of the link we moved to: the next hop towards pAR,
 * unless pAR is still on one of our links
 */
static host_t *default_router(ike_sa_t *ike_sa)
{
	host_t *par = ike_sa->get_other_host(ike_sa), *router;

	router = charon->kernel->get_nexthop(charon->kernel, par, -1, NULL, NULL);
	if (router && router->ip_equals(router, par))
	{
		router->destroy(router);
		return NULL;
	}
	return router;
}

/**
 * ESP packets the CHILD_SAs of an IKE_SA received so far
 */
static uint64_t inbound_packets(ike_sa_t *ike_sa)
{
	enumerator_t *enumerator;
	child_sa_t *child_sa;
	uint64_t packets, sum = 0;

	enumerator = ike_sa->create_child_sa_enumerator(ike_sa);
	while (enumerator->enumerate(enumerator, &child_sa))
	{
		packets = 0;
		child_sa->get_usestats(child_sa, TRUE, NULL, NULL, &packets);
		sum += packets;
	}
	enumerator->destroy(enumerator);
	return sum;
}

/**
 * Move an IKE_SA and its CHILD_SAs to other addresses, keeping the ports
 */
static void move_hosts(ike_sa_t *ike_sa, host_t *me, host_t *other)
{
	host_t *local, *remote;

	local = me->clone(me);
	local->set_port(local, ike_sa->get_my_host(ike_sa)->get_port(
											ike_sa->get_my_host(ike_sa)));
	remote = other->clone(other);
	remote->set_port(remote, ike_sa->get_other_host(ike_sa)->get_port(
											ike_sa->get_other_host(ike_sa)));
	ike_sa->update_hosts(ike_sa, local, remote, UPDATE_HOSTS_FORCE_ADDRS);
	local->destroy(local);
	remote->destroy(remote);
}

/**
 * Mark the transfer of an IKE_SA activating (a prepared one, or a new one),
 * returns the access router it named when it was prepared
 */
static host_t *activating(private_cxtp_mn_t *this, ike_sa_t *ike_sa,
						  host_t *nar, uint32_t sequence, uint32_t counter,
						  bool ack, host_t *old_me, host_t *old_other,
						  uint64_t packets)
{
	transfer_t *transfer;
	host_t *named;

	this->mutex->lock(this->mutex);
	transfer = find_transfer(this, ike_sa);
	if (!transfer)
	{
		INIT(transfer,
			.ike_id = ike_sa->get_unique_id(ike_sa),
			.id = ike_sa->get_id(ike_sa)->clone(ike_sa->get_id(ike_sa)),
			.serial = ++this->serial,
		);
		this->transfers_list->insert_last(this->transfers_list, transfer);
	}
	transfer->state = TRANSFER_ACTIVATING;
	named = transfer->nar;
	transfer->nar = nar->clone(nar);
	transfer->sequence = sequence;
	transfer->counter = counter;
	transfer->ack = ack;
	transfer->old_me = old_me->clone(old_me);
	transfer->old_other = old_other->clone(old_other);
	transfer->packets = packets;
	this->mutex->unlock(this->mutex);
	return named;
}

/**
 * Undo activating(): prepared again with the access router it named, or in
 * no transfer
 */
static void not_activating(private_cxtp_mn_t *this, ike_sa_t *ike_sa,
						   bool prepared, host_t *named)
{
	transfer_t *transfer;

	this->mutex->lock(this->mutex);
	transfer = find_transfer(this, ike_sa);
	if (transfer && prepared)
	{
		transfer->state = TRANSFER_PREPARED;
		transfer->nar->destroy(transfer->nar);
		transfer->nar = named;
		transfer->old_me->destroy(transfer->old_me);
		transfer->old_other->destroy(transfer->old_other);
		transfer->old_me = transfer->old_other = NULL;
		transfer = NULL;
	}
	else
	{
		DESTROY_IF(named);
		if (transfer)
		{
			this->transfers_list->remove(this->transfers_list, transfer, NULL);
		}
	}
	this->mutex->unlock(this->mutex);
	if (transfer)
	{
		transfer_destroy(transfer);
	}
}

/**
 * Send the CTAR from a usable source to nAR and move the SAs there, the
 * IKE_SA not roaming until the activation shows
 */
static char *send_ctar(private_cxtp_mn_t *this, ike_sa_t *ike_sa, host_t *nar,
					   host_t *src, bool ack)
{
	cxtp_message_t *message;
	transfer_t *transfer;
	host_t *old_me, *old_other, *named;
	uint32_t sequence = 0, counter = 0;
	uint64_t packets;
	u_int serial = 0;
	char *reason;
	bool prepared = FALSE, sent;

	this->mutex->lock(this->mutex);
	transfer = find_transfer(this, ike_sa);
	if (transfer)
	{
		prepared = transfer->state == TRANSFER_PREPARED;
		sequence = transfer->sequence;
		counter = transfer->counter;
		serial = transfer->serial;
	}
	this->mutex->unlock(this->mutex);
	if (!prepared)
	{	/* a prepared one was checked when it froze; after a move a check
		 * of ours to the previous router, which froze the IKE_SA for a
		 * push, goes unanswered */
		cxtp_export_drop_liveness_check(ike_sa);
		reason = cxtp_export_check(this->capture, ike_sa);
		if (reason)
		{
			return reason;
		}
	}
	if (!prepared)
	{	/* a prepared one counted its attempt when it froze */
		counter = new_attempt(this, ike_sa);
	}
	message = build_ctar(this, ike_sa, ike_sa->get_other_host(ike_sa),
						 sequence, counter, ack, src, nar);
	if (!message)
	{
		return strdup("building the CTAR failed");
	}
	sequence = message->get_sequence(message);

	/* the same SAs continue on nAR, only their addresses change; moving
	 * them first has them ready when nAR activates its copies */
	old_me = ike_sa->get_my_host(ike_sa)->clone(ike_sa->get_my_host(ike_sa));
	old_other = ike_sa->get_other_host(ike_sa)->clone(
											ike_sa->get_other_host(ike_sa));
	move_hosts(ike_sa, src, nar);
	ike_sa->set_condition(ike_sa, COND_ROAMING_SUSPENDED, TRUE);
	if (prepared)
	{	/* it must see nAR's messages, roaming stays suspended */
		ike_sa->set_state(ike_sa, IKE_ESTABLISHED);
	}
	packets = inbound_packets(ike_sa);
	/* known before the CTAR leaves: nAR's CTAA may arrive at once */
	named = activating(this, ike_sa, nar, sequence, counter, ack, old_me,
					   old_other, packets);

	/* with or without a CTAA requested, until the activation shows */
	sent = this->icmp->send_reliable(this->icmp, src, nar, message, sequence);
	message->destroy(message);
	if (sent)
	{
		DBG1(DBG_IKE, "cxtp: sent CTAR for IKE_SA %s[%u] from %H to %H, "
			 "retransmitting it until the activation", ike_sa->get_name(ike_sa),
			 ike_sa->get_unique_id(ike_sa), src, nar);
		DESTROY_IF(named);
		if (prepared)
		{
			resolve(this, serial, NULL);
		}
	}
	else
	{
		not_activating(this, ike_sa, prepared, named);
		ike_sa->update_hosts(ike_sa, old_me, old_other,
							 UPDATE_HOSTS_FORCE_ADDRS);
		ike_sa->set_condition(ike_sa, COND_ROAMING_SUSPENDED, FALSE);
		if (prepared)
		{
			ike_sa->set_state(ike_sa, IKE_PASSIVE);
		}
	}
	old_me->destroy(old_me);
	old_other->destroy(old_other);
	return sent ? NULL : strdup("sending the CTAR failed");
}

/**
 * Put the address of the access router an IKE_SA is with first in its
 * MOBIKE peer address list, where charon looks for a path when the current
 * one fails; drop the others unless they are still that router's
 */
static void peer_addresses_of(ike_sa_t *ike_sa, host_t *router, bool keep)
{
	enumerator_t *enumerator;
	array_t *others = NULL;
	host_t *address;

	if (!ike_sa->supports_extension(ike_sa, EXT_MOBIKE))
	{	/* without MOBIKE charon knows the current address only */
		return;
	}
	if (keep)
	{
		enumerator = ike_sa->create_peer_address_enumerator(ike_sa);
		while (enumerator->enumerate(enumerator, &address))
		{
			if (!address->ip_equals(address, router))
			{
				array_insert_create(&others, ARRAY_TAIL,
									address->clone(address));
			}
		}
		enumerator->destroy(enumerator);
	}
	ike_sa->clear_peer_addresses(ike_sa);
	ike_sa->add_peer_address(ike_sa, router->clone(router));
	while (array_remove(others, ARRAY_HEAD, &address))
	{
		ike_sa->add_peer_address(ike_sa, address);
	}
	array_destroy(others);
	DBG2(DBG_IKE, "cxtp: MOBIKE peer addresses of IKE_SA %s[%u] start with "
		 "%H%s", ike_sa->get_name(ike_sa), ike_sa->get_unique_id(ike_sa),
		 router, keep ? "" : ", the previous router's dropped");
}

/**
 * The activation showed: the IKE_SA roams again (the next transfer's token
 * gets a fresh key, counted when this one started).  The addresses the
 * previous router announced lead nowhere now: a roll back of the next
 * transfer must probe this router, and nAR's own announcements, if any,
 * replace the list in its MOBIKE update as usual.
 */
static void activated(private_cxtp_mn_t *this, ike_sa_t *ike_sa,
					  char *evidence)
{
	transfer_t *transfer;

	transfer = remove_transfer(this, ike_sa, TRANSFER_ACTIVATING);
	if (!transfer)
	{
		return;
	}
	this->icmp->acknowledge(this->icmp, transfer->sequence);
	peer_addresses_of(ike_sa, transfer->nar, FALSE);
	ike_sa->set_condition(ike_sa, COND_ROAMING_SUSPENDED, FALSE);
	DBG1(DBG_IKE, "cxtp: IKE_SA %s[%u] activated on %H, confirmed by %s",
		 ike_sa->get_name(ike_sa), transfer->ike_id, transfer->nar, evidence);
	event(this, CXTP_EVENT_ACTIVATE, transfer->ike_id, transfer->nar,
		  ike_sa->get_my_host(ike_sa), NULL);
	transfer_destroy(transfer);
}

/**
 * Whether the activation in progress of an IKE_SA (with a CTAR of a sequence
 * number, 0 for any) shows in ESP its CHILD_SAs received since the CTAR:
 * only nAR can have sent any to the new address, even if neither a CTAA
 * nor an IKE message of nAR came
 */
static bool traffic_since_ctar(private_cxtp_mn_t *this, ike_sa_t *ike_sa,
							   uint32_t sequence)
{
	transfer_t *transfer;
	uint64_t packets = 0;
	bool pending;

	this->mutex->lock(this->mutex);
	transfer = find_transfer(this, ike_sa);
	pending = transfer && transfer->state == TRANSFER_ACTIVATING &&
			  (!sequence || transfer->sequence == sequence);
	if (pending)
	{
		packets = transfer->packets;
	}
	this->mutex->unlock(this->mutex);
	return pending && inbound_packets(ike_sa) > packets;
}

/**
 * Move an IKE_SA back to where it was before the CTAR of a transfer, with
 * the token counter pAR has too; MOBIKE probes pAR first when it looks for
 * a path, also from a link other than pAR's
 */
static void move_back(private_cxtp_mn_t *this, ike_sa_t *ike_sa,
					  transfer_t *transfer)
{
	this->icmp->acknowledge(this->icmp, transfer->sequence);
	ike_sa->update_hosts(ike_sa, transfer->old_me, transfer->old_other,
						 UPDATE_HOSTS_FORCE_ADDRS);
	peer_addresses_of(ike_sa, transfer->old_other, TRUE);
	ike_sa->set_condition(ike_sa, COND_ROAMING_SUSPENDED, FALSE);
}

/**
 * No activation showed within the retransmissions: back to pAR, with the
 * token counter pAR has too, and charon's roaming takes over as after a
 * move without a transfer (MOBIKE towards pAR, a new IKE_SA if that fails)
 */
static status_t roll_back(private_cxtp_mn_t *this, ike_sa_t *ike_sa,
						  transfer_t *transfer)
{
	char retry_max[32];

	DBG1(DBG_IKE, "cxtp: no activation of IKE_SA %s[%u] on %H seen within "
		 "%s, moving it back to %H", ike_sa->get_name(ike_sa),
		 transfer->ike_id, transfer->nar,
		 cxtp_options_print_time(
				this->settings->get_ctar_retry_max(this->settings),
				retry_max, sizeof(retry_max)), transfer->old_other);
	move_back(this, ike_sa, transfer);
	event(this, CXTP_EVENT_FAILURE, transfer->ike_id, transfer->nar,
		  ike_sa->get_my_host(ike_sa),
		  "no activation seen, IKE_SA moved back to the previous access "
		  "router");
	return ike_sa->roam(ike_sa, TRUE);
}

/**
 * A job for one transfer
 */
typedef struct {
	private_cxtp_mn_t *mn;
	u_int ike_id;
	u_int serial;
} transfer_job_t;

/**
 * Check out the IKE_SA of a transfer job, if its transfer is still the one
 * the job was made for and in a state
 */
static ike_sa_t *checkout_for(transfer_job_t *job, transfer_state_t state)
{
	private_cxtp_mn_t *this = job->mn;
	ike_sa_t *ike_sa;
	transfer_t *transfer;
	bool current;

	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													job->ike_id);
	if (!ike_sa)
	{
		return NULL;
	}
	this->mutex->lock(this->mutex);
	transfer = find_transfer(this, ike_sa);
	current = transfer && transfer->serial == job->serial &&
			  transfer->state == state;
	this->mutex->unlock(this->mutex);
	if (!current)
	{
		charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
		return NULL;
	}
	return ike_sa;
}

CALLBACK(prepare_timeout, job_requeue_t,
	transfer_job_t *job)
{
	private_cxtp_mn_t *this = job->mn;
	transfer_t *transfer;
	ike_sa_t *ike_sa;
	char timeout[32];
	bool moved;

	ike_sa = checkout_for(job, TRANSFER_PREPARED);
	if (!ike_sa)
	{
		return JOB_REQUEUE_NONE;
	}
	transfer = remove_transfer(this, ike_sa, TRANSFER_PREPARED);
	if (transfer && transfer->moved)
	{	/* the operator's activation fails as without waiting */
		DBG1(DBG_IKE, "cxtp: IKE_SA %s[%u] found no usable address towards "
			 "%H within %s, leaving it with %H", ike_sa->get_name(ike_sa),
			 job->ike_id, transfer->nar, cxtp_options_print_time(
					this->settings->get_handover_timeout(this->settings),
					timeout, sizeof(timeout)), ike_sa->get_other_host(ike_sa));
		ike_sa->set_state(ike_sa, IKE_ESTABLISHED);
		event(this, CXTP_EVENT_FAILURE, job->ike_id, transfer->nar,
			  ike_sa->get_my_host(ike_sa), transfer->unusable);
		resolve(this, transfer->serial, transfer->unusable);
		transfer_destroy(transfer);
	}
	else if (transfer)
	{
		moved = !charon->kernel->get_interface(charon->kernel,
									ike_sa->get_my_host(ike_sa), NULL);
		DBG1(DBG_IKE, "cxtp: IKE_SA %s[%u] %s within %s, thawing it",
			 ike_sa->get_name(ike_sa), job->ike_id,
			 moved ? "found no usable address on a new link" : "did not move",
			 cxtp_options_print_time(
					this->settings->get_handover_timeout(this->settings),
					timeout, sizeof(timeout)));
		ike_sa->set_state(ike_sa, IKE_ESTABLISHED);
		event(this, CXTP_EVENT_FAILURE, job->ike_id, NULL,
			  ike_sa->get_my_host(ike_sa), moved ?
			  "no usable address on the new link in time, IKE_SA thawed" :
			  "no move in time, IKE_SA thawed");
		transfer_destroy(transfer);
	}
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	return JOB_REQUEUE_NONE;
}

/**
 * Log why a moved IKE_SA sent no CTAR yet, once per reason; with what an
 * activation waiting for an address fails with if it stays so, if any
 */
static void waiting(private_cxtp_mn_t *this, ike_sa_t *ike_sa, char *reason,
					char *unusable)
{
	transfer_t *transfer;
	bool changed = FALSE, moved = FALSE;

	this->mutex->lock(this->mutex);
	transfer = find_transfer(this, ike_sa);
	if (transfer && !streq(transfer->waiting, reason))
	{
		free(transfer->waiting);
		transfer->waiting = strdup(reason);
		changed = TRUE;
	}
	if (transfer && transfer->moved && unusable)
	{
		moved = TRUE;
		free(transfer->unusable);
		transfer->unusable = strdup(unusable);
	}
	this->mutex->unlock(this->mutex);
	if (changed && moved)
	{
		DBG1(DBG_IKE, "cxtp: IKE_SA %s[%u] is still %s",
			 ike_sa->get_name(ike_sa), ike_sa->get_unique_id(ike_sa), reason);
	}
	else if (changed)
	{
		DBG1(DBG_IKE, "cxtp: %H of IKE_SA %s[%u] is gone, %s",
			 ike_sa->get_my_host(ike_sa), ike_sa->get_name(ike_sa),
			 ike_sa->get_unique_id(ike_sa), reason);
	}
}

/**
 * Activate a prepared IKE_SA once its local address is gone and the new
 * link has a usable one towards the new access router
 */
static void check_move(private_cxtp_mn_t *this, ike_sa_t *ike_sa)
{
	transfer_t *transfer;
	host_t *nar = NULL, *src;
	char *reason, why[128], buf[256], unusable[256];
	bool ack = FALSE, prepared = FALSE, moved = FALSE;

	if (ike_sa->get_state(ike_sa) != IKE_PASSIVE)
	{
		return;
	}
	this->mutex->lock(this->mutex);
	transfer = find_transfer(this, ike_sa);
	if (transfer && transfer->state == TRANSFER_PREPARED)
	{
		prepared = TRUE;
		nar = transfer->nar ? transfer->nar->clone(transfer->nar) : NULL;
		ack = transfer->ack;
		moved = transfer->moved;
	}
	this->mutex->unlock(this->mutex);
	if (!prepared)
	{
		return;
	}
	if (!moved && charon->kernel->get_interface(charon->kernel,
										ike_sa->get_my_host(ike_sa), NULL))
	{	/* not moved (yet) */
		DESTROY_IF(nar);
		return;
	}
	if (!nar)
	{
		nar = default_router(ike_sa);
		if (!nar)
		{
			waiting(this, ike_sa, "waiting for a default router on a new "
					"link", NULL);
			return;
		}
	}
	src = this->source->get(this->source, nar, why, sizeof(why));
	if (!src)
	{
		snprintf(buf, sizeof(buf), "waiting for a usable address towards "
				 "%H: %s", nar, why);
		snprintf(unusable, sizeof(unusable), "no usable address towards %H "
				 "yet: %s", nar, why);
		waiting(this, ike_sa, buf, unusable);
		nar->destroy(nar);
		return;
	}
	if (moved)
	{
		DBG1(DBG_IKE, "cxtp: %H is usable now, activating IKE_SA %s[%u] on %H",
			 src, ike_sa->get_name(ike_sa), ike_sa->get_unique_id(ike_sa), nar);
	}
	else
	{
		DBG1(DBG_IKE, "cxtp: %H of IKE_SA %s[%u] is gone, activating it on %H",
			 ike_sa->get_my_host(ike_sa), ike_sa->get_name(ike_sa),
			 ike_sa->get_unique_id(ike_sa), nar);
	}
	reason = send_ctar(this, ike_sa, nar, src, ack);
	if (reason)
	{	/* still prepared, the next address change tries again */
		snprintf(buf, sizeof(buf), "activating it on %H failed (%s), trying "
				 "again on the next address change", nar, reason);
		waiting(this, ike_sa, buf, NULL);
		free(reason);
	}
	src->destroy(src);
	nar->destroy(nar);
}

CALLBACK(check_moves, job_requeue_t,
	private_cxtp_mn_t *this)
{
	enumerator_t *enumerator;
	transfer_t *transfer;
	ike_sa_t *ike_sa;
	array_t *ids;
	u_int id;

	ids = array_create(sizeof(u_int), 0);
	this->mutex->lock(this->mutex);
	enumerator = this->transfers_list->create_enumerator(this->transfers_list);
	while (enumerator->enumerate(enumerator, &transfer))
	{
		if (transfer->state == TRANSFER_PREPARED)
		{
			array_insert(ids, ARRAY_TAIL, &transfer->ike_id);
		}
	}
	enumerator->destroy(enumerator);
	this->mutex->unlock(this->mutex);

	while (array_remove(ids, ARRAY_HEAD, &id))
	{
		ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
														id);
		if (ike_sa)
		{
			check_move(this, ike_sa);
			charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
		}
	}
	array_destroy(ids);
	return JOB_REQUEUE_NONE;
}

/**
 * Schedule a job of a transfer
 */
static void schedule(private_cxtp_mn_t *this, transfer_t *transfer,
					 callback_job_cb_t cb, uint32_t ms)
{
	transfer_job_t *job;

	INIT(job,
		.mn = this,
		.ike_id = transfer->ike_id,
		.serial = transfer->serial,
	);
	lib->scheduler->schedule_job_ms(lib->scheduler, (job_t*)
			callback_job_create(cb, job, free, NULL), ms);
}

CALLBACK(poll_move, job_requeue_t,
	transfer_job_t *job)
{
	private_cxtp_mn_t *this = job->mn;
	transfer_t *transfer;
	ike_sa_t *ike_sa;
	bool prepared;

	ike_sa = checkout_for(job, TRANSFER_PREPARED);
	if (!ike_sa)
	{
		return JOB_REQUEUE_NONE;
	}
	check_move(this, ike_sa);
	this->mutex->lock(this->mutex);
	transfer = find_transfer(this, ike_sa);
	prepared = transfer && transfer->state == TRANSFER_PREPARED;
	if (prepared)
	{
		schedule(this, transfer, poll_move, CXTP_MN_POLL_INTERVAL);
	}
	this->mutex->unlock(this->mutex);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	return JOB_REQUEUE_NONE;
}

/**
 * An activation found no usable address towards nAR: right after a move
 * charon may not know the new address yet, or it is link-local or
 * tentative.  Wait for one as a prepared IKE_SA does, frozen with pAR for at
 * most handover_timeout, unless a preparation waits already.
 */
static char *wait_for_source(private_cxtp_mn_t *this, ike_sa_t *ike_sa,
							 host_t *nar, bool ack, char *why)
{
	transfer_t *transfer;
	outcome_t *outcome;
	char *reason, buf[256], timeout[32];
	uint32_t ms;

	snprintf(buf, sizeof(buf), "no usable address towards %H yet: %s",
			 nar, why);
	this->mutex->lock(this->mutex);
	transfer = find_transfer(this, ike_sa);
	this->mutex->unlock(this->mutex);
	if (transfer)
	{	/* prepared, it activates itself once it can */
		return strdup(buf);
	}
	cxtp_export_drop_liveness_check(ike_sa);
	reason = cxtp_export_check(this->capture, ike_sa);
	if (reason)
	{
		return reason;
	}
	INIT(transfer,
		.ike_id = ike_sa->get_unique_id(ike_sa),
		.id = ike_sa->get_id(ike_sa)->clone(ike_sa->get_id(ike_sa)),
		.state = TRANSFER_PREPARED,
		.nar = nar->clone(nar),
		.counter = new_attempt(this, ike_sa),
		.ack = ack,
		.moved = TRUE,
		.unusable = strdup(buf),
	);
	INIT(outcome,
		.ike_id = transfer->ike_id,
	);
	snprintf(buf, sizeof(buf), "waiting for a usable address towards %H: %s",
			 nar, why);
	/* logged below, not again by the first check */
	transfer->waiting = strdup(buf);
	ms = this->settings->get_handover_timeout(this->settings);
	this->mutex->lock(this->mutex);
	transfer->serial = outcome->serial = ++this->serial;
	this->transfers_list->insert_last(this->transfers_list, transfer);
	this->outcomes->insert_last(this->outcomes, outcome);
	schedule(this, transfer, prepare_timeout, ms);
	/* a tentative address becoming usable is no roam event */
	schedule(this, transfer, poll_move, CXTP_MN_POLL_INTERVAL);
	this->mutex->unlock(this->mutex);

	/* as when prepared: no MOBIKE towards pAR from the new address */
	ike_sa->set_state(ike_sa, IKE_PASSIVE);
	DBG1(DBG_IKE, "cxtp: no usable address towards %H yet for IKE_SA %s[%u] "
		 "(%s), waiting at most %s for one", nar, ike_sa->get_name(ike_sa),
		 ike_sa->get_unique_id(ike_sa), why,
		 cxtp_options_print_time(ms, timeout, sizeof(timeout)));
	return NULL;
}

METHOD(cxtp_mn_t, activate, char*,
	private_cxtp_mn_t *this, ike_sa_t *ike_sa, host_t *nar, bool ack)
{
	transfer_t *transfer;
	host_t *router = NULL, *src;
	char *reason, why[128], buf[256];

	if (!this->icmp)
	{
		return strdup("no ICMP transport to access routers, see the log");
	}
	if (traffic_since_ctar(this, ike_sa, 0))
	{
		activated(this, ike_sa, "ESP traffic since the CTAR");
	}
	transfer = remove_transfer(this, ike_sa, TRANSFER_ACTIVATING);
	if (transfer)
	{	/* from where it was confirmed last, as the operator asks */
		DBG1(DBG_IKE, "cxtp: no activation of IKE_SA %s[%u] on %H seen yet, "
			 "activating it anew", ike_sa->get_name(ike_sa), transfer->ike_id,
			 transfer->nar);
		move_back(this, ike_sa, transfer);
		transfer_destroy(transfer);
	}
	if (!nar)
	{
		nar = router = default_router(ike_sa);
		if (!nar)
		{
			return strdup("no default router other than the current access "
						  "router, name the new one");
		}
	}
	src = this->source->get(this->source, nar, why, sizeof(why));
	if (!src)
	{
		reason = wait_for_source(this, ike_sa, nar, ack, why);
		DESTROY_IF(router);
		return reason;
	}
	reason = send_ctar(this, ike_sa, nar, src, ack);
	if (reason)
	{
		transfer = remove_transfer(this, ike_sa, TRANSFER_PREPARED);
		if (transfer)
		{	/* thawed: a failed activation leaves the IKE_SA with pAR,
			 * where it may still work */
			ike_sa->set_state(ike_sa, IKE_ESTABLISHED);
			resolve(this, transfer->serial, reason);
			transfer_destroy(transfer);
		}
		event(this, CXTP_EVENT_FAILURE, ike_sa->get_unique_id(ike_sa), nar,
			  ike_sa->get_my_host(ike_sa), reason);
	}
	src->destroy(src);
	DESTROY_IF(router);
	return reason;
}

METHOD(cxtp_mn_t, wait_activation, char*,
	private_cxtp_mn_t *this, u_int ike_id)
{
	enumerator_t *enumerator;
	outcome_t *outcome = NULL, *current;
	timeval_t deadline;
	char *reason;

	/* the timeout job ends it in time, unless the scheduler is gone */
	time_monotonic(&deadline);
	timeval_add_ms(&deadline, (uint64_t)this->settings->get_handover_timeout(
									this->settings) + CXTP_MN_WAIT_SLACK);
	this->mutex->lock(this->mutex);
	enumerator = this->outcomes->create_enumerator(this->outcomes);
	while (enumerator->enumerate(enumerator, &current))
	{
		if (current->ike_id == ike_id)
		{
			outcome = current;
			break;
		}
	}
	enumerator->destroy(enumerator);
	if (!outcome)
	{
		this->mutex->unlock(this->mutex);
		return NULL;
	}
	this->waiters++;
	while (!outcome->done && !this->destroying &&
		   !this->condvar->timed_wait_abs(this->condvar, this->mutex,
										  deadline))
	{
		/* woken for another outcome */
	}
	this->waiters--;
	this->outcomes->remove(this->outcomes, outcome, NULL);
	this->condvar->broadcast(this->condvar);
	this->mutex->unlock(this->mutex);

	if (outcome->done)
	{
		reason = outcome->reason;
		outcome->reason = NULL;
	}
	else
	{
		reason = strdup("no outcome of the activation in time");
	}
	outcome_destroy(outcome);
	return reason;
}

/**
 * Whether charon reports address changes to kernel listeners
 */
static bool roam_events()
{
	return lib->settings->get_bool(lib->settings,
						"%s.plugins.kernel-netlink.roam_events", TRUE, lib->ns);
}

METHOD(cxtp_mn_t, prepare, char*,
	private_cxtp_mn_t *this, ike_sa_t *ike_sa, host_t *nar, bool ack)
{
	cxtp_message_t *message;
	transfer_t *transfer;
	host_t *par = ike_sa->get_other_host(ike_sa);
	transfer_state_t state;
	uint32_t sequence = 0, counter, ms;
	char *reason, timeout[32];
	bool sent;

	if (!this->icmp)
	{
		return strdup("no ICMP transport to access routers, see the log");
	}
	if (traffic_since_ctar(this, ike_sa, 0))
	{
		activated(this, ike_sa, "ESP traffic since the CTAR");
	}
	this->mutex->lock(this->mutex);
	transfer = find_transfer(this, ike_sa);
	state = transfer ? transfer->state : TRANSFER_PREPARED;
	this->mutex->unlock(this->mutex);
	if (transfer)
	{
		return strdup(state == TRANSFER_PREPARED ?
					  "IKE_SA is already prepared for a handover" :
					  "an activation of the IKE_SA is in progress already");
	}
	reason = cxtp_export_check(this->capture, ike_sa);
	if (reason)
	{
		return reason;
	}
	counter = new_attempt(this, ike_sa);
	if (nar)
	{
		message = build_ctar(this, ike_sa, nar, 0, counter, FALSE,
							 ike_sa->get_my_host(ike_sa), par);
		if (!message)
		{
			return strdup("building the CTAR failed");
		}
		sent = this->icmp->send(this->icmp, ike_sa->get_my_host(ike_sa), par,
								message);
		sequence = message->get_sequence(message);
		message->destroy(message);
		if (!sent)
		{
			return strdup("sending the CTAR failed");
		}
		DBG1(DBG_IKE, "cxtp: sent CTAR for IKE_SA %s[%u] to %H, asking it to "
			 "transfer the context to %H", ike_sa->get_name(ike_sa),
			 ike_sa->get_unique_id(ike_sa), par, nar);
	}
	INIT(transfer,
		.ike_id = ike_sa->get_unique_id(ike_sa),
		.id = ike_sa->get_id(ike_sa)->clone(ike_sa->get_id(ike_sa)),
		.state = TRANSFER_PREPARED,
		.nar = nar ? nar->clone(nar) : NULL,
		.sequence = sequence,
		.counter = counter,
		.ack = ack,
	);
	ms = this->settings->get_handover_timeout(this->settings);
	this->mutex->lock(this->mutex);
	transfer->serial = ++this->serial;
	this->transfers_list->insert_last(this->transfers_list, transfer);
	schedule(this, transfer, prepare_timeout, ms);
	if (!roam_events())
	{
		schedule(this, transfer, poll_move, CXTP_MN_POLL_INTERVAL);
	}
	this->mutex->unlock(this->mutex);

	/* a passive IKE_SA ignores roaming: no MOBIKE towards pAR from the new
	 * link, while its CHILD_SAs keep carrying traffic */
	ike_sa->set_state(ike_sa, IKE_PASSIVE);
	cxtp_options_print_time(ms, timeout, sizeof(timeout));
	if (nar)
	{
		DBG1(DBG_IKE, "cxtp: IKE_SA %s[%u] frozen for at most %s, activating "
			 "it on %H once %H is gone", ike_sa->get_name(ike_sa),
			 ike_sa->get_unique_id(ike_sa), timeout, nar,
			 ike_sa->get_my_host(ike_sa));
	}
	else
	{
		DBG1(DBG_IKE, "cxtp: IKE_SA %s[%u] frozen for at most %s, activating "
			 "it on the new link's default router once %H is gone",
			 ike_sa->get_name(ike_sa), ike_sa->get_unique_id(ike_sa), timeout,
			 ike_sa->get_my_host(ike_sa));
	}
	if (!roam_events())
	{
		DBG1(DBG_IKE, "cxtp: kernel-netlink reports no address changes "
			 "(roam_events = no), checking the addresses of IKE_SA %s[%u] "
			 "every %ums", ike_sa->get_name(ike_sa),
			 ike_sa->get_unique_id(ike_sa), CXTP_MN_POLL_INTERVAL);
	}
	return NULL;
}

METHOD(cxtp_mn_t, get_state, char*,
	private_cxtp_mn_t *this, ike_sa_t *ike_sa)
{
	transfer_t *transfer;
	char *state = NULL;

	this->mutex->lock(this->mutex);
	transfer = find_transfer(this, ike_sa);
	if (transfer)
	{
		state = transfer->state == TRANSFER_PREPARED ? "prepared"
													 : "activating";
	}
	this->mutex->unlock(this->mutex);
	return state;
}

METHOD(kernel_listener_t, roam, bool,
	private_cxtp_mn_t *this, bool address)
{
	bool prepared;

	this->mutex->lock(this->mutex);
	prepared = this->transfers_list->get_count(this->transfers_list) > 0;
	this->mutex->unlock(this->mutex);
	if (prepared)
	{	/* not from the kernel interface's event thread: needs checkouts */
		lib->processor->queue_job(lib->processor, (job_t*)
				callback_job_create_with_prio(check_moves, this, NULL, NULL,
											  JOB_PRIO_HIGH));
	}
	return TRUE;
}

METHOD(listener_t, ike_message, bool,
	listener_t *listener, ike_sa_t *ike_sa, message_t *message, bool incoming,
	bool plain)
{
	private_cxtp_mn_t *this = (private_cxtp_mn_t*)((char*)listener -
							offsetof(private_cxtp_mn_t, public.ike_listener));
	transfer_t *transfer;
	host_t *src = message->get_source(message);
	bool from_nar = FALSE;

	if (!incoming || !plain || !ike_sa)
	{
		return TRUE;
	}
	this->mutex->lock(this->mutex);
	transfer = find_transfer(this, ike_sa);
	if (transfer && transfer->state == TRANSFER_ACTIVATING)
	{	/* verified under the IKE_SA's keys: only a router that activated
		 * them has them */
		from_nar = src->ip_equals(src, transfer->nar);
	}
	this->mutex->unlock(this->mutex);
	if (from_nar)
	{
		activated(this, ike_sa, "its IKE message");
	}
	return TRUE;
}

/**
 * A transfer ends with its IKE_SA
 */
static void ended(private_cxtp_mn_t *this, ike_sa_t *ike_sa, char *how)
{
	transfer_t *transfer = NULL;
	char buf[64];

	this->mutex->lock(this->mutex);
	transfer = find_transfer(this, ike_sa);
	if (transfer)
	{
		this->transfers_list->remove(this->transfers_list, transfer, NULL);
	}
	this->mutex->unlock(this->mutex);
	if (transfer)
	{
		if (transfer->state == TRANSFER_ACTIVATING)
		{
			this->icmp->acknowledge(this->icmp, transfer->sequence);
		}
		DBG1(DBG_IKE, "cxtp: IKE_SA %s[%u] %s, its handover ends",
			 ike_sa->get_name(ike_sa), transfer->ike_id, how);
		snprintf(buf, sizeof(buf), "IKE_SA %s", how);
		resolve(this, transfer->serial, buf);
		transfer_destroy(transfer);
	}
}

METHOD(listener_t, ike_state_change, bool,
	listener_t *listener, ike_sa_t *ike_sa, ike_sa_state_t state)
{
	private_cxtp_mn_t *this = (private_cxtp_mn_t*)((char*)listener -
							offsetof(private_cxtp_mn_t, public.ike_listener));

	if (state == IKE_DELETING || state == IKE_DESTROYING)
	{
		ended(this, ike_sa, "goes away");
	}
	return TRUE;
}

METHOD(listener_t, ike_rekey, bool,
	listener_t *listener, ike_sa_t *old, ike_sa_t *new)
{
	private_cxtp_mn_t *this = (private_cxtp_mn_t*)((char*)listener -
							offsetof(private_cxtp_mn_t, public.ike_listener));

	ended(this, old, "was rekeyed");
	return TRUE;
}

METHOD(listener_t, ike_reestablish_pre, bool,
	listener_t *listener, ike_sa_t *old, ike_sa_t *new)
{
	private_cxtp_mn_t *this = (private_cxtp_mn_t*)((char*)listener -
							offsetof(private_cxtp_mn_t, public.ike_listener));

	if (this->transfers->get_transfers(this->transfers, old))
	{	/* the config names the access router the IKE_SA was established
		 * with, but it was handed over: when the one holding it now deletes
		 * it (e.g. a full IKEv2 fallback), negotiate again with that one */
		DBG1(DBG_IKE, "cxtp: IKE_SA %s[%u] was handed over, reestablishing "
			 "it with %H", old->get_name(old), old->get_unique_id(old),
			 old->get_other_host(old));
		new->set_kmaddress(new, old->get_my_host(old),
						   old->get_other_host(old));
	}
	return TRUE;
}

CALLBACK(ctaa_match, bool,
	transfer_t *transfer, va_list args)
{
	host_t *src, *mn;

	VA_ARGS_VGET(args, src, mn);
	return transfer->state == TRANSFER_ACTIVATING &&
		   src->ip_equals(src, transfer->nar) &&
		   mn->ip_equals(mn, transfer->old_me);
}

/**
 * A CTAA to check in a job
 */
typedef struct {
	/** the transfer it may acknowledge */
	transfer_job_t job;
	/** the router it came from */
	host_t *src;
	/** the CTAA */
	cxtp_message_t *message;
} ctaa_job_t;

static void ctaa_job_destroy(ctaa_job_t *job)
{
	job->src->destroy(job->src);
	job->message->destroy(job->message);
	free(job);
}

/**
 * Whether a CTAA carries a valid MAC of the transfer's token key for the
 * transfer's CTAR, sent to the address the IKE_SA moved to
 */
static bool ctaa_valid(private_cxtp_mn_t *this, ike_sa_t *ike_sa,
					   ctaa_job_t *ctaa)
{
	transfer_t *transfer;
	uint32_t sequence = 0, counter = 0;
	chunk_t key;
	bool valid;

	this->mutex->lock(this->mutex);
	transfer = find_transfer(this, ike_sa);
	if (transfer)
	{
		sequence = transfer->sequence;
		counter = transfer->counter;
	}
	this->mutex->unlock(this->mutex);
	if (!transfer ||
		ctaa->message->get_sequence(ctaa->message) != sequence ||
		!this->transfers->derive_token_key(this->transfers, ike_sa, counter,
										   &key))
	{
		return FALSE;
	}
	valid = ctaa->message->verify_ctaa(ctaa->message, key, ctaa->src,
									   ike_sa->get_my_host(ike_sa));
	chunk_clear(&key);
	return valid;
}

/**
 * Whether a CTAA reports a context not transferred
 */
static bool ctaa_refuses(cxtp_message_t *message)
{
	enumerator_t *enumerator;
	cxtp_status_t *status;
	bool refused = FALSE;

	enumerator = message->create_status_enumerator(message);
	while (enumerator->enumerate(enumerator, &status))
	{
		refused = refused || status->status != 0;
	}
	enumerator->destroy(enumerator);
	return refused;
}

CALLBACK(ctaa_received, job_requeue_t,
	ctaa_job_t *ctaa)
{
	cxtp_message_t *message = ctaa->message;
	ike_sa_t *ike_sa;

	ike_sa = checkout_for(&ctaa->job, TRANSFER_ACTIVATING);
	if (!ike_sa)
	{
		return JOB_REQUEUE_NONE;
	}
	if (!ctaa_valid(ctaa->job.mn, ike_sa, ctaa))
	{	/* anyone on the link can send one, the retransmissions go on */
		DBG1(DBG_IKE, "cxtp: CTAA from %H for %H is %s, ignored", ctaa->src,
			 message->get_mn_address(message),
			 message->is_authenticated(message) ?
				"not authenticated by the transfer's token key" :
				"unauthenticated");
	}
	else if (ctaa_refuses(message))
	{	/* the retry limit moves it back, as without an answer */
		DBG1(DBG_IKE, "cxtp: access router %H refused the activation for %H",
			 ctaa->src, message->get_mn_address(message));
	}
	else
	{
		DBG1(DBG_IKE, "cxtp: access router %H acknowledged the activation "
			 "for %H", ctaa->src, message->get_mn_address(message));
		activated(ctaa->job.mn, ike_sa, "a CTAA");
	}
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	return JOB_REQUEUE_NONE;
}

METHOD(cxtp_mn_t, process_ctaa, void,
	private_cxtp_mn_t *this, host_t *src, cxtp_message_t *message)
{
	transfer_t *transfer;
	ctaa_job_t *job = NULL;

	/* the CTAR's address and sequence number select the transfer, its
	 * token key authenticates the CTAA */
	this->mutex->lock(this->mutex);
	if (this->transfers_list->find_first(this->transfers_list, ctaa_match,
							(void**)&transfer, src,
							message->get_mn_address(message)))
	{
		INIT(job,
			.job = {
				.mn = this,
				.ike_id = transfer->ike_id,
				.serial = transfer->serial,
			},
			.src = src->clone(src),
			.message = message,
		);
	}
	this->mutex->unlock(this->mutex);
	if (job)
	{
		/* the IKE_SA needs a checkout, not on the ICMP watcher thread */
		lib->processor->queue_job(lib->processor, (job_t*)
				callback_job_create_with_prio(ctaa_received, job,
							(void*)ctaa_job_destroy, NULL, JOB_PRIO_HIGH));
	}
	else
	{
		DBG1(DBG_IKE, "cxtp: CTAA from %H for %H matches no activation in "
			 "progress, ignored", src, message->get_mn_address(message));
		message->destroy(message);
	}
}

CALLBACK(sequence_match, bool,
	transfer_t *transfer, va_list args)
{
	uint32_t sequence;

	VA_ARGS_VGET(args, sequence);
	return transfer->state == TRANSFER_ACTIVATING &&
		   transfer->sequence == sequence;
}

CALLBACK(ctar_timeout, void,
	private_cxtp_mn_t *this, uint32_t sequence, host_t *dst)
{
	transfer_t *transfer;
	ike_sa_t *ike_sa;
	status_t status = SUCCESS;
	u_int ike_id = 0;

	this->mutex->lock(this->mutex);
	if (this->transfers_list->find_first(this->transfers_list, sequence_match,
										 (void**)&transfer, sequence))
	{
		ike_id = transfer->ike_id;
	}
	this->mutex->unlock(this->mutex);
	if (!ike_id)
	{
		return;
	}
	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													ike_id);
	if (!ike_sa)
	{
		return;
	}
	if (traffic_since_ctar(this, ike_sa, sequence))
	{
		activated(this, ike_sa, "ESP traffic since the CTAR");
	}
	this->mutex->lock(this->mutex);
	transfer = find_transfer(this, ike_sa);
	if (transfer && transfer->state == TRANSFER_ACTIVATING &&
		transfer->sequence == sequence)
	{
		this->transfers_list->remove(this->transfers_list, transfer, NULL);
	}
	else
	{
		transfer = NULL;
	}
	this->mutex->unlock(this->mutex);
	if (transfer)
	{
		status = roll_back(this, ike_sa, transfer);
		transfer_destroy(transfer);
	}
	if (status == DESTROY_ME)
	{
		charon->ike_sa_manager->checkin_and_destroy(charon->ike_sa_manager,
													ike_sa);
	}
	else
	{
		charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	}
}

METHOD(cxtp_mn_t, set_event_cb, void,
	private_cxtp_mn_t *this, cxtp_event_cb_t cb, void *data)
{
	this->mutex->lock(this->mutex);
	this->event_cb = cb;
	this->event_data = data;
	this->mutex->unlock(this->mutex);
}

METHOD(cxtp_mn_t, destroy, void,
	private_cxtp_mn_t *this)
{
	/* commands may still wait for an activation */
	this->mutex->lock(this->mutex);
	this->destroying = TRUE;
	this->condvar->broadcast(this->condvar);
	while (this->waiters)
	{
		this->condvar->wait(this->condvar, this->mutex);
	}
	this->mutex->unlock(this->mutex);
	this->outcomes->destroy_function(this->outcomes, (void*)outcome_destroy);
	this->condvar->destroy(this->condvar);
	/* the ICMP transport is gone already, and with it its callbacks */
	this->transfers_list->destroy_function(this->transfers_list,
										   (void*)transfer_destroy);
	this->source->destroy(this->source);
	this->mutex->destroy(this->mutex);
	free(this);
}

/*
 * Described in header
 */
cxtp_mn_t *cxtp_mn_create(cxtp_capture_t *capture,
						  cxtp_transfers_t *transfers,
						  cxtp_settings_t *settings, cxtp_icmp_t *icmp,
						  cxtp_source_t *source)
{
	private_cxtp_mn_t *this;

	INIT(this,
		.public = {
			.listener = {
				.roam = _roam,
			},
			.ike_listener = {
				.message = _ike_message,
				.ike_state_change = _ike_state_change,
				.ike_rekey = _ike_rekey,
				.ike_reestablish_pre = _ike_reestablish_pre,
			},
			.activate = _activate,
			.wait_activation = _wait_activation,
			.prepare = _prepare,
			.get_state = _get_state,
			.process_ctaa = _process_ctaa,
			.set_event_cb = _set_event_cb,
			.destroy = _destroy,
		},
		.capture = capture,
		.transfers = transfers,
		.settings = settings,
		.icmp = icmp,
		.source = source,
		.transfers_list = linked_list_create(),
		.outcomes = linked_list_create(),
		.condvar = condvar_create(CONDVAR_TYPE_DEFAULT),
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
	);
	if (icmp)
	{
		icmp->set_timeout_cb(icmp, ctar_timeout, this);
	}
	return &this->public;
}
