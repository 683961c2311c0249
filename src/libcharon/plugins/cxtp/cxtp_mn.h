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
 * @defgroup cxtp_mn cxtp_mn
 * @{ @ingroup cxtp
 */

#ifndef CXTP_MN_H_
#define CXTP_MN_H_

#include "cxtp_capture.h"
#include "cxtp_events.h"
#include "cxtp_icmp.h"
#include "cxtp_settings.h"
#include "cxtp_transfers.h"

#include <bus/listeners/listener.h>
#include <kernel/kernel_listener.h>
#include <sa/ike_sa.h>

typedef struct cxtp_mn_t cxtp_mn_t;

/**
 * The mobile node's side of a context transfer.
 *
 * After a move the mobile node sends one CTAR to its new access router
 * (nAR), naming the previous one (pAR) and carrying the authorization token
 * derived from its IKE_SA, and points its IKE_SA and CHILD_SAs at nAR.
 *
 * An IKE_SA prepared for a handover is frozen (IKE_PASSIVE, so charon's own
 * roaming does not start MOBIKE towards pAR from the new link) until its
 * local address goes away; then the CTAR goes out by itself, to the access
 * router named when preparing or else to the default router of the new link.
 * A preparation without a move thaws after handover_timeout.
 */
struct cxtp_mn_t {

	/**
	 * Address and route changes, to activate prepared IKE_SAs after a move.
	 */
	kernel_listener_t listener;

	/**
	 * IKE_SA events, to reestablish a handed over IKE_SA with the access
	 * router that holds it.
	 */
	listener_t ike_listener;

	/**
	 * Activate the context of an IKE_SA on a new access router.
	 *
	 * @param ike_sa		IKE_SA with the previous access router, checked out
	 * @param nar			address of the new access router, NULL for the
	 *						default router of the link we moved to
	 * @param ack			whether to ask for a CTAA (and retransmit without)
	 * @return				NULL if the CTAR was sent, otherwise why not
	 *						(allocated)
	 */
	char* (*activate)(cxtp_mn_t *this, ike_sa_t *ike_sa, host_t *nar,
					  bool ack);

	/**
	 * Prepare an IKE_SA for a handover: freeze it and send the CTAR
	 * automatically once its local address is gone.
	 *
	 * With the address of the next access router, the mobile node also asks
	 * its current access router (pAR) to push the context there (predictive
	 * transfer started by the mobile node): a CTAR to pAR naming nAR, whose
	 * sequence number the CTAR after the move repeats (RFC 4067 section 3.2).
	 * Without, pAR pushes on the operator's command, or nAR asks pAR for the
	 * context when the CTAR arrives (reactive).
	 *
	 * @param ike_sa		IKE_SA with the current access router, checked out
	 * @param nar			address of the next access router, or NULL
	 * @param ack			whether the CTAR after the move asks for a CTAA
	 * @return				NULL if prepared, otherwise why not (allocated)
	 */
	char* (*prepare)(cxtp_mn_t *this, ike_sa_t *ike_sa, host_t *nar,
					 bool ack);

	/**
	 * Whether an IKE_SA is prepared for a handover and waits for the move.
	 *
	 * @param ike_sa		IKE_SA
	 * @return				TRUE if prepared
	 */
	bool (*is_prepared)(cxtp_mn_t *this, ike_sa_t *ike_sa);

	/**
	 * Process a CTAA from an access router.
	 *
	 * @param src			access router
	 * @param message		the CTAA, owned by the callee
	 */
	void (*process_ctaa)(cxtp_mn_t *this, host_t *src,
						 cxtp_message_t *message);

	/**
	 * Set the callback for handover events.
	 *
	 * @param cb			callback, NULL to unset
	 * @param data			data to pass to the callback
	 */
	void (*set_event_cb)(cxtp_mn_t *this, cxtp_event_cb_t cb, void *data);

	/**
	 * Destroy a cxtp_mn_t.
	 */
	void (*destroy)(cxtp_mn_t *this);
};

/**
 * Create a cxtp_mn_t.
 *
 * @param capture		captured SA keys, to tell what can be transferred
 * @param transfers		transfer counters and token keys
 * @param settings		plugin settings
 * @param icmp			transport to access routers
 * @return				instance
 */
cxtp_mn_t *cxtp_mn_create(cxtp_capture_t *capture,
						  cxtp_transfers_t *transfers,
						  cxtp_settings_t *settings, cxtp_icmp_t *icmp);

#endif /** CXTP_MN_H_ @}*/
