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


#include "cxtp_handovers.h"
#include "cxtp_host_key.h"

#include <library.h>
#include <collections/array.h>
#include <collections/hashtable.h>
#include <processing/jobs/callback_job.h>
#include <threading/mutex.h>

typedef struct private_cxtp_handovers_t private_cxtp_handovers_t;

/**
 * The handovers sharing a key, in the order they were added (or, for an
 * IKE_SA, took it)
 */
typedef struct {
	/** the key, one of these */
	u_int ike_id;
	cxtp_transfer_id_t id;
	host_t *mn;
	/** cxtp_handover_t* */
	array_t *handovers;
} bucket_t;

/**
 * Private data of a cxtp_handovers_t object.
 */
struct private_cxtp_handovers_t {

	/**
	 * Public cxtp_handovers_t interface.
	 */
	cxtp_handovers_t public;

	/**
	 * Handovers in progress by serial, cxtp_handover_t
	 */
	hashtable_t *serials;

	/**
	 * Buckets of handovers by IKE_SA (0 not indexed), by transfer (the SPIs,
	 * the IKE_SA as pAR holds it) and by mobile node, bucket_t
	 */
	hashtable_t *ike_sas;
	hashtable_t *ids;
	hashtable_t *mns;

	/**
	 * Destructor of the handovers
	 */
	void (*destroy)(cxtp_handover_t *handover);

	/**
	 * Serial of the last handover, and of the last timer
	 */
	u_int serial;
	u_int timer;

	/**
	 * Callback for events, and its data
	 */
	cxtp_event_cb_t event_cb;
	void *event_data;

	/**
	 * Protects the members above
	 */
	mutex_t *mutex;
};

static u_int id_hash(const void *key)
{
	cxtp_transfer_id_t *id = (cxtp_transfer_id_t*)key;

	return chunk_hash_inc(chunk_from_thing(id->spi_i),
						  chunk_hash(chunk_from_thing(id->spi_r)));
}

static bool id_equals(const void *a, const void *b)
{
	return cxtp_transfer_id_same_ike_sa((cxtp_transfer_id_t*)a,
										(cxtp_transfer_id_t*)b);
}

static void *key_of(private_cxtp_handovers_t *this, hashtable_t *table,
					bucket_t *bucket)
{
	if (table == this->ike_sas)
	{
		return (void*)(uintptr_t)bucket->ike_id;
	}
	if (table == this->ids)
	{
		return &bucket->id;
	}
	return bucket->mn;
}

static void bucket_destroy(bucket_t *bucket)
{
	array_destroy(bucket->handovers);
	DESTROY_IF(bucket->mn);
	free(bucket);
}

/**
 * Add a handover to its bucket in a table, locked
 */
static void bucket_add(private_cxtp_handovers_t *this, hashtable_t *table,
					   cxtp_handover_t *handover)
{
	bucket_t *bucket, key = {
		.ike_id = handover->ike_id,
		.id = handover->id,
		.mn = handover->mn,
	};

	if (table == this->ike_sas && !handover->ike_id)
	{
		return;
	}
	bucket = table->get(table, key_of(this, table, &key));
	if (!bucket)
	{
		INIT(bucket,
			.ike_id = handover->ike_id,
			.id = handover->id,
			.mn = table == this->mns ? handover->mn->clone(handover->mn)
									 : NULL,
			.handovers = array_create(0, 0),
		);
		table->put(table, key_of(this, table, bucket), bucket);
	}
	array_insert(bucket->handovers, ARRAY_TAIL, handover);
}

/**
 * Remove a handover from its bucket in a table, with the key it was added
 * under (ike_id for the IKE_SA table), locked
 */
static void bucket_remove(private_cxtp_handovers_t *this, hashtable_t *table,
						  cxtp_handover_t *handover, u_int ike_id)
{
	cxtp_handover_t *current;
	bucket_t *bucket, key = {
		.ike_id = ike_id,
		.id = handover->id,
		.mn = handover->mn,
	};
	int i;

	if (table == this->ike_sas && !ike_id)
	{
		return;
	}
	bucket = table->get(table, key_of(this, table, &key));
	if (!bucket)
	{
		return;
	}
	for (i = 0; i < array_count(bucket->handovers); i++)
	{
		array_get(bucket->handovers, i, &current);
		if (current == handover)
		{
			array_remove(bucket->handovers, i, NULL);
			break;
		}
	}
	if (!array_count(bucket->handovers))
	{
		table->remove(table, key_of(this, table, bucket));
		bucket_destroy(bucket);
	}
}

/**
 * Take a handover out of all tables, locked
 */
