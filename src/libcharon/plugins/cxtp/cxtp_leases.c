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

#define _GNU_SOURCE
#include <stdio.h>

#include "cxtp_leases.h"
#include "cxtp_host_key.h"

#include <daemon.h>
#include <collections/hashtable.h>
#include <threading/mutex.h>

typedef struct private_cxtp_leases_t private_cxtp_leases_t;

/**
 * Private data of a cxtp_leases_t object.
 */
struct private_cxtp_leases_t {

	/**
	 * Public interface
	 */
	cxtp_leases_t public;

	/**
	 * Addresses in use, host_t* => lease_t*
	 */
	hashtable_t *leases;

	/**
	 * Protects leases
	 */
	mutex_t *mutex;
};

/**
 * An address in use, by one mobile node
 */
typedef struct {
	/** the address, the key */
	host_t *address;
	/** the node */
	identification_t *id;
	/** IKE_SAs charon assigned it to from our pools */
	u_int assigned;
	/** IKE_SAs holding it as a transferred lease */
	u_int transferred;
} lease_t;

static void lease_destroy(lease_t *lease)
{
	lease->address->destroy(lease->address);
	lease->id->destroy(lease->id);
	free(lease);
}

/**
 * Get or create the entry of an address for a node, with the mutex held
 */
static lease_t *get_lease(private_cxtp_leases_t *this, host_t *address,
						  identification_t *id)
{
	lease_t *lease;

	lease = this->leases->get(this->leases, address);
	if (!lease)
	{
		INIT(lease,
			.address = address->clone(address),
			.id = id->clone(id),
		);
		this->leases->put(this->leases, lease->address, lease);
	}
	return lease;
}

/**
 * Remove the entry of an address no IKE_SA uses anymore, with the mutex held
 */
static void drop_unused(private_cxtp_leases_t *this, lease_t *lease)
{
	if (!lease->assigned && !lease->transferred)
	{
		this->leases->remove(this->leases, lease->address);
		lease_destroy(lease);
	}
}

METHOD(cxtp_leases_t, take, char*,
	private_cxtp_leases_t *this, identification_t *id, linked_list_t *vips,
	char *pool)
{
	enumerator_t *enumerator;
	lease_t *lease;
	host_t *vip;
	char *reason = NULL;

	this->mutex->lock(this->mutex);
	enumerator = vips->create_enumerator(vips);
	while (!reason && enumerator->enumerate(enumerator, &vip))
	{
		lease = this->leases->get(this->leases, vip);
		if (lease && !lease->id->equals(lease->id, id) &&
			asprintf(&reason, "virtual IP %H is in use by '%Y' here", vip,
					 lease->id) < 0)
		{
			reason = strdup("virtual IP in use here");
		}
	}
	enumerator->destroy(enumerator);
	if (!reason)
	{
		enumerator = vips->create_enumerator(vips);
		while (enumerator->enumerate(enumerator, &vip))
		{
			lease = get_lease(this, vip, id);
			lease->transferred++;
			DBG1(DBG_CFG, "cxtp: holding %H of '%Y' as a transferred lease "
				 "(pool '%s' of the previous router)", vip, id,
				 pool ?: "(none)");
		}
		enumerator->destroy(enumerator);
	}
	this->mutex->unlock(this->mutex);
	return reason;
}

METHOD(attribute_provider_t, acquire_address, host_t*,
	private_cxtp_leases_t *this, linked_list_t *pools, ike_sa_t *ike_sa,
	host_t *requested)
{
	/* a transferred lease goes with its IKE_SA only, our pools serve new
	 * ones */
	return NULL;
}

METHOD(attribute_provider_t, release_address, bool,
	private_cxtp_leases_t *this, linked_list_t *pools, host_t *address,
	ike_sa_t *ike_sa)
{
	identification_t *id = ike_sa->get_other_id(ike_sa);
	lease_t *lease;
	bool released = FALSE;

	this->mutex->lock(this->mutex);
	lease = this->leases->get(this->leases, address);
	if (lease && lease->transferred && lease->id->equals(lease->id, id))
	{
		lease->transferred--;
		released = TRUE;
		DBG1(DBG_CFG, "cxtp: released the transferred lease of %H of '%Y'",
			 address, id);
		drop_unused(this, lease);
	}
	this->mutex->unlock(this->mutex);
	return released;
}

METHOD(attribute_provider_t, create_attribute_enumerator, enumerator_t*,
	private_cxtp_leases_t *this, linked_list_t *pools, ike_sa_t *ike_sa,
	linked_list_t *vips)
{
	return enumerator_create_empty();
}

METHOD(listener_t, assign_vips, bool,
	listener_t *listener, ike_sa_t *ike_sa, bool assign)
{
	private_cxtp_leases_t *this = (private_cxtp_leases_t*)((char*)listener -
							offsetof(private_cxtp_leases_t, public.listener));
	identification_t *id = ike_sa->get_other_id(ike_sa);
	enumerator_t *enumerator;
	lease_t *lease;
	host_t *vip;

	this->mutex->lock(this->mutex);
	enumerator = ike_sa->create_virtual_ip_enumerator(ike_sa, FALSE);
	while (enumerator->enumerate(enumerator, &vip))
	{
		lease = assign ? get_lease(this, vip, id)
					   : this->leases->get(this->leases, vip);
		if (!lease)
		{
			continue;
		}
		if (!lease->id->equals(lease->id, id))
		{
			if (assign)
			{
				DBG1(DBG_CFG, "cxtp: virtual IP %H assigned to '%Y' is in use "
					 "by '%Y' (a transferred lease, or one of ours): our "
					 "pools overlap another router's", vip, id, lease->id);
			}
			continue;
		}
		if (assign)
		{
			lease->assigned++;
		}
		else if (lease->assigned)
		{
			lease->assigned--;
			drop_unused(this, lease);
		}
	}
	enumerator->destroy(enumerator);
	this->mutex->unlock(this->mutex);
	return TRUE;
}

METHOD(cxtp_leases_t, destroy, void,
	private_cxtp_leases_t *this)
{
	this->leases->destroy_function(this->leases, (void*)lease_destroy);
	this->mutex->destroy(this->mutex);
	free(this);
}

/*
 * Described in header
 */
cxtp_leases_t *cxtp_leases_create()
{
	private_cxtp_leases_t *this;

	INIT(this,
		.public = {
			.provider = {
				.acquire_address = _acquire_address,
				.release_address = _release_address,
				.create_attribute_enumerator = _create_attribute_enumerator,
			},
			.listener = {
				.assign_vips = _assign_vips,
			},
			.take = _take,
			.destroy = _destroy,
		},
		.leases = hashtable_create(cxtp_host_key_hash,
								   cxtp_host_key_equals, 8),
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
	);
	return &this->public;
}
