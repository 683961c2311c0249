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

#include <library.h>
#include <collections/linked_list.h>
#include <processing/jobs/callback_job.h>
#include <threading/mutex.h>

typedef struct private_cxtp_handovers_t private_cxtp_handovers_t;

/**
 * Private data of a cxtp_handovers_t object.
 */
struct private_cxtp_handovers_t {

	/**
	 * Public cxtp_handovers_t interface.
	 */
	cxtp_handovers_t public;

	/**
	 * Handovers in progress, cxtp_handover_t
	 */
	linked_list_t *list;

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

CALLBACK(match_serial, bool,
	cxtp_handover_t *handover, va_list args)
{
	u_int serial;

	VA_ARGS_VGET(args, serial);
	return handover->serial == serial;
}

CALLBACK(match_ike_sa, bool,
	cxtp_handover_t *handover, va_list args)
{
	u_int ike_id;

	VA_ARGS_VGET(args, ike_id);
	return handover->ike_id == ike_id;
}

METHOD(cxtp_handovers_t, add, u_int,
	private_cxtp_handovers_t *this, cxtp_handover_t *handover)
{
	u_int serial;

	this->mutex->lock(this->mutex);
	/* 0 is no serial, on the wire or here */
	if (!++this->serial)
	{
		this->serial++;
	}
	serial = handover->serial = this->serial;
	if (!handover->id.serial)
	{
		handover->id.serial = serial;
	}
	this->list->insert_last(this->list, handover);
	this->mutex->unlock(this->mutex);
	return serial;
}

/**
 * Remove the first handover a callback matches
 */
static cxtp_handover_t *remove_matching(private_cxtp_handovers_t *this,
										bool (*match)(void*, va_list),
										u_int value)
{
	cxtp_handover_t *handover = NULL;

	this->mutex->lock(this->mutex);
	if (this->list->find_first(this->list, match, (void**)&handover, value))
	{
		this->list->remove(this->list, handover, NULL);
	}
	this->mutex->unlock(this->mutex);
	return handover;
}

METHOD(cxtp_handovers_t, remove_, cxtp_handover_t*,
	private_cxtp_handovers_t *this, u_int serial)
{
	return remove_matching(this, match_serial, serial);
}

METHOD(cxtp_handovers_t, remove_ike_sa, cxtp_handover_t*,
	private_cxtp_handovers_t *this, u_int ike_id)
{
	return remove_matching(this, match_ike_sa, ike_id);
}

METHOD(cxtp_handovers_t, has_ike_sa, bool,
	private_cxtp_handovers_t *this, u_int ike_id)
{
	bool found;

	this->mutex->lock(this->mutex);
	found = this->list->find_first(this->list, match_ike_sa, NULL, ike_id);
	this->mutex->unlock(this->mutex);
	return found;
}

CALLBACK(filter_mn, bool,
	host_t *mn, enumerator_t *orig, va_list args)
{
	cxtp_handover_t *handover, **out;

	VA_ARGS_VGET(args, out);
	while (orig->enumerate(orig, &handover))
	{
		if (!mn || mn->ip_equals(mn, handover->mn))
		{
			*out = handover;
			return TRUE;
		}
	}
	return FALSE;
}

CALLBACK(unlock, void,
	mutex_t *mutex)
{
	mutex->unlock(mutex);
}

METHOD(cxtp_handovers_t, create_enumerator, enumerator_t*,
	private_cxtp_handovers_t *this, host_t *mn)
{
	this->mutex->lock(this->mutex);
	return enumerator_create_cleaner(
				enumerator_create_filter(this->list->create_enumerator(
											this->list), filter_mn, mn, NULL),
				unlock, this->mutex);
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
	return enumerator_create_filter(create_enumerator(this, NULL),
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
	if (this->list->find_first(this->list, match_serial, (void**)&handover,
							   timer->serial))
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
	if (!this->list->find_first(this->list, match_serial, (void**)&handover,
								serial))
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
	this->list->destroy_function(this->list, (void*)this->destroy);
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
			.create_info_enumerator = _create_info_enumerator,
			.schedule = _schedule,
			.event = _event,
			.set_event_cb = _set_event_cb,
			.destroy = _destroy,
		},
		.list = linked_list_create(),
		.destroy = destroy,
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
	);
	return &this->public;
}
