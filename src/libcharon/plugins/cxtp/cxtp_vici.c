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


#include "cxtp_vici.h"
#include "cxtp_drain.h"
#include "cxtp_export.h"

#include <inttypes.h>

#include <daemon.h>
#include <collections/linked_list.h>
#include <threading/condvar.h>
#include <threading/mutex.h>
#include <vici_dispatcher.h>
#include <vici_builder.h>

typedef struct private_cxtp_vici_t private_cxtp_vici_t;

/**
 * Private data of a cxtp_vici_t object.
 */
struct private_cxtp_vici_t {

	/**
	 * Public cxtp_vici_t interface.
	 */
	cxtp_vici_t public;

	/**
	 * Dispatcher published by the vici plugin
	 */
	vici_dispatcher_t *dispatcher;

	/**
	 * Captured key material
	 */
	cxtp_capture_t *capture;

	/**
	 * Transfer counters
	 */
	cxtp_transfers_t *transfers;

	/**
	 * Previous access router's side, if available
	 */
	cxtp_par_t *par;

	/**
	 * New access router's side, if available
	 */
	cxtp_nar_t *nar;

	/**
	 * The mobile node's side
	 */
	cxtp_mn_t *mn;

	/**
	 * Drains of many IKE_SAs, with pAR
	 */
	cxtp_drain_t *drain;

	/**
	 * Plugin settings, for how long a transfer may take
	 */
	cxtp_settings_t *settings;

	/**
	 * Commands waiting for the outcome of a transfer, waiter_t
	 */
	linked_list_t *waiters;

	/**
	 * Commands waiting for the end of a drain
	 */
	u_int drain_waiters;

	/**
	 * Protects the waiters
	 */
	mutex_t *mutex;

	/**
	 * Signals an outcome to the waiters, or that one is gone
	 */
	condvar_t *condvar;

	/**
	 * Set while destroying, the waiters return
	 */
	bool destroying;
};

/**
 * A command waiting for the outcome of a transfer of an IKE_SA on pAR
 */
typedef struct {
	/** unique ID of the IKE_SA */
	u_int ike_id;
	/** the final event, once reported */
	bool done;
	cxtp_event_t event;
	/** what it says, if anything */
	char *reason;
} waiter_t;

/**
 * Add the CHILD_SAs of a held context
 */
static void list_children(vici_builder_t *b, cxtp_context_t *context)
{
	enumerator_t *enumerator;
	cxtp_child_context_t *child;

	b->begin_section(b, "child-sas");
	enumerator = context->children->create_enumerator(context->children);
	while (enumerator->enumerate(enumerator, &child))
	{
		b->begin_section(b, child->child_cfg);
		b->add_kv(b, "protocol", "%N", protocol_id_names, child->protocol);
		b->add_kv(b, "mode", "%N", ipsec_mode_names, child->mode);
		b->add_kv(b, "spi-in", "%.8x", ntohl(child->spi_in));
		b->add_kv(b, "spi-out", "%.8x", ntohl(child->spi_out));
		b->add_kv(b, "seq-out", "%"PRIu64, child->seq_out);
		b->add_kv(b, "seq-in", "%"PRIu64, child->seq_in);
		b->add_kv(b, "replay-window", "%u", child->replay_window);
		b->add_kv(b, "esn", "%s", child->esn ? "yes" : "no");
		b->add_kv(b, "rekey-time", "%u", child->rekey_time);
		b->add_kv(b, "life-time", "%u", child->expire_time);
		b->end_section(b);
	}
	enumerator->destroy(enumerator);
	b->end_section(b);
}

/**
 * Add what a held context would carry, keys aside
 */
static void list_held(vici_builder_t *b, cxtp_context_t *context)
{
	cxtp_ike_context_t *ike = &context->ike;
	enumerator_t *enumerator;
	host_t *vip;

	b->add_kv(b, "peer-cfg", "%s", ike->peer_cfg);
	b->add_kv(b, "initiator", "%s", ike->initiator ? "yes" : "no");
	b->add_kv(b, "message-id-initiate", "%u", ike->mid_initiate);
	b->add_kv(b, "message-id-respond", "%u", ike->mid_respond);
	b->add_kv(b, "rekey-time", "%u", ike->rekey_time);
	b->add_kv(b, "reauth-time", "%u", ike->reauth_time);
	b->begin_list(b, "remote-vips");
	enumerator = ike->remote_vips->create_enumerator(ike->remote_vips);
	while (enumerator->enumerate(enumerator, &vip))
	{
		b->add_li(b, "%H", vip);
	}
	enumerator->destroy(enumerator);
	b->end_list(b);
	if (ike->pool)
	{
		b->add_kv(b, "pool", "%s", ike->pool);
	}
	b->add_kv(b, "remote-auth", "%N", auth_class_names, context->pad.auth_class);
	list_children(b, context);
}

