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

#include "cxtp_ctar_queue.h"
#include "cxtp_options.h"

#include <inttypes.h>

#include <library.h>
#include <utils/debug.h>
#include <collections/array.h>
#include <processing/jobs/callback_job.h>
#include <threading/condvar.h>
#include <threading/mutex.h>
#include <threading/thread.h>

/**
 * Minimum interval between log messages about drops in ms
 */
#define DROP_LOG_INTERVAL 1000

/**
 * CTARs a job processes before it leaves the rest of its lane to a new job,
 * so other jobs get a turn during a flood
 */
#define BATCH 32

typedef struct private_cxtp_ctar_queue_t private_cxtp_ctar_queue_t;

/**
 * A queued CTAR
 */
typedef struct {
	host_t *src;
	host_t *dst;
	cxtp_message_t *message;
} entry_t;

static void entry_destroy(entry_t *entry)
{
	entry->src->destroy(entry->src);
	entry->dst->destroy(entry->dst);
	entry->message->destroy(entry->message);
	free(entry);
}

/**
 * Free an entry whose CTAR went to the callback
 */
static void entry_handed_over(entry_t *entry)
{
	entry->src->destroy(entry->src);
	entry->dst->destroy(entry->dst);
	free(entry);
}

/**
 * The CTARs of a share of the mobile nodes, processed in order
 */
typedef struct {
	/** queued CTARs, entry_t */
	array_t *entries;
	/** whether a job for the lane is queued or running */
	bool busy;
} lane_t;

/**
 * Private data of a cxtp_ctar_queue_t object.
 */
struct private_cxtp_ctar_queue_t {

	/**
	 * Public interface
	 */
	cxtp_ctar_queue_t public;

	/**
	 * Callback processing a CTAR
	 */
	cxtp_ctar_queue_cb_t cb;
	void *data;

	/**
	 * The lanes, by the hash of the mobile node's address
	 */
	lane_t lanes[CXTP_CTAR_QUEUE_LANES];

	/**
	 * CTARs queued in all lanes, and the maximum
	 */
	u_int queued;
	u_int max;

	/**
	 * Callbacks running
	 */
	u_int running;

	/**
	 * Set once destroy() was called, the jobs left end without processing
	 */
	bool closed;

	/**
	 * Counters since the creation, and drops since the last notice
	 */
	uint64_t processed;
	uint64_t dropped;
	u_int dropped_unlogged;
	uint64_t last_drop_log;

	/**
	 * References: the owner's, and one per job queued or running
	 */
	refcount_t refs;

	/**
	 * Protects the members above
	 */
	mutex_t *mutex;

	/**
	 * Signals the end of a callback to destroy()
	 */
	condvar_t *condvar;
};

/**
 * A job processing a lane
 */
typedef struct {
	private_cxtp_ctar_queue_t *this;
	lane_t *lane;
} job_data_t;

static void queue_job(private_cxtp_ctar_queue_t *this, lane_t *lane);

/**
 * Free the object, once neither the owner nor a job refers to it
 */
static void unref(private_cxtp_ctar_queue_t *this)
{
	int i;

	if (!ref_put(&this->refs))
	{
		return;
	}
	for (i = 0; i < CXTP_CTAR_QUEUE_LANES; i++)
	{
		array_destroy_function(this->lanes[i].entries, (void*)entry_destroy,
							   NULL);
	}
	this->condvar->destroy(this->condvar);
	this->mutex->destroy(this->mutex);
	free(this);
}

static void job_data_destroy(job_data_t *job)
{
	unref(job->this);
	free(job);
}

/**
 * A callback returned, or its thread was cancelled in it (at shutdown)
 */
static void callback_done(private_cxtp_ctar_queue_t *this)
{
	this->mutex->lock(this->mutex);
	this->running--;
	this->condvar->signal(this->condvar);
	this->mutex->unlock(this->mutex);
}

CALLBACK(process_lane, job_requeue_t,
	job_data_t *job)
{
	private_cxtp_ctar_queue_t *this = job->this;
	lane_t *lane = job->lane;
	entry_t *entry;
	int i;

	for (i = 0; i < BATCH; i++)
	{
		this->mutex->lock(this->mutex);
		if (this->closed ||
			!array_remove(lane->entries, ARRAY_HEAD, &entry))
		{
			lane->busy = FALSE;
			this->mutex->unlock(this->mutex);
			return JOB_REQUEUE_NONE;
		}
		this->queued--;
		this->processed++;
		this->running++;
		this->mutex->unlock(this->mutex);

		/* destroy() waits for running callbacks, also for cancelled ones */
		thread_cleanup_push((thread_cleanup_t)callback_done, this);
		thread_cleanup_push((thread_cleanup_t)entry_handed_over, entry);
		this->cb(this->data, entry->src, entry->dst, entry->message);
		thread_cleanup_pop(TRUE);
		thread_cleanup_pop(TRUE);
	}
	/* more of them: a new job continues the lane (still busy) */
	this->mutex->lock(this->mutex);
	if (this->closed || !array_count(lane->entries))
	{
		lane->busy = FALSE;
	}
	else
	{
		queue_job(this, lane);
	}
	this->mutex->unlock(this->mutex);
	return JOB_REQUEUE_NONE;
}

