/*
 * Copyright (C) 2026 strongswan-cxtp developers
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 2 of the License, or (at your
 * option) any later version.  See <http://www.fsf.org/copyleft/gpl.txt>.
 */

/*
 * Fuzzes cxtp_message_parse() with any CXTP message, continued CDBs joined:
 * a message it accepts must enumerate and, once encoded again, parse again
 * to the same CDBs.
 */

#include "fuzz.h"

#include <cxtp_message.h>

/**
 * Compare the CDBs of two messages
 */
static bool cdbs_equal(cxtp_message_t *a, cxtp_message_t *b)
{
	enumerator_t *ea, *eb;
	cxtp_cdb_t *ca, *cb;
	bool equal = TRUE;

	ea = a->create_cdb_enumerator(a);
	eb = b->create_cdb_enumerator(b);
	while (equal && ea->enumerate(ea, &ca))
	{
		equal = eb->enumerate(eb, &cb) && ca->fpt == cb->fpt &&
				fuzz_chunk_eq(ca->data, cb->data) &&
				ca->has_presence == cb->has_presence &&
				(!ca->has_presence || ca->presence == cb->presence);
	}
	equal = equal && !eb->enumerate(eb, &cb);
	ea->destroy(ea);
	eb->destroy(eb);
	return equal;
}

/**
 * Read everything a receiver reads of a message
 */
static void inspect(cxtp_message_t *message)
{
	enumerator_t *enumerator;
	cxtp_status_t *status;
	cxtp_transfer_id_t id;
	host_t *host;
	chunk_t cdbs;
	u_int sum = 0;

	enumerator = message->create_status_enumerator(message);
	while (enumerator->enumerate(enumerator, &status))
	{
		sum += status->fpt + status->status;
	}
	enumerator->destroy(enumerator);
	host = message->get_mn_address(message);
	sum += host ? host->get_family(host) : 0;
	host = message->get_ar_address(message);
	sum += host ? host->get_family(host) : 0;
	sum += message->get_transfer_id(message, &id) ? id.serial : 0;
	cdbs = message->get_cdb_bytes(message);
	sum += message->get_key(message).len + cdbs.len;
	chunk_clear(&cdbs);
	sum += message->get_sequence(message) + message->get_token(message) +
		   message->get_elapsed(message) + message->get_ack(message) +
		   message->get_success(message) + message->is_authenticated(message);
	/* keep the compiler from dropping the reads */
	__asm__ volatile("" : : "r"(sum));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return fuzz_init("fuzz_cxtp_message_parse");
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	cxtp_message_t *message, *again;
	chunk_t encoding;

	message = cxtp_message_parse(chunk_create((u_char*)buf, len));
	if (!message)
	{
		return 0;
	}
	inspect(message);
	encoding = message->encode(message);
	if (encoding.len)
	{
		again = cxtp_message_parse(encoding);
		fuzz_assert(again);
		fuzz_assert(again->get_type(again) == message->get_type(message));
		fuzz_assert(cdbs_equal(message, again));
		again->destroy(again);
	}
	chunk_free(&encoding);
	message->destroy(message);
	return 0;
}
