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
#include "cxtp_options.h"

#include <limits.h>

#include <utils/debug.h>
#include <collections/array.h>
#include <threading/rwlock.h>

typedef struct private_cxtp_settings_t private_cxtp_settings_t;

/**
 * The scalar options, replaced as a whole on reload
 */
typedef struct {
	uint16_t port;
	uint32_t retransmit_timeout;
	u_int retransmit_tries;
	double retransmit_base;
	u_int ctar_rate;
	uint32_t ctar_retry;
	uint32_t ctar_retry_max;
	uint32_t seq_jump;
	uint32_t seq_rate;
	uint32_t handover_timeout;
	u_int drain_window;
	uint64_t spi_mask;
	uint64_t spi_label;
} values_t;

/**
 * Private data of a cxtp_settings_t object.
 */
struct private_cxtp_settings_t {

	/**
	 * Public interface
	 */
	cxtp_settings_t public;

	/**
	 * Reads charon.plugins.cxtp
	 */
	cxtp_options_t *options;

	/**
	 * Current options
	 */
	values_t values;

	/**
	 * The port the settings were created with, the one the transport binds
	 */
	uint16_t port;

	/**
	 * Peers in the order they are configured, cxtp_peer_t*
	 */
	array_t *peers;

	/**
	 * Protects values and peers against a concurrent reload
	 */
	rwlock_t *lock;
};

/**
 * The access addresses of a peer, NULL if none are configured
 */
static array_t *load_access(private_cxtp_settings_t *this, char *name)
{
	enumerator_t *enumerator;
	array_t *access = NULL;
	host_t *host;
	char key[BUF_LEN], *list, *str;

	snprintf(key, sizeof(key), "peers.%s.access", name);
	list = this->options->get_str(this->options, key);
	if (!list)
	{
		return NULL;
	}
	enumerator = enumerator_create_token(list, ",", " ");
	while (enumerator->enumerate(enumerator, &str))
	{
		host = host_create_from_string(str, 0);
		if (!host)
		{
			this->options->warn(this->options, key, list, "'%s' is no IP "
								"address, ignored", str);
			continue;
		}
		array_insert_create(&access, ARRAY_TAIL, host);
	}
	enumerator->destroy(enumerator);
	return access;
}

/**
 * Load one configured peer, NULL if it is not usable (logged)
 */
static cxtp_peer_t *load_peer(private_cxtp_settings_t *this, char *name,
							  uint16_t port)
{
	host_t *host;
	uint64_t spi_label;
	char key[BUF_LEN], *address, *secret, *label;

	snprintf(key, sizeof(key), "peers.%s.address", name);
	address = this->options->get_str(this->options, key);
	snprintf(key, sizeof(key), "peers.%s.secret", name);
	secret = this->options->get_str(this->options, key);
	if (!address)
	{
		DBG1(DBG_CFG, "cxtp: peer '%s' misses an address, ignored", name);
		return NULL;
	}
	if (!secret)
	{
		DBG1(DBG_CFG, "cxtp: peer '%s' misses a secret, ignored", name);
		return NULL;
	}
	if (strlen(secret) < CXTP_MIN_SECRET_LEN)
	{	/* the transport keys are only as strong as the secret */
		DBG1(DBG_CFG, "cxtp: the secret of peer '%s' has %zu characters, "
			 "use at least %d random ones", name, strlen(secret),
			 CXTP_MIN_SECRET_LEN);
	}
	snprintf(key, sizeof(key), "peers.%s.port", name);
	port = this->options->get_uint(this->options, key, port, 1, UINT16_MAX);
	host = host_create_from_string(address, port);
	if (!host)
	{
		host = host_create_from_dns(address, AF_UNSPEC, port);
	}
	if (!host || host->is_anyaddr(host))
	{
		DBG1(DBG_CFG, "cxtp: unable to resolve address '%s' of peer '%s', "
			 "ignored", address, name);
		DESTROY_IF(host);
		return NULL;
	}
	snprintf(key, sizeof(key), "peers.%s.spi_label", name);
	label = this->options->get_str(this->options, key);
	if (label)
	{
		spi_label = htobe64(settings_value_as_uint64(label, 0));
	}
	return cxtp_peer_create(name, host, load_access(this, name),
							chunk_from_str(secret), label ? &spi_label : NULL);
}