/**
 * Add the context section of an IKE_SA
 */
static void list_context(private_cxtp_vici_t *this, vici_builder_t *b,
						 ike_sa_t *ike_sa)
{
	ike_sa_id_t *id = ike_sa->get_id(ike_sa);
	cxtp_context_t *context = NULL;
	char *reason, *state, buf[16];

	snprintf(buf, sizeof(buf), "%u", ike_sa->get_unique_id(ike_sa));
	b->begin_section(b, buf);
	b->add_kv(b, "name", "%s", ike_sa->get_name(ike_sa));
	b->add_kv(b, "local-host", "%H", ike_sa->get_my_host(ike_sa));
	b->add_kv(b, "remote-host", "%H", ike_sa->get_other_host(ike_sa));
	b->add_kv(b, "remote-id", "%Y", ike_sa->get_other_id(ike_sa));
	b->add_kv(b, "initiator-spi", "%.16"PRIx64,
			  be64toh(id->get_initiator_spi(id)));
	b->add_kv(b, "responder-spi", "%.16"PRIx64,
			  be64toh(id->get_responder_spi(id)));
	state = this->par ? this->par->get_state(this->par, ike_sa) : NULL;
	if (!state && this->nar)
	{
		state = this->nar->get_state(this->nar, ike_sa);
	}
	if (!state && this->mn)
	{
		state = this->mn->get_state(this->mn, ike_sa);
	}
	if (state)
	{
		b->add_kv(b, "state", "%s", state);
		b->end_section(b);
		return;
	}
	reason = cxtp_export_check(this->capture, ike_sa);
	if (!reason)
	{
		context = cxtp_export(this->capture, ike_sa,
					this->transfers->get_transfers(this->transfers, ike_sa));
		if (!context)
		{
			reason = strdup("capturing its context failed, see the log");
		}
	}
	if (context)
	{
		b->add_kv(b, "state", "held");
		list_held(b, context);
		context->destroy(context);
	}
	else
	{
		b->add_kv(b, "state", "untransferable");
		b->add_kv(b, "reason", "%s", reason);
		free(reason);
	}
	b->end_section(b);
}

/**
 * Raise an event per transfer of a role in progress, or remembered
 */
static void list_transfers(private_cxtp_vici_t *this, u_int id, char *role,
						   enumerator_t *enumerator)
{
	cxtp_transfer_info_t *info;
	vici_builder_t *b;
	char buf[32];

	while (enumerator->enumerate(enumerator, &info))
	{
		b = vici_builder_create();
		b->begin_section(b, "transfers");
		snprintf(buf, sizeof(buf), "%s-%u", role, info->id->serial);
		b->begin_section(b, buf);
		b->add_kv(b, "role", "%s", role);
		b->add_kv(b, "serial", "%u", info->id->serial);
		b->add_kv(b, "state", "%s", info->state);
		if (info->ike_id)
		{
			b->add_kv(b, "ike-id", "%u", info->ike_id);
		}
		b->add_kv(b, "peer", "%s", info->peer);
		b->add_kv(b, "mobile-node", "%H", info->mn);
		b->add_kv(b, "initiator-spi", "%.16"PRIx64, be64toh(info->id->spi_i));
		b->add_kv(b, "responder-spi", "%.16"PRIx64, be64toh(info->id->spi_r));
		b->end_section(b);
		b->end_section(b);
		this->dispatcher->raise_event(this->dispatcher, "cxtp-list-transfer",
									  id, b->finalize(b));
	}
	enumerator->destroy(enumerator);
}

/**
 * Lists each context and transfer in an event of its own, as vici's list-sas
 * does, so a router with thousands of them does not exceed the size limit of
 * a single message
 */
