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

#include "mobike_spi_settings.h"

#include <errno.h>
#include <limits.h>

#include <library.h>
#include <utils/debug.h>

ENUM(mobike_spi_sad_lookup_names, MOBIKE_SPI_SAD_LOOKUP_AUTO,
	 MOBIKE_SPI_SAD_LOOKUP_SPI_DST_SRC,
	"auto",
	"spi",
	"spi-dst",
	"spi-dst-src",
);

typedef struct private_mobike_spi_settings_t private_mobike_spi_settings_t;

/**
 * Private data of a mobike_spi_settings_t object.
 */
struct private_mobike_spi_settings_t {

	/**
	 * Public interface
	 */
	mobike_spi_settings_t public;

	/**
	 * MAX_ROUND_TRIPS of Algorithm 1
	 */
	u_int max_round_trips;

	/**
	 * TIMER of Algorithm 1, in seconds
	 */
	u_int timer;

	/**
	 * Delay of the MOBIKE update after an activation without collisions, ms
	 */
	u_int update_delay;

	/**
	 * Whether to announce UPDATE_SPI support in IKE_AUTH
	 */
	bool announce;

	/**
	 * SAD lookup mode used for collision detection
	 */
	mobike_spi_sad_lookup_t sad_lookup;
};

/**
 * Get the raw value of an option, NULL if not set or empty
 */
static char *get_value(char *key)
{
	char *value;

	value = lib->settings->get_str(lib->settings, "%s.plugins.mobike-spi.%s",
								   NULL, lib->ns, key);
	return (value && *value) ? value : NULL;
}

/**
 * Read a positive integer option, falling back to the default if the value is
 * not a decimal number or out of range.
 */
static u_int get_uint_opt(char *key, u_int def, u_int min, u_int max)
{
	char *value, *end;
	unsigned long val;

	value = get_value(key);
	if (!value)
	{
		return def;
	}
	errno = 0;
	val = strtoul(value, &end, 10);
	if (errno || end == value || *end || strchr(value, '-') ||
		val < min || val > max)
	{
		DBG1(DBG_CFG, "mobike-spi: invalid value '%s' for "
			 "%s.plugins.mobike-spi.%s, expected an integer in %u..%u, using "
			 "default %u", value, lib->ns, key, min, max, def);
		return def;
	}
	return val;
}

/**
 * Read a positive time option in seconds (optionally with s|m|h|d unit),
 * falling back to the default for invalid values.
 */
static u_int get_time_opt(char *key, u_int def)
{
	char *value;
	time_t val;

	value = get_value(key);
	if (!value)
	{
		return def;
	}
	if (strchr(value, '-') || !timespan_from_string(value, NULL, &val) ||
		val < 1 || val > INT_MAX)
	{
		DBG1(DBG_CFG, "mobike-spi: invalid value '%s' for "
			 "%s.plugins.mobike-spi.%s, expected a positive time in seconds, "
			 "using default %us", value, lib->ns, key, def);
		return def;
	}
	return val;
}

/**
 * Read a boolean option, falling back to the default for invalid values.
 */
static bool get_bool_opt(char *key, bool def)
{
	char *value;
	bool val;

	value = get_value(key);
	if (!value)
	{
		return def;
	}
	val = settings_value_as_bool(value, TRUE);
	if (val != settings_value_as_bool(value, FALSE))
	{
		DBG1(DBG_CFG, "mobike-spi: invalid value '%s' for "
			 "%s.plugins.mobike-spi.%s, expected yes or no, using default %s",
			 value, lib->ns, key, def ? "yes" : "no");
		return def;
	}
	return val;
}

/**
 * Read the SAD lookup mode, falling back to the default for invalid values.
 */
static mobike_spi_sad_lookup_t get_sad_lookup_opt(char *key,
												  mobike_spi_sad_lookup_t def)
{
	mobike_spi_sad_lookup_t val;
	char *value;

	value = get_value(key);
	if (!value)
	{
		return def;
	}
	if (!enum_from_name(mobike_spi_sad_lookup_names, value, &val))
	{
		DBG1(DBG_CFG, "mobike-spi: invalid value '%s' for "
			 "%s.plugins.mobike-spi.%s, expected auto, spi, spi-dst or "
			 "spi-dst-src, using default %N", value, lib->ns, key,
			 mobike_spi_sad_lookup_names, def);
		return def;
	}
	return val;
}

METHOD(mobike_spi_settings_t, get_max_round_trips, u_int,
	private_mobike_spi_settings_t *this)
{
	return this->max_round_trips;
}

METHOD(mobike_spi_settings_t, get_timer, u_int,
	private_mobike_spi_settings_t *this)
{
	return this->timer;
}

METHOD(mobike_spi_settings_t, get_update_delay, u_int,
	private_mobike_spi_settings_t *this)
{
	return this->update_delay;
}

METHOD(mobike_spi_settings_t, get_announce, bool,
	private_mobike_spi_settings_t *this)
{
	return this->announce;
}

METHOD(mobike_spi_settings_t, get_sad_lookup, mobike_spi_sad_lookup_t,
	private_mobike_spi_settings_t *this)
{
	return this->sad_lookup;
}

METHOD(mobike_spi_settings_t, reload, void,
	private_mobike_spi_settings_t *this)
{
	this->max_round_trips = get_uint_opt("max_round_trips",
								MOBIKE_SPI_DEFAULT_MAX_ROUND_TRIPS, 1, INT_MAX);
	this->update_delay = get_uint_opt("update_delay",
								MOBIKE_SPI_DEFAULT_UPDATE_DELAY, 0, 60000);
	this->timer = get_time_opt("timer", MOBIKE_SPI_DEFAULT_TIMER);
	this->announce = get_bool_opt("announce", MOBIKE_SPI_DEFAULT_ANNOUNCE);
	this->sad_lookup = get_sad_lookup_opt("sad_lookup",
										  MOBIKE_SPI_SAD_LOOKUP_AUTO);
}

METHOD(mobike_spi_settings_t, destroy, void,
	private_mobike_spi_settings_t *this)
{
	free(this);
}

/*
 * Described in header
 */
mobike_spi_settings_t *mobike_spi_settings_create()
{
	private_mobike_spi_settings_t *this;

	INIT(this,
		.public = {
			.get_max_round_trips = _get_max_round_trips,
			.get_timer = _get_timer,
			.get_update_delay = _get_update_delay,
			.get_announce = _get_announce,
			.get_sad_lookup = _get_sad_lookup,
			.reload = _reload,
			.destroy = _destroy,
		},
	);
	reload(this);

	return &this->public;
}