/**
 * Find the peer of a name in an array of them
 */
static cxtp_peer_t *find_by_name(array_t *peers, char *name)
{
	cxtp_peer_t *peer;
	int i;

	for (i = 0; i < array_count(peers); i++)
	{
		array_get(peers, i, &peer);
		if (streq(peer->get_name(peer), name))
		{
			return peer;
		}
	}
	return NULL;
}

/**
 * Find the peer with an address in an array of them
 */
static cxtp_peer_t *find_by_address(array_t *peers, host_t *address,
									bool access)
{
	cxtp_peer_t *peer;
	int i;

	for (i = 0; i < array_count(peers); i++)
	{
		array_get(peers, i, &peer);
		if (peer->has_address(peer, address, access))
		{
			return peer;
		}
	}
	return NULL;
}

/**
 * Load the configured peers; a peer configured as in old is kept
 */
static array_t *load_peers(private_cxtp_settings_t *this, uint16_t port,
						   array_t *old)
{
	enumerator_t *enumerator;
	cxtp_peer_t *peer, *other;
	array_t *peers;
	char *name;

	peers = array_create(0, 0);
	enumerator = this->options->create_section_enumerator(this->options,
														  "peers");
	while (enumerator->enumerate(enumerator, &name))
	{
		peer = load_peer(this, name, port);
		if (!peer)
		{
			continue;
		}
		other = find_by_address(peers, peer->get_address(peer), FALSE);
		if (other)
		{
			DBG1(DBG_CFG, "cxtp: peers '%s' and '%s' share address %H, "
				 "datagrams from it are attributed to '%s'",
				 other->get_name(other), name, peer->get_address(peer),
				 other->get_name(other));
		}
		other = old ? find_by_name(old, name) : NULL;
		if (other && other->equals(other, peer))
		{	/* the transport keeps its keys and replay state for it */
			peer->destroy(peer);
			peer = other->get_ref(other);
		}
		array_insert(peers, ARRAY_TAIL, peer);
		DBG2(DBG_CFG, "cxtp: peer '%s' at %#H", name, peer->get_address(peer));
	}
	enumerator->destroy(enumerator);
	return peers;
}

/**
 * Read the scalar options
 */
static void load_values(private_cxtp_settings_t *this, values_t *values)
{
	cxtp_options_t *o = this->options;

	*values = (values_t){
		.port = o->get_uint(o, "port", CXTP_DEFAULT_PORT, 1, UINT16_MAX),
		.retransmit_timeout = o->get_time(o, "retransmit_timeout", "s",
								CXTP_DEFAULT_RETRANSMIT_TIMEOUT, 1, INT_MAX),
		.retransmit_tries = o->get_uint(o, "retransmit_tries",
								CXTP_DEFAULT_RETRANSMIT_TRIES, 0, INT_MAX),
		.retransmit_base = o->get_double(o, "retransmit_base",
								CXTP_DEFAULT_RETRANSMIT_BASE, 1.0),
		.ctar_rate = o->get_uint(o, "ctar_rate", CXTP_DEFAULT_CTAR_RATE,
								 1, INT_MAX),
		.ctar_retry = o->get_time(o, "ctar_retry", "s",
								  CXTP_DEFAULT_CTAR_RETRY, 1,
								  CXTP_MAX_CTAR_RETRY),
		.ctar_retry_max = o->get_time(o, "ctar_retry_max", "s",
								  CXTP_DEFAULT_CTAR_RETRY_MAX, 1,
								  CXTP_MAX_CTAR_RETRY),
		.seq_jump = o->get_uint(o, "seq_jump", CXTP_DEFAULT_SEQ_JUMP,
								0, UINT32_MAX),
		.seq_rate = o->get_uint(o, "seq_rate", CXTP_DEFAULT_SEQ_RATE,
								0, UINT32_MAX),
		.handover_timeout = o->get_time(o, "handover_timeout", "s",
								CXTP_DEFAULT_HANDOVER_TIMEOUT, 1, INT_MAX),
		.drain_window = o->get_uint(o, "drain_window",
								CXTP_DEFAULT_DRAIN_WINDOW, 1, INT_MAX),
		/* what ike_sa_manager applies to the SPIs it allocates */
		.spi_mask = htobe64(settings_value_as_uint64(lib->settings->get_str(
						lib->settings, "%s.spi_mask", NULL, lib->ns), 0)),
		.spi_label = htobe64(settings_value_as_uint64(lib->settings->get_str(
						lib->settings, "%s.spi_label", NULL, lib->ns), 0)),
	};
}

