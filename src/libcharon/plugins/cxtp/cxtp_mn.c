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
#include <collections/array.h>
#include <collections/linked_list.h>
#include <processing/jobs/callback_job.h>

typedef struct private_cxtp_mn_t private_cxtp_mn_t;

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
	 * IKE_SAs prepared for a handover, prepared_t*
	 */
	linked_list_t *prepared;

	/**
	 * Serial of the last preparation
	 */
	u_int serial;

	/**
	 * Sequence number of the last CTAR sent, a CTAA acknowledges it
	 */
	uint32_t sequence;

	/**
	 * IKE_SA the last CTAR was sent for
	 */
	u_int ctar_ike_id;

	/**
	 * Callback for events, and its data
	 */
	cxtp_event_cb_t event_cb;
	void *event_data;

	/**
	 * Protects the members above
	 */
	mutex_t *mutex;
};

/**
 * An IKE_SA prepared for a handover
 */
typedef struct {
	/** unique ID of the IKE_SA */
	u_int ike_id;
	/** serial, the timeout thaws only the preparation it was started for */
	u_int serial;
	/** next access router, NULL for the default router after the move */
	host_t *nar;
	/** sequence number of the CTAR sent to pAR, 0 if none */
	uint32_t sequence;
	/** whether the CTAR after the move asks for a CTAA */
	bool ack;
} prepared_t;

static void prepared_destroy(prepared_t *entry)
{
	DESTROY_IF(entry->nar);
	free(entry);
}

/**
 * Remove the preparation of an IKE_SA (of the given serial if not 0)
 */
static prepared_t *remove_prepared(private_cxtp_mn_t *this, u_int ike_id,
								   u_int serial)
{
	enumerator_t *enumerator;
	prepared_t *entry, *found = NULL;

	this->mutex->lock(this->mutex);
	enumerator = this->prepared->create_enumerator(this->prepared);
	while (enumerator->enumerate(enumerator, &entry))
	{
		if (entry->ike_id == ike_id && (!serial || entry->serial == serial))
		{
			this->prepared->remove_at(this->prepared, enumerator);
			found = entry;
			break;
		}
	}
	enumerator->destroy(enumerator);
	this->mutex->unlock(this->mutex);
	return found;
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
	ok = rng->get_bytes(rng, sizeof(*sequence), (uint8_t*)sequence);
	rng->destroy(rng);
	return ok;
}

/**
 * Build the CTAR, with the token keyed from the IKE_SA's SK_d
 */
