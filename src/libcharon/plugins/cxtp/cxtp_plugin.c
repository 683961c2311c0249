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

#include "cxtp_plugin.h"
#include "cxtp_options.h"
#include "cxtp_settings.h"
#include "cxtp_capture.h"
#include "cxtp_transfers.h"
#include "cxtp_vici.h"
#include "cxtp_dispatcher.h"
#include "cxtp_ike_index.h"
#include "cxtp_mn.h"
#include "cxtp_nar.h"
#include "cxtp_pad.h"
#include "cxtp_par.h"
#include "cxtp_relabel.h"

#include <daemon.h>

typedef struct private_cxtp_plugin_t private_cxtp_plugin_t;

/**
 * private data of cxtp plugin
 */
struct private_cxtp_plugin_t {

	/**
	 * implements plugin interface
	 */
	cxtp_plugin_t public;

	/**
	 * Settings of the plugin, available while registered
	 */
	cxtp_settings_t *settings;

	/**
	 * Key material of the SAs, captured as it is derived
	 */
	cxtp_capture_t *capture;

	/**
	 * Transfer counters and token keys
	 */
	cxtp_transfers_t *transfers;

	/**
	 * IKE_SAs by the mobile node's address
	 */
	cxtp_ike_index_t *index;

	/**
	 * Both transports, and the roles their messages go to
	 */
	cxtp_dispatcher_t *dispatcher;

	/**
	 * PAD entries of activated contexts
	 */
	cxtp_pad_t *pad;

	/**
	 * IKE_SAs frozen while their context is with another access router
	 */
	cxtp_freeze_t *freeze;

	/**
	 * Virtual IPs in use, transferred leases
	 */
	cxtp_leases_t *leases;

	/**
	 * The previous access router's side, if peers can be reached
	 */
	cxtp_par_t *par;

	/**
	 * The new access router's side, if peers can be reached
	 */
	cxtp_nar_t *nar;

	/**
	 * Rekeys activated IKE_SAs for an SPI with our label, if we label them
	 */
	cxtp_relabel_t *relabel;

	/**
	 * The mobile node's side
	 */
	cxtp_mn_t *mn;

	/**
	 * vici commands, if vici is loaded
	 */
	cxtp_vici_t *vici;
};

METHOD(plugin_t, get_name, char*,
	private_cxtp_plugin_t *this)
{
	return "cxtp";
}

/**
 * Load settings on registration, release them on unregistration
 */
