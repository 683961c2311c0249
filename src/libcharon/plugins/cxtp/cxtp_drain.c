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


#include "cxtp_drain.h"

#include <daemon.h>
#include <collections/array.h>
#include <collections/hashtable.h>
#include <processing/jobs/callback_job.h>
#include <threading/condvar.h>
#include <threading/mutex.h>

/**
 * Drains that ended whose progress is kept for get_progress()
 */
#define ENDED_KEPT 16

typedef struct private_cxtp_drain_t private_cxtp_drain_t;

/**
 * Private data of a cxtp_drain_t object.
 */
struct private_cxtp_drain_t {

	/**
	 * Public cxtp_drain_t interface.
	 */
	cxtp_drain_t public;

	/**
	 * pAR's side, pushing each IKE_SA
	 */
	cxtp_par_t *par;

	/**
	 * pAR's transport
	 */
	cxtp_transport_t *transport;

	/**
	 * Plugin settings
	 */
	cxtp_settings_t *settings;

	/**
	 * Drains in progress and the last ones ended, drain_t*, oldest first
	 */
	array_t *drains;

	/**
	 * IKE_SAs pushed by a drain whose transfer did not end, unique ID =>
	 * member_t*
	 */
	hashtable_t *members;

	/**
	 * Identifier of the next drain
	 */
	u_int next_id;

	/**
	 * Progress callback
	 */
	cxtp_drain_cb_t cb;
	void *cb_data;

	/**
	 * Set by destroy(), nothing is pushed anymore
	 */
	bool destroyed;

	/**
	 * References: ours and one per queued job
	 */
	refcount_t ref;

	/**
	 * Protects everything above
	 */
	mutex_t *mutex;

	/**
	 * Signals that a drain stopped pushing
	 */
	condvar_t *condvar;
};

/**
 * Why an IKE_SA selected was not pushed, for the summary
 */
typedef enum {
	SKIP_NOT_ESTABLISHED,
	SKIP_PASSIVE,
	SKIP_IN_TRANSFER,
	SKIP_GONE,
	SKIP_REFUSED,
	SKIP_MAX,
} skip_t;

ENUM(skip_names, SKIP_NOT_ESTABLISHED, SKIP_REFUSED,
	"not established",
	"passive",
	"in a transfer",
	"gone",
	"refused",
);

/**
 * A drain
 */
typedef struct {
	/** what it did so far */
	cxtp_drain_progress_t progress;
	/** peer it pushes to */
	char *peer;
	/** whether each context goes for a takeover */
	bool takeover;
	/** unique IDs of the IKE_SAs waiting for the window, uintptr_t */
	array_t *queue;
	/** skipped IKE_SAs by reason */
	u_int skips[SKIP_MAX];
	/** whether a thread pushes its IKE_SAs */
	bool pushing;
} drain_t;

/**
 * An IKE_SA a drain pushed
 */
typedef struct {
	/** unique ID of the IKE_SA */
	u_int ike_id;
	/** the drain */
	drain_t *drain;
	/** whether its context is in flight */
	bool in_flight;
} member_t;

/**
 * A job pushing what the window of a drain allows
 */
typedef struct {
	private_cxtp_drain_t *this;
	u_int id;
} push_job_t;

static void drain_destroy(drain_t *drain)
{
	array_destroy(drain->queue);
	free(drain->peer);
	free(drain);
}

static void unref(private_cxtp_drain_t *this)
{
	if (ref_put(&this->ref))
	{
		array_destroy_function(this->drains, (void*)drain_destroy, NULL);
		this->members->destroy_function(this->members, (void*)free);
		this->condvar->destroy(this->condvar);
		this->mutex->destroy(this->mutex);
		free(this);
	}
}

/**
 * Find a drain by identifier (mutex held)
 */
