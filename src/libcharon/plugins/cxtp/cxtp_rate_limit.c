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

#include "cxtp_rate_limit.h"

#include <utils/debug.h>
#include <collections/hashtable.h>
#include <threading/mutex.h>

/**
 * Minimum interval between rate limiting log messages in ms
 */
#define RATE_LOG_INTERVAL 1000

typedef struct private_cxtp_rate_limit_t private_cxtp_rate_limit_t;

/**
 * Private data of a cxtp_rate_limit_t object.
 */
struct private_cxtp_rate_limit_t {

	/**
	 * Public interface
	 */
	cxtp_rate_limit_t public;

	/**
	 * Plugin settings
	 */
	cxtp_settings_t *settings;

	/**
	 * State per source, host_t => source_t
	 */
	hashtable_t *sources;

	/**
	 * Time of the last purge of expired sources
	 */
	uint64_t last_purge;

	/**
	 * Time of the last log message about drops
	 */
	uint64_t last_drop_log;

	/**
	 * CTARs dropped since the last log message
	 */
	u_int dropped;

	/**
	 * Protects the members above, CTARs arrive over ICMPv4 and ICMPv6
	 */
	mutex_t *mutex;
};

/**
 * Rate limiting state of a source
 */
typedef struct {

	/**
	 * Source address, key in the sources table
	 */
	host_t *src;

	/**
	 * Start of the current window in ms
	 */
	uint64_t window;

	/**
	 * CTARs accepted in the current window
	 */
	u_int count;

} source_t;

static void source_destroy(source_t *source)
{
	source->src->destroy(source->src);
	free(source);
}

/**
 * Current monotonic time in ms
 */
static uint64_t now_ms()
{
	timeval_t tv;

	time_monotonic(&tv);
	return (uint64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/**
 * Hash the address of a host
 */
static u_int hash_host(const void *key)
{
	host_t *host = (host_t*)key;

	return chunk_hash(host->get_address(host));
}

/**
 * Compare the addresses of hosts
 */
static bool equals_host(const void *key, const void *other_key)
{
	host_t *host = (host_t*)key;

	return host->ip_equals(host, (host_t*)other_key);
}

/**
 * Drop state older than the window (mutex held)
 */
static void purge_sources(private_cxtp_rate_limit_t *this, uint64_t now)
{
	enumerator_t *enumerator;
	source_t *source;
	host_t *src;

	enumerator = this->sources->create_enumerator(this->sources);
	while (enumerator->enumerate(enumerator, &src, &source))
	{
		if (now - source->window >= CXTP_RATE_WINDOW)
		{
			this->sources->remove_at(this->sources, enumerator);
			source_destroy(source);
		}
	}
	enumerator->destroy(enumerator);
	this->last_purge = now;
}

METHOD(cxtp_rate_limit_t, check, bool,
	private_cxtp_rate_limit_t *this, host_t *src)
{
	source_t *source;
	uint64_t now;
	u_int dropped = 0, rate;
	bool full = FALSE;

	now = now_ms();
	rate = this->settings->get_ctar_rate(this->settings);

	this->mutex->lock(this->mutex);
	if (now - this->last_purge >= CXTP_RATE_WINDOW)
	{
		purge_sources(this, now);
	}
	source = this->sources->get(this->sources, src);
	if (!source)
	{
		if (this->sources->get_count(this->sources) < CXTP_RATE_MAX_SOURCES)
		{
			INIT(source,
				.src = src->clone(src),
				.window = now,
				.count = 1,
			);
			this->sources->put(this->sources, source->src, source);
			this->mutex->unlock(this->mutex);
			return TRUE;
		}
		/* too many sources within a second, drop until they expire */
		full = TRUE;
	}
	else if (now - source->window >= CXTP_RATE_WINDOW)
	{
		source->window = now;
		source->count = 1;
		this->mutex->unlock(this->mutex);
		return TRUE;
	}
	else if (source->count < rate)
	{
		source->count++;
		this->mutex->unlock(this->mutex);
		return TRUE;
	}

	this->dropped++;
	if (!this->last_drop_log || now - this->last_drop_log >= RATE_LOG_INTERVAL)
	{
		dropped = this->dropped;
		this->dropped = 0;
		this->last_drop_log = now;
	}
	this->mutex->unlock(this->mutex);

	if (dropped)
	{	/* this one and the ones not logged since the last notice */
		if (full)
		{
			DBG1(DBG_NET, "cxtp: dropped CTAR from %H, CTARs from more than %d "
				 "sources within a second (%u dropped since the last notice)",
				 src, CXTP_RATE_MAX_SOURCES, dropped);
		}
		else
		{
			DBG1(DBG_NET, "cxtp: dropped CTAR from %H, more than %u CTARs per "
				 "second from a source (%u dropped since the last notice)",
				 src, rate, dropped);
		}
	}
	return FALSE;
}

CALLBACK(destroy_source, void,
	source_t *source, const void *key)
{
	source_destroy(source);
}

METHOD(cxtp_rate_limit_t, destroy, void,
	private_cxtp_rate_limit_t *this)
{
	this->sources->destroy_function(this->sources, destroy_source);
	this->mutex->destroy(this->mutex);
	free(this);
}

/*
 * Described in header
 */
cxtp_rate_limit_t *cxtp_rate_limit_create(cxtp_settings_t *settings)
{
	private_cxtp_rate_limit_t *this;

	INIT(this,
		.public = {
			.check = _check,
			.destroy = _destroy,
		},
		.settings = settings,
		.sources = hashtable_create(hash_host, equals_host, 32),
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
	);
	return &this->public;
}
