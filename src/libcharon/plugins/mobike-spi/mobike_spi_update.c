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
#include <collections/linked_list.h>
#include <threading/mutex.h>

typedef struct private_mobike_spi_update_listener_t
	private_mobike_spi_update_listener_t;

/**
 * Private data of a mobike_spi_update_listener_t object.
 */
struct private_mobike_spi_update_listener_t {

	/**
	 * Public interface.
	 */
	mobike_spi_update_listener_t public;

	/**
	 * Plugin settings
	 */
	mobike_spi_settings_t *settings;

	/**
	 * Answers to add to responses, answer_t
	 */
	linked_list_t *answers;

	/**
	 * Lock for answers
	 */
	mutex_t *mutex;
};

/**
 * Notifies for the response to a request
 */
typedef struct {
	/** unique ID of the IKE_SA */
	u_int ike_id;
	/** message ID of the request */
	uint32_t mid;
	/** notify_payload_t to add */
	array_t *notifies;
} answer_t;

static void answer_destroy(answer_t *answer)
{
	array_destroy_offset(answer->notifies, offsetof(payload_t, destroy));
	free(answer);
}

static void answer_destroy_if(answer_t *answer)
{
	if (answer)
	{
		answer_destroy(answer);
	}
}

/**
 * The SPI field of a notify, for logging
 */
static uint32_t notify_spi(notify_payload_t *notify)
{
	return ntohl(notify->get_spi(notify));
}

/**
 * Remove the answer of an IKE_SA, with a message ID or any (mid 0)
 */
static answer_t *remove_answer(private_mobike_spi_update_listener_t *this,
							   u_int ike_id, uint32_t mid, bool any)
{
	enumerator_t *enumerator;
	answer_t *answer, *found = NULL;

	this->mutex->lock(this->mutex);
	enumerator = this->answers->create_enumerator(this->answers);
	while (enumerator->enumerate(enumerator, &answer))
	{
		if (answer->ike_id == ike_id && (any || answer->mid == mid))
		{
			this->answers->remove_at(this->answers, enumerator);
			found = answer;
			break;
		}
	}
	enumerator->destroy(enumerator);
	this->mutex->unlock(this->mutex);
	return found;
}

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
static char *check(private_mobike_spi_update_listener_t *this,
				   ike_sa_t *ike_sa, request_t *req, array_t *checked)
{
	enumerator_t *enumerator;
	child_sa_t *child_sa;
	request_t *other;
	bool initiator;

	initiator = ike_sa->has_condition(ike_sa, COND_ORIGINAL_INITIATOR);
	/* D names the owner: the SPI we chose is the one we receive with */
	req->inbound = req->update.responder != initiator;
	if (req->update.protocol == PROTO_IKE)
	{
		return check_ike(ike_sa, req, checked);
	}
	enumerator = ike_sa->create_child_sa_enumerator(ike_sa);
	while (enumerator->enumerate(enumerator, &child_sa))
	{
		if (child_sa->get_protocol(child_sa) == req->update.protocol &&
			child_sa->get_state(child_sa) == CHILD_INSTALLED &&
			child_sa->get_spi(child_sa, req->inbound) == req->update.spi)
		{
			req->child_sa = child_sa;
			break;
		}
	}
	enumerator->destroy(enumerator);
	if (!req->child_sa)
	{
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
							ike_sa->get_my_host(ike_sa), ike_sa,
							req->child_sa))
	{
		return "new inbound SPI in use here";
	}
	return NULL;
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
	{	/* the manager takes the new ID on checkin, the response has it */
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
 * Process the UPDATE_SPI notifies of a request: all or nothing
 */
static void process_request(private_mobike_spi_update_listener_t *this,
							ike_sa_t *ike_sa, message_t *message)
{
	enumerator_t *enumerator;
	payload_t *payload;
	notify_payload_t *notify;
	array_t *requests, *failed;
	request_t *req;
	answer_t *answer;
	char *why;

	if (!this->settings->get_announce(this->settings))
	{	/* as if we never heard of it, as we told the peer */
		if (message->get_notify(message, MOBIKE_SPI_UPDATE_SPI))
		{
			DBG1(DBG_IKE, "mobike-spi: ignoring UPDATE_SPI from '%Y', support "
				 "disabled", ike_sa->get_other_id(ike_sa));
		}
		return;
	}
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
			why = check(this, ike_sa, req, requests);
		}
		if (why)
		{
			DBG1(DBG_IKE, "mobike-spi: rejecting UPDATE_SPI (%N SPI %.8x) "
				 "from '%Y': %s", protocol_id_names,
				 notify->get_protocol_id(notify),
				 notify_spi(notify),
				 ike_sa->get_other_id(ike_sa), why);
			array_insert(failed, ARRAY_TAIL, req);
		}
		else
		{
			array_insert(requests, ARRAY_TAIL, req);
		}
	}
	enumerator->destroy(enumerator);
	if (!array_count(requests) && !array_count(failed))
	{
		array_destroy(requests);
		array_destroy(failed);
		return;
	}

	INIT(answer,
		.ike_id = ike_sa->get_unique_id(ike_sa),
		.mid = message->get_message_id(message),
		.notifies = array_create(0, 0),
	);
	if (array_count(failed))
	{
		while (array_remove(failed, ARRAY_HEAD, &req))
		{
			array_insert(answer->notifies, ARRAY_TAIL,
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
			if (apply(ike_sa, req))
			{
				array_insert(answer->notifies, ARRAY_TAIL,
							 mobike_spi_notify_build(&req->update));
			}
			else
			{
				array_insert(answer->notifies, ARRAY_TAIL,
							 mobike_spi_notify_failed(req->notify));
			}
			free(req);
		}
	}
	array_destroy_function(requests, (void*)free, NULL);
	array_destroy_function(failed, (void*)free, NULL);

	/* a new request replaces an older answer never sent */
	answer_destroy_if(remove_answer(this, answer->ike_id, 0, TRUE));
	this->mutex->lock(this->mutex);
	this->answers->insert_last(this->answers, answer);
	this->mutex->unlock(this->mutex);
}

