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
 * @defgroup mobike_spi mobike_spi
 * @ingroup cplugins
 *
 * @defgroup mobike_spi_plugin mobike_spi_plugin
 * @{ @ingroup mobike_spi
 */

#ifndef MOBIKE_SPI_PLUGIN_H_
#define MOBIKE_SPI_PLUGIN_H_

#include <plugins/plugin.h>

typedef struct mobike_spi_plugin_t mobike_spi_plugin_t;

/**
 * Plugin implementing responder-initiated MOBIKE and UPDATE_SPI for
 * IKE/CHILD_SAs whose context has been transferred to this gateway.
 */
struct mobike_spi_plugin_t {

	/**
	 * implements plugin interface
	 */
	plugin_t plugin;
};

#endif /** MOBIKE_SPI_PLUGIN_H_ @}*/
