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

#include "../../cxtp_message.h"

/**
 * Largest wire CDB and the data it carries besides its header
 */
#define WIRE_CDB_MAX 2040
#define WIRE_CDB_ROOM 2036

/**
 * Hand-written encodings of every message type, following RFC 4067 2.5 and
 * the CDB framing documented in cxtp_message.h
 */
static chunk_t ctar_v4 = chunk_from_chars(
	0x21,0xc0,0x00,0x20,					/* v1 CTAR, V|A, 32 octets */
	0xc0,0x00,0x02,0x01,					/* MN 192.0.2.1 */
	0xc6,0x33,0x64,0x02,					/* pAR 198.51.100.2 */
	0x12,0x34,0x56,0x78,					/* sequence */
	0x9a,0xbc,0xde,0xf0,					/* token */
	0xff,0x01,0x00,0x00,					/* request IKE SA */
	0xff,0x02,0x00,0x00,					/* request CHILD SA */
	0xff,0x03,0x00,0x00);					/* request PAD */

static chunk_t ctaa_v4 = chunk_from_chars(
	0x22,0x80,0x00,0x10,					/* v1 CTAA, V, 16 octets */
	0xc0,0x00,0x02,0x01,					/* MN 192.0.2.1 */
	0xff,0x01,0x05,0x00,					/* IKE SA: status 5 */
	0xff,0x02,0x00,0x00);					/* CHILD SA: status 0 */

static chunk_t ctd_v4 = chunk_from_chars(
	0x23,0xe0,0x00,0x30,					/* v1 CTD, V|A|K, 48 octets */
	0x00,0x00,0x01,0x2c,					/* elapsed 300 ms */
	0xc0,0x00,0x02,0x01,					/* MN 192.0.2.1 */
	0x00,0x01,0x00,0x05,					/* HMAC_SHA1, 5 octets key */
	0x6b,0x65,0x79,0x30,0x31,0x00,0x00,0x00,	/* "key01", padding */
	0xff,0x01,0x02,0x80,					/* IKE SA, 2 words, P */
	0xa0,0x00,0x00,0x01,					/* presence vector */
	0x00,0x00,0x00,0x03,					/* 3 octets of data */
	0x61,0x62,0x63,0x00,					/* "abc", padding */
	0xff,0x02,0x01,0x00,					/* CHILD SA, 1 word */
	0x00,0x00,0x00,0x00);					/* no data */

static chunk_t pctd_v4 = chunk_from_chars(
	0x24,0x80,0x00,0x1c,					/* v1 PCTD, V, 28 octets */
	0x00,0x00,0x00,0x00,					/* elapsed 0 ms */
	0xc0,0x00,0x02,0x01,					/* MN 192.0.2.1 */
	0x00,0x01,0x00,0x04,					/* HMAC_SHA1, 4 octets key */
	0x11,0x22,0x33,0x44,					/* key */
	0xff,0x03,0x01,0x00,					/* PAD, 1 word */
	0x00,0x00,0x00,0x00);					/* no data */

static chunk_t ctdr_v6 = chunk_from_chars(
	0x25,0x40,0x00,0x18,					/* v1 CTDR, S, 24 octets */
	0x20,0x01,0x0d,0xb8,0x00,0x00,0x00,0x00,	/* MN 2001:db8::1 */
	0x00,0x00,0x00,0x00,0x00,0x00,0x00,0x01,
	0xff,0x02,0x00,0x00);					/* CHILD SA: status 0 */

static chunk_t ctc_v6 = chunk_from_chars(
	0x26,0x00,0x00,0x14,					/* v1 CTC, 20 octets */
	0x20,0x01,0x0d,0xb8,0x00,0x00,0x00,0x00,	/* MN 2001:db8::1 */
	0x00,0x00,0x00,0x00,0x00,0x00,0x00,0x01);

static chunk_t ctdr_id_v4 = chunk_from_chars(
	0x25,0xd0,0x00,0x24,					/* v1 CTDR, V|S|R, 36 octets */
	0xc0,0x00,0x02,0x01,					/* MN 192.0.2.1 */
	0x01,0x02,0x03,0x04,0x05,0x06,0x07,0x08,	/* IKE SPI i */
	0x11,0x12,0x13,0x14,0x15,0x16,0x17,0x18,	/* IKE SPI r */
	0x00,0x00,0x01,0x00,					/* serial 256 */
	0xff,0x01,0x81,0x00,					/* IKE SA: cancelled */
	0xff,0x02,0x00,0x00);					/* CHILD SA: status 0 */

static chunk_t ctreq_v4 = chunk_from_chars(
	0x27,0x80,0x00,0x14,					/* v1 CT-Req, V, 20 octets */
	0xc0,0x00,0x02,0x01,					/* MN 192.0.2.1 */
	0x00,0x00,0x00,0x2a,					/* sequence */
	0x29,0xd2,0x58,0xdc,					/* token */
	0xff,0x01,0x00,0x00);					/* request IKE SA */

/**
 * Create an address of the given family, which = 0 for the MN, 1 for an AR
 */
static host_t *address(int family, int which)
{
	char *v4[] = { "192.0.2.1", "198.51.100.2" };
	char *v6[] = { "2001:db8::1", "2001:db8:1::2" };

	return host_create_from_string(family == AF_INET ? v4[which] : v6[which],
								   0);
}

/**
 * Create an empty message with the MN's address of the given family
 */
static cxtp_message_t *create(cxtp_message_type_t type, int family)
{
	cxtp_message_t *message;
	host_t *mn;

	mn = address(family, 0);
	message = cxtp_message_create(type, mn);
	mn->destroy(mn);
	ck_assert(message);
	return message;
}

/**
 * Build the message of one of the hand-written encodings
 */
static cxtp_message_t *build_known(int i)
{
	cxtp_message_t *message;
	host_t *ar;

	switch (i)
	{
		case 0:
			message = create(CXTP_CTAR, AF_INET);
			ar = address(AF_INET, 1);
			ck_assert(message->set_ar_address(message, ar));
			ar->destroy(ar);
			message->set_ack(message, TRUE);
			message->set_sequence(message, 0x12345678);
			message->set_token(message, 0x9abcdef0);
			ck_assert(message->add_cdb(message, CXTP_FPT_IKE_SA, chunk_empty));
			ck_assert(message->add_cdb(message, CXTP_FPT_CHILD_SA,
									   chunk_empty));
			ck_assert(message->add_cdb(message, CXTP_FPT_PAD, chunk_empty));
			return message;
		case 1:
			message = create(CXTP_CTAA, AF_INET);
			ck_assert(message->add_status(message, CXTP_FPT_IKE_SA, 5));
			ck_assert(message->add_status(message, CXTP_FPT_CHILD_SA, 0));
			return message;
		case 2:
			message = create(CXTP_CTD, AF_INET);
			message->set_ack(message, TRUE);
			message->set_elapsed(message, 300);
			ck_assert(message->set_key(message, chunk_from_str("key01")));
			ck_assert(message->add_cdb_presence(message, CXTP_FPT_IKE_SA,
									0xa0000001, chunk_from_str("abc")));
			ck_assert(message->add_cdb(message, CXTP_FPT_CHILD_SA,
									   chunk_empty));
			return message;
		case 3:
			message = create(CXTP_PCTD, AF_INET);
			ck_assert(message->set_key(message,
								chunk_from_chars(0x11,0x22,0x33,0x44)));
			ck_assert(message->add_cdb(message, CXTP_FPT_PAD, chunk_empty));
			return message;
		case 4:
			message = create(CXTP_CTDR, AF_INET6);
			message->set_success(message, TRUE);
			ck_assert(message->add_status(message, CXTP_FPT_CHILD_SA, 0));
			return message;
		case 5:
			return create(CXTP_CTC, AF_INET6);
		case 6:
		default:
			message = create(CXTP_CTREQ, AF_INET);
			message->set_sequence(message, 42);
			message->set_token(message, 0x29d258dc);
			ck_assert(message->add_cdb(message, CXTP_FPT_IKE_SA, chunk_empty));
			return message;
	}
}

