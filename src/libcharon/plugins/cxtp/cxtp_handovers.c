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
	 * Plugin settings
	 */
	cxtp_settings_t *settings;

	/**
	 * Handovers in progress, cxtp_handover_t
	 */
	linked_list_t *list;

	/**
	 * Destructor of the handovers
	 */
	void (*destroy)(cxtp_handover_t *handover);

	/**
	 * Serial of the last handover
	 */
	u_int serial;

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

/**
 * Match a handover by its IKE_SA (and serial, if not 0) or by its mobile node
 */
CALLBACK(match, bool,
	cxtp_handover_t *handover, va_list args)
{
	host_t *mn;
	u_int ike_id, serial;

	VA_ARGS_VGET(args, ike_id, serial, mn);
	if (ike_id)
	{
		return handover->ike_id == ike_id &&
			   (!serial || handover->serial == serial);
	}
	return mn && handover->mn->ip_equals(handover->mn, mn);
}

METHOD(cxtp_handovers_t, add, u_int,
	private_cxtp_handovers_t *this, cxtp_handover_t *handover)
{
	u_int serial;

	this->mutex->lock(this->mutex);
	serial = handover->serial = ++this->serial;
	this->list->insert_last(this->list, handover);
	this->mutex->unlock(this->mutex);
	return serial;
}

METHOD(cxtp_handovers_t, remove_, cxtp_handover_t*,
	private_cxtp_handovers_t *this, u_int ike_id, u_int serial, host_t *mn)
{
	cxtp_handover_t *handover = NULL;

	this->mutex->lock(this->mutex);
	if (this->list->find_first(this->list, match, (void**)&handover, ike_id,
							   serial, mn))
	{
		this->list->remove(this->list, handover, NULL);
	}
	this->mutex->unlock(this->mutex);
	return handover;
}

METHOD(cxtp_handovers_t, has, bool,
	private_cxtp_handovers_t *this, u_int ike_id, host_t *mn)
{
	bool found;

	this->mutex->lock(this->mutex);
	found = this->list->find_first(this->list, match, NULL, ike_id, 0, mn);
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
		if (mn->ip_equals(mn, handover->mn))
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
 * The activation timeout of a handover
 */
typedef struct {
	private_cxtp_handovers_t *handovers;
	u_int ike_id;
	u_int serial;
	cxtp_handover_timeout_cb_t cb;
	void *data;
} timeout_t;

CALLBACK(expire, job_requeue_t,
	timeout_t *timeout)
{
	cxtp_handover_t *handover;

	/* only the handover this timer was started for, not a later one */
	handover = remove_(timeout->handovers, timeout->ike_id, timeout->serial,
					   NULL);
	if (handover)
	{
		timeout->cb(timeout->data, handover);
	}
	return JOB_REQUEUE_NONE;
}

METHOD(cxtp_handovers_t, schedule_timeout, void,
	private_cxtp_handovers_t *this, u_int ike_id, u_int serial,
	cxtp_handover_timeout_cb_t cb, void *data)
{
	timeout_t *timeout;

	INIT(timeout,
		.handovers = this,
		.ike_id = ike_id,
		.serial = serial,
		.cb = cb,
		.data = data,
	);
	lib->scheduler->schedule_job_ms(lib->scheduler, (job_t*)
			callback_job_create(expire, timeout, free, NULL),
			this->settings->get_handover_timeout(this->settings));
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
cxtp_handovers_t *cxtp_handovers_create(cxtp_settings_t *settings,
										void (*destroy)(cxtp_handover_t*))
{
	private_cxtp_handovers_t *this;

	INIT(this,
		.public = {
			.add = _add,
			.remove = _remove_,
			.has = _has,
			.create_enumerator = _create_enumerator,
			.schedule_timeout = _schedule_timeout,
			.event = _event,
			.set_event_cb = _set_event_cb,
			.destroy = _destroy,
		},
		.settings = settings,
		.list = linked_list_create(),
		.destroy = destroy,
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
	);
	return &this->public;
}
