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

/**
 * @defgroup mobike_spi_sad mobike_spi_sad
 * @{ @ingroup mobike_spi
 */

#ifndef MOBIKE_SPI_SAD_H_
#define MOBIKE_SPI_SAD_H_

#include "mobike_spi_settings.h"

#include <sa/ike_sa.h>

/**
 * The lookup mode "auto" stands for with the kernel backends charon has:
 * kernel-netlink (XFRM) and kernel-libipsec both find an inbound SA by SPI
 * and destination.
 *
 * @param mode			configured mode
 * @return				effective mode
 */
mobike_spi_sad_lookup_t mobike_spi_sad_resolve(mobike_spi_sad_lookup_t mode);

/**
 * Whether an SA with this SPI would collide with one charon holds.
 *
 * Looks at the CHILD_SAs of all IKE_SAs, ike_sa's included, without
 * waiting for IKE_SAs other threads have checked out (those are skipped).
 *
 * @param mode			effective lookup mode
 * @param protocol		PROTO_ESP or PROTO_AH
 * @param spi			SPI of the new inbound SA (network order)
 * @param dst			its destination (our address)
 * @param ike_sa		IKE_SA the caller has checked out, or NULL
 * @param skip			a CHILD_SA not to compare with, or NULL
 * @return				TRUE if the SPI collides
 */
bool mobike_spi_sad_collides(mobike_spi_sad_lookup_t mode,
							 protocol_id_t protocol, uint32_t spi, host_t *dst,
							 ike_sa_t *ike_sa, child_sa_t *skip);

/**
 * Pick a fresh inbound SPI in charon's SPI range (charon.spi_min/max) that
 * collides with nothing charon holds nor with the given SPIs.
 *
 * @param mode			effective lookup mode
 * @param protocol		PROTO_ESP or PROTO_AH
 * @param dst			destination of the SA
 * @param ike_sa		IKE_SA the caller has checked out
 * @param avoid			SPIs not to pick (network order)
 * @param count			number of SPIs in avoid
 * @return				SPI (network order), 0 if none was found
 */
uint32_t mobike_spi_sad_fresh(mobike_spi_sad_lookup_t mode,
							  protocol_id_t protocol, host_t *dst,
							  ike_sa_t *ike_sa, uint32_t *avoid, int count);

#endif /** MOBIKE_SPI_SAD_H_ @}*/
