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

#include "cxtp_settings.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>

#include <library.h>
#include <utils/debug.h>
#include <collections/array.h>
#include <collections/hashtable.h>

typedef struct private_cxtp_settings_t private_cxtp_settings_t;

/**
 * Private data of a cxtp_settings_t object.
 */
struct private_cxtp_settings_t {

	/**
	 * Public interface
	 */
	cxtp_settings_t public;

	/**
	 * UDP port for CXTP between access routers
	 */
	uint16_t port;

	/**
	 * Initial retransmission timeout in seconds
	 */
	double retransmit_timeout;

	/**
	 * Number of retransmissions before giving up
	 */
	u_int retransmit_tries;

	/**
	 * Base of the exponential retransmission backoff
	 */
	double retransmit_base;

	/**
	 * CTARs per second accepted per source
	 */
	u_int ctar_rate;

	/**
	 * CT_REQUEST_RETRY in seconds
	 */
	double ctar_retry;

	/**
	 * CT_RETRY_MAX in seconds
	 */
	double ctar_retry_max;

	/**
	 * Jump added to transferred outbound ESP sequence numbers
	 */
	uint32_t seq_jump;

	/**
	 * Seconds a pushed IKE_SA stays frozen waiting for activation
	 */
	uint32_t handover_timeout;

	/**
	 * Configured peers, name => peer_t
	 */
	hashtable_t *peers;

	/**
	 * The same peers in the order they are configured, peer_t*
	 */
	array_t *order;
};

/**
 * A configured CXTP peer
 */
typedef struct {

	/**
	 * Name of the peer's section
	 */
	char *name;

	/**
	 * Configured address of the peer
	 */
	char *address;

	/**
	 * Addresses mobile nodes know the peer by, comma separated, or NULL
	 */
	char *access;

	/**
	 * Shared secret as configured
	 */
	char *secret;

	/**
	 * UDP port of the peer
	 */
	uint16_t port;

} peer_t;

/**
 * Destroy a peer_t, hashtable_t destroy_function() signature
 */
static void destroy_peer(void *val, const void *key)
{
	peer_t *peer = val;

	memwipe(peer->secret, strlen(peer->secret));
	free(peer->secret);
	free(peer->name);
	free(peer->address);
	free(peer->access);
	free(peer);
}

/**
 * Read an unsigned integer option, falling back to the default if the value
 * is not a decimal number or out of range.
 */
static uint64_t get_uint_opt(char *key, uint64_t def, uint64_t min,
							 uint64_t max)
{
	char *value, *end;
	uint64_t val;

	value = lib->settings->get_str(lib->settings, "%s.plugins.cxtp.%s", NULL,
								   lib->ns, key);
	if (!value || !*value)
	{
		return def;
	}
	errno = 0;
	val = strtoull(value, &end, 10);
	if (errno || end == value || *end || strchr(value, '-') ||
		val < min || val > max)
	{
		DBG1(DBG_CFG, "cxtp: invalid value '%s' for %s.plugins.cxtp.%s, "
			 "expected an integer in %"PRIu64"..%"PRIu64", using default "
			 "%"PRIu64, value, lib->ns, key, min, max, def);
		return def;
	}
	return val;
}

/**
 * Read a floating point option that must be finite and at least min (or
 * larger than min if exclusive is set), falling back to the default otherwise.
 */
static double get_double_opt(char *key, double def, double min, bool exclusive)
{
	char *value, *end;
	double val;

	value = lib->settings->get_str(lib->settings, "%s.plugins.cxtp.%s", NULL,
								   lib->ns, key);
	if (!value || !*value)
	{
		return def;
	}
	errno = 0;
	val = strtod(value, &end);
	if (errno || end == value || *end || !isfinite(val) ||
		(exclusive ? val <= min : val < min))
	{
		DBG1(DBG_CFG, "cxtp: invalid value '%s' for %s.plugins.cxtp.%s, "
			 "expected a number %s %.1f, using default %.1f", value, lib->ns,
			 key, exclusive ? ">" : ">=", min, def);
		return def;
	}
	return val;
}

/**
 * Read a time option in seconds that must be larger than 0 and at most a day,
 * falling back to the default otherwise.
 */
