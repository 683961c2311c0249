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

#include "cxtp_notice.h"

#include <threading/mutex.h>

typedef struct private_cxtp_notice_t private_cxtp_notice_t;

/**
 * Private data of a cxtp_notice_t object.
 */
struct private_cxtp_notice_t {

	/**
	 * Public interface
	 */
	cxtp_notice_t public;

	/**
	 * Events since the last line and in all, time of the last line
	 */
	u_int since;
	uint64_t total;
	time_t last;

	/**
	 * Protects the counters
	 */
	mutex_t *mutex;
};

METHOD(cxtp_notice_t, count, bool,
	private_cxtp_notice_t *this, u_int *since, uint64_t *total)
{
	time_t now = time_monotonic(NULL);
	bool due;

	this->mutex->lock(this->mutex);
	this->since++;
	this->total++;
	due = !this->last || now != this->last;
	if (due)
	{
		*since = this->since;
		*total = this->total;
		this->since = 0;
		this->last = now;
	}
	this->mutex->unlock(this->mutex);
	return due;
}

METHOD(cxtp_notice_t, destroy, void,
	private_cxtp_notice_t *this)
{
	this->mutex->destroy(this->mutex);
	free(this);
}

/*
 * Described in header
 */
cxtp_notice_t *cxtp_notice_create()
{
	private_cxtp_notice_t *this;

	INIT(this,
		.public = {
			.count = _count,
			.destroy = _destroy,
		},
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
	);
	return &this->public;
}