CALLBACK(list, vici_message_t*,
	private_cxtp_vici_t *this, char *name, u_int id, vici_message_t *request)
{
	enumerator_t *enumerator;
	vici_builder_t *b;
	ike_sa_t *ike_sa;
	char *ike;

	ike = request->get_str(request, NULL, "ike");
	enumerator = charon->controller->create_ike_sa_enumerator(
													charon->controller, TRUE);
	while (enumerator->enumerate(enumerator, &ike_sa))
	{
		if (!ike || streq(ike, ike_sa->get_name(ike_sa)))
		{
			b = vici_builder_create();
			b->begin_section(b, "contexts");
			list_context(this, b, ike_sa);
			b->end_section(b);
			this->dispatcher->raise_event(this->dispatcher,
								"cxtp-list-context", id, b->finalize(b));
		}
	}
	enumerator->destroy(enumerator);
	if (this->par)
	{
		list_transfers(this, id, "par",
					   this->par->create_transfer_enumerator(this->par));
	}
	if (this->nar)
	{
		list_transfers(this, id, "nar",
					   this->nar->create_transfer_enumerator(this->nar));
	}
	b = vici_builder_create();
	return b->finalize(b);
}

/**
 * Reply with success or an error message
 */
static vici_message_t *reply(char *error)
{
	vici_builder_t *b = vici_builder_create();

	b->add_kv(b, "success", error ? "no" : "yes");
	if (error)
	{
		b->add_kv(b, "errmsg", "%s", error);
	}
	return b->finalize(b);
}

/**
 * Unique ID of an IKE_SA with a name, and how many have it
 */
static u_int find_named(char *name, u_int *found)
{
	enumerator_t *enumerator;
	ike_sa_t *ike_sa;
	u_int id = 0;

	*found = 0;
	enumerator = charon->controller->create_ike_sa_enumerator(
													charon->controller, TRUE);
	while (enumerator->enumerate(enumerator, &ike_sa))
	{
		if (streq(name, ike_sa->get_name(ike_sa)))
		{
			id = ike_sa->get_unique_id(ike_sa);
			(*found)++;
		}
	}
	enumerator->destroy(enumerator);
	return id;
}

/**
 * Unique ID of the IKE_SA a request names, 0 and an error if none or
 * several; found, if given, receives how many have the name it gives
 */
static u_int find_ike_sa(vici_message_t *request, char **error, u_int *found)
{
	char *name;
	u_int id, count = 1;

	id = request->get_int(request, 0, "ike-id");
	name = request->get_str(request, NULL, "ike");
	if (!id && !name)
	{
		*error = "missing IKE_SA name or unique ID";
	}
	else if (!id)
	{
		id = find_named(name, &count);
		if (count != 1)
		{
			*error = count ? "several IKE_SAs have that name, push by unique "
							 "ID" : "no IKE_SA with that name";
			id = 0;
		}
	}
	if (found)
	{
		*found = count;
	}
	return id;
}

/**
 * Start waiting for the outcome of a transfer of an IKE_SA
 */
static waiter_t *wait_start(private_cxtp_vici_t *this, u_int ike_id)
{
	waiter_t *waiter;

	INIT(waiter,
		.ike_id = ike_id,
	);
	this->mutex->lock(this->mutex);
	this->waiters->insert_last(this->waiters, waiter);
	this->mutex->unlock(this->mutex);
	return waiter;
}

/**
 * Stop waiting, destroying the waiter
 */
static void wait_end(private_cxtp_vici_t *this, waiter_t *waiter)
{
	this->mutex->lock(this->mutex);
	this->waiters->remove(this->waiters, waiter, NULL);
	this->condvar->broadcast(this->condvar);
	this->mutex->unlock(this->mutex);
	free(waiter->reason);
	free(waiter);
}

/**
 * How long a transfer takes at most: the context retransmitted, the wait
 * for the activation, a CTC retransmitted, and some slack
 */
static uint32_t transfer_time(private_cxtp_vici_t *this)
{
	uint64_t total;

	total = this->settings->get_handover_timeout(this->settings) +
			2 * (uint64_t)cxtp_transport_give_up_time(this->settings) + 5000;
	return min(total, UINT32_MAX);
}

/**
 * The name of the outcome a final event of pAR reports
 */
