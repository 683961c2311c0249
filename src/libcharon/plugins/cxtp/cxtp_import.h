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
 * @defgroup cxtp_import cxtp_import
 * @{ @ingroup cxtp
 */

#ifndef CXTP_IMPORT_H_
#define CXTP_IMPORT_H_

#include "cxtp_context.h"
#include "cxtp_leases.h"
#include "cxtp_settings.h"

#include <sa/ike_sa.h>

/**
 * Import a transferred context on the new gateway (nAR) as a passive IKE_SA.
 *
 * The IKE_SA gets the transferred SPIs, algorithms, keys (no new key
 * exchange), message IDs, identities, conditions, extensions and config, and
 * is checked in to the IKE_SA manager in state IKE_PASSIVE: it does not
 * initiate anything, and its CHILD_SAs stay in the context until the mobile
 * node activates it (cxtp_activate()). An IKE_SA with the same SPIs that
 * nAR already holds is a collision: the import fails, unless the
 * cxtp-spi-hook (mobike-spi) gives the imported IKE_SA a new SPI of ours.
 * The node's virtual IPs come with it as transferred leases (cxtp_leases_t):
 * if another node uses one here, the import is refused.
 *
 * @param context		context to import
 * @param leases		virtual IPs in use here, takes the node's
 * @param reason		receives why the import failed (allocated)
 * @return				unique ID of the passive IKE_SA, 0 on failure
 */
u_int cxtp_import(cxtp_context_t *context, cxtp_leases_t *leases,
				  char **reason);

/**
 * Activate an imported context: the IKE_SA moves to the mobile node's new
 * address and the gateway's own, its CHILD_SAs are installed with the
 * transferred keys and anti-replay state (outbound sequence numbers
 * continue from the transferred value plus a jump, see cxtp_seq_jump_t;
 * a CHILD_SA the jump leaves short of numbers is rekeyed at once), its
 * virtual IPs (transferred leases since the import) are announced as
 * assigned here, and it becomes an established IKE_SA like any
 * other (rekeyed, answering DPD, deleted by charon from now on).
 *
 * @param ike_sa		passive IKE_SA created by cxtp_import(), checked out
 * @param context		its context
 * @param local			the gateway's address on the mobile node's link
 * @param remote		the mobile node's new care-of address
 * @param settings		plugin settings (seq_jump, seq_rate, retransmissions)
 * @param by_peer		TRUE if the node's own IKE request (its MOBIKE
 *						probe or update) activates it, which charon
 *						answers next, or if the node's addresses do not
 *						change (a gateway takeover): no MOBIKE update
 * @return				TRUE if activated, FALSE on failure (logged; the
 *						IKE_SA stays passive and the caller deletes it)
 */
bool cxtp_activate(ike_sa_t *ike_sa, cxtp_context_t *context, host_t *local,
				   host_t *remote, cxtp_settings_t *settings, bool by_peer);

#endif /** CXTP_IMPORT_H_ @}*/
