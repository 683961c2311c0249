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
 * @defgroup cxtp_capture cxtp_capture
 * @{ @ingroup cxtp
 */

#ifndef CXTP_CAPTURE_H_
#define CXTP_CAPTURE_H_

#include "cxtp_context.h"

#include <bus/listeners/listener.h>

typedef struct cxtp_capture_t cxtp_capture_t;

/**
 * Captures the key material of IKE and CHILD_SAs when it is derived.
 *
 * A context carries derived keys, not the Diffie-Hellman secret, and charon
 * does not expose keys once they are installed, so they are recorded from
 * the bus while the SAs are set up, and only for IKE_SAs of the connections
 * that may be transferred (cxtp_capture_transferable()). They are forgotten
 * (wiped) as soon as no transfer can use them any more: a CHILD_SA's when it
 * is rekeyed or deleted (CHILD_DELETED) or destroyed, an IKE_SA's when it is
 * rekeyed (IKE_REKEYED) or destroyed, which includes pAR's once another
 * router activated it; those of an IKE_SA that was to replace one when that
 * rekeying fails or loses a collision with the peer's. SAs set up before the
 * plugin was loaded have none and cannot be transferred.
 */
struct cxtp_capture_t {

	/**
	 * Implements the listener_t interface.
	 */
	listener_t listener;

	/**
	 * Get a copy of the captured keys of an IKE_SA.
	 *
	 * @param ike_sa		IKE_SA
	 * @param keys			receives the keys, free with cxtp_ike_keys_clear();
	 *						NULL to only check whether there are any
	 * @return				TRUE if keys were captured for the IKE_SA
	 */
	bool (*get_ike_keys)(cxtp_capture_t *this, ike_sa_t *ike_sa,
						 cxtp_ike_keys_t *keys);

	/**
	 * Get a copy of the captured keys of a CHILD_SA.
	 *
	 * @param child_sa		CHILD_SA
	 * @param keys			receives the keys, free with
	 *						cxtp_child_keys_clear(); NULL to only check whether
	 *						there are any
	 * @return				TRUE if keys were captured for the CHILD_SA
	 */
	bool (*get_child_keys)(cxtp_capture_t *this, child_sa_t *child_sa,
						   cxtp_child_keys_t *keys);

	/**
	 * What is held: key sets and the octets they take (keys and the
	 * structures holding them, without the allocator's overhead).
	 *
	 * @param ike			receives the number of IKE_SAs' key sets, or NULL
	 * @param child			receives the number of CHILD_SAs' key sets, or NULL
	 * @return				octets held
	 */
	size_t (*get_usage)(cxtp_capture_t *this, u_int *ike, u_int *child);

	/**
	 * Destroy a cxtp_capture_t, wiping all captured keys.
	 */
	void (*destroy)(cxtp_capture_t *this);
};

/**
 * Whether the keys of an IKE_SA and its CHILD_SAs are captured, i.e. its
 * connection is one of <ns>.plugins.cxtp.connections (all if unset), read
 * anew each time. TRUE for an IKE_SA without a connection yet.
 *
 * @param ike_sa		IKE_SA, NULL for an unknown one
 * @return				TRUE if the keys of the IKE_SA are captured
 */
bool cxtp_capture_transferable(ike_sa_t *ike_sa);

/**
 * Create a cxtp_capture_t instance.
 *
 * @return				capture listener, to register on the bus
 */
cxtp_capture_t *cxtp_capture_create();

#endif /** CXTP_CAPTURE_H_ @}*/