static double get_time_opt(char *key, double def)
{
	double val;

	val = lib->settings->get_double(lib->settings, "%s.plugins.cxtp.%s", def,
									lib->ns, key);
	/* also rejects NaN */
	if (!(val > 0.0 && val <= CXTP_MAX_CTAR_RETRY))
	{
		DBG1(DBG_CFG, "cxtp: invalid value %f for %s.plugins.cxtp.%s, using "
			 "default %.1f", val, lib->ns, key, def);
		val = def;
	}
	return val;
}

/**
 * Load the configured peers
 */
static void load_peers(private_cxtp_settings_t *this)
{
	enumerator_t *enumerator;
	peer_t *peer;
	char *name, *address, *secret;
	int port;

	enumerator = lib->settings->create_section_enumerator(lib->settings,
										"%s.plugins.cxtp.peers", lib->ns);
	while (enumerator->enumerate(enumerator, &name))
	{
		address = lib->settings->get_str(lib->settings,
								"%s.plugins.cxtp.peers.%s.address", NULL,
								lib->ns, name);
		secret = lib->settings->get_str(lib->settings,
								"%s.plugins.cxtp.peers.%s.secret", NULL,
								lib->ns, name);
		if (!address || !*address)
		{
			DBG1(DBG_CFG, "cxtp: peer '%s' misses an address, ignored", name);
			continue;
		}
		if (!secret || !*secret)
		{
			DBG1(DBG_CFG, "cxtp: peer '%s' misses a secret, ignored", name);
			continue;
		}
		port = lib->settings->get_int(lib->settings,
								"%s.plugins.cxtp.peers.%s.port", this->port,
								lib->ns, name);
		if (port <= 0 || port > UINT16_MAX)
		{
			DBG1(DBG_CFG, "cxtp: invalid port %d of peer '%s', using %u", port,
				 name, this->port);
			port = this->port;
		}
		INIT(peer,
			.name = strdup(name),
			.address = strdup(address),
			.access = strdupnull(lib->settings->get_str(lib->settings,
								"%s.plugins.cxtp.peers.%s.access", NULL,
								lib->ns, name)),
			.secret = strdup(secret),
			.port = port,
		);
		if (this->peers->get(this->peers, peer->name))
		{	/* section names are unique, but be safe */
			destroy_peer(peer, NULL);
			continue;
		}
		this->peers->put(this->peers, peer->name, peer);
		array_insert(this->order, ARRAY_TAIL, peer);
	}
	enumerator->destroy(enumerator);
}

METHOD(cxtp_settings_t, get_port, uint16_t,
	private_cxtp_settings_t *this)
{
	return this->port;
}

METHOD(cxtp_settings_t, get_retransmit_timeout, double,
	private_cxtp_settings_t *this)
{
	return this->retransmit_timeout;
}

METHOD(cxtp_settings_t, get_retransmit_tries, u_int,
	private_cxtp_settings_t *this)
{
	return this->retransmit_tries;
}

METHOD(cxtp_settings_t, get_retransmit_base, double,
	private_cxtp_settings_t *this)
{
	return this->retransmit_base;
}

METHOD(cxtp_settings_t, get_ctar_rate, u_int,
	private_cxtp_settings_t *this)
{
	return this->ctar_rate;
}

METHOD(cxtp_settings_t, get_ctar_retry, double,
	private_cxtp_settings_t *this)
{
	return this->ctar_retry;
}

METHOD(cxtp_settings_t, get_ctar_retry_max, double,
	private_cxtp_settings_t *this)
{
	return this->ctar_retry_max;
}

METHOD(cxtp_settings_t, get_handover_timeout, uint32_t,
	private_cxtp_settings_t *this)
{
	return this->handover_timeout;
}

METHOD(cxtp_settings_t, get_seq_jump, uint32_t,
	private_cxtp_settings_t *this)
{
	return this->seq_jump;
}

METHOD(cxtp_settings_t, get_peer_count, u_int,
	private_cxtp_settings_t *this)
{
	return this->peers->get_count(this->peers);
}

/**
 * Whether one of the comma separated addresses is the given one
 */
static bool has_address(char *list, host_t *address)
{
	enumerator_t *enumerator;
	host_t *host;
	char *str;
	bool found = FALSE;

	enumerator = enumerator_create_token(list, ",", " ");
	while (!found && enumerator->enumerate(enumerator, &str))
	{
		host = host_create_from_string(str, 0);
		found = host && host->ip_equals(host, address);
		DESTROY_IF(host);
	}
	enumerator->destroy(enumerator);
	return found;
}

