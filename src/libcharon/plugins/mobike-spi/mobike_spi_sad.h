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
 * Whether an SA with this SPI would collide with one the SAD holds.
 *
 * Asks the SAD itself (kernel_interface_t.query_spi()), by SPI, protocol and
 * destination, in constant time: SAs of IKE_SAs other threads have checked
 * out and SPIs allocated for negotiations in progress count. With the mode
 * "spi" the SAD is asked for the SPI at any address, unless skip is given
 * or the kernel can't look up SPIs without a destination (XFRM): then the
 * CHILD_SAs of all IKE_SAs are compared, ike_sa's included, without IKE_SAs
 * other threads have checked out.
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
 * Move the inbound SA of a CHILD_SA to a fresh SPI, or allocate one for a
 * CHILD_SA not installed yet (its install then takes the kernel's
 * allocation over).
 *
 * The SPI comes from the kernel's get_spi(), unique among the SAs the
 * kernel would find by it (per destination with XFRM, among all inbound
 * SAs with libipsec); as XFRM tries only as many random SPIs as the range
 * has, a failed request is repeated a few times. With the lookup mode
 * "spi" it must also differ from
 * the outbound SPIs, which the kernel does not compare with, so there the
 * SPIs are checked against every CHILD_SA and allocated again if needed.
 *
 * @param mode			effective lookup mode
 * @param ike_sa		IKE_SA of the CHILD_SA, checked out
 * @param child_sa		CHILD_SA, its protocol set
 * @return				new inbound SPI, 0 if none is free
 */
uint32_t mobike_spi_sad_fresh_inbound(mobike_spi_sad_lookup_t mode,
									  ike_sa_t *ike_sa, child_sa_t *child_sa);

/**
 * Pick a new SPI for the peer's inbound SA, our outbound, in the lookup
 * mode "spi" (in the other modes our outbound SPIs never collide).
 *
 * The peer allocates its own SPIs, no kernel here can, so the SPI is drawn
 * from charon's SPI range (charon.spi_min/max) and checked against the
 * given SPIs and every SA of the SAD (every CHILD_SA charon holds where the
 * kernel can't look up an SPI at any address).
 *
 * @param protocol		PROTO_ESP or PROTO_AH
 * @param ike_sa		IKE_SA the caller has checked out
 * @param avoid			SPIs not to pick (network order)
 * @param count			number of SPIs in avoid
 * @return				SPI (network order), 0 if none was found
 */
uint32_t mobike_spi_sad_fresh_peer(protocol_id_t protocol, ike_sa_t *ike_sa,
								   uint32_t *avoid, int count);

#endif /** MOBIKE_SPI_SAD_H_ @}*/