/**
 * References to the current peers
 */
static array_t *snapshot_peers(private_cxtp_settings_t *this)
{
	cxtp_peer_t *peer;
	array_t *snapshot;
	int i;

	snapshot = array_create(0, 0);
	this->lock->read_lock(this->lock);
	for (i = 0; i < array_count(this->peers); i++)
	{
		array_get(this->peers, i, &peer);
		array_insert(snapshot, ARRAY_TAIL, peer->get_ref(peer));
	}
	this->lock->unlock(this->lock);
	return snapshot;
}

METHOD(cxtp_settings_t, reload, void,
	private_cxtp_settings_t *this)
{
	values_t values;
	array_t *peers, *old;
	u_int count;

	load_values(this, &values);
	if (values.port != this->port)
	{
		DBG1(DBG_CFG, "cxtp: port %u takes effect when charon restarts, "
			 "still using %u", values.port, this->port);
		values.port = this->port;
	}
	/* not under the lock: resolving a peer's name may take a while */
	old = snapshot_peers(this);
	peers = load_peers(this, values.port, old);
	array_destroy_offset(old, offsetof(cxtp_peer_t, destroy));
	count = array_count(peers);

	this->lock->write_lock(this->lock);
	this->values = values;
	old = this->peers;
	this->peers = peers;
	this->lock->unlock(this->lock);
	array_destroy_offset(old, offsetof(cxtp_peer_t, destroy));
	DBG1(DBG_CFG, "cxtp: settings reloaded, %u peer%s", count,
		 count == 1 ? "" : "s");
}

/**
 * Read a scalar under the lock
 */
#define GET(this, field) ({ \
	typeof((this)->values.field) _v; \
	(this)->lock->read_lock((this)->lock); \
	_v = (this)->values.field; \
	(this)->lock->unlock((this)->lock); \
	_v; })

METHOD(cxtp_settings_t, get_port, uint16_t,
	private_cxtp_settings_t *this)
{
	return this->port;
}

METHOD(cxtp_settings_t, get_retransmit_timeout, uint32_t,
	private_cxtp_settings_t *this)
{
	return GET(this, retransmit_timeout);
}

METHOD(cxtp_settings_t, get_retransmit_tries, u_int,
	private_cxtp_settings_t *this)
{
	return GET(this, retransmit_tries);
}

METHOD(cxtp_settings_t, get_retransmit_base, double,
	private_cxtp_settings_t *this)
{
	return GET(this, retransmit_base);
}

METHOD(cxtp_settings_t, get_ctar_rate, u_int,
	private_cxtp_settings_t *this)
{
	return GET(this, ctar_rate);
}

METHOD(cxtp_settings_t, get_ctar_retry, uint32_t,
	private_cxtp_settings_t *this)
{
	return GET(this, ctar_retry);
}

METHOD(cxtp_settings_t, get_ctar_retry_max, uint32_t,
	private_cxtp_settings_t *this)
{
	return GET(this, ctar_retry_max);
}

METHOD(cxtp_settings_t, get_seq_jump, uint32_t,
	private_cxtp_settings_t *this)
{
	return GET(this, seq_jump);
}

