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

#include "mobike_spi_request.h"

#include <daemon.h>

typedef struct private_mobike_spi_request_t private_mobike_spi_request_t;

/**
 * Private data of a mobike_spi_request_t task.
 */
struct private_mobike_spi_request_t {

	/**
	 * Public interface.
	 */
	mobike_spi_request_t public;

	/**
	 * IKE_SA of the exchange
	 */
	ike_sa_t *ike_sa;

	/**
	 * Algorithm 1 of the IKE_SA
	 */
	mobike_spi_rounds_t *rounds;

	/**
	 * Whether a request was addressed to an older IKE SPI
	 */
	bool addressed;

	/**
	 * UPDATE_SPIs sent in the request, mobike_spi_result_t
	 */
	array_t *sent;
};

METHOD(task_t, build, status_t,
	private_mobike_spi_request_t *this, message_t *message)
{
	enumerator_t *enumerator;
	mobike_spi_result_t *result;
	ike_sa_id_t *address;

	address = this->rounds->get_address(this->rounds, this->ike_sa);
	if (address)
	{
		message->set_ike_sa_id(message, address);
		address->destroy(address);
		this->addressed = TRUE;
	}
	/* the round goes with the MOBIKE update that ike_mobike built */
	if (message->get_exchange_type(message) == INFORMATIONAL &&
		message->get_notify(message, UPDATE_SA_ADDRESSES))
	{
		this->sent = this->rounds->take_round(this->rounds, this->ike_sa);
	}
	if (!this->sent)
	{	/* if charon's tasks continue in another exchange, so do we */
		return this->addressed ? NEED_MORE : SUCCESS;
	}
	enumerator = array_create_enumerator(this->sent);
	while (enumerator->enumerate(enumerator, &result))
	{
		mobike_spi_notify_add(message, &result->update);
	}
	enumerator->destroy(enumerator);
	return NEED_MORE;
}

METHOD(task_t, process, status_t,
	private_mobike_spi_request_t *this, message_t *message)
{
	enumerator_t *enumerator;
	mobike_spi_result_t *result;

	if (!this->sent)
	{
		return NEED_MORE;
	}
	enumerator = array_create_enumerator(this->sent);
	while (enumerator->enumerate(enumerator, &result))
	{
		result->answer = mobike_spi_notify_answer(message, &result->update);
	}
	enumerator->destroy(enumerator);
	this->rounds->answered(this->rounds, this->ike_sa, this->sent);
	return SUCCESS;
}

METHOD(task_t, get_type, task_type_t,
	private_mobike_spi_request_t *this)
{
	return TASK_PLUGIN;
}

METHOD(task_t, migrate, void,
	private_mobike_spi_request_t *this, ike_sa_t *ike_sa)
{
	this->ike_sa = ike_sa;
}

METHOD(task_t, destroy, void,
	private_mobike_spi_request_t *this)
{
	array_destroy_function(this->sent, (void*)free, NULL);
	free(this);
}

/*
 * Described in header
 */
mobike_spi_request_t *mobike_spi_request_create(ike_sa_t *ike_sa,
												mobike_spi_rounds_t *rounds)
{
	private_mobike_spi_request_t *this;

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
		.rounds = rounds,
	);
	return &this->public;
}
