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

#include <bus/listeners/listener.h>

typedef struct mobike_spi_update_listener_t mobike_spi_update_listener_t;

/**
 * The mobile node's side of UPDATE_SPI, and the announcement of support.
 *
 * Announces UPDATE_SPI support in IKE_AUTH (unless disabled) and notes the
 * peer's. Applies the UPDATE_SPI notifies of a request: each names a
 * CHILD_SA of the IKE_SA by the SPI it replaces, the SA continues under the
 * new SPI in place (kernel and charon, anti-replay state kept), and the
 * response repeats it. A request with any UPDATE_SPI that is malformed or
 * does not fit (unknown SPI, an SPI that is not the sender's to replace, a
 * new inbound SPI in use here) changes nothing and is answered with one
 * UPDATE_SPI_FAILED per such notify.
 */
struct mobike_spi_update_listener_t {

	/**
	 * Implements listener_t.
	 */
	listener_t listener;

	/**
	 * Destroy a mobike_spi_update_listener_t.
	 */
	void (*destroy)(mobike_spi_update_listener_t *this);
};

/**
 * Create a mobike_spi_update_listener_t instance.
 *
 * @param settings		plugin settings
 * @return				instance
 */
mobike_spi_update_listener_t *mobike_spi_update_listener_create(
											mobike_spi_settings_t *settings);

#endif /** MOBIKE_SPI_UPDATE_H_ @}*/
