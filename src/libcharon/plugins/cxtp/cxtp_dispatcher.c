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


#include "cxtp_dispatcher.h"
#include "cxtp_ctar_queue.h"

#include <daemon.h>
#include <processing/jobs/callback_job.h>
#include <threading/mutex.h>

typedef struct private_cxtp_dispatcher_t private_cxtp_dispatcher_t;

/**
 * Private data of a cxtp_dispatcher_t object.
 */
struct private_cxtp_dispatcher_t {

	/**
	 * Public cxtp_dispatcher_t interface.
	 */
	cxtp_dispatcher_t public;

	/**
	 * Plugin settings, to tell the peers CTARs name
	 */
	cxtp_settings_t *settings;

	/**
	 * IKE_SAs by the mobile node's address
	 */
	cxtp_ike_index_t *index;

	/**
	 * Transport to mobile nodes
	 */
	cxtp_icmp_t *icmp;

	/**
	 * Transport to other access routers
	 */
	cxtp_transport_t *transport;

	/**
	 * CTARs received, processed in jobs
	 */
	cxtp_ctar_queue_t *ctars;

	/**
	 * The roles messages go to
	 */
	cxtp_par_t *par;
	cxtp_nar_t *nar;
	cxtp_mn_t *mn;

	/**
	 * Protects the roles, the transports call in from their threads
	 */
	mutex_t *mutex;
};

/**
 * Get the roles, FALSE if they are not set yet
 */
static bool get_roles(private_cxtp_dispatcher_t *this, cxtp_par_t **par,
					  cxtp_nar_t **nar, cxtp_mn_t **mn)
{
	bool set;

	this->mutex->lock(this->mutex);
	*par = this->par;
	*nar = this->nar;
	*mn = this->mn;
	set = *par || *nar || *mn;
	this->mutex->unlock(this->mutex);
	return set;
}

/**
 * What we hold of a mobile node
 */
typedef enum {
	/** no IKE_SA with it */
	HELD_NONE,
	/** an established IKE_SA */
	HELD_ESTABLISHED,
	/** an IKE_SA in another state, e.g. frozen for a transfer */
	HELD_OTHER,
} held_t;

/**
 * Whether we hold an IKE_SA with a mobile node, and how
 */
static held_t held(private_cxtp_dispatcher_t *this, host_t *mn)
{
	enumerator_t *enumerator;
	ike_sa_t *ike_sa;
	held_t found = HELD_NONE;

	enumerator = this->index->create_enumerator(this->index, mn);
	while (enumerator->enumerate(enumerator, &ike_sa))
	{
		if (ike_sa->get_state(ike_sa) == IKE_ESTABLISHED)
		{
			found = HELD_ESTABLISHED;
			break;
		}
		found = HELD_OTHER;
	}
	enumerator->destroy(enumerator);
	return found;
}

/**
 * Hand a CTAR to the role that processes it
 */
static void dispatch_ctar(private_cxtp_dispatcher_t *this, cxtp_par_t *par,
						  cxtp_nar_t *nar, host_t *src, host_t *dst,
						  cxtp_message_t *message)
{
	host_t *mn = message->get_mn_address(message);
	host_t *ar = message->get_ar_address(message);
	cxtp_peer_t *peer;
	held_t state;

	if (nar->is_duplicate(nar, src, dst, message))
	{
		DBG1(DBG_IKE, "cxtp: duplicate CTAR %u for %H ignored",
			 message->get_sequence(message), mn);
		message->destroy(message);
		return;
	}
	if (nar->has_context(nar, mn))
	{	/* the mobile node arrived here */
		nar->process_ctar(nar, src, dst, message);
		return;
	}
	peer = ar ? this->settings->find_peer(this->settings, ar, TRUE) : NULL;
	if (!peer)
	{
		DBG1(DBG_IKE, "cxtp: CTAR for %H names %H as previous access router, "
			 "which is no CXTP peer, ignored", mn, ar);
		message->destroy(message);
		return;
	}
	state = held(this, mn);
	if (state == HELD_ESTABLISHED)
	{	/* still attached here, naming the access router it moves to */
		par->process_ctar(par, peer->get_name(peer), src, dst, message);
	}
	else if (state == HELD_OTHER)
	{	/* e.g. frozen for a transfer: the context is ours, asking a peer for
		 * it would reflect the CTAR there */
		DBG1(DBG_IKE, "cxtp: CTAR for %H names peer '%s', but its IKE_SA is "
			 "here and not established, ignored", mn, peer->get_name(peer));
		message->destroy(message);
	}
	else if (src->ip_equals(src, mn))
	{	/* a node arriving here has a new address */
		DBG1(DBG_IKE, "cxtp: CTAR for %H from that address names peer '%s', "
			 "but we hold no IKE_SA with it, ignored", mn,
			 peer->get_name(peer));
		message->destroy(message);
	}
	else
	{	/* arrived without its context, naming the router that has it */
		nar->request_context(nar, peer->get_name(peer), src, dst, message);
	}
	peer->destroy(peer);
}

