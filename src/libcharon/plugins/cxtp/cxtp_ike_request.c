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

#include "cxtp_ike_request.h"

/*
 * Described in header
 */
char *cxtp_ike_request_check(ike_sa_t *ike_sa, message_t *message)
{
	message_t *copy;
	status_t status;

	if (message->get_exchange_type(message) != INFORMATIONAL)
	{
		return "not an INFORMATIONAL";
	}
	if (!message->get_request(message))
	{
		return "not a request";
	}
	if (message->get_message_id(message) !=
		ike_sa->get_message_id(ike_sa, FALSE))
	{
		return "not the message ID the node sends next";
	}
	copy = message_create_from_packet(message->get_packet(message));
	status = copy->parse_header(copy);
	if (status == SUCCESS)
	{
		status = copy->parse_body(copy, ike_sa->get_keymat(ike_sa));
	}
	copy->destroy(copy);
	return status == SUCCESS ? NULL : "not protected with the IKE_SA's keys";
}

/*
 * Described in header
 */
message_t *cxtp_ike_request_parse(chunk_t data, host_t *src, host_t *dst)
{
	message_t *message;

	message = message_create_from_packet(packet_create_from_data(
							src->clone(src), dst->clone(dst), chunk_clone(data)));
	if (message->parse_header(message) != SUCCESS)
	{
		message->destroy(message);
		return NULL;
	}
	return message;
}