/**
 * Get one of the hand-written encodings
 */
static chunk_t get_known(int i)
{
	chunk_t known[] = {
		ctar_v4, ctaa_v4, ctd_v4, pctd_v4, ctdr_v6, ctc_v6, ctreq_v4,
	};

	return known[i];
}

/**
 * Fill a buffer with a pattern that reveals misplaced octets
 */
static chunk_t pattern(size_t len, u_char seed)
{
	chunk_t data;
	size_t i;

	data = chunk_alloc(len);
	for (i = 0; i < len; i++)
	{
		data.ptr[i] = (u_char)(i * 7 + seed + (i >> 8));
	}
	return data;
}

/**
 * Build a message of the given type and family with every field it has
 */
static cxtp_message_t *build_full(cxtp_message_type_t type, int family)
{
	cxtp_message_t *message;
	chunk_t data;
	host_t *ar;

	message = create(type, family);
	switch (type)
	{
		case CXTP_CTAR:
			ar = address(family, 1);
			ck_assert(message->set_ar_address(message, ar));
			ar->destroy(ar);
			message->set_ack(message, TRUE);
			/* fall-through */
		case CXTP_CTREQ:
			message->set_sequence(message, 0xfedcba98);
			message->set_token(message, 0x01020304);
			ck_assert(message->add_cdb(message, CXTP_FPT_IKE_SA, chunk_empty));
			ck_assert(message->add_cdb(message, CXTP_FPT_CHILD_SA,
									   chunk_empty));
			ck_assert(message->add_cdb(message, CXTP_FPT_PAD, chunk_empty));
			break;
		case CXTP_CTD:
			message->set_ack(message, TRUE);
			/* fall-through */
		case CXTP_PCTD:
			message->set_elapsed(message, 0x80000001);
			data = pattern(type == CXTP_CTD ? 20 : 7, 0x33);
			ck_assert(message->set_key(message, data));
			chunk_free(&data);
			/* large enough to be split over two wire CDBs */
			data = pattern(2100, 1);
			ck_assert(message->add_cdb_presence(message, CXTP_FPT_IKE_SA,
												0x12345678, data));
			chunk_free(&data);
			data = pattern(5, 2);
			ck_assert(message->add_cdb(message, CXTP_FPT_CHILD_SA, data));
			chunk_free(&data);
			ck_assert(message->add_cdb(message, CXTP_FPT_PAD, chunk_empty));
			break;
		case CXTP_CTDR:
			message->set_success(message, FALSE);
			/* fall-through */
		case CXTP_CTAA:
			ck_assert(message->add_status(message, CXTP_FPT_IKE_SA, 0));
			ck_assert(message->add_status(message, CXTP_FPT_CHILD_SA, 1));
			ck_assert(message->add_status(message, CXTP_FPT_PAD, 255));
			break;
		case CXTP_CTC:
			break;
	}
	return message;
}

/**
 * Assert that two messages have the same contents
 */
static void assert_messages_equal(cxtp_message_t *a, cxtp_message_t *b)
{
	enumerator_t *ea, *eb;
	cxtp_cdb_t *ca, *cb;
	cxtp_status_t *sa, *sb;
	cxtp_transfer_id_t ia, ib;
	host_t *ha, *hb;

	ck_assert_int_eq(a->get_type(a), b->get_type(b));
	ck_assert(a->get_transfer_id(a, &ia) == b->get_transfer_id(b, &ib));
	if (a->get_transfer_id(a, &ia))
	{
		b->get_transfer_id(b, &ib);
		ck_assert(ia.spi_i == ib.spi_i && ia.spi_r == ib.spi_r &&
				  ia.serial == ib.serial);
	}
	ck_assert(a->get_mn_address(a)->ip_equals(a->get_mn_address(a),
											  b->get_mn_address(b)));
	ha = a->get_ar_address(a);
	hb = b->get_ar_address(b);
	ck_assert((!ha && !hb) || (ha && hb && ha->ip_equals(ha, hb)));
	ck_assert(a->get_ack(a) == b->get_ack(b));
	ck_assert(a->get_success(a) == b->get_success(b));
	ck_assert(a->get_takeover(a) == b->get_takeover(b));
	ck_assert_int_eq(a->get_sequence(a), b->get_sequence(b));
	ck_assert_int_eq(a->get_token(a), b->get_token(b));
	ck_assert_int_eq(a->get_elapsed(a), b->get_elapsed(b));
	ck_assert_chunk_eq(a->get_key(a), b->get_key(b));

	ea = a->create_cdb_enumerator(a);
	eb = b->create_cdb_enumerator(b);
	while (ea->enumerate(ea, &ca))
	{
		ck_assert(eb->enumerate(eb, &cb));
		ck_assert_int_eq(ca->fpt, cb->fpt);
		ck_assert_chunk_eq(ca->data, cb->data);
		ck_assert(ca->has_presence == cb->has_presence);
		ck_assert_int_eq(ca->presence, cb->presence);
	}
	ck_assert(!eb->enumerate(eb, &cb));
	ea->destroy(ea);
	eb->destroy(eb);

	ea = a->create_status_enumerator(a);
	eb = b->create_status_enumerator(b);
	while (ea->enumerate(ea, &sa))
	{
		ck_assert(eb->enumerate(eb, &sb));
		ck_assert_int_eq(sa->fpt, sb->fpt);
		ck_assert_int_eq(sa->status, sb->status);
	}
	ck_assert(!eb->enumerate(eb, &sb));
	ea->destroy(ea);
	eb->destroy(eb);
}

/**
 * Parse an encoding copied into a buffer of exactly its size, so valgrind
 * notices any read past it
 */
static cxtp_message_t *parse_exact(chunk_t data)
{
	cxtp_message_t *message;

	data = chunk_clone(data);
	message = cxtp_message_parse(data);
	chunk_free(&data);
	return message;
}

/**
 * Encode a message, parse the encoding, compare and encode it again
 */
static void assert_round_trip(cxtp_message_t *message)
{
	cxtp_message_t *parsed;
	chunk_t encoding, again;

	encoding = message->encode(message);
	ck_assert(encoding.len);
	ck_assert_int_eq(untoh16(encoding.ptr + 2), encoding.len);
	parsed = parse_exact(encoding);
	ck_assert(parsed);
	assert_messages_equal(message, parsed);
	again = parsed->encode(parsed);
	ck_assert_chunk_eq(encoding, again);
	chunk_clear(&again);
	chunk_clear(&encoding);
	parsed->destroy(parsed);
}

START_TEST(test_known_encode)
{
	cxtp_message_t *message;
	chunk_t encoding;

	message = build_known(_i);
	encoding = message->encode(message);
	ck_assert_chunk_eq(encoding, get_known(_i));
	chunk_clear(&encoding);
	message->destroy(message);
}
END_TEST

START_TEST(test_known_parse)
{
	cxtp_message_t *message, *parsed;

	message = build_known(_i);
	parsed = parse_exact(get_known(_i));
	ck_assert(parsed);
	assert_messages_equal(message, parsed);
	parsed->destroy(parsed);
	message->destroy(message);
}
END_TEST

/**
 * Message types and families of the loop tests over all types
 */
