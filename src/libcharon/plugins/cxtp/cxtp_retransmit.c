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

#include "cxtp_retransmit.h"

#include <math.h>

#include <threading/mutex.h>
#include <threading/condvar.h>
#include <collections/array.h>
#include <collections/hashtable.h>
#include <processing/jobs/callback_job.h>

typedef struct private_cxtp_retransmit_t private_cxtp_retransmit_t;

/**
 * Private data of a cxtp_retransmit_t object.
 */
struct private_cxtp_retransmit_t {

	/**
	 * Public interface
	 */
	cxtp_retransmit_t public;

	/**
	 * References held by the owner and by scheduled timer jobs
	 */
	refcount_t ref;

	/**
	 * Protects everything below
	 */
	mutex_t *mutex;

	/**
	 * Signals the end of a give_up() callback
	 */
	condvar_t *condvar;

	/**
	 * Pending packets, id => entry_t
	 */
	hashtable_t *pending;

	/**
	 * Serial of the last entry added
	 */
	u_int serial;

	/**
	 * give_up() callbacks running
	 */
	u_int running;

	/**
	 * Set by destroy(), timer jobs do nothing anymore and add() fails
	 */
	bool destroyed;
};

/**
 * A pending packet
 */
typedef struct {

	/**
	 * Identifier, key in the pending table
	 */
	uint32_t id;

	/**
	 * Unique number of the entry, so timers of a replaced one do nothing
	 */
	u_int serial;

	/**
	 * The packet
	 */
	cxtp_retransmit_packet_t *packet;

	/**
	 * Schedule of the packet
	 */
	cxtp_retransmit_backoff_t backoff;

	/**
	 * Retransmissions done
	 */
	u_int retransmitted;

	/**
	 * Monotonic time in ms when to give up at the latest, 0 for none
	 */
	double deadline;

	/**
	 * Monotonic time in ms the timer is scheduled for
	 */
	double at;

	/**
	 * Wait after the next transmission in ms
	 */
	double wait;

} entry_t;

/**
 * Data of a timer job
 */
typedef struct {

	/**
	 * Object, referenced
	 */
	private_cxtp_retransmit_t *this;

	/**
	 * Identifier of the entry
	 */
	uint32_t id;

	/**
	 * Serial of the entry
	 */
	u_int serial;

} timer_data_t;

/**
 * Current monotonic time in ms
 */
static double now_ms()
{
	timeval_t tv;

	time_monotonic(&tv);
	return tv.tv_sec * 1000.0 + tv.tv_usec / 1000.0;
}

/**
 * Hash an identifier
 */
static u_int hash_id(const void *key)
{
	return chunk_hash(chunk_create((u_char*)key, sizeof(uint32_t)));
}

/**
 * Compare identifiers
 */
static bool equals_id(const void *key, const void *other_key)
{
	return *(uint32_t*)key == *(uint32_t*)other_key;
}

/**
 * Destroy an entry and its packet
 */
static void entry_destroy(entry_t *entry)
{
	entry->packet->destroy(entry->packet);
	free(entry);
}

/**
 * Destroy an entry, array_destroy_function() signature
 */
static void entry_destroy_cb(void *data, int idx, void *user)
{
	entry_destroy(data);
}

/**
 * Release a reference, freeing the object with the last one
 */
static void unref(private_cxtp_retransmit_t *this)
{
	if (ref_put(&this->ref))
	{
		this->pending->destroy(this->pending);
		this->condvar->destroy(this->condvar);
		this->mutex->destroy(this->mutex);
		free(this);
	}
}

/**
 * Destroy the data of a timer job, releasing its reference
 */
static void timer_destroy(timer_data_t *timer)
{
	unref(timer->this);
	free(timer);
}

static job_requeue_t timer_cb(timer_data_t *timer);

/**
 * Schedule the next timer of an entry, with the mutex held
 */
static void schedule_next(private_cxtp_retransmit_t *this, entry_t *entry,
						  double now)
{
	timer_data_t *timer;
	double delay;

	entry->at += entry->wait;
	if (entry->deadline && entry->at > entry->deadline)
	{
		entry->at = entry->deadline;
	}
	entry->wait *= entry->backoff.base;

	INIT(timer,
		.this = this,
		.id = entry->id,
		.serial = entry->serial,
	);
	ref_get(&this->ref);
	/* round up, the timer must not run before the time it was due, or it
	 * would retransmit instead of giving up at the deadline */
	delay = ceil(entry->at - now);
	lib->scheduler->schedule_job_ms(lib->scheduler, (job_t*)
						callback_job_create((callback_job_cb_t)timer_cb, timer,
								(callback_job_cleanup_t)timer_destroy, NULL),
						delay <= 0.0 ? 0 : delay >= UINT32_MAX ? UINT32_MAX
														   : (uint32_t)delay);
}

/**
 * Timer of an entry: retransmit it or give up
 */
