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

#include "mobike_spi_announce.h"
#include "mobike_spi_notify.h"

#include <daemon.h>
#include <encoding/payloads/vendor_id_payload.h>

typedef struct private_mobike_spi_announce_t private_mobike_spi_announce_t;

/**
 * Private data of a mobike_spi_announce_t task.
 */
struct private_mobike_spi_announce_t {

	/**
	 * Public interface.
	 */
	mobike_spi_announce_t public;

	/**
	 * IKE_SA being established
	 */
	ike_sa_t *ike_sa;

	/**
	 * Plugin settings
	 */
	mobike_spi_settings_t *settings;
};

/**
 * Done once the IKE_SA is: IKE_AUTH may take several exchanges (EAP)
 */
static status_t done(private_mobike_spi_announce_t *this)
{
	return this->ike_sa->get_state(this->ike_sa) == IKE_ESTABLISHED ?
				SUCCESS : NEED_MORE;
}

/**
 * Whether a message carries our vendor ID
 */
static bool has_vendor_id(message_t *message)
{
	enumerator_t *enumerator;
	vendor_id_payload_t *vid;
	payload_t *payload;
	bool found = FALSE;

	enumerator = message->create_payload_enumerator(message);
	while (!found && enumerator->enumerate(enumerator, &payload))
	{
		if (payload->get_type(payload) == PLV2_VENDOR_ID)
		{
			vid = (vendor_id_payload_t*)payload;
			found = chunk_equals(vid->get_data(vid), MOBIKE_SPI_VENDOR_ID);
		}
	}
	enumerator->destroy(enumerator);
	return found;
}

METHOD(task_t, build, status_t,
	private_mobike_spi_announce_t *this, message_t *message)
{
	vendor_id_payload_t *vid;

	switch (message->get_exchange_type(message))
	{
		case IKE_SA_INIT:
			vid = vendor_id_payload_create_data(PLV2_VENDOR_ID,
										chunk_clone(MOBIKE_SPI_VENDOR_ID));
			message->add_payload(message, &vid->payload_interface);
			return NEED_MORE;
		case IKE_AUTH:
			break;
		default:
			return NEED_MORE;
	}
	/* the message with our identity comes once */
	if (this->settings->get_announce(this->settings) &&
		this->ike_sa->supports_extension(this->ike_sa, MOBIKE_SPI_EXT_VENDOR) &&
		(message->get_payload(message, PLV2_ID_INITIATOR) ||
		 message->get_payload(message, PLV2_ID_RESPONDER)))
	{
		message->add_notify(message, FALSE, MOBIKE_SPI_UPDATE_SPI_SUPPORTED,
							chunk_empty);
	}
	return done(this);
}

METHOD(task_t, process, status_t,
	private_mobike_spi_announce_t *this, message_t *message)
{
	switch (message->get_exchange_type(message))
	{
		case IKE_SA_INIT:
			if (has_vendor_id(message))
			{
				DBG1(DBG_IKE, "mobike-spi: received cxtp mobike-spi vendor ID");
				this->ike_sa->enable_extension(this->ike_sa,
											   MOBIKE_SPI_EXT_VENDOR);
			}
			return NEED_MORE;
		case IKE_AUTH:
			break;
		default:
			return NEED_MORE;
	}
	if (message->get_notify(message, MOBIKE_SPI_UPDATE_SPI_SUPPORTED) &&
		!this->ike_sa->supports_extension(this->ike_sa, MOBIKE_SPI_EXT_PEER))
	{
		if (!this->ike_sa->supports_extension(this->ike_sa,
											  MOBIKE_SPI_EXT_VENDOR))
		{	/* another vendor's private notify of the same number */
			DBG1(DBG_IKE, "mobike-spi: ignoring notify %u from '%Y', it "
				 "sent no cxtp mobike-spi vendor ID",
				 MOBIKE_SPI_UPDATE_SPI_SUPPORTED,
				 this->ike_sa->get_other_id(this->ike_sa));
			return done(this);
		}
		DBG1(DBG_IKE, "mobike-spi: peer supports UPDATE_SPI");
		this->ike_sa->enable_extension(this->ike_sa, MOBIKE_SPI_EXT_PEER);
	}
	return done(this);
}

METHOD(task_t, get_type, task_type_t,
	private_mobike_spi_announce_t *this)
{
	return TASK_PLUGIN;
}

METHOD(task_t, migrate, void,
	private_mobike_spi_announce_t *this, ike_sa_t *ike_sa)
{
	this->ike_sa = ike_sa;
}

METHOD(task_t, destroy, void,
	private_mobike_spi_announce_t *this)
{
	free(this);
}

/*
 * Described in header
 */
mobike_spi_announce_t *mobike_spi_announce_create(ike_sa_t *ike_sa,
											mobike_spi_settings_t *settings)
{
	private_mobike_spi_announce_t *this;

	INIT(this,
		.public = {
			.task = {
				.build = _build,
				.process = _process,
				.get_type = _get_type,
				.migrate = _migrate,
				.destroy = _destroy,
			},
		},
		.ike_sa = ike_sa,
		.settings = settings,
	);
	return &this->public;
}