static char *outcome_name(cxtp_event_t event)
{
	switch (event)
	{
		case CXTP_EVENT_ACTIVATE:
			return "activated";
		case CXTP_EVENT_CANCEL:
			return "cancelled";
		case CXTP_EVENT_THAW:
			return "thawed";
		case CXTP_EVENT_SUPERSEDE:
			return "superseded";
		default:
			return "failed";
	}
}

/**
 * Wait for the outcome of a transfer and reply with it
 */
static vici_message_t *wait_reply(private_cxtp_vici_t *this, waiter_t *waiter)
{
	vici_builder_t *b;
	timeval_t deadline;

	time_monotonic(&deadline);
	timeval_add_ms(&deadline, transfer_time(this));
	this->mutex->lock(this->mutex);
	while (!waiter->done && !this->destroying &&
		   !this->condvar->timed_wait_abs(this->condvar, this->mutex,
										  deadline))
	{
		/* woken for another waiter */
	}
	this->mutex->unlock(this->mutex);

	b = vici_builder_create();
	b->add_kv(b, "success", "yes");
	b->add_kv(b, "outcome", "%s", waiter->done ? outcome_name(waiter->event)
											   : "unknown");
	if (waiter->reason)
	{
		b->add_kv(b, "reason", "%s", waiter->reason);
	}
	else if (!waiter->done)
	{
		b->add_kv(b, "reason", "no outcome reported in time");
	}
	wait_end(this, waiter);
	return b->finalize(b);
}

/**
 * Reply to cxtp-push or cxtp-cancel: with the outcome of the transfer if
 * started and waited for, or why it was not started
 */
static vici_message_t *reply_transfer(private_cxtp_vici_t *this,
									  waiter_t *waiter, char *reason)
{
	vici_message_t *response;

	if (!reason && waiter)
	{
		return wait_reply(this, waiter);
	}
	if (waiter)
	{
		wait_end(this, waiter);
	}
	response = reply(reason);
	free(reason);
	return response;
}

/**
 * Transfers of a drain that ended
 */
static u_int drain_ended(cxtp_drain_progress_t *p)
{
	return p->activated + p->failed + p->thawed + p->cancelled +
		   p->superseded;
}

/**
 * Wait for the end of a drain, as long as its transfers keep ending in time
 */
static void wait_drain(private_cxtp_vici_t *this,
					   cxtp_drain_progress_t *progress)
{
	timeval_t deadline;
	u_int ended = 0, pushed = 0;
	bool armed = FALSE;

	this->mutex->lock(this->mutex);
	this->drain_waiters++;
	while (!this->destroying &&
		   this->drain->get_progress(this->drain, progress->id, progress) &&
		   !progress->done)
	{
		if (!armed || drain_ended(progress) != ended ||
			progress->pushed != pushed)
		{	/* each step gives the rest the time a single transfer takes */
			armed = TRUE;
			ended = drain_ended(progress);
			pushed = progress->pushed;
			time_monotonic(&deadline);
			timeval_add_ms(&deadline, transfer_time(this));
		}
		if (this->condvar->timed_wait_abs(this->condvar, this->mutex,
										  deadline))
		{
			this->drain->get_progress(this->drain, progress->id, progress);
			break;
		}
	}
	this->drain_waiters--;
	this->condvar->broadcast(this->condvar);
	this->mutex->unlock(this->mutex);
}

/**
 * Add the figures of a drain to a message
 */
static void add_progress(vici_builder_t *b, cxtp_drain_progress_t *p)
{
	b->add_kv(b, "drain", "%u", p->id);
	b->add_kv(b, "selected", "%u", p->selected);
	b->add_kv(b, "skipped", "%u", p->skipped);
	b->add_kv(b, "pushed", "%u", p->pushed);
	b->add_kv(b, "in-flight", "%u", p->in_flight);
	b->add_kv(b, "queued", "%u", p->queued);
	b->add_kv(b, "activated", "%u", p->activated);
	b->add_kv(b, "failed", "%u", p->failed);
	b->add_kv(b, "thawed", "%u", p->thawed);
	b->add_kv(b, "cancelled", "%u", p->cancelled);
	b->add_kv(b, "superseded", "%u", p->superseded);
	b->add_kv(b, "done", "%s", p->done ? "yes" : "no");
}

/**
 * Push the IKE_SAs of a connection, or all (name NULL), to a peer
 */
