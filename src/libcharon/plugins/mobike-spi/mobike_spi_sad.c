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

#include "mobike_spi_sad.h"

#include <daemon.h>
#include <collections/array.h>

/**
 * Attempts to find a free SPI before giving up
 */
#define FRESH_ATTEMPTS 256

/**
 * Times to ask the kernel for a fresh SPI: XFRM tries as many random SPIs
 * as the range has, so in a small range with few SPIs free a request may
 * fail while one is
 */
#define ALLOC_ATTEMPTS 8

/*
 * Described in header
 */
mobike_spi_sad_lookup_t mobike_spi_sad_resolve(mobike_spi_sad_lookup_t mode)
{
	return mode == MOBIKE_SPI_SAD_LOOKUP_AUTO ? MOBIKE_SPI_SAD_LOOKUP_SPI_DST
											  : mode;
}

/**
 * Whether a CHILD_SA of an IKE_SA collides with the SPI
 */
static bool child_collides(mobike_spi_sad_lookup_t mode, ike_sa_t *ike_sa,
						   child_sa_t *skip, protocol_id_t protocol,
						   uint32_t spi, host_t *dst)
{
	enumerator_t *enumerator;
	child_sa_t *child_sa;
	host_t *me = ike_sa->get_my_host(ike_sa);
	bool collides = FALSE;

	enumerator = ike_sa->create_child_sa_enumerator(ike_sa);
	while (!collides && enumerator->enumerate(enumerator, &child_sa))
	{
		if (child_sa == skip ||
			child_sa->get_protocol(child_sa) != protocol)
		{
			continue;
		}
		switch (mode)
		{
			case MOBIKE_SPI_SAD_LOOKUP_SPI:
				/* one SAD for all SAs, keyed by SPI */
				collides = child_sa->get_spi(child_sa, TRUE) == spi ||
						   child_sa->get_spi(child_sa, FALSE) == spi;
				break;
			case MOBIKE_SPI_SAD_LOOKUP_SPI_DST:
				collides = child_sa->get_spi(child_sa, TRUE) == spi &&
						   me->ip_equals(me, dst);
				break;
			default:
				break;
		}
	}
	enumerator->destroy(enumerator);
	return collides;
}

/**
 * Whether a CHILD_SA charon holds collides with the SPI, by walking all
 * IKE_SAs: for SAD lookups the kernel can't make. Skips IKE_SAs other
 * threads have checked out, and SPIs allocated for no CHILD_SA yet.
 */
static bool walk_collides(mobike_spi_sad_lookup_t mode, protocol_id_t protocol,
						  uint32_t spi, host_t *dst, ike_sa_t *ike_sa,
						  child_sa_t *skip)
{
	enumerator_t *enumerator;
	ike_sa_t *current;
	bool collides = FALSE;

	if (ike_sa)
	{
		collides = child_collides(mode, ike_sa, skip, protocol, spi, dst);
	}
	/* skips IKE_SAs checked out, ours in particular */
	enumerator = charon->ike_sa_manager->create_enumerator(
											charon->ike_sa_manager, FALSE);
	while (!collides && enumerator->enumerate(enumerator, &current))
	{
		collides = child_collides(mode, current, skip, protocol, spi, dst);
	}
	enumerator->destroy(enumerator);
	/* the enumerator resets the thread's IKE_SA */
	charon->bus->set_sa(charon->bus, ike_sa);
	return collides;
}

/*
 * Described in header
 */
bool mobike_spi_sad_collides(mobike_spi_sad_lookup_t mode,
							 protocol_id_t protocol, uint32_t spi, host_t *dst,
							 ike_sa_t *ike_sa, child_sa_t *skip)
{
	kernel_ipsec_sa_id_t id = {
		.dst = dst,
		.spi = spi,
		.proto = protocol == PROTO_ESP ? IPPROTO_ESP : IPPROTO_AH,
	};

	switch (mode)
	{
		case MOBIKE_SPI_SAD_LOOKUP_SPI_DST_SRC:
			/* the peer's new address is in no SA we hold */
			return FALSE;
		case MOBIKE_SPI_SAD_LOOKUP_SPI_DST:
			if (skip && skip->get_spi(skip, TRUE) == spi)
			{	/* the SA itself */
				return FALSE;
			}
			break;
		case MOBIKE_SPI_SAD_LOOKUP_SPI:
		default:
			if (skip)
			{	/* the SAD can't leave out the CHILD_SA's own SAs and SPI */
				return walk_collides(mode, protocol, spi, dst, ike_sa, skip);
			}
			/* any SA at any address */
			id.dst = NULL;
			break;
	}
	switch (charon->kernel->query_spi(charon->kernel, &id))
	{
		case SUCCESS:
			return TRUE;
		case NOT_FOUND:
			return FALSE;
		default:
			/* XFRM has no lookup by SPI alone, a backend may have none */
			return walk_collides(mode, protocol, spi, dst, ike_sa, skip);
	}
}