static bool plugin_cb(private_cxtp_plugin_t *this,
					  plugin_feature_t *feature, bool reg, void *cb_data)
{
	cxtp_settings_t *settings;
	cxtp_transport_t *transport;
	cxtp_icmp_t *icmp;
	u_int peers;
	char timeout[32];

	if (reg)
	{
		settings = this->settings = cxtp_settings_create();
		peers = settings->get_peer_count(settings);
		DBG1(DBG_CFG, "cxtp: listening port %u, retransmit timeout %s, "
			 "%u retransmissions, backoff base %.2f, %u CTARs/s per source, "
			 "ESP sequence number jump %u + %u/s, %u peer%s",
			 settings->get_port(settings),
			 cxtp_options_print_time(settings->get_retransmit_timeout(settings),
									 timeout, sizeof(timeout)),
			 settings->get_retransmit_tries(settings),
			 settings->get_retransmit_base(settings),
			 settings->get_ctar_rate(settings),
			 settings->get_seq_jump(settings),
			 settings->get_seq_rate(settings), peers, peers == 1 ? "" : "s");
		this->capture = cxtp_capture_create();
		charon->bus->add_listener(charon->bus, &this->capture->listener);
		this->transfers = cxtp_transfers_create(this->capture);
		charon->bus->add_listener(charon->bus, &this->transfers->listener);
		/* before the first IKE_SA, so the index misses none */
		this->index = cxtp_ike_index_create();
		charon->bus->add_listener(charon->bus, &this->index->listener);
		charon->kernel->add_listener(charon->kernel, &this->index->kernel);
		/* the roles send with the transports, which the dispatcher owns */
		this->dispatcher = cxtp_dispatcher_create(settings, this->index);
		icmp = this->dispatcher->get_icmp(this->dispatcher);
		transport = this->dispatcher->get_transport(this->dispatcher);
		this->mn = cxtp_mn_create(this->capture, this->transfers, settings,
								  icmp, cxtp_source_create(NULL));
		charon->kernel->add_listener(charon->kernel, &this->mn->listener);
		charon->bus->add_listener(charon->bus, &this->mn->ike_listener);
		this->pad = cxtp_pad_create(settings);
		lib->credmgr->add_set(lib->credmgr, &this->pad->set);
		this->leases = cxtp_leases_create();
		charon->attributes->add_provider(charon->attributes,
										 &this->leases->provider);
		charon->bus->add_listener(charon->bus, &this->leases->listener);
		if (transport)
		{
			this->freeze = cxtp_freeze_create();
			charon->kernel->add_listener(charon->kernel,
										 &this->freeze->listener);
			this->par = cxtp_par_create(this->capture, this->transfers,
										settings, transport, this->freeze,
										this->index);
			charon->bus->add_listener(charon->bus, &this->par->listener);
			this->nar = cxtp_nar_create(this->transfers, settings, transport,
										icmp, this->pad, this->leases);
			charon->bus->add_listener(charon->bus, &this->nar->listener);
			this->relabel = cxtp_relabel_create();
			if (this->relabel)
			{
				charon->bus->add_listener(charon->bus,
										  &this->relabel->listener);
			}
		}
		this->dispatcher->set_roles(this->dispatcher, this->par, this->nar,
									this->mn);
		this->vici = cxtp_vici_create(settings, this->capture,
									  this->transfers, this->par, transport,
									  this->nar, this->mn);
		if (!this->vici)
		{
			DBG1(DBG_CFG, "cxtp: vici is not loaded, cxtp commands unavailable");
		}
	}
	else
	{
		DESTROY_IF(this->vici);
		this->vici = NULL;
		if (this->mn)
		{	/* a move would send a CTAR over the ICMP transport */
			charon->kernel->remove_listener(charon->kernel,
											&this->mn->listener);
			charon->bus->remove_listener(charon->bus,
										 &this->mn->ike_listener);
		}
		/* the roles' listeners send with the transports */
		if (this->par)
		{
			charon->bus->remove_listener(charon->bus, &this->par->listener);
			charon->kernel->remove_listener(charon->kernel,
											&this->freeze->listener);
		}
		if (this->nar)
		{
			charon->bus->remove_listener(charon->bus, &this->nar->listener);
		}
		if (this->relabel)
		{
			charon->bus->remove_listener(charon->bus, &this->relabel->listener);
			this->relabel->destroy(this->relabel);
			this->relabel = NULL;
		}
		/* the transports call into the roles until they are gone */
		DESTROY_IF(this->dispatcher);
		this->dispatcher = NULL;
		DESTROY_IF(this->par);
		this->par = NULL;
		DESTROY_IF(this->freeze);
		this->freeze = NULL;
		DESTROY_IF(this->nar);
		this->nar = NULL;
		if (this->pad)
		{
			lib->credmgr->remove_set(lib->credmgr, &this->pad->set);
			this->pad->destroy(this->pad);
			this->pad = NULL;
		}
		if (this->leases)
		{
			charon->bus->remove_listener(charon->bus,
										 &this->leases->listener);
			charon->attributes->remove_provider(charon->attributes,
												&this->leases->provider);
			this->leases->destroy(this->leases);
			this->leases = NULL;
		}
		DESTROY_IF(this->mn);
		this->mn = NULL;
		if (this->index)
		{
			charon->kernel->remove_listener(charon->kernel,
											&this->index->kernel);
			charon->bus->remove_listener(charon->bus, &this->index->listener);
			this->index->destroy(this->index);
			this->index = NULL;
		}
		if (this->transfers)
		{
			charon->bus->remove_listener(charon->bus,
										 &this->transfers->listener);
			this->transfers->destroy(this->transfers);
			this->transfers = NULL;
		}
		if (this->capture)
		{
			charon->bus->remove_listener(charon->bus, &this->capture->listener);
			this->capture->destroy(this->capture);
			this->capture = NULL;
		}
		DESTROY_IF(this->settings);
		this->settings = NULL;
	}
	return TRUE;
}

METHOD(plugin_t, reload, bool,
	private_cxtp_plugin_t *this)
{
	if (this->settings)
	{
		this->settings->reload(this->settings);
	}
	return TRUE;
}

METHOD(plugin_t, get_features, int,
	private_cxtp_plugin_t *this, plugin_feature_t *features[])
{
	static plugin_feature_t f[] = {
		PLUGIN_CALLBACK((plugin_feature_callback_t)plugin_cb, NULL),
			PLUGIN_PROVIDE(CUSTOM, "cxtp"),
				PLUGIN_SDEPEND(CUSTOM, "kernel-ipsec"),
				PLUGIN_SDEPEND(CUSTOM, "vici"),
	};
	*features = f;
	return countof(f);
}

METHOD(plugin_t, destroy, void,
	private_cxtp_plugin_t *this)
{
	/* plugin_cb() unregistered everything, unless registration failed */
	DESTROY_IF(this->vici);
	DESTROY_IF(this->dispatcher);
	DESTROY_IF(this->par);
	DESTROY_IF(this->freeze);
	DESTROY_IF(this->nar);
	DESTROY_IF(this->mn);
	DESTROY_IF(this->pad);
	DESTROY_IF(this->leases);
	DESTROY_IF(this->transfers);
	DESTROY_IF(this->capture);
	DESTROY_IF(this->settings);
	free(this);
}

/**
 * Plugin constructor
 */
plugin_t *cxtp_plugin_create()
{
	private_cxtp_plugin_t *this;

	INIT(this,
		.public = {
			.plugin = {
				.get_name = _get_name,
				.get_features = _get_features,
				.reload = _reload,
				.destroy = _destroy,
			},
		},
	);

	return &this->public.plugin;
}
