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

#include <library.h>
#include <networking/host.h>

/**
 * Default UDP port for access-router-to-access-router CXTP
 */
#define CXTP_DEFAULT_PORT 5091

/**
 * Default initial retransmission timeout in seconds (RFC 4067)
 */
#define CXTP_DEFAULT_RETRANSMIT_TIMEOUT 1.0

/**
 * Default number of retransmissions before giving up
 */
#define CXTP_DEFAULT_RETRANSMIT_TRIES 3

/**
 * Default base of the exponential retransmission backoff
 */
#define CXTP_DEFAULT_RETRANSMIT_BASE 2.0

/**
 * Default number of CTARs per second accepted per source
 */
#define CXTP_DEFAULT_CTAR_RATE 10

/**
 * Default CT_REQUEST_RETRY, the wait before the first retransmission of a
 * CTAR, in seconds (RFC 4067 section 4)
 */
#define CXTP_DEFAULT_CTAR_RETRY 2.0

/**
 * Default CT_RETRY_MAX, how long after its first transmission a CTAR is
 * retransmitted, in seconds (RFC 4067 section 4)
 */
#define CXTP_DEFAULT_CTAR_RETRY_MAX 15.0

/**
 * Largest accepted ctar_retry and ctar_retry_max, in seconds (a day)
 */
#define CXTP_MAX_CTAR_RETRY 86400.0

/**
 * Default jump added to transferred outbound ESP sequence numbers
 */
#define CXTP_DEFAULT_SEQ_JUMP 4096

/**
 * Default seconds pAR keeps a pushed IKE_SA frozen waiting for activation
 */
#define CXTP_DEFAULT_HANDOVER_TIMEOUT 30

typedef struct cxtp_settings_t cxtp_settings_t;

/**
 * Settings of the cxtp plugin, read from <ns>.plugins.cxtp.
 *
 * All values, including the peers, are read and validated once when the
 * object is created.  Invalid values are logged and replaced by their default,
 * peers without address or secret are logged and ignored.  This object is the
 * only reader of these options in the plugin, so each problem is logged once.
 */
struct cxtp_settings_t {

	/**
	 * Get the UDP port used for CXTP between access routers.
	 *
	 * @return			UDP port (1..65535)
	 */
	uint16_t (*get_port)(cxtp_settings_t *this);

	/**
	 * Get the initial retransmission timeout.
	 *
	 * @return			timeout in seconds (> 0)
	 */
	double (*get_retransmit_timeout)(cxtp_settings_t *this);

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
	 * @return			wait in seconds (> 0, <= CXTP_MAX_CTAR_RETRY)
	 */
	double (*get_ctar_retry)(cxtp_settings_t *this);

	/**
	 * Get CT_RETRY_MAX, how long after its first transmission a CTAR is
	 * retransmitted.
	 *
	 * @return			time in seconds (> 0, <= CXTP_MAX_CTAR_RETRY)
	 */
	double (*get_ctar_retry_max)(cxtp_settings_t *this);

	/**
	 * Get the jump added to the transferred outbound ESP sequence number on
	 * the new access router.
	 *
	 * @return			sequence number jump
	 */
	uint32_t (*get_seq_jump)(cxtp_settings_t *this);

	/**
	 * Get how long pAR waits for a pushed context to be activated.
	 *
	 * @return			timeout in seconds (> 0)
	 */
	uint32_t (*get_handover_timeout)(cxtp_settings_t *this);

	/**
	 * Get the number of usable CXTP peers (sections in peers with both an
	 * address and a secret).
	 *
	 * @return			number of peers
	 */
	u_int (*get_peer_count)(cxtp_settings_t *this);

	/**
	 * Look up the address of a CXTP peer by its name.
	 *
	 * @param name		name of the peer's section in peers
	 * @return			configured address string (owned by this object), NULL
	 *					if the peer is not configured or not usable
	 */
	char* (*get_peer_address)(cxtp_settings_t *this, char *name);

	/**
	 * Create an enumerator over the usable CXTP peers, in the order they are
	 * configured.
	 *
	 * The secret is the string as configured, owned by this object, which
	 * wipes it when destroyed: whoever uses it must not outlive this object.
	 * The port is the peer's port if valid, the configured port otherwise.
	 *
	 * @return			enumerator over (char *name, char *address,
	 *					char *secret, uint16_t port)
	 */
	enumerator_t* (*create_peer_enumerator)(cxtp_settings_t *this);

	/**
	 * Find the configured peer with an address, its CXTP address or one
	 * mobile nodes know it by (its access addresses, as CTARs name it);
	 * names are not resolved here.
	 *
	 * @param address	address of the peer
	 * @return			name of the peer, NULL if none
	 */
	char* (*find_peer)(cxtp_settings_t *this, host_t *address);

	/**
	 * Destroy a cxtp_settings_t, wiping the peers' secrets.
	 */
	void (*destroy)(cxtp_settings_t *this);
};

/**
 * Create a cxtp_settings_t instance reading the current configuration.
 *
 * @return			settings object
 */
cxtp_settings_t *cxtp_settings_create();

#endif /** CXTP_SETTINGS_H_ @}*/
