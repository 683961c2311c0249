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
 * @defgroup cxtp_export cxtp_export
 * @{ @ingroup cxtp
 */

#ifndef CXTP_EXPORT_H_
#define CXTP_EXPORT_H_

#include "cxtp_capture.h"
#include "cxtp_context.h"

#include <sa/ike_sa.h>

/**
 * Check whether the context of an IKE_SA can be exported now.
 *
 * It can if the IKE_SA is an established IKEv2 SA with no exchange we
 * started in progress (its message ID would be reused), without a postquantum
 * preshared key (the context carries none, so the new gateway could not
 * rekey with it), all its CHILD_SAs are installed, and the keys of all of
 * them were captured (SAs set up before the plugin was loaded have none).
 *
 * @param capture		captured SA keys
 * @param ike_sa		IKE_SA to check
 * @return				NULL if it can, otherwise why not (allocated)
 */
char *cxtp_export_check(cxtp_capture_t *capture, ike_sa_t *ike_sa);

/**
 * Drop our liveness check (DPD, or the MOBIKE one charon's original
 * initiator sends instead, see task_manager_v2's queue_dpd()) of the peer,
 * if that is all we wait for,
 * because the peer showed itself alive where it cannot answer it: the node
 * at its new router (its IKE request there, verified, or its CTAR's
 * token), or, on the node, the previous router that froze the IKE_SA for a
 * transfer. The IKE_SA's next request reuses the check's message ID, which
 * is the one the context carries, and which the peer answers whether or
 * not the check reached it.
 *
 * @param ike_sa		IKE_SA, checked out by the caller
 */
void cxtp_export_drop_liveness_check(ike_sa_t *ike_sa);

/**
 * Export the context of an IKE_SA on the gateway that holds it (pAR), the
 * counterpart of cxtp_import().
 *
 * The context holds the IKE_SA's SPIs, role, algorithms, captured keys,
 * message IDs, remaining lifetimes, addresses, identities, conditions,
 * extensions, virtual IPs and config names, each CHILD_SA with its keys,
 * traffic selectors and the current ESP replay state from the kernel, and
 * the peer's PAD entry with the secret (PSK or EAP) or certificate subject
 * needed to reauthenticate it later.
 *
 * @param capture		captured SA keys
 * @param ike_sa		IKE_SA, checked out by the caller, that passed
 *						cxtp_export_check()
 * @param transfers		number of completed transfers of the IKE_SA
 * @return				context, NULL on failure (logged)
 */
cxtp_context_t *cxtp_export(cxtp_capture_t *capture, ike_sa_t *ike_sa,
							uint32_t transfers);

#endif /** CXTP_EXPORT_H_ @}*/
