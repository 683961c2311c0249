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

#include <endian.h>

#include "../../cxtp_token.h"
#include "../../cxtp_message.h"

/**
 * Token key of the known-answer tests, 0x01..0x14
 */
static chunk_t token_key = chunk_from_chars(
	0x01,0x02,0x03,0x04,0x05,0x06,0x07,0x08,0x09,0x0a,
	0x0b,0x0c,0x0d,0x0e,0x0f,0x10,0x11,0x12,0x13,0x14);

/**
 * Request CDBs for IKE SA, CHILD SA and PAD, as a CTAR carries them
 */
static chunk_t token_cdbs = chunk_from_chars(
	0xff,0x01,0x00,0x00, 0xff,0x02,0x00,0x00, 0xff,0x03,0x00,0x00);

/**
 * The inputs of a token as strings, so each test changes one
 */
typedef struct {
	char *mn;
	char *ar;
	char *src;
	char *dst;
	bool ack;
	uint32_t sequence;
	chunk_t cdbs;
} input_t;

/**
 * The IPv4 inputs the known answer and the changes start from
 */
static input_t base_v4(void)
{
	return (input_t){
		.mn = "192.0.2.10",
		.ar = "198.51.100.1",
		.src = "192.0.2.10",
		.dst = "192.0.2.1",
		.ack = TRUE,
		.sequence = 0x12345678,
		.cdbs = token_cdbs,
	};
}

static host_t *host(char *address)
{
	host_t *host;

	host = host_create_from_string(address, 0);
	ck_assert(host);
	return host;
}

/**
 * Compute a token, failing the test if that is not possible
 */
static uint32_t compute(chunk_t key, input_t input)
{
	cxtp_token_input_t in = {
		.mn = host(input.mn),
		.ar = host(input.ar),
		.src = host(input.src),
		.dst = host(input.dst),
		.ack = input.ack,
		.sequence = input.sequence,
		.cdbs = input.cdbs,
	};
	uint32_t token;

	ck_assert(cxtp_token_compute(key, &in, &token));
	in.mn->destroy(in.mn);
	in.ar->destroy(in.ar);
	in.src->destroy(in.src);
	in.dst->destroy(in.dst);
	return token;
}

START_TEST(test_token_kat_v4)
{
	/* computed independently with Python:
	 *   hmac.new(bytes(range(1, 21)), b"CXTP token v2" + bytes([0x21, 0xc0])
	 *            + ip("192.0.2.10") + ip("198.51.100.1")
	 *            + struct.pack(">I", 0x12345678)
	 *            + b"\x04" + ip("192.0.2.10") + b"\x04" + ip("192.0.2.1")
	 *            + cdbs, hashlib.sha1)
	 *   = 0cea0910448916a536645f56c2cea7290b04f20c
	 * the token being its first 32 bits */
	ck_assert_int_eq(compute(token_key, base_v4()), 0x0cea0910);
}
END_TEST

START_TEST(test_token_kat_v6)
{
	input_t in = {
		.mn = "2001:db8::1",
		.ar = "2001:db8:1::1",
		.src = "2001:db8:2::10",
		.dst = "2001:db8:2::1",
		.sequence = 0xdeadbeef,
	};

	/* computed independently with Python, as above with flags 0x00, address
	 * lengths 0x10 and no request CDBs (all contexts requested):
	 *   = 67207e1a1cce6e1528cac0f036a7aa5303042aa3 */
	ck_assert_int_eq(compute(token_key, in), 0x67207e1a);
}
END_TEST

