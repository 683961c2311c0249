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

#include "mobike_spi_provider.h"
#include "mobike_spi_announce.h"
#include "mobike_spi_update.h"

typedef struct private_mobike_spi_provider_t private_mobike_spi_provider_t;

/**
 * Private data of a mobike_spi_provider_t object.
 */
struct private_mobike_spi_provider_t {

	/**
	 * Public interface.
	 */
	mobike_spi_provider_t public;

	/**
	 * Plugin settings
	 */
	mobike_spi_settings_t *settings;
};

METHOD(task_provider_t, create_task, task_t*,
	private_mobike_spi_provider_t *this, ike_sa_t *ike_sa,
	exchange_type_t exchange, bool initiator)
{
	switch (exchange)
	{
		case IKE_SA_INIT:
			/* acts in IKE_AUTH */
			return &mobike_spi_announce_create(ike_sa, this->settings)->task;
		case INFORMATIONAL:
			if (!initiator)
			{
				return &mobike_spi_update_task_create(ike_sa,
													  this->settings)->task;
			}
			/* fall through */
		default:
			return NULL;
	}
}

METHOD(mobike_spi_provider_t, destroy, void,
	private_mobike_spi_provider_t *this)
{
	free(this);
}

/*
 * Described in header
 */
mobike_spi_provider_t *mobike_spi_provider_create(
											mobike_spi_settings_t *settings)
{
	private_mobike_spi_provider_t *this;

	INIT(this,
		.public = {
			.provider = {
				.create_task = _create_task,
			},
			.destroy = _destroy,
		},
		.settings = settings,
	);
	return &this->public;
}
