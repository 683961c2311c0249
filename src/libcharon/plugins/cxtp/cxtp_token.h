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

/**
 * @defgroup cxtp_token cxtp_token
 * @{ @ingroup cxtp
 */

#ifndef CXTP_TOKEN_H_
#define CXTP_TOKEN_H_

#include <library.h>
#include <networking/host.h>
#include <crypto/prfs/prf.h>

/**
 * Length of the token keys derived by cxtp_token_derive_key()
 */
#define CXTP_TOKEN_KEY_LEN 20

/**
 * Label and version of the token input, so a token v2 never equals a token
 * over RFC 4067's input of the same fields
 */
#define CXTP_TOKEN_LABEL "CXTP token v2"

/**
 * Label of the MAC of a CTAA
 */
#define CXTP_CTAA_LABEL "CXTP CTAA v1"

/**
 * Length of the MAC of a CTAA (HMAC-SHA1-96)
 */
#define CXTP_CTAA_MAC_LEN 12

/**
 * Everything the MN authorization token of a CTAR covers.
 *
 * RFC 4067 section 2.5.1 computes the token over the previous address, the
 * sequence number and the CDBs only; a router acts on more of the CTAR than
 * that: the access router it names selects the peer, its IP source becomes
 * the care-of address, its IP destination tells which router it was meant
 * for, its A flag asks for a CTAA. Token v2 covers all of them:
 *
 *   First(32, HMAC_SHA1(key, "CXTP token v2" | type | flags |
 *                            previous address | AR address | sequence |
 *                            len(src) | src | len(dst) | dst | CDBs))
 *
 * - "CXTP token v2": the 13 ASCII octets, no terminator
 * - type: the CTAR's first octet, version 1 and type 1 (0x21), also when a
 *   CT-Req carries the token
 * - flags: the CTAR's flags octet, V (0x80) and A (0x40) only
 * - previous address, AR address: the CTAR's fields, 4 or 16 octets
 * - sequence: 32 bits, network order
 * - len(x) | x: one octet with the address length (4 or 16), the address;
 *   src is the CTAR's IP source (the new care-of address), dst its IP
 *   destination (the router it is sent to)
 * - CDBs: the request blocks as encoded in the CTAR
 *
 * A CTAR carries no transfer ID, so none is covered. A CT-Req carries the
 * CTAR's token with the CTAR's AR address, A flag, IP source and IP
 * destination (see cxtp_message.h), so pAR verifies the same input.
 */
typedef struct {
	/** MN's previous address */
	host_t *mn;
	/** access router address field of the CTAR */
	host_t *ar;
	/** IP source of the CTAR, the new care-of address */
	host_t *src;
	/** IP destination of the CTAR */
	host_t *dst;
	/** the CTAR's A flag */
	bool ack;
	/** sequence number */
	uint32_t sequence;
	/** encoded request CDBs, as returned by cxtp_message_t.get_cdb_bytes() */
	chunk_t cdbs;
} cxtp_token_input_t;

/**
 * Compute the MN authorization token of a CTAR (token v2, see
 * cxtp_token_input_t).
 *
 * @param key			HMAC_SHA1 key shared by MN and pAR
 * @param in			what the token covers, all addresses required
 * @param token			receives the token
 * @return				TRUE if the token was computed
 */
bool cxtp_token_compute(chunk_t key, cxtp_token_input_t *in, uint32_t *token);

/**
 * Verify an MN authorization token in constant time.
 *
 * @param key			HMAC_SHA1 key shared by MN and pAR
 * @param in			what the token covers
 * @param token			received token
 * @return				TRUE if the token is valid
 */
bool cxtp_token_verify(chunk_t key, cxtp_token_input_t *in, uint32_t token);

/**
 * Compute the MAC of a CTAA with the token key of the transfer it
 * acknowledges:
 *
 *   First(96, HMAC_SHA1(key, "CXTP CTAA v1" | header | previous address |
 *                            sequence | statuses | len(src) | src |
 *                            len(dst) | dst))
 *
 * header is the CTAA's first two octets (version/type and flags), sequence
 * the CTAR's it answers, statuses the encoded status entries, src the
 * CTAA's IP source (the router) and dst its IP destination (the care-of
 * address). The label keeps it apart from any token.
 *
 * @param key			token key of the transfer
 * @param header		first two octets of the CTAA
 * @param mn			MN's previous address
 * @param sequence		sequence number of the CTAR answered
 * @param statuses		encoded status entries
 * @param src			IP source of the CTAA
 * @param dst			IP destination of the CTAA
 * @param mac			receives CXTP_CTAA_MAC_LEN octets
 * @return				TRUE if computed
 */
bool cxtp_token_ctaa_mac(chunk_t key, chunk_t header, host_t *mn,
						 uint32_t sequence, chunk_t statuses, host_t *src,
						 host_t *dst, uint8_t *mac);

/**
 * Derive the token key of a transfer from an IKE SA.
 *
 * The key is CXTP_TOKEN_KEY_LEN octets of
 *
 *   prf+(SK_d, "CXTP token key" | SPIi | SPIr | transfer)
 *
 * so MN and pAR, which share the IKE SA, derive it without an exchange, and
 * a new transfer counter yields an unrelated key.
 *
 * @param prf_alg		PRF negotiated for the IKE SA
 * @param sk_d			SK_d of the IKE SA
 * @param spi_i			initiator's IKE SPI, in network order as ike_sa_id_t
 *						stores it
 * @param spi_r			responder's IKE SPI, in network order
 * @param transfer		transfer counter
 * @param key			receives the allocated key, to free with chunk_clear()
 * @return				TRUE if the key was derived
 */
bool cxtp_token_derive_key(pseudo_random_function_t prf_alg, chunk_t sk_d,
						   uint64_t spi_i, uint64_t spi_r, uint32_t transfer,
						   chunk_t *key);

#endif /** CXTP_TOKEN_H_ @}*/