START_TEST(test_token_changes)
{
	input_t in;
	chunk_t key, cdbs;
	uint32_t base;

	base = compute(token_key, base_v4());

	key = chunk_clonea(token_key);
	key.ptr[key.len - 1] ^= 0x01;
	ck_assert(compute(key, base_v4()) != base);
	key.len--;
	ck_assert(compute(key, base_v4()) != base);

	/* RFC 4067's inputs */
	in = base_v4();
	in.mn = "192.0.2.11";
	ck_assert(compute(token_key, in) != base);
	in = base_v4();
	in.sequence++;
	ck_assert(compute(token_key, in) != base);
	cdbs = chunk_clonea(token_cdbs);
	cdbs.ptr[1] = 0x02;
	in = base_v4();
	in.cdbs = cdbs;
	ck_assert(compute(token_key, in) != base);
	in.cdbs = chunk_create(token_cdbs.ptr, 8);
	ck_assert(compute(token_key, in) != base);
	in.cdbs = chunk_empty;
	ck_assert(compute(token_key, in) != base);

	/* and everything else a router acts on */
	in = base_v4();
	in.ack = FALSE;
	ck_assert(compute(token_key, in) != base);
	in = base_v4();
	in.ar = "198.51.100.2";
	ck_assert(compute(token_key, in) != base);
	in = base_v4();
	in.src = "192.0.2.99";
	ck_assert(compute(token_key, in) != base);
	in = base_v4();
	in.dst = "192.0.2.2";
	ck_assert(compute(token_key, in) != base);
	/* source and destination are not interchangeable */
	in = base_v4();
	in.src = "192.0.2.1";
	in.dst = "192.0.2.10";
	ck_assert(compute(token_key, in) != base);
	/* nor is an IPv6 source of the same octets count the same */
	in = base_v4();
	in.src = "::c000:20a";
	ck_assert(compute(token_key, in) != base);

	ck_assert_int_eq(compute(token_key, base_v4()), base);
}
END_TEST

START_TEST(test_token_verify)
{
	input_t base = base_v4();
	cxtp_token_input_t in = {
		.mn = host(base.mn),
		.ar = host(base.ar),
		.src = host(base.src),
		.dst = host(base.dst),
		.ack = TRUE,
		.sequence = 42,
		.cdbs = token_cdbs,
	};
	host_t *dst;
	chunk_t key;
	uint32_t token;

	base.sequence = 42;
	token = compute(token_key, base);

	ck_assert(cxtp_token_verify(token_key, &in, token));
	ck_assert(!cxtp_token_verify(token_key, &in, token ^ 1));
	ck_assert(!cxtp_token_verify(token_key, &in, token ^ 0x80000000));
	ck_assert(!cxtp_token_verify(token_key, &in, 0));
	in.sequence = 43;
	ck_assert(!cxtp_token_verify(token_key, &in, token));
	in.sequence = 42;
	dst = in.dst;
	in.dst = in.src;
	ck_assert(!cxtp_token_verify(token_key, &in, token));
	in.dst = NULL;
	ck_assert(!cxtp_token_compute(token_key, &in, &token));
	in.dst = dst;

	key = chunk_clonea(token_key);
	key.ptr[0] ^= 0x80;
	ck_assert(!cxtp_token_verify(key, &in, token));
	ck_assert(!cxtp_token_verify(chunk_empty, &in, token));
	ck_assert(!cxtp_token_compute(chunk_empty, &in, &token));
	in.mn->destroy(in.mn);
	in.mn = NULL;
	ck_assert(!cxtp_token_compute(token_key, &in, &token));
	in.ar->destroy(in.ar);
	in.src->destroy(in.src);
	in.dst->destroy(in.dst);
}
END_TEST

