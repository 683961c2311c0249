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

/*
 * Where charon sets an IKE_SA's remote address (set_other_host() and
 * update_hosts()), and why the index sees it (strongSwan 5.9.8):
 *
 * - update_hosts() on an IKE_SA with addresses (MOBIKE, NAT-T port floats,
 *   the mobile node's own moves in cxtp_mn.c) raises ike_update with the new
 *   address first.  Its silent form applies only while an address is still
 *   %any, i.e. in IKE_CREATED, like the set_other_host() calls of the task
 *   managers' first responses, resolve_hosts(), reestablish(), inherit_pre(),
 *   the trap manager and IKE_SA_INIT redirects: all are followed by a state
 *   change (IKE_CONNECTING, IKE_ESTABLISHED) before the IKE_SA is checked
 *   in, which records it.
 * - A rekeying's new IKE_SA gets its address before ike_rekey and its state
 *   change to IKE_ESTABLISHED.
 * - Our own import (cxtp_import.c) sets the address, then IKE_PASSIVE; the
 *   activation sets the node's new address, then IKE_ESTABLISHED.  The
 *   freeze and thaw, and mobike-spi, do not move IKE_SAs.
 * - IKEv1's INFORMATIONAL redirect moves an established IKE_SA and only then
 *   reauthenticates: IKEv1 IKE_SAs are kept apart and every lookup checks
 *   them (CXTP transfers IKEv2 only, a router holds few if any).
 * - A kernel MIGRATE (migrate_job, Mobile IPv6 daemons) and the ha plugin's
 *   updates move IKE_SAs with no hook at all: after the first MIGRATE, and
 *   if the ha plugin is loaded, lookups walk all IKE_SAs as before.
 *
 * IKE_DESTROYING is raised by every IKE_SA's destroy(), so no entry outlives
 * its IKE_SA; one whose address went stale is yielded only where verified.
 */

#include "cxtp_ike_index.h"
#include "cxtp_host_key.h"

#include <daemon.h>
#include <collections/array.h>
#include <collections/hashtable.h>
#include <threading/mutex.h>

typedef struct private_cxtp_ike_index_t private_cxtp_ike_index_t;

/**
 * The IKE_SAs at one remote address
 */
typedef struct {
	/** remote address, NULL for those checked wherever they are */
	host_t *address;
	/** unique IDs, u_int */
	array_t *ids;
} bucket_t;

/**
 * What the index holds of an IKE_SA
 */
typedef struct {
	/** unique ID */
	u_int id;
	/** bucket it is in */
	bucket_t *bucket;
} sa_t;

/**
 * Private data of a cxtp_ike_index_t object.
 */
struct private_cxtp_ike_index_t {

	/**
	 * Public cxtp_ike_index_t interface.
	 */
	cxtp_ike_index_t public;

	/**
	 * Buckets by remote address, bucket_t
	 */
	hashtable_t *addresses;

	/**
	 * IKE_SAs by unique ID, sa_t
	 */
	hashtable_t *sas;

	/**
	 * IKEv1 IKE_SAs, checked by every lookup
	 */
	bucket_t anywhere;

	/**
	 * Whether IKE_SAs may have moved without a hook, 0 unknown yet
	 */
	enum {
		MODE_UNKNOWN = 0,
		MODE_INDEX,
		MODE_WALK,
	} mode;

	/**
	 * Protects the members above
	 */
	mutex_t *mutex;
};

static void bucket_destroy(bucket_t *bucket)
{
	array_destroy(bucket->ids);
	DESTROY_IF(bucket->address);
	free(bucket);
}

/**
 * Take an IKE_SA out of its bucket, dropping the bucket once empty, locked
 */
static void unbucket(private_cxtp_ike_index_t *this, sa_t *sa)
{
	bucket_t *bucket = sa->bucket;
	u_int id;
	int i;

	for (i = 0; i < array_count(bucket->ids); i++)
	{
		array_get(bucket->ids, i, &id);
		if (id == sa->id)
		{
			array_remove(bucket->ids, i, NULL);
			break;
		}
	}
	if (!array_count(bucket->ids) && bucket != &this->anywhere)
	{
		this->addresses->remove(this->addresses, bucket->address);
		bucket_destroy(bucket);
	}
	sa->bucket = NULL;
}

/**
 * Record an IKE_SA at an address, or with the IKE_SAs checked anywhere
 */
