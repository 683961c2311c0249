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
 * @defgroup mobike_spi_update mobike_spi_update
 * @{ @ingroup mobike_spi
 */

#ifndef MOBIKE_SPI_UPDATE_H_
#define MOBIKE_SPI_UPDATE_H_

#include "mobike_spi_settings.h"

#include <sa/task.h>

typedef struct mobike_spi_update_task_t mobike_spi_update_task_t;

/**
 * Task of the mobile node's side of UPDATE_SPI, in INFORMATIONAL requests
 * it receives.
 *
 * Applies the UPDATE_SPI notifies of the request after charon's own tasks
 * processed it: each names a CHILD_SA of the IKE_SA by the SPI it replaces
 * (or, for protocol IKE, the sender's IKE SPI), the SA continues under the
 * new SPI in place (kernel and charon, anti-replay state kept), and the
 * response repeats the notify. A request with any UPDATE_SPI that is
 * malformed or does not fit (unknown SPI, an SPI that is not the sender's
 * to replace, a new inbound SPI in use here) changes nothing and is
 * answered with one UPDATE_SPI_FAILED per such notify. With the
 * announcement disabled, UPDATE_SPI notifies are ignored, as by a peer
 * that does not know them.
 */
struct mobike_spi_update_task_t {

	/**
	 * Implements task_t, of type TASK_PLUGIN.
	 */
	task_t task;
};

/**
 * Create a mobike_spi_update_task_t task.
 *
 * @param ike_sa		IKE_SA that received an INFORMATIONAL request
 * @param settings		plugin settings
 * @return				task
 */
mobike_spi_update_task_t *mobike_spi_update_task_create(ike_sa_t *ike_sa,
											mobike_spi_settings_t *settings);

#endif /** MOBIKE_SPI_UPDATE_H_ @}*/