START_TEST(test_token_messages)
{
	cxtp_message_t *ctar, *ctreq, *parsed;
	enumerator_t *enumerator;
	cxtp_cdb_t *cdb;
	host_t *mn, *par, *src, *dst;
	chunk_t encoding;
	input_t in = {
		.mn = "2001:db8::1",
		.ar = "2001:db8:1::1",
		.src = "2001:db8:2::10",
		.dst = "2001:db8:2::1",
		.ack = TRUE,
		.sequence = 0x0badcafe,
		.cdbs = chunk_create(token_cdbs.ptr, 8),
	};
	uint32_t token;

	/* the MN computes the token over its CTAR, sent from src to dst */
	mn = host(in.mn);
	par = host(in.ar);
	src = host(in.src);
	dst = host(in.dst);
	ctar = cxtp_message_create(CXTP_CTAR, mn);
	ck_assert(ctar->set_ar_address(ctar, par));
	ctar->set_sequence(ctar, 0x0badcafe);
	ctar->set_ack(ctar, TRUE);
	ck_assert(ctar->add_cdb(ctar, CXTP_FPT_IKE_SA, chunk_empty));
	ck_assert(ctar->add_cdb(ctar, CXTP_FPT_CHILD_SA, chunk_empty));
	token = compute(token_key, in);
	ck_assert(ctar->sign_token(ctar, token_key, src, dst));
	ck_assert_int_eq(ctar->get_token(ctar), token);
	ck_assert(!ctar->sign_token(ctar, chunk_empty, src, dst));
	ck_assert_int_eq(ctar->get_token(ctar), token);
	encoding = ctar->encode(ctar);
	ctar->destroy(ctar);

	/* nAR verifies it with the addresses it arrived with, only */
	parsed = cxtp_message_parse(encoding);
	chunk_free(&encoding);
	ck_assert(parsed);
	ck_assert(parsed->verify_token(parsed, token_key, src, dst));
	ck_assert(!parsed->verify_token(parsed, token_key, dst, src));
	ck_assert(!parsed->verify_token(parsed, token_key, mn, dst));
	ck_assert(!parsed->verify_token(parsed, chunk_empty, src, dst));

	/* and copies it into a CT-Req with what the token covers */
	ctreq = cxtp_message_create(CXTP_CTREQ, parsed->get_mn_address(parsed));
	ctreq->set_sequence(ctreq, parsed->get_sequence(parsed));
	ctreq->set_token(ctreq, parsed->get_token(parsed));
	ctreq->set_ack(ctreq, parsed->get_ack(parsed));
	ck_assert(ctreq->set_ar_address(ctreq, parsed->get_ar_address(parsed)));
	ck_assert(ctreq->set_ctar_addresses(ctreq, src, dst));
	enumerator = parsed->create_cdb_enumerator(parsed);
	while (enumerator->enumerate(enumerator, &cdb))
	{
		ck_assert(ctreq->add_cdb(ctreq, cdb->fpt, cdb->data));
	}
	enumerator->destroy(enumerator);
	parsed->destroy(parsed);
	encoding = ctreq->encode(ctreq);
	ctreq->destroy(ctreq);

	/* pAR verifies it with the CTAR's addresses the CT-Req carries */
	parsed = cxtp_message_parse(encoding);
	chunk_free(&encoding);
	ck_assert(parsed);
	ck_assert(parsed->get_ctar_source(parsed)->ip_equals(
										parsed->get_ctar_source(parsed), src));
	ck_assert(parsed->get_ctar_destination(parsed)->ip_equals(
								parsed->get_ctar_destination(parsed), dst));
	ck_assert(parsed->verify_token(parsed, token_key, NULL, NULL));
	ck_assert(!parsed->verify_token(parsed, token_key, dst, NULL));
	ck_assert(!parsed->verify_token(parsed, chunk_empty, NULL, NULL));
	parsed->set_ack(parsed, FALSE);
	ck_assert(!parsed->verify_token(parsed, token_key, NULL, NULL));
	parsed->set_ack(parsed, TRUE);
	parsed->set_sequence(parsed, 0x0badcaff);
	ck_assert(!parsed->verify_token(parsed, token_key, NULL, NULL));
	parsed->destroy(parsed);

	/* a CT-Req without the CTAR's addresses verifies nothing */
	ctreq = cxtp_message_create(CXTP_CTREQ, mn);
	ctreq->set_sequence(ctreq, 0x0badcafe);
	ctreq->set_token(ctreq, token);
	ck_assert(!ctreq->verify_token(ctreq, token_key, NULL, NULL));
	ctreq->destroy(ctreq);
	mn->destroy(mn);
	par->destroy(par);
	src->destroy(src);
	dst->destroy(dst);
}
END_TEST

