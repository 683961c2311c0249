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
 * @defgroup mobike_spi_provider mobike_spi_provider
 * @{ @ingroup mobike_spi
 */

#ifndef MOBIKE_SPI_PROVIDER_H_
#define MOBIKE_SPI_PROVIDER_H_

#include "mobike_spi_settings.h"

#include <sa/ikev2/task_provider.h>

typedef struct mobike_spi_provider_t mobike_spi_provider_t;

/**
 * Provides the tasks every IKE_SA gets, gateway or mobile node: the
 * announcement of UPDATE_SPI support in IKE_AUTH (mobike_spi_announce_t)
 * and the processing of UPDATE_SPI in INFORMATIONAL requests
 * (mobike_spi_update_task_t).
 */
struct mobike_spi_provider_t {

	/**
	 * Implements task_provider_t.
	 */
	task_provider_t provider;

	/**
	 * Destroy a mobike_spi_provider_t.
	 */
	void (*destroy)(mobike_spi_provider_t *this);
};

/**
 * Create a mobike_spi_provider_t instance.
 *
 * @param settings		plugin settings
 * @return				instance
 */
mobike_spi_provider_t *mobike_spi_provider_create(
											mobike_spi_settings_t *settings);

#endif /** MOBIKE_SPI_PROVIDER_H_ @}*/
