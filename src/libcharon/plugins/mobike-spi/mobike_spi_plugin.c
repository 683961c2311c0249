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

#include "mobike_spi_plugin.h"
#include "mobike_spi_settings.h"
#include "mobike_spi_nar.h"
#include "mobike_spi_provider.h"

#include <daemon.h>
#include <sa/ikev2/task_manager_v2.h>
#include <plugins/cxtp/cxtp_options.h>

typedef struct private_mobike_spi_plugin_t private_mobike_spi_plugin_t;

/**
 * private data of mobike-spi plugin
 */
struct private_mobike_spi_plugin_t {

	/**
	 * implements plugin interface
	 */
	mobike_spi_plugin_t public;

	/**
	 * Settings of the plugin, available while registered
	 */
	mobike_spi_settings_t *settings;

	/**
	 * The new access router's side, hooked into cxtp's activation
	 */
	mobike_spi_nar_t *nar;

	/**
	 * The tasks of every IKE_SA: the announcement of support, the mobile
	 * node's side of UPDATE_SPI
	 */
	mobike_spi_provider_t *provider;
};

/**
 * Unhook and destroy everything but the plugin
 */
static void unregister(private_mobike_spi_plugin_t *this)
{
	if (this->nar)
	{
		lib->set(lib, CXTP_SPI_HOOK, NULL);
		task_manager_v2_remove_provider(&this->nar->provider);
		charon->bus->remove_listener(charon->bus, &this->nar->listener);
		this->nar->destroy(this->nar);
		this->nar = NULL;
	}
	if (this->provider)
	{
		task_manager_v2_remove_provider(&this->provider->provider);
		this->provider->destroy(this->provider);
		this->provider = NULL;
	}
	DESTROY_IF(this->settings);
	this->settings = NULL;
}

METHOD(plugin_t, get_name, char*,
	private_mobike_spi_plugin_t *this)
{
	return "mobike-spi";
}

/**
 * Log the settings in effect
 */
static void log_settings(mobike_spi_settings_t *settings)
{
	char timer[32], delay[32];

	DBG1(DBG_CFG, "mobike-spi: max round trips %u, timer %s, "
		 "update delay %s, UPDATE_SPI announcement %s, SAD lookup %N",
		 settings->get_max_round_trips(settings),
		 cxtp_options_print_time(settings->get_timer(settings), timer,
								 sizeof(timer)),
		 cxtp_options_print_time(settings->get_update_delay(settings), delay,
								 sizeof(delay)),
		 settings->get_announce(settings) ? "enabled" : "disabled",
		 mobike_spi_sad_lookup_names, settings->get_sad_lookup(settings));
}

/**
 * Load settings on registration, release them on unregistration
 */
static bool plugin_cb(private_mobike_spi_plugin_t *this,
					  plugin_feature_t *feature, bool reg, void *cb_data)
{
	mobike_spi_settings_t *settings;

	if (reg)
	{
		settings = this->settings = mobike_spi_settings_create();
		log_settings(settings);
		this->nar = mobike_spi_nar_create(settings);
		this->provider = mobike_spi_provider_create(settings);
		charon->bus->add_listener(charon->bus, &this->nar->listener);
		task_manager_v2_add_provider(&this->nar->provider);
		task_manager_v2_add_provider(&this->provider->provider);
		lib->set(lib, CXTP_SPI_HOOK, &this->nar->hook);
	}
	else
	{
		unregister(this);
	}
	return TRUE;
}

METHOD(plugin_t, get_features, int,
	private_mobike_spi_plugin_t *this, plugin_feature_t *features[])
{
	static plugin_feature_t f[] = {
		PLUGIN_CALLBACK((plugin_feature_callback_t)plugin_cb, NULL),
			PLUGIN_PROVIDE(CUSTOM, "mobike-spi"),
				PLUGIN_SDEPEND(CUSTOM, "kernel-ipsec"),
	};
	*features = f;
	return countof(f);
}

METHOD(plugin_t, reload, bool,
	private_mobike_spi_plugin_t *this)
{
	if (this->settings)
	{
		this->settings->reload(this->settings);
		log_settings(this->settings);
	}
	return TRUE;
}

METHOD(plugin_t, destroy, void,
	private_mobike_spi_plugin_t *this)
{
	unregister(this);
	free(this);
}

/**
 * Plugin constructor
 */
plugin_t *mobike_spi_plugin_create()
{
	private_mobike_spi_plugin_t *this;

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
