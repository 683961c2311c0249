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
 * @defgroup cxtp_dispatcher cxtp_dispatcher
 * @{ @ingroup cxtp
 */

#ifndef CXTP_DISPATCHER_H_
#define CXTP_DISPATCHER_H_

#include "cxtp_icmp.h"
#include "cxtp_ike_index.h"
#include "cxtp_mn.h"
#include "cxtp_nar.h"
#include "cxtp_par.h"
#include "cxtp_settings.h"
#include "cxtp_transport.h"

typedef struct cxtp_dispatcher_t cxtp_dispatcher_t;

/**
 * Receives CXTP messages, from mobile nodes over ICMP and from other access
 * routers over UDP, and hands each to the role that processes it.
 *
 * A CTAR goes, in this order: nowhere if it repeats the last valid one; to
 * nAR if it imported a context for the mobile node; nowhere if it names no
 * configured peer; to pAR if it holds an established IKE_SA with the node
 * (the peer is the next access router); nowhere if it holds one in another
 * state (frozen: the context is here, asking the peer for it would reflect
 * the CTAR to it) or the CTAR comes from the node's previous address (not
 * a node arriving here); else to nAR, which asks the peer the CTAR names
 * for the context. A CTAA goes to the mobile node's side. A PCTD, CTD or
 * CTC goes to nAR, a CT-Req to pAR, a CTDR to pAR, but one without S flag
 * and transfer ID, pAR's answer that it holds no context for a CT-Req, to
 * nAR. A transport timeout goes to nAR for a CT-Req (CXTP_NAR_REQUEST), to
 * pAR for a context it sent.
 *
 * CTARs are processed in jobs behind a bounded queue (cxtp_ctar_queue_t),
 * so the ICMP watcher only receives and checks what is cheap; messages from
 * peers are processed in a job too, as they check out IKE_SAs.
 *
 * The dispatcher creates and owns both transports, so the roles, which send
 * with them, come after it (set_roles()); it drops messages until then.
 */
struct cxtp_dispatcher_t {

	/**
	 * The transport to mobile nodes.
	 *
	 * @return				transport, NULL if it could not be set up
	 */
	cxtp_icmp_t* (*get_icmp)(cxtp_dispatcher_t *this);

	/**
	 * The transport to other access routers.
	 *
	 * @return				transport, NULL if it could not be set up
	 */
	cxtp_transport_t* (*get_transport)(cxtp_dispatcher_t *this);

	/**
	 * Set the roles received messages go to.
	 *
	 * @param par			previous access router, NULL if none
	 * @param nar			new access router, NULL if none
	 * @param mn			mobile node, NULL if none
	 */
	void (*set_roles)(cxtp_dispatcher_t *this, cxtp_par_t *par,
					  cxtp_nar_t *nar, cxtp_mn_t *mn);

	/**
	 * Destroy the transports and the cxtp_dispatcher_t, before the roles:
	 * returns once no callback into them runs.
	 */
	void (*destroy)(cxtp_dispatcher_t *this);
};

/**
 * Constructor of the transport to mobile nodes.
 *
 * @param data			data passed to cxtp_dispatcher_create_with()
 * @param cb			callback for received messages
 * @param cb_data		data to pass to cb
 * @return				transport, NULL if it can't be set up
 */
typedef cxtp_icmp_t *(*cxtp_dispatcher_icmp_create_t)(void *data,
											cxtp_icmp_receive_cb_t cb,
											void *cb_data);

/**
 * Constructor of the transport to other access routers.
 *
 * @param data			data passed to cxtp_dispatcher_create_with()
 * @param cb			callback for received messages
 * @param cb_data		data to pass to cb
 * @return				transport, NULL if it can't be set up
 */
typedef cxtp_transport_t *(*cxtp_dispatcher_transport_create_t)(void *data,
											cxtp_transport_receive_cb_t cb,
											void *cb_data);

/**
 * Create a cxtp_dispatcher_t with the ICMP transport to mobile nodes and
 * the UDP transport to other access routers.
 *
 * @param settings		plugin settings
 * @param index			IKE_SAs by the mobile node's address
 * @return				instance
 */
cxtp_dispatcher_t *cxtp_dispatcher_create(cxtp_settings_t *settings,
										  cxtp_ike_index_t *index);

/**
 * Create a cxtp_dispatcher_t with transports of the caller's choice, so unit
 * tests can see and inject messages.
 *
 * @param settings		plugin settings
 * @param index			IKE_SAs by the mobile node's address
 * @param icmp			constructor of the transport to mobile nodes, NULL
 *						for none
 * @param icmp_data		data to pass to icmp
 * @param transport		constructor of the transport to other access
 *						routers, NULL for none
 * @param transport_data	data to pass to transport
 * @return				instance
 */
cxtp_dispatcher_t *cxtp_dispatcher_create_with(cxtp_settings_t *settings,
							cxtp_ike_index_t *index,
							cxtp_dispatcher_icmp_create_t icmp,
							void *icmp_data,
							cxtp_dispatcher_transport_create_t transport,
							void *transport_data);

#endif /** CXTP_DISPATCHER_H_ @}*/
