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


#include "cxtp_source.h"

#include <errno.h>
#include <unistd.h>
#include <sys/socket.h>

#include <daemon.h>

typedef struct private_cxtp_source_t private_cxtp_source_t;

/**
 * Private data of a cxtp_source_t object.
 */
struct private_cxtp_source_t {

	/**
	 * Public cxtp_source_t interface.
	 */
	cxtp_source_t public;

	/**
	 * Whether an address can be sent from
	 */
	cxtp_source_usable_t usable;
};

/**
 * The kernel binds no socket to a tentative IPv6 address (EADDRNOTAVAIL),
 * and refuses to send from one with the same check
 */
static bool bindable(host_t *address)
{
	host_t *local;
	bool ok = TRUE;
	int fd;

	fd = socket(address->get_family(address), SOCK_DGRAM, 0);
	if (fd < 0)
	{	/* sending will tell */
		return TRUE;
	}
	local = address->clone(address);
	local->set_port(local, 0);
	if (bind(fd, local->get_sockaddr(local),
			 *local->get_sockaddr_len(local)) != 0)
	{
		ok = errno != EADDRNOTAVAIL;
	}
	local->destroy(local);
	close(fd);
	return ok;
}

/**
 * Whether an address is link-local (fe80::/10, 169.254.0.0/16), which
 * reaches no access router's global address
 */
static bool is_link_local(host_t *address)
{
	chunk_t addr = address->get_address(address);

	if (address->get_family(address) == AF_INET6)
	{
		return addr.ptr[0] == 0xfe && (addr.ptr[1] & 0xc0) == 0x80;
	}
	return addr.ptr[0] == 169 && addr.ptr[1] == 254;
}

METHOD(cxtp_source_t, get, host_t*,
	private_cxtp_source_t *this, host_t *ar, char *reason, size_t len)
{
	host_t *src;

	src = charon->kernel->get_source_addr(charon->kernel, ar, NULL);
	if (!src)
	{
		snprintf(reason, len, "no address to reach it from");
		return NULL;
	}
	if (is_link_local(src))
	{
		snprintf(reason, len, "only the link-local address %H", src);
		src->destroy(src);
		return NULL;
	}
	if (!this->usable(src))
	{
		snprintf(reason, len, "%H is tentative", src);
		src->destroy(src);
		return NULL;
	}
	return src;
}

METHOD(cxtp_source_t, destroy, void,
	private_cxtp_source_t *this)
{
	free(this);
}

/*
 * Described in header
 */
cxtp_source_t *cxtp_source_create(cxtp_source_usable_t usable)
{
	private_cxtp_source_t *this;

	INIT(this,
		.public = {
			.get = _get,
			.destroy = _destroy,
		},
		.usable = usable ?: bindable,
	);
	return &this->public;
}