START_TEST(test_ctaa_mac)
{
	cxtp_message_t *ctaa, *parsed;
	host_t *mn, *nar, *coa, *other;
	chunk_t encoding, key;

	mn = host("192.0.2.10");
	nar = host("198.51.100.1");
	coa = host("198.51.100.10");
	other = host("198.51.100.66");
	ctaa = cxtp_message_create(CXTP_CTAA, mn);
	ctaa->set_sequence(ctaa, 0x12345678);
	ck_assert(ctaa->sign_ctaa(ctaa, token_key, nar, coa));
	encoding = ctaa->encode(ctaa);
	ctaa->destroy(ctaa);
	/* header, address, sequence, then HMAC-SHA1-96 computed independently
	 * with Python over b"CXTP CTAA v1" + bytes([0x22, 0xa0]) + ip(mn)
	 * + sequence + b"\x04" + ip(nar) + b"\x04" + ip(coa) */
	ck_assert_chunk_eq(encoding, chunk_from_chars(
		0x22,0xa0,0x00,0x18, 0xc0,0x00,0x02,0x0a, 0x12,0x34,0x56,0x78,
		0x8e,0xf4,0x83,0xe7,0x70,0x09,0xfc,0x05,0xcc,0xf1,0x23,0x61));

	parsed = cxtp_message_parse(encoding);
	ck_assert(parsed);
	ck_assert(parsed->is_authenticated(parsed));
	ck_assert_int_eq(parsed->get_sequence(parsed), 0x12345678);
	ck_assert(parsed->verify_ctaa(parsed, token_key, nar, coa));
	/* from or to another address, or with another key */
	ck_assert(!parsed->verify_ctaa(parsed, token_key, other, coa));
	ck_assert(!parsed->verify_ctaa(parsed, token_key, nar, other));
	key = chunk_clonea(token_key);
	key.ptr[3] ^= 0x01;
	ck_assert(!parsed->verify_ctaa(parsed, key, nar, coa));
	/* for another CTAR, or with a status added */
	parsed->set_sequence(parsed, 0x12345679);
	ck_assert(!parsed->verify_ctaa(parsed, token_key, nar, coa));
	parsed->set_sequence(parsed, 0x12345678);
	ck_assert(parsed->add_status(parsed, CXTP_FPT_IKE_SA, 1));
	ck_assert(!parsed->verify_ctaa(parsed, token_key, nar, coa));
	parsed->destroy(parsed);

	/* a tampered MAC */
	encoding.ptr[encoding.len - 1] ^= 0x01;
	parsed = cxtp_message_parse(encoding);
	ck_assert(parsed);
	ck_assert(!parsed->verify_ctaa(parsed, token_key, nar, coa));
	parsed->destroy(parsed);
	chunk_free(&encoding);

	/* one without a MAC, as from a router without the key */
	ctaa = cxtp_message_create(CXTP_CTAA, mn);
	ck_assert(ctaa->add_status(ctaa, CXTP_FPT_IKE_SA, 1));
	encoding = ctaa->encode(ctaa);
	ctaa->destroy(ctaa);
	parsed = cxtp_message_parse(encoding);
	chunk_free(&encoding);
	ck_assert(parsed);
	ck_assert(!parsed->is_authenticated(parsed));
	ck_assert(!parsed->verify_ctaa(parsed, token_key, nar, coa));
	parsed->destroy(parsed);
	mn->destroy(mn);
	nar->destroy(nar);
	coa->destroy(coa);
	other->destroy(other);
}
END_TEST

/**
 * SK_d of the key derivation tests, 0xa0..0xbf
 */
static chunk_t sk_d = chunk_from_chars(
	0xa0,0xa1,0xa2,0xa3,0xa4,0xa5,0xa6,0xa7,0xa8,0xa9,0xaa,0xab,0xac,0xad,
	0xae,0xaf,0xb0,0xb1,0xb2,0xb3,0xb4,0xb5,0xb6,0xb7,0xb8,0xb9,0xba,0xbb,
	0xbc,0xbd,0xbe,0xbf);

/**
 * IKE SPIs of the key derivation tests, in network order
 */
#define SPI_I htobe64(0x0102030405060708)
#define SPI_R htobe64(0x1112131415161718)

/**
 * Derive a token key, failing the test if that is not possible
 */
static chunk_t derive(pseudo_random_function_t alg, chunk_t skd, uint64_t spi_i,
					  uint64_t spi_r, uint32_t transfer)
{
	chunk_t key;

	ck_assert(cxtp_token_derive_key(alg, skd, spi_i, spi_r, transfer, &key));
	ck_assert_int_eq(key.len, CXTP_TOKEN_KEY_LEN);
	return key;
}

