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

/**
 * @defgroup cxtp_leases cxtp_leases
 * @{ @ingroup cxtp
 */

#ifndef CXTP_LEASES_H_
#define CXTP_LEASES_H_

#include <attributes/attribute_provider.h>
#include <bus/listeners/listener.h>
#include <collections/linked_list.h>
#include <utils/identification.h>

typedef struct cxtp_leases_t cxtp_leases_t;

/**
 * The virtual IPs in use on this gateway, and the leases that came with
 * transferred contexts.
 *
 * A mobile node keeps its virtual IP across a handover: the lease moves
 * with its context. The previous router releases it in its pool when it
 * drops its copy of the IKE_SA; this one holds it as a transferred lease,
 * whatever its own pools are (a pool cannot reserve a given address), for
 * as long as an IKE_SA of the node has it, and releases it with the last
 * one (as attribute provider, which charon asks when it releases the
 * virtual IPs of an IKE_SA). A new IKE_SA of the node, e.g. when it
 * reauthenticates, gets its address from this router's pools.
 *
 * So that a transfer never gives a node an address another node uses here,
 * the object also tracks the virtual IPs charon assigns from this router's
 * own pools (assign_vips events): a context whose address is in use by
 * another identity is refused. An address one of the own pools assigns
 * while a transferred lease holds it is logged as the pools overlapping
 * (which only pools that routers do not share can do).
 */
struct cxtp_leases_t {

	/**
	 * Releases transferred leases, acquires none.
	 */
	attribute_provider_t provider;

	/**
	 * Tracks the virtual IPs assigned to peers.
	 */
	listener_t listener;

	/**
	 * Take the virtual IPs of a mobile node's context as transferred leases,
	 * all or none.
	 *
	 * @param id		identity of the mobile node
	 * @param vips		its virtual IPs, host_t*
	 * @param pool		pool the previous router leased them from, or NULL
	 * @return			NULL if taken, otherwise why not (allocated)
	 */
	char *(*take)(cxtp_leases_t *this, identification_t *id,
				  linked_list_t *vips, char *pool);

	/**
	 * Destroy a cxtp_leases_t.
	 */
	void (*destroy)(cxtp_leases_t *this);
};

/**
 * Create a cxtp_leases_t, to register as attribute provider and listener.
 *
 * @return			instance
 */
cxtp_leases_t *cxtp_leases_create();

#endif /** CXTP_LEASES_H_ @}*/
