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


#include "cxtp_vici.h"
#include "cxtp_export.h"

#include <inttypes.h>

#include <daemon.h>
#include <vici_dispatcher.h>
#include <vici_builder.h>

typedef struct private_cxtp_vici_t private_cxtp_vici_t;

/**
 * Private data of a cxtp_vici_t object.
 */
struct private_cxtp_vici_t {

	/**
	 * Public cxtp_vici_t interface.
	 */
	cxtp_vici_t public;

	/**
	 * Dispatcher published by the vici plugin
	 */
	vici_dispatcher_t *dispatcher;

	/**
	 * Captured key material
	 */
	cxtp_capture_t *capture;

	/**
	 * Transfer counters
	 */
	cxtp_transfers_t *transfers;

	/**
	 * Previous access router's side, if available
	 */
	cxtp_par_t *par;

	/**
	 * New access router's side, if available
	 */
	cxtp_nar_t *nar;

	/**
	 * The mobile node's side
	 */
	cxtp_mn_t *mn;
};

/**
 * Add the CHILD_SAs of a held context
 */
static void list_children(vici_builder_t *b, cxtp_context_t *context)
{
	enumerator_t *enumerator;
	cxtp_child_context_t *child;

	b->begin_section(b, "child-sas");
	enumerator = context->children->create_enumerator(context->children);
	while (enumerator->enumerate(enumerator, &child))
	{
		b->begin_section(b, child->child_cfg);
		b->add_kv(b, "protocol", "%N", protocol_id_names, child->protocol);
		b->add_kv(b, "mode", "%N", ipsec_mode_names, child->mode);
		b->add_kv(b, "spi-in", "%.8x", ntohl(child->spi_in));
		b->add_kv(b, "spi-out", "%.8x", ntohl(child->spi_out));
		b->add_kv(b, "seq-out", "%"PRIu64, child->seq_out);
		b->add_kv(b, "seq-in", "%"PRIu64, child->seq_in);
		b->add_kv(b, "replay-window", "%u", child->replay_window);
		b->add_kv(b, "esn", "%s", child->esn ? "yes" : "no");
		b->add_kv(b, "rekey-time", "%u", child->rekey_time);
		b->add_kv(b, "life-time", "%u", child->expire_time);
		b->end_section(b);
	}
	enumerator->destroy(enumerator);
	b->end_section(b);
}

/**
 * Add what a held context would carry, keys aside
 */
static void list_held(vici_builder_t *b, cxtp_context_t *context)
{
	cxtp_ike_context_t *ike = &context->ike;
	enumerator_t *enumerator;
	host_t *vip;

	b->add_kv(b, "peer-cfg", "%s", ike->peer_cfg);
	b->add_kv(b, "initiator", "%s", ike->initiator ? "yes" : "no");
	b->add_kv(b, "message-id-initiate", "%u", ike->mid_initiate);
	b->add_kv(b, "message-id-respond", "%u", ike->mid_respond);
	b->add_kv(b, "rekey-time", "%u", ike->rekey_time);
	b->add_kv(b, "reauth-time", "%u", ike->reauth_time);
	b->begin_list(b, "remote-vips");
	enumerator = ike->remote_vips->create_enumerator(ike->remote_vips);
	while (enumerator->enumerate(enumerator, &vip))
	{
		b->add_li(b, "%H", vip);
	}
	enumerator->destroy(enumerator);
	b->end_list(b);
	if (ike->pool)
	{
		b->add_kv(b, "pool", "%s", ike->pool);
	}
	b->add_kv(b, "remote-auth", "%N", auth_class_names, context->pad.auth_class);
	list_children(b, context);
}

/**
 * Add the context section of an IKE_SA
 */
static void list_context(private_cxtp_vici_t *this, vici_builder_t *b,
						 ike_sa_t *ike_sa)
{
	ike_sa_id_t *id = ike_sa->get_id(ike_sa);
	cxtp_context_t *context = NULL;
	char *reason, *state, buf[16];

	snprintf(buf, sizeof(buf), "%u", ike_sa->get_unique_id(ike_sa));
	b->begin_section(b, buf);
	b->add_kv(b, "name", "%s", ike_sa->get_name(ike_sa));
	b->add_kv(b, "local-host", "%H", ike_sa->get_my_host(ike_sa));
	b->add_kv(b, "remote-host", "%H", ike_sa->get_other_host(ike_sa));
	b->add_kv(b, "remote-id", "%Y", ike_sa->get_other_id(ike_sa));
	b->add_kv(b, "initiator-spi", "%.16"PRIx64,
			  be64toh(id->get_initiator_spi(id)));
	b->add_kv(b, "responder-spi", "%.16"PRIx64,
			  be64toh(id->get_responder_spi(id)));
	state = this->par ? this->par->get_state(this->par, ike_sa) : NULL;
	if (!state && this->nar)
	{
		state = this->nar->get_state(this->nar, ike_sa);
	}
	if (!state && this->mn && this->mn->is_prepared(this->mn, ike_sa))
	{
		state = "prepared";
	}
	if (state)
	{
		b->add_kv(b, "state", "%s", state);
		b->end_section(b);
		return;
	}
	reason = cxtp_export_check(this->capture, ike_sa);
	if (!reason)
	{
		context = cxtp_export(this->capture, ike_sa,
					this->transfers->get_transfers(this->transfers, ike_sa));
		if (!context)
		{
			reason = strdup("capturing its context failed, see the log");
		}
	}
	if (context)
	{
		b->add_kv(b, "state", "held");
		list_held(b, context);
		context->destroy(context);
	}
	else
	{
		b->add_kv(b, "state", "untransferable");
		b->add_kv(b, "reason", "%s", reason);
		free(reason);
	}
	b->end_section(b);
}

