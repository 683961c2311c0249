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
 * @defgroup cxtp_spi_hook cxtp_spi_hook
 * @{ @ingroup cxtp
 */

#ifndef CXTP_SPI_HOOK_H_
#define CXTP_SPI_HOOK_H_

#include <library.h>
#include <sa/ike_sa.h>
#include <sa/child_sa.h>

/**
 * Name the hook is registered under with lib->set()
 */
#define CXTP_SPI_HOOK "cxtp-spi-hook"

typedef struct cxtp_spi_hook_t cxtp_spi_hook_t;

/**
 * What the activation of an imported context lets another plugin decide
 * (mobike-spi: SPI collisions, the MOBIKE update after the move).
 *
 * Registered with lib->set(lib, CXTP_SPI_HOOK, hook) by that plugin; cxtp
 * works the same without it, installing the transferred SPIs as they are.
 */
struct cxtp_spi_hook_t {

	/**
	 * Check the IKE SPIs of a context about to be imported.
	 *
	 * Called by cxtp_import() before it looks for a colliding IKE_SA. If the
	 * SPI pair is in use here, the hook may replace our own SPI in id (the
	 * peer learns it after the activation).
	 *
	 * @param id			IKE_SA ID the context is to be imported with
	 * @param peer			the peer's identity, for logging
	 * @param extensions	ike_extension_t the IKE_SA has with the peer
	 */
	void (*import_ike_sa)(cxtp_spi_hook_t *this, ike_sa_id_t *id,
						  identification_t *peer, uint32_t extensions);

	/**
	 * Choose the inbound SPI a transferred CHILD_SA gets installed with.
	 *
	 * Called during cxtp_activate() with the IKE_SA checked out and already
	 * at its new addresses, once per CHILD_SA, before it is installed. A
	 * new SPI comes from child_sa->alloc_spi(), so that the install updates
	 * the SA the kernel allocated.
	 *
	 * @param ike_sa		IKE_SA being activated
	 * @param child_sa		CHILD_SA about to be installed (protocol set)
	 * @param spi_in		transferred inbound SPI
	 * @param spi_out		transferred outbound SPI
	 * @return				SPI to install the inbound SA with (spi_in if
	 *						there is no reason to change it), 0 to fail the
	 *						activation
	 */
	uint32_t (*get_inbound_spi)(cxtp_spi_hook_t *this, ike_sa_t *ike_sa,
								child_sa_t *child_sa, uint32_t spi_in,
								uint32_t spi_out);

	/**
	 * The IKE_SA was activated and is established (still checked out).
	 *
	 * @param ike_sa		activated IKE_SA
	 * @param by_peer		TRUE if the peer's own IKE request activated it,
	 *						which charon answers next: a MOBIKE peer updates
	 *						the addresses itself if they changed; or if the
	 *						peer's addresses stay (a gateway takeover, the
	 *						gateway address moved here): no update of ours
	 *						is needed
	 */
	void (*activated)(cxtp_spi_hook_t *this, ike_sa_t *ike_sa, bool by_peer);
};

/**
 * Let the registered hook, if any, resolve an IKE SPI collision at import.
 */
static inline void cxtp_spi_hook_ike(ike_sa_id_t *id, identification_t *peer,
									 uint32_t extensions)
{
	cxtp_spi_hook_t *hook = lib->get(lib, CXTP_SPI_HOOK);

	if (hook)
	{
		hook->import_ike_sa(hook, id, peer, extensions);
	}
}

/**
 * The inbound SPI to install a transferred CHILD_SA with: the hook's
 * choice if one is registered, the transferred one otherwise.
 */
static inline uint32_t cxtp_spi_hook_inbound(ike_sa_t *ike_sa,
									child_sa_t *child_sa, uint32_t spi_in,
									uint32_t spi_out)
{
	cxtp_spi_hook_t *hook = lib->get(lib, CXTP_SPI_HOOK);

	return hook ? hook->get_inbound_spi(hook, ike_sa, child_sa, spi_in,
										spi_out) : spi_in;
}

/**
 * Tell the registered hook, if any, that an IKE_SA was activated.
 */
static inline void cxtp_spi_hook_activated(ike_sa_t *ike_sa, bool by_peer)
{
	cxtp_spi_hook_t *hook = lib->get(lib, CXTP_SPI_HOOK);

	if (hook)
	{
		hook->activated(hook, ike_sa, by_peer);
	}
}

#endif /** CXTP_SPI_HOOK_H_ @}*/