/**
 * A queued CTAR, processed in a job
 */
CALLBACK(process_ctar, void,
	private_cxtp_dispatcher_t *this, host_t *src, host_t *dst,
	cxtp_message_t *message)
{
	cxtp_par_t *par;
	cxtp_nar_t *nar;
	cxtp_mn_t *mn;

	get_roles(this, &par, &nar, &mn);
	if (par && nar)
	{
		dispatch_ctar(this, par, nar, src, dst, message);
	}
	else
	{
		message->destroy(message);
	}
}

/**
 * CTARs go to the access router's roles, in a job, CTAAs to the mobile
 * node's
 */
CALLBACK(icmp_received, void,
	private_cxtp_dispatcher_t *this, host_t *src, host_t *dst,
	cxtp_message_t *message)
{
	cxtp_par_t *par;
	cxtp_nar_t *nar;
	cxtp_mn_t *mn;

	get_roles(this, &par, &nar, &mn);
	if (message->get_type(message) == CXTP_CTAR && par && nar)
	{
		this->ctars->enqueue(this->ctars, src, dst, message);
	}
	else if (message->get_type(message) == CXTP_CTAA && mn)
	{
		mn->process_ctaa(mn, src, message);
	}
	else
	{
		message->destroy(message);
	}
}

/**
 * A message from a peer, processed in a job
 */
typedef struct {
	private_cxtp_dispatcher_t *dispatcher;
	char *peer;
	cxtp_message_t *message;
} received_t;

static void received_destroy(received_t *received)
{
	received->message->destroy(received->message);
	free(received->peer);
	free(received);
}

CALLBACK(process_received, job_requeue_t,
	received_t *received)
{
	cxtp_message_t *message = received->message;
	cxtp_transfer_id_t id;
	cxtp_par_t *par;
	cxtp_nar_t *nar;
	cxtp_mn_t *mn;

	if (!get_roles(received->dispatcher, &par, &nar, &mn) || !par || !nar)
	{
		return JOB_REQUEUE_NONE;
	}
	switch (message->get_type(message))
	{
		case CXTP_PCTD:
		case CXTP_CTD:
			nar->process_ctd(nar, received->peer, message);
			break;
		case CXTP_CTDR:
			if (!message->get_success(message) &&
				!message->get_transfer_id(message, &id))
			{	/* pAR's answer to our CT-Req */
				nar->process_no_context(nar, received->peer, message);
			}
			else
			{
				par->process_ctdr(par, received->peer, message);
			}
			break;
		case CXTP_CTREQ:
			par->process_ctreq(par, received->peer, message);
			break;
		case CXTP_CTC:
			nar->process_ctc(nar, received->peer, message);
			break;
		default:
			DBG1(DBG_IKE, "cxtp: %N from peer '%s' not supported, ignored",
				 cxtp_message_type_names, message->get_type(message),
				 received->peer);
			break;
	}
	return JOB_REQUEUE_NONE;
}

/**
 * Messages from peers are processed in a job, as they check out IKE_SAs
 */