CALLBACK(list, vici_message_t*,
	private_cxtp_vici_t *this, char *name, u_int id, vici_message_t *request)
{
	enumerator_t *enumerator;
	vici_builder_t *b;
	ike_sa_t *ike_sa;
	char *ike;

	ike = request->get_str(request, NULL, "ike");
	b = vici_builder_create();
	b->begin_section(b, "contexts");
	enumerator = charon->controller->create_ike_sa_enumerator(
													charon->controller, TRUE);
	while (enumerator->enumerate(enumerator, &ike_sa))
	{
		if (!ike || streq(ike, ike_sa->get_name(ike_sa)))
		{
			list_context(this, b, ike_sa);
		}
	}
	enumerator->destroy(enumerator);
	b->end_section(b);
	return b->finalize(b);
}

/**
 * Reply with success or an error message
 */
static vici_message_t *reply(char *error)
{
	vici_builder_t *b = vici_builder_create();

	b->add_kv(b, "success", error ? "no" : "yes");
	if (error)
	{
		b->add_kv(b, "errmsg", "%s", error);
	}
	return b->finalize(b);
}

/**
 * Unique ID of the IKE_SA a request names, 0 and an error if none or several
 */
static u_int find_ike_sa(vici_message_t *request, char **error)
{
	enumerator_t *enumerator;
	ike_sa_t *ike_sa;
	char *name;
	u_int id = 0;
	int found = 0;

	id = request->get_int(request, 0, "ike-id");
	if (id)
	{
		return id;
	}
	name = request->get_str(request, NULL, "ike");
	if (!name)
	{
		*error = "missing IKE_SA name or unique ID";
		return 0;
	}
	enumerator = charon->controller->create_ike_sa_enumerator(
													charon->controller, TRUE);
	while (enumerator->enumerate(enumerator, &ike_sa))
	{
		if (streq(name, ike_sa->get_name(ike_sa)))
		{
			id = ike_sa->get_unique_id(ike_sa);
			found++;
		}
	}
	enumerator->destroy(enumerator);
	if (found != 1)
	{
		*error = found ? "several IKE_SAs have that name, push by unique ID"
					   : "no IKE_SA with that name";
		return 0;
	}
	return id;
}

CALLBACK(push, vici_message_t*,
	private_cxtp_vici_t *this, char *name, u_int id, vici_message_t *request)
{
	vici_message_t *response;
	ike_sa_t *ike_sa;
	char *peer, *error = NULL, *reason;
	u_int ike_id;

	if (!this->par)
	{
		return reply("context transfer between access routers unavailable, "
					 "see the log");
	}
	peer = request->get_str(request, NULL, "peer");
	if (!peer)
	{
		return reply("missing peer");
	}
	ike_id = find_ike_sa(request, &error);
	if (!ike_id)
	{
		return reply(error);
	}
	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													ike_id);
	if (!ike_sa)
	{
		return reply("IKE_SA not found");
	}
	DBG1(DBG_CFG, "vici cxtp-push of IKE_SA %s[%u] to '%s'",
		 ike_sa->get_name(ike_sa), ike_id, peer);
	reason = this->par->push(this->par, ike_sa, peer);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	if (reason)
	{
		DBG1(DBG_CFG, "cxtp: not pushing IKE_SA [%u]: %s", ike_id, reason);
	}
	response = reply(reason);
	free(reason);
	return response;
}

/**
 * cxtp-activate and cxtp-prepare: the mobile node's CTAR to the new access
 * router after the move, or to the current one before it
 */
