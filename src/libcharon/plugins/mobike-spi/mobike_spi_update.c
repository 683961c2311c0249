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

#include "mobike_spi_update.h"
#include "mobike_spi_notify.h"
#include "mobike_spi_sad.h"

#include <inttypes.h>

#include <daemon.h>
#include <collections/array.h>

typedef struct private_mobike_spi_update_task_t
	private_mobike_spi_update_task_t;

/**
 * Private data of a mobike_spi_update_task_t task.
 */
struct private_mobike_spi_update_task_t {

	/**
	 * Public interface.
	 */
	mobike_spi_update_task_t public;

	/**
	 * IKE_SA that received the request
	 */
	ike_sa_t *ike_sa;

	/**
	 * Plugin settings
	 */
	mobike_spi_settings_t *settings;

	/**
	 * Notifies for the response, notify_payload_t
	 */
	array_t *answers;
};

/**
 * A checked UPDATE_SPI of a request
 */
typedef struct {
	mobike_spi_update_t update;
	notify_payload_t *notify;
	child_sa_t *child_sa;
	bool inbound;
} request_t;

/**
 * Check whether an UPDATE_SPI for the IKE_SA's SPIs fits, NULL if so
 */
static char *check_ike(ike_sa_t *ike_sa, request_t *req, array_t *checked)
{
	enumerator_t *enumerator;
	ike_sa_id_t *id;
	ike_sa_t *existing;
	request_t *other;

	if (req->inbound)
	{	/* the IKE_SA manager finds our IKE_SAs by our SPI */
		return "replacing our own IKE SPI is not supported";
	}
	enumerator = array_create_enumerator(checked);
	while (enumerator->enumerate(enumerator, &other))
	{
		if (other->update.protocol == PROTO_IKE)
		{
			enumerator->destroy(enumerator);
			return "SPI replaced twice in one request";
		}
	}
	enumerator->destroy(enumerator);
	id = ike_sa->get_id(ike_sa)->clone(ike_sa->get_id(ike_sa));
	if ((ike_sa->has_condition(ike_sa, COND_ORIGINAL_INITIATOR) ?
			id->get_responder_spi(id) : id->get_initiator_spi(id)) ==
		req->update.new_ike_spi)
	{	/* checking it out below would wait for ourselves */
		id->destroy(id);
		return "new IKE SPI equals the old";
	}
	if (ike_sa->has_condition(ike_sa, COND_ORIGINAL_INITIATOR))
	{
		id->set_responder_spi(id, req->update.new_ike_spi);
	}
	else
	{
		id->set_initiator_spi(id, req->update.new_ike_spi);
	}
	existing = charon->ike_sa_manager->checkout(charon->ike_sa_manager, id);
	id->destroy(id);
	if (existing)
	{
		charon->ike_sa_manager->checkin(charon->ike_sa_manager, existing);
	}
	/* checkout and checkin change the thread's IKE_SA */
	charon->bus->set_sa(charon->bus, ike_sa);
	return existing ? "new IKE SPIs in use here" : NULL;
}

/**
 * Check whether an UPDATE_SPI fits the IKE_SA, NULL if so
 */
static char *check(private_mobike_spi_update_task_t *this, request_t *req,
				   array_t *checked)
{
	enumerator_t *enumerator;
	request_t *other;
	bool initiator;

	initiator = this->ike_sa->has_condition(this->ike_sa,
											COND_ORIGINAL_INITIATOR);
	/* D names the owner: the SPI we chose is the one we receive with */
	req->inbound = req->update.responder != initiator;
	if (req->update.protocol == PROTO_IKE)
	{
		return check_ike(this->ike_sa, req, checked);
	}
	req->child_sa = this->ike_sa->get_child_sa(this->ike_sa,
								req->update.protocol, req->update.spi,
								req->inbound);
	if (!req->child_sa ||
		req->child_sa->get_state(req->child_sa) != CHILD_INSTALLED)
	{
		req->child_sa = NULL;
		return req->inbound ? "no installed CHILD_SA with this inbound SPI"
							: "no installed CHILD_SA with this outbound SPI";
	}
	enumerator = array_create_enumerator(checked);
	while (enumerator->enumerate(enumerator, &other))
	{
		if (other->child_sa == req->child_sa && other->inbound == req->inbound)
		{
			enumerator->destroy(enumerator);
			return "SPI replaced twice in one request";
		}
	}
	enumerator->destroy(enumerator);
	if (req->inbound &&
		mobike_spi_sad_collides(mobike_spi_sad_resolve(
							this->settings->get_sad_lookup(this->settings)),
							req->update.protocol, req->update.new_spi,
							this->ike_sa->get_my_host(this->ike_sa),
							this->ike_sa, req->child_sa))
	{
		return "new inbound SPI in use here";
	}
	return NULL;
}