static void record_at(private_cxtp_ike_index_t *this, ike_sa_t *ike_sa,
					  host_t *address)
{
	u_int id = ike_sa->get_unique_id(ike_sa);
	bucket_t *bucket;
	sa_t *sa;

	if (!id || !address)
	{
		return;
	}
	this->mutex->lock(this->mutex);
	if (ike_sa->get_version(ike_sa) == IKEV1)
	{
		bucket = &this->anywhere;
	}
	else
	{
		bucket = this->addresses->get(this->addresses, address);
		if (!bucket)
		{
			INIT(bucket,
				.address = address->clone(address),
				.ids = array_create(sizeof(u_int), 0),
			);
			this->addresses->put(this->addresses, bucket->address, bucket);
		}
	}
	sa = this->sas->get(this->sas, (void*)(uintptr_t)id);
	if (!sa)
	{
		INIT(sa,
			.id = id,
		);
		this->sas->put(this->sas, (void*)(uintptr_t)id, sa);
	}
	if (sa->bucket != bucket)
	{
		if (sa->bucket)
		{
			unbucket(this, sa);
		}
		array_insert(bucket->ids, ARRAY_TAIL, &id);
		sa->bucket = bucket;
	}
	this->mutex->unlock(this->mutex);
}

/**
 * Drop an IKE_SA
 */
static void forget(private_cxtp_ike_index_t *this, u_int id)
{
	sa_t *sa;

	this->mutex->lock(this->mutex);
	sa = this->sas->remove(this->sas, (void*)(uintptr_t)id);
	if (sa)
	{
		unbucket(this, sa);
		free(sa);
	}
	this->mutex->unlock(this->mutex);
}

METHOD(listener_t, ike_state_change, bool,
	private_cxtp_ike_index_t *this, ike_sa_t *ike_sa, ike_sa_state_t state)
{
	if (state == IKE_DESTROYING)
	{
		forget(this, ike_sa->get_unique_id(ike_sa));
	}
	else
	{
		record_at(this, ike_sa, ike_sa->get_other_host(ike_sa));
	}
	return TRUE;
}

METHOD(listener_t, ike_update, bool,
	private_cxtp_ike_index_t *this, ike_sa_t *ike_sa, host_t *local,
	host_t *remote)
{	/* raised before the IKE_SA takes the new address */
	record_at(this, ike_sa, remote);
	return TRUE;
}

METHOD(listener_t, ike_rekey, bool,
	private_cxtp_ike_index_t *this, ike_sa_t *old, ike_sa_t *new)
{
	record_at(this, new, new->get_other_host(new));
	return TRUE;
}

METHOD(kernel_listener_t, migrate, bool,
	kernel_listener_t *listener, uint32_t reqid, traffic_selector_t *src_ts,
	traffic_selector_t *dst_ts, policy_dir_t direction, host_t *local,
	host_t *remote)
{
	private_cxtp_ike_index_t *this = (private_cxtp_ike_index_t*)(
				(char*)listener - offsetof(cxtp_ike_index_t, kernel));

	this->mutex->lock(this->mutex);
	if (this->mode != MODE_WALK)
	{
		DBG1(DBG_IKE, "cxtp: the kernel migrates IKE_SAs, which charon moves "
			 "without telling plugins: looking mobile nodes up by walking "
			 "all IKE_SAs from now on");
	}
	this->mode = MODE_WALK;
	this->mutex->unlock(this->mutex);
	return TRUE;
}

METHOD(cxtp_ike_index_t, record, void,
	private_cxtp_ike_index_t *this, ike_sa_t *ike_sa)
{
	record_at(this, ike_sa, ike_sa->get_other_host(ike_sa));
}

/**
 * Whether a plugin is loaded
 */
static bool plugin_loaded(char *name)
{
	enumerator_t *enumerator;
	char *loaded;
	bool found = FALSE;

	enumerator = enumerator_create_token(
						lib->plugins->loaded_plugins(lib->plugins), " ", "");
	while (!found && enumerator->enumerate(enumerator, &loaded))
	{
		found = streq(loaded, name);
	}
	enumerator->destroy(enumerator);
	return found;
}

/**
 * Whether lookups must walk all IKE_SAs, locked
 */
static bool must_walk(private_cxtp_ike_index_t *this)
{
	if (this->mode == MODE_UNKNOWN)
	{	/* all plugins are loaded by the first lookup */
		this->mode = MODE_INDEX;
		if (plugin_loaded("ha"))
		{
			DBG1(DBG_IKE, "cxtp: the ha plugin moves IKE_SAs without telling "
				 "plugins: looking mobile nodes up by walking all IKE_SAs");
			this->mode = MODE_WALK;
		}
	}
	return this->mode == MODE_WALK;
}

/**
 * Enumerator over the IKE_SAs at an address
 */
typedef struct {
	enumerator_t public;
	private_cxtp_ike_index_t *index;
	host_t *address;
	/** unique IDs of the IKE_SAs to check out, u_int, checked on the way */
	array_t *candidates;
	/** the one checked out, if any */
	ike_sa_t *current;
} ike_enumerator_t;

/**
 * Add the IKE_SAs of a bucket, locked
 */