/**
 * Queue a job for a lane (mutex held)
 */
static void queue_job(private_cxtp_ctar_queue_t *this, lane_t *lane)
{
	job_data_t *job;

	INIT(job,
		.this = this,
		.lane = lane,
	);
	ref_get(&this->refs);
	lane->busy = TRUE;
	lib->processor->queue_job(lib->processor, (job_t*)
			callback_job_create(process_lane, job,
								(void*)job_data_destroy, NULL));
}

/**
 * Log the drops since the last notice, at most once a second
 */
static void log_drop(private_cxtp_ctar_queue_t *this, host_t *src)
{
	uint64_t now, total;
	u_int dropped;
	timeval_t tv;

	time_monotonic(&tv);
	now = (uint64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;

	this->mutex->lock(this->mutex);
	if (this->last_drop_log && now - this->last_drop_log < DROP_LOG_INTERVAL)
	{
		this->mutex->unlock(this->mutex);
		return;
	}
	dropped = this->dropped_unlogged;
	total = this->dropped;
	this->dropped_unlogged = 0;
	this->last_drop_log = now;
	this->mutex->unlock(this->mutex);

	DBG1(DBG_NET, "cxtp: dropped CTAR from %H, %u CTARs wait for processing "
		 "already (%u dropped since the last notice, %"PRIu64" in all)", src,
		 this->max, dropped, total);
}

METHOD(cxtp_ctar_queue_t, enqueue, bool,
	private_cxtp_ctar_queue_t *this, host_t *src, host_t *dst,
	cxtp_message_t *message)
{
	host_t *mn = message->get_mn_address(message);
	entry_t *entry;
	lane_t *lane;

	lane = &this->lanes[chunk_hash(mn->get_address(mn)) %
						CXTP_CTAR_QUEUE_LANES];
	this->mutex->lock(this->mutex);
	if (this->closed || this->queued >= this->max)
	{
		this->dropped++;
		this->dropped_unlogged++;
		this->mutex->unlock(this->mutex);
		message->destroy(message);
		log_drop(this, src);
		return FALSE;
	}
	INIT(entry,
		.src = src->clone(src),
		.dst = dst->clone(dst),
		.message = message,
	);
	array_insert(lane->entries, ARRAY_TAIL, entry);
	this->queued++;
	if (!lane->busy)
	{
		queue_job(this, lane);
	}
	this->mutex->unlock(this->mutex);
	return TRUE;
}

METHOD(cxtp_ctar_queue_t, get_counters, void,
	private_cxtp_ctar_queue_t *this, uint64_t *processed, uint64_t *dropped)
{
	this->mutex->lock(this->mutex);
	*processed = this->processed;
	*dropped = this->dropped;
	this->mutex->unlock(this->mutex);
}

METHOD(cxtp_ctar_queue_t, destroy, void,
	private_cxtp_ctar_queue_t *this)
{
	entry_t *entry;
	int i;

	this->mutex->lock(this->mutex);
	this->closed = TRUE;
	for (i = 0; i < CXTP_CTAR_QUEUE_LANES; i++)
	{
		while (array_remove(this->lanes[i].entries, ARRAY_HEAD, &entry))
		{
			entry_destroy(entry);
		}
	}
	this->queued = 0;
	while (this->running)
	{
		this->condvar->wait(this->condvar, this->mutex);
	}
	this->mutex->unlock(this->mutex);
	unref(this);
}

/*
 * Described in header
 */
cxtp_ctar_queue_t *cxtp_ctar_queue_create(cxtp_ctar_queue_cb_t cb, void *data)
{
	private_cxtp_ctar_queue_t *this;
	cxtp_options_t *options;
	int i;

	options = cxtp_options_create("cxtp");
	INIT(this,
		.public = {
			.enqueue = _enqueue,
			.get_counters = _get_counters,
			.destroy = _destroy,
		},
		.cb = cb,
		.data = data,
		.max = options->get_uint(options, "ctar_queue", CXTP_CTAR_QUEUE_MAX,
								 1, 1 << 20),
		.refs = 1,
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
		.condvar = condvar_create(CONDVAR_TYPE_DEFAULT),
	);
	options->destroy(options);
	for (i = 0; i < CXTP_CTAR_QUEUE_LANES; i++)
	{
		this->lanes[i].entries = array_create(0, 0);
	}
	return &this->public;
}
