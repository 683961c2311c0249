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
 * @defgroup cxtp_retransmit cxtp_retransmit
 * @{ @ingroup cxtp
 */

#ifndef CXTP_RETRANSMIT_H_
#define CXTP_RETRANSMIT_H_

#include <library.h>

typedef struct cxtp_retransmit_t cxtp_retransmit_t;
typedef struct cxtp_retransmit_packet_t cxtp_retransmit_packet_t;
typedef struct cxtp_retransmit_backoff_t cxtp_retransmit_backoff_t;

/**
 * When a packet is retransmitted and when it is given up.
 *
 * The first retransmission follows timeout ms after the first transmission,
 * each further one after the previous wait multiplied by base.  After tries
 * retransmissions, the packet is given up another wait later.  With a limit,
 * no timer runs later than limit ms after the first transmission: the timer
 * that reaches it gives up, whatever tries are left.
 */
struct cxtp_retransmit_backoff_t {

	/**
	 * Wait before the first retransmission in ms, > 0
	 */
	double timeout;

	/**
	 * Factor each wait is multiplied by for the next one, >= 1.0
	 */
	double base;

	/**
	 * Retransmissions before giving up, UINT_MAX for no limit but limit
	 */
	u_int tries;

	/**
	 * ms after the first transmission when to give up, 0 for no limit
	 */
	uint64_t limit;
};

/**
 * A packet to retransmit, implemented by the user of cxtp_retransmit_t.
 */
struct cxtp_retransmit_packet_t {

	/**
	 * Send the packet (again).
	 *
	 * Invoked with the cxtp_retransmit_t locked, so that no transmission
	 * follows once cancel() returned: it must not call into the
	 * cxtp_retransmit_t, nor wait for anything that does.
	 *
	 * @param retransmission	0 for the transmission by add(), then 1, 2, ...
	 * @return					for transmission 0, FALSE lets add() fail;
	 *							ignored for retransmissions (a failed one
	 *							counts as a lost packet)
	 */
	bool (*send)(cxtp_retransmit_packet_t *this, u_int retransmission);

	/**
	 * Report that the packet was retransmitted as often or as long as its
	 * backoff allows, and was not cancelled in time.
	 *
	 * Invoked once, from a scheduler job, without any lock held: it may call
	 * add() and cancel(), but not flush() or destroy().  The packet is
	 * destroyed when it returns.
	 *
	 * @param retransmissions	number of retransmissions done
	 */
	void (*give_up)(cxtp_retransmit_packet_t *this, u_int retransmissions);

	/**
	 * Destroy the packet, wiping what it holds.
	 */
	void (*destroy)(cxtp_retransmit_packet_t *this);
};

/**
 * Pending packets and their timers, for retransmission with exponential
 * backoff until cancelled (acknowledged) or given up.
 *
 * Each packet has an identifier; adding a packet with the identifier of a
 * pending one replaces it.  Timers are scheduler jobs; a job finds its packet
 * by identifier and a serial number unique to each add(), so the timers of a
 * cancelled or replaced packet do nothing.  Thread-safe.
 */
struct cxtp_retransmit_t {

	/**
	 * Send a packet for the first time and retransmit it until cancelled.
	 *
	 * @param id		identifier of the packet
	 * @param packet	packet, owned by this object (destroyed if adding fails)
	 * @param backoff	schedule of the retransmissions, copied
	 * @param replaced	receives the pending packet with the same identifier,
	 *					replaced (owned by the caller), NULL if none; NULL to
	 *					destroy it
	 * @return			TRUE if pending, FALSE if the first transmission
	 *					failed (a packet with the same identifier stays) or
	 *					the object is being destroyed
	 */
	bool (*add)(cxtp_retransmit_t *this, uint32_t id,
				cxtp_retransmit_packet_t *packet,
				cxtp_retransmit_backoff_t *backoff,
				cxtp_retransmit_packet_t **replaced);

	/**
	 * Stop retransmitting a packet.
	 *
	 * No transmission of the packet follows once this returned.
	 *
	 * @param id				identifier of the packet
	 * @param retransmissions	receives the number of retransmissions done,
	 *							may be NULL
	 * @return					the packet (owned by the caller), NULL if
	 *							none is pending with this identifier
	 */
	cxtp_retransmit_packet_t *(*cancel)(cxtp_retransmit_t *this, uint32_t id,
										u_int *retransmissions);

	/**
	 * Cancel and destroy all pending packets.
	 */
	void (*flush)(cxtp_retransmit_t *this);

	/**
	 * Destroy all pending packets and the object.
	 *
	 * Returns once running give_up() callbacks returned; neither callback is
	 * invoked afterwards and add() fails while it waits.  Must not be called
	 * from a callback.
	 */
	void (*destroy)(cxtp_retransmit_t *this);
};

/**
 * Create a cxtp_retransmit_t instance.
 *
 * @return			retransmission object
 */
cxtp_retransmit_t *cxtp_retransmit_create();

#endif /** CXTP_RETRANSMIT_H_ @}*/
