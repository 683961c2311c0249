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
typedef enum cxtp_replay_path_t cxtp_replay_path_t;

/**
 * How many tokens an access router remembers per IKE_SA
 */
#define CXTP_REPLAY_MEMORY 8

/**
 * How many transfer counters pAR looks ahead of its own for a token: the
 * mobile node advances its counter with every attempt, whose CTAR may be
 * lost before it reaches pAR
 */
#define CXTP_TOKEN_WINDOW 4

/**
 * The paths on which an access router acts on a token
 */
enum cxtp_replay_path_t {
	/** pAR, a predictive CTAR */
	CXTP_REPLAY_CTAR,
	/** pAR, a CT-Req carrying a CTAR's token */
	CXTP_REPLAY_CTREQ,
};

/**
 * The transfer counters of IKE_SAs and the token keys derived with them.
 *
 * The mobile node and the access router holding its IKE_SA count the
 * IKE_SA's transfer attempts, so the key of the next attempt's token is
 * unrelated to the last one's (a token seen on one link authorizes nothing
 * later): the mobile node advances its counter with every attempt, pAR past
 * the counter of every token it accepts, looking ahead CXTP_TOKEN_WINDOW
 * counters, and nAR sets it past the activated one. pAR also remembers the
 * last CXTP_REPLAY_MEMORY tokens it acted on per IKE_SA (RFC 4067 3.2), to
 * tell a retransmission or replay from a new request. All of it is
 * forgotten with its IKE_SA.
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
	 * Get the transfer counter of an IKE_SA, the one of its next attempt.
	 *
	 * @param ike_sa		IKE_SA
	 * @return				transfer counter
	 */
	uint32_t (*get_transfers)(cxtp_transfers_t *this, ike_sa_t *ike_sa);

	/**
	 * Set the transfer counter of an IKE_SA.
	 *
	 * @param ike_sa		IKE_SA
	 * @param transfers		transfer counter
	 */
	void (*set_transfers)(cxtp_transfers_t *this, ike_sa_t *ike_sa,
						  uint32_t transfers);

	/**
	 * Derive the key of the mobile node's authorization token for a
	 * transfer counter of an IKE_SA, from its captured SK_d and its SPIs
	 * (cxtp_token_derive_key()).
	 *
	 * @param ike_sa		IKE_SA
	 * @param transfer		transfer counter
	 * @param key			receives the key, chunk_clear() it
	 * @return				TRUE if derived
	 */
	bool (*derive_token_key)(cxtp_transfers_t *this, ike_sa_t *ike_sa,
							 uint32_t transfer, chunk_t *key);

	/**
	 * Find a token acted on before on a path, by its sequence number.
	 *
	 * @param ike_sa		IKE_SA
	 * @param path			path it was acted on
	 * @param sequence		sequence number
	 * @param transfer		receives the counter of its key, if found
	 * @return				TRUE if one is remembered
	 */
	bool (*find_accepted)(cxtp_transfers_t *this, ike_sa_t *ike_sa,
						  cxtp_replay_path_t path, uint32_t sequence,
						  uint32_t *transfer);

	/**
	 * Remember a valid token about to be acted on, the oldest forgotten if
	 * CXTP_REPLAY_MEMORY are, and advance the counter past its key's, so
	 * neither it nor any earlier token is valid for a new transfer.
	 *
	 * @param ike_sa		IKE_SA
	 * @param path			path it is acted on
	 * @param sequence		its sequence number
	 * @param transfer		counter of its key
	 */
	void (*accept_token)(cxtp_transfers_t *this, ike_sa_t *ike_sa,
				   cxtp_replay_path_t path, uint32_t sequence,
				   uint32_t transfer);

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
