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
 * @defgroup mobike_spi_announce mobike_spi_announce
 * @{ @ingroup mobike_spi
 */

#ifndef MOBIKE_SPI_ANNOUNCE_H_
#define MOBIKE_SPI_ANNOUNCE_H_

#include "mobike_spi_settings.h"

#include <sa/task.h>

typedef struct mobike_spi_announce_t mobike_spi_announce_t;

/**
 * Task announcing UPDATE_SPI support in IKE_AUTH, and noting the peer's.
 *
 * Created for IKE_SA_INIT, it adds MOBIKE_SPI_VENDOR_ID to our IKE_SA_INIT
 * message and enables MOBIKE_SPI_EXT_VENDOR if the peer's carries it. In
 * the IKE_AUTH exchange(s) that follow, unless disabled, it adds
 * UPDATE_SPI_SUPPORTED to our IKE_AUTH message with our identity if the
 * peer sent the vendor ID, and it enables MOBIKE_SPI_EXT_PEER on the IKE_SA
 * if the peer's IKE_AUTH messages carry the notify and it sent the vendor ID
 * (IKE_AUTH authenticates the IKE_SA_INIT messages with it).
 */
struct mobike_spi_announce_t {

	/**
	 * Implements task_t, of type TASK_PLUGIN.
	 */
	task_t task;
};

/**
 * Create a mobike_spi_announce_t task.
 *
 * @param ike_sa		IKE_SA being established
 * @param settings		plugin settings
 * @return				task
 */
mobike_spi_announce_t *mobike_spi_announce_create(ike_sa_t *ike_sa,
											mobike_spi_settings_t *settings);

#endif /** MOBIKE_SPI_ANNOUNCE_H_ @}*/