static vici_message_t *drain(private_cxtp_vici_t *this,
							 vici_message_t *request, char *name, char *peer,
							 bool takeover)
{
	cxtp_drain_progress_t progress;
	vici_builder_t *b;
	char *reason;

	DBG1(DBG_CFG, "vici cxtp-push of %s%s%s to '%s'%s", name ? "IKE_SAs '" :
		 "all IKE_SAs", name ?: "", name ? "'" : "", peer,
		 takeover ? " for a takeover" : "");
	reason = this->drain->start(this->drain, name, peer, takeover, &progress);
	if (reason)
	{
		vici_message_t *response;

		DBG1(DBG_CFG, "cxtp: not draining to '%s': %s", peer, reason);
		response = reply(reason);
		free(reason);
		return response;
	}
	if (request->get_bool(request, FALSE, "wait"))
	{
		wait_drain(this, &progress);
	}
	b = vici_builder_create();
	b->add_kv(b, "success", "yes");
	add_progress(b, &progress);
	return b->finalize(b);
}

CALLBACK(push, vici_message_t*,
	private_cxtp_vici_t *this, char *name, u_int id, vici_message_t *request)
{
	waiter_t *waiter = NULL;
	ike_sa_t *ike_sa;
	char *peer, *error = NULL, *reason;
	u_int ike_id, found;
	bool takeover;

	if (!this->par)
	{
		return reply("context transfer between access routers unavailable, "
					 "see the log");
	}
	peer = request->get_str(request, NULL, "peer");
	takeover = request->get_bool(request, FALSE, "takeover");
	if (!peer)
	{
		return reply("missing peer");
	}
	if (request->get_bool(request, FALSE, "all"))
	{
		return drain(this, request, NULL, peer, takeover);
	}
	ike_id = find_ike_sa(request, &error, &found);
	if (found > 1)
	{	/* a single one is pushed as before, with its outcome */
		return drain(this, request, request->get_str(request, NULL, "ike"),
					 peer, takeover);
	}
	if (!ike_id)
	{
		return reply(error);
	}
	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													ike_id);
	if (!ike_sa)
	{
		return reply("IKE_SA not found");
	}
	DBG1(DBG_CFG, "vici cxtp-push of IKE_SA %s[%u] to '%s'%s",
		 ike_sa->get_name(ike_sa), ike_id, peer,
		 takeover ? " for a takeover" : "");
	if (request->get_bool(request, FALSE, "wait"))
	{	/* before the outcome can be reported */
		waiter = wait_start(this, ike_id);
	}
	reason = this->par->push(this->par, ike_sa, peer, takeover);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	if (reason)
	{
		DBG1(DBG_CFG, "cxtp: not pushing IKE_SA [%u]: %s", ike_id, reason);
	}
	return reply_transfer(this, waiter, reason);
}

CALLBACK(cancel, vici_message_t*,
	private_cxtp_vici_t *this, char *name, u_int id, vici_message_t *request)
{
	waiter_t *waiter = NULL;
	char *error = NULL, *reason;
	u_int ike_id;

	if (!this->par)
	{
		return reply("context transfer between access routers unavailable, "
					 "see the log");
	}
	ike_id = find_ike_sa(request, &error, NULL);
	if (!ike_id)
	{
		return reply(error);
	}
	DBG1(DBG_CFG, "vici cxtp-cancel of the transfer of IKE_SA [%u]", ike_id);
	if (request->get_bool(request, FALSE, "wait"))
	{
		waiter = wait_start(this, ike_id);
	}
	reason = this->par->cancel(this->par, ike_id);
	if (reason)
	{
		DBG1(DBG_CFG, "cxtp: not cancelling the transfer of IKE_SA [%u]: %s",
			 ike_id, reason);
	}
	return reply_transfer(this, waiter, reason);
}

/**
 * cxtp-activate and cxtp-prepare: the mobile node's CTAR to the new access
 * router after the move, or to the current one before it
 */