/**
 * Add the answer to the response of its request
 */
static void build_response(private_mobike_spi_update_listener_t *this,
						   ike_sa_t *ike_sa, message_t *message)
{
	answer_t *answer;
	payload_t *payload;

	answer = remove_answer(this, ike_sa->get_unique_id(ike_sa),
						   message->get_message_id(message), FALSE);
	if (answer)
	{
		while (array_remove(answer->notifies, ARRAY_HEAD, &payload))
		{
			message->add_payload(message, payload);
		}
		answer_destroy(answer);
	}
}

/**
 * Announce support in our first IKE_AUTH message, note the peer's
 */
static void announce(private_mobike_spi_update_listener_t *this,
					 ike_sa_t *ike_sa, message_t *message, bool incoming)
{
	if (incoming)
	{
		if (message->get_notify(message, MOBIKE_SPI_UPDATE_SPI_SUPPORTED) &&
			!ike_sa->supports_extension(ike_sa, MOBIKE_SPI_EXT_PEER))
		{
			DBG1(DBG_IKE, "mobike-spi: peer supports UPDATE_SPI");
			ike_sa->enable_extension(ike_sa, MOBIKE_SPI_EXT_PEER);
		}
	}
	else if (this->settings->get_announce(this->settings) &&
			 (message->get_payload(message, PLV2_ID_INITIATOR) ||
			  message->get_payload(message, PLV2_ID_RESPONDER)))
	{	/* the message with our identity comes once */
		message->add_notify(message, FALSE, MOBIKE_SPI_UPDATE_SPI_SUPPORTED,
							chunk_empty);
	}
}

METHOD(listener_t, message_hook, bool,
	private_mobike_spi_update_listener_t *this, ike_sa_t *ike_sa,
	message_t *message, bool incoming, bool plain)
{
	if (!plain || !ike_sa)
	{
		return TRUE;
	}
	switch (message->get_exchange_type(message))
	{
		case IKE_AUTH:
			announce(this, ike_sa, message, incoming);
			break;
		case INFORMATIONAL:
			if (incoming && message->get_request(message))
			{
				process_request(this, ike_sa, message);
			}
			else if (!incoming && !message->get_request(message))
			{
				build_response(this, ike_sa, message);
			}
			break;
		default:
			break;
	}
	return TRUE;
}

METHOD(listener_t, ike_state_change, bool,
	private_mobike_spi_update_listener_t *this, ike_sa_t *ike_sa,
	ike_sa_state_t state)
{
	if (state == IKE_DESTROYING)
	{
		answer_destroy_if(remove_answer(this, ike_sa->get_unique_id(ike_sa),
										0, TRUE));
	}
	return TRUE;
}

METHOD(mobike_spi_update_listener_t, destroy, void,
	private_mobike_spi_update_listener_t *this)
{
	this->answers->destroy_function(this->answers, (void*)answer_destroy);
	this->mutex->destroy(this->mutex);
	free(this);
}

/*
 * Described in header
 */
mobike_spi_update_listener_t *mobike_spi_update_listener_create(
											mobike_spi_settings_t *settings)
{
	private_mobike_spi_update_listener_t *this;

	INIT(this,
		.public = {
			.listener = {
				.message = _message_hook,
				.ike_state_change = _ike_state_change,
			},
			.destroy = _destroy,
		},
		.settings = settings,
		.answers = linked_list_create(),
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
	);
	return &this->public;
}
