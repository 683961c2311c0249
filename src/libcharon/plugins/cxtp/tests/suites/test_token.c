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
 * Compute a token, failing the test if that is not possible
 */
static uint32_t compute(chunk_t key, char *address, uint32_t sequence,
						chunk_t cdbs)
{
	host_t *host;
	uint32_t token;

	host = host_create_from_string(address, 0);
	ck_assert(host);
	ck_assert(cxtp_token_compute(key, host, sequence, cdbs, &token));
	host->destroy(host);
	return token;
}

START_TEST(test_token_kat_v4)
{
	/* computed independently with
	 *   printf '\xc0\x00\x02\x01\x12\x34\x56\x78\xff\x01\x00\x00'\
	 *          '\xff\x02\x00\x00\xff\x03\x00\x00' | openssl dgst -sha1 -mac HMAC \
	 *     -macopt hexkey:0102030405060708090a0b0c0d0e0f1011121314
	 *   = 29d258dc24c2047b200b021520e16c910a7d062e
	 * (and with Python's hmac module), the token being its first 32 bits */
	ck_assert_int_eq(compute(token_key, "192.0.2.1", 0x12345678, token_cdbs),
					 0x29d258dc);
}
END_TEST

START_TEST(test_token_kat_v6)
{
	/* computed independently with Python:
	 *   hmac.new(bytes(range(1, 21)), ipaddress.ip_address("2001:db8::1")
	 *            .packed + struct.pack(">I", 0xdeadbeef), hashlib.sha1)
	 *   = 80170f3206ba810a4956ef711d0b2dad8a970bb2
	 * i.e. a CTAR without request CDBs (all contexts requested) */
	ck_assert_int_eq(compute(token_key, "2001:db8::1", 0xdeadbeef, chunk_empty),
					 0x80170f32);
}
END_TEST

START_TEST(test_token_changes)
{
	chunk_t key, cdbs;
	uint32_t base;

	base = compute(token_key, "192.0.2.1", 0x12345678, token_cdbs);

	key = chunk_clonea(token_key);
	key.ptr[key.len - 1] ^= 0x01;
	ck_assert(compute(key, "192.0.2.1", 0x12345678, token_cdbs) != base);
	key.len--;
	ck_assert(compute(key, "192.0.2.1", 0x12345678, token_cdbs) != base);

	ck_assert(compute(token_key, "192.0.2.2", 0x12345678, token_cdbs) != base);
	ck_assert(compute(token_key, "2001:db8::1", 0x12345678,
					  token_cdbs) != base);
	ck_assert(compute(token_key, "192.0.2.1", 0x12345679, token_cdbs) != base);

	cdbs = chunk_clonea(token_cdbs);
	cdbs.ptr[1] = 0x02;
	ck_assert(compute(token_key, "192.0.2.1", 0x12345678, cdbs) != base);
	cdbs = chunk_create(token_cdbs.ptr, 8);
	ck_assert(compute(token_key, "192.0.2.1", 0x12345678, cdbs) != base);
	ck_assert(compute(token_key, "192.0.2.1", 0x12345678, chunk_empty) != base);

	ck_assert_int_eq(compute(token_key, "192.0.2.1", 0x12345678, token_cdbs),
					 base);
}
END_TEST

START_TEST(test_token_verify)
{
	host_t *host;
	chunk_t key;
	uint32_t token;

	host = host_create_from_string("192.0.2.1", 0);
	token = compute(token_key, "192.0.2.1", 42, token_cdbs);

	ck_assert(cxtp_token_verify(token_key, host, 42, token_cdbs, token));
	ck_assert(!cxtp_token_verify(token_key, host, 42, token_cdbs, token ^ 1));
	ck_assert(!cxtp_token_verify(token_key, host, 42, token_cdbs,
								 token ^ 0x80000000));
	ck_assert(!cxtp_token_verify(token_key, host, 42, token_cdbs, 0));
	ck_assert(!cxtp_token_verify(token_key, host, 43, token_cdbs, token));
	ck_assert(!cxtp_token_verify(token_key, host, 42, chunk_empty, token));

	key = chunk_clonea(token_key);
	key.ptr[0] ^= 0x80;
	ck_assert(!cxtp_token_verify(key, host, 42, token_cdbs, token));
	ck_assert(!cxtp_token_verify(chunk_empty, host, 42, token_cdbs, token));
	ck_assert(!cxtp_token_compute(chunk_empty, host, 42, token_cdbs, &token));
	ck_assert(!cxtp_token_compute(token_key, NULL, 42, token_cdbs, &token));
	host->destroy(host);
}
END_TEST