START_TEST(test_derive_kat)
{
	/* prf+ yields T1 = prf(K, S | 0x01) first, which was computed with
	 *   { printf 'CXTP token key'; printf '\x01\x02\x03\x04\x05\x06\x07\x08'\
	 *     '\x11\x12\x13\x14\x15\x16\x17\x18\x00\x00\x00\x01\x01'; } |
	 *   openssl dgst -sha256 (or -sha1) -mac HMAC -macopt hexkey:a0a1...bf
	 * (and Python's hmac module), the key being its first 20 octets */
	chunk_t sha256 = chunk_from_chars(
		0xcd,0x5d,0x3b,0x97,0xd0,0x89,0x20,0x6d,0xfe,0xfa,
		0x8d,0x4b,0x32,0x5c,0xb8,0xc7,0xcc,0xb5,0xba,0xf5);
	chunk_t sha1 = chunk_from_chars(
		0xb8,0xbe,0x2d,0x20,0x6f,0x40,0xa4,0x4e,0xbf,0x1c,
		0x1d,0x06,0x30,0x56,0x5f,0xc0,0x2a,0xc6,0xc9,0x85);
	chunk_t key;

	key = derive(PRF_HMAC_SHA2_256, sk_d, SPI_I, SPI_R, 1);
	ck_assert_chunk_eq(key, sha256);
	chunk_clear(&key);
	key = derive(PRF_HMAC_SHA1, sk_d, SPI_I, SPI_R, 1);
	ck_assert_chunk_eq(key, sha1);
	chunk_clear(&key);
}
END_TEST

START_TEST(test_derive_same)
{
	chunk_t a, b;

	a = derive(PRF_HMAC_SHA2_256, sk_d, SPI_I, SPI_R, 7);
	b = derive(PRF_HMAC_SHA2_256, sk_d, SPI_I, SPI_R, 7);
	ck_assert_chunk_eq(a, b);
	chunk_clear(&a);
	chunk_clear(&b);
}
END_TEST

START_TEST(test_derive_differs)
{
	chunk_t base, key, skd;
	int i;
	struct {
		pseudo_random_function_t alg;
		uint64_t spi_i;
		uint64_t spi_r;
		uint32_t transfer;
		bool change_skd;
	} variants[] = {
		{ PRF_HMAC_SHA2_256, SPI_I, SPI_R, 2, FALSE },
		{ PRF_HMAC_SHA2_256, SPI_I, SPI_R, 0x01000001, FALSE },
		{ PRF_HMAC_SHA2_256, SPI_I ^ 1, SPI_R, 1, FALSE },
		{ PRF_HMAC_SHA2_256, SPI_I, SPI_R ^ 1, 1, FALSE },
		{ PRF_HMAC_SHA2_256, SPI_R, SPI_I, 1, FALSE },
		{ PRF_HMAC_SHA2_256, SPI_I, SPI_R, 1, TRUE },
		{ PRF_HMAC_SHA1, SPI_I, SPI_R, 1, FALSE },
	};

	base = derive(PRF_HMAC_SHA2_256, sk_d, SPI_I, SPI_R, 1);
	for (i = 0; i < countof(variants); i++)
	{
		skd = chunk_clonea(sk_d);
		if (variants[i].change_skd)
		{
			skd.ptr[5] ^= 0x10;
		}
		key = derive(variants[i].alg, skd, variants[i].spi_i,
					 variants[i].spi_r, variants[i].transfer);
		ck_assert_msg(!chunk_equals(key, base), "variant %d", i);
		chunk_clear(&key);
	}
	chunk_clear(&base);
}
END_TEST

START_TEST(test_derive_invalid)
{
	chunk_t key = chunk_empty;

	ck_assert(!cxtp_token_derive_key(PRF_HMAC_SHA2_256, chunk_empty, SPI_I,
									 SPI_R, 1, &key));
	ck_assert(!key.ptr);
}
END_TEST

Suite *token_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("cxtp token");

	tc = tcase_create("known answers");
	tcase_add_test(tc, test_token_kat_v4);
	tcase_add_test(tc, test_token_kat_v6);
	suite_add_tcase(s, tc);

	tc = tcase_create("inputs");
	tcase_add_test(tc, test_token_changes);
	suite_add_tcase(s, tc);

	tc = tcase_create("verify");
	tcase_add_test(tc, test_token_verify);
	tcase_add_test(tc, test_token_messages);
	tcase_add_test(tc, test_ctaa_mac);
	suite_add_tcase(s, tc);

	return s;
}

Suite *token_key_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("cxtp token key");

	tc = tcase_create("derive");
	tcase_add_test(tc, test_derive_kat);
	tcase_add_test(tc, test_derive_same);
	tcase_add_test(tc, test_derive_differs);
	tcase_add_test(tc, test_derive_invalid);
	suite_add_tcase(s, tc);

	return s;
}
