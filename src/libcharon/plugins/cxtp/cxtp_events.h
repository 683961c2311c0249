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
 * @defgroup cxtp_events cxtp_events
 * @{ @ingroup cxtp
 */

#ifndef CXTP_EVENTS_H_
#define CXTP_EVENTS_H_

#include <networking/host.h>

/**
 * Callback for the outcome of a transfer step, for events to operators.
 *
 * Access routers report "export", "import", "activate" and "failure" with
 * the name of the other access router as peer and the mobile node's previous
 * address; a mobile node reports "activate" (CTAR sent after its move) and
 * "failure" with the access router's address as peer and its own address.
 *
 * @param data			data passed to set_event_cb()
 * @param event			"export", "import", "activate" or "failure"
 * @param ike_id		unique ID of the IKE_SA, 0 if none
 * @param peer			the other access router, if any
 * @param mn			the mobile node's address
 * @param error			what failed, NULL unless event is "failure"
 */
typedef void (*cxtp_event_cb_t)(void *data, char *event, u_int ike_id,
								char *peer, host_t *mn, char *error);

#endif /** CXTP_EVENTS_H_ @}*/
