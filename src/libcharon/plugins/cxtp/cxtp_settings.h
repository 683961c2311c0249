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
 * @defgroup cxtp_settings cxtp_settings
 * @{ @ingroup cxtp
 */

#ifndef CXTP_SETTINGS_H_
#define CXTP_SETTINGS_H_

#include "cxtp_peer.h"

#include <library.h>
#include <networking/host.h>

/**
 * Default UDP port for CXTP between access routers (Seamoby, RFC 4065)
 */
#define CXTP_DEFAULT_PORT 5091

/**
 * Default initial retransmission timeout in ms (RFC 4067 uses 1 second)
 */
#define CXTP_DEFAULT_RETRANSMIT_TIMEOUT 1000

/**
 * Default number of retransmissions before giving up
 */
#define CXTP_DEFAULT_RETRANSMIT_TRIES 3

/**
 * Default base of the exponential retransmission backoff
 */
#define CXTP_DEFAULT_RETRANSMIT_BASE 2.0

/**
 * Default number of CTARs accepted per second and source (CT_REQUEST_RATE)
 */
#define CXTP_DEFAULT_CTAR_RATE 10

/**
 * Default wait in ms before the first retransmission of a CTAR
 * (CT_REQUEST_RETRY)
 */
#define CXTP_DEFAULT_CTAR_RETRY 2000

/**
 * Default time in ms after which CTAR retransmission gives up
 * (CT_RETRY_MAX)
 */
#define CXTP_DEFAULT_CTAR_RETRY_MAX 15000

/**
 * Longest configurable CTAR retransmission time in ms (a day)
 */
#define CXTP_MAX_CTAR_RETRY 86400000

/**
 * Shortest peer secret accepted without a warning
 */
#define CXTP_MIN_SECRET_LEN 32

/**
 * Default jump added to a transferred outbound ESP sequence number
 */
#define CXTP_DEFAULT_SEQ_JUMP 4096

/**
 * Default of the highest rate in packets/s an access router sends to one
 * mobile node, which the jump covers while a pushed context waits
 */
#define CXTP_DEFAULT_SEQ_RATE 1000000

/**
 * Default time in ms a transfer waits for its activation
 */
#define CXTP_DEFAULT_HANDOVER_TIMEOUT 30000

/**
 * Default number of contexts a drain keeps sent and not yet imported
 */
#define CXTP_DEFAULT_DRAIN_WINDOW 32

typedef struct cxtp_settings_t cxtp_settings_t;

/**
 * The options of the cxtp plugin and its table of peers, read from
 * charon.plugins.cxtp in strongswan.conf when created and on reload().
 *
 * Invalid values fall back to their default with a log message
 * (cxtp_options_t). Times are in ms. Getters may be called from any thread,
 * also while another one reloads.
 */
struct cxtp_settings_t {

	/**
	 * Get the UDP port used for CXTP between access routers.
	 *
	 * The transport binds it once, so this is the port read when the
	 * settings were created; reload() only reports a change.
	 *
	 * @return			UDP port (1..65535)
	 */
	uint16_t (*get_port)(cxtp_settings_t *this);

	/**
	 * Get the initial retransmission timeout.
	 *
	 * @return			timeout in ms (> 0)
	 */
	uint32_t (*get_retransmit_timeout)(cxtp_settings_t *this);

	/**
	 * Get the number of retransmissions before giving up.
	 *
	 * @return			number of retransmissions
	 */
	u_int (*get_retransmit_tries)(cxtp_settings_t *this);

	/**
	 * Get the base of the exponential retransmission backoff.
	 *
	 * @return			backoff base (>= 1.0)
	 */
	double (*get_retransmit_base)(cxtp_settings_t *this);

	/**
	 * Get the number of CTARs per second accepted from a single source.
	 *
	 * @return			CTARs per second (> 0)
	 */
	u_int (*get_ctar_rate)(cxtp_settings_t *this);

	/**
	 * Get CT_REQUEST_RETRY, the wait before the first retransmission of a
	 * CTAR.
	 *
	 * @return			wait in ms (> 0, <= CXTP_MAX_CTAR_RETRY)
	 */
	uint32_t (*get_ctar_retry)(cxtp_settings_t *this);

	/**
	 * Get CT_RETRY_MAX, how long after its first transmission a CTAR is
	 * retransmitted.
	 *
	 * @return			time in ms (> 0, <= CXTP_MAX_CTAR_RETRY)
	 */
	uint32_t (*get_ctar_retry_max)(cxtp_settings_t *this);

	/**
	 * Get the jump added to the transferred outbound ESP sequence number on
	 * the new access router.
	 *
	 * @return			sequence number jump
	 */
	uint32_t (*get_seq_jump)(cxtp_settings_t *this);

	/**
	 * Get the highest rate at which an access router sends ESP packets to
	 * one mobile node: the new access router's jump covers it for as long as
	 * the previous one may have kept sending after it took the counter.
	 *
	 * @return			packets per second, 0 for the fixed jump only
	 */
	uint32_t (*get_seq_rate)(cxtp_settings_t *this);

	/**
	 * Get how long a transfer waits for its activation: pAR keeps a pushed
	 * IKE_SA frozen, nAR an imported context, a mobile node a prepared
	 * IKE_SA.
	 *
	 * @return			timeout in ms (> 0)
	 */
	uint32_t (*get_handover_timeout)(cxtp_settings_t *this);

	/**
	 * Get how many contexts a drain keeps in flight to the peer: sent and
	 * neither imported there nor ended.
	 *
	 * @return			number of contexts (> 0)
	 */
	u_int (*get_drain_window)(cxtp_settings_t *this);

	/**
	 * Get the number of usable CXTP peers (sections in peers with an
	 * address that resolves and a secret).
	 *
	 * @return			number of peers
	 */
	u_int (*get_peer_count)(cxtp_settings_t *this);

	/**
	 * Look up a CXTP peer by its name.
	 *
	 * @param name		name of the peer's section in peers
	 * @return			reference to the peer, NULL if not configured
	 */
	cxtp_peer_t* (*get_peer)(cxtp_settings_t *this, char *name);

	/**
	 * Find the configured peer with an address.
	 *
	 * @param address	address of the peer, the port is ignored
	 * @param access	also look at the addresses mobile nodes know peers by
	 *					(as CTARs name them), not only at CXTP addresses
	 * @return			reference to the peer, NULL if none
	 */
	cxtp_peer_t* (*find_peer)(cxtp_settings_t *this, host_t *address,
							  bool access);

	/**
	 * Find the configured peer that allocated an IKE SPI: the one whose
	 * spi_label the SPI carries under charon.spi_mask.
	 *
	 * @param spi		IKE SPI, network order
	 * @param own		set if the SPI carries our own charon.spi_label, or
	 *					if charon.spi_mask is not set (no labels at all)
	 * @return			reference to the peer, NULL if none
	 */
	cxtp_peer_t* (*find_peer_by_spi)(cxtp_settings_t *this, uint64_t spi,
									 bool *own);

	/**
	 * Create an enumerator over the usable peers, in the order they are
	 * configured (a snapshot: a reload does not change what it returns).
	 *
	 * @return			enumerator over cxtp_peer_t*
	 */
	enumerator_t* (*create_peer_enumerator)(cxtp_settings_t *this);

	/**
	 * Read the options and peers again (swanctl --reload-settings). A peer
	 * configured as before stays the same object.
	 */
	void (*reload)(cxtp_settings_t *this);

	/**
	 * Destroy a cxtp_settings_t.
	 */
	void (*destroy)(cxtp_settings_t *this);
};

/**
 * Create a cxtp_settings_t, reading the options.
 *
 * @return			instance
 */
cxtp_settings_t *cxtp_settings_create();

#endif /** CXTP_SETTINGS_H_ @}*/