static drain_t *find_drain(private_cxtp_drain_t *this, u_int id)
{
	drain_t *drain;
	int i;

	for (i = 0; i < array_count(this->drains); i++)
	{
		array_get(this->drains, i, &drain);
		if (drain->progress.id == id)
		{
			return drain;
		}
	}
	return NULL;
}

/**
 * Log the summary of a drain's skipped IKE_SAs, at its start or end
 */
static void log_skips(drain_t *drain, bool ended)
{
	char buf[256] = "", *pos = buf;
	size_t len = sizeof(buf);
	skip_t skip;
	int written;

	for (skip = 0; skip < SKIP_MAX; skip++)
	{
		if (drain->skips[skip])
		{
			written = snprintf(pos, len, "%s%u %N", pos == buf ? "" : ", ",
							   drain->skips[skip], skip_names, skip);
			if (written < 0 || written >= len)
			{
				break;
			}
			pos += written;
			len -= written;
		}
	}
	if (ended)
	{
		DBG1(DBG_IKE, "cxtp: drain %u to peer '%s' ended: %u of %u IKE_SAs "
			 "pushed, %u skipped%s%s%s", drain->progress.id, drain->peer,
			 drain->progress.pushed, drain->progress.selected,
			 drain->progress.skipped, buf[0] ? " (" : "", buf,
			 buf[0] ? ")" : "");
	}
	else if (!drain->progress.id)
	{	/* one that does not start gets no number */
		DBG1(DBG_IKE, "cxtp: not draining to peer '%s': skipping all %u "
			 "IKE_SAs (%s)", drain->peer, drain->progress.selected, buf);
	}
	else
	{
		DBG1(DBG_IKE, "cxtp: drain %u to peer '%s': skipping %u of %u IKE_SAs "
			 "(%s)", drain->progress.id, drain->peer, drain->progress.skipped,
			 drain->progress.selected, buf);
	}
}

/**
 * Mark a drain done if nothing of it is left, forget the oldest ended
 * drains (mutex held); returns TRUE if it just ended
 */
static bool check_done(private_cxtp_drain_t *this, drain_t *drain)
{
	cxtp_drain_progress_t *p = &drain->progress;
	drain_t *old;
	u_int ended, i, count = 0;

	ended = p->activated + p->failed + p->thawed + p->cancelled +
			p->superseded;
	if (p->done || drain->pushing || p->queued || p->pushed != ended)
	{
		return FALSE;
	}
	p->done = TRUE;
	log_skips(drain, TRUE);
	DBG1(DBG_IKE, "cxtp: drain %u to peer '%s': %u activated there, %u "
		 "failed, %u thawed, %u cancelled, %u superseded", p->id, drain->peer,
		 p->activated, p->failed, p->thawed, p->cancelled, p->superseded);
	for (i = 0; i < array_count(this->drains); i++)
	{
		array_get(this->drains, i, &old);
		count += old->progress.done;
	}
	for (i = 0; count > ENDED_KEPT && i < array_count(this->drains); )
	{
		array_get(this->drains, i, &old);
		if (old->progress.done && old != drain)
		{
			array_remove(this->drains, i, NULL);
			drain_destroy(old);
			count--;
			continue;
		}
		i++;
	}
	return TRUE;
}

/**
 * Report the progress of a drain, with the mutex held, which this releases
 */
static void report(private_cxtp_drain_t *this, drain_t *drain)
{
	cxtp_drain_progress_t progress = drain->progress;
	cxtp_drain_cb_t cb = this->cb;
	void *data = this->cb_data;
	char *peer;

	if (!cb)
	{
		this->mutex->unlock(this->mutex);
		return;
	}
	peer = strdup(drain->peer);
	this->mutex->unlock(this->mutex);
	cb(data, peer, &progress);
	free(peer);
}

/**
 * Push one IKE_SA of a drain, returns why not
 */
