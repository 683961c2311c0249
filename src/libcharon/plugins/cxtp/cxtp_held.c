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

#include "cxtp_held.h"
#include "cxtp_ike_request.h"

#include <collections/linked_list.h>
#include <threading/mutex.h>

typedef struct private_cxtp_held_t private_cxtp_held_t;

/**
 * Private data of a cxtp_held_t object.
 */
struct private_cxtp_held_t {

	/**
	 * Public interface
	 */
	cxtp_held_t public;

	/**
	 * Held requests, cxtp_held_request_t*
	 */
	linked_list_t *list;

	/**
	 * Second of the requests counted for the rate, and their number
	 */
	time_t second;
	u_int in_second;

	/**
	 * Protects the list and the rate
	 */
	mutex_t *mutex;
};

/*
 * Described in header
 */
void cxtp_held_request_destroy(cxtp_held_request_t *held)
{
	chunk_free(&held->data);
	held->src->destroy(held->src);
	held->dst->destroy(held->dst);
	free(held->peer);
	free(held);
}

/*
 * Described in header
 */
message_t *cxtp_held_request_message(cxtp_held_request_t *held)
{
	return cxtp_ike_request_parse(held->data, held->src, held->dst);
}

METHOD(cxtp_held_t, hold, char*,
	private_cxtp_held_t *this, message_t *message, char *peer,
	uint32_t request)
{
	ike_sa_id_t *id = message->get_ike_sa_id(message);
	host_t *src = message->get_source(message);
	enumerator_t *enumerator;
	cxtp_held_request_t *held;
	u_int from_src = 0;
	time_t now;
	char *reason = NULL;

	this->mutex->lock(this->mutex);
	enumerator = this->list->create_enumerator(this->list);
	while (enumerator->enumerate(enumerator, &held))
	{
		if (held->spi_i == id->get_initiator_spi(id) &&
			held->spi_r == id->get_responder_spi(id))
		{
			reason = "its context is being fetched already";
			break;
		}
		if (src->ip_equals(src, held->src))
		{
			from_src++;
		}
	}
	enumerator->destroy(enumerator);
	if (!reason && from_src >= CXTP_HELD_PER_SOURCE)
	{
		reason = "too many requests from its source wait for their context";
	}
	if (!reason && this->list->get_count(this->list) >= CXTP_HELD_MAX)
	{
		reason = "too many requests wait for their context";
	}
	now = time_monotonic(NULL);
	if (!reason && now == this->second && this->in_second >= CXTP_HELD_RATE)
	{
		reason = "too many contexts fetched this second";
	}
	if (!reason)
	{
		if (now != this->second)
		{
			this->second = now;
			this->in_second = 0;
		}
		this->in_second++;
		INIT(held,
			.data = chunk_clone(message->get_packet_data(message)),
			.src = src->clone(src),
			.dst = message->get_destination(message)->clone(
										message->get_destination(message)),
			.spi_i = id->get_initiator_spi(id),
			.spi_r = id->get_responder_spi(id),
			.peer = strdup(peer),
			.request = request,
		);
		this->list->insert_last(this->list, held);
	}
	this->mutex->unlock(this->mutex);
	return reason;
}

CALLBACK(match_spis, bool,
	cxtp_held_request_t *held, va_list args)
{
	uint64_t spi_i, spi_r;
	char *peer;

	VA_ARGS_VGET(args, peer, spi_i, spi_r);
	return held->spi_i == spi_i && held->spi_r == spi_r &&
		   streq(held->peer, peer);
}

CALLBACK(match_request, bool,
	cxtp_held_request_t *held, va_list args)
{
	uint32_t request;

	VA_ARGS_VGET(args, request);
	return held->request == request;
}

CALLBACK(match_source, bool,
	cxtp_held_request_t *held, va_list args)
{
	host_t *src;
	char *peer;

	VA_ARGS_VGET(args, peer, src);
	return src->ip_equals(src, held->src) && streq(held->peer, peer);
}

/**
 * Take the first held request a function matches
 */
static cxtp_held_request_t *take(private_cxtp_held_t *this,
								 cxtp_held_request_t *held)
{
	if (held)
	{
		this->list->remove(this->list, held, NULL);
	}
	this->mutex->unlock(this->mutex);
	return held;
}

METHOD(cxtp_held_t, take_spis, cxtp_held_request_t*,
	private_cxtp_held_t *this, char *peer, uint64_t spi_i, uint64_t spi_r)
{
	cxtp_held_request_t *held = NULL;

	this->mutex->lock(this->mutex);
	this->list->find_first(this->list, match_spis, (void**)&held, peer,
						   spi_i, spi_r);
	return take(this, held);
}

METHOD(cxtp_held_t, take_request, cxtp_held_request_t*,
	private_cxtp_held_t *this, uint32_t request)
{
	cxtp_held_request_t *held = NULL;

	this->mutex->lock(this->mutex);
	this->list->find_first(this->list, match_request, (void**)&held, request);
	return take(this, held);
}

METHOD(cxtp_held_t, take_source, cxtp_held_request_t*,
	private_cxtp_held_t *this, char *peer, host_t *src)
{
	cxtp_held_request_t *held = NULL;

	this->mutex->lock(this->mutex);
	this->list->find_first(this->list, match_source, (void**)&held, peer, src);
	return take(this, held);
}

METHOD(cxtp_held_t, get_count, u_int,
	private_cxtp_held_t *this)
{
	u_int count;

	this->mutex->lock(this->mutex);
	count = this->list->get_count(this->list);
	this->mutex->unlock(this->mutex);
	return count;
}

METHOD(cxtp_held_t, destroy, void,
	private_cxtp_held_t *this)
{
	this->list->destroy_function(this->list, (void*)cxtp_held_request_destroy);
	this->mutex->destroy(this->mutex);
	free(this);
}

/*
 * Described in header
 */
cxtp_held_t *cxtp_held_create()
{
	private_cxtp_held_t *this;

	INIT(this,
		.public = {
			.hold = _hold,
			.take_spis = _take_spis,
			.take_request = _take_request,
			.take_source = _take_source,
			.get_count = _get_count,
			.destroy = _destroy,
		},
		.list = linked_list_create(),
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
	);
	return &this->public;
}
