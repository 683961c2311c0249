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
 * @defgroup cxtp_ar cxtp_ar
 * @{ @ingroup cxtp
 */

#ifndef CXTP_AR_H_
#define CXTP_AR_H_

#include "cxtp_capture.h"
#include "cxtp_events.h"
#include "cxtp_icmp.h"
#include "cxtp_pad.h"
#include "cxtp_settings.h"
#include "cxtp_transfers.h"
#include "cxtp_transport.h"

#include <sa/ike_sa.h>

/**
 * Status code in a CTDR telling pAR that the mobile node activated the
 * context on nAR, so pAR may drop its copy; a project extension beside
 * RFC 4067's zero for success.
 */
#define CXTP_STATUS_ACTIVATED 0x80

/**
 * Status code in a CTDR for a context nAR could not import.
 */
#define CXTP_STATUS_FAILED 0x01

typedef struct cxtp_ar_t cxtp_ar_t;

/**
 * An access router's side of context transfer between access routers.
 *
 * As previous access router (pAR) it pushes the context of an IKE_SA to a
 * peer in a PCTD and freezes the IKE_SA (IKE_PASSIVE: no rekeying, DPD or
 * other exchanges) until the peer reports activation, then removes it and
 * its kernel state without a DELETE to the mobile node; if the peer refuses
 * or does not answer, the IKE_SA thaws and keeps working. As new access
 * router (nAR) it imports received contexts as passive IKE_SAs and
 * acknowledges them with a CTDR.
 */
struct cxtp_ar_t {

	/**
	 * Push the context of an IKE_SA to a peer gateway.
	 *
	 * @param ike_sa		IKE_SA, checked out by the caller
	 * @param peer			name of the peer in the plugin's configuration
	 * @return				NULL if the push started, otherwise why not
	 *						(allocated)
	 */
	char* (*push)(cxtp_ar_t *this, ike_sa_t *ike_sa, char *peer);

	/**
	 * Process a CTAR a mobile node sent us over ICMP: verify its token
	 * against an imported context, activate the context at the addresses the
	 * CTAR came from and arrived at, acknowledge it with a CTAA if asked to
	 * and report the activation to the pAR the context came from.
	 *
	 * Invalid or duplicate CTARs are logged and change nothing. The CTAR is
	 * processed in the calling thread: the mobile node's traffic waits for
	 * the activation, a hop to another thread only adds to that.
	 *
	 * @param src			the mobile node's new address
	 * @param dst			our address the CTAR arrived at
	 * @param message		the CTAR, owned by the callee
	 */
	void (*process_ctar)(cxtp_ar_t *this, host_t *src, host_t *dst,
						 cxtp_message_t *message);

	/**
	 * The transfer state of an IKE_SA, for listings.
	 *
	 * @param ike_sa		IKE_SA
	 * @return				"pending" (pushed, frozen), "imported" (passive
	 *						until activated) or NULL
	 */
	char* (*get_state)(cxtp_ar_t *this, ike_sa_t *ike_sa);

	/**
	 * Set the callback for transfer events.
	 *
	 * @param cb			callback, NULL to unset
	 * @param data			data to pass to the callback
	 */
	void (*set_event_cb)(cxtp_ar_t *this, cxtp_event_cb_t cb, void *data);

	/**
	 * Destroy a cxtp_ar_t.
	 */
	void (*destroy)(cxtp_ar_t *this);
};

/**
 * Create a cxtp_ar_t, listening for other access routers.
 *
 * @param capture		captured SA keys, to build contexts
 * @param transfers		transfer counters and token keys
 * @param settings		plugin settings
 * @param icmp			transport to mobile nodes, for CTAAs
 * @param pad			PAD entries of activated contexts
 * @return				instance, NULL if the transport can't be set up
 */
cxtp_ar_t *cxtp_ar_create(cxtp_capture_t *capture,
						  cxtp_transfers_t *transfers,
						  cxtp_settings_t *settings, cxtp_icmp_t *icmp,
						  cxtp_pad_t *pad);

/**
 * Constructor of the transport to other access routers.
 *
 * @param data			data passed to cxtp_ar_create_with_transport()
 * @param cb			callback for received messages, to pass to the
 *						transport
 * @param cb_data		data to pass to cb
 * @return				transport, NULL if it can't be set up
 */
typedef cxtp_transport_t *(*cxtp_ar_transport_create_t)(void *data,
											cxtp_transport_receive_cb_t cb,
											void *cb_data);

/**
 * Create a cxtp_ar_t with a transport of the caller's choice instead of UDP,
 * so unit tests can see and inject messages between access routers.
 *
 * @param capture		captured SA keys, to build contexts
 * @param transfers		transfer counters and token keys
 * @param settings		plugin settings
 * @param icmp			transport to mobile nodes, for CTAAs
 * @param pad			PAD entries of activated contexts
 * @param create		constructor of the transport
 * @param data			data to pass to create
 * @return				instance, NULL if the transport can't be set up
 */
cxtp_ar_t *cxtp_ar_create_with_transport(cxtp_capture_t *capture,
										 cxtp_transfers_t *transfers,
										 cxtp_settings_t *settings,
										 cxtp_icmp_t *icmp, cxtp_pad_t *pad,
										 cxtp_ar_transport_create_t create,
										 void *data);

#endif /** CXTP_AR_H_ @}*/