static skip_t push_one(private_cxtp_drain_t *this, drain_t *drain,
					   u_int ike_id, char *peer, bool takeover)
{
	ike_sa_t *ike_sa;
	char *reason;

	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													ike_id);
	if (!ike_sa)
	{
		DBG2(DBG_IKE, "cxtp: drain %u: IKE_SA [%u] is gone",
			 drain->progress.id, ike_id);
		return SKIP_GONE;
	}
	reason = this->par->push(this->par, ike_sa, peer, takeover);
	if (reason)
	{
		DBG2(DBG_IKE, "cxtp: drain %u: not pushing IKE_SA %s[%u]: %s",
			 drain->progress.id, ike_sa->get_name(ike_sa), ike_id, reason);
		free(reason);
	}
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	return reason ? SKIP_REFUSED : SKIP_MAX;
}

/**
 * Whether the window of a drain has room and an IKE_SA waits (mutex held)
 */
static bool can_push(private_cxtp_drain_t *this, drain_t *drain)
{
	return !this->destroyed && array_count(drain->queue) &&
		   drain->progress.in_flight <
						this->settings->get_drain_window(this->settings);
}

/**
 * Push the IKE_SAs of a drain the window allows, unless another thread does
 * (mutex held); returns TRUE if it ended
 */
static bool push_window(private_cxtp_drain_t *this, drain_t *drain)
{
	member_t *member;
	uintptr_t ike_id;
	skip_t skip;
	char *peer;

	if (drain->pushing)
	{	/* that thread checks the window again before it stops */
		return FALSE;
	}
	drain->pushing = TRUE;
	peer = strdup(drain->peer);
	while (can_push(this, drain))
	{
		/* what this round pushes goes out in as few datagrams as fit */
		this->transport->cork(this->transport, peer);
		while (can_push(this, drain))
		{
			array_remove(drain->queue, ARRAY_HEAD, &ike_id);
			/* before the push, its outcome may come in another thread */
			INIT(member,
				.ike_id = ike_id,
				.drain = drain,
				.in_flight = TRUE,
			);
			free(this->members->put(this->members, (void*)ike_id, member));
			drain->progress.queued--;
			drain->progress.in_flight++;
			this->mutex->unlock(this->mutex);
			skip = push_one(this, drain, ike_id, peer, drain->takeover);
			this->mutex->lock(this->mutex);
			if (skip == SKIP_MAX)
			{
				drain->progress.pushed++;
				continue;
			}
			/* a refused push reports nothing */
			free(this->members->remove(this->members, (void*)ike_id));
			drain->progress.in_flight--;
			drain->progress.skipped++;
			drain->skips[skip]++;
		}
		/* slots freed meanwhile are seen by the next round */
		this->mutex->unlock(this->mutex);
		this->transport->uncork(this->transport, peer);
		this->mutex->lock(this->mutex);
	}
	free(peer);
	drain->pushing = FALSE;
	this->condvar->broadcast(this->condvar);
	return check_done(this, drain);
}

CALLBACK(push_job, job_requeue_t,
	push_job_t *job)
{
	private_cxtp_drain_t *this = job->this;
	drain_t *drain;
	u_int pushed;

	this->mutex->lock(this->mutex);
	drain = find_drain(this, job->id);
	if (drain)
	{
		pushed = drain->progress.pushed + drain->progress.skipped;
		if (push_window(this, drain) ||
			pushed != drain->progress.pushed + drain->progress.skipped)
		{	/* each round that pushed, so a tool sees the window move */
			report(this, drain);
			return JOB_REQUEUE_NONE;
		}
	}
	this->mutex->unlock(this->mutex);
	return JOB_REQUEUE_NONE;
}

CALLBACK(push_job_destroy, void,
	push_job_t *job)
{
	unref(job->this);
	free(job);
}

/**
 * Push what a freed slot allows, in a job as the thread reporting the event
 * may hold an IKE_SA (mutex held)
 */
