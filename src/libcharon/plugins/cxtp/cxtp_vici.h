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
 * @defgroup cxtp_vici cxtp_vici
 * @{ @ingroup cxtp
 */

#ifndef CXTP_VICI_H_
#define CXTP_VICI_H_

#include "cxtp_capture.h"
#include "cxtp_transfers.h"
#include "cxtp_nar.h"
#include "cxtp_par.h"
#include "cxtp_mn.h"

typedef struct cxtp_vici_t cxtp_vici_t;

/**
 * The plugin's vici commands, on the dispatcher vici publishes.
 *
 * cxtp-list: the IKE_SAs whose context this gateway holds, pushed or
 * imported, and why the others cannot be transferred; and the transfers in
 * progress, or remembered, as pAR and nAR.
 * cxtp-push: push the context of an IKE_SA to a peer gateway; with wait,
 * reply with the outcome once the transfer ended (outcome: activated,
 * thawed, cancelled, superseded or failed; reason); with takeover, the peer
 * activates it at once, the node stays where it is (gateway takeover).
 * cxtp-cancel: withdraw the context of an IKE_SA from the peer it was sent
 * to; with wait, reply with the outcome.
 * cxtp-activate: as mobile node, activate the context of an IKE_SA on a
 * new access router.
 * cxtp-prepare: as mobile node, ask the current access router to push the
 * context of an IKE_SA to the next one.
 *
 * Events cxtp-export, cxtp-import, cxtp-activate, cxtp-cancel, cxtp-thaw,
 * cxtp-supersede and cxtp-failure report the steps of transfers with the
 * IKE_SA's unique ID, the other access router, the mobile node's address
 * and, for failures, what failed (for cancels and thaws, why).
 */
struct cxtp_vici_t {

	/**
	 * Unregister the commands and destroy a cxtp_vici_t.
	 */
	void (*destroy)(cxtp_vici_t *this);
};

/**
 * Register the commands, if vici published its dispatcher.
 *
 * @param settings		plugin settings
 * @param capture		captured key material, to tell what can be exported
 * @param transfers		transfer counters, for the contexts listed
 * @param par			previous access router's side, NULL if unavailable
 * @param transport		its transport to other access routers, NULL if none
 * @param nar			new access router's side, NULL if unavailable
 * @param mn			the mobile node's side
 * @return				instance, NULL if vici is not available
 */
cxtp_vici_t *cxtp_vici_create(cxtp_settings_t *settings,
							  cxtp_capture_t *capture,
							  cxtp_transfers_t *transfers, cxtp_par_t *par,
							  cxtp_transport_t *transport, cxtp_nar_t *nar,
							  cxtp_mn_t *mn);

#endif /** CXTP_VICI_H_ @}*/
