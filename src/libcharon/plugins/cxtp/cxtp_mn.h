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
#include "cxtp_source.h"
#include "cxtp_transfers.h"

#include <bus/listeners/listener.h>
#include <kernel/kernel_listener.h>
#include <sa/ike_sa.h>

typedef struct cxtp_mn_t cxtp_mn_t;

/**
 * Interval of the address checks of a prepared IKE_SA in ms, when charon
 * reports no roam events (kernel-netlink's delay of those events)
 */
#define CXTP_MN_POLL_INTERVAL 100

/**
 * The mobile node's side of a context transfer.
 *
 * After a move the mobile node sends one CTAR to its new access router
 * (nAR), naming the previous one (pAR) and carrying the authorization token
 * derived from its IKE_SA, and points its IKE_SA and CHILD_SAs at nAR.  The
 * CTAR goes out once the new link has a usable address (not link-local, no
 * longer tentative), and is retransmitted (with backoff, for at most
 * ctar_retry_max) until the activation shows: a CTAA, any IKE message nAR
 * sends under the IKE_SA's keys (mobike-spi's MOBIKE update), or, when the
 * retransmissions end, ESP the CHILD_SAs received since the CTAR.
 * Meanwhile the IKE_SA does not roam (no MOBIKE update of its own crosses
 * nAR's); the token counter advances only with the activation.  Without
 * one, the IKE_SA and its CHILD_SAs move back to pAR with the counter
 * unchanged, and charon's own roaming takes over from there, as after a
 * move without a transfer: MOBIKE towards pAR, and a new IKE_SA if that
 * fails.
 *
 * An IKE_SA prepared for a handover is frozen (IKE_PASSIVE, so charon's own
 * roaming does not start MOBIKE towards pAR from the new link) until its
 * local address goes away; then the CTAR goes out by itself, to the access
 * router named when preparing or else to the default router of the new link.
 * The move shows in charon's roam events, or, with kernel-netlink's
 * roam_events disabled, in a check of the addresses every
 * CXTP_MN_POLL_INTERVAL ms.  A preparation without a move thaws after
 * handover_timeout.
 *
 * Every transfer belongs to one IKE_SA, by its unique ID and SPIs, and ends
 * with it.
 */
struct cxtp_mn_t {

	/**
	 * Address and route changes, to activate prepared IKE_SAs after a move.
	 */
	kernel_listener_t listener;

	/**
	 * IKE_SA events: the activation in nAR's IKE messages, transfers ending
	 * with their IKE_SA, and reestablishing a handed over IKE_SA with the
	 * access router that holds it.
	 */
	listener_t ike_listener;

	/**
	 * Activate the context of an IKE_SA on a new access router.
	 *
	 * Right after a move the new link may have no usable address yet (only
	 * a link-local one, or a tentative one, or charon has not seen the new
	 * one yet): the IKE_SA then waits for one as a prepared IKE_SA does,
	 * frozen for at most handover_timeout, and the CTAR goes out once there
	 * is one; wait_activation() tells how that ended.
	 *
	 * @param ike_sa		IKE_SA with the previous access router, checked out
	 * @param nar			address of the new access router, NULL for the
	 *						default router of the link we moved to
	 * @param ack			whether to ask for a CTAA (the CTAR is
	 *						retransmitted until the activation shows either
	 *						way)
	 * @return				NULL if the CTAR was sent or waits for a usable
	 *						address, otherwise why not (allocated)
	 */
	char* (*activate)(cxtp_mn_t *this, ike_sa_t *ike_sa, host_t *nar,
					  bool ack);

	/**
	 * Wait until an activation of an IKE_SA that waits for a usable address
	 * sent its CTAR or gave up.
	 *
	 * @param ike_id		unique ID of the IKE_SA, not checked out
	 * @return				NULL if the CTAR was sent or nothing waits,
	 *						otherwise why not (allocated)
	 */
	char* (*wait_activation)(cxtp_mn_t *this, u_int ike_id);

	/**
	 * Prepare an IKE_SA for a handover: freeze it and send the CTAR
	 * automatically once its local address is gone and a new one is usable.
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
	 * Where a transfer of an IKE_SA stands.
	 *
	 * @param ike_sa		IKE_SA
	 * @return				"prepared" (waiting for the move), "activating"
	 *						(CTAR sent, waiting for the activation), NULL if
	 *						none
	 */
	char* (*get_state)(cxtp_mn_t *this, ike_sa_t *ike_sa);

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
 * @param source		source addresses of CTARs, owned
 * @return				instance
 */
cxtp_mn_t *cxtp_mn_create(cxtp_capture_t *capture,
						  cxtp_transfers_t *transfers,
						  cxtp_settings_t *settings, cxtp_icmp_t *icmp,
						  cxtp_source_t *source);

#endif /** CXTP_MN_H_ @}*/
