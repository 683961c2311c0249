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
 * @defgroup cxtp_drain cxtp_drain
 * @{ @ingroup cxtp
 */

#ifndef CXTP_DRAIN_H_
#define CXTP_DRAIN_H_

#include "cxtp_events.h"
#include "cxtp_par.h"
#include "cxtp_settings.h"
#include "cxtp_transport.h"

typedef struct cxtp_drain_t cxtp_drain_t;
typedef struct cxtp_drain_progress_t cxtp_drain_progress_t;

/**
 * Where a drain is: how many of its IKE_SAs were pushed and how their
 * transfers ended.
 */
struct cxtp_drain_progress_t {

	/** identifier of the drain, > 0 */
	u_int id;

	/** IKE_SAs selected (those of the connection, or all) */
	u_int selected;

	/** of those, not pushed: not established, passive, in a transfer
	 * already, gone, or refused by the push */
	u_int skipped;

	/** transfers started */
	u_int pushed;

	/** transfers sent and neither imported by the peer nor ended */
	u_int in_flight;

	/** selected IKE_SAs still waiting for a slot in the window */
	u_int queued;

	/** transfers ended, by outcome */
	u_int activated;
	u_int failed;
	u_int thawed;
	u_int cancelled;
	u_int superseded;

	/** whether every selected IKE_SA was skipped or its transfer ended */
	bool done;
};

/**
 * Callback reporting the progress of a drain: once it started, after each
 * round of pushes into the window, and after each transfer that ended.
 *
 * Invoked without locks held, from the thread that changed the progress.
 *
 * @param data			data passed to set_progress_cb()
 * @param peer			the peer the drain pushes to
 * @param progress		where the drain is
 */
typedef void (*cxtp_drain_cb_t)(void *data, char *peer,
								cxtp_drain_progress_t *progress);

/**
 * Moves many IKE_SAs to a peer in one operation: every IKE_SA, or those of
 * one connection, each transferred exactly as a single push (cxtp_par_t).
 *
 * The IKE_SAs are pushed in a window: at most drain_window contexts are in
 * flight to the peer (sent, and neither imported there nor ended), the next
 * is pushed when one leaves the window. So a context is exported, and its
 * IKE_SA frozen, only when it is sent: its retransmissions are timed from
 * then, its counters are as fresh as a single push's, and the peer is not
 * handed thousands of contexts at once, which it would import more slowly
 * than they arrive. IKE_SAs waiting for the window keep running as usual.
 * The contexts pushed together go several to a datagram where they fit
 * (cxtp_transport_t.cork()).
 *
 * IKE_SAs that cannot be pushed are skipped: one log line sums them up by
 * reason, each is logged at level 2.
 */
struct cxtp_drain_t {

	/**
	 * Start draining IKE_SAs to a peer, pushing the first window of them.
	 *
	 * @param name			name of the IKE_SAs' connection, NULL for all
	 * @param peer			name of the peer in the plugin's configuration
	 * @param takeover		push each for a takeover (see cxtp_par_t.push)
	 * @param progress		receives where the drain is once the first
	 *						window was pushed, if it started
	 * @return				NULL if the drain started, otherwise why not
	 *						(allocated)
	 */
	char* (*start)(cxtp_drain_t *this, char *name, char *peer,
				   bool takeover, cxtp_drain_progress_t *progress);

	/**
	 * A step of a transfer as pAR reports it: the peer's import frees a
	 * slot in the window, an outcome ends the transfer.
	 *
	 * @param event			the step
	 * @param ike_id		unique ID of the IKE_SA
	 */
	void (*event)(cxtp_drain_t *this, cxtp_event_t event, u_int ike_id);

	/**
	 * Get the progress of a drain, started or ended recently.
	 *
	 * @param id			identifier of the drain
	 * @param progress		receives where it is
	 * @return				FALSE if there is no such drain
	 */
	bool (*get_progress)(cxtp_drain_t *this, u_int id,
						 cxtp_drain_progress_t *progress);

	/**
	 * Set the callback for progress reports.
	 *
	 * @param cb			callback, NULL to unset
	 * @param data			data to pass to the callback
	 */
	void (*set_progress_cb)(cxtp_drain_t *this, cxtp_drain_cb_t cb,
							void *data);

	/**
	 * Destroy a cxtp_drain_t: IKE_SAs still waiting for the window are not
	 * pushed, transfers in progress go on.
	 */
	void (*destroy)(cxtp_drain_t *this);
};

/**
 * Create a cxtp_drain_t.
 *
 * @param par			pAR's side, which pushes each IKE_SA
 * @param transport		pAR's transport, to batch the contexts it sends
 * @param settings		plugin settings, for the window and the peers
 * @return				instance
 */
cxtp_drain_t *cxtp_drain_create(cxtp_par_t *par, cxtp_transport_t *transport,
								cxtp_settings_t *settings);

#endif /** CXTP_DRAIN_H_ @}*/