static void unindex(private_cxtp_handovers_t *this, cxtp_handover_t *handover)
{
	this->serials->remove(this->serials, (void*)(uintptr_t)handover->serial);
	bucket_remove(this, this->ike_sas, handover, handover->ike_id);
	bucket_remove(this, this->ids, handover, 0);
	bucket_remove(this, this->mns, handover, 0);
}

METHOD(cxtp_handovers_t, add, u_int,
	private_cxtp_handovers_t *this, cxtp_handover_t *handover)
{
	u_int serial;

	this->mutex->lock(this->mutex);
	/* 0 is no serial, on the wire or here; one still in use (after
	 * 2^32 handovers) is not reused */
	do
	{
		if (!++this->serial)
		{
			this->serial++;
		}
	}
	while (this->serials->get(this->serials, (void*)(uintptr_t)this->serial));
	serial = handover->serial = this->serial;
	if (!handover->id.serial)
	{
		handover->id.serial = serial;
	}
	this->serials->put(this->serials, (void*)(uintptr_t)serial, handover);
	bucket_add(this, this->ike_sas, handover);
	bucket_add(this, this->ids, handover);
	bucket_add(this, this->mns, handover);
	this->mutex->unlock(this->mutex);
	return serial;
}

/**
 * The first handover of an IKE_SA, locked
 */
static cxtp_handover_t *first_of_ike_sa(private_cxtp_handovers_t *this,
										u_int ike_id)
{
	cxtp_handover_t *handover = NULL;
	bucket_t *bucket;

	bucket = ike_id ? this->ike_sas->get(this->ike_sas,
										 (void*)(uintptr_t)ike_id) : NULL;
	if (bucket)
	{
		array_get(bucket->handovers, ARRAY_HEAD, &handover);
	}
	return handover;
}

METHOD(cxtp_handovers_t, remove_, cxtp_handover_t*,
	private_cxtp_handovers_t *this, u_int serial)
{
	cxtp_handover_t *handover;

	this->mutex->lock(this->mutex);
	handover = this->serials->get(this->serials, (void*)(uintptr_t)serial);
	if (handover)
	{
		unindex(this, handover);
	}
	this->mutex->unlock(this->mutex);
	return handover;
}

METHOD(cxtp_handovers_t, remove_ike_sa, cxtp_handover_t*,
	private_cxtp_handovers_t *this, u_int ike_id)
{
	cxtp_handover_t *handover;

	this->mutex->lock(this->mutex);
	handover = first_of_ike_sa(this, ike_id);
	if (handover)
	{
		unindex(this, handover);
	}
	this->mutex->unlock(this->mutex);
	return handover;
}

METHOD(cxtp_handovers_t, has_ike_sa, bool,
	private_cxtp_handovers_t *this, u_int ike_id)
{
	bool found;

	this->mutex->lock(this->mutex);
	found = first_of_ike_sa(this, ike_id) != NULL;
	this->mutex->unlock(this->mutex);
	return found;
}

/**
 * Enumerator over some handovers, locked until destroyed
 */
typedef struct {
	enumerator_t public;
	private_cxtp_handovers_t *this;
	/** cxtp_handover_t*, those enumerated */
	array_t *handovers;
	/** the one last enumerated, and the IKE_SA it had */
	cxtp_handover_t *current;
	u_int ike_id;
} handover_enumerator_t;

/**
 * A role may tie the handover last enumerated to another IKE_SA (or none):
 * move it in the IKE_SA table
 */
static void reindex_current(handover_enumerator_t *this)
{
	cxtp_handover_t *handover = this->current;

	if (handover && handover->ike_id != this->ike_id)
	{
		bucket_remove(this->this, this->this->ike_sas, handover, this->ike_id);
		bucket_add(this->this, this->this->ike_sas, handover);
	}
	this->current = NULL;
}

METHOD(enumerator_t, enumerate_handovers, bool,
	handover_enumerator_t *this, va_list args)
{
	cxtp_handover_t **out;

	VA_ARGS_VGET(args, out);
	reindex_current(this);
	if (!array_remove(this->handovers, ARRAY_HEAD, &this->current))
	{
		return FALSE;
	}
	this->ike_id = this->current->ike_id;
	*out = this->current;
	return TRUE;
}

METHOD(enumerator_t, destroy_handovers, void,
	handover_enumerator_t *this)
{
	reindex_current(this);
	this->this->mutex->unlock(this->this->mutex);
	array_destroy(this->handovers);
	free(this);
}

/**
 * Enumerate handovers gathered, locked
 */
