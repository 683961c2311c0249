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
#include "cxtp_message.h"

#include <networking/host.h>
#include <collections/enumerator.h>

typedef struct cxtp_handover_t cxtp_handover_t;
typedef struct cxtp_handovers_t cxtp_handovers_t;

/**
 * A transfer an access router takes part in: the context of one IKE_SA,
 * sent to another access router (pAR) or received from one (nAR).
 *
 * The roles keep more per transfer and embed this as their first member.
 */
struct cxtp_handover_t {

	/** unique ID of the IKE_SA here: the one sent (pAR), imported (nAR) */
	u_int ike_id;

	/** the other access router */
	char *peer;

	/** the mobile node's address when the context was captured */
	host_t *mn;

	/** the transfer as both routers name it: pAR's SPIs and serial */
	cxtp_transfer_id_t id;

	/** unique to each handover added here, set by add() */
	u_int serial;

	/** the handover's timer, set by schedule() */
	u_int timer;
};

/**
 * What listings show of a transfer in progress, or remembered
 */
typedef struct {
	/** unique ID of the IKE_SA here, 0 if it has none (any more) */
	u_int ike_id;
	/** the other access router */
	char *peer;
	/** the mobile node's address when the context was captured */
	host_t *mn;
	/** the transfer */
	cxtp_transfer_id_t *id;
	/** the step it is at */
	char *state;
} cxtp_transfer_info_t;

/**
 * Callback for the timer of a handover.
 *
 * @param data			data passed to schedule()
 * @param serial		serial of the handover, which still exists (but
 *						another thread may remove it at once)
 */
typedef void (*cxtp_handover_timer_cb_t)(void *data, u_int serial);

/**
 * The handovers a role of an access router has in progress, each found by
 * its serial, its IKE_SA, its transfer or its mobile node in hash tables (a
 * drain puts thousands in progress at once), with a timer each and the
 * events that report their steps.
 */
struct cxtp_handovers_t {

	/**
	 * Add a handover, giving it a serial of its own (and a transfer ID
	 * serial, if it has none yet: pAR names its transfers by it).
	 *
	 * @param handover		handover, adopted (another thread may remove it
	 *						at once)
	 * @return				its serial
	 */
	u_int (*add)(cxtp_handovers_t *this, cxtp_handover_t *handover);

	/**
	 * Remove a handover.
	 *
	 * @param serial		serial of the handover
	 * @return				the handover, NULL if none
	 */
	cxtp_handover_t* (*remove)(cxtp_handovers_t *this, u_int serial);

	/**
	 * Remove the handover of an IKE_SA.
	 *
	 * @param ike_id		unique ID of the IKE_SA
	 * @return				the handover, NULL if none
	 */
	cxtp_handover_t* (*remove_ike_sa)(cxtp_handovers_t *this, u_int ike_id);

	/**
	 * Whether there is a handover of an IKE_SA.
	 *
	 * @param ike_id		unique ID of the IKE_SA
	 * @return				TRUE if there is
	 */
	bool (*has_ike_sa)(cxtp_handovers_t *this, u_int ike_id);

	/**
	 * Enumerate the handovers, in no particular order, or those of a mobile
	 * node, in the order added, which stay locked until the enumerator is
	 * destroyed (the members a role adds may be changed meanwhile, and the
	 * ike_id of the handover enumerated; no other member of
	 * cxtp_handover_t). All of them are a walk: roles find one by the keys
	 * below.
	 *
	 * @param mn			the mobile node's address, NULL for all
	 * @return				enumerator over cxtp_handover_t*
	 */
	enumerator_t* (*create_enumerator)(cxtp_handovers_t *this, host_t *mn);

	/**
	 * Enumerate the handover with a serial (none or one), locked as
	 * create_enumerator().
	 *
	 * @param serial		serial of the handover
	 * @return				enumerator over cxtp_handover_t*
	 */
	enumerator_t* (*create_serial_enumerator)(cxtp_handovers_t *this,
											  u_int serial);

	/**
	 * Enumerate the handovers of an IKE_SA, locked as create_enumerator().
	 * A role may change the ike_id of the handover enumerated (e.g. to that
	 * of the IKE_SA a rekeying replaced it with, or 0 for none).
	 *
	 * @param ike_id		unique ID of the IKE_SA, 0 enumerates none
	 * @return				enumerator over cxtp_handover_t*
	 */
	enumerator_t* (*create_ike_sa_enumerator)(cxtp_handovers_t *this,
											  u_int ike_id);

	/**
	 * Enumerate the handovers whose transfer names the same IKE_SA as a
	 * transfer ID (its SPIs, any serial), locked as create_enumerator().
	 *
	 * @param id			transfer ID
	 * @return				enumerator over cxtp_handover_t*
	 */
	enumerator_t* (*create_id_enumerator)(cxtp_handovers_t *this,
										  cxtp_transfer_id_t *id);

	/**
	 * Enumerate what listings show of the handovers, in the order added,
	 * which stay locked until the enumerator is destroyed.
	 *
	 * @param state			the state of a handover, a static string
	 * @return				enumerator over cxtp_transfer_info_t*
	 */
	enumerator_t* (*create_info_enumerator)(cxtp_handovers_t *this,
								char* (*state)(cxtp_handover_t *handover));

	/**
	 * (Re)start the timer of a handover: after ms, the callback is invoked
	 * unless the handover is gone or its timer was started again.
	 *
	 * @param serial		serial of the handover
	 * @param ms			delay in ms
	 * @param cb			callback
	 * @param data			data to pass to cb
	 */
	void (*schedule)(cxtp_handovers_t *this, u_int serial, uint32_t ms,
					 cxtp_handover_timer_cb_t cb, void *data);

	/**
	 * Report a step of a handover, if an event callback is set.
	 *
	 * @param name			the step
	 * @param ike_id		unique ID of the IKE_SA, 0 if none
	 * @param peer			the other access router, if any
	 * @param mn			the mobile node's address
	 * @param error			what failed, or why, NULL if nothing to add
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
 * Whether two transfer IDs name the same IKE_SA (its SPIs as pAR holds it).
 *
 * @param a				transfer ID
 * @param b				transfer ID
 * @return				TRUE if the SPIs are equal
 */
static inline bool cxtp_transfer_id_same_ike_sa(cxtp_transfer_id_t *a,
												cxtp_transfer_id_t *b)
{
	return a->spi_i == b->spi_i && a->spi_r == b->spi_r;
}

/**
 * Whether two transfer IDs are equal (same IKE_SA, same transfer).
 *
 * @param a				transfer ID
 * @param b				transfer ID
 * @return				TRUE if equal
 */
static inline bool cxtp_transfer_id_equals(cxtp_transfer_id_t *a,
										   cxtp_transfer_id_t *b)
{
	return cxtp_transfer_id_same_ike_sa(a, b) && a->serial == b->serial;
}

/**
 * Create a cxtp_handovers_t.
 *
 * @param destroy		destructor of the roles' handovers
 * @return				instance
 */
cxtp_handovers_t *cxtp_handovers_create(void (*destroy)(cxtp_handover_t*));

#endif /** CXTP_HANDOVERS_H_ @}*/