METHOD(cxtp_settings_t, get_seq_rate, uint32_t,
	private_cxtp_settings_t *this)
{
	return GET(this, seq_rate);
}

METHOD(cxtp_settings_t, get_handover_timeout, uint32_t,
	private_cxtp_settings_t *this)
{
	return GET(this, handover_timeout);
}

METHOD(cxtp_settings_t, get_drain_window, u_int,
	private_cxtp_settings_t *this)
{
	return GET(this, drain_window);
}

METHOD(cxtp_settings_t, get_peer_count, u_int,
	private_cxtp_settings_t *this)
{
	u_int count;

	this->lock->read_lock(this->lock);
	count = array_count(this->peers);
	this->lock->unlock(this->lock);
	return count;
}

METHOD(cxtp_settings_t, get_peer, cxtp_peer_t*,
	private_cxtp_settings_t *this, char *name)
{
	cxtp_peer_t *peer;

	if (!name)
	{
		return NULL;
	}
	this->lock->read_lock(this->lock);
	peer = find_by_name(this->peers, name);
	if (peer)
	{
		peer = peer->get_ref(peer);
	}
	this->lock->unlock(this->lock);
	return peer;
}

METHOD(cxtp_settings_t, find_peer, cxtp_peer_t*,
	private_cxtp_settings_t *this, host_t *address, bool access)
{
	cxtp_peer_t *peer;

	this->lock->read_lock(this->lock);
	peer = find_by_address(this->peers, address, access);
	if (peer)
	{
		peer = peer->get_ref(peer);
	}
	this->lock->unlock(this->lock);
	return peer;
}

METHOD(cxtp_settings_t, find_peer_by_spi, cxtp_peer_t*,
	private_cxtp_settings_t *this, uint64_t spi, bool *own)
{
	cxtp_peer_t *peer, *found = NULL;
	uint64_t label;
	int i;

	*own = TRUE;
	this->lock->read_lock(this->lock);
	if (!this->values.spi_mask ||
		(spi & this->values.spi_mask) == this->values.spi_label)
	{	/* SPIs carry no label, or ours */
		this->lock->unlock(this->lock);
		return NULL;
	}
	*own = FALSE;
	for (i = 0; i < array_count(this->peers); i++)
	{
		array_get(this->peers, i, &peer);
		if (peer->get_spi_label(peer, &label) &&
			(spi & this->values.spi_mask) == label)
		{
			found = peer->get_ref(peer);
			break;
		}
	}
	this->lock->unlock(this->lock);
	return found;
}

CALLBACK(destroy_snapshot, void,
	array_t *peers)
{
	array_destroy_offset(peers, offsetof(cxtp_peer_t, destroy));
}

METHOD(cxtp_settings_t, create_peer_enumerator, enumerator_t*,
	private_cxtp_settings_t *this)
{
	array_t *snapshot;

	snapshot = snapshot_peers(this);
	return enumerator_create_cleaner(array_create_enumerator(snapshot),
									 destroy_snapshot, snapshot);
}

METHOD(cxtp_settings_t, destroy, void,
	private_cxtp_settings_t *this)
{
	array_destroy_offset(this->peers, offsetof(cxtp_peer_t, destroy));
	this->options->destroy(this->options);
	this->lock->destroy(this->lock);
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
			.get_seq_rate = _get_seq_rate,
			.get_handover_timeout = _get_handover_timeout,
			.get_drain_window = _get_drain_window,
			.get_peer_count = _get_peer_count,
			.get_peer = _get_peer,
			.find_peer = _find_peer,
			.find_peer_by_spi = _find_peer_by_spi,
			.create_peer_enumerator = _create_peer_enumerator,
			.reload = _reload,
			.destroy = _destroy,
		},
		.options = cxtp_options_create("cxtp"),
		.lock = rwlock_create(RWLOCK_TYPE_DEFAULT),
	);
	load_values(this, &this->values);
	this->port = this->values.port;
	this->peers = load_peers(this, this->port, NULL);
	return &this->public;
}
