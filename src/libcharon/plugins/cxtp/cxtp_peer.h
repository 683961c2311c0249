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
 * @defgroup cxtp_peer cxtp_peer
 * @{ @ingroup cxtp
 */

#ifndef CXTP_PEER_H_
#define CXTP_PEER_H_

#include <library.h>
#include <networking/host.h>
#include <collections/array.h>

typedef struct cxtp_peer_t cxtp_peer_t;

/**
 * A configured CXTP peer (another access router), as the settings loaded
 * it: immutable, and reference counted, so whoever holds one may keep using
 * it after a reload replaced it in the settings.
 */
struct cxtp_peer_t {

	/**
	 * Name of the peer's section in charon.plugins.cxtp.peers.
	 *
	 * @return			name
	 */
	char* (*get_name)(cxtp_peer_t *this);

	/**
	 * The address and port of the peer's CXTP transport.
	 *
	 * @return			address, with port
	 */
	host_t* (*get_address)(cxtp_peer_t *this);

	/**
	 * The secret the transport keys are derived from.
	 *
	 * @return			secret, wiped when the peer is destroyed
	 */
	chunk_t (*get_secret)(cxtp_peer_t *this);

	/**
	 * Whether the peer has an address, on its CXTP transport or, if
	 * access is set, one mobile nodes know it by.
	 *
	 * @param address	address, the port is ignored
	 * @param access	whether to look at its access addresses too
	 * @return			TRUE if the peer has that address
	 */
	bool (*has_address)(cxtp_peer_t *this, host_t *address, bool access);

	/**
	 * The label the peer puts into the IKE SPIs it allocates
	 * (peers.<name>.spi_label, its charon.spi_label), under the mask of
	 * charon.spi_mask the access routers share.
	 *
	 * @param label		receives the label, network order
	 * @return			FALSE if none is configured
	 */
	bool (*get_spi_label)(cxtp_peer_t *this, uint64_t *label);

	/**
	 * Whether another peer object is configured the same way (a reload
	 * keeps such a peer, and with it the transport's state).
	 *
	 * @param other		other peer
	 * @return			TRUE if name, addresses, secret and SPI label are equal
	 */
	bool (*equals)(cxtp_peer_t *this, cxtp_peer_t *other);

	/**
	 * Get a new reference.
	 *
	 * @return			this
	 */
	cxtp_peer_t* (*get_ref)(cxtp_peer_t *this);

	/**
	 * Release a reference, the last one wipes the secret.
	 */
	void (*destroy)(cxtp_peer_t *this);
};

/**
 * Create a cxtp_peer_t.
 *
 * @param name			name of the peer
 * @param address		CXTP address with port, adopted
 * @param access		access addresses (host_t*), adopted, may be NULL
 * @param secret		secret, copied
 * @param spi_label		label of the IKE SPIs it allocates, network order,
 *						NULL if none
 * @return				instance
 */
cxtp_peer_t *cxtp_peer_create(char *name, host_t *address, array_t *access,
							  chunk_t secret, uint64_t *spi_label);

#endif /** CXTP_PEER_H_ @}*/