static vici_message_t *mn_command(private_cxtp_vici_t *this,
								  vici_message_t *request, bool prepare)
{
	vici_message_t *response;
	ike_sa_t *ike_sa;
	host_t *ar;
	char *address, *error = NULL, *reason;
	u_int ike_id;
	bool ack;

	/* without an address: the default router of the link we move to */
	address = request->get_str(request, NULL, "address");
	ar = address ? host_create_from_string(address, 0) : NULL;
	if (address && !ar)
	{
		return reply("invalid address of the access router");
	}
	ike_id = find_ike_sa(request, &error, NULL);
	if (!ike_id)
	{
		DESTROY_IF(ar);
		return reply(error);
	}
	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													ike_id);
	if (!ike_sa)
	{
		DESTROY_IF(ar);
		return reply("IKE_SA not found");
	}
	if (ar)
	{
		DBG1(DBG_CFG, "vici cxtp-%s of IKE_SA %s[%u] %s %H",
			 prepare ? "prepare" : "activate", ike_sa->get_name(ike_sa),
			 ike_id, prepare ? "towards" : "on", ar);
	}
	else
	{
		DBG1(DBG_CFG, "vici cxtp-%s of IKE_SA %s[%u] on the default router",
			 prepare ? "prepare" : "activate", ike_sa->get_name(ike_sa),
			 ike_id);
	}
	ack = request->get_bool(request, FALSE, "ack");
	if (prepare)
	{
		reason = this->mn->prepare(this->mn, ike_sa, ar, ack);
	}
	else
	{
		reason = this->mn->activate(this->mn, ike_sa, ar, ack);
	}
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	DESTROY_IF(ar);
	if (!prepare && !reason)
	{	/* right after a move it may wait for a usable address */
		reason = this->mn->wait_activation(this->mn, ike_id);
	}
	if (reason)
	{
		DBG1(DBG_CFG, "cxtp: not sending a CTAR for IKE_SA [%u]: %s", ike_id,
			 reason);
	}
	response = reply(reason);
	free(reason);
	return response;
}

CALLBACK(activate, vici_message_t*,
	private_cxtp_vici_t *this, char *name, u_int id, vici_message_t *request)
{
	return mn_command(this, request, FALSE);
}

CALLBACK(prepare, vici_message_t*,
	private_cxtp_vici_t *this, char *name, u_int id, vici_message_t *request)
{
	return mn_command(this, request, TRUE);
}

/**
 * The vici event of a transfer step
 */
static void event_name(cxtp_event_t event, char *buf, size_t len)
{
	snprintf(buf, len, "cxtp-%N", cxtp_event_names, event);
}

CALLBACK(raise_event, void,
	private_cxtp_vici_t *this, cxtp_event_t event, u_int ike_id, char *peer,
	host_t *mn, char *error)
{
	enumerator_t *enumerator;
	waiter_t *waiter;
	vici_builder_t *b;
	char name[32];

	if (event == CXTP_EVENT_ACTIVATE || event == CXTP_EVENT_FAILURE ||
		event == CXTP_EVENT_CANCEL || event == CXTP_EVENT_THAW ||
		event == CXTP_EVENT_SUPERSEDE)
	{	/* the transfer's end, for those who wait for it */
		this->mutex->lock(this->mutex);
		enumerator = this->waiters->create_enumerator(this->waiters);
		while (enumerator->enumerate(enumerator, &waiter))
		{
			if (waiter->ike_id == ike_id && !waiter->done)
			{
				waiter->done = TRUE;
				waiter->event = event;
				waiter->reason = strdupnull(error);
			}
		}
		enumerator->destroy(enumerator);
		this->condvar->broadcast(this->condvar);
		this->mutex->unlock(this->mutex);
	}
	event_name(event, name, sizeof(name));
	if (!this->dispatcher->has_event_listeners(this->dispatcher, name))
	{
		return;
	}
	b = vici_builder_create();
	if (ike_id)
	{
		b->add_kv(b, "ike-id", "%u", ike_id);
	}
	if (peer)
	{
		b->add_kv(b, "peer", "%s", peer);
	}
	if (mn)
	{
		b->add_kv(b, "mobile-node", "%H", mn);
	}
	if (error)
	{
		b->add_kv(b, "error", "%s", error);
	}
	this->dispatcher->raise_event(this->dispatcher, name, 0, b->finalize(b));
}

CALLBACK(par_event, void,
	private_cxtp_vici_t *this, cxtp_event_t event, u_int ike_id, char *peer,
	host_t *mn, char *error)
{
	this->drain->event(this->drain, event, ike_id);
	raise_event(this, event, ike_id, peer, mn, error);
}

