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
 * @defgroup mobike_spi_nar mobike_spi_nar
 * @{ @ingroup mobike_spi
 */

#ifndef MOBIKE_SPI_NAR_H_
#define MOBIKE_SPI_NAR_H_

#include "mobike_spi_settings.h"
#include "mobike_spi_request.h"

#include <bus/listeners/listener.h>
#include <sa/ikev2/task_provider.h>
#include <plugins/cxtp/cxtp_spi_hook.h>

typedef struct mobike_spi_nar_t mobike_spi_nar_t;

/**
 * The new access router's side: SPI collisions of imported contexts, the
 * MOBIKE update after an activation and Algorithm 1 of the design.
 *
 * At activation every inbound SPI (and, with SAD lookup "spi", every
 * outbound SPI) is checked against the SAs this gateway holds; a colliding
 * inbound SA is installed under a fresh SPI from the kernel at once. After
 * activation nAR sends UPDATE_SA_ADDRESSES with COOKIE2 and NAT-D, plus one
 * UPDATE_SPI per replaced SPI if the peer announced support, added by a
 * task of its own (mobike_spi_request_t). Unresolved SPIs are retried with
 * new SPIs up to max_round_trips, and when that or the timer runs out the
 * IKE_SA is deleted for a full IKEv2 negotiation. With a peer that did not
 * announce support a colliding CHILD_SA is rekeyed instead, named by the
 * SPI the peer knows; an IKE SPI collision with such a peer refuses the
 * import.
 */
struct mobike_spi_nar_t {

	/**
	 * Implements listener_t, for rekeyed and destroyed SAs.
	 */
	listener_t listener;

	/**
	 * Implements the hook cxtp calls during import and activation.
	 */
	cxtp_spi_hook_t hook;

	/**
	 * Implements task_provider_t, for the requests of IKE_SAs with SPIs
	 * being replaced.
	 */
	task_provider_t provider;

	/**
	 * Implements mobike_spi_rounds_t, for the tasks it provides.
	 */
	mobike_spi_rounds_t rounds;

	/**
	 * Destroy a mobike_spi_nar_t.
	 */
	void (*destroy)(mobike_spi_nar_t *this);
};

/**
 * Create a mobike_spi_nar_t instance.
 *
 * @param settings		plugin settings
 * @return				instance
 */
mobike_spi_nar_t *mobike_spi_nar_create(mobike_spi_settings_t *settings);

#endif /** MOBIKE_SPI_NAR_H_ @}*/
