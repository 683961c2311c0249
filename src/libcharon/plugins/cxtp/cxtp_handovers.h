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
 * @defgroup cxtp_handovers cxtp_handovers
 * @{ @ingroup cxtp
 */

#ifndef CXTP_HANDOVERS_H_
#define CXTP_HANDOVERS_H_

#include "cxtp_events.h"
#include "cxtp_settings.h"

#include <networking/host.h>
#include <collections/enumerator.h>

typedef struct cxtp_handover_t cxtp_handover_t;
typedef struct cxtp_handovers_t cxtp_handovers_t;

/**
 * A handover an access router takes part in: the context of one IKE_SA,
 * sent to another access router (pAR) or received from one (nAR).
 *
 * The roles keep more per handover and embed this as their first member.
 */
struct cxtp_handover_t {

	/** unique ID of the IKE_SA */
	u_int ike_id;

	/** the other access router */
	char *peer;

	/** the mobile node's address when the context was captured */
	host_t *mn;

	/** tells handovers of the same IKE_SA apart, for their timeouts */
	u_int serial;
};

/**
 * Callback for a handover not activated within handover_timeout.
 *
 * @param data			data passed to schedule_timeout()
 * @param handover		the handover, removed, owned by the callee
 */
typedef void (*cxtp_handover_timeout_cb_t)(void *data,
										   cxtp_handover_t *handover);

/**
 * The handovers a role of an access router has in progress, each found by
 * its IKE_SA or its mobile node, with their activation timeouts, and the
 * events that report their steps.
 */
struct cxtp_handovers_t {

	/**
	 * Add a handover, giving it a serial of its own.
	 *
	 * @param handover		handover, adopted (another thread may remove it
	 *						at once)
	 * @return				its serial
	 */
	u_int (*add)(cxtp_handovers_t *this, cxtp_handover_t *handover);

	/**
	 * Remove the handover of an IKE_SA or of a mobile node.
	 *
	 * @param ike_id		unique ID of the IKE_SA, 0 to find it by mn
	 * @param serial		serial of the handover, 0 for any
	 * @param mn			the mobile node's address, if ike_id is 0
	 * @return				the handover, NULL if none
	 */
	cxtp_handover_t* (*remove)(cxtp_handovers_t *this, u_int ike_id,
							   u_int serial, host_t *mn);

	/**
	 * Whether there is a handover of an IKE_SA or of a mobile node.
	 *
	 * @param ike_id		unique ID of the IKE_SA, 0 to find it by mn
	 * @param mn			the mobile node's address, if ike_id is 0
	 * @return				TRUE if there is
	 */
	bool (*has)(cxtp_handovers_t *this, u_int ike_id, host_t *mn);

	/**
	 * Enumerate the handovers of a mobile node, which stay locked until the
	 * enumerator is destroyed.
	 *
	 * @param mn			the mobile node's address
	 * @return				enumerator over cxtp_handover_t*
	 */
	enumerator_t* (*create_enumerator)(cxtp_handovers_t *this, host_t *mn);

	/**
	 * Start the activation timeout of a handover: after handover_timeout,
	 * the handover is removed and passed to the callback, unless it is gone
	 * by then (a later handover of the same IKE_SA does not count).
	 *
	 * @param ike_id		unique ID of the handover's IKE_SA
	 * @param serial		serial of the handover
	 * @param cb			callback
	 * @param data			data to pass to cb
	 */
	void (*schedule_timeout)(cxtp_handovers_t *this, u_int ike_id,
							 u_int serial, cxtp_handover_timeout_cb_t cb,
							 void *data);

	/**
	 * Report a step of a handover, if an event callback is set.
	 *
	 * @param name			the step
	 * @param ike_id		unique ID of the IKE_SA, 0 if none
	 * @param peer			the other access router, if any
	 * @param mn			the mobile node's address
	 * @param error			what failed, NULL unless CXTP_EVENT_FAILURE
	 */
	void (*event)(cxtp_handovers_t *this, cxtp_event_t name, u_int ike_id,
				  char *peer, host_t *mn, char *error);

	/**
	 * Set the callback for events.
	 *
	 * @param cb			callback, NULL to unset
	 * @param data			data to pass to the callback
	 */
	void (*set_event_cb)(cxtp_handovers_t *this, cxtp_event_cb_t cb,
						 void *data);

	/**
	 * Destroy a cxtp_handovers_t and the handovers in it.
	 */
	void (*destroy)(cxtp_handovers_t *this);
};

/**
 * Create a cxtp_handovers_t.
 *
 * @param settings		plugin settings, for handover_timeout
 * @param destroy		destructor of the roles' handovers
 * @return				instance
 */
cxtp_handovers_t *cxtp_handovers_create(cxtp_settings_t *settings,
										void (*destroy)(cxtp_handover_t*));

#endif /** CXTP_HANDOVERS_H_ @}*/