METHOD(cxtp_settings_t, find_peer, char*,
	private_cxtp_settings_t *this, host_t *address)
{
	enumerator_t *enumerator;
	peer_t *peer;
	char *name = NULL;

	enumerator = this->peers->create_enumerator(this->peers);
	while (!name && enumerator->enumerate(enumerator, NULL, &peer))
	{
		if (has_address(peer->address, address) ||
			(peer->access && has_address(peer->access, address)))
		{
			name = peer->name;
		}
	}
	enumerator->destroy(enumerator);
	return name;
}

METHOD(cxtp_settings_t, get_peer_address, char*,
	private_cxtp_settings_t *this, char *name)
{
	peer_t *peer;

	if (!name)
	{
		return NULL;
	}
	peer = this->peers->get(this->peers, name);
	return peer ? peer->address : NULL;
}

CALLBACK(peer_filter, bool,
	void *data, enumerator_t *orig, va_list args)
{
	peer_t *peer;
	char **name, **address, **secret;
	uint16_t *port;

	VA_ARGS_VGET(args, name, address, secret, port);

	if (orig->enumerate(orig, &peer))
	{
		*name = peer->name;
		*address = peer->address;
		*secret = peer->secret;
		*port = peer->port;
		return TRUE;
	}
	return FALSE;
}

METHOD(cxtp_settings_t, create_peer_enumerator, enumerator_t*,
	private_cxtp_settings_t *this)
{
	return enumerator_create_filter(array_create_enumerator(this->order),
									peer_filter, NULL, NULL);
}

METHOD(cxtp_settings_t, destroy, void,
	private_cxtp_settings_t *this)
{
	array_destroy(this->order);
	this->peers->destroy_function(this->peers, destroy_peer);
	free(this);
}

/*
 * Described in header
 */
cxtp_settings_t *cxtp_settings_create()
{
	private_cxtp_settings_t *this;

	INIT(this,
		.public = {
			.get_port = _get_port,
			.get_retransmit_timeout = _get_retransmit_timeout,
			.get_retransmit_tries = _get_retransmit_tries,
			.get_retransmit_base = _get_retransmit_base,
			.get_ctar_rate = _get_ctar_rate,
			.get_ctar_retry = _get_ctar_retry,
			.get_ctar_retry_max = _get_ctar_retry_max,
			.get_seq_jump = _get_seq_jump,
			.get_handover_timeout = _get_handover_timeout,
			.get_peer_count = _get_peer_count,
			.get_peer_address = _get_peer_address,
			.create_peer_enumerator = _create_peer_enumerator,
			.find_peer = _find_peer,
			.destroy = _destroy,
		},
		.port = get_uint_opt("port", CXTP_DEFAULT_PORT, 1, UINT16_MAX),
		.retransmit_timeout = get_double_opt("retransmit_timeout",
									CXTP_DEFAULT_RETRANSMIT_TIMEOUT, 0.0, TRUE),
		.retransmit_tries = get_uint_opt("retransmit_tries",
									CXTP_DEFAULT_RETRANSMIT_TRIES, 0, INT_MAX),
		.retransmit_base = get_double_opt("retransmit_base",
									CXTP_DEFAULT_RETRANSMIT_BASE, 1.0, FALSE),
		.ctar_rate = get_uint_opt("ctar_rate", CXTP_DEFAULT_CTAR_RATE,
								  1, INT_MAX),
		.ctar_retry = get_time_opt("ctar_retry", CXTP_DEFAULT_CTAR_RETRY),
		.ctar_retry_max = get_time_opt("ctar_retry_max",
									   CXTP_DEFAULT_CTAR_RETRY_MAX),
		.seq_jump = get_uint_opt("seq_jump", CXTP_DEFAULT_SEQ_JUMP,
								 0, UINT32_MAX),
		.handover_timeout = get_uint_opt("handover_timeout",
								 CXTP_DEFAULT_HANDOVER_TIMEOUT, 1, UINT32_MAX),
		.peers = hashtable_create(hashtable_hash_str, hashtable_equals_str, 8),
		.order = array_create(0, 0),
	);

	load_peers(this);

	return &this->public;
}