static enumerator_t *enumerate_gathered(private_cxtp_handovers_t *this,
										array_t *handovers)
{
	handover_enumerator_t *enumerator;

	INIT(enumerator,
		.public = {
			.enumerate = enumerator_enumerate_default,
			.venumerate = _enumerate_handovers,
			.destroy = _destroy_handovers,
		},
		.this = this,
		.handovers = handovers,
	);
	return &enumerator->public;
}

/**
 * Enumerate the handovers of a bucket, locking
 */
static enumerator_t *enumerate_bucket(private_cxtp_handovers_t *this,
									  hashtable_t *table, void *key)
{
	array_t *handovers = array_create(0, 0);
	cxtp_handover_t *handover;
	bucket_t *bucket;
	int i;

	this->mutex->lock(this->mutex);
	bucket = table->get(table, key);
	for (i = 0; bucket && i < array_count(bucket->handovers); i++)
	{
		array_get(bucket->handovers, i, &handover);
		array_insert(handovers, ARRAY_TAIL, handover);
	}
	return enumerate_gathered(this, handovers);
}

static int serial_cmp(const void *a, const void *b, void *user)
{
	const cxtp_handover_t *x = a, *y = b;

	return x->serial < y->serial ? -1 : x->serial > y->serial;
}

/**
 * Enumerate all handovers, locking, sorted in the order added if asked to
 */
static enumerator_t *enumerate_all(private_cxtp_handovers_t *this, bool sorted)
{
	enumerator_t *enumerator;
	cxtp_handover_t *handover;
	array_t *handovers;
	void *key;

	handovers = array_create(0, 0);
	this->mutex->lock(this->mutex);
	enumerator = this->serials->create_enumerator(this->serials);
	while (enumerator->enumerate(enumerator, &key, &handover))
	{
		array_insert(handovers, ARRAY_TAIL, handover);
	}
	enumerator->destroy(enumerator);
	if (sorted)
	{
		array_sort(handovers, serial_cmp, NULL);
	}
	return enumerate_gathered(this, handovers);
}

METHOD(cxtp_handovers_t, create_enumerator, enumerator_t*,
	private_cxtp_handovers_t *this, host_t *mn)
{
	if (mn)
	{
		return enumerate_bucket(this, this->mns, mn);
	}
	return enumerate_all(this, FALSE);
}

METHOD(cxtp_handovers_t, create_serial_enumerator, enumerator_t*,
	private_cxtp_handovers_t *this, u_int serial)
{
	array_t *handovers = array_create(0, 0);
	cxtp_handover_t *handover;

	this->mutex->lock(this->mutex);
	handover = this->serials->get(this->serials, (void*)(uintptr_t)serial);
	if (handover)
	{
		array_insert(handovers, ARRAY_TAIL, handover);
	}
	return enumerate_gathered(this, handovers);
}

METHOD(cxtp_handovers_t, create_ike_sa_enumerator, enumerator_t*,
	private_cxtp_handovers_t *this, u_int ike_id)
{
	if (!ike_id)
	{	/* not indexed, nor looked up */
		this->mutex->lock(this->mutex);
		return enumerate_gathered(this, array_create(0, 0));
	}
	return enumerate_bucket(this, this->ike_sas, (void*)(uintptr_t)ike_id);
}

METHOD(cxtp_handovers_t, create_id_enumerator, enumerator_t*,
	private_cxtp_handovers_t *this, cxtp_transfer_id_t *id)
{
	return enumerate_bucket(this, this->ids, id);
}

/**
 * Data of the enumerator of what listings show
 */
typedef struct {
	cxtp_transfer_info_t info;
	char* (*state)(cxtp_handover_t *handover);
} info_data_t;

CALLBACK(filter_info, bool,
	info_data_t *data, enumerator_t *orig, va_list args)
{
	cxtp_transfer_info_t **out;
	cxtp_handover_t *handover;

	VA_ARGS_VGET(args, out);
	if (orig->enumerate(orig, &handover))
	{
		data->info = (cxtp_transfer_info_t){
			.ike_id = handover->ike_id,
			.peer = handover->peer,
			.mn = handover->mn,
			.id = &handover->id,
			.state = data->state(handover),
		};
		*out = &data->info;
		return TRUE;
	}
	return FALSE;
}

METHOD(cxtp_handovers_t, create_info_enumerator, enumerator_t*,
	private_cxtp_handovers_t *this, char* (*state)(cxtp_handover_t *handover))
{
	info_data_t *data;

	INIT(data,
		.state = state,
	);
	/* listings show them in the order added */
	return enumerator_create_filter(enumerate_all(this, TRUE),
									filter_info, data, free);
}