static void add_bucket(array_t *candidates, bucket_t *bucket)
{
	u_int id;
	int i;

	for (i = 0; bucket && i < array_count(bucket->ids); i++)
	{
		array_get(bucket->ids, i, &id);
		array_insert(candidates, ARRAY_TAIL, &id);
	}
}

/**
 * The IKE_SAs at an address, as the walk before the index found them
 */
static void add_walked(array_t *candidates, host_t *address)
{
	enumerator_t *enumerator;
	ike_sa_t *ike_sa;
	u_int id;

	enumerator = charon->controller->create_ike_sa_enumerator(
													charon->controller, TRUE);
	while (enumerator->enumerate(enumerator, &ike_sa))
	{
		if (address->ip_equals(address, ike_sa->get_other_host(ike_sa)))
		{
			id = ike_sa->get_unique_id(ike_sa);
			array_insert(candidates, ARRAY_TAIL, &id);
		}
	}
	enumerator->destroy(enumerator);
}

METHOD(enumerator_t, enumerate, bool,
	ike_enumerator_t *this, va_list args)
{
	ike_sa_t *ike_sa, **out;
	u_int id;

	VA_ARGS_VGET(args, out);

	if (this->current)
	{
		charon->ike_sa_manager->checkin(charon->ike_sa_manager, this->current);
		this->current = NULL;
	}
	while (array_remove(this->candidates, ARRAY_HEAD, &id))
	{
		/* compares unique IDs without waiting for other IKE_SAs */
		ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
														id);
		if (!ike_sa)
		{	/* not checked in yet, or being destroyed: IKE_DESTROYING drops
			 * it, if it is */
			continue;
		}
		if (this->address->ip_equals(this->address,
									 ike_sa->get_other_host(ike_sa)))
		{
			this->current = ike_sa;
			*out = ike_sa;
			return TRUE;
		}
		/* moved where we did not see it: it is where it is now */
		record_at(this->index, ike_sa, ike_sa->get_other_host(ike_sa));
		charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	}
	return FALSE;
}

METHOD(enumerator_t, enumerator_destroy, void,
	ike_enumerator_t *this)
{
	if (this->current)
	{
		charon->ike_sa_manager->checkin(charon->ike_sa_manager, this->current);
	}
	array_destroy(this->candidates);
	this->address->destroy(this->address);
	free(this);
}

METHOD(cxtp_ike_index_t, create_enumerator, enumerator_t*,
	private_cxtp_ike_index_t *this, host_t *address)
{
	ike_enumerator_t *enumerator;
	bool walk;

	INIT(enumerator,
		.public = {
			.enumerate = enumerator_enumerate_default,
			.venumerate = _enumerate,
			.destroy = _enumerator_destroy,
		},
		.index = this,
		.address = address->clone(address),
		.candidates = array_create(sizeof(u_int), 0),
	);
	this->mutex->lock(this->mutex);
	walk = must_walk(this);
	if (!walk)
	{
		add_bucket(enumerator->candidates,
				   this->addresses->get(this->addresses, address));
		add_bucket(enumerator->candidates, &this->anywhere);
	}
	this->mutex->unlock(this->mutex);
	if (walk)
	{
		add_walked(enumerator->candidates, address);
	}
	return &enumerator->public;
}

METHOD(cxtp_ike_index_t, get_count, u_int,
	private_cxtp_ike_index_t *this)
{
	u_int count;

	this->mutex->lock(this->mutex);
	count = this->sas->get_count(this->sas);
	this->mutex->unlock(this->mutex);
	return count;
}

METHOD(cxtp_ike_index_t, destroy, void,
	private_cxtp_ike_index_t *this)
{
	this->sas->destroy_function(this->sas, (void*)free);
	this->addresses->destroy_function(this->addresses, (void*)bucket_destroy);
	array_destroy(this->anywhere.ids);
	this->mutex->destroy(this->mutex);
	free(this);
}

/*
 * Described in header
 */
cxtp_ike_index_t *cxtp_ike_index_create()
{
	private_cxtp_ike_index_t *this;

	INIT(this,
		.public = {
			.listener = {
				.ike_state_change = _ike_state_change,
				.ike_update = _ike_update,
				.ike_rekey = _ike_rekey,
			},
			.kernel = {
				.migrate = _migrate,
			},
			.record = _record,
			.create_enumerator = _create_enumerator,
			.get_count = _get_count,
			.destroy = _destroy,
		},
		.addresses = hashtable_create(cxtp_host_key_hash, cxtp_host_key_equals,
												256),
		.sas = hashtable_create(hashtable_hash_ptr, hashtable_equals_ptr, 256),
		.anywhere = {
			.ids = array_create(sizeof(u_int), 0),
		},
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
	);
	return &this->public;
}
