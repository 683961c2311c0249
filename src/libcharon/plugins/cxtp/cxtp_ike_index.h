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
 * @defgroup cxtp_ike_index cxtp_ike_index
 * @{ @ingroup cxtp
 */

#ifndef CXTP_IKE_INDEX_H_
#define CXTP_IKE_INDEX_H_

#include <bus/listeners/listener.h>
#include <kernel/kernel_listener.h>

typedef struct cxtp_ike_index_t cxtp_ike_index_t;

/**
 * The IKE_SAs by the IP address of their peer, so that a CTAR or CT-Req
 * finds the IKE_SAs with a mobile node without a walk over all IKE_SAs.
 *
 * The index holds unique IDs only, kept from the bus: every state change
 * records an IKE_SA's current remote address, an endpoint update its new
 * one, a rekeying the new IKE_SA's, and IKE_DESTROYING drops it. What it
 * yields is verified: each IKE_SA is checked out and yielded only if its
 * remote address is the one looked up, so an entry gone stale can hide
 * nothing it should not, and is corrected on the way.
 *
 * Where charon changes an IKE_SA's remote address without a hook, the index
 * could miss an IKE_SA it must find; see cxtp_ike_index.c for why each
 * such path is covered, or why the index then gives way to a walk.
 */
struct cxtp_ike_index_t {

	/**
	 * IKE_SA states, endpoint updates and rekeyings.
	 */
	listener_t listener;

	/**
	 * Kernel MIGRATE messages, which move IKE_SAs without a bus hook.
	 */
	kernel_listener_t kernel;

	/**
	 * Record an IKE_SA's current remote address, after code that changed
	 * it with set_other_host() and no state change.
	 *
	 * @param ike_sa		IKE_SA, checked out
	 */
	void (*record)(cxtp_ike_index_t *this, ike_sa_t *ike_sa);

	/**
	 * Enumerate the IKE_SAs whose remote IP address is an address, each
	 * checked out while it is the current one (checked in on the next
	 * step and when the enumerator is destroyed). The caller must have no
	 * IKE_SA checked out.
	 *
	 * @param address		remote address, the port is ignored
	 * @return				enumerator over ike_sa_t*
	 */
	enumerator_t* (*create_enumerator)(cxtp_ike_index_t *this,
									   host_t *address);

	/**
	 * Number of IKE_SAs indexed, for tests and listings.
	 *
	 * @return				number of unique IDs held
	 */
	u_int (*get_count)(cxtp_ike_index_t *this);

	/**
	 * Destroy a cxtp_ike_index_t.
	 */
	void (*destroy)(cxtp_ike_index_t *this);
};

/**
 * Create a cxtp_ike_index_t, empty: it is to listen on the bus before the
 * first IKE_SA is created.
 *
 * @return				instance
 */
cxtp_ike_index_t *cxtp_ike_index_create();

#endif /** CXTP_IKE_INDEX_H_ @}*/