static struct {
	cxtp_message_type_t type;
	int family;
} variants[] = {
	{ CXTP_CTAR, AF_INET }, { CXTP_CTAR, AF_INET6 },
	{ CXTP_CTAA, AF_INET }, { CXTP_CTAA, AF_INET6 },
	{ CXTP_CTD, AF_INET }, { CXTP_CTD, AF_INET6 },
	{ CXTP_PCTD, AF_INET }, { CXTP_PCTD, AF_INET6 },
	{ CXTP_CTDR, AF_INET }, { CXTP_CTDR, AF_INET6 },
	{ CXTP_CTC, AF_INET }, { CXTP_CTC, AF_INET6 },
	{ CXTP_CTREQ, AF_INET }, { CXTP_CTREQ, AF_INET6 },
};

START_TEST(test_round_trip_full)
{
	cxtp_message_t *message;

	message = build_full(variants[_i].type, variants[_i].family);
	assert_round_trip(message);
	message->destroy(message);
}
END_TEST

START_TEST(test_round_trip_empty)
{
	cxtp_message_t *message;
	chunk_t key = chunk_from_chars(0x42);
	host_t *ar;

	/* the minimal message of each type, with flags cleared */
	message = create(variants[_i].type, variants[_i].family);
	switch (variants[_i].type)
	{
		case CXTP_CTAR:
			ar = address(variants[_i].family, 1);
			ck_assert(message->set_ar_address(message, ar));
			ar->destroy(ar);
			break;
		case CXTP_PCTD:
			ck_assert(message->set_key(message, key));
			break;
		default:
			break;
	}
	assert_round_trip(message);
	message->destroy(message);
}
END_TEST

START_TEST(test_round_trip_flags)
{
	cxtp_message_t *message, *parsed;
	chunk_t encoding;
	uint8_t expected = variants[_i].family == AF_INET ? 0x80 : 0x00;
	host_t *ar;

	/* A and S share a bit, so each must appear only where it belongs, as
	 * must T */
	message = create(variants[_i].type, variants[_i].family);
	message->set_ack(message, TRUE);
	message->set_success(message, TRUE);
	message->set_takeover(message, TRUE);
	switch (variants[_i].type)
	{
		case CXTP_CTAR:
			ar = address(variants[_i].family, 1);
			ck_assert(message->set_ar_address(message, ar));
			ar->destroy(ar);
			/* fall-through */
		case CXTP_CTREQ:
			/* a CT-Req's is the CTAR's, which the token covers */
		case CXTP_CTD:
			expected |= 0x40;
			break;
		case CXTP_PCTD:
			ck_assert(message->set_key(message, chunk_from_chars(0x01)));
			expected |= 0x40 | 0x02;
			break;
		case CXTP_CTDR:
			expected |= 0x40;
			break;
		default:
			break;
	}
	encoding = message->encode(message);
	ck_assert_int_eq(encoding.ptr[0], 0x20 | variants[_i].type);
	ck_assert_int_eq(encoding.ptr[1], expected);
	parsed = parse_exact(encoding);
	ck_assert(parsed);
	ck_assert(parsed->get_ack(parsed) ==
			 (variants[_i].type == CXTP_CTAR || variants[_i].type == CXTP_CTD ||
			  variants[_i].type == CXTP_PCTD ||
			  variants[_i].type == CXTP_CTREQ));
	ck_assert(parsed->get_success(parsed) ==
			 (variants[_i].type == CXTP_CTDR));
	ck_assert(parsed->get_takeover(parsed) ==
			 (variants[_i].type == CXTP_PCTD));
	parsed->destroy(parsed);
	chunk_clear(&encoding);
	message->destroy(message);
}
END_TEST

START_TEST(test_ctd_without_key)
{
	cxtp_message_t *message;
	chunk_t encoding;

	message = create(CXTP_CTD, AF_INET6);
	ck_assert(message->add_cdb(message, CXTP_FPT_IKE_SA, chunk_from_str("x")));
	encoding = message->encode(message);
	/* no K flag, and the CDB directly follows the address */
	ck_assert_int_eq(encoding.ptr[1], 0x00);
	ck_assert_int_eq(untoh16(encoding.ptr + 24), CXTP_FPT_IKE_SA);
	chunk_clear(&encoding);
	assert_round_trip(message);
	message->destroy(message);
}
END_TEST

START_TEST(test_key_lengths)
{
	cxtp_message_t *message;
	chunk_t key;

	key = pattern(CXTP_KEY_MAX_LEN, 9);
	message = create(CXTP_PCTD, AF_INET);
	ck_assert(message->set_key(message, key));
	assert_round_trip(message);
	ck_assert(message->set_key(message, chunk_create(key.ptr, 1)));
	assert_round_trip(message);
	ck_assert(message->set_key(message, chunk_create(key.ptr, 63)));
	assert_round_trip(message);
	message->destroy(message);
	chunk_free(&key);
}
END_TEST

/**
 * Data sizes around the limits of a single wire CDB
 */
static size_t split_sizes[] = {
	0, 1, 2031, 2032, 2033, 2035, 2036, 2037, 4068, 4072, 5000, 65000,
};

START_TEST(test_split_join)
{
	cxtp_message_t *message, *parsed;
	enumerator_t *enumerator;
	cxtp_cdb_t *cdb;
	chunk_t data, encoding;
	size_t len, pos;
	bool presence;
	int wires = 0;
	uint8_t words, flags;

	len = split_sizes[_i / 2];
	presence = _i % 2;
	data = pattern(len, _i);
	message = create(CXTP_CTD, AF_INET6);
	if (presence)
	{
		ck_assert(message->add_cdb_presence(message, CXTP_FPT_CHILD_SA,
											0xdeadbeef, data));
	}
	else
	{
		ck_assert(message->add_cdb(message, CXTP_FPT_CHILD_SA, data));
	}
	encoding = message->encode(message);
	ck_assert(encoding.len);
	message->destroy(message);

	/* walk the wire CDBs independently of the parser */
	pos = 4 + 4 + 16;
	while (pos < encoding.len)
	{
		ck_assert(pos + 4 <= encoding.len);
		ck_assert_int_eq(untoh16(encoding.ptr + pos), CXTP_FPT_CHILD_SA);
		words = encoding.ptr[pos + 2];
		flags = encoding.ptr[pos + 3];
		ck_assert(words > 0);
		ck_assert_int_eq(flags & 0x3f, 0);
		ck_assert((flags & 0x80) == ((wires == 0 && presence) ? 0x80 : 0));
		pos += words * 8;
		ck_assert(pos <= encoding.len);
		if (pos < encoding.len)
		{	/* all but the last are continued and full */
			ck_assert_int_eq(flags & 0x40, 0x40);
			ck_assert_int_eq(words, 255);
		}
		else
		{
			ck_assert_int_eq(flags & 0x40, 0);
		}
		wires++;
	}
	ck_assert_int_eq(wires, (4 + len + (presence ? 4 : 0) + WIRE_CDB_ROOM - 1) /
							WIRE_CDB_ROOM);

	parsed = parse_exact(encoding);
	ck_assert(parsed);
	enumerator = parsed->create_cdb_enumerator(parsed);
	ck_assert(enumerator->enumerate(enumerator, &cdb));
	ck_assert_int_eq(cdb->fpt, CXTP_FPT_CHILD_SA);
	ck_assert_chunk_eq(cdb->data, data);
	ck_assert(cdb->has_presence == presence);
	ck_assert_int_eq(cdb->presence, presence ? 0xdeadbeef : 0);
	ck_assert(!enumerator->enumerate(enumerator, &cdb));
	enumerator->destroy(enumerator);
	parsed->destroy(parsed);
	chunk_clear(&encoding);
	chunk_free(&data);
}
END_TEST