/**
 * Register the CHILD_SAs of an IKE_SA again in the child_sa_manager, which
 * keeps the IKE_SA ID they belong to
 */
static void readd_children(ike_sa_t *ike_sa)
{
	enumerator_t *enumerator;
	child_sa_t *child_sa;

	enumerator = ike_sa->create_child_sa_enumerator(ike_sa);
	while (enumerator->enumerate(enumerator, &child_sa))
	{
		charon->child_sa_manager->remove(charon->child_sa_manager, child_sa);
		charon->child_sa_manager->add(charon->child_sa_manager, child_sa,
									  ike_sa);
	}
	enumerator->destroy(enumerator);
}

/**
 * Apply a checked UPDATE_SPI
 */
static bool apply(ike_sa_t *ike_sa, request_t *req)
{
	child_sa_t *child_sa = req->child_sa;
	ike_sa_id_t *id = ike_sa->get_id(ike_sa);
	uint64_t old;
	status_t status;

	if (req->update.protocol == PROTO_IKE)
	{	/* the manager takes the new ID on checkin, the response has it, the
		 * child_sa_manager gets it here (kernel events find CHILD_SAs by it) */
		if (ike_sa->has_condition(ike_sa, COND_ORIGINAL_INITIATOR))
		{
			old = id->get_responder_spi(id);
			id->set_responder_spi(id, req->update.new_ike_spi);
		}
		else
		{
			old = id->get_initiator_spi(id);
			id->set_initiator_spi(id, req->update.new_ike_spi);
		}
		readd_children(ike_sa);
		DBG1(DBG_IKE, "mobike-spi: IKE_SA %s[%u] peer's SPI %.16"PRIx64
			 " replaced by %.16"PRIx64" as '%Y' asked", ike_sa->get_name(ike_sa),
			 ike_sa->get_unique_id(ike_sa), be64toh(old),
			 be64toh(req->update.new_ike_spi), ike_sa->get_other_id(ike_sa));
		return TRUE;
	}

	charon->child_sa_manager->remove(charon->child_sa_manager, child_sa);
	status = child_sa->update_spi(child_sa, req->inbound, req->update.new_spi);
	charon->child_sa_manager->add(charon->child_sa_manager, child_sa, ike_sa);
	if (status != SUCCESS)
	{
		DBG1(DBG_CHD, "mobike-spi: replacing %s SPI %.8x of CHILD_SA %s{%u} "
			 "by %.8x failed", req->inbound ? "inbound" : "outbound",
			 ntohl(req->update.spi), child_sa->get_name(child_sa),
			 child_sa->get_unique_id(child_sa), ntohl(req->update.new_spi));
		return FALSE;
	}
	DBG1(DBG_CHD, "mobike-spi: CHILD_SA %s{%u} %s SPI %.8x replaced by %.8x "
		 "as '%Y' asked", child_sa->get_name(child_sa),
		 child_sa->get_unique_id(child_sa),
		 req->inbound ? "inbound" : "outbound", ntohl(req->update.spi),
		 ntohl(req->update.new_spi), ike_sa->get_other_id(ike_sa));
	return TRUE;
}

/**
 * Check the UPDATE_SPI notifies of a request, apply all or none
 */
