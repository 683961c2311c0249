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
 * @defgroup cxtp_ctar_queue cxtp_ctar_queue
 * @{ @ingroup cxtp
 */

#ifndef CXTP_CTAR_QUEUE_H_
#define CXTP_CTAR_QUEUE_H_

#include "cxtp_message.h"

#include <networking/host.h>

/**
 * Default number of CTARs waiting for processing at most
 * (charon.plugins.cxtp.ctar_queue)
 */
#define CXTP_CTAR_QUEUE_MAX 256

/**
 * Number of jobs processing CTARs at most, each for its share of the mobile
 * nodes' addresses
 */
#define CXTP_CTAR_QUEUE_LANES 4

typedef struct cxtp_ctar_queue_t cxtp_ctar_queue_t;

/**
 * Callback processing a CTAR, in a job.
 *
 * @param data			data passed to cxtp_ctar_queue_create()
 * @param src			source address of the CTAR
 * @param dst			local address it arrived at
 * @param message		the CTAR, ownership passes to the callback
 */
typedef void (*cxtp_ctar_queue_cb_t)(void *data, host_t *src, host_t *dst,
									 cxtp_message_t *message);

/**
 * CTARs received from mobile nodes, processed in jobs, so the ICMP watcher
 * only receives, and a flood of them neither blocks the watcher nor takes
 * more than CXTP_CTAR_QUEUE_LANES of charon's threads.
 *
 * At most charon.plugins.cxtp.ctar_queue CTARs wait; any further one is
 * dropped, counted, and logged at most once a second. CTARs of the same
 * mobile node (by its previous address) are processed one after the other
 * in the order they arrived: the address, hashed with chunk_hash()'s secret
 * key, selects the lane, one job at most runs per lane.
 */
struct cxtp_ctar_queue_t {

	/**
	 * Queue a CTAR for processing.
	 *
	 * @param src		source address, cloned
	 * @param dst		local address, cloned
	 * @param message	the CTAR, ownership passes to the queue (destroyed
	 *					if dropped)
	 * @return			FALSE if dropped, the queue is full
	 */
	bool (*enqueue)(cxtp_ctar_queue_t *this, host_t *src, host_t *dst,
					cxtp_message_t *message);

	/**
	 * Get the counters since the creation.
	 *
	 * @param processed	CTARs handed to the callback
	 * @param dropped	CTARs dropped, the queue was full
	 */
	void (*get_counters)(cxtp_ctar_queue_t *this, uint64_t *processed,
						 uint64_t *dropped);

	/**
	 * Drop the waiting CTARs and destroy the queue.
	 *
	 * Returns once no callback runs, none is invoked afterwards; must not
	 * be called from one. Jobs still queued in the processor end without
	 * invoking it.
	 */
	void (*destroy)(cxtp_ctar_queue_t *this);
};

/**
 * Create a cxtp_ctar_queue_t, with charon.plugins.cxtp.ctar_queue read once.
 *
 * @param cb			callback processing a CTAR
 * @param data			data to pass to cb
 * @return				instance
 */
cxtp_ctar_queue_t *cxtp_ctar_queue_create(cxtp_ctar_queue_cb_t cb, void *data);

#endif /** CXTP_CTAR_QUEUE_H_ @}*/