START_TEST(test_split_multiple)
{
	cxtp_message_t *message;
	chunk_t data;

	/* split blocks next to others, some of the same FPT */
	message = create(CXTP_PCTD, AF_INET);
	ck_assert(message->set_key(message, chunk_from_str("secret")));
	data = pattern(5000, 1);
	ck_assert(message->add_cdb_presence(message, CXTP_FPT_IKE_SA, 1, data));
	chunk_free(&data);
	data = pattern(10, 2);
	ck_assert(message->add_cdb(message, CXTP_FPT_CHILD_SA, data));
	chunk_free(&data);
	data = pattern(3000, 3);
	ck_assert(message->add_cdb(message, CXTP_FPT_CHILD_SA, data));
	chunk_free(&data);
	data = pattern(2036, 4);
	ck_assert(message->add_cdb(message, CXTP_FPT_CHILD_SA, data));
	chunk_free(&data);
	ck_assert(message->add_cdb(message, CXTP_FPT_PAD, chunk_empty));
	assert_round_trip(message);
	message->destroy(message);
}
END_TEST

START_TEST(test_presence)
{
	cxtp_message_t *message;
	chunk_t encoding;

	message = create(CXTP_CTD, AF_INET);
	ck_assert(message->add_cdb_presence(message, CXTP_FPT_IKE_SA, 0,
										chunk_empty));
	ck_assert(message->add_cdb_presence(message, CXTP_FPT_CHILD_SA,
										0xffffffff, chunk_from_str("a")));
	ck_assert(message->add_cdb_presence(message, CXTP_FPT_CHILD_SA,
										0x80000001, chunk_from_str("abcd")));
	ck_assert(message->add_cdb(message, CXTP_FPT_PAD, chunk_from_str("x")));
	encoding = message->encode(message);
	/* IKE SA: header, presence and framing, one word, P set */
	ck_assert_chunk_eq(chunk_create(encoding.ptr + 12, 16), chunk_from_chars(
						0xff,0x01,0x02,0x80, 0x00,0x00,0x00,0x00,
						0x00,0x00,0x00,0x00, 0x00,0x00,0x00,0x00));
	chunk_clear(&encoding);
	assert_round_trip(message);
	message->destroy(message);
}
END_TEST

START_TEST(test_status_lists)
{
	cxtp_message_t *message;
	enumerator_t *enumerator;
	cxtp_status_t *status;
	chunk_t encoding;
	int i;

	message = create(variants[_i].type, variants[_i].family);
	for (i = 0; i < 300; i++)
	{
		ck_assert(message->add_status(message, 0x1000 + i, i));
	}
	encoding = message->encode(message);
	ck_assert_int_eq(encoding.len,
					 4 + (variants[_i].family == AF_INET ? 4 : 16) + 300 * 4);
	chunk_clear(&encoding);
	assert_round_trip(message);

	enumerator = message->create_status_enumerator(message);
	for (i = 0; enumerator->enumerate(enumerator, &status); i++)
	{
		ck_assert_int_eq(status->fpt, 0x1000 + i);
		ck_assert_int_eq(status->status, i & 0xff);
	}
	ck_assert_int_eq(i, 300);
	enumerator->destroy(enumerator);
	message->destroy(message);
}
END_TEST

START_TEST(test_cdb_bytes)
{
	cxtp_message_t *message, *parsed;
	chunk_t cdbs, encoding;

	/* the CDBs the token covers are the tail of the message */
	message = build_known(_i);
	encoding = message->encode(message);
	cdbs = message->get_cdb_bytes(message);
	ck_assert(cdbs.len <= encoding.len);
	ck_assert_chunk_eq(cdbs, chunk_skip(encoding, encoding.len - cdbs.len));
	parsed = parse_exact(encoding);
	chunk_clear(&encoding);
	ck_assert(parsed);
	encoding = parsed->get_cdb_bytes(parsed);
	ck_assert_chunk_eq(cdbs, encoding);
	chunk_clear(&encoding);
	chunk_clear(&cdbs);
	parsed->destroy(parsed);
	message->destroy(message);
}
END_TEST

START_TEST(test_api_create)
{
	cxtp_message_t *message;
	host_t *mn;

	mn = host_create_from_string("192.0.2.1", 500);
	ck_assert(!cxtp_message_create(0, mn));
	ck_assert(!cxtp_message_create(CXTP_CTREQ + 1, mn));
	ck_assert(!cxtp_message_create(CXTP_CTC, NULL));
	message = cxtp_message_create(CXTP_CTC, mn);
	ck_assert(message);
	/* CXTP carries no ports */
	ck_assert_int_eq(message->get_mn_address(message)->get_port(
									message->get_mn_address(message)), 0);
	ck_assert(message->get_mn_address(message)->ip_equals(
									message->get_mn_address(message), mn));
	message->destroy(message);
	mn->destroy(mn);
}
END_TEST

START_TEST(test_api_addresses)
{
	cxtp_message_t *message;
	host_t *v4, *v6;

	v4 = address(AF_INET, 1);
	v6 = address(AF_INET6, 1);
	message = create(CXTP_CTAR, AF_INET);
	ck_assert(!message->set_ar_address(message, v6));
	ck_assert(!message->set_ar_address(message, NULL));
	ck_assert(!message->get_ar_address(message));
	ck_assert(message->set_ar_address(message, v4));
	ck_assert(message->set_ar_address(message, v4));
	message->destroy(message);

	message = create(CXTP_CTAR, AF_INET6);
	ck_assert(!message->set_ar_address(message, v4));
	message->destroy(message);

	/* a CT-Req carries the CTAR's for pAR to verify its token */
	message = create(CXTP_CTREQ, AF_INET);
	ck_assert(message->set_ar_address(message, v4));
	message->destroy(message);

	message = create(CXTP_CTAA, AF_INET);
	ck_assert(!message->set_ar_address(message, v4));
	message->destroy(message);
	v4->destroy(v4);
	v6->destroy(v6);
}
END_TEST

START_TEST(test_api_key)
{
	cxtp_message_t *message;
	chunk_t key;

	key = pattern(CXTP_KEY_MAX_LEN + 1, 0);
	message = create(CXTP_CTD, AF_INET);
	ck_assert(!message->set_key(message, chunk_empty));
	ck_assert(!message->set_key(message, key));
	ck_assert(message->set_key(message, chunk_create(key.ptr, 16)));
	ck_assert(message->set_key(message, chunk_create(key.ptr, 64)));
	ck_assert_chunk_eq(message->get_key(message), chunk_create(key.ptr, 64));
	message->destroy(message);

	message = create(CXTP_CTAR, AF_INET);
	ck_assert(!message->set_key(message, chunk_create(key.ptr, 16)));
	message->destroy(message);
	chunk_free(&key);
}
END_TEST

START_TEST(test_api_blocks)
{
	cxtp_message_t *message;
	chunk_t data;

	message = create(CXTP_CTAR, AF_INET);
	ck_assert(!message->add_cdb(message, CXTP_FPT_IKE_SA, chunk_from_str("x")));
	ck_assert(!message->add_cdb_presence(message, CXTP_FPT_IKE_SA, 1,
										 chunk_empty));
	ck_assert(!message->add_status(message, CXTP_FPT_IKE_SA, 0));
	message->destroy(message);

	message = create(CXTP_CTAA, AF_INET);
	ck_assert(!message->add_cdb(message, CXTP_FPT_IKE_SA, chunk_empty));
	message->destroy(message);

	message = create(CXTP_CTC, AF_INET);
	ck_assert(!message->add_cdb(message, CXTP_FPT_IKE_SA, chunk_empty));
	ck_assert(!message->add_status(message, CXTP_FPT_IKE_SA, 0));
	message->destroy(message);

	message = create(CXTP_CTD, AF_INET);
	ck_assert(!message->add_status(message, CXTP_FPT_IKE_SA, 0));
	data = pattern(CXTP_CDB_MAX_DATA + 1, 0);
	ck_assert(!message->add_cdb(message, CXTP_FPT_IKE_SA, data));
	ck_assert(message->add_cdb(message, CXTP_FPT_IKE_SA,
							   chunk_create(data.ptr, CXTP_CDB_MAX_DATA)));
	/* that alone exceeds the 16-bit message Length */
	ck_assert(!message->encode(message).ptr);
	message->destroy(message);
	chunk_free(&data);
}
END_TEST

