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
 * @defgroup cxtp_par cxtp_par
 * @{ @ingroup cxtp
 */

#ifndef CXTP_PAR_H_
#define CXTP_PAR_H_

#include "cxtp_capture.h"
#include "cxtp_events.h"
#include "cxtp_freeze.h"
#include "cxtp_handovers.h"
#include "cxtp_ike_index.h"
#include "cxtp_message.h"
#include "cxtp_settings.h"
#include "cxtp_transfers.h"
#include "cxtp_transport.h"

#include <bus/listeners/listener.h>
#include <sa/ike_sa.h>

typedef struct cxtp_par_t cxtp_par_t;

/**
 * The previous access router (pAR): it holds a mobile node's IKE_SA and
 * hands its context to another access router.
 *
 * It sends the context in a PCTD when the operator pushes it or when the
 * mobile node, still attached, names the next access router in a CTAR, and
 * in a CTD when that router asks with a CT-Req. The IKE_SA is frozen
 * meanwhile (IKE_PASSIVE: no rekeying, DPD or other exchanges, while its
 * CHILD_SAs keep carrying traffic). Each transfer is named by the IKE_SA's
 * SPIs and a serial of its own (cxtp_transfer_id_t), in every message
 * about it, so answers are booked against this transfer only.
 *
 * Once the peer reports the activation in a CTDR, the IKE_SA goes with its
 * kernel state, without a DELETE to the mobile node. It thaws only when the
 * peer says it will not activate the context: it refused or failed to
 * import it, or answers a CTC with "cancelled". pAR sends that CTC when no
 * activation follows within handover_timeout, when the peer did not answer
 * the PCTD/CTD, and to withdraw the context (cxtp-cancel, or another peer
 * asking for it with a CT-Req). If the peer does not answer the CTC either,
 * pAR cannot know whether it activated the context: it removes the IKE_SA
 * rather than risk two live copies, with a DELETE that the mobile node
 * accepts only if no other router spoke to it under this IKE_SA since.
 *
 * What falls due while the IKE_SA is frozen runs when it thaws
 * (cxtp_freeze_t). Its transfer goes with the IKE_SA: a terminated or
 * deleted IKE_SA withdraws its context from the peer.
 */
struct cxtp_par_t {

	/**
	 * IKE_SA state changes, to drop the transfer of an IKE_SA that goes.
	 */
	listener_t listener;

	/**
	 * Push the context of an IKE_SA to a peer gateway in a PCTD.
	 *
	 * With takeover the peer activates the context as soon as it imported
	 * it, at the addresses the IKE_SA has here: the mobile node stays where
	 * it is and the gateway address moves to the peer (failover, anycast),
	 * so nothing is asked of or sent to the node. This IKE_SA goes once the
	 * peer reports the activation, as after any.
	 *
	 * @param ike_sa		IKE_SA, checked out by the caller
	 * @param peer			name of the peer in the plugin's configuration
	 * @param takeover		TRUE for a takeover
	 * @return				NULL if the push started, otherwise why not
	 *						(allocated)
	 */
	char* (*push)(cxtp_par_t *this, ike_sa_t *ike_sa, char *peer,
				  bool takeover);

	/**
	 * Withdraw the context of an IKE_SA sent to a peer: a CTC asks the peer
	 * to drop it, and the IKE_SA thaws once the peer confirms it did not
	 * activate it (or goes, if the peer did).
	 *
	 * @param ike_id		unique ID of the IKE_SA
	 * @return				NULL if the CTC went out, otherwise why not
	 *						(allocated)
	 */
	char* (*cancel)(cxtp_par_t *this, u_int ike_id);

	/**
	 * Process a CTAR the mobile node sent us before moving on, naming the
	 * access router it moves to: push the context there if the CTAR
	 * carries the node's valid token (predictive transfer started by the
	 * mobile node).
	 *
	 * @param peer			the configured peer the CTAR names
	 * @param src			IP source of the CTAR, covered by its token
	 * @param dst			IP destination of the CTAR, covered by its token
	 * @param message		the CTAR, owned by the callee
	 */
	void (*process_ctar)(cxtp_par_t *this, char *peer, host_t *src,
						 host_t *dst, cxtp_message_t *message);

	/**
	 * Process a CT-Req: send the context to the peer asking for it in a CTD
	 * if the request carries the mobile node's valid token (reactive
	 * transfer), withdrawing it first from a peer it was sent to before.
	 * A CT-Req that carries the node's IKE request instead (a stock MOBIKE
	 * client) names the IKE_SA by the request's SPIs; the request must be
	 * the one the IKE_SA expects next from the node and verify with its
	 * keys, checked before anything is frozen, otherwise the peer gets a
	 * "no context" CTDR (refusals logged at most once a second).
	 *
	 * @param peer			the peer that sent the CT-Req
	 * @param message		the CT-Req
	 */
	void (*process_ctreq)(cxtp_par_t *this, char *peer,
						  cxtp_message_t *message);

	/**
	 * Process a CTDR about a context we sent: wait for the activation after
	 * a successful import, remove the IKE_SA once activated, or thaw it if
	 * the peer will not activate it.
	 *
	 * @param peer			the peer that sent the CTDR
	 * @param message		the CTDR
	 */
	void (*process_ctdr)(cxtp_par_t *this, char *peer,
						 cxtp_message_t *message);

	/**
	 * The transport got no answer to a PCTD/CTD (ask the peer with a CTC)
	 * or to a CTC (remove the IKE_SA).
	 *
	 * @param peer			the peer the message was sent to
	 * @param serial		serial of the transfer, the transport's
	 *						identifier of the message
	 */
	void (*timeout)(cxtp_par_t *this, char *peer, u_int serial);

	/**
	 * The transfer state of an IKE_SA, for listings.
	 *
	 * @param ike_sa		IKE_SA
	 * @return				"pending" if sent to a peer and frozen, or NULL
	 */
	char* (*get_state)(cxtp_par_t *this, ike_sa_t *ike_sa);

	/**
	 * Enumerate the transfers in progress, locked until destroyed.
	 *
	 * @return				enumerator over cxtp_transfer_info_t*
	 */
	enumerator_t* (*create_transfer_enumerator)(cxtp_par_t *this);

	/**
	 * Set the callback for transfer events.
	 *
	 * @param cb			callback, NULL to unset
	 * @param data			data to pass to the callback
	 */
	void (*set_event_cb)(cxtp_par_t *this, cxtp_event_cb_t cb, void *data);

	/**
	 * Destroy a cxtp_par_t.
	 */
	void (*destroy)(cxtp_par_t *this);
};

/**
 * Create a cxtp_par_t.
 *
 * @param capture		captured SA keys, to export contexts
 * @param transfers		transfer counters and token keys
 * @param settings		plugin settings
 * @param transport		transport to other access routers
 * @param freeze		freezes and thaws IKE_SAs sent to a peer
 * @param index			IKE_SAs by the mobile node's address
 * @return				instance
 */
cxtp_par_t *cxtp_par_create(cxtp_capture_t *capture,
							cxtp_transfers_t *transfers,
							cxtp_settings_t *settings,
							cxtp_transport_t *transport,
							cxtp_freeze_t *freeze,
							cxtp_ike_index_t *index);

#endif /** CXTP_PAR_H_ @}*/
