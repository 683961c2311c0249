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

#include "cxtp_test_log.h"

#include <stdarg.h>

#include <collections/array.h>
#include <threading/mutex.h>

/**
 * Recorded messages, char*, protected by mutex (the transports log from
 * their own threads)
 */
static array_t *logged;
static mutex_t *mutex;

/**
 * The dbg hook replaced while recording
 */
static void (*dbg_orig)(debug_t group, level_t level, char *fmt, ...);

static void dbg_record(debug_t group, level_t level, char *fmt, ...)
{
	char buf[512];
	va_list args;

	if (level > 1)
	{
		return;
	}
	va_start(args, fmt);
	vsnprintf(buf, sizeof(buf), fmt, args);
	va_end(args);
	mutex->lock(mutex);
	array_insert(logged, ARRAY_TAIL, strdup(buf));
	mutex->unlock(mutex);
}

void cxtp_test_log_start()
{
	logged = array_create(0, 0);
	mutex = mutex_create(MUTEX_TYPE_DEFAULT);
	dbg_orig = dbg;
	dbg = dbg_record;
}

int cxtp_test_log_count(char *str)
{
	char *msg;
	int i, count = 0;

	mutex->lock(mutex);
	for (i = 0; i < array_count(logged); i++)
	{
		array_get(logged, i, &msg);
		if (strstr(msg, str))
		{
			count++;
		}
	}
	mutex->unlock(mutex);
	return count;
}

int cxtp_test_log_total()
{
	int count;

	mutex->lock(mutex);
	count = array_count(logged);
	mutex->unlock(mutex);
	return count;
}

void cxtp_test_log_stop()
{
	dbg = dbg_orig;
	array_destroy_function(logged, (void*)free, NULL);
	mutex->destroy(mutex);
}
