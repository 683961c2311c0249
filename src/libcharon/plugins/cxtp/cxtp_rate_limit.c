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
#include "cxtp_host_key.h"
#include "cxtp_options.h"

#include <inttypes.h>

#include <utils/debug.h>
#include <collections/hashtable.h>
#include <threading/mutex.h>

/**
 * Minimum interval between rate limiting log messages in ms
 */
#define RATE_LOG_INTERVAL 1000

typedef struct private_cxtp_rate_limit_t private_cxtp_rate_limit_t;
typedef struct source_t source_t;

/**
 * Rate limiting state of a source
 */
struct source_t {

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

	/**
	 * Neighbours in the list by recent use, more and less recent
	 */
	source_t *newer;
	source_t *older;
};

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
	 * Most and least recently seen sources
	 */
	source_t *newest;
	source_t *oldest;

	/**
	 * Number of sources with state at most
	 */
	u_int max_sources;

	/**
	 * Time of the last log message about drops
	 */
	uint64_t last_drop_log;

	/**
	 * CTARs dropped and sources evicted since the last log message
	 */
	u_int dropped;
	u_int evicted;

	/**
	 * CTARs dropped and sources evicted since the creation
	 */
	uint64_t total_dropped;
	uint64_t total_evicted;

	/**
	 * Protects the members above, CTARs arrive over ICMPv4 and ICMPv6
	 */
	mutex_t *mutex;
};

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
 * Take a source out of the list by recent use
 */
static void unlink_source(private_cxtp_rate_limit_t *this, source_t *source)
{
	if (source->newer)
	{
		source->newer->older = source->older;
	}
	else
	{
		this->newest = source->older;
	}
	if (source->older)
	{
		source->older->newer = source->newer;
	}
	else
	{
		this->oldest = source->newer;
	}
	source->newer = source->older = NULL;
}

/**
 * Put a source at the head of the list by recent use
 */
static void link_newest(private_cxtp_rate_limit_t *this, source_t *source)
{
	source->older = this->newest;
	source->newer = NULL;
	if (this->newest)
	{
		this->newest->newer = source;
	}
	this->newest = source;
	if (!this->oldest)
	{
		this->oldest = source;
	}
}

/**
 * Make room for a new source by forgetting the least recently seen one
 * (mutex held)
 */
static void evict_oldest(private_cxtp_rate_limit_t *this)
{
	source_t *source = this->oldest;

	unlink_source(this, source);
	this->sources->remove(this->sources, source->src);
	source_destroy(source);
	this->evicted++;
	this->total_evicted++;
}

/**
 * Count a CTAR against the allowance of a known source (mutex held)
 */
static bool within_rate(private_cxtp_rate_limit_t *this, source_t *source,
						uint64_t now, u_int rate)
{
	if (source->newer)
	{
		unlink_source(this, source);
		link_newest(this, source);
	}
	if (now - source->window >= CXTP_RATE_WINDOW)
	{
		source->window = now;
		source->count = 1;
		return TRUE;
	}
	if (source->count < rate)
	{
		source->count++;
		return TRUE;
	}
	return FALSE;
}

/**
 * Log the drops and evictions since the last notice, at most once a second
 */
static void log_drops(private_cxtp_rate_limit_t *this, host_t *src,
					  uint64_t now, u_int rate)
{
	uint64_t total_dropped, total_evicted;
	u_int dropped, evicted;

	this->mutex->lock(this->mutex);
	if (this->last_drop_log && now - this->last_drop_log < RATE_LOG_INTERVAL)
	{
		this->mutex->unlock(this->mutex);
		return;
	}
	dropped = this->dropped;
	evicted = this->evicted;
	total_dropped = this->total_dropped;
	total_evicted = this->total_evicted;
	this->dropped = this->evicted = 0;
	this->last_drop_log = now;
	this->mutex->unlock(this->mutex);

	DBG1(DBG_NET, "cxtp: dropped CTAR from %H, more than %u CTARs per second "
		 "from a source (%u dropped since the last notice, %"PRIu64" in all; "
		 "%u of %u sources forgotten for new ones, %"PRIu64" in all)", src,
		 rate, dropped, total_dropped, evicted, this->max_sources,
		 total_evicted);
}

METHOD(cxtp_rate_limit_t, check, bool,
	private_cxtp_rate_limit_t *this, host_t *src)
{
	source_t *source;
	uint64_t now;
	u_int rate;

	now = now_ms();
	rate = this->settings->get_ctar_rate(this->settings);

	this->mutex->lock(this->mutex);
	source = this->sources->get(this->sources, src);
	if (!source)
	{	/* a new source always gets its first CTAR through */
		if (this->sources->get_count(this->sources) >= this->max_sources)
		{
			evict_oldest(this);
		}
		INIT(source,
			.src = src->clone(src),
			.window = now,
			.count = 1,
		);
		this->sources->put(this->sources, source->src, source);
		link_newest(this, source);
		this->mutex->unlock(this->mutex);
		return TRUE;
	}
	if (within_rate(this, source, now, rate))
	{
		this->mutex->unlock(this->mutex);
		return TRUE;
	}
	this->dropped++;
	this->total_dropped++;
	this->mutex->unlock(this->mutex);

	log_drops(this, src, now, rate);
	return FALSE;
}

METHOD(cxtp_rate_limit_t, get_counters, void,
	private_cxtp_rate_limit_t *this, uint64_t *dropped, uint64_t *evicted)
{
	this->mutex->lock(this->mutex);
	*dropped = this->total_dropped;
	*evicted = this->total_evicted;
	this->mutex->unlock(this->mutex);
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
	cxtp_options_t *options;

	options = cxtp_options_create("cxtp");
	INIT(this,
		.public = {
			.check = _check,
			.get_counters = _get_counters,
			.destroy = _destroy,
		},
		.settings = settings,
		.max_sources = options->get_uint(options, "ctar_sources",
										 CXTP_RATE_MAX_SOURCES, 1, 1 << 20),
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
	);
	options->destroy(options);
	this->sources = hashtable_create(cxtp_host_key_hash, cxtp_host_key_equals,
									 min(this->max_sources, 1024));
	return &this->public;
}
