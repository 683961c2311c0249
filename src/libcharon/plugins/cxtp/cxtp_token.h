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
 * Compute the MN authorization token of a CTAR/CT-Req (RFC 4067 section
 * 2.5.1):
 *
 *   First(32, HMAC_SHA1(key, previous address | sequence number | CDBs))
 *
 * @param key			HMAC_SHA1 key shared by MN and pAR
 * @param mn_previous	MN's previous address
 * @param sequence		sequence number of the CTAR
 * @param cdbs			encoded request CDBs of the CTAR, as returned by
 *						cxtp_message_t.get_cdb_bytes()
 * @param token			receives the token
 * @return				TRUE if the token was computed
 */
bool cxtp_token_compute(chunk_t key, host_t *mn_previous, uint32_t sequence,
						chunk_t cdbs, uint32_t *token);

/**
 * Verify an MN authorization token in constant time.
 *
 * @param key			HMAC_SHA1 key shared by MN and pAR
 * @param mn_previous	MN's previous address
 * @param sequence		sequence number of the CTAR
 * @param cdbs			encoded request CDBs of the CTAR
 * @param token			received token
 * @return				TRUE if the token is valid
 */
bool cxtp_token_verify(chunk_t key, host_t *mn_previous, uint32_t sequence,
					   chunk_t cdbs, uint32_t token);

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