/**
 * The timer of a handover
 */
typedef struct {
	private_cxtp_handovers_t *handovers;
	u_int serial;
	u_int timer;
	cxtp_handover_timer_cb_t cb;
	void *data;
} handover_timer_t;

CALLBACK(expire, job_requeue_t,
	handover_timer_t *timer)
{
	private_cxtp_handovers_t *this = timer->handovers;
	cxtp_handover_t *handover;
	bool due = FALSE;

	/* only the last timer started for a handover that is still there */
	this->mutex->lock(this->mutex);
	handover = this->serials->get(this->serials,
								  (void*)(uintptr_t)timer->serial);
	if (handover)
	{
		due = handover->timer == timer->timer;
	}
	this->mutex->unlock(this->mutex);
	if (due)
	{
		timer->cb(timer->data, timer->serial);
	}
	return JOB_REQUEUE_NONE;
}

METHOD(cxtp_handovers_t, schedule, void,
	private_cxtp_handovers_t *this, u_int serial, uint32_t ms,
	cxtp_handover_timer_cb_t cb, void *data)
{
	cxtp_handover_t *handover;
	handover_timer_t *timer;

	INIT(timer,
		.handovers = this,
		.serial = serial,
		.cb = cb,
		.data = data,
	);
	this->mutex->lock(this->mutex);
	handover = this->serials->get(this->serials, (void*)(uintptr_t)serial);
	if (!handover)
	{
		this->mutex->unlock(this->mutex);
		free(timer);
		return;
	}
	timer->timer = handover->timer = ++this->timer;
	this->mutex->unlock(this->mutex);
	lib->scheduler->schedule_job_ms(lib->scheduler, (job_t*)
			callback_job_create(expire, timer, free, NULL), ms);
}

METHOD(cxtp_handovers_t, event, void,
	private_cxtp_handovers_t *this, cxtp_event_t name, u_int ike_id, char *peer,
	host_t *mn, char *error)
{
	cxtp_event_cb_t cb;
	void *data;

	this->mutex->lock(this->mutex);
	cb = this->event_cb;
	data = this->event_data;
	this->mutex->unlock(this->mutex);
	if (cb)
	{
		cb(data, name, ike_id, peer, mn, error);
	}
}

METHOD(cxtp_handovers_t, set_event_cb, void,
	private_cxtp_handovers_t *this, cxtp_event_cb_t cb, void *data)
{
	this->mutex->lock(this->mutex);
	this->event_cb = cb;
	this->event_data = data;
	this->mutex->unlock(this->mutex);
}

METHOD(cxtp_handovers_t, destroy, void,
	private_cxtp_handovers_t *this)
{
	enumerator_t *enumerator;
	cxtp_handover_t *handover;
	void *key;

	enumerator = this->serials->create_enumerator(this->serials);
	while (enumerator->enumerate(enumerator, &key, &handover))
	{
		this->destroy(handover);
	}
	enumerator->destroy(enumerator);
	this->serials->destroy(this->serials);
	this->ike_sas->destroy_function(this->ike_sas, (void*)bucket_destroy);
	this->ids->destroy_function(this->ids, (void*)bucket_destroy);
	this->mns->destroy_function(this->mns, (void*)bucket_destroy);
	this->mutex->destroy(this->mutex);
	free(this);
}

/*
 * Described in header
 */
cxtp_handovers_t *cxtp_handovers_create(void (*destroy)(cxtp_handover_t*))
{
	private_cxtp_handovers_t *this;

	INIT(this,
		.public = {
			.add = _add,
			.remove = _remove_,
			.remove_ike_sa = _remove_ike_sa,
			.has_ike_sa = _has_ike_sa,
			.create_enumerator = _create_enumerator,
			.create_serial_enumerator = _create_serial_enumerator,
			.create_ike_sa_enumerator = _create_ike_sa_enumerator,
			.create_id_enumerator = _create_id_enumerator,
			.create_info_enumerator = _create_info_enumerator,
			.schedule = _schedule,
			.event = _event,
			.set_event_cb = _set_event_cb,
			.destroy = _destroy,
		},
		.serials = hashtable_create(hashtable_hash_ptr, hashtable_equals_ptr,
									32),
		.ike_sas = hashtable_create(hashtable_hash_ptr, hashtable_equals_ptr,
									32),
		.ids = hashtable_create(id_hash, id_equals, 32),
		.mns = hashtable_create(cxtp_host_key_hash, cxtp_host_key_equals, 32),
		.destroy = destroy,
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
	);
	return &this->public;
}