static void queue_push(private_cxtp_drain_t *this, drain_t *drain)
{
	push_job_t *job;

	if (!drain->progress.queued || this->destroyed)
	{
		return;
	}
	INIT(job,
		.this = this,
		.id = drain->progress.id,
	);
	ref_get(&this->ref);
	lib->processor->queue_job(lib->processor, (job_t*)
				callback_job_create(push_job, job, push_job_destroy, NULL));
}

/**
 * Why an IKE_SA cannot be pushed, SKIP_MAX if it can be tried
 */
static skip_t check(private_cxtp_drain_t *this, ike_sa_t *ike_sa)
{
	if (this->par->get_state(this->par, ike_sa))
	{
		return SKIP_IN_TRANSFER;
	}
	switch (ike_sa->get_state(ike_sa))
	{
		case IKE_ESTABLISHED:
			return SKIP_MAX;
		case IKE_PASSIVE:
			return SKIP_PASSIVE;
		default:
			return SKIP_NOT_ESTABLISHED;
	}
}

/**
 * Select the IKE_SAs of a drain, all or those of a connection
 */
static void select_ike_sas(private_cxtp_drain_t *this, drain_t *drain,
						   char *name)
{
	enumerator_t *enumerator;
	ike_sa_t *ike_sa;
	uintptr_t ike_id;
	skip_t skip;

	enumerator = charon->controller->create_ike_sa_enumerator(
													charon->controller, TRUE);
	while (enumerator->enumerate(enumerator, &ike_sa))
	{
		if (name && !streq(name, ike_sa->get_name(ike_sa)))
		{
			continue;
		}
		drain->progress.selected++;
		ike_id = ike_sa->get_unique_id(ike_sa);
		skip = check(this, ike_sa);
		if (skip != SKIP_MAX)
		{
			DBG2(DBG_IKE, "cxtp: drain to peer '%s': not pushing IKE_SA "
				 "%s[%u]: %N (%N)", drain->peer, ike_sa->get_name(ike_sa),
				 (u_int)ike_id, skip_names, skip, ike_sa_state_names,
				 ike_sa->get_state(ike_sa));
			drain->progress.skipped++;
			drain->skips[skip]++;
			continue;
		}
		array_insert(drain->queue, ARRAY_TAIL, (void*)ike_id);
		drain->progress.queued++;
	}
	enumerator->destroy(enumerator);
}

METHOD(cxtp_drain_t, start, char*,
	private_cxtp_drain_t *this, char *name, char *peer, bool takeover,
	cxtp_drain_progress_t *progress)
{
	cxtp_peer_t *config;
	drain_t *drain;
	char *error;

	config = this->settings->get_peer(this->settings, peer);
	if (!config)
	{
		return strdup("no such CXTP peer");
	}
	config->destroy(config);
	INIT(drain,
		.peer = strdup(peer),
		.takeover = takeover,
		.queue = array_create(0, 0),
	);
	select_ike_sas(this, drain, name);
	if (!drain->progress.selected)
	{
		drain_destroy(drain);
		return strdup(name ? "no IKE_SA with that name" : "no IKE_SA");
	}
	if (!drain->progress.queued)
	{
		if (asprintf(&error, "none of the %u IKE_SAs can be pushed, see the "
					 "log", drain->progress.selected) < 0)
		{
			error = strdup("no IKE_SA can be pushed");
		}
		log_skips(drain, FALSE);
		drain_destroy(drain);
		return error;
	}
	this->mutex->lock(this->mutex);
	drain->progress.id = ++this->next_id;
	array_insert(this->drains, ARRAY_TAIL, drain);
	DBG1(DBG_IKE, "cxtp: drain %u: pushing %u IKE_SAs%s%s%s to peer '%s'%s, "
		 "%u at a time", drain->progress.id, drain->progress.queued,
		 name ? " of '" : "", name ?: "", name ? "'" : "", peer,
		 takeover ? " for a takeover" : "",
		 this->settings->get_drain_window(this->settings));
	if (drain->progress.skipped)
	{
		log_skips(drain, FALSE);
	}
	push_window(this, drain);
	*progress = drain->progress;
	report(this, drain);
	return NULL;
}