static void process_updates(private_mobike_spi_update_task_t *this,
							message_t *message)
{
	enumerator_t *enumerator;
	payload_t *payload;
	notify_payload_t *notify;
	array_t *requests, *failed;
	request_t *req;
	char *why;

	requests = array_create(0, 0);
	failed = array_create(0, 0);
	enumerator = message->create_payload_enumerator(message);
	while (enumerator->enumerate(enumerator, &payload))
	{
		if (payload->get_type(payload) != PLV2_NOTIFY)
		{
			continue;
		}
		notify = (notify_payload_t*)payload;
		if (notify->get_notify_type(notify) != MOBIKE_SPI_UPDATE_SPI)
		{
			continue;
		}
		INIT(req,
			.notify = notify,
		);
		why = mobike_spi_notify_parse(notify, &req->update);
		if (!why)
		{
			why = check(this, req, requests);
		}
		if (why)
		{
			DBG1(DBG_IKE, "mobike-spi: rejecting UPDATE_SPI (%N SPI %.8x) "
				 "from '%Y': %s", protocol_id_names,
				 notify->get_protocol_id(notify),
				 ntohl(notify->get_spi(notify)),
				 this->ike_sa->get_other_id(this->ike_sa), why);
			array_insert(failed, ARRAY_TAIL, req);
		}
		else
		{
			array_insert(requests, ARRAY_TAIL, req);
		}
	}
	enumerator->destroy(enumerator);

	if (array_count(failed))
	{
		while (array_remove(failed, ARRAY_HEAD, &req))
		{
			array_insert(this->answers, ARRAY_TAIL,
						 mobike_spi_notify_failed(req->notify));
			free(req);
		}
		if (array_count(requests))
		{
			DBG1(DBG_IKE, "mobike-spi: applying none of the %u other "
				 "UPDATE_SPI of the request", array_count(requests));
		}
	}
	else
	{
		while (array_remove(requests, ARRAY_HEAD, &req))
		{
			array_insert(this->answers, ARRAY_TAIL, apply(this->ike_sa, req) ?
						 mobike_spi_notify_build(&req->update) :
						 mobike_spi_notify_failed(req->notify));
			free(req);
		}
	}
	array_destroy_function(requests, (void*)free, NULL);
	array_destroy(failed);
}

METHOD(task_t, process, status_t,
	private_mobike_spi_update_task_t *this, message_t *message)
{
	if (!message->get_notify(message, MOBIKE_SPI_UPDATE_SPI))
	{
		return NEED_MORE;
	}
	if (!this->ike_sa->supports_extension(this->ike_sa, MOBIKE_SPI_EXT_VENDOR))
	{	/* the number means something else to a peer without our vendor ID */
		DBG1(DBG_IKE, "mobike-spi: ignoring notify %u from '%Y', it sent "
			 "no cxtp mobike-spi vendor ID", MOBIKE_SPI_UPDATE_SPI,
			 this->ike_sa->get_other_id(this->ike_sa));
		return NEED_MORE;
	}
	if (!this->settings->get_announce(this->settings))
	{	/* as if we never heard of it, as we told the peer */
		DBG1(DBG_IKE, "mobike-spi: ignoring UPDATE_SPI from '%Y', support "
			 "disabled", this->ike_sa->get_other_id(this->ike_sa));
		return NEED_MORE;
	}
	process_updates(this, message);
	return NEED_MORE;
}

METHOD(task_t, build, status_t,
	private_mobike_spi_update_task_t *this, message_t *message)
{
	payload_t *payload;

	while (array_remove(this->answers, ARRAY_HEAD, &payload))
	{
		message->add_payload(message, payload);
	}
	return SUCCESS;
}

METHOD(task_t, get_type, task_type_t,
	private_mobike_spi_update_task_t *this)
{
	return TASK_PLUGIN;
}

METHOD(task_t, migrate, void,
	private_mobike_spi_update_task_t *this, ike_sa_t *ike_sa)
{
	this->ike_sa = ike_sa;
}

METHOD(task_t, destroy, void,
	private_mobike_spi_update_task_t *this)
{
	array_destroy_offset(this->answers, offsetof(payload_t, destroy));
	free(this);
}

/*
 * Described in header
 */
mobike_spi_update_task_t *mobike_spi_update_task_create(ike_sa_t *ike_sa,
											mobike_spi_settings_t *settings)
{
	private_mobike_spi_update_task_t *this;

	INIT(this,
		.public = {
			.task = {
				.build = _build,
				.process = _process,
				.get_type = _get_type,
				.migrate = _migrate,
				.destroy = _destroy,
			},
		},
		.ike_sa = ike_sa,
		.settings = settings,
		.answers = array_create(0, 0),
	);
	return &this->public;
}