START_TEST(test_api_encode_incomplete)
{
	cxtp_message_t *message;
	chunk_t data, encoding;

	message = create(CXTP_CTAR, AF_INET);
	ck_assert(!message->encode(message).ptr);
	message->destroy(message);

	message = create(CXTP_PCTD, AF_INET);
	ck_assert(!message->encode(message).ptr);
	message->destroy(message);

	/* 65535 octets at most in total */
	message = create(CXTP_CTD, AF_INET);
	data = pattern(40000, 0);
	ck_assert(message->add_cdb(message, CXTP_FPT_IKE_SA, data));
	encoding = message->encode(message);
	ck_assert(encoding.ptr);
	chunk_free(&encoding);
	ck_assert(message->add_cdb(message, CXTP_FPT_CHILD_SA, data));
	ck_assert(!message->encode(message).ptr);
	message->destroy(message);
	chunk_free(&data);
}
END_TEST

/**
 * Debug messages of level 1 while capturing
 */
static char last_log[512];
static int log_count;

/**
 * dbg() hook to capture the parser's log messages
 */
static void capture_dbg(debug_t group, level_t level, char *fmt, ...)
{
	va_list args;

	if (level <= 1)
	{
		log_count++;
		va_start(args, fmt);
		vsnprintf(last_log, sizeof(last_log), fmt, args);
		va_end(args);
	}
}

/**
 * Parse an encoding, capturing log messages
 */
static cxtp_message_t *parse_logged(chunk_t data)
{
	void (*saved)(debug_t, level_t, char*, ...);
	cxtp_message_t *message;

	last_log[0] = '\0';
	log_count = 0;
	saved = dbg;
	dbg = capture_dbg;
	message = parse_exact(data);
	dbg = saved;
	return message;
}

/**
 * Assert that parsing rejects an encoding with one log message containing
 * the given text, and free the encoding
 */
static void reject(chunk_t data, char *expected)
{
	cxtp_message_t *message;

	message = parse_logged(data);
	chunk_free(&data);
	if (message)
	{
		message->destroy(message);
		fail("invalid encoding accepted, expected '%s'", expected);
	}
	ck_assert_int_eq(log_count, 1);
	ck_assert_msg(strstr(last_log, expected), "'%s' does not contain '%s'",
				  last_log, expected);
	ck_assert_msg(strpfx(last_log, "CXTP: "), "'%s'", last_log);
}

/**
 * Copy an encoding, resized to len octets (zero extended), and set its Length
 * field accordingly
 */
static chunk_t resized(chunk_t base, size_t len)
{
	chunk_t copy;

	copy = chunk_alloc(len);
	memset(copy.ptr, 0, len);
	memcpy(copy.ptr, base.ptr, min(len, base.len));
	if (len >= 4)
	{
		htoun16(copy.ptr + 2, len);
	}
	return copy;
}

/**
 * Copy an encoding unchanged
 */
static chunk_t copied(chunk_t base)
{
	return resized(base, base.len);
}

START_TEST(test_reject_sanity)
{
	cxtp_message_t *message;

	/* the encodings corrupted below are valid as they are */
	message = parse_logged(get_known(_i));
	ck_assert(message);
	ck_assert_int_eq(log_count, 0);
	message->destroy(message);
}
END_TEST

START_TEST(test_reject_short)
{
	int len;

	for (len = 0; len < 4; len++)
	{
		reject(resized(ctc_v6, len), "shorter than the header");
	}
}
END_TEST

START_TEST(test_reject_version)
{
	chunk_t data;
	uint8_t versions[] = { 0, 2, 7 };
	int i;

	for (i = 0; i < countof(versions); i++)
	{
		data = copied(ctc_v6);
		data.ptr[0] = (versions[i] << 5) | CXTP_CTC;
		reject(data, "unsupported version");
	}
}
END_TEST

START_TEST(test_reject_type)
{
	chunk_t data;
	uint8_t types[] = { 0, 8, 31 };
	int i;

	for (i = 0; i < countof(types); i++)
	{
		data = copied(ctc_v6);
		data.ptr[0] = 0x20 | types[i];
		reject(data, "unknown type");
	}
}
END_TEST

START_TEST(test_reject_length)
{
	chunk_t data;

	data = copied(ctc_v6);
	htoun16(data.ptr + 2, ctc_v6.len + 1);
	reject(data, "CTC Length field says 21 octets, but 20");
	data = copied(ctc_v6);
	htoun16(data.ptr + 2, ctc_v6.len - 1);
	reject(data, "CTC Length field says 19 octets, but 20");
	/* trailing octet, Length unchanged */
	data = resized(ctc_v6, ctc_v6.len + 1);
	htoun16(data.ptr + 2, ctc_v6.len);
	reject(data, "CTC Length field");
	/* truncated, Length unchanged */
	data = resized(ctd_v4, ctd_v4.len - 8);
	htoun16(data.ptr + 2, ctd_v4.len);
	reject(data, "CTD Length field");
}
END_TEST

START_TEST(test_reject_address)
{
	/* V clear, so a 16 octet address is expected */
	reject(resized(ctc_v6, 4 + 15), "CTC truncated in the MN's previous");
	reject(resized(ctdr_v6, 4 + 8), "CTDR truncated in the MN's previous");
	reject(resized(ctar_v4, 4 + 4 + 3), "CTAR truncated in the access router");
	reject(resized(ctaa_v4, 4 + 2), "CTAA truncated in the MN's previous");
	reject(resized(ctd_v4, 4 + 4 + 2), "CTD truncated in the MN's previous");
	reject(resized(ctd_v4, 4 + 2), "CTD truncated in the elapsed time");
}
END_TEST

START_TEST(test_reject_sequence_token)
{
	reject(resized(ctar_v4, 12), "CTAR truncated in the sequence");
	reject(resized(ctar_v4, 14), "CTAR truncated in the sequence");
	reject(resized(ctar_v4, 16), "CTAR truncated in the sequence");
	reject(resized(ctar_v4, 19), "CTAR truncated in the sequence");
	reject(resized(ctreq_v4, 8), "CT-Req truncated in the sequence");
	reject(resized(ctreq_v4, 12), "CT-Req truncated in the sequence");
}
END_TEST

START_TEST(test_reject_cdb_header)
{
	reject(resized(ctar_v4, 22), "CTAR truncated in a request CDB");
	reject(resized(ctar_v4, 31), "CTAR truncated in a request CDB");
	reject(resized(ctreq_v4, 18), "CT-Req truncated in a request CDB");
	reject(resized(ctd_v4, 26), "CTD truncated in a CDB header");
	reject(resized(ctd_v4, 43), "CTD truncated in a CDB header");
	reject(resized(pctd_v4, 22), "PCTD truncated in a CDB header");
}
END_TEST

