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
 * @defgroup cxtp cxtp
 * @ingroup cplugins
 *
 * @defgroup cxtp_plugin cxtp_plugin
 * @{ @ingroup cxtp
 */

#ifndef CXTP_PLUGIN_H_
#define CXTP_PLUGIN_H_

#include <plugins/plugin.h>

typedef struct cxtp_plugin_t cxtp_plugin_t;

/**
 * Plugin transferring IKEv2/IPsec contexts between access routers using the
 * Context Transfer Protocol (RFC 4067).
 */
struct cxtp_plugin_t {

	/**
	 * implements plugin interface
	 */
	plugin_t plugin;
};

#endif /** CXTP_PLUGIN_H_ @}*/
