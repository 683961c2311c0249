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
 * @defgroup cxtp_ike_request cxtp_ike_request
 * @{ @ingroup cxtp
 */

#ifndef CXTP_IKE_REQUEST_H_
#define CXTP_IKE_REQUEST_H_

#include <encoding/message.h>
#include <sa/ike_sa.h>

/**
 * Whether an IKE message is the request a mobile node sends next to an
 * IKE_SA, protected with its keys: the node's own authorization of a
 * transfer that it did not ask for with a CTAR (a stock MOBIKE client).
 *
 * It must be an INFORMATIONAL request with the message ID the IKE_SA
 * expects next as responder (an older request, captured on the node's
 * previous link, must not take the IKE_SA over) and verify with its keys.
 * It is parsed on a copy of the packet, so the task manager may still get
 * the message as it arrived, and nothing of the IKE_SA changes.
 *
 * @param ike_sa		IKE_SA, checked out by the caller
 * @param message		the request, its header parsed
 * @return				NULL if it is, or why not (static string)
 */
char *cxtp_ike_request_check(ike_sa_t *ike_sa, message_t *message);

/**
 * Create an IKE message from a request received elsewhere and parse its
 * header, to look up its IKE_SA and check it.
 *
 * @param data			the request as received, cloned
 * @param src			address it came from, cloned
 * @param dst			address it was sent to, cloned
 * @return				message, NULL if its header does not parse
 */
message_t *cxtp_ike_request_parse(chunk_t data, host_t *src, host_t *dst);

#endif /** CXTP_IKE_REQUEST_H_ @}*/
