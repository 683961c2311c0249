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


#include "cxtp_freeze.h"

#include <daemon.h>
#include <collections/array.h>
#include <collections/linked_list.h>
#include <processing/jobs/delete_child_sa_job.h>
#include <processing/jobs/delete_ike_sa_job.h>
#include <processing/jobs/rekey_child_sa_job.h>
#include <processing/jobs/rekey_ike_sa_job.h>
#include <threading/mutex.h>

typedef struct private_cxtp_freeze_t private_cxtp_freeze_t;

/**
 * Private data of a cxtp_freeze_t object.
 */
struct private_cxtp_freeze_t {

	/**
	 * Public cxtp_freeze_t interface.
	 */
	cxtp_freeze_t public;

	/**
	 * Frozen IKE_SAs, frozen_t
	 */
	linked_list_t *frozen;

	/**
	 * Protects the frozen IKE_SAs
	 */
	mutex_t *mutex;
};

/**
 * An SA expiry that fell into a freeze, as the kernel reported it
 */
typedef struct {
	uint8_t protocol;
	uint32_t spi;
	host_t *dst;
	bool hard;
} expiry_t;

/**
 * A frozen IKE_SA
 */
typedef struct {
	/** unique ID of the IKE_SA */
	u_int ike_id;
	/** SPIs of its CHILD_SAs, both directions, uint32_t */
	array_t *spis;
	/** expiries of them while frozen, expiry_t */
	array_t *expiries;
} frozen_t;

static void frozen_destroy(frozen_t *frozen)
{
	expiry_t expiry;

	while (array_remove(frozen->expiries, ARRAY_HEAD, &expiry))
	{
		expiry.dst->destroy(expiry.dst);
	}
	array_destroy(frozen->expiries);
	array_destroy(frozen->spis);
	free(frozen);
}

CALLBACK(match_ike_sa, bool,
	frozen_t *frozen, va_list args)
{
	u_int ike_id;

	VA_ARGS_VGET(args, ike_id);
	return frozen->ike_id == ike_id;
}

/**
 * Remove a frozen IKE_SA, NULL if it is not
 */
static frozen_t *remove_frozen(private_cxtp_freeze_t *this, u_int ike_id)
{
	frozen_t *frozen = NULL;

	this->mutex->lock(this->mutex);
	if (this->frozen->find_first(this->frozen, match_ike_sa, (void**)&frozen,
								 ike_id))
	{
		this->frozen->remove(this->frozen, frozen, NULL);
	}
	this->mutex->unlock(this->mutex);
	return frozen;
}

METHOD(cxtp_freeze_t, forget, void,
	private_cxtp_freeze_t *this, u_int ike_id)
{
	frozen_t *frozen;

	frozen = remove_frozen(this, ike_id);
	if (frozen)
	{
		frozen_destroy(frozen);
	}
}

METHOD(cxtp_freeze_t, freeze, void,
	private_cxtp_freeze_t *this, ike_sa_t *ike_sa)
{
	enumerator_t *enumerator;
	child_sa_t *child_sa;
	frozen_t *frozen;
	uint32_t spi;

	INIT(frozen,
		.ike_id = ike_sa->get_unique_id(ike_sa),
		.spis = array_create(sizeof(uint32_t), 0),
		.expiries = array_create(sizeof(expiry_t), 0),
	);
	enumerator = ike_sa->create_child_sa_enumerator(ike_sa);
	while (enumerator->enumerate(enumerator, &child_sa))
	{
		spi = child_sa->get_spi(child_sa, TRUE);
		array_insert(frozen->spis, ARRAY_TAIL, &spi);
		spi = child_sa->get_spi(child_sa, FALSE);
		array_insert(frozen->spis, ARRAY_TAIL, &spi);
	}
	enumerator->destroy(enumerator);
	forget(this, frozen->ike_id);
	this->mutex->lock(this->mutex);
	this->frozen->insert_last(this->frozen, frozen);
	this->mutex->unlock(this->mutex);
	ike_sa->set_state(ike_sa, IKE_PASSIVE);
}

/**
 * The IKEv2 protocol of an IP protocol, as charon's kernel handler converts
 * those of expiries
 */
static protocol_id_t proto_ip2ike(uint8_t protocol)
{
	switch (protocol)
	{
		case IPPROTO_ESP:
			return PROTO_ESP;
		case IPPROTO_AH:
			return PROTO_AH;
		default:
			return protocol;
	}
}

/**
 * Queue the job for the IKE_SA's own rekeying, reauthentication or expiry
 * that fell due
 */
static void run_ike_sa_due(ike_sa_t *ike_sa, time_t rekey, time_t reauth,
						   time_t hard)
{
	ike_sa_id_t *id = ike_sa->get_id(ike_sa);
	time_t now = time_monotonic(NULL);
	job_t *job = NULL;

	if (hard && hard <= now)
	{
		DBG1(DBG_IKE, "cxtp: IKE_SA %s[%u] expired while frozen, deleting it",
			 ike_sa->get_name(ike_sa), ike_sa->get_unique_id(ike_sa));
		job = (job_t*)delete_ike_sa_job_create(id, TRUE);
	}
	else if ((reauth && reauth <= now) || (rekey && rekey <= now))
	{
		DBG1(DBG_IKE, "cxtp: %s of IKE_SA %s[%u] fell due while frozen, "
			 "starting it now", reauth && reauth <= now ? "reauthentication"
			 : "rekeying", ike_sa->get_name(ike_sa),
			 ike_sa->get_unique_id(ike_sa));
		job = (job_t*)rekey_ike_sa_job_create(id, reauth && reauth <= now);
	}
	if (job)
	{
		lib->processor->queue_job(lib->processor, job);
	}
}

