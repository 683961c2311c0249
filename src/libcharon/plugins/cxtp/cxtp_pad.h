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
 * @defgroup cxtp_pad cxtp_pad
 * @{ @ingroup cxtp
 */

#ifndef CXTP_PAD_H_
#define CXTP_PAD_H_

#include "cxtp_context.h"
#include "cxtp_settings.h"

#include <credentials/credential_set.h>

typedef struct cxtp_pad_t cxtp_pad_t;

/**
 * The PAD entries of mobile nodes whose context this gateway activated.
 *
 * A credential set with the secret (PSK or EAP) each transferred context
 * carried, so the new access router can authenticate the mobile node again
 * (reauthentication, or a new IKE_SA after a DELETE) without a secret of its
 * own for it. Configured secrets match better and win. An entry stays while
 * an IKE_SA with the mobile node's identity exists, and goes (wiped) once
 * none was seen for two checks handover_timeout apart.
 */
struct cxtp_pad_t {

	/**
	 * Credential set providing the transferred secrets.
	 */
	credential_set_t set;

	/**
	 * Install the PAD entry of an activated context, replacing an older one
	 * of the same identity.
	 *
	 * @param context		activated context, its secret is copied
	 */
	void (*add)(cxtp_pad_t *this, cxtp_context_t *context);

	/**
	 * Destroy a cxtp_pad_t, wiping all secrets.
	 */
	void (*destroy)(cxtp_pad_t *this);
};

/**
 * Create a cxtp_pad_t.
 *
 * @param settings		plugin settings
 * @return				instance
 */
cxtp_pad_t *cxtp_pad_create(cxtp_settings_t *settings);

#endif /** CXTP_PAD_H_ @}*/
