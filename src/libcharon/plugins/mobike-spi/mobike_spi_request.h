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
 * @defgroup mobike_spi_request mobike_spi_request
 * @{ @ingroup mobike_spi
 */

#ifndef MOBIKE_SPI_REQUEST_H_
#define MOBIKE_SPI_REQUEST_H_

#include "mobike_spi_notify.h"

#include <sa/task.h>
#include <collections/array.h>

typedef struct mobike_spi_request_t mobike_spi_request_t;
typedef struct mobike_spi_rounds_t mobike_spi_rounds_t;

/**
 * Who runs Algorithm 1 for the requests of an IKE_SA (the new access
 * router), as a request task sees it.
 */
struct mobike_spi_rounds_t {

	/**
	 * The IKE_SA ID the peer knows the IKE_SA by, if not its own.
	 *
	 * @param ike_sa		IKE_SA starting or continuing an exchange
	 * @return				IKE_SA ID to address the request to (allocated),
	 *						NULL for the IKE_SA's own
	 */
	ike_sa_id_t *(*get_address)(mobike_spi_rounds_t *this, ike_sa_t *ike_sa);

	/**
	 * Take the UPDATE_SPIs of the round that is due, for the MOBIKE update
	 * being built.
	 *
	 * @param ike_sa		IKE_SA sending the MOBIKE update
	 * @return				mobike_spi_result_t to send (answers unset), NULL
	 *						if no round is due
	 */
	array_t *(*take_round)(mobike_spi_rounds_t *this, ike_sa_t *ike_sa);

	/**
	 * The peer answered a round's request.
	 *
	 * Called after charon's tasks processed the response (the IKE_SA is at
	 * its new addresses), so the next round or a fallback only gets queued.
	 *
	 * @param ike_sa		IKE_SA that got the response
	 * @param results		mobike_spi_result_t of take_round(), answered
	 */
	void (*answered)(mobike_spi_rounds_t *this, ike_sa_t *ike_sa,
					 array_t *results);
};

/**
 * The new access router's task in its own requests on an IKE_SA with SPIs
 * being replaced.
 *
 * While the peer may still know our IKE SPI as the one the context brought,
 * the task addresses the requests of its exchange(s) to it, as the IKE_SA
 * is registered here under a new one. In the MOBIKE update (the
 * INFORMATIONAL with UPDATE_SA_ADDRESSES that ike_mobike builds) it adds
 * the UPDATE_SPI notifies of the round that is due, and hands the peer's
 * answers over.
 */
struct mobike_spi_request_t {

	/**
	 * Implements task_t, of type TASK_PLUGIN.
	 */
	task_t task;
};

/**
 * Create a mobike_spi_request_t task.
 *
 * @param ike_sa		IKE_SA starting an exchange
 * @param rounds		Algorithm 1 of the IKE_SA
 * @return				task
 */
mobike_spi_request_t *mobike_spi_request_create(ike_sa_t *ike_sa,
												mobike_spi_rounds_t *rounds);

#endif /** MOBIKE_SPI_REQUEST_H_ @}*/