CALLBACK(transport_received, void,
	private_cxtp_dispatcher_t *this, char *peer, host_t *from,
	cxtp_message_t *message)
{
	received_t *received;

	DBG2(DBG_IKE, "cxtp: received %N from peer '%s' (%#H) for %H",
		 cxtp_message_type_names, message->get_type(message), peer, from,
		 message->get_mn_address(message));
	INIT(received,
		.dispatcher = this,
		.peer = strdup(peer),
		.message = message,
	);
	lib->processor->queue_job(lib->processor, (job_t*)
				callback_job_create(process_received, received,
									(void*)received_destroy, NULL));
}

/**
 * The transport got no answer to a PCTD, CTD or CT-Req
 */
CALLBACK(transport_timeout, void,
	private_cxtp_dispatcher_t *this, char *peer, uint32_t id)
{
	cxtp_par_t *par;
	cxtp_nar_t *nar;
	cxtp_mn_t *mn;

	if (!get_roles(this, &par, &nar, &mn) || !par || !nar)
	{
		return;
	}
	if (id & CXTP_NAR_REQUEST)
	{
		nar->timeout(nar, peer, id);
	}
	else
	{
		par->timeout(par, peer, id);
	}
}

METHOD(cxtp_dispatcher_t, get_icmp, cxtp_icmp_t*,
	private_cxtp_dispatcher_t *this)
{
	return this->icmp;
}

METHOD(cxtp_dispatcher_t, get_transport, cxtp_transport_t*,
	private_cxtp_dispatcher_t *this)
{
	return this->transport;
}

METHOD(cxtp_dispatcher_t, set_roles, void,
	private_cxtp_dispatcher_t *this, cxtp_par_t *par, cxtp_nar_t *nar,
	cxtp_mn_t *mn)
{
	this->mutex->lock(this->mutex);
	this->par = par;
	this->nar = nar;
	this->mn = mn;
	this->mutex->unlock(this->mutex);
}

METHOD(cxtp_dispatcher_t, destroy, void,
	private_cxtp_dispatcher_t *this)
{
	/* all wait for running callbacks, the ICMP transport's queue CTARs */
	DESTROY_IF(this->icmp);
	this->ctars->destroy(this->ctars);
	DESTROY_IF(this->transport);
	this->mutex->destroy(this->mutex);
	free(this);
}

/*
 * Described in header
 */
cxtp_dispatcher_t *cxtp_dispatcher_create_with(cxtp_settings_t *settings,
							cxtp_ike_index_t *index,
							cxtp_dispatcher_icmp_create_t icmp,
							void *icmp_data,
							cxtp_dispatcher_transport_create_t transport,
							void *transport_data)
{
	private_cxtp_dispatcher_t *this;

	INIT(this,
		.public = {
			.get_icmp = _get_icmp,
			.get_transport = _get_transport,
			.set_roles = _set_roles,
			.destroy = _destroy,
		},
		.settings = settings,
		.index = index,
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
	);
	this->ctars = cxtp_ctar_queue_create(process_ctar, this);
	if (icmp)
	{
		this->icmp = icmp(icmp_data, icmp_received, this);
	}
	if (transport)
	{
		this->transport = transport(transport_data, transport_received, this);
		if (this->transport)
		{
			this->transport->set_timeout_cb(this->transport,
											transport_timeout, this);
		}
		else
		{
			DBG1(DBG_NET, "cxtp: unable to listen for other access routers");
		}
	}
	return &this->public;
}

/**
 * The ICMP transport to mobile nodes
 */
static cxtp_icmp_t *create_icmp(void *data, cxtp_icmp_receive_cb_t cb,
								void *cb_data)
{
	return cxtp_icmp_create(data, cb, cb_data);
}

/**
 * The UDP transport between access routers
 */
static cxtp_transport_t *create_udp(void *data, cxtp_transport_receive_cb_t cb,
									void *cb_data)
{
	return cxtp_transport_create(data, cb, cb_data);
}

/*
 * Described in header
 */
cxtp_dispatcher_t *cxtp_dispatcher_create(cxtp_settings_t *settings,
										  cxtp_ike_index_t *index)
{
	return cxtp_dispatcher_create_with(settings, index, create_icmp, settings,
									   create_udp, settings);
}
