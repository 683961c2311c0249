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

#include "cxtp_token.h"

#include <crypto/hashers/hasher.h>
#include <crypto/kdfs/kdf.h>
#include <utils/debug.h>

/**
 * Label that separates token keys from other keys derived from SK_d
 */
#define TOKEN_KEY_LABEL "CXTP token key"

/**
 * Feed an address to a PRF, preceded by its length if framed
 */
static bool add_address(prf_t *prf, host_t *host, bool framed)
{
	chunk_t address = host->get_address(host);
	uint8_t len = address.len;

	return (!framed || prf->get_bytes(prf, chunk_from_thing(len), NULL)) &&
		   prf->get_bytes(prf, address, NULL);
}

/**
 * Create an HMAC_SHA1 keyed with key
 */
static prf_t *create_hmac(chunk_t key, char *what)
{
	prf_t *prf;

	prf = lib->crypto->create_prf(lib->crypto, PRF_HMAC_SHA1);
	if (!prf)
	{
		DBG1(DBG_LIB, "CXTP: %N not supported, unable to compute the %s",
			 pseudo_random_function_names, PRF_HMAC_SHA1, what);
		return NULL;
	}
	if (!prf->set_key(prf, key))
	{
		prf->destroy(prf);
		return NULL;
	}
	return prf;
}

/*
 * Described in header
 */
bool cxtp_token_compute(chunk_t key, cxtp_token_input_t *in, uint32_t *token)
{
	prf_t *prf;
	uint8_t mac[HASH_SIZE_SHA1], seq[sizeof(uint32_t)], header[2];
	bool ok;

	if (!key.len || !in->mn || !in->ar || !in->src || !in->dst)
	{
		return FALSE;
	}
	prf = create_hmac(key, "authorization token");
	if (!prf)
	{
		return FALSE;
	}
	header[0] = (1 << 5) | 1;
	header[1] = (in->mn->get_family(in->mn) == AF_INET ? 0x80 : 0) |
				(in->ack ? 0x40 : 0);
	htoun32(seq, in->sequence);
	ok = prf->get_bytes(prf, chunk_from_str(CXTP_TOKEN_LABEL), NULL) &&
		 prf->get_bytes(prf, chunk_from_thing(header), NULL) &&
		 add_address(prf, in->mn, FALSE) &&
		 add_address(prf, in->ar, FALSE) &&
		 prf->get_bytes(prf, chunk_from_thing(seq), NULL) &&
		 add_address(prf, in->src, TRUE) &&
		 add_address(prf, in->dst, TRUE) &&
		 prf->get_bytes(prf, in->cdbs, mac);
	prf->destroy(prf);
	if (ok)
	{
		*token = untoh32(mac);
	}
	memwipe(mac, sizeof(mac));
	return ok;
}

/*
 * Described in header
 */
bool cxtp_token_verify(chunk_t key, cxtp_token_input_t *in, uint32_t token)
{
	uint32_t expected;
	bool valid;

	if (!cxtp_token_compute(key, in, &expected))
	{
		return FALSE;
	}
	valid = memeq_const(&expected, &token, sizeof(token));
	memwipe(&expected, sizeof(expected));
	return valid;
}

/*
 * Described in header
 */
bool cxtp_token_ctaa_mac(chunk_t key, chunk_t header, host_t *mn,
						 uint32_t sequence, chunk_t statuses, host_t *src,
						 host_t *dst, uint8_t *mac)
{
	prf_t *prf;
	uint8_t full[HASH_SIZE_SHA1], seq[sizeof(uint32_t)];
	bool ok;

	if (!key.len || !mn || !src || !dst)
	{
		return FALSE;
	}
	prf = create_hmac(key, "CTAA MAC");
	if (!prf)
	{
		return FALSE;
	}
	htoun32(seq, sequence);
	ok = prf->get_bytes(prf, chunk_from_str(CXTP_CTAA_LABEL), NULL) &&
		 prf->get_bytes(prf, header, NULL) &&
		 add_address(prf, mn, FALSE) &&
		 prf->get_bytes(prf, chunk_from_thing(seq), NULL) &&
		 prf->get_bytes(prf, statuses, NULL) &&
		 add_address(prf, src, TRUE) &&
		 add_address(prf, dst, TRUE) &&
		 prf->get_bytes(prf, chunk_empty, full);
	prf->destroy(prf);
	if (ok)
	{
		memcpy(mac, full, CXTP_CTAA_MAC_LEN);
	}
	memwipe(full, sizeof(full));
	return ok;
}

/*
 * Described in header
 */
bool cxtp_token_derive_key(pseudo_random_function_t prf_alg, chunk_t sk_d,
						   uint64_t spi_i, uint64_t spi_r, uint32_t transfer,
						   chunk_t *key)
{
	kdf_t *prf_plus;
	chunk_t salt;
	uint8_t counter[sizeof(uint32_t)];

	*key = chunk_empty;
	if (!sk_d.len)
	{
		return FALSE;
	}
	prf_plus = lib->crypto->create_kdf(lib->crypto, KDF_PRF_PLUS, prf_alg);
	if (!prf_plus)
	{
		DBG1(DBG_LIB, "CXTP: prf+ with %N not supported, unable to derive the "
			 "token key", pseudo_random_function_names, prf_alg);
		return FALSE;
	}
	htoun32(counter, transfer);
	/* the SPIs are hashed as the octets they are on the wire, so both peers
	 * get the same key whatever their byte order */
	salt = chunk_cata("cccc", chunk_from_str(TOKEN_KEY_LABEL),
					  chunk_from_thing(spi_i), chunk_from_thing(spi_r),
					  chunk_from_thing(counter));
	if (!prf_plus->set_param(prf_plus, KDF_PARAM_KEY, sk_d) ||
		!prf_plus->set_param(prf_plus, KDF_PARAM_SALT, salt) ||
		!prf_plus->allocate_bytes(prf_plus, CXTP_TOKEN_KEY_LEN, key))
	{
		prf_plus->destroy(prf_plus);
		chunk_clear(key);
		return FALSE;
	}
	prf_plus->destroy(prf_plus);
	return TRUE;
}