START_TEST(test_token_messages)
{
	cxtp_message_t *ctar, *ctreq, *parsed;
	enumerator_t *enumerator;
	cxtp_cdb_t *cdb;
	host_t *mn, *par;
	chunk_t cdbs, encoding;
	uint32_t token;

	/* the MN computes the token over its CTAR's request CDBs */
	mn = host_create_from_string("2001:db8::1", 0);
	par = host_create_from_string("2001:db8:1::1", 0);
	ctar = cxtp_message_create(CXTP_CTAR, mn);
	ck_assert(ctar->set_ar_address(ctar, par));
	ctar->set_sequence(ctar, 0x0badcafe);
	ck_assert(ctar->add_cdb(ctar, CXTP_FPT_IKE_SA, chunk_empty));
	ck_assert(ctar->add_cdb(ctar, CXTP_FPT_CHILD_SA, chunk_empty));
	cdbs = ctar->get_cdb_bytes(ctar);
	ck_assert(cxtp_token_compute(token_key, mn, 0x0badcafe, cdbs, &token));
	chunk_free(&cdbs);
	/* as the message signs itself */
	ck_assert(ctar->sign_token(ctar, token_key));
	ck_assert_int_eq(ctar->get_token(ctar), token);
	ck_assert(!ctar->sign_token(ctar, chunk_empty));
	ck_assert_int_eq(ctar->get_token(ctar), token);
	encoding = ctar->encode(ctar);
	ctar->destroy(ctar);

	/* nAR copies the fields after the address verbatim into a CT-Req */
	parsed = cxtp_message_parse(encoding);
	chunk_free(&encoding);
	ck_assert(parsed);
	ctreq = cxtp_message_create(CXTP_CTREQ, parsed->get_mn_address(parsed));
	ctreq->set_sequence(ctreq, parsed->get_sequence(parsed));
	ctreq->set_token(ctreq, parsed->get_token(parsed));
	enumerator = parsed->create_cdb_enumerator(parsed);
	while (enumerator->enumerate(enumerator, &cdb))
	{
		ck_assert(ctreq->add_cdb(ctreq, cdb->fpt, cdb->data));
	}
	enumerator->destroy(enumerator);
	parsed->destroy(parsed);
	encoding = ctreq->encode(ctreq);
	ctreq->destroy(ctreq);

	/* and pAR verifies it */
	parsed = cxtp_message_parse(encoding);
	chunk_free(&encoding);
	ck_assert(parsed);
	cdbs = parsed->get_cdb_bytes(parsed);
	ck_assert(cxtp_token_verify(token_key, parsed->get_mn_address(parsed),
								parsed->get_sequence(parsed), cdbs,
								parsed->get_token(parsed)));
	ck_assert(!cxtp_token_verify(token_key, par, parsed->get_sequence(parsed),
								 cdbs, parsed->get_token(parsed)));
	chunk_free(&cdbs);
	/* as the message verifies its own token, with the right key only */
	ck_assert(parsed->verify_token(parsed, token_key));
	ck_assert(!parsed->verify_token(parsed, chunk_empty));
	parsed->set_sequence(parsed, 0x0badcaff);
	ck_assert(!parsed->verify_token(parsed, token_key));
	parsed->destroy(parsed);
	mn->destroy(mn);
	par->destroy(par);
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
