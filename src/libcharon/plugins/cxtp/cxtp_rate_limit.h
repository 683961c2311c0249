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
 * @defgroup cxtp_rate_limit cxtp_rate_limit
 * @{ @ingroup cxtp
 */

#ifndef CXTP_RATE_LIMIT_H_
#define CXTP_RATE_LIMIT_H_

#include "cxtp_settings.h"

#include <networking/host.h>

/**
 * Window of the CTAR rate limit in ms
 */
#define CXTP_RATE_WINDOW 1000

/**
 * Default number of sources with rate limiting state
 * (charon.plugins.cxtp.ctar_sources)
 */
#define CXTP_RATE_MAX_SOURCES 1024

typedef struct cxtp_rate_limit_t cxtp_rate_limit_t;

/**
 * The CTAR rate limit of RFC 4067 section 6.3 (CT_REQUEST_RATE): at most
 * charon.plugins.cxtp.ctar_rate CTARs per second and source address.
 *
 * The state of at most charon.plugins.cxtp.ctar_sources sources is kept, in
 * a hash table (keyed with chunk_hash()'s secret, so an attacker can't pick
 * colliding addresses) and a list from the most to the least recently seen.
 * A source that is not known takes the place of the least recently seen one
 * if the table is full: spoofed sources can't keep a new one out (a mobile
 * node arriving on the link during a flood), and the eviction can only give
 * a source a fresh allowance, never take one away. Both steps cost O(1).
 *
 * Drops are logged at most once a second, with their number.
 */
struct cxtp_rate_limit_t {

	/**
	 * Count a CTAR from a source against the limit.
	 *
	 * @param src		source address of the CTAR
	 * @return			TRUE if within the limit, FALSE to drop it
	 */
	bool (*check)(cxtp_rate_limit_t *this, host_t *src);

	/**
	 * Get the counters since the creation.
	 *
	 * @param dropped	CTARs dropped over the rate of their source
	 * @param evicted	sources forgotten for a new one, table full
	 */
	void (*get_counters)(cxtp_rate_limit_t *this, uint64_t *dropped,
						 uint64_t *evicted);

	/**
	 * Destroy a cxtp_rate_limit_t.
	 */
	void (*destroy)(cxtp_rate_limit_t *this);
};

/**
 * Create a cxtp_rate_limit_t, with charon.plugins.cxtp.ctar_sources read
 * once.
 *
 * @param settings		plugin settings, for ctar_rate
 * @return				instance
 */
cxtp_rate_limit_t *cxtp_rate_limit_create(cxtp_settings_t *settings);

#endif /** CXTP_RATE_LIMIT_H_ @}*/
