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

#include "cxtp_peer.h"

#include <collections/array.h>

typedef struct private_cxtp_peer_t private_cxtp_peer_t;

/**
 * Private data of a cxtp_peer_t object.
 */
struct private_cxtp_peer_t {

	/**
	 * Public interface
	 */
	cxtp_peer_t public;

	/**
	 * Name of the peer
	 */
	char *name;

	/**
	 * CXTP address and port
	 */
	host_t *address;

	/**
	 * Addresses mobile nodes know the peer by, host_t*
	 */
	array_t *access;

	/**
	 * Shared secret
	 */
	chunk_t secret;

	/**
	 * Label of the IKE SPIs it allocates, network order, if has_label
	 */
	uint64_t spi_label;
	bool has_label;

	/**
	 * References
	 */
	refcount_t ref;
};

METHOD(cxtp_peer_t, get_name, char*,
	private_cxtp_peer_t *this)
{
	return this->name;
}

METHOD(cxtp_peer_t, get_address, host_t*,
	private_cxtp_peer_t *this)
{
	return this->address;
}

METHOD(cxtp_peer_t, get_secret, chunk_t,
	private_cxtp_peer_t *this)
{
	return this->secret;
}

METHOD(cxtp_peer_t, has_address, bool,
	private_cxtp_peer_t *this, host_t *address, bool access)
{
	host_t *host;
	int i;

	if (this->address->ip_equals(this->address, address))
	{
		return TRUE;
	}
	for (i = 0; access && i < array_count(this->access); i++)
	{
		array_get(this->access, i, &host);
		if (host->ip_equals(host, address))
		{
			return TRUE;
		}
	}
	return FALSE;
}

METHOD(cxtp_peer_t, get_spi_label, bool,
	private_cxtp_peer_t *this, uint64_t *label)
{
	*label = this->spi_label;
	return this->has_label;
}

METHOD(cxtp_peer_t, equals, bool,
	private_cxtp_peer_t *this, cxtp_peer_t *other_public)
{
	private_cxtp_peer_t *other = (private_cxtp_peer_t*)other_public;
	host_t *a, *b;
	int i;

	if (!streq(this->name, other->name) ||
		!this->address->equals(this->address, other->address) ||
		!chunk_equals_const(this->secret, other->secret) ||
		this->has_label != other->has_label ||
		this->spi_label != other->spi_label ||
		array_count(this->access) != array_count(other->access))
	{
		return FALSE;
	}
	for (i = 0; i < array_count(this->access); i++)
	{
		array_get(this->access, i, &a);
		array_get(other->access, i, &b);
		if (!a->ip_equals(a, b))
		{
			return FALSE;
		}
	}
	return TRUE;
}

METHOD(cxtp_peer_t, get_ref, cxtp_peer_t*,
	private_cxtp_peer_t *this)
{
	ref_get(&this->ref);
	return &this->public;
}

METHOD(cxtp_peer_t, destroy, void,
	private_cxtp_peer_t *this)
{
	if (ref_put(&this->ref))
	{
		array_destroy_offset(this->access, offsetof(host_t, destroy));
		this->address->destroy(this->address);
		chunk_clear(&this->secret);
		free(this->name);
		free(this);
	}
}

/*
 * Described in header
 */
cxtp_peer_t *cxtp_peer_create(char *name, host_t *address, array_t *access,
							  chunk_t secret, uint64_t *spi_label)
{
	private_cxtp_peer_t *this;

	INIT(this,
		.public = {
			.get_name = _get_name,
			.get_address = _get_address,
			.get_secret = _get_secret,
			.has_address = _has_address,
			.get_spi_label = _get_spi_label,
			.equals = _equals,
			.get_ref = _get_ref,
			.destroy = _destroy,
		},
		.name = strdup(name),
		.address = address,
		.access = access ?: array_create(0, 0),
		.secret = chunk_clone(secret),
		.spi_label = spi_label ? *spi_label : 0,
		.has_label = spi_label != NULL,
		.ref = 1,
	);
	return &this->public;
}