CALLBACK(drain_progress, void,
	private_cxtp_vici_t *this, char *peer, cxtp_drain_progress_t *progress)
{
	vici_builder_t *b;

	this->mutex->lock(this->mutex);
	this->condvar->broadcast(this->condvar);
	this->mutex->unlock(this->mutex);
	if (!this->dispatcher->has_event_listeners(this->dispatcher,
											   "cxtp-drain-progress"))
	{
		return;
	}
	b = vici_builder_create();
	b->add_kv(b, "peer", "%s", peer);
	add_progress(b, progress);
	this->dispatcher->raise_event(this->dispatcher, "cxtp-drain-progress", 0,
								  b->finalize(b));
}

/**
 * (Un-)register a command
 */
static void manage_command(private_cxtp_vici_t *this, char *name,
						   vici_command_cb_t cb, bool reg)
{
	this->dispatcher->manage_command(this->dispatcher, name,
									 reg ? cb : NULL, this);
}

/**
 * (Un-)register the commands and events, and the roles' event callbacks
 */
static void manage_commands(private_cxtp_vici_t *this, bool reg)
{
	cxtp_event_t event;
	char name[32];

	for (event = CXTP_EVENT_EXPORT; event <= CXTP_EVENT_LAST; event++)
	{
		event_name(event, name, sizeof(name));
		this->dispatcher->manage_event(this->dispatcher, name, reg);
	}
	this->dispatcher->manage_event(this->dispatcher, "cxtp-drain-progress",
								   reg);
	this->dispatcher->manage_event(this->dispatcher, "cxtp-list-context",
								   reg);
	this->dispatcher->manage_event(this->dispatcher, "cxtp-list-transfer",
								   reg);
	manage_command(this, "cxtp-list", list, reg);
	manage_command(this, "cxtp-push", push, reg);
	manage_command(this, "cxtp-cancel", cancel, reg);
	manage_command(this, "cxtp-activate", activate, reg);
	manage_command(this, "cxtp-prepare", prepare, reg);
	if (this->par)
	{
		this->par->set_event_cb(this->par, reg ? par_event : NULL,
								reg ? this : NULL);
		this->drain->set_progress_cb(this->drain,
								reg ? drain_progress : NULL, reg ? this : NULL);
	}
	if (this->nar)
	{
		this->nar->set_event_cb(this->nar, reg ? raise_event : NULL,
								reg ? this : NULL);
	}
	if (this->mn)
	{
		this->mn->set_event_cb(this->mn, reg ? raise_event : NULL,
							   reg ? this : NULL);
	}
}

METHOD(cxtp_vici_t, destroy, void,
	private_cxtp_vici_t *this)
{
	manage_commands(this, FALSE);
	/* commands may still wait for an outcome */
	this->mutex->lock(this->mutex);
	this->destroying = TRUE;
	this->condvar->broadcast(this->condvar);
	while (this->waiters->get_count(this->waiters) || this->drain_waiters)
	{
		this->condvar->wait(this->condvar, this->mutex);
	}
	this->mutex->unlock(this->mutex);
	DESTROY_IF(this->drain);
	this->waiters->destroy(this->waiters);
	this->condvar->destroy(this->condvar);
	this->mutex->destroy(this->mutex);
	free(this);
}

/*
 * Described in header
 */
cxtp_vici_t *cxtp_vici_create(cxtp_settings_t *settings,
							  cxtp_capture_t *capture,
							  cxtp_transfers_t *transfers, cxtp_par_t *par,
							  cxtp_transport_t *transport, cxtp_nar_t *nar,
							  cxtp_mn_t *mn)
{
	private_cxtp_vici_t *this;
	vici_dispatcher_t *dispatcher;

	dispatcher = lib->get(lib, "vici-dispatcher");
	if (!dispatcher)
	{
		return NULL;
	}
	INIT(this,
		.public = {
			.destroy = _destroy,
		},
		.dispatcher = dispatcher,
		.capture = capture,
		.transfers = transfers,
		.par = par,
		.nar = nar,
		.mn = mn,
		.settings = settings,
		.waiters = linked_list_create(),
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
		.condvar = condvar_create(CONDVAR_TYPE_DEFAULT),
	);
	if (par)
	{
		this->drain = cxtp_drain_create(par, transport, settings);
	}
	manage_commands(this, TRUE);
	return &this->public;
}