static vici_message_t *mn_command(private_cxtp_vici_t *this,
								  vici_message_t *request, bool prepare)
{
	vici_message_t *response;
	ike_sa_t *ike_sa;
	host_t *ar;
	char *address, *error = NULL, *reason;
	u_int ike_id;
	bool ack;

	/* without an address: the default router of the link we move to */
	address = request->get_str(request, NULL, "address");
	ar = address ? host_create_from_string(address, 0) : NULL;
	if (address && !ar)
	{
		return reply("invalid address of the access router");
	}
	ike_id = find_ike_sa(request, &error);
	if (!ike_id)
	{
		DESTROY_IF(ar);
		return reply(error);
	}
	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													ike_id);
	if (!ike_sa)
	{
		DESTROY_IF(ar);
		return reply("IKE_SA not found");
	}
	if (ar)
	{
		DBG1(DBG_CFG, "vici cxtp-%s of IKE_SA %s[%u] %s %H",
			 prepare ? "prepare" : "activate", ike_sa->get_name(ike_sa),
			 ike_id, prepare ? "towards" : "on", ar);
	}
	else
	{
		DBG1(DBG_CFG, "vici cxtp-%s of IKE_SA %s[%u] on the default router",
			 prepare ? "prepare" : "activate", ike_sa->get_name(ike_sa),
			 ike_id);
	}
	ack = request->get_bool(request, FALSE, "ack");
	if (prepare)
	{
		reason = this->mn->prepare(this->mn, ike_sa, ar, ack);
	}
	else
	{
		reason = this->mn->activate(this->mn, ike_sa, ar, ack);
	}
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	DESTROY_IF(ar);
	if (reason)
	{
		DBG1(DBG_CFG, "cxtp: not sending a CTAR for IKE_SA [%u]: %s", ike_id,
			 reason);
	}
	response = reply(reason);
	free(reason);
	return response;
}

CALLBACK(activate, vici_message_t*,
	private_cxtp_vici_t *this, char *name, u_int id, vici_message_t *request)
{
	return mn_command(this, request, FALSE);
}

CALLBACK(prepare, vici_message_t*,
	private_cxtp_vici_t *this, char *name, u_int id, vici_message_t *request)
{
	return mn_command(this, request, TRUE);
}

/**
 * The vici event of a transfer step
 */
static void event_name(cxtp_event_t event, char *buf, size_t len)
{
	snprintf(buf, len, "cxtp-%N", cxtp_event_names, event);
}

CALLBACK(raise_event, void,
	private_cxtp_vici_t *this, cxtp_event_t event, u_int ike_id, char *peer,
	host_t *mn, char *error)
{
	vici_builder_t *b;
	char name[32];

	event_name(event, name, sizeof(name));
	if (!this->dispatcher->has_event_listeners(this->dispatcher, name))
	{
		return;
	}
	b = vici_builder_create();
	if (ike_id)
	{
		b->add_kv(b, "ike-id", "%u", ike_id);
	}
	if (peer)
	{
		b->add_kv(b, "peer", "%s", peer);
	}
	if (mn)
	{
		b->add_kv(b, "mobile-node", "%H", mn);
	}
	if (error)
	{
		b->add_kv(b, "error", "%s", error);
	}
	this->dispatcher->raise_event(this->dispatcher, name, 0, b->finalize(b));
}

/**
 * (Un-)register a command
 */
static void manage_command(private_cxtp_vici_t *this, char *name,
						   vici_command_cb_t cb, bool reg)
{
	this->dispatcher->manage_command(this->dispatcher, name,
									 reg ? cb : NULL, this);
}

/**
 * (Un-)register the commands and events, and the roles' event callbacks
 */
static void manage_commands(private_cxtp_vici_t *this, bool reg)
{
	cxtp_event_t event;
	char name[32];

	for (event = CXTP_EVENT_EXPORT; event <= CXTP_EVENT_LAST; event++)
	{
		event_name(event, name, sizeof(name));
		this->dispatcher->manage_event(this->dispatcher, name, reg);
	}
	manage_command(this, "cxtp-list", list, reg);
	manage_command(this, "cxtp-push", push, reg);
	manage_command(this, "cxtp-activate", activate, reg);
	manage_command(this, "cxtp-prepare", prepare, reg);
	if (this->par)
	{
		this->par->set_event_cb(this->par, reg ? raise_event : NULL,
								reg ? this : NULL);
	}
	if (this->nar)
	{
		this->nar->set_event_cb(this->nar, reg ? raise_event : NULL,
								reg ? this : NULL);
	}
	if (this->mn)
	{
		this->mn->set_event_cb(this->mn, reg ? raise_event : NULL,
							   reg ? this : NULL);
	}
}

METHOD(cxtp_vici_t, destroy, void,
	private_cxtp_vici_t *this)
{
	manage_commands(this, FALSE);
	free(this);
}

/*
 * Described in header
 */
cxtp_vici_t *cxtp_vici_create(cxtp_capture_t *capture,
							  cxtp_transfers_t *transfers, cxtp_par_t *par,
							  cxtp_nar_t *nar, cxtp_mn_t *mn)
{
	private_cxtp_vici_t *this;
	vici_dispatcher_t *dispatcher;

	dispatcher = lib->get(lib, "vici-dispatcher");
	if (!dispatcher)
	{
		return NULL;
	}
	INIT(this,
		.public = {
			.destroy = _destroy,
		},
		.dispatcher = dispatcher,
		.capture = capture,
		.transfers = transfers,
		.par = par,
		.nar = nar,
		.mn = mn,
	);
	manage_commands(this, TRUE);
	return &this->public;
}