static job_requeue_t timer_cb(timer_data_t *timer)
{
	private_cxtp_retransmit_t *this = timer->this;
	entry_t *entry;
	double now;

	this->mutex->lock(this->mutex);
	entry = this->destroyed ? NULL : this->pending->get(this->pending,
														&timer->id);
	if (!entry || entry->serial != timer->serial)
	{	/* cancelled, replaced or destroyed meanwhile */
		this->mutex->unlock(this->mutex);
		return JOB_REQUEUE_NONE;
	}
	now = now_ms();
	if (entry->retransmitted < entry->backoff.tries &&
		(!entry->deadline || now < entry->deadline))
	{
		entry->retransmitted++;
		entry->packet->send(entry->packet, entry->retransmitted);
		schedule_next(this, entry, now);
		this->mutex->unlock(this->mutex);
		return JOB_REQUEUE_NONE;
	}
	this->pending->remove(this->pending, &timer->id);
	this->running++;
	this->mutex->unlock(this->mutex);

	entry->packet->give_up(entry->packet, entry->retransmitted);
	entry_destroy(entry);

	this->mutex->lock(this->mutex);
	this->running--;
	this->condvar->broadcast(this->condvar);
	this->mutex->unlock(this->mutex);
	return JOB_REQUEUE_NONE;
}

METHOD(cxtp_retransmit_t, add, bool,
	private_cxtp_retransmit_t *this, uint32_t id,
	cxtp_retransmit_packet_t *packet, cxtp_retransmit_backoff_t *backoff,
	cxtp_retransmit_packet_t **replaced)
{
	entry_t *entry, *old;
	double now;

	if (replaced)
	{
		*replaced = NULL;
	}
	this->mutex->lock(this->mutex);
	if (this->destroyed || !packet->send(packet, 0))
	{
		this->mutex->unlock(this->mutex);
		packet->destroy(packet);
		return FALSE;
	}
	now = now_ms();
	INIT(entry,
		.id = id,
		.serial = ++this->serial ?: ++this->serial,
		.packet = packet,
		.backoff = *backoff,
		.deadline = backoff->limit ? now + backoff->limit : 0,
		.at = now,
		.wait = backoff->timeout,
	);
	old = this->pending->put(this->pending, &entry->id, entry);
	schedule_next(this, entry, now);
	this->mutex->unlock(this->mutex);

	if (old)
	{
		if (replaced)
		{
			*replaced = old->packet;
			free(old);
		}
		else
		{
			entry_destroy(old);
		}
	}
	return TRUE;
}

METHOD(cxtp_retransmit_t, cancel, cxtp_retransmit_packet_t*,
	private_cxtp_retransmit_t *this, uint32_t id, u_int *retransmissions)
{
	cxtp_retransmit_packet_t *packet;
	entry_t *entry;

	this->mutex->lock(this->mutex);
	entry = this->pending->remove(this->pending, &id);
	this->mutex->unlock(this->mutex);

	if (!entry)
	{
		return NULL;
	}
	if (retransmissions)
	{
		*retransmissions = entry->retransmitted;
	}
	packet = entry->packet;
	free(entry);
	return packet;
}

/**
 * Remove all entries, with the mutex held, returns them in an array
 */
static array_t *remove_all(private_cxtp_retransmit_t *this)
{
	enumerator_t *enumerator;
	array_t *entries;
	entry_t *entry;
	void *key;

	entries = array_create(0, 0);
	enumerator = this->pending->create_enumerator(this->pending);
	while (enumerator->enumerate(enumerator, &key, &entry))
	{
		this->pending->remove_at(this->pending, enumerator);
		array_insert(entries, ARRAY_TAIL, entry);
	}
	enumerator->destroy(enumerator);
	return entries;
}

METHOD(cxtp_retransmit_t, flush, void,
	private_cxtp_retransmit_t *this)
{
	array_t *entries;

	this->mutex->lock(this->mutex);
	entries = remove_all(this);
	this->mutex->unlock(this->mutex);
	/* packets are the user's code, destroy them unlocked */
	array_destroy_function(entries, entry_destroy_cb, NULL);
}

METHOD(cxtp_retransmit_t, destroy, void,
	private_cxtp_retransmit_t *this)
{
	array_t *entries;

	this->mutex->lock(this->mutex);
	this->destroyed = TRUE;
	entries = remove_all(this);
	while (this->running)
	{
		this->condvar->wait(this->condvar, this->mutex);
	}
	this->mutex->unlock(this->mutex);
	array_destroy_function(entries, entry_destroy_cb, NULL);
	/* scheduled timer jobs hold references until they ran */
	unref(this);
}

/*
 * Described in header
 */
cxtp_retransmit_t *cxtp_retransmit_create()
{
	private_cxtp_retransmit_t *this;

	INIT(this,
		.public = {
			.add = _add,
			.cancel = _cancel,
			.flush = _flush,
			.destroy = _destroy,
		},
		.ref = 1,
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
		.condvar = condvar_create(CONDVAR_TYPE_DEFAULT),
		.pending = hashtable_create(hash_id, equals_id, 8),
	);

	return &this->public;
}
