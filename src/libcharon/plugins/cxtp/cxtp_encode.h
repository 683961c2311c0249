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
 * @defgroup cxtp_encode cxtp_encode
 * @{ @ingroup cxtp
 */

#ifndef CXTP_ENCODE_H_
#define CXTP_ENCODE_H_

#include "cxtp_context.h"

/**
 * Version of the Context Data Block encoding below; a decoder rejects any
 * other. Version 1 wrote IKE SPIs in the host's byte order.
 */
#define CXTP_ENCODING_VERSION 2

/**
 * Encodes the parts of a context as the data of its Context Data Blocks
 * (one for the IKE_SA, one per CHILD_SA, one for the PAD entry) and back.
 *
 * The data is a sequence of attributes: type (16 bit), length (16 bit),
 * value, the first one always the encoding version; numbers are in network
 * order, IKE and IPsec SPIs in the octets they have on the wire. Attributes
 * that hold keys come last, written into a buffer allocated once at its final
 * size, so no copy of a key is left behind by a growing buffer. Decoding
 * rejects unknown or repeated attributes, missing mandatory ones, values of
 * the wrong size and anything that does not end exactly at the end of the
 * data, and logs why.
 */

/**
 * The CDBs travel under the private feature profile types CXTP_FPT_IKE_SA,
 * CXTP_FPT_CHILD_SA and CXTP_FPT_PAD (0xff01-0xff03), which only routers of
 * one domain exchange: a context's data is accepted only in a PCTD or CTD,
 * which only the AR-to-AR transport carries (the ICMP transport takes CTAR
 * and CTAA only, whose blocks name a type without data), and only from a
 * configured peer's address, authenticated and decrypted with the key of
 * that peer's secret and inside its replay window. A mobile node or an
 * off-path sender cannot get data of these types decoded, and another
 * domain's use of the numbers never meets this decoder.
 */

/**
 * Encode the IKE_SA part.
 *
 * @param ike		IKE_SA context
 * @return			CDB data, holds keys: chunk_clear() it
 */
chunk_t cxtp_encode_ike(cxtp_ike_context_t *ike);

/**
 * Decode the IKE_SA part into a context created with cxtp_context_create().
 *
 * @param data		CDB data
 * @param ike		IKE_SA context to fill (the context's destroy() cleans
 *					up whatever was filled, also on failure)
 * @return			TRUE if the data was valid and complete
 */
bool cxtp_decode_ike(chunk_t data, cxtp_ike_context_t *ike);

/**
 * Encode a CHILD_SA.
 *
 * @param child		CHILD_SA context
 * @return			CDB data, holds keys: chunk_clear() it
 */
chunk_t cxtp_encode_child(cxtp_child_context_t *child);

/**
 * Decode a CHILD_SA.
 *
 * @param data		CDB data
 * @return			CHILD_SA context, NULL if the data was invalid
 */
cxtp_child_context_t *cxtp_decode_child(chunk_t data);

/**
 * Encode the PAD entry.
 *
 * @param pad		PAD entry
 * @return			CDB data, may hold a secret: chunk_clear() it
 */
chunk_t cxtp_encode_pad(cxtp_pad_context_t *pad);

/**
 * Decode the PAD entry into a context created with cxtp_context_create().
 *
 * @param data		CDB data
 * @param pad		PAD entry to fill
 * @return			TRUE if the data was valid and complete
 */
bool cxtp_decode_pad(chunk_t data, cxtp_pad_context_t *pad);

#endif /** CXTP_ENCODE_H_ @}*/
