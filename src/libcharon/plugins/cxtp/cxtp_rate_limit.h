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
 * Maximum number of sources with rate limiting state
 */
#define CXTP_RATE_MAX_SOURCES 1024

typedef struct cxtp_rate_limit_t cxtp_rate_limit_t;

/**
 * The CTAR rate limit of RFC 4067 section 6.3 (CT_REQUEST_RATE): at most
 * charon.plugins.cxtp.ctar_rate CTARs per second and source address, for at
 * most CXTP_RATE_MAX_SOURCES sources within a window. Drops are logged at
 * most once a second, with their number.
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
	 * Destroy a cxtp_rate_limit_t.
	 */
	void (*destroy)(cxtp_rate_limit_t *this);
};

/**
 * Create a cxtp_rate_limit_t.
 *
 * @param settings		plugin settings, for ctar_rate
 * @return				instance
 */
cxtp_rate_limit_t *cxtp_rate_limit_create(cxtp_settings_t *settings);

#endif /** CXTP_RATE_LIMIT_H_ @}*/
