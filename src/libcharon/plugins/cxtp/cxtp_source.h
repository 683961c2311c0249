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
 * @defgroup cxtp_source cxtp_source
 * @{ @ingroup cxtp
 */

#ifndef CXTP_SOURCE_H_
#define CXTP_SOURCE_H_

#include <networking/host.h>

typedef struct cxtp_source_t cxtp_source_t;

/**
 * Whether an address of this host can be sent from.
 *
 * @param address		local address
 * @return				FALSE if it is not (yet): tentative, or gone
 */
typedef bool (*cxtp_source_usable_t)(host_t *address);

/**
 * The mobile node's source address for a CTAR on its new link.
 *
 * Right after a move, the new link may have nothing but a link-local
 * address, or a care-of address that is still tentative (IPv6 duplicate
 * address detection, a second or more); the kernel refuses to send from
 * either towards the new access router, or the access router could not
 * answer.  The source of a CTAR is the address charon would use towards the
 * access router, once it is neither link-local nor tentative.
 */
struct cxtp_source_t {

	/**
	 * The address to send a CTAR to an access router from, if usable.
	 *
	 * @param ar			access router
	 * @param reason		receives why there is none, if none
	 * @param len			size of reason
	 * @return				source address, NULL if none is usable yet
	 */
	host_t *(*get)(cxtp_source_t *this, host_t *ar, char *reason, size_t len);

	/**
	 * Destroy a cxtp_source_t.
	 */
	void (*destroy)(cxtp_source_t *this);
};

/**
 * Create a cxtp_source_t.
 *
 * @param usable		check whether an address can be sent from, NULL for
 *						the kernel's: whether a socket binds to it (it does
 *						not to a tentative address, unless
 *						net.ipv6.ip_nonlocal_bind is set)
 * @return				instance
 */
cxtp_source_t *cxtp_source_create(cxtp_source_usable_t usable);

#endif /** CXTP_SOURCE_H_ @}*/
