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

#include <limits.h>

#include <library.h>
#include <plugins/cxtp/cxtp_options.h>
#include <threading/rwlock.h>

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
	 * Reads charon.plugins.mobike-spi
	 */
	cxtp_options_t *options;

	/**
	 * Protects the options below against a concurrent reload
	 */
	rwlock_t *lock;

	/**
	 * MAX_ROUND_TRIPS of Algorithm 1
	 */
	u_int max_round_trips;

	/**
	 * TIMER of Algorithm 1, in ms
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

METHOD(mobike_spi_settings_t, get_max_round_trips, u_int,
	private_mobike_spi_settings_t *this)
{
	u_int value;

	this->lock->read_lock(this->lock);
	value = this->max_round_trips;
	this->lock->unlock(this->lock);
	return value;
}

METHOD(mobike_spi_settings_t, get_timer, u_int,
	private_mobike_spi_settings_t *this)
{
	u_int value;

	this->lock->read_lock(this->lock);
	value = this->timer;
	this->lock->unlock(this->lock);
	return value;
}

METHOD(mobike_spi_settings_t, get_update_delay, u_int,
	private_mobike_spi_settings_t *this)
{
	u_int value;

	this->lock->read_lock(this->lock);
	value = this->update_delay;
	this->lock->unlock(this->lock);
	return value;
}

METHOD(mobike_spi_settings_t, get_announce, bool,
	private_mobike_spi_settings_t *this)
{
	bool value;

	this->lock->read_lock(this->lock);
	value = this->announce;
	this->lock->unlock(this->lock);
	return value;
}

METHOD(mobike_spi_settings_t, get_sad_lookup, mobike_spi_sad_lookup_t,
	private_mobike_spi_settings_t *this)
{
	mobike_spi_sad_lookup_t value;

	this->lock->read_lock(this->lock);
	value = this->sad_lookup;
	this->lock->unlock(this->lock);
	return value;
}

METHOD(mobike_spi_settings_t, reload, void,
	private_mobike_spi_settings_t *this)
{
	cxtp_options_t *o = this->options;
	u_int max_round_trips, update_delay, timer;
	mobike_spi_sad_lookup_t sad_lookup;
	bool announce;

	max_round_trips = o->get_uint(o, "max_round_trips",
								MOBIKE_SPI_DEFAULT_MAX_ROUND_TRIPS, 1, INT_MAX);
	update_delay = o->get_time(o, "update_delay", "ms",
							   MOBIKE_SPI_DEFAULT_UPDATE_DELAY, 0, 60000);
	timer = o->get_time(o, "timer", "s", MOBIKE_SPI_DEFAULT_TIMER, 1, INT_MAX);
	announce = o->get_bool(o, "announce", MOBIKE_SPI_DEFAULT_ANNOUNCE);
	sad_lookup = o->get_enum(o, "sad_lookup", mobike_spi_sad_lookup_names,
							 MOBIKE_SPI_SAD_LOOKUP_AUTO);

	this->lock->write_lock(this->lock);
	this->max_round_trips = max_round_trips;
	this->update_delay = update_delay;
	this->timer = timer;
	this->announce = announce;
	this->sad_lookup = sad_lookup;
	this->lock->unlock(this->lock);
}

METHOD(mobike_spi_settings_t, destroy, void,
	private_mobike_spi_settings_t *this)
{
	this->options->destroy(this->options);
	this->lock->destroy(this->lock);
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
		.options = cxtp_options_create("mobike-spi"),
		.lock = rwlock_create(RWLOCK_TYPE_DEFAULT),
	);
	reload(this);

	return &this->public;
}