START_TEST(test_reject_cdb_length)
{
	chunk_t data;

	data = copied(ctd_v4);
	data.ptr[26] = 0;
	reject(data, "CTD CDB for FPT 0xff01 has Length 0");
	data = copied(ctd_v4);
	data.ptr[42] = 0;
	reject(data, "CTD CDB for FPT 0xff02 has Length 0");
	data = copied(pctd_v4);
	data.ptr[22] = 0;
	reject(data, "PCTD CDB for FPT 0xff03 has Length 0");
}
END_TEST

START_TEST(test_reject_cdb_overrun)
{
	chunk_t data;

	data = copied(ctd_v4);
	data.ptr[26] = 4;
	reject(data, "CTD CDB for FPT 0xff01 of 32 octets overruns");
	data = copied(ctd_v4);
	data.ptr[26] = 255;
	reject(data, "CTD CDB for FPT 0xff01 of 2040 octets overruns");
	data = copied(ctd_v4);
	data.ptr[42] = 2;
	reject(data, "CTD CDB for FPT 0xff02 of 16 octets overruns");
	/* the CDB without its last word */
	reject(resized(ctd_v4, 39), "CTD CDB for FPT 0xff01 of 16 octets overruns");
}
END_TEST

START_TEST(test_reject_continued)
{
	chunk_t data;

	data = copied(ctd_v4);
	data.ptr[27] |= 0x40;
	reject(data, "CTD continued CDB for FPT 0xff01 is followed by FPT 0xff02");
	data = copied(ctd_v4);
	data.ptr[43] |= 0x40;
	reject(data, "CTD continued CDB for FPT 0xff02 is the last one");
	data = copied(pctd_v4);
	data.ptr[23] |= 0x40;
	reject(data, "PCTD continued CDB for FPT 0xff03 is the last one");
}
END_TEST

START_TEST(test_reject_presence)
{
	cxtp_message_t *message;
	chunk_t data, encoding;

	/* with a presence vector, one word leaves no room for the data length */
	data = copied(ctd_v4);
	data.ptr[43] |= 0x80;
	reject(data, "CTD CDB for FPT 0xff02 leaves no room for the data length");

	/* only the first of continued CDBs may have one */
	message = create(CXTP_CTD, AF_INET);
	data = pattern(3000, 0);
	ck_assert(message->add_cdb_presence(message, CXTP_FPT_IKE_SA, 1, data));
	chunk_free(&data);
	encoding = message->encode(message);
	message->destroy(message);
	ck_assert_int_eq(encoding.ptr[12 + 3], 0xc0);
	ck_assert_int_eq(encoding.ptr[12 + WIRE_CDB_MAX + 3], 0x00);
	encoding.ptr[12 + WIRE_CDB_MAX + 3] = 0x80;
	reject(encoding, "CTD continued CDB for FPT 0xff01 repeats the presence");
}
END_TEST

START_TEST(test_reject_key_algorithm)
{
	chunk_t data;

	data = copied(ctd_v4);
	data.ptr[13] = 2;
	reject(data, "CTD uses unsupported token algorithm 2");
	data = copied(pctd_v4);
	data.ptr[13] = 0;
	reject(data, "PCTD uses unsupported token algorithm 0");
	data = copied(pctd_v4);
	data.ptr[12] = 1;
	reject(data, "PCTD uses unsupported token algorithm 257");
}
END_TEST

START_TEST(test_reject_key_length)
{
	chunk_t data;

	data = copied(ctd_v4);
	data.ptr[15] = 0;
	reject(data, "CTD has invalid key length 0");
	data = copied(ctd_v4);
	data.ptr[15] = CXTP_KEY_MAX_LEN + 1;
	reject(data, "CTD has invalid key length 65");
	data = copied(pctd_v4);
	data.ptr[14] = 1;
	reject(data, "PCTD has invalid key length 260");
	data = copied(ctd_v4);
	data.ptr[15] = CXTP_KEY_MAX_LEN;
	reject(data, "CTD key of 64 octets overruns");
	/* the key's padding is missing */
	reject(resized(ctd_v4, 22), "CTD key of 5 octets overruns");
	/* PCTD and CTD with K flag need a key */
	reject(resized(pctd_v4, 12), "PCTD truncated in the key algorithm");
	reject(resized(ctd_v4, 14), "CTD truncated in the key algorithm");
}
END_TEST

START_TEST(test_reject_data_length)
{
	cxtp_message_t *message;
	chunk_t data;

	data = copied(ctd_v4);
	data.ptr[35] = 5;
	reject(data, "CTD CDB for FPT 0xff01 announces 5 octets of data but "
		   "carries 4");
	data = copied(ctd_v4);
	memset(data.ptr + 32, 0xff, 4);
	reject(data, "CTD CDB for FPT 0xff01 announces 4294967295 octets");
	data = copied(ctd_v4);
	data.ptr[47] = 1;
	reject(data, "CTD CDB for FPT 0xff02 announces 1 octets of data but "
		   "carries 0");

	/* padding of a word or more means the Length is wrong */
	message = create(CXTP_CTD, AF_INET);
	ck_assert(message->add_cdb(message, CXTP_FPT_PAD,
							   chunk_from_str("123456789")));
	data = message->encode(message);
	message->destroy(message);
	ck_assert_int_eq(data.ptr[12 + 2], 3);
	data.ptr[12 + 7] = 1;
	reject(data, "CTD CDB for FPT 0xff03 announces 1 octets of data but its "
		   "Length leaves 15 octets of padding");
}
END_TEST

START_TEST(test_reject_status)
{
	chunk_t data;

	reject(resized(ctaa_v4, 14), "CTAA truncated in a status entry");
	reject(resized(ctaa_v4, 17), "CTAA truncated in a status entry");
	reject(resized(ctdr_v6, 23), "CTDR truncated in a status entry");
	reject(resized(ctdr_v6, 26), "CTDR truncated in a status entry");
	/* a CTC has no entries at all */
	data = resized(ctc_v6, ctc_v6.len + 4);
	reject(data, "CTC has 4 unexpected octets");
}
END_TEST

START_TEST(test_reject_request_length)
{
	chunk_t data;

	data = copied(ctar_v4);
	data.ptr[22] = 1;
	reject(data, "CTAR request CDB for FPT 0xff01 has Length 1, expected 0");
	data = copied(ctar_v4);
	data.ptr[30] = 255;
	reject(data, "CTAR request CDB for FPT 0xff03 has Length 255");
	data = copied(ctreq_v4);
	data.ptr[18] = 2;
	reject(data, "CT-Req request CDB for FPT 0xff01 has Length 2");
}
END_TEST

