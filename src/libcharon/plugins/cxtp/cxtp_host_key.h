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
 * @defgroup cxtp_host_key cxtp_host_key
 * @{ @ingroup cxtp
 */

#ifndef CXTP_HOST_KEY_H_
#define CXTP_HOST_KEY_H_

#include <networking/host.h>

/**
 * Hash function for hashtable_t keyed by a host's IP address, the port
 * ignored (a node's, a source's or a lease's address), with chunk_hash()'s
 * random key.
 */
static inline u_int cxtp_host_key_hash(const void *key)
{
	host_t *host = (host_t*)key;

	return chunk_hash(host->get_address(host));
}

/**
 * Equality function for hashtable_t keyed by a host's IP address, the port
 * ignored.
 */
static inline bool cxtp_host_key_equals(const void *a, const void *b)
{
	host_t *host = (host_t*)a;

	return host->ip_equals(host, (host_t*)b);
}

#endif /** CXTP_HOST_KEY_H_ @}*/
