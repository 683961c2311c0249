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
 * @defgroup cxtp_relabel cxtp_relabel
 * @{ @ingroup cxtp
 */

#ifndef CXTP_RELABEL_H_
#define CXTP_RELABEL_H_

#include <bus/listeners/listener.h>

/**
 * How long after the activation the IKE_SA is rekeyed, in ms: the mobile
 * node's own exchanges after its move (a stock client's MOBIKE path probe
 * and UPDATE_SA_ADDRESSES, kernel-libipsec's CHILD_SA rekeying) go first.
 * A rekeying that crossed them left a stock client's new IKE_SA at its old
 * address (the rekeying request arrived before the answer to its probe), or
 * its CHILD_SA rekeying sent to the new IKE_SA before the router had it,
 * retransmitted 4 s later.
 */
#define CXTP_RELABEL_DELAY 5000

typedef struct cxtp_relabel_t cxtp_relabel_t;

/**
 * Rekeys an IKE_SA that becomes active here with an IKE SPI of ours that
 * another router allocated.
 *
 * Access routers that label the IKE SPIs they allocate (charon.spi_mask,
 * charon.spi_label) let a router that receives an IKE message for an IKE_SA
 * it does not hold find the router that does. A transferred IKE_SA keeps the
 * SPIs of the router that set it up, so after a handover its label names the
 * previous router, not this one. Once such an IKE_SA is activated here
 * (IKE_PASSIVE to IKE_ESTABLISHED), it is rekeyed CXTP_RELABEL_DELAY later,
 * which gives it an SPI this router allocates, with this router's label.
 */
struct cxtp_relabel_t {

	/**
	 * Watches IKE_SAs becoming established.
	 */
	listener_t listener;

	/**
	 * Destroy a cxtp_relabel_t.
	 */
	void (*destroy)(cxtp_relabel_t *this);
};

/**
 * Create a cxtp_relabel_t, if charon labels its IKE SPIs.
 *
 * Reads charon.spi_mask and charon.spi_label as charon's IKE_SA manager
 * does, once.
 *
 * @return				instance, NULL if charon labels no IKE SPI or the
 *						option relabel is disabled
 */
cxtp_relabel_t *cxtp_relabel_create();

#endif /** CXTP_RELABEL_H_ @}*/
