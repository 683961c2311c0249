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
 * @defgroup cxtp_nar cxtp_nar
 * @{ @ingroup cxtp
 */

#ifndef CXTP_NAR_H_
#define CXTP_NAR_H_

#include "cxtp_events.h"
#include "cxtp_handovers.h"
#include "cxtp_icmp.h"
#include "cxtp_message.h"
#include "cxtp_leases.h"
#include "cxtp_pad.h"
#include "cxtp_settings.h"
#include "cxtp_transfers.h"
#include "cxtp_transport.h"

#include <bus/listeners/listener.h>
#include <sa/ike_sa.h>

/**
 * Flag of the transport identifiers of CT-Reqs, apart from the IKE_SA
 * unique IDs of the contexts pAR sends
 */
#define CXTP_NAR_REQUEST 0x80000000

/**
 * CTARs waiting for their context per mobile node at most: the node's own
 * beside forged ones, whose token pAR refuses
 */
#define CXTP_NAR_WAITING_PER_NODE 4

/**
 * Default number of CTARs waiting for their context at most
 * (charon.plugins.cxtp.ctar_waiting)
 */
#define CXTP_NAR_WAITING_MAX 128

typedef struct cxtp_nar_t cxtp_nar_t;

/**
 * The new access router (nAR): it takes over a mobile node's IKE_SA.
 *
 * A context received in a PCTD or CTD is imported as a passive IKE_SA and
 * acknowledged with a CTDR, both naming pAR's transfer ID. A newer transfer
 * of the same IKE_SA (its SPIs as pAR holds it) replaces an older import;
 * imports of other IKE_SAs of the same mobile node stay, and the token of
 * the CTAR decides which one it activates. The mobile node's CTAR with a
 * valid token activates it at the addresses the CTAR came from and arrived
 * at; nAR acknowledges that with a CTAA if asked to and reports it to pAR in
 * a second CTDR. Without a context for the node, nAR asks the pAR the CTAR
 * names with a CT-Req and activates the context once it arrives.
 *
 * A node that sends no CTAR (a stock MOBIKE client, configured with the
 * gateway address the access routers share) activates its import with its
 * next IKE request instead, its MOBIKE update from the new address: the
 * request must carry the message ID the IKE_SA expects next and verify with
 * the transferred keys. The IKE_SA moves to the addresses of the request,
 * pAR learns of it as of a CTAR's activation, and charon answers the request
 * as the MOBIKE responder. Anything else for the passive IKE_SA changes
 * nothing (logged at most once a second). Such a request for an IKE_SA we
 * hold no import of is held if our SPI in it carries a peer's label
 * (peers.<name>.spi_label, cxtp_held_t bounds what is held), and the peer
 * asked for the context with a CT-Req carrying it; once the context is
 * imported, the request is processed again and activates it as above. If it
 * does not verify then, the import goes and the peer thaws its copy.
 *
 * A PCTD with the T flag (a gateway takeover: the gateway address moves
 * here, the mobile node does not) is activated at once at the addresses it
 * names, with no CTAR or request of the node, and acknowledged with a single
 * CTDR reporting the activation (or the failure, and pAR thaws its copy).
 *
 * pAR withdraws a context with a CTC: nAR drops an import not activated and
 * answers "cancelled", or "activated" if it was. An import not activated
 * within handover_timeout goes, and nAR tells pAR so ("cancelled"). nAR
 * remembers what became of a transfer (no keys) for handover_timeout plus
 * twice the retransmission time, to answer a late CTC and refuse a late
 * copy of its PCTD; an activation is forgotten earlier if its IKE_SA goes.
 */
struct cxtp_nar_t {

	/**
	 * IKE_SA state changes and rekeyings, to drop an import whose IKE_SA
	 * goes and follow an activated one; IKE messages for a passive IKE_SA
	 * (core patch, ALERT_MESSAGE_FOR_PASSIVE_IKE_SA), to activate an import
	 * with the mobile node's own request; IKE requests for an IKE_SA we do
	 * not hold (ALERT_INVALID_IKE_SPI), to fetch its context.
	 */
	listener_t listener;

	/**
	 * Whether a CTAR repeats one that activated a context here, with a
	 * token valid for it (RFC 4067 section 3.2), as the mobile node
	 * retransmits it until it sees the activation; a CTAA is sent again if
	 * it asks for one and the activation is done.
	 *
	 * @param src			IP source of the CTAR
	 * @param dst			IP destination of the CTAR
	 * @param message		the CTAR
	 * @return				TRUE if a duplicate
	 */
	bool (*is_duplicate)(cxtp_nar_t *this, host_t *src, host_t *dst,
						 cxtp_message_t *message);

	/**
	 * Process a CTC: withdraw a context pAR sent, unless activated, and
	 * answer with a CTDR.
	 *
	 * @param peer			the peer that sent the CTC
	 * @param message		the CTC
	 */
	void (*process_ctc)(cxtp_nar_t *this, char *peer,
						cxtp_message_t *message);

	/**
	 * Whether we imported a context for a mobile node that still waits for
	 * its activation.
	 *
	 * @param mn			the mobile node's previous address
	 * @return				TRUE if we did
	 */
	bool (*has_context)(cxtp_nar_t *this, host_t *mn);

	/**
	 * Process a CTAR for an imported context: activate it if the token is
	 * valid, log and ignore it otherwise.
	 *
	 * The CTAR is processed in the calling thread, the dispatcher's job
	 * for the mobile node's CTARs.
	 *
	 * @param src			the mobile node's new address
	 * @param dst			our address the CTAR arrived at
	 * @param message		the CTAR, owned by the callee
	 */
	void (*process_ctar)(cxtp_nar_t *this, host_t *src, host_t *dst,
						 cxtp_message_t *message);

	/**
	 * Ask the pAR a CTAR names for the context with a CT-Req (reactive
	 * transfer), keeping the CTAR until the context arrives.
	 *
	 * At most CXTP_NAR_WAITING_PER_NODE CTARs wait per mobile node, and
	 * charon.plugins.cxtp.ctar_waiting in all; beyond, a random one of them
	 * makes room for the new one (logged), its CT-Req no longer
	 * retransmitted; the context pAR sends for it is still imported.
	 *
	 * @param peer			the configured peer the CTAR names
	 * @param src			the mobile node's new address
	 * @param dst			our address the CTAR arrived at
	 * @param message		the CTAR, owned by the callee
	 */
	void (*request_context)(cxtp_nar_t *this, char *peer, host_t *src,
							host_t *dst, cxtp_message_t *message);

	/**
	 * Process pAR's answer to a CT-Req that it holds no context of the
	 * mobile node (a CTDR without S flag and transfer ID): stop asking,
	 * drop the CTARs waiting for it from that peer.
	 *
	 * @param peer			the peer that sent it
	 * @param message		the CTDR
	 */
	void (*process_no_context)(cxtp_nar_t *this, char *peer,
							   cxtp_message_t *message);

	/**
	 * Process a PCTD or CTD: import the context and acknowledge it with a
	 * CTDR, then activate it for a CTAR waiting for it.
	 *
	 * @param peer			the peer that sent it
	 * @param message		the PCTD or CTD
	 */
	void (*process_ctd)(cxtp_nar_t *this, char *peer,
						cxtp_message_t *message);

	/**
	 * The transport got no answer to a CT-Req: drop the CTAR waiting for it.
	 *
	 * @param peer			the peer the CT-Req was sent to
	 * @param id			the transport's identifier of the CT-Req, with
	 *						CXTP_NAR_REQUEST set
	 */
	void (*timeout)(cxtp_nar_t *this, char *peer, uint32_t id);

	/**
	 * The transfer state of an IKE_SA, for listings.
	 *
	 * @param ike_sa		IKE_SA
	 * @return				"imported" if passive until activated, or NULL
	 */
	char* (*get_state)(cxtp_nar_t *this, ike_sa_t *ike_sa);

	/**
	 * Enumerate the transfers imported, and those remembered, locked until
	 * destroyed.
	 *
	 * @return				enumerator over cxtp_transfer_info_t*
	 */
	enumerator_t* (*create_transfer_enumerator)(cxtp_nar_t *this);

	/**
	 * Set the callback for transfer events.
	 *
	 * @param cb			callback, NULL to unset
	 * @param data			data to pass to the callback
	 */
	void (*set_event_cb)(cxtp_nar_t *this, cxtp_event_cb_t cb, void *data);

	/**
	 * Destroy a cxtp_nar_t.
	 */
	void (*destroy)(cxtp_nar_t *this);
};

/**
 * Create a cxtp_nar_t.
 *
 * @param transfers		transfer counters, continued after an activation
 * @param settings		plugin settings
 * @param transport		transport to other access routers
 * @param icmp			transport to mobile nodes, for CTAAs
 * @param pad			PAD entries of activated contexts
 * @param leases		virtual IPs in use here, transferred leases
 * @return				instance
 */
cxtp_nar_t *cxtp_nar_create(cxtp_transfers_t *transfers,
							cxtp_settings_t *settings,
							cxtp_transport_t *transport, cxtp_icmp_t *icmp,
							cxtp_pad_t *pad, cxtp_leases_t *leases);

#endif /** CXTP_NAR_H_ @}*/