METHOD(cxtp_drain_t, event, void,
	private_cxtp_drain_t *this, cxtp_event_t event, u_int ike_id)
{
	cxtp_drain_progress_t *p;
	member_t *member;
	drain_t *drain;
	bool ended = TRUE;

	this->mutex->lock(this->mutex);
	member = this->members->get(this->members, (void*)(uintptr_t)ike_id);
	if (!member)
	{
		this->mutex->unlock(this->mutex);
		return;
	}
	drain = member->drain;
	p = &drain->progress;
	switch (event)
	{
		case CXTP_EVENT_ACTIVATE:
			p->activated++;
			break;
		case CXTP_EVENT_FAILURE:
			p->failed++;
			break;
		case CXTP_EVENT_THAW:
			p->thawed++;
			break;
		case CXTP_EVENT_CANCEL:
			p->cancelled++;
			break;
		case CXTP_EVENT_SUPERSEDE:
			p->superseded++;
			break;
		case CXTP_EVENT_IMPORT:
			ended = FALSE;
			break;
		default:
			this->mutex->unlock(this->mutex);
			return;
	}
	if (member->in_flight)
	{
		member->in_flight = FALSE;
		p->in_flight--;
		queue_push(this, drain);
	}
	if (!ended)
	{
		this->mutex->unlock(this->mutex);
		return;
	}
	free(this->members->remove(this->members, (void*)(uintptr_t)ike_id));
	check_done(this, drain);
	report(this, drain);
}

METHOD(cxtp_drain_t, get_progress, bool,
	private_cxtp_drain_t *this, u_int id, cxtp_drain_progress_t *progress)
{
	drain_t *drain;

	this->mutex->lock(this->mutex);
	drain = find_drain(this, id);
	if (drain)
	{
		*progress = drain->progress;
	}
	this->mutex->unlock(this->mutex);
	return drain != NULL;
}

METHOD(cxtp_drain_t, set_progress_cb, void,
	private_cxtp_drain_t *this, cxtp_drain_cb_t cb, void *data)
{
	this->mutex->lock(this->mutex);
	this->cb = cb;
	this->cb_data = data;
	this->mutex->unlock(this->mutex);
}

/**
 * Whether a thread pushes for a drain (mutex held)
 */
static bool pushing(private_cxtp_drain_t *this)
{
	drain_t *drain;
	int i;

	for (i = 0; i < array_count(this->drains); i++)
	{
		array_get(this->drains, i, &drain);
		if (drain->pushing)
		{
			return TRUE;
		}
	}
	return FALSE;
}

METHOD(cxtp_drain_t, destroy, void,
	private_cxtp_drain_t *this)
{
	this->mutex->lock(this->mutex);
	this->destroyed = TRUE;
	this->cb = NULL;
	while (pushing(this))
	{	/* a push in progress uses pAR */
		this->condvar->wait(this->condvar, this->mutex);
	}
	this->mutex->unlock(this->mutex);
	unref(this);
}

/*
 * Described in header
 */
cxtp_drain_t *cxtp_drain_create(cxtp_par_t *par, cxtp_transport_t *transport,
								cxtp_settings_t *settings)
{
	private_cxtp_drain_t *this;

	INIT(this,
		.public = {
			.start = _start,
			.event = _event,
			.get_progress = _get_progress,
			.set_progress_cb = _set_progress_cb,
			.destroy = _destroy,
		},
		.par = par,
		.transport = transport,
		.settings = settings,
		.drains = array_create(0, 0),
		.members = hashtable_create(hashtable_hash_ptr, hashtable_equals_ptr,
									64),
		.ref = 1,
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
		.condvar = condvar_create(CONDVAR_TYPE_DEFAULT),
	);
	return &this->public;
}