/**
 * Release SPIs allocated for a CHILD_SA not installed yet
 */
static void release(ike_sa_t *ike_sa, child_sa_t *child_sa, array_t *spis)
{
	uint32_t spi;

	while (array_remove(spis, ARRAY_HEAD, &spi))
	{
		charon->kernel->del_sa(charon->kernel, &(kernel_ipsec_sa_id_t){
				.src = ike_sa->get_other_host(ike_sa),
				.dst = ike_sa->get_my_host(ike_sa),
				.spi = spi,
				.proto = child_sa->get_protocol(child_sa) == PROTO_ESP ?
							IPPROTO_ESP : IPPROTO_AH,
			}, &(kernel_ipsec_del_sa_t){});
	}
	array_destroy(spis);
}

/**
 * A fresh inbound SPI for a CHILD_SA, as the kernel allocates it, 0 if it
 * does not
 */
static uint32_t allocate(ike_sa_t *ike_sa, child_sa_t *child_sa, bool installed)
{
	status_t status;

	if (!installed)
	{	/* the install takes the allocation over */
		return child_sa->alloc_spi(child_sa, child_sa->get_protocol(child_sa));
	}
	/* the SA leaves the SPI it had, the CHILD_SA is found by its SPIs */
	charon->child_sa_manager->remove(charon->child_sa_manager, child_sa);
	status = child_sa->update_spi(child_sa, TRUE, 0);
	charon->child_sa_manager->add(charon->child_sa_manager, child_sa, ike_sa);
	return status == SUCCESS ? child_sa->get_spi(child_sa, TRUE) : 0;
}

/*
 * Described in header
 */
uint32_t mobike_spi_sad_fresh_inbound(mobike_spi_sad_lookup_t mode,
									  ike_sa_t *ike_sa, child_sa_t *child_sa)
{
	bool installed = child_sa->get_state(child_sa) == CHILD_INSTALLED;
	uint32_t spi = 0, held = 0;
	array_t *rejected;
	int i, failed = 0;

	rejected = array_create(sizeof(uint32_t), 0);
	for (i = 0; i < FRESH_ATTEMPTS && failed < ALLOC_ATTEMPTS; i++)
	{
		spi = allocate(ike_sa, child_sa, installed);
		if (!spi)
		{
			failed++;
			continue;
		}
		if (!installed)
		{	/* the CHILD_SA holds the last one, and releases it */
			if (held)
			{
				array_insert(rejected, ARRAY_TAIL, &held);
			}
			held = spi;
		}
		if (mode != MOBIKE_SPI_SAD_LOOKUP_SPI ||
			!mobike_spi_sad_collides(mode, child_sa->get_protocol(child_sa),
									 spi, ike_sa->get_my_host(ike_sa), ike_sa,
									 child_sa))
		{
			break;
		}
		DBG2(DBG_CHD, "mobike-spi: fresh SPI %.8x is another SA's outbound "
			 "SPI, allocating another", ntohl(spi));
		spi = 0;
	}
	release(ike_sa, child_sa, rejected);
	return spi;
}

/*
 * Described in header
 */
uint32_t mobike_spi_sad_fresh_peer(protocol_id_t protocol, ike_sa_t *ike_sa,
								   uint32_t *avoid, int count)
{
	uint32_t spi_min, spi_max, spi = 0, candidate;
	rng_t *rng;
	int i, j;

	spi_min = lib->settings->get_int(lib->settings, "%s.spi_min",
									 0xc0000000, lib->ns);
	spi_max = lib->settings->get_int(lib->settings, "%s.spi_max",
									 0xcfffffff, lib->ns);
	if (spi_min > spi_max)
	{
		candidate = spi_min;
		spi_min = spi_max;
		spi_max = candidate;
	}
	spi_min = max(spi_min, 0x100);
	spi_max = max(spi_max, 0x100);

	rng = lib->crypto->create_rng(lib->crypto, RNG_WEAK);
	if (!rng)
	{
		return 0;
	}
	for (i = 0; i < FRESH_ATTEMPTS && !spi; i++)
	{
		if (!rng->get_bytes(rng, sizeof(candidate), (uint8_t*)&candidate))
		{
			break;
		}
		candidate = htonl(spi_min + candidate % (spi_max - spi_min + 1));
		for (j = 0; j < count; j++)
		{
			if (avoid[j] == candidate)
			{
				break;
			}
		}
		if (j == count && !mobike_spi_sad_collides(MOBIKE_SPI_SAD_LOOKUP_SPI,
							protocol, candidate, ike_sa->get_my_host(ike_sa),
							ike_sa, NULL))
		{
			spi = candidate;
		}
	}
	rng->destroy(rng);
	return spi;
}
