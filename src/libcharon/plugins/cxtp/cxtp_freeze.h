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
 * @defgroup cxtp_freeze cxtp_freeze
 * @{ @ingroup cxtp
 */

#ifndef CXTP_FREEZE_H_
#define CXTP_FREEZE_H_

#include <kernel/kernel_listener.h>
#include <sa/ike_sa.h>

typedef struct cxtp_freeze_t cxtp_freeze_t;

/**
 * IKE_SAs frozen while their context is with another access router.
 *
 * A frozen IKE_SA is passive (IKE_PASSIVE): it starts no exchange and
 * handles none, while its CHILD_SAs keep carrying traffic. charon's own jobs
 * refuse such an IKE_SA and are not scheduled again: a CHILD_SA rekeying or
 * expiry the kernel reports meanwhile, and the IKE_SA's rekeying,
 * reauthentication or expiry that falls due, would be lost. They are noted
 * and run when the IKE_SA thaws; if it goes elsewhere, the new gateway
 * continues them.
 */
struct cxtp_freeze_t {

	/**
	 * SA expiries reported by the kernel.
	 */
	kernel_listener_t listener;

	/**
	 * Freeze an established IKE_SA.
	 *
	 * @param ike_sa		IKE_SA, checked out
	 */
	void (*freeze)(cxtp_freeze_t *this, ike_sa_t *ike_sa);

	/**
	 * Thaw a frozen IKE_SA: established again, and what fell due meanwhile
	 * is queued to run now.
	 *
	 * @param ike_sa		IKE_SA, checked out
	 */
	void (*thaw)(cxtp_freeze_t *this, ike_sa_t *ike_sa);

	/**
	 * Forget a frozen IKE_SA that goes without thawing.
	 *
	 * @param ike_id		unique ID of the IKE_SA
	 */
	void (*forget)(cxtp_freeze_t *this, u_int ike_id);

	/**
	 * Destroy a cxtp_freeze_t.
	 */
	void (*destroy)(cxtp_freeze_t *this);
};

/**
 * Create a cxtp_freeze_t.
 *
 * @return				instance
 */
cxtp_freeze_t *cxtp_freeze_create();

#endif /** CXTP_FREEZE_H_ @}*/