START_TEST(test_ctreq_binding)
{
	cxtp_message_t *message, *parsed;
	host_t *par, *src, *dst;
	chunk_t encoding, data;

	par = address(AF_INET, 1);
	src = host_create_from_string("2001:db8:2::10", 0);
	dst = host_create_from_string("2001:db8:2::1", 0);
	message = create(CXTP_CTREQ, AF_INET);
	message->set_sequence(message, 7);
	message->set_token(message, 0x01020304);
	/* the CTAR's addresses go with its access router field only */
	ck_assert(message->set_ctar_addresses(message, src, dst));
	ck_assert(message->set_ar_address(message, par));
	encoding = message->encode(message);
	message->destroy(message);
	/* B flag; previous address, AR, lengths, source, destination */
	ck_assert_int_eq(encoding.ptr[1], 0x88);
	ck_assert_int_eq(encoding.len, 4 + 4 + 4 + 4 + 16 + 16 + 8);
	ck_assert_int_eq(encoding.ptr[12], 16);
	ck_assert_int_eq(encoding.ptr[13], 16);
	parsed = parse_exact(encoding);
	ck_assert(parsed);
	ck_assert(parsed->get_ar_address(parsed)->ip_equals(
								parsed->get_ar_address(parsed), par));
	ck_assert(parsed->get_ctar_source(parsed)->ip_equals(
								parsed->get_ctar_source(parsed), src));
	ck_assert(parsed->get_ctar_destination(parsed)->ip_equals(
								parsed->get_ctar_destination(parsed), dst));
	ck_assert_int_eq(parsed->get_sequence(parsed), 7);
	ck_assert_int_eq(parsed->get_token(parsed), 0x01020304);
	parsed->destroy(parsed);

	/* an address length other than 4 or 16 */
	data = copied(encoding);
	data.ptr[12] = 5;
	reject(data, "CT-Req has a CTAR's source address of invalid length 5");
	/* addresses that overrun the message */
	data = resized(encoding, 4 + 4 + 4 + 4 + 16 + 8);
	reject(data, "CT-Req truncated in the CTAR's destination address");
	chunk_free(&encoding);

	/* only a CT-Req carries them */
	message = create(CXTP_CTAR, AF_INET);
	ck_assert(!message->set_ctar_addresses(message, src, dst));
	message->destroy(message);
	par->destroy(par);
	src->destroy(src);
	dst->destroy(dst);
}
END_TEST

START_TEST(test_ctreq_ike_request)
{
	cxtp_message_t *message, *parsed;
	chunk_t encoding, data, ike, big;
	host_t *par, *src, *dst;

	ike = chunk_from_chars(0x01,0x02,0x03,0x04,0x05,0x06,0x07,0x08,0x09);
	message = create(CXTP_CTREQ, AF_INET);
	ck_assert(message->set_ike_request(message, ike));
	encoding = message->encode(message);
	message->destroy(message);
	/* I flag; previous address, length, reserved, request padded to 12,
	 * zero sequence number and token */
	ck_assert_int_eq(encoding.ptr[1], 0x84);
	ck_assert_int_eq(encoding.len, 4 + 4 + 4 + 12 + 8);
	ck_assert_int_eq(encoding.ptr[8], 0);
	ck_assert_int_eq(encoding.ptr[9], 9);
	parsed = parse_exact(encoding);
	ck_assert(parsed);
	ck_assert_chunk_eq(parsed->get_ike_request(parsed), ike);
	ck_assert(!parsed->get_ctar_source(parsed));
	ck_assert_int_eq(parsed->get_sequence(parsed), 0);
	ck_assert_int_eq(parsed->get_token(parsed), 0);
	parsed->destroy(parsed);

	/* a request that overruns the message */
	data = copied(encoding);
	data.ptr[9] = 40;
	reject(data, "CT-Req IKE request of 40 octets overruns the message");
	/* an empty one */
	data = copied(encoding);
	data.ptr[9] = 0;
	reject(data, "CT-Req carries an IKE request of 0 octets, expected 1 to "
		   "2048");
	/* never with the CTAR's addresses */
	data = copied(encoding);
	data.ptr[1] |= 0x08;
	reject(data, "CT-Req carries both a CTAR's addresses and an IKE request");
	chunk_free(&encoding);

	/* a CT-Req with the CTAR's addresses decodes as before: no request */
	par = address(AF_INET, 1);
	src = host_create_from_string("198.51.100.10", 0);
	dst = host_create_from_string("198.51.100.1", 0);
	message = create(CXTP_CTREQ, AF_INET);
	ck_assert(message->set_ctar_addresses(message, src, dst));
	ck_assert(message->set_ar_address(message, par));
	encoding = message->encode(message);
	message->destroy(message);
	ck_assert_int_eq(encoding.ptr[1], 0x88);
	parsed = parse_exact(encoding);
	ck_assert(parsed);
	ck_assert(!parsed->get_ike_request(parsed).len);
	parsed->destroy(parsed);
	chunk_free(&encoding);
	par->destroy(par);
	src->destroy(src);
	dst->destroy(dst);

	/* only a CT-Req carries one, of a bounded size */
	message = create(CXTP_CTAR, AF_INET);
	ck_assert(!message->set_ike_request(message, ike));
	message->destroy(message);
	big = chunk_alloca(CXTP_IKE_REQUEST_MAX + 1);
	memset(big.ptr, 0, big.len);
	message = create(CXTP_CTREQ, AF_INET);
	ck_assert(!message->set_ike_request(message, big));
	ck_assert(!message->set_ike_request(message, chunk_empty));
	message->destroy(message);
}
END_TEST

START_TEST(test_ignore_reserved)
{
	cxtp_message_t *message, *parsed;
	chunk_t data;

	/* reserved bits and octets are ignored, but zero when encoding */
	data = copied(ctaa_v4);
	/* all but V, and M which announces a MAC */
	data.ptr[1] |= 0x5f;
	data.ptr[11] = 0xff;
	data.ptr[15] = 0x01;
	parsed = parse_logged(data);
	chunk_free(&data);
	ck_assert(parsed);
	message = build_known(1);
	assert_messages_equal(message, parsed);
	data = parsed->encode(parsed);
	ck_assert_chunk_eq(data, ctaa_v4);
	chunk_free(&data);
	message->destroy(message);
	parsed->destroy(parsed);

	data = copied(ctd_v4);
	data.ptr[27] |= 0x3f;
	data.ptr[21] = 0xff;
	data.ptr[39] = 0xff;
	parsed = parse_logged(data);
	chunk_free(&data);
	ck_assert(parsed);
	message = build_known(2);
	assert_messages_equal(message, parsed);
	message->destroy(message);
	parsed->destroy(parsed);

	/* K is a CTD flag only */
	data = copied(pctd_v4);
	data.ptr[1] |= 0x20;
	parsed = parse_logged(data);
	chunk_free(&data);
	ck_assert(parsed);
	parsed->destroy(parsed);
}
END_TEST

START_TEST(test_pctd_takeover)
{
	cxtp_message_t *message, *parsed;
	chunk_t data, encoding;

	/* a PCTD from before the T flag asks for no takeover */
	parsed = parse_logged(pctd_v4);
	ck_assert(parsed);
	ck_assert(!parsed->get_takeover(parsed));
	parsed->destroy(parsed);

	/* with it, the same PCTD otherwise */
	data = copied(pctd_v4);
	data.ptr[1] |= 0x02;
	parsed = parse_logged(data);
	ck_assert(parsed);
	ck_assert(parsed->get_takeover(parsed));
	message = build_known(3);
	message->set_takeover(message, TRUE);
	assert_messages_equal(message, parsed);
	encoding = message->encode(message);
	ck_assert_chunk_eq(encoding, data);
	chunk_free(&encoding);
	chunk_free(&data);
	message->destroy(message);
	parsed->destroy(parsed);

	/* T is a PCTD flag only: a CTD with it is no takeover */
	data = copied(ctd_v4);
	data.ptr[1] |= 0x02;
	parsed = parse_logged(data);
	chunk_free(&data);
	ck_assert(parsed);
	ck_assert(!parsed->get_takeover(parsed));
	parsed->destroy(parsed);
}
END_TEST

/**
 * The transfer ID of ctdr_id_v4
 */
static cxtp_transfer_id_t known_id = {
	.serial = 256,
};

