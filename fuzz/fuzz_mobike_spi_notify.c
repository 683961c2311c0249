/*
 * Copyright (C) 2026 strongswan-cxtp developers
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 2 of the License, or (at your
 * option) any later version.  See <http://www.fsf.org/copyleft/gpl.txt>.
 */

/*
 * Fuzzes the UPDATE_SPI notify parser with a notify payload as charon's
 * parser hands it over: an update it accepts must build a notify that
 * parses to the same update.
 */

#include "fuzz.h"

#include <daemon.h>
#include <encoding/parser.h>
#include <mobike_spi_notify.h>

/**
 * Parse a notify payload with charon's parser, NULL if it is invalid
 */
static notify_payload_t *parse_notify(chunk_t data)
{
	parser_t *parser;
	payload_t *payload = NULL;

	parser = parser_create(data);
	if (parser->parse_payload(parser, PLV2_NOTIFY, &payload) != SUCCESS ||
		payload->verify(payload) != SUCCESS)
	{
		DESTROY_IF(payload);
		payload = NULL;
	}
	parser->destroy(parser);
	return (notify_payload_t*)payload;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* charon's parser logs on the daemon's bus */
	if (fuzz_init("fuzz_mobike_spi_notify") || !libcharon_init())
	{
		return 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	notify_payload_t *notify, *built;
	mobike_spi_update_t update, again;

	notify = parse_notify(chunk_create((u_char*)buf, len));
	if (!notify)
	{
		return 0;
	}
	if (!mobike_spi_notify_parse(notify, &update))
	{
		built = mobike_spi_notify_build(&update);
		fuzz_assert(built);
		fuzz_assert(!mobike_spi_notify_parse(built, &again));
		fuzz_assert(mobike_spi_notify_equals(&update, &again));
		built->destroy(built);
	}
	notify->destroy(notify);
	return 0;
}
