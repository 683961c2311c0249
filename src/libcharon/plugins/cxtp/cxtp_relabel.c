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

#include "cxtp_relabel.h"

#include <inttypes.h>

#include <daemon.h>
#include <processing/jobs/rekey_ike_sa_job.h>

typedef struct private_cxtp_relabel_t private_cxtp_relabel_t;

/**
 * Private data of a cxtp_relabel_t object.
 */
struct private_cxtp_relabel_t {

	/**
	 * Public interface.
	 */
	cxtp_relabel_t public;

	/**
	 * charon.spi_mask, network order
	 */
	uint64_t mask;

	/**
	 * charon.spi_label within the mask, network order
	 */
	uint64_t label;
};

/**
 * Our own SPI of an IKE_SA, network order
 */
static uint64_t own_spi(ike_sa_t *ike_sa)
{
	ike_sa_id_t *id = ike_sa->get_id(ike_sa);

	return id->is_initiator(id) ? id->get_initiator_spi(id)
								: id->get_responder_spi(id);
}

METHOD(listener_t, ike_state_change, bool,
	private_cxtp_relabel_t *this, ike_sa_t *ike_sa, ike_sa_state_t state)
{
	uint64_t spi;

	/* called before the IKE_SA takes the new state: an activation or a
	 * thaw, not an IKE_SA we set up, whose SPI is labelled already */
	if (state != IKE_ESTABLISHED ||
		ike_sa->get_state(ike_sa) != IKE_PASSIVE ||
		ike_sa->get_version(ike_sa) != IKEV2)
	{
		return TRUE;
	}
	spi = own_spi(ike_sa);
	if ((spi & this->mask) == this->label)
	{
		return TRUE;
	}
	DBG1(DBG_IKE, "cxtp: IKE SPI %.16"PRIx64" of IKE_SA %s[%u] has another "
		 "router's label, rekeying the IKE_SA for an SPI of ours",
		 be64toh(spi), ike_sa->get_name(ike_sa), ike_sa->get_unique_id(ike_sa));
	/* after the node's own exchanges, see CXTP_RELABEL_DELAY */
	lib->scheduler->schedule_job_ms(lib->scheduler, (job_t*)
			rekey_ike_sa_job_create(ike_sa->get_id(ike_sa), FALSE),
			CXTP_RELABEL_DELAY);
	return TRUE;
}

METHOD(cxtp_relabel_t, destroy, void,
	private_cxtp_relabel_t *this)
{
	free(this);
}

/*
 * Described in header
 */
cxtp_relabel_t *cxtp_relabel_create()
{
	private_cxtp_relabel_t *this;
	uint64_t mask, label;

	mask = settings_value_as_uint64(lib->settings->get_str(lib->settings,
									"%s.spi_mask", NULL, lib->ns), 0);
	label = settings_value_as_uint64(lib->settings->get_str(lib->settings,
									"%s.spi_label", NULL, lib->ns), 0);
	if (!mask || !lib->settings->get_bool(lib->settings,
							"%s.plugins.cxtp.relabel", TRUE, lib->ns))
	{
		return NULL;
	}
	DBG1(DBG_CFG, "cxtp: IKE SPI label 0x%.16"PRIx64" (mask 0x%.16"PRIx64"), "
		 "IKE_SAs activated here with another label are rekeyed", label & mask,
		 mask);
	INIT(this,
		.public = {
			.listener = {
				.ike_state_change = _ike_state_change,
			},
			.destroy = _destroy,
		},
		.mask = htobe64(mask),
		.label = htobe64(label & mask),
	);
	return &this->public;
}