static void init_known_id(cxtp_transfer_id_t *id)
{
	uint8_t spi_i[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t spi_r[] = { 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18 };

	*id = known_id;
	memcpy(&id->spi_i, spi_i, sizeof(spi_i));
	memcpy(&id->spi_r, spi_r, sizeof(spi_r));
}

START_TEST(test_transfer_id_encoding)
{
	cxtp_message_t *message, *parsed;
	cxtp_transfer_id_t id, got;
	chunk_t encoding;

	init_known_id(&id);
	message = create(CXTP_CTDR, AF_INET);
	message->set_success(message, TRUE);
	ck_assert(message->set_transfer_id(message, &id));
	ck_assert(message->add_status(message, CXTP_FPT_IKE_SA,
								  CXTP_STATUS_CANCELLED));
	ck_assert(message->add_status(message, CXTP_FPT_CHILD_SA, 0));
	encoding = message->encode(message);
	ck_assert_chunk_eq(encoding, ctdr_id_v4);
	chunk_free(&encoding);

	parsed = parse_logged(ctdr_id_v4);
	ck_assert(parsed);
	assert_messages_equal(message, parsed);
	ck_assert(parsed->get_transfer_id(parsed, &got));
	ck_assert(got.spi_i == id.spi_i && got.spi_r == id.spi_r &&
			  got.serial == id.serial);
	message->destroy(message);
	parsed->destroy(parsed);
}
END_TEST

START_TEST(test_transfer_id_types)
{
	cxtp_message_type_t with[] = { CXTP_CTD, CXTP_PCTD, CXTP_CTDR, CXTP_CTC };
	cxtp_message_type_t without[] = { CXTP_CTAR, CXTP_CTAA, CXTP_CTREQ };
	cxtp_message_t *message;
	cxtp_transfer_id_t id, got;
	chunk_t key = chunk_from_chars(0x01, 0x02, 0x03, 0x04);
	int i;

	init_known_id(&id);
	for (i = 0; i < countof(with); i++)
	{
		message = create(with[i], i % 2 ? AF_INET : AF_INET6);
		ck_assert(!message->get_transfer_id(message, &got));
		ck_assert(message->set_transfer_id(message, &id));
		if (with[i] == CXTP_PCTD || with[i] == CXTP_CTD)
		{
			ck_assert(message->set_key(message, key));
			ck_assert(message->add_cdb(message, CXTP_FPT_IKE_SA, key));
		}
		assert_round_trip(message);
		message->destroy(message);
	}
	for (i = 0; i < countof(without); i++)
	{
		message = create(without[i], AF_INET);
		ck_assert(!message->set_transfer_id(message, &id));
		ck_assert(!message->get_transfer_id(message, &got));
		message->destroy(message);
	}
}
END_TEST

START_TEST(test_reject_transfer_id)
{
	chunk_t data;

	reject(resized(ctdr_id_v4, 4 + 4 + 19), "CTDR truncated in the transfer ID");
	/* a CTC with R set, but without the ID */
	data = resized(ctc_v6, ctc_v6.len);
	data.ptr[1] |= 0x10;
	reject(data, "CTC truncated in the transfer ID");
	data = copied(ctdr_id_v4);
	memset(data.ptr + 24, 0, 4);
	reject(data, "CTDR has a transfer ID with serial 0");
}
END_TEST

START_TEST(test_truncate)
{
	cxtp_message_t *message, *parsed;
	chunk_t encoding, prefix, again;
	size_t len;
	int accepted = 0;

	message = build_full(variants[_i].type, variants[_i].family);
	encoding = message->encode(message);
	message->destroy(message);
	ck_assert(encoding.len);

	for (len = 0; len < encoding.len; len++)
	{
		/* cut off, Length unchanged */
		prefix = chunk_clone(chunk_create(encoding.ptr, len));
		parsed = parse_logged(prefix);
		chunk_free(&prefix);
		ck_assert_msg(!parsed, "prefix of %zu accepted", len);
		ck_assert_int_eq(log_count, 1);

		/* cut off, Length matching, so the body parsers see the end */
		prefix = resized(encoding, len);
		parsed = parse_logged(prefix);
		if (parsed)
		{	/* at the end of an entry, that is a valid, shorter message */
			ck_assert_int_eq(log_count, 0);
			again = parsed->encode(parsed);
			ck_assert_chunk_eq(again, prefix);
			chunk_clear(&again);
			parsed->destroy(parsed);
			accepted++;
		}
		else
		{
			ck_assert_int_eq(log_count, 1);
		}
		chunk_clear(&prefix);
	}
	/* the entries before the last one, as build_full() adds three */
	switch (variants[_i].type)
	{
		case CXTP_CTAR:
		case CXTP_CTREQ:
		case CXTP_CTD:
		case CXTP_PCTD:
		case CXTP_CTAA:
		case CXTP_CTDR:
			ck_assert_int_eq(accepted, 3);
			break;
		case CXTP_CTC:
			ck_assert_int_eq(accepted, 0);
			break;
	}
	chunk_clear(&encoding);
}
END_TEST

Suite *message_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("cxtp message");

	tc = tcase_create("known encodings");
	tcase_add_loop_test(tc, test_known_encode, 0, 7);
	tcase_add_loop_test(tc, test_known_parse, 0, 7);
	tcase_add_loop_test(tc, test_cdb_bytes, 0, 7);
	suite_add_tcase(s, tc);

	tc = tcase_create("round trip");
	tcase_add_loop_test(tc, test_round_trip_full, 0, countof(variants));
	tcase_add_loop_test(tc, test_round_trip_empty, 0, countof(variants));
	tcase_add_loop_test(tc, test_round_trip_flags, 0, countof(variants));
	tcase_add_test(tc, test_ctd_without_key);
	tcase_add_test(tc, test_key_lengths);
	tcase_add_test(tc, test_presence);
	tcase_add_loop_test(tc, test_status_lists, 2, 4);
	tcase_add_loop_test(tc, test_status_lists, 8, 10);
	suite_add_tcase(s, tc);

	tc = tcase_create("split CDBs");
	tcase_add_loop_test(tc, test_split_join, 0, 2 * countof(split_sizes));
	tcase_add_test(tc, test_split_multiple);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("API");
	tcase_add_test(tc, test_api_create);
	tcase_add_test(tc, test_api_addresses);
	tcase_add_test(tc, test_api_key);
	tcase_add_test(tc, test_api_blocks);
	tcase_add_test(tc, test_api_encode_incomplete);
	suite_add_tcase(s, tc);

	tc = tcase_create("reject");
	tcase_add_loop_test(tc, test_reject_sanity, 0, 7);
	tcase_add_test(tc, test_reject_short);
	tcase_add_test(tc, test_reject_version);
	tcase_add_test(tc, test_reject_type);
	tcase_add_test(tc, test_reject_length);
	tcase_add_test(tc, test_reject_address);
	tcase_add_test(tc, test_reject_sequence_token);
	tcase_add_test(tc, test_reject_cdb_header);
	tcase_add_test(tc, test_reject_cdb_length);
	tcase_add_test(tc, test_reject_cdb_overrun);
	tcase_add_test(tc, test_reject_continued);
	tcase_add_test(tc, test_reject_presence);
	tcase_add_test(tc, test_reject_key_algorithm);
	tcase_add_test(tc, test_reject_key_length);
	tcase_add_test(tc, test_reject_data_length);
	tcase_add_test(tc, test_reject_status);
	tcase_add_test(tc, test_reject_request_length);
	tcase_add_test(tc, test_ctreq_binding);
	tcase_add_test(tc, test_ctreq_ike_request);
	tcase_add_test(tc, test_ignore_reserved);
	tcase_add_test(tc, test_pctd_takeover);
	suite_add_tcase(s, tc);

	tc = tcase_create("transfer ID");
	tcase_add_test(tc, test_transfer_id_encoding);
	tcase_add_test(tc, test_transfer_id_types);
	tcase_add_test(tc, test_reject_transfer_id);
	suite_add_tcase(s, tc);

	tc = tcase_create("truncate");
	tcase_add_loop_test(tc, test_truncate, 0, countof(variants));
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	return s;
}
