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
 * @defgroup mobike_spi_settings mobike_spi_settings
 * @{ @ingroup mobike_spi
 */

#ifndef MOBIKE_SPI_SETTINGS_H_
#define MOBIKE_SPI_SETTINGS_H_

#include <library.h>

/**
 * Default MAX_ROUND_TRIPS of Algorithm 1
 */
#define MOBIKE_SPI_DEFAULT_MAX_ROUND_TRIPS 3

/**
 * Default TIMER of Algorithm 1, in ms
 */
#define MOBIKE_SPI_DEFAULT_TIMER 10000

/**
 * Default delay in ms of the MOBIKE update after an activation without SPI
 * collisions
 */
#define MOBIKE_SPI_DEFAULT_UPDATE_DELAY 100

/**
 * Default for announcing UPDATE_SPI support in IKE_AUTH
 */
#define MOBIKE_SPI_DEFAULT_ANNOUNCE TRUE

typedef enum mobike_spi_sad_lookup_t mobike_spi_sad_lookup_t;

/**
 * SAD lookup mode assumed for SPI collision detection
 */
enum mobike_spi_sad_lookup_t {
	/** follow the kernel backend in use */
	MOBIKE_SPI_SAD_LOOKUP_AUTO,
	/** SAs are looked up by SPI only */
	MOBIKE_SPI_SAD_LOOKUP_SPI,
	/** SAs are looked up by SPI and destination address (Linux XFRM) */
	MOBIKE_SPI_SAD_LOOKUP_SPI_DST,
	/** SAs are looked up by SPI, destination and source address */
	MOBIKE_SPI_SAD_LOOKUP_SPI_DST_SRC,
};

/**
 * Enum names for mobike_spi_sad_lookup_t, as used in the configuration
 */
extern enum_name_t *mobike_spi_sad_lookup_names;

typedef struct mobike_spi_settings_t mobike_spi_settings_t;

/**
 * Settings of the mobike-spi plugin, read from <ns>.plugins.mobike-spi.
 *
 * All values are read and validated once when the object is created.  Invalid
 * values are logged and replaced by their default.
 */
struct mobike_spi_settings_t {

	/**
	 * Get MAX_ROUND_TRIPS of Algorithm 1.
	 *
	 * @return			maximum number of round trips (> 0)
	 */
	u_int (*get_max_round_trips)(mobike_spi_settings_t *this);

	/**
	 * Get TIMER of Algorithm 1.
	 *
	 * @return			timer in ms (> 0)
	 */
	u_int (*get_timer)(mobike_spi_settings_t *this);

	/**
	 * Get the delay of the MOBIKE update after an activation in which no SPI
	 * collided.
	 *
	 * @return			delay in milliseconds, 0 for at once
	 */
	u_int (*get_update_delay)(mobike_spi_settings_t *this);

	/**
	 * Whether to announce UPDATE_SPI support in IKE_AUTH.
	 *
	 * @return			TRUE to announce support
	 */
	bool (*get_announce)(mobike_spi_settings_t *this);

	/**
	 * Get the configured SAD lookup mode used for collision detection.
	 *
	 * MOBIKE_SPI_SAD_LOOKUP_AUTO is returned as configured, resolving it
	 * depending on the kernel backend is up to the caller.
	 *
	 * @return			configured SAD lookup mode
	 */
	mobike_spi_sad_lookup_t (*get_sad_lookup)(mobike_spi_settings_t *this);

	/**
	 * Read and validate the options again (swanctl --reload-settings).
	 */
	void (*reload)(mobike_spi_settings_t *this);

	/**
	 * Destroy a mobike_spi_settings_t.
	 */
	void (*destroy)(mobike_spi_settings_t *this);
};

/**
 * Create a mobike_spi_settings_t instance reading the current configuration.
 *
 * @return			settings object
 */
mobike_spi_settings_t *mobike_spi_settings_create();

#endif /** MOBIKE_SPI_SETTINGS_H_ @}*/
