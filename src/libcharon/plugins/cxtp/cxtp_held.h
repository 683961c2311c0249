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
 * @defgroup cxtp_held cxtp_held
 * @{ @ingroup cxtp
 */

#ifndef CXTP_HELD_H_
#define CXTP_HELD_H_

#include <encoding/message.h>

/**
 * IKE requests held per source address at most
 */
#define CXTP_HELD_PER_SOURCE 2

/**
 * IKE requests held in all at most
 */
#define CXTP_HELD_MAX 32

/**
 * CT-Reqs for held IKE requests per second at most
 */
#define CXTP_HELD_RATE 16

typedef struct cxtp_held_t cxtp_held_t;
typedef struct cxtp_held_request_t cxtp_held_request_t;

/**
 * An IKE request held while its context is fetched
 */
struct cxtp_held_request_t {

	/** the request as received */
	chunk_t data;

	/** where it came from and was sent to */
	host_t *src;
	host_t *dst;

	/** its IKE SPIs, network order */
	uint64_t spi_i;
	uint64_t spi_r;

	/** the peer asked for its context */
	char *peer;

	/** identifier of the CT-Req sent for it */
	uint32_t request;
};

/**
 * Destroy a held request.
 *
 * @param held			held request
 */
void cxtp_held_request_destroy(cxtp_held_request_t *held);

/**
 * A fresh message of a held request, its header parsed, to process it again.
 *
 * @param held			held request
 * @return				message, NULL if its header does not parse
 */
message_t *cxtp_held_request_message(cxtp_held_request_t *held);

/**
 * IKE requests nAR received for IKE_SAs it does not hold, from a mobile node
 * that sends no CTAR (a stock MOBIKE client), held while it fetches their
 * context from the peer their SPI's label names.
 *
 * Bounded, as anyone may send requests with made-up SPIs: at most
 * CXTP_HELD_PER_SOURCE per source address, CXTP_HELD_MAX in all and
 * CXTP_HELD_RATE new ones per second. One request per IKE_SA: its
 * retransmissions are not held again.
 */
struct cxtp_held_t {

	/**
	 * Hold a request.
	 *
	 * @param message		the request, its header parsed
	 * @param peer			peer to ask for its context
	 * @param request		identifier of the CT-Req to send for it
	 * @return				NULL if held, or why not (static string)
	 */
	char* (*hold)(cxtp_held_t *this, message_t *message, char *peer,
				  uint32_t request);

	/**
	 * Take the request held for an IKE_SA whose context a peer sent.
	 *
	 * @param peer			peer that sent the context
	 * @param spi_i			initiator SPI, network order
	 * @param spi_r			responder SPI, network order
	 * @return				held request, NULL if none
	 */
	cxtp_held_request_t* (*take_spis)(cxtp_held_t *this, char *peer,
									  uint64_t spi_i, uint64_t spi_r);

	/**
	 * Take the request a CT-Req was sent for.
	 *
	 * @param request		identifier of the CT-Req
	 * @return				held request, NULL if none
	 */
	cxtp_held_request_t* (*take_request)(cxtp_held_t *this, uint32_t request);

	/**
	 * Take a request held from a source whose context a peer was asked for.
	 *
	 * @param peer			peer asked
	 * @param src			source of the request
	 * @return				held request, NULL if none
	 */
	cxtp_held_request_t* (*take_source)(cxtp_held_t *this, char *peer,
										host_t *src);

	/**
	 * Number of requests held.
	 *
	 * @return				number held
	 */
	u_int (*get_count)(cxtp_held_t *this);

	/**
	 * Destroy a cxtp_held_t and the requests it holds.
	 */
	void (*destroy)(cxtp_held_t *this);
};

/**
 * Create a cxtp_held_t.
 *
 * @return				instance
 */
cxtp_held_t *cxtp_held_create();

#endif /** CXTP_HELD_H_ @}*/
