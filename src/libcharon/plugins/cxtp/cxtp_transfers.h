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
 * @defgroup cxtp_transfers cxtp_transfers
 * @{ @ingroup cxtp
 */

#ifndef CXTP_TRANSFERS_H_
#define CXTP_TRANSFERS_H_

#include "cxtp_capture.h"

#include <bus/listeners/listener.h>
#include <sa/ike_sa.h>

typedef struct cxtp_transfers_t cxtp_transfers_t;

/**
 * The transfer counters of IKE_SAs and the token keys derived with them.
 *
 * The mobile node and the access router holding its IKE_SA count the
 * IKE_SA's completed transfers, so the key of the next transfer's token is
 * unrelated to the last one's (a token seen on one link authorizes nothing
 * later). A counter is forgotten with its IKE_SA.
 *
 * Apart from the token computation in cxtp_token.h, which the message codec
 * uses without charon.
 */
struct cxtp_transfers_t {

	/**
	 * Implements the listener_t interface, to forget counters.
	 */
	listener_t listener;

	/**
	 * Get how often an IKE_SA was transferred.
	 *
	 * @param ike_sa		IKE_SA
	 * @return				number of completed transfers
	 */
	uint32_t (*get_transfers)(cxtp_transfers_t *this, ike_sa_t *ike_sa);

	/**
	 * Set how often an IKE_SA was transferred.
	 *
	 * @param ike_sa		IKE_SA
	 * @param transfers		number of completed transfers
	 */
	void (*set_transfers)(cxtp_transfers_t *this, ike_sa_t *ike_sa,
						  uint32_t transfers);

	/**
	 * Derive the key of the mobile node's authorization token for the next
	 * transfer of an IKE_SA, from its captured SK_d, its SPIs and the
	 * number of transfers so far (cxtp_token_derive_key()).
	 *
	 * @param ike_sa		IKE_SA
	 * @param key			receives the key, chunk_clear() it
	 * @return				TRUE if derived
	 */
	bool (*derive_token_key)(cxtp_transfers_t *this, ike_sa_t *ike_sa,
							 chunk_t *key);

	/**
	 * Destroy a cxtp_transfers_t.
	 */
	void (*destroy)(cxtp_transfers_t *this);
};

/**
 * Create a cxtp_transfers_t.
 *
 * @param capture		captured SA keys, for SK_d
 * @return				instance, to register on the bus
 */
cxtp_transfers_t *cxtp_transfers_create(cxtp_capture_t *capture);

#endif /** CXTP_TRANSFERS_H_ @}*/
