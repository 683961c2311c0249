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

#include "mobike_spi_notify.h"

#include <bio/bio_writer.h>

/**
 * Fill a notify with the protocol, SPI and data of an update
 */
static notify_payload_t *build(notify_type_t type, mobike_spi_update_t *update)
{
	notify_payload_t *notify;
	bio_writer_t *writer;

	notify = notify_payload_create(PLV2_NOTIFY);
	notify->set_notify_type(notify, type);
	notify->set_protocol_id(notify, update->protocol);
	writer = bio_writer_create(9);
	if (update->protocol == PROTO_IKE)
	{
		writer->write_data(writer, chunk_from_thing(update->new_ike_spi));
	}
	else
	{
		notify->set_spi(notify, update->spi);
		writer->write_data(writer, chunk_from_thing(update->new_spi));
	}
	writer->write_uint8(writer, update->responder ? MOBIKE_SPI_FLAG_D : 0);
	notify->set_notification_data(notify, writer->get_buf(writer));
	writer->destroy(writer);
	return notify;
}

/*
 * Described in header
 */
notify_payload_t *mobike_spi_notify_build(mobike_spi_update_t *update)
{
	return build(MOBIKE_SPI_UPDATE_SPI, update);
}

/*
 * Described in header
 */
void mobike_spi_notify_add(message_t *message, mobike_spi_update_t *update)
{
	message->add_payload(message, (payload_t*)build(MOBIKE_SPI_UPDATE_SPI,
													 update));
}

/*
 * Described in header
 */
notify_payload_t *mobike_spi_notify_failed(notify_payload_t *notify)
{
	notify_payload_t *failed;

	failed = notify_payload_create(PLV2_NOTIFY);
	failed->set_notify_type(failed, MOBIKE_SPI_UPDATE_SPI_FAILED);
	failed->set_protocol_id(failed, notify->get_protocol_id(notify));
	/* an SPI of another size than 4 is not kept by the parser anyway */
	failed->set_spi(failed, notify->get_spi(notify));
	failed->set_notification_data(failed,
								  notify->get_notification_data(notify));
	return failed;
}

/*
 * Described in header
 */
char *mobike_spi_notify_parse(notify_payload_t *notify,
							  mobike_spi_update_t *update)
{
	payload_t *payload = &notify->payload_interface;
	chunk_t data = notify->get_notification_data(notify);
	size_t spi_size;
	uint8_t flags;

	/* the parser keeps no SPI of unexpected size, so count it */
	spi_size = payload->get_length(payload) - 8 - data.len;

	*update = (mobike_spi_update_t){
		.protocol = notify->get_protocol_id(notify),
	};
	switch (update->protocol)
	{
		case PROTO_IKE:
			if (spi_size != 0)
			{
				return "SPI size not 0 for IKE";
			}
			if (data.len != sizeof(uint64_t) + 1)
			{
				return "data not 9 octets for IKE";
			}
			memcpy(&update->new_ike_spi, data.ptr, sizeof(uint64_t));
			if (!update->new_ike_spi)
			{
				return "new IKE SPI is zero";
			}
			break;
		case PROTO_AH:
		case PROTO_ESP:
			if (spi_size != sizeof(uint32_t))
			{
				return "SPI size not 4 for AH/ESP";
			}
			if (data.len != sizeof(uint32_t) + 1)
			{
				return "data not 5 octets for AH/ESP";
			}
			update->spi = notify->get_spi(notify);
			memcpy(&update->new_spi, data.ptr, sizeof(uint32_t));
			/* 0 is invalid and 1-255 are reserved (RFC 4303 2.1) */
			if (ntohl(update->spi) < 256 || ntohl(update->new_spi) < 256)
			{
				return "SPI in reserved range";
			}
			if (update->spi == update->new_spi)
			{
				return "new SPI equals the old";
			}
			break;
		default:
			return "unknown protocol";
	}
	flags = data.ptr[data.len - 1];
	if (flags & ~MOBIKE_SPI_FLAG_D)
	{
		return "reserved flags set";
	}
	update->responder = (flags & MOBIKE_SPI_FLAG_D) != 0;
	return NULL;
}

/*
 * Described in header
 */
bool mobike_spi_notify_equals(mobike_spi_update_t *a, mobike_spi_update_t *b)
{
	return a->protocol == b->protocol && a->responder == b->responder &&
		   a->spi == b->spi && a->new_spi == b->new_spi &&
		   a->new_ike_spi == b->new_ike_spi;
}

/**
 * Whether a message has a notify of the given type with these contents
 */
static bool has_update(message_t *message, notify_type_t type,
					   mobike_spi_update_t *expected)
{
	enumerator_t *enumerator;
	payload_t *payload;
	notify_payload_t *notify;
	mobike_spi_update_t update;
	bool found = FALSE;

	enumerator = message->create_payload_enumerator(message);
	while (!found && enumerator->enumerate(enumerator, &payload))
	{
		if (payload->get_type(payload) != PLV2_NOTIFY)
		{
			continue;
		}
		notify = (notify_payload_t*)payload;
		found = notify->get_notify_type(notify) == type &&
				!mobike_spi_notify_parse(notify, &update) &&
				mobike_spi_notify_equals(&update, expected);
	}
	enumerator->destroy(enumerator);
	return found;
}

/*
 * Described in header
 */
mobike_spi_answer_t mobike_spi_notify_answer(message_t *message,
											 mobike_spi_update_t *update)
{
	if (has_update(message, MOBIKE_SPI_UPDATE_SPI, update))
	{
		return MOBIKE_SPI_APPLIED;
	}
	if (has_update(message, MOBIKE_SPI_UPDATE_SPI_FAILED, update))
	{
		return MOBIKE_SPI_REJECTED;
	}
	return MOBIKE_SPI_IGNORED;
}
