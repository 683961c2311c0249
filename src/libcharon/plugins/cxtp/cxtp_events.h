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

typedef enum cxtp_event_t cxtp_event_t;

/**
 * Steps of a transfer reported to operators (vici events "cxtp-<name>").
 */
enum cxtp_event_t {
	/** an access router sent a context */
	CXTP_EVENT_EXPORT,
	/** an access router imported a context */
	CXTP_EVENT_IMPORT,
	/** a context was activated (on a mobile node: its CTAR went out) */
	CXTP_EVENT_ACTIVATE,
	/** a step failed */
	CXTP_EVENT_FAILURE,
	/** a context was withdrawn before its activation (cxtp-cancel, CTC) */
	CXTP_EVENT_CANCEL,
	/** pAR thawed an IKE_SA its peer confirmed it did not activate */
	CXTP_EVENT_THAW,
	/** the mobile node set up a new IKE_SA with nAR instead of activating
	 * the context, both routers removed their copies */
	CXTP_EVENT_SUPERSEDE,
};

/**
 * The last event, to iterate over all
 */
#define CXTP_EVENT_LAST CXTP_EVENT_SUPERSEDE

/**
 * Names of the events: "export", "import", "activate", "failure",
 * "cancel", "thaw", "supersede".
 */
extern enum_name_t *cxtp_event_names;

/**
 * Callback for the outcome of a transfer step, for events to operators.
 *
 * Access routers report all events with the name of the other access router
 * as peer and the mobile node's previous address (pAR reports
 * CXTP_EVENT_IMPORT when the peer confirmed the import, and ends each transfer
 * with exactly one of CXTP_EVENT_ACTIVATE, CXTP_EVENT_THAW, CXTP_EVENT_CANCEL,
 * CXTP_EVENT_SUPERSEDE and CXTP_EVENT_FAILURE); a mobile node reports
 * CXTP_EVENT_ACTIVATE (CTAR sent after its move) and CXTP_EVENT_FAILURE
 * with the access router's address as peer and its own address.
 *
 * @param data			data passed to set_event_cb()
 * @param event			the step
 * @param ike_id		unique ID of the IKE_SA, 0 if none
 * @param peer			the other access router, if any
 * @param mn			the mobile node's address
 * @param error			what failed (CXTP_EVENT_FAILURE) or why (CANCEL,
 *						THAW), NULL if nothing to add
 */
typedef void (*cxtp_event_cb_t)(void *data, cxtp_event_t event, u_int ike_id,
								char *peer, host_t *mn, char *error);

#endif /** CXTP_EVENTS_H_ @}*/
