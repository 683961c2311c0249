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

#include <test_suite.h>

#include <encoding/generator.h>
#include <encoding/parser.h>

#include "../../mobike_spi_notify.h"

/**
 * Encode an update, generate and parse it as on the wire
 */
static notify_payload_t *wire(notify_payload_t *notify)
{
	generator_t *generator;
	parser_t *parser;
	payload_t *parsed = NULL;
	chunk_t data;
	uint32_t *lenpos;

	generator = generator_create();
	generator->generate_payload(generator, &notify->payload_interface);
	data = chunk_clone(generator->get_chunk(generator, &lenpos));
	generator->destroy(generator);
	notify->destroy(notify);

	parser = parser_create(data);
	ck_assert(parser->parse_payload(parser, PLV2_NOTIFY, &parsed) == SUCCESS);
	ck_assert(parsed->verify(parsed) == SUCCESS);
	parser->destroy(parser);
	chunk_free(&data);
	return (notify_payload_t*)parsed;
}

START_TEST(test_roundtrip_esp)
{
	mobike_spi_update_t update = {
		.protocol = PROTO_ESP,
		.responder = _i,
		.spi = htonl(0xc0001000),
		.new_spi = htonl(0xc0002000),
	}, parsed;
	notify_payload_t *notify;
	chunk_t data;

	notify = wire(mobike_spi_notify_build(&update));
	ck_assert_int_eq(notify->get_notify_type(notify), MOBIKE_SPI_UPDATE_SPI);
	ck_assert_int_eq(notify->get_protocol_id(notify), PROTO_ESP);
	ck_assert_int_eq(notify->get_spi(notify), htonl(0xc0001000));
	data = notify->get_notification_data(notify);
	ck_assert_int_eq(data.len, 5);
	ck_assert_int_eq(data.ptr[4], _i ? 0x80 : 0x00);
	ck_assert(mobike_spi_notify_parse(notify, &parsed) == NULL);
	ck_assert(mobike_spi_notify_equals(&update, &parsed));
	notify->destroy(notify);
}
END_TEST

START_TEST(test_roundtrip_ike)
{
	mobike_spi_update_t update = {
		.protocol = PROTO_IKE,
		.responder = _i,
		.new_ike_spi = htobe64(0x0102030405060708),
	}, parsed;
	notify_payload_t *notify;
	chunk_t data;

	notify = wire(mobike_spi_notify_build(&update));
	ck_assert_int_eq(notify->get_protocol_id(notify), PROTO_IKE);
	/* SPI size 0 for IKE, the new SPI and flags in the data */
	ck_assert_int_eq(notify->payload_interface.get_length(
										&notify->payload_interface), 8 + 9);
	data = notify->get_notification_data(notify);
	ck_assert_int_eq(data.len, 9);
	ck_assert(chunk_equals(chunk_create(data.ptr, 8),
			  chunk_from_chars(0x01,0x02,0x03,0x04,0x05,0x06,0x07,0x08)));
	ck_assert(mobike_spi_notify_parse(notify, &parsed) == NULL);
	ck_assert(mobike_spi_notify_equals(&update, &parsed));
	notify->destroy(notify);
}
END_TEST

/**
 * Malformed notifies and the reason the parser gives
 */
static struct {
	uint8_t protocol;
	bool spi;
	chunk_t data;
	char *reason;
} malformed[] = {
	{ PROTO_ESP, TRUE, chunk_from_chars(0x00,0x00,0x20,0x00), "data not 5" },
	{ PROTO_ESP, TRUE, chunk_from_chars(0x00,0x00,0x20,0x00,0x80,0x00),
	  "data not 5" },
	{ PROTO_ESP, FALSE, chunk_from_chars(0x00,0x00,0x20,0x00,0x80),
	  "SPI size not 4" },
	{ PROTO_AH, TRUE, chunk_from_chars(0x00,0x00,0x00,0x05,0x80),
	  "reserved range" },
	{ PROTO_ESP, TRUE, chunk_from_chars(0x00,0x00,0x20,0x00,0x81),
	  "reserved flags" },
	{ PROTO_ESP, TRUE, chunk_from_chars(0x00,0x00,0x10,0x00,0x80),
	  "equals the old" },
	{ PROTO_IKE, FALSE, chunk_from_chars(0x00,0x00,0x20,0x00,0x80),
	  "data not 9" },
	{ PROTO_IKE, FALSE, chunk_from_chars(0,0,0,0,0,0,0,0,0x80),
	  "zero" },
	{ PROTO_NONE, FALSE, chunk_from_chars(0x00,0x00,0x20,0x00,0x80),
	  "unknown protocol" },
};

START_TEST(test_malformed)
{
	mobike_spi_update_t parsed;
	notify_payload_t *notify;
	char *reason;

	notify = notify_payload_create(PLV2_NOTIFY);
	notify->set_notify_type(notify, MOBIKE_SPI_UPDATE_SPI);
	notify->set_protocol_id(notify, malformed[_i].protocol);
	if (malformed[_i].spi)
	{
		notify->set_spi(notify, htonl(0x1000));
	}
	notify->set_notification_data(notify, malformed[_i].data);
	notify = wire(notify);
	reason = mobike_spi_notify_parse(notify, &parsed);
	ck_assert_msg(reason && strstr(reason, malformed[_i].reason),
				  "expected '%s', got '%s'", malformed[_i].reason, reason);
	notify->destroy(notify);
}
END_TEST

START_TEST(test_failed_copies)
{
	mobike_spi_update_t update = {
		.protocol = PROTO_ESP,
		.responder = TRUE,
		.spi = htonl(0x1000),
		.new_spi = htonl(0x2000),
	}, parsed;
	notify_payload_t *notify, *failed;

	notify = mobike_spi_notify_build(&update);
	failed = wire(mobike_spi_notify_failed(notify));
	notify->destroy(notify);
	ck_assert_int_eq(failed->get_notify_type(failed),
					 MOBIKE_SPI_UPDATE_SPI_FAILED);
	ck_assert(mobike_spi_notify_parse(failed, &parsed) == NULL);
	ck_assert(mobike_spi_notify_equals(&update, &parsed));
	failed->destroy(failed);
}
END_TEST

START_TEST(test_vendor_id)
{
	hasher_t *hasher;
	chunk_t hash;

	/* the value documented in mobike-spi.opt */
	hasher = lib->crypto->create_hasher(lib->crypto, HASH_MD5);
	if (!hasher)
	{
		warn("MD5 not supported, vendor ID not checked");
		return;
	}
	ck_assert(hasher->allocate_hash(hasher,
							chunk_from_str("strongSwan cxtp mobike-spi"), &hash));
	hasher->destroy(hasher);
	ck_assert_chunk_eq(hash, MOBIKE_SPI_VENDOR_ID);
	chunk_free(&hash);
}
END_TEST

Suite *notify_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("UPDATE_SPI notify");

	tc = tcase_create("round trip");
	tcase_add_loop_test(tc, test_roundtrip_esp, 0, 2);
	tcase_add_loop_test(tc, test_roundtrip_ike, 0, 2);
	tcase_add_test(tc, test_failed_copies);
	tcase_add_test(tc, test_vendor_id);
	suite_add_tcase(s, tc);

	tc = tcase_create("malformed");
	tcase_add_loop_test(tc, test_malformed, 0, countof(malformed));
	suite_add_tcase(s, tc);

	return s;
}