static cxtp_message_t *build_ctar(private_cxtp_mn_t *this, ike_sa_t *ike_sa,
								  host_t *ar, uint32_t sequence, bool ack)
{
	cxtp_message_t *message;
	chunk_t key = chunk_empty;
	bool ok;

	if (!this->transfers->derive_token_key(this->transfers, ike_sa, &key))
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
	ok = message->sign_token(message, key);
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
 * Send the CTAR to nAR and move the SAs there
 */
static char *send_ctar(private_cxtp_mn_t *this, ike_sa_t *ike_sa, host_t *nar,
					   uint32_t sequence, bool ack)
{
	cxtp_message_t *message;
	host_t *me, *local, *other, *old_me, *old_other;
	char *reason;
	bool sent;

	reason = cxtp_export_check(this->capture, ike_sa);
	if (reason)
	{
		return reason;
	}
	me = charon->kernel->get_source_addr(charon->kernel, nar, NULL);
	if (!me)
	{
		return strdup("no route to the new access router");
	}
	message = build_ctar(this, ike_sa, ike_sa->get_other_host(ike_sa),
						 sequence, ack);
	if (!message)
	{
		me->destroy(me);
		return strdup("building the CTAR failed");
	}
	/* the same SAs continue on nAR, only their addresses change; moving
	 * them first has them ready when nAR activates its copies */
	old_me = ike_sa->get_my_host(ike_sa)->clone(ike_sa->get_my_host(ike_sa));
	old_other = ike_sa->get_other_host(ike_sa)->clone(
											ike_sa->get_other_host(ike_sa));
	local = me->clone(me);
	local->set_port(local, old_me->get_port(old_me));
	other = nar->clone(nar);
	other->set_port(other, old_other->get_port(old_other));
	ike_sa->update_hosts(ike_sa, local, other, UPDATE_HOSTS_FORCE_ADDRS);

	this->mutex->lock(this->mutex);
	this->sequence = message->get_sequence(message);
	this->ctar_ike_id = ike_sa->get_unique_id(ike_sa);
	this->mutex->unlock(this->mutex);
	if (ack)
	{
		sent = this->icmp->send_reliable(this->icmp, me, nar, message,
										 message->get_sequence(message));
	}
	else
	{
		sent = this->icmp->send(this->icmp, me, nar, message);
	}
	message->destroy(message);
	if (sent)
	{
		DBG1(DBG_IKE, "cxtp: sent CTAR for IKE_SA %s[%u] from %H to %H, "
			 "moved it there", ike_sa->get_name(ike_sa),
			 ike_sa->get_unique_id(ike_sa), me, nar);
		/* the next transfer's token gets a fresh key */
		this->transfers->set_transfers(this->transfers, ike_sa,
				this->transfers->get_transfers(this->transfers, ike_sa) + 1);
		event(this, CXTP_EVENT_ACTIVATE, ike_sa->get_unique_id(ike_sa), nar, me, NULL);
	}
	else
	{
		ike_sa->update_hosts(ike_sa, old_me, old_other,
							 UPDATE_HOSTS_FORCE_ADDRS);
	}
	me->destroy(me);
	local->destroy(local);
	other->destroy(other);
	old_me->destroy(old_me);
	old_other->destroy(old_other);
	return sent ? NULL : strdup("sending the CTAR failed");
}

METHOD(cxtp_mn_t, activate, char*,
	private_cxtp_mn_t *this, ike_sa_t *ike_sa, host_t *nar, bool ack)
{
	prepared_t *entry;
	host_t *router = NULL;
	char *reason;

	if (!this->icmp)
	{
		return strdup("no ICMP transport to access routers, see the log");
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
	entry = remove_prepared(this, ike_sa->get_unique_id(ike_sa), 0);
	if (entry)
	{	/* thawed whether the CTAR goes out or not: a failed activation
		 * leaves the IKE_SA with pAR, where it may still work */
		ike_sa->set_state(ike_sa, IKE_ESTABLISHED);
	}
	reason = send_ctar(this, ike_sa, nar, entry ? entry->sequence : 0, ack);
	if (reason)
	{
		event(this, CXTP_EVENT_FAILURE, ike_sa->get_unique_id(ike_sa), nar,
			  ike_sa->get_my_host(ike_sa), reason);
	}
	if (entry)
	{
		prepared_destroy(entry);
	}
	DESTROY_IF(router);
	return reason;
}

/**
 * Thaw a prepared IKE_SA if it did not move in time
 */
typedef struct {
	private_cxtp_mn_t *mn;
	u_int ike_id;
	u_int serial;
} preparation_t;

CALLBACK(prepare_timeout, job_requeue_t,
	preparation_t *preparation)
{
	private_cxtp_mn_t *this = preparation->mn;
	prepared_t *entry;
	ike_sa_t *ike_sa;
	char timeout[32];

	entry = remove_prepared(this, preparation->ike_id, preparation->serial);
	if (!entry)
	{
		return JOB_REQUEUE_NONE;
	}
	prepared_destroy(entry);
	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													preparation->ike_id);
	if (!ike_sa)
	{
		return JOB_REQUEUE_NONE;
	}
	if (ike_sa->get_state(ike_sa) == IKE_PASSIVE)
	{
		DBG1(DBG_IKE, "cxtp: IKE_SA %s[%u] did not move within %s, thawing "
			 "it", ike_sa->get_name(ike_sa), preparation->ike_id,
			 cxtp_options_print_time(
					this->settings->get_handover_timeout(this->settings),
					timeout, sizeof(timeout)));
		ike_sa->set_state(ike_sa, IKE_ESTABLISHED);
		event(this, CXTP_EVENT_FAILURE, preparation->ike_id, NULL,
			  ike_sa->get_my_host(ike_sa), "no move in time, IKE_SA thawed");
	}
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	return JOB_REQUEUE_NONE;
}

METHOD(cxtp_mn_t, prepare, char*,
	private_cxtp_mn_t *this, ike_sa_t *ike_sa, host_t *nar, bool ack)
{
	cxtp_message_t *message;
	preparation_t *preparation;
	prepared_t *entry;
	host_t *par = ike_sa->get_other_host(ike_sa);
	uint32_t sequence = 0, ms;
	char *reason, timeout[32];
	bool sent;

	if (!this->icmp)
	{
		return strdup("no ICMP transport to access routers, see the log");
	}
	if (this->public.is_prepared(&this->public, ike_sa))
	{
		return strdup("IKE_SA is already prepared for a handover");
	}
	reason = cxtp_export_check(this->capture, ike_sa);
	if (reason)
	{
		return reason;
	}
	if (nar)
	{
		message = build_ctar(this, ike_sa, nar, 0, FALSE);
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
	INIT(entry,
		.ike_id = ike_sa->get_unique_id(ike_sa),
		.nar = nar ? nar->clone(nar) : NULL,
		.sequence = sequence,
		.ack = ack,
	);
	INIT(preparation,
		.mn = this,
		.ike_id = entry->ike_id,
	);
	this->mutex->lock(this->mutex);
	entry->serial = preparation->serial = ++this->serial;
	this->prepared->insert_last(this->prepared, entry);
	this->mutex->unlock(this->mutex);

	/* a passive IKE_SA ignores roaming: no MOBIKE towards pAR from the new
	 * link, while its CHILD_SAs keep carrying traffic */
	ike_sa->set_state(ike_sa, IKE_PASSIVE);
	ms = this->settings->get_handover_timeout(this->settings);
	cxtp_options_print_time(ms, timeout, sizeof(timeout));
	if (nar)
	{
		DBG1(DBG_IKE, "cxtp: IKE_SA %s[%u] frozen for at most %s, activating "
			 "it on %H once %H is gone", ike_sa->get_name(ike_sa),
			 entry->ike_id, timeout, nar, ike_sa->get_my_host(ike_sa));
	}
	else
	{
		DBG1(DBG_IKE, "cxtp: IKE_SA %s[%u] frozen for at most %s, activating "
			 "it on the new link's default router once %H is gone",
			 ike_sa->get_name(ike_sa), entry->ike_id, timeout,
			 ike_sa->get_my_host(ike_sa));
	}
	lib->scheduler->schedule_job_ms(lib->scheduler, (job_t*)
			callback_job_create(prepare_timeout, preparation, free, NULL),
			ms);
	return NULL;
}

CALLBACK(prepared_match, bool,
	prepared_t *entry, va_list args)
{
	u_int ike_id;

	VA_ARGS_VGET(args, ike_id);
	return entry->ike_id == ike_id;
}

METHOD(cxtp_mn_t, is_prepared, bool,
	private_cxtp_mn_t *this, ike_sa_t *ike_sa)
{
	bool found;

	this->mutex->lock(this->mutex);
	found = this->prepared->find_first(this->prepared, prepared_match, NULL,
									   ike_sa->get_unique_id(ike_sa));
	this->mutex->unlock(this->mutex);
	return found;
}

/**
 * Activate a prepared IKE_SA if its local address is gone and a route to the
 * new access router is up
 */
static void check_move(private_cxtp_mn_t *this, ike_sa_t *ike_sa)
{
	prepared_t *entry;
	host_t *nar = NULL, *src;
	bool ack = FALSE;
	char *reason;

	if (ike_sa->get_state(ike_sa) != IKE_PASSIVE ||
		charon->kernel->get_interface(charon->kernel,
									  ike_sa->get_my_host(ike_sa), NULL))
	{	/* not moved (yet) */
		return;
	}
	this->mutex->lock(this->mutex);
	if (this->prepared->find_first(this->prepared, prepared_match,
								   (void**)&entry,
								   ike_sa->get_unique_id(ike_sa)))
	{
		nar = entry->nar ? entry->nar->clone(entry->nar) : NULL;
		ack = entry->ack;
	}
	this->mutex->unlock(this->mutex);

	if (!nar)
	{
		nar = default_router(ike_sa);
	}
	src = nar ? charon->kernel->get_source_addr(charon->kernel, nar, NULL)
			  : NULL;
	if (!src)
	{
		DBG2(DBG_IKE, "cxtp: %H of IKE_SA %s[%u] is gone, waiting for a "
			 "route to the new access router", ike_sa->get_my_host(ike_sa),
			 ike_sa->get_name(ike_sa), ike_sa->get_unique_id(ike_sa));
		DESTROY_IF(nar);
		return;
	}
	DBG1(DBG_IKE, "cxtp: %H of IKE_SA %s[%u] is gone, activating it on %H",
		 ike_sa->get_my_host(ike_sa), ike_sa->get_name(ike_sa),
		 ike_sa->get_unique_id(ike_sa), nar);
	reason = this->public.activate(&this->public, ike_sa, nar, ack);
	if (reason)
	{
		DBG1(DBG_IKE, "cxtp: activating IKE_SA %s[%u] failed: %s",
			 ike_sa->get_name(ike_sa), ike_sa->get_unique_id(ike_sa), reason);
		free(reason);
	}
	src->destroy(src);
	nar->destroy(nar);
}

CALLBACK(check_moves, job_requeue_t,
	private_cxtp_mn_t *this)
{
	enumerator_t *enumerator;
	prepared_t *entry;
	ike_sa_t *ike_sa;
	array_t *ids;
	u_int id;

	ids = array_create(sizeof(u_int), 0);
	this->mutex->lock(this->mutex);
	enumerator = this->prepared->create_enumerator(this->prepared);
	while (enumerator->enumerate(enumerator, &entry))
	{
		array_insert(ids, ARRAY_TAIL, &entry->ike_id);
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
		else
		{
			entry = remove_prepared(this, id, 0);
			if (entry)
			{
				prepared_destroy(entry);
			}
		}
	}
	array_destroy(ids);
	return JOB_REQUEUE_NONE;
}

METHOD(kernel_listener_t, roam, bool,
	private_cxtp_mn_t *this, bool address)
{
	bool prepared;

	this->mutex->lock(this->mutex);
	prepared = this->prepared->get_count(this->prepared) > 0;
	this->mutex->unlock(this->mutex);
	if (prepared)
	{	/* not from the kernel interface's event thread: needs checkouts */
		lib->processor->queue_job(lib->processor, (job_t*)
				callback_job_create_with_prio(check_moves, this, NULL, NULL,
											  JOB_PRIO_HIGH));
	}
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

METHOD(cxtp_mn_t, process_ctaa, void,
	private_cxtp_mn_t *this, host_t *src, cxtp_message_t *message)
{
	uint32_t sequence;

	DBG1(DBG_IKE, "cxtp: access router %H acknowledged the activation for %H",
		 src, message->get_mn_address(message));
	/* a CTAA carries no sequence number, only one CTAR is in flight */
	this->mutex->lock(this->mutex);
	sequence = this->sequence;
	this->mutex->unlock(this->mutex);
	this->icmp->acknowledge(this->icmp, sequence);
	message->destroy(message);
}

CALLBACK(ctar_timeout, void,
	private_cxtp_mn_t *this, uint32_t sequence, host_t *dst)
{
	u_int ike_id = 0;

	this->mutex->lock(this->mutex);
	if (sequence == this->sequence)
	{
		ike_id = this->ctar_ike_id;
	}
	this->mutex->unlock(this->mutex);
	DBG1(DBG_IKE, "cxtp: access router %H did not acknowledge the CTAR for "
		 "IKE_SA [%u]", dst, ike_id);
	event(this, CXTP_EVENT_FAILURE, ike_id, dst, NULL, "CTAR not acknowledged");
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
	/* the ICMP transport is gone already, and with it its callbacks */
	this->prepared->destroy_function(this->prepared, (void*)prepared_destroy);
	this->mutex->destroy(this->mutex);
	free(this);
}

/*
 * Described in header
 */
cxtp_mn_t *cxtp_mn_create(cxtp_capture_t *capture,
						  cxtp_transfers_t *transfers,
						  cxtp_settings_t *settings, cxtp_icmp_t *icmp)
{
	private_cxtp_mn_t *this;

	INIT(this,
		.public = {
			.listener = {
				.roam = _roam,
			},
			.ike_listener = {
				.ike_reestablish_pre = _ike_reestablish_pre,
			},
			.activate = _activate,
			.prepare = _prepare,
			.is_prepared = _is_prepared,
			.process_ctaa = _process_ctaa,
			.set_event_cb = _set_event_cb,
			.destroy = _destroy,
		},
		.capture = capture,
		.transfers = transfers,
		.settings = settings,
		.icmp = icmp,
		.prepared = linked_list_create(),
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
	);
	if (icmp)
	{
		icmp->set_timeout_cb(icmp, ctar_timeout, this);
	}
	return &this->public;
}