/**
 * Queue the jobs for CHILD_SA expiries that fell into the freeze
 */
static void run_expiries(ike_sa_t *ike_sa, frozen_t *frozen)
{
	expiry_t expiry;
	job_t *job;

	while (array_remove(frozen->expiries, ARRAY_HEAD, &expiry))
	{
		DBG1(DBG_IKE, "cxtp: CHILD_SA with SPI %.8x %s while IKE_SA %s[%u] "
			 "was frozen, %s it now", ntohl(expiry.spi),
			 expiry.hard ? "expired" : "fell due for rekeying",
			 ike_sa->get_name(ike_sa), ike_sa->get_unique_id(ike_sa),
			 expiry.hard ? "deleting" : "rekeying");
		if (expiry.hard)
		{
			job = (job_t*)delete_child_sa_job_create(
						proto_ip2ike(expiry.protocol), expiry.spi, expiry.dst,
						TRUE);
		}
		else
		{
			job = (job_t*)rekey_child_sa_job_create(
						proto_ip2ike(expiry.protocol), expiry.spi, expiry.dst);
		}
		lib->processor->queue_job(lib->processor, job);
		expiry.dst->destroy(expiry.dst);
	}
}

METHOD(cxtp_freeze_t, thaw, void,
	private_cxtp_freeze_t *this, ike_sa_t *ike_sa)
{
	time_t established, rekey, reauth, hard;
	frozen_t *frozen;

	established = ike_sa->get_statistic(ike_sa, STAT_ESTABLISHED);
	rekey = ike_sa->get_statistic(ike_sa, STAT_REKEY);
	reauth = ike_sa->get_statistic(ike_sa, STAT_REAUTH);
	hard = ike_sa->get_statistic(ike_sa, STAT_DELETE);
	/* restarts DPD, keepalives and a rekeying not yet due */
	ike_sa->set_state(ike_sa, IKE_ESTABLISHED);
	ike_sa->set_statistic(ike_sa, STAT_ESTABLISHED, established);

	/* the jobs that fell due refused a passive IKE_SA and are gone */
	run_ike_sa_due(ike_sa, rekey, reauth, hard);
	frozen = remove_frozen(this, ike_sa->get_unique_id(ike_sa));
	if (frozen)
	{
		run_expiries(ike_sa, frozen);
		frozen_destroy(frozen);
	}
}

/**
 * Note the expiry of an SA of a frozen IKE_SA, a hard one replacing a soft
 * one (a rekeying is pointless then)
 */
static void note_expiry(frozen_t *frozen, uint8_t protocol, uint32_t spi,
						host_t *dst, bool hard)
{
	enumerator_t *enumerator;
	expiry_t *current, expiry = {
		.protocol = protocol,
		.spi = spi,
		.hard = hard,
	};

	enumerator = array_create_enumerator(frozen->expiries);
	while (enumerator->enumerate(enumerator, &current))
	{
		if (current->spi == spi)
		{
			current->hard = current->hard || hard;
			enumerator->destroy(enumerator);
			return;
		}
	}
	enumerator->destroy(enumerator);
	expiry.dst = dst->clone(dst);
	array_insert(frozen->expiries, ARRAY_TAIL, &expiry);
}

METHOD(kernel_listener_t, expire, bool,
	kernel_listener_t *listener, uint8_t protocol, uint32_t spi,
	host_t *dst, bool hard)
{
	private_cxtp_freeze_t *this = (private_cxtp_freeze_t*)listener;
	enumerator_t *enumerator, *spis;
	frozen_t *frozen;
	uint32_t *current;
	bool found = FALSE;

	this->mutex->lock(this->mutex);
	enumerator = this->frozen->create_enumerator(this->frozen);
	while (!found && enumerator->enumerate(enumerator, &frozen))
	{
		spis = array_create_enumerator(frozen->spis);
		while (spis->enumerate(spis, &current))
		{
			if (*current == spi)
			{
				note_expiry(frozen, protocol, spi, dst, hard);
				found = TRUE;
				break;
			}
		}
		spis->destroy(spis);
	}
	enumerator->destroy(enumerator);
	this->mutex->unlock(this->mutex);
	return TRUE;
}

METHOD(cxtp_freeze_t, destroy, void,
	private_cxtp_freeze_t *this)
{
	this->frozen->destroy_function(this->frozen, (void*)frozen_destroy);
	this->mutex->destroy(this->mutex);
	free(this);
}

/*
 * Described in header
 */
cxtp_freeze_t *cxtp_freeze_create()
{
	private_cxtp_freeze_t *this;

	INIT(this,
		.public = {
			.listener = {
				.expire = _expire,
			},
			.freeze = _freeze,
			.thaw = _thaw,
			.forget = _forget,
			.destroy = _destroy,
		},
		.frozen = linked_list_create(),
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
	);
	return &this->public;
}
