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

#include <test_suite.h>

#include <inttypes.h>

#include <daemon.h>
#include <sa/ikev2/task_manager_v2.h>
#include <encoding/payloads/delete_payload.h>
#include <tests/utils/exchange_test_helper.h>
#include <tests/utils/exchange_test_asserts.h>

#include "../../mobike_spi_nar.h"
#include "../../mobike_spi_sad.h"
#include "../../mobike_spi_notify.h"
#include "../../mobike_spi_provider.h"
#include "../mobike_spi_test_task.h"

/**
 * The gateway's side (b) and the mobile node's (a), sharing settings
 */
static mobike_spi_settings_t *settings;
static mobike_spi_provider_t *provider;
static mobike_spi_nar_t *nar;

/**
 * Records every plaintext message as bus listeners see it, before and after
 * all others: no listener may change what a task built or received
 */
typedef struct {
	listener_t listener;
	array_t *seen;
} recorder_t;

static recorder_t first, last;

/**
 * A message's header SPIs, payloads, notifies and SPIs, as a string
 */
static char *describe(message_t *message, bool incoming)
{
	enumerator_t *enumerator, *spis;
	ike_sa_id_t *id = message->get_ike_sa_id(message);
	notify_payload_t *notify;
	delete_payload_t *delete;
	payload_t *payload;
	char buf[2048];
	chunk_t data;
	int len;
	uint32_t spi;

	len = snprintf(buf, sizeof(buf), "%s %N %s %.16"PRIx64"_%.16"PRIx64":",
				   incoming ? "in" : "out", exchange_type_names,
				   message->get_exchange_type(message),
				   message->get_request(message) ? "request" : "response",
				   id->get_initiator_spi(id), id->get_responder_spi(id));
	enumerator = message->create_payload_enumerator(message);
	while (enumerator->enumerate(enumerator, &payload))
	{
		len += snprintf(buf + len, sizeof(buf) - len, " %N",
						payload_type_short_names, payload->get_type(payload));
		if (payload->get_type(payload) == PLV2_NOTIFY)
		{
			notify = (notify_payload_t*)payload;
			data = notify->get_notification_data(notify);
			len += snprintf(buf + len, sizeof(buf) - len, "(%d %.8x %#B)",
							notify->get_notify_type(notify),
							notify->get_spi(notify), &data);
		}
		else if (payload->get_type(payload) == PLV2_DELETE)
		{
			delete = (delete_payload_t*)payload;
			spis = delete->create_spi_enumerator(delete);
			while (spis->enumerate(spis, &spi))
			{
				len += snprintf(buf + len, sizeof(buf) - len, "(%.8x)", spi);
			}
			spis->destroy(spis);
		}
		ck_assert(len < sizeof(buf));
	}
	enumerator->destroy(enumerator);
	return strdup(buf);
}

METHOD(listener_t, record, bool,
	recorder_t *this, ike_sa_t *ike_sa, message_t *message, bool incoming,
	bool plain)
{
	if (plain && message->get_ike_sa_id(message))
	{
		array_insert(this->seen, ARRAY_TAIL, describe(message, incoming));
	}
	return TRUE;
}

/**
 * Assert that both recorders saw the same messages, and some
 */
static void assert_unchanged()
{
	char *a, *b;
	int i;

	ck_assert(array_count(first.seen));
	ck_assert_int_eq(array_count(first.seen), array_count(last.seen));
	for (i = 0; i < array_count(first.seen); i++)
	{
		array_get(first.seen, i, &a);
		array_get(last.seen, i, &b);
		ck_assert_str_eq(a, b);
	}
}

START_SETUP(setup)
{
	lib->settings->set_str(lib->settings, "%s.plugins.mobike-spi.announce",
						   "yes", lib->ns);
	lib->settings->set_str(lib->settings,
						   "%s.plugins.mobike-spi.max_round_trips", "3",
						   lib->ns);
	/* the MOBIKE update at once, each test runs its exchanges itself */
	lib->settings->set_str(lib->settings,
						   "%s.plugins.mobike-spi.update_delay", "0", lib->ns);
	first = (recorder_t){
		.listener = {
			.message = _record,
		},
		.seen = array_create(0, 0),
	};
	last = first;
	last.seen = array_create(0, 0);
	charon->bus->add_listener(charon->bus, &first.listener);
	settings = mobike_spi_settings_create();
	provider = mobike_spi_provider_create(settings);
	nar = mobike_spi_nar_create(settings);
	task_manager_v2_add_provider(&provider->provider);
	task_manager_v2_add_provider(&nar->provider);
	charon->bus->add_listener(charon->bus, &nar->listener);
	charon->bus->add_listener(charon->bus, &last.listener);
}
END_SETUP

START_TEARDOWN(teardown)
{
	charon->bus->remove_listener(charon->bus, &last.listener);
	charon->bus->remove_listener(charon->bus, &nar->listener);
	charon->bus->remove_listener(charon->bus, &first.listener);
	task_manager_v2_remove_provider(&nar->provider);
	task_manager_v2_remove_provider(&provider->provider);
	nar->destroy(nar);
	provider->destroy(provider);
	settings->destroy(settings);
	array_destroy_function(first.seen, (void*)free, NULL);
	array_destroy_function(last.seen, (void*)free, NULL);
}
END_TEARDOWN

/* the mock kernel hands out SPI 1 to a (initiator), 2 to b, then 3, 4... */
#define SPI_A 1
#define SPI_B 2

/**
 * The only installed CHILD_SA of an IKE_SA
 */
static child_sa_t *child(ike_sa_t *ike_sa)
{
	enumerator_t *enumerator;
	child_sa_t *child_sa, *found = NULL;

	enumerator = ike_sa->create_child_sa_enumerator(ike_sa);
	while (enumerator->enumerate(enumerator, &child_sa))
	{
		if (child_sa->get_state(child_sa) == CHILD_INSTALLED)
		{
			ck_assert(!found);
			found = child_sa;
		}
	}
	enumerator->destroy(enumerator);
	ck_assert(found);
	return found;
}

/**
 * Install b's CHILD_SA again as cxtp does with a transferred one, the
 * inbound SPI of the hook's choice: the old CHILD_SA is what the SAD holds
 * when the hook checks for collisions, then the new one replaces it
 */
static uint32_t transfer_child(ike_sa_t *b)
{
	child_sa_t *old, *new;
	linked_list_t *my_ts, *other_ts;
	chunk_t key = chunk_from_chars(0x01,0x02,0x03,0x04,0x05,0x06,0x07,0x08,
								   0x09,0x0a,0x0b,0x0c,0x0d,0x0e,0x0f,0x10);
	uint32_t in, out, spi;

	old = child(b);
	in = old->get_spi(old, TRUE);
	out = old->get_spi(old, FALSE);
	new = child_sa_create(b->get_my_host(b), b->get_other_host(b),
						  old->get_config(old), &(child_sa_create_t){});
	new->set_mode(new, old->get_mode(old));
	new->set_protocol(new, PROTO_ESP);
	new->set_proposal(new, old->get_proposal(old));
	my_ts = linked_list_create_from_enumerator(
									old->create_ts_enumerator(old, TRUE));
	other_ts = linked_list_create_from_enumerator(
									old->create_ts_enumerator(old, FALSE));
	new->set_policies(new, my_ts, other_ts);
	my_ts->destroy(my_ts);
	other_ts->destroy(other_ts);
	new->set_state(new, CHILD_INSTALLING);

	charon->bus->set_sa(charon->bus, b);
	spi = nar->hook.get_inbound_spi(&nar->hook, b, new, in, out);
	if (spi)
	{
		b->destroy_child_sa(b, PROTO_ESP, in);
		ck_assert(new->install(new, key, chunk_empty, spi, 0, FALSE, TRUE,
							   TRUE) == SUCCESS);
		ck_assert(new->install(new, key, chunk_empty, out, 0, FALSE, FALSE,
							   TRUE) == SUCCESS);
		ck_assert(new->install_policies(new) == SUCCESS);
		new->set_state(new, CHILD_INSTALLED);
		b->add_child_sa(b, new);
	}
	else
	{
		new->destroy(new);
	}
	charon->bus->set_sa(charon->bus, NULL);
	return spi;
}

/**
 * Let b activate its IKE_SA after a transfer, on a's own IKE request or not:
 * the hook sees the MOBIKE extension and starts round 1 if needed
 */
static void activated_by(ike_sa_t *a, ike_sa_t *b, bool by_peer)
{
	a->enable_extension(a, EXT_MOBIKE);
	b->enable_extension(b, EXT_MOBIKE);
	charon->bus->set_sa(charon->bus, b);
	nar->hook.activated(&nar->hook, b, by_peer);
	charon->bus->set_sa(charon->bus, NULL);
}

/**
 * Let b activate its IKE_SA after a transfer (a CTAR): round 1 starts
 */
static void activated(ike_sa_t *a, ike_sa_t *b)
{
	activated_by(a, b, FALSE);
}

/**
 * b activates a context whose inbound SPI collides: installed under the
 * fresh SPI the kernel allocated, then round 1 starts
 */
static uint32_t activate(ike_sa_t *a, ike_sa_t *b)
{
	uint32_t spi;

	spi = transfer_child(b);
	ck_assert(spi && spi != SPI_B);
	activated(a, b);
	return spi;
}

/**
 * One round trip: the request with UPDATE_SPI to a, the answer to b
 */
static void round_trip(ike_sa_t *a, ike_sa_t *b, bool update_spi)
{
	/* INFORMATIONAL { N(UPD_SA_ADDR), N(COOKIE2), N(NATD_*), N(UPDATE_SPI) } */
	assert_notify(IN, UPDATE_SA_ADDRESSES);
	if (update_spi)
	{
		assert_notify(IN, MOBIKE_SPI_UPDATE_SPI);
	}
	else
	{
		assert_no_notify(IN, MOBIKE_SPI_UPDATE_SPI);
	}
	exchange_test_helper->process_message(exchange_test_helper, a, NULL);
	/* <-- INFORMATIONAL { N(COOKIE2), N(NATD_*), [N(UPDATE_SPI)] } */
	exchange_test_helper->process_message(exchange_test_helper, b, NULL);
}

/**
 * Assert that nothing more is sent
 */
static void assert_quiet()
{
	ck_assert(exchange_test_helper->sender->dequeue(
									exchange_test_helper->sender) == NULL);
}

START_TEST(test_resolved)
{
	ike_sa_t *a, *b;
	uint32_t spi;

	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, NULL);
	ck_assert(b->supports_extension(b, MOBIKE_SPI_EXT_PEER));
	spi = activate(a, b);
	/* the peer still knows it by the transferred SPI */
	ck_assert_int_eq(child(b)->get_announced_spi(child(b)), SPI_B);
	round_trip(a, b, TRUE);
	/* a sends under b's new inbound SPI, nothing else is asked */
	ck_assert_int_eq(child(a)->get_spi(child(a), FALSE), spi);
	ck_assert_int_eq(child(b)->get_spi(child(b), TRUE), spi);
	ck_assert_int_eq(child(b)->get_announced_spi(child(b)), spi);
	assert_quiet();
	ck_assert(b->get_state(b) == IKE_ESTABLISHED);
	assert_unchanged();
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
}
END_TEST

START_TEST(test_retries)
{
	ike_sa_t *a, *b;
	uint32_t first_spi, spi;
	int i;

	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, NULL);
	first_spi = activate(a, b);
	/* a announced UPDATE_SPI, but then ignores it */
	lib->settings->set_str(lib->settings, "%s.plugins.mobike-spi.announce",
						   "no", lib->ns);
	settings->reload(settings);
	for (i = 1; i <= 3; i++)
	{
		round_trip(a, b, TRUE);
		/* the retries come with new SPIs, the last round with none */
		spi = child(b)->get_spi(child(b), TRUE);
		ck_assert(i == 3 ? spi == first_spi : spi != first_spi);
		first_spi = spi;
		ck_assert_int_eq(child(a)->get_spi(child(a), FALSE), SPI_B);
		ck_assert_int_eq(child(b)->get_announced_spi(child(b)), SPI_B);
	}
	/* after MAX_ROUND_TRIPS, b deletes the IKE_SA: INFORMATIONAL { D } */
	assert_single_payload(IN, PLV2_DELETE);
	exchange_test_helper->process_message(exchange_test_helper, a, NULL);
	ck_assert(exchange_test_helper->process_message(exchange_test_helper, b,
													NULL) == DESTROY_ME);
	assert_unchanged();
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
}
END_TEST

START_TEST(test_retry_resolves)
{
	ike_sa_t *a, *b;

	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, NULL);
	activate(a, b);
	lib->settings->set_str(lib->settings, "%s.plugins.mobike-spi.announce",
						   "no", lib->ns);
	settings->reload(settings);
	round_trip(a, b, TRUE);
	/* a processes UPDATE_SPI again: the second round resolves it */
	lib->settings->set_str(lib->settings, "%s.plugins.mobike-spi.announce",
						   "yes", lib->ns);
	settings->reload(settings);
	round_trip(a, b, TRUE);
	ck_assert_int_eq(child(a)->get_spi(child(a), FALSE),
					 child(b)->get_spi(child(b), TRUE));
	assert_quiet();
	assert_unchanged();
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
}
END_TEST

START_TEST(test_no_collision)
{
	ike_sa_t *a, *b;

	/* no collision: the MOBIKE update alone, SPIs as transferred */
	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, NULL);
	activated(a, b);
	round_trip(a, b, FALSE);
	assert_quiet();
	assert_unchanged();
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
}
END_TEST

START_TEST(test_activated_by_peer)
{
	ike_sa_t *a, *b;

	/* a's own request (its MOBIKE probe or update) activated it: a updates
	 * the addresses itself, no update of b's */
	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, NULL);
	activated_by(a, b, TRUE);
	assert_quiet();
	assert_unchanged();
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
}
END_TEST

START_TEST(test_activated_by_peer_collision)
{
	ike_sa_t *a, *b;
	uint32_t spi;

	/* a replaced SPI still needs b's round, whoever moved the IKE_SA */
	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, NULL);
	spi = transfer_child(b);
	ck_assert(spi && spi != SPI_B);
	activated_by(a, b, TRUE);
	round_trip(a, b, TRUE);
	assert_quiet();
	ck_assert_int_eq(child(b)->get_spi(child(b), TRUE), spi);
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
}
END_TEST

START_TEST(test_no_collision_spi)
{
	ike_sa_t *a, *b;
	child_sa_t *child_sa;

	/* the hook keeps an SPI nothing here uses */
	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, NULL);
	child_sa = child_sa_create(b->get_my_host(b), b->get_other_host(b),
							   child(b)->get_config(child(b)),
							   &(child_sa_create_t){});
	child_sa->set_protocol(child_sa, PROTO_ESP);
	charon->bus->set_sa(charon->bus, b);
	ck_assert_int_eq(nar->hook.get_inbound_spi(&nar->hook, b, child_sa,
											   htonl(0x7777), SPI_A),
					 htonl(0x7777));
	charon->bus->set_sa(charon->bus, NULL);
	child_sa->destroy(child_sa);
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
}
END_TEST

START_TEST(test_no_collision_delayed)
{
	ike_sa_t *a, *b;

	/* without a collision, the update leaves the access link to the
	 * resumed traffic first */
	lib->settings->set_str(lib->settings,
						   "%s.plugins.mobike-spi.update_delay", "100",
						   lib->ns);
	settings->reload(settings);
	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, NULL);
	activated(a, b);
	assert_quiet();
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
}
END_TEST

/**
 * Hands out no SPI, as a kernel whose SPI range is exhausted
 */
static status_t (*get_spi_real)(kernel_interface_t *this, host_t *src,
								host_t *dst, uint8_t protocol, uint32_t *spi);

static status_t get_spi_exhausted(kernel_interface_t *this, host_t *src,
								  host_t *dst, uint8_t protocol, uint32_t *spi)
{
	return FAILED;
}

static void exhaust(bool exhausted)
{
	if (exhausted)
	{
		get_spi_real = charon->kernel->get_spi;
		charon->kernel->get_spi = get_spi_exhausted;
	}
	else if (get_spi_real)
	{
		charon->kernel->get_spi = get_spi_real;
		get_spi_real = NULL;
	}
}

START_TEARDOWN(teardown_exhausted)
{
	exhaust(FALSE);
	teardown(_i);
}
END_TEARDOWN

START_TEST(test_exhausted_activation)
{
	ike_sa_t *a, *b;

	/* no SPI to install a colliding inbound SA with: the activation fails
	 * and nothing is left to resolve */
	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, NULL);
	exhaust(TRUE);
	ck_assert_int_eq(transfer_child(b), 0);
	exhaust(FALSE);
	charon->bus->set_sa(charon->bus, b);
	nar->hook.activated(&nar->hook, b, FALSE);
	charon->bus->set_sa(charon->bus, NULL);
	round_trip(a, b, FALSE);
	ck_assert_int_eq(child(b)->get_spi(child(b), TRUE), SPI_B);
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
}
END_TEST

START_TEST(test_exhausted_round)
{
	ike_sa_t *a, *b;
	uint32_t spi;

	/* no fresh SPI for round 2: it asks for the same one again, and after
	 * MAX_ROUND_TRIPS b falls back as usual */
	lib->settings->set_str(lib->settings,
						   "%s.plugins.mobike-spi.max_round_trips", "2",
						   lib->ns);
	settings->reload(settings);
	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, NULL);
	spi = activate(a, b);
	lib->settings->set_str(lib->settings, "%s.plugins.mobike-spi.announce",
						   "no", lib->ns);
	settings->reload(settings);
	exhaust(TRUE);
	round_trip(a, b, TRUE);
	ck_assert_int_eq(child(b)->get_spi(child(b), TRUE), spi);
	round_trip(a, b, TRUE);
	ck_assert_int_eq(child(b)->get_spi(child(b), TRUE), spi);
	assert_single_payload(IN, PLV2_DELETE);
	exchange_test_helper->process_message(exchange_test_helper, a, NULL);
	ck_assert(exchange_test_helper->process_message(exchange_test_helper, b,
													NULL) == DESTROY_ME);
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
}
END_TEST

/**
 * SPIs the mobile node gets named in REKEY_SA and DELETE
 */
static struct {
	listener_t listener;
	uint32_t rekey_sa;
	uint32_t deleted;
	int not_found;
} named;

METHOD(listener_t, record_named, bool,
	listener_t *this, ike_sa_t *ike_sa, message_t *message, bool incoming,
	bool plain)
{
	enumerator_t *enumerator, *spis;
	notify_payload_t *notify;
	payload_t *payload;
	uint32_t spi;

	if (!plain || !incoming)
	{
		return TRUE;
	}
	enumerator = message->create_payload_enumerator(message);
	while (enumerator->enumerate(enumerator, &payload))
	{
		if (payload->get_type(payload) == PLV2_NOTIFY)
		{
			notify = (notify_payload_t*)payload;
			switch (notify->get_notify_type(notify))
			{
				case REKEY_SA:
					named.rekey_sa = notify->get_spi(notify);
					break;
				case CHILD_SA_NOT_FOUND:
					named.not_found++;
					break;
				default:
					break;
			}
		}
		else if (payload->get_type(payload) == PLV2_DELETE &&
				 message->get_request(message))
		{
			spis = ((delete_payload_t*)payload)->create_spi_enumerator(
												(delete_payload_t*)payload);
			while (spis->enumerate(spis, &spi))
			{
				named.deleted = spi;
			}
			spis->destroy(spis);
		}
	}
	enumerator->destroy(enumerator);
	return TRUE;
}

START_TEST(test_rekey_fallback)
{
	ike_sa_t *a, *b;
	uint32_t spi;

	/* a does not announce UPDATE_SPI: b rekeys the CHILD_SA instead, named
	 * by the SPI a knows */
	lib->settings->set_str(lib->settings, "%s.plugins.mobike-spi.announce",
						   "no", lib->ns);
	settings->reload(settings);
	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, NULL);
	ck_assert(!b->supports_extension(b, MOBIKE_SPI_EXT_PEER));
	named = (typeof(named)){
		.listener = {
			.message = _record_named,
		},
	};
	exchange_test_helper->add_listener(exchange_test_helper, &named.listener);
	spi = activate(a, b);
	round_trip(a, b, FALSE);
	/* CREATE_CHILD_SA { N(REKEY_SA), SA, No, TSi, TSr } --> */
	assert_notify(IN, REKEY_SA);
	exchange_test_helper->process_message(exchange_test_helper, a, NULL);
	ck_assert_int_eq(named.rekey_sa, SPI_B);
	/* <-- CREATE_CHILD_SA { SA, No, TSi, TSr } */
	exchange_test_helper->process_message(exchange_test_helper, b, NULL);
	/* INFORMATIONAL { D } --> the old CHILD_SA as a knows it */
	exchange_test_helper->process_message(exchange_test_helper, a, NULL);
	ck_assert_int_eq(named.deleted, SPI_B);
	/* <-- INFORMATIONAL { D } */
	exchange_test_helper->process_message(exchange_test_helper, b, NULL);
	ck_assert_int_eq(named.not_found, 0);
	/* both use the new CHILD_SA's SPIs, the colliding one is gone */
	ck_assert_int_eq(child(a)->get_spi(child(a), FALSE),
					 child(b)->get_spi(child(b), TRUE));
	ck_assert_int_eq(child(b)->get_spi(child(b), FALSE),
					 child(a)->get_spi(child(a), TRUE));
	ck_assert(child(b)->get_spi(child(b), TRUE) != spi);
	ck_assert(child(b)->get_spi(child(b), TRUE) != SPI_B);
	assert_quiet();
	assert_unchanged();
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
}
END_TEST

/**
 * The IKE_SA b imports lands on SPIs an IKE_SA registered here uses: c
 */
static ike_sa_t *colliding_ike_sa(ike_sa_t *b)
{
	ike_sa_id_t *id = b->get_id(b);
	ike_sa_t *c;

	c = charon->ike_sa_manager->create_new(charon->ike_sa_manager, IKEV2,
										   FALSE);
	c->get_id(c)->set_initiator_spi(c->get_id(c), id->get_initiator_spi(id));
	c->get_id(c)->set_responder_spi(c->get_id(c), id->get_responder_spi(id));
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, c);
	charon->bus->set_sa(charon->bus, NULL);
	return c;
}

static void destroy_colliding(ike_sa_t *c)
{
	c = charon->ike_sa_manager->checkout(charon->ike_sa_manager,
										 c->get_id(c));
	ck_assert(c);
	charon->ike_sa_manager->checkin_and_destroy(charon->ike_sa_manager, c);
}

START_TEST(test_ike_spi)
{
	ike_sa_t *a, *b, *c;
	ike_sa_id_t *id;
	uint64_t old, new;

	/* b imports the IKE_SA under a new SPI of its own, addresses the MOBIKE
	 * update to the one a knows, and a takes the new one */
	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, NULL);
	c = colliding_ike_sa(b);
	id = b->get_id(b)->clone(b->get_id(b));
	old = id->get_responder_spi(id);
	nar->hook.import_ike_sa(&nar->hook, id, b->get_other_id(b),
							MOBIKE_SPI_EXT_PEER);
	new = id->get_responder_spi(id);
	ck_assert(new != old);
	ck_assert(id->get_initiator_spi(id) ==
			  b->get_id(b)->get_initiator_spi(b->get_id(b)));
	/* as cxtp would import it */
	b->get_id(b)->set_responder_spi(b->get_id(b), new);
	id->destroy(id);
	activated(a, b);
	/* the MOBIKE update goes to a under the SPIs it knows */
	assert_notify(IN, MOBIKE_SPI_UPDATE_SPI);
	ck_assert(exchange_test_helper->process_message(exchange_test_helper, a,
													NULL) == SUCCESS);
	ck_assert(a->get_id(a)->get_responder_spi(a->get_id(a)) == new);
	/* the answer comes under the new ones */
	ck_assert(exchange_test_helper->process_message(exchange_test_helper, b,
													NULL) == SUCCESS);
	assert_quiet();
	/* later requests carry b's own SPIs */
	call_ikesa(b, send_dpd);
	exchange_test_helper->process_message(exchange_test_helper, a, NULL);
	exchange_test_helper->process_message(exchange_test_helper, b, NULL);
	ck_assert_int_eq(a->get_message_id(a, FALSE), b->get_message_id(b, TRUE));
	assert_unchanged();
	destroy_colliding(c);
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
}
END_TEST

START_TEST(test_ike_spi_refused)
{
	ike_sa_t *a, *b, *c;
	ike_sa_id_t *id;

	/* a peer without UPDATE_SPI could not be told a new IKE SPI: the
	 * context keeps its SPIs and cxtp refuses it, nothing is pending */
	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, NULL);
	c = colliding_ike_sa(b);
	id = b->get_id(b)->clone(b->get_id(b));
	nar->hook.import_ike_sa(&nar->hook, id, b->get_other_id(b), 0);
	ck_assert(id->equals(id, b->get_id(b)));
	id->destroy(id);
	activated(a, b);
	round_trip(a, b, FALSE);
	assert_quiet();
	destroy_colliding(c);
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
}
END_TEST

/**
 * Holds back the job scheduled with TIMER's delay, so a test runs it when it
 * wants; other jobs go to the real scheduler (no thread runs them here)
 */
typedef struct {
	scheduler_t public;
	scheduler_t *real;
	job_t *job;
	uint32_t ms;
} mock_scheduler_t;

static mock_scheduler_t mock_scheduler;

#define TIMER_S 7

METHOD(scheduler_t, schedule_job_ms, void,
	mock_scheduler_t *this, job_t *job, uint32_t ms)
{
	if (ms == TIMER_S * 1000)
	{
		ck_assert(!this->job);
		this->job = job;
		this->ms = ms;
		return;
	}
	this->real->schedule_job_ms(this->real, job, ms);
}

METHOD(scheduler_t, schedule_job, void,
	mock_scheduler_t *this, job_t *job, uint32_t s)
{
	schedule_job_ms(this, job, s * 1000);
}

/**
 * Run the held TIMER job, as the scheduler would when it expires
 */
static void expire_timer()
{
	job_t *job = mock_scheduler.job;

	ck_assert(job);
	mock_scheduler.job = NULL;
	job->execute(job);
	job->destroy(job);
}

START_SETUP(setup_timer)
{
	setup(_i);
	lib->settings->set_str(lib->settings, "%s.plugins.mobike-spi.timer",
						   "7s", lib->ns);
	settings->reload(settings);
	mock_scheduler = (mock_scheduler_t){
		.public = {
			.schedule_job = _schedule_job,
			.schedule_job_ms = _schedule_job_ms,
		},
		.real = lib->scheduler,
	};
	lib->scheduler = &mock_scheduler.public;
}
END_SETUP

START_TEARDOWN(teardown_timer)
{
	lib->scheduler = mock_scheduler.real;
	if (mock_scheduler.job)
	{
		mock_scheduler.job->destroy(mock_scheduler.job);
	}
	teardown(_i);
}
END_TEARDOWN

/**
 * The gateway's IKE_SA goes to the IKE_SA manager, where the TIMER job looks
 * for it by its unique ID
 */
static u_int register_sa(ike_sa_t *b)
{
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, b);
	return b->get_unique_id(b);
}

/**
 * Take the gateway's IKE_SA back from the IKE_SA manager, if it is there
 */
static ike_sa_t *unregister_sa(u_int id)
{
	ike_sa_t *b;

	b = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager, id);
	if (b)
	{
		charon->ike_sa_manager->checkin_and_destroy(charon->ike_sa_manager,
													b);
	}
	return b;
}

START_TEST(test_timer_expired)
{
	ike_sa_t *a, *b;
	message_t *message;
	u_int id;

	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, NULL);
	id = register_sa(b);
	b = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager, id);
	activate(a, b);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, b);
	ck_assert_int_eq(mock_scheduler.ms, TIMER_S * 1000);
	/* round 1 went out, but the mobile node never answers it */
	assert_notify(IN, MOBIKE_SPI_UPDATE_SPI);
	message = exchange_test_helper->sender->dequeue(
											exchange_test_helper->sender);
	message->destroy(message);
	expire_timer();
	/* the gateway fell back: its IKE_SA is gone */
	ck_assert(unregister_sa(id) == NULL);
	call_ikesa(a, destroy);
}
END_TEST

START_TEST(test_timer_resolved)
{
	ike_sa_t *a, *b;
	uint32_t spi;
	u_int id;

	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, NULL);
	id = register_sa(b);
	b = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager, id);
	spi = activate(a, b);
	round_trip(a, b, TRUE);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, b);
	/* TIMER expires after the collision was resolved: nothing happens */
	expire_timer();
	assert_quiet();
	b = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager, id);
	ck_assert(b);
	ck_assert(b->get_state(b) == IKE_ESTABLISHED);
	ck_assert_int_eq(child(b)->get_spi(child(b), TRUE), spi);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, b);
	ck_assert(unregister_sa(id) != NULL);
	call_ikesa(a, destroy);
}
END_TEST

/**
 * Changes the COOKIE2 in the mobile node's answer, as a task of a peer that
 * gets it wrong
 */
static task_provider_t cookie2_tamper;

/**
 * Flip a bit of the COOKIE2 the mobile node's ike_mobike added
 */
static status_t tamper_build(message_t *message)
{
	notify_payload_t *notify;
	chunk_t data;

	notify = message->get_notify(message, COOKIE2);
	ck_assert(notify);
	data = notify->get_notification_data(notify);
	ck_assert(data.len);
	data.ptr[0] ^= 0x01;
	return SUCCESS;
}

static status_t tamper_process(message_t *message)
{
	return NEED_MORE;
}

METHOD(task_provider_t, tamper_create_task, task_t*,
	task_provider_t *this, ike_sa_t *ike_sa, exchange_type_t exchange,
	bool initiator)
{
	if (exchange != INFORMATIONAL || initiator)
	{
		return NULL;
	}
	return mobike_spi_test_task_create(tamper_build, tamper_process);
}

START_TEST(test_cookie2_mismatch)
{
	ike_sa_t *a, *b;

	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, NULL);
	activate(a, b);
	cookie2_tamper = (task_provider_t){
		.create_task = _tamper_create_task,
	};
	task_manager_v2_add_provider(&cookie2_tamper);
	/* INFORMATIONAL { N(UPD_SA_ADDR), N(COOKIE2), ... } --> */
	assert_notify(IN, COOKIE2);
	exchange_test_helper->process_message(exchange_test_helper, a, NULL);
	task_manager_v2_remove_provider(&cookie2_tamper);
	/* <-- INFORMATIONAL { N(COOKIE2) changed, ... }: the gateway deletes */
	ck_assert(exchange_test_helper->process_message(exchange_test_helper, b,
													NULL) == DESTROY_ME);
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
}
END_TEST

/**
 * Ask the hook for the inbound SPI of a new CHILD_SA of b, as at an import
 */
static uint32_t inbound_spi(ike_sa_t *b, uint32_t spi_in, uint32_t spi_out)
{
	child_sa_t *child_sa;
	uint32_t spi;

	child_sa = child_sa_create(b->get_my_host(b), b->get_other_host(b),
							   child(b)->get_config(child(b)),
							   &(child_sa_create_t){});
	child_sa->set_protocol(child_sa, PROTO_ESP);
	charon->bus->set_sa(charon->bus, b);
	spi = nar->hook.get_inbound_spi(&nar->hook, b, child_sa, spi_in, spi_out);
	/* releases the SPI allocated for it, if any */
	child_sa->destroy(child_sa);
	charon->bus->set_sa(charon->bus, NULL);
	return spi;
}

START_TEST(test_sad_checked_out)
{
	ike_sa_t *a, *b, *c, *d;
	uint32_t taken, spi;

	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, NULL);
	/* another node's IKE_SA, checked out as the helper's all are: a walk
	 * over the IKE_SA manager skips it, the SAD holds its inbound SA */
	exchange_test_helper->establish_sa(exchange_test_helper, &c, &d, NULL);
	taken = child(d)->get_spi(child(d), TRUE);
	ck_assert(taken != SPI_A && taken != SPI_B);
	spi = inbound_spi(b, taken, SPI_A);
	ck_assert(spi && spi != taken);
	/* an SPI nobody holds is kept */
	ck_assert_int_eq(inbound_spi(b, htonl(0x7777), SPI_A), htonl(0x7777));
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
	call_ikesa(c, destroy);
	call_ikesa(d, destroy);
}
END_TEST

START_TEST(test_sad_allocated)
{
	ike_sa_t *a, *b;
	uint32_t taken, spi;

	/* an SPI a negotiation in progress allocated, no CHILD_SA has yet */
	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, NULL);
	charon->bus->set_sa(charon->bus, a);
	ck_assert(charon->kernel->get_spi(charon->kernel, b->get_other_host(b),
				b->get_my_host(b), IPPROTO_ESP, &taken) == SUCCESS);
	charon->bus->set_sa(charon->bus, NULL);
	spi = inbound_spi(b, taken, SPI_A);
	ck_assert(spi && spi != taken);
	charon->bus->set_sa(charon->bus, a);
	charon->kernel->del_sa(charon->kernel, &(kernel_ipsec_sa_id_t){
			.src = b->get_other_host(b),
			.dst = b->get_my_host(b),
			.spi = taken,
			.proto = IPPROTO_ESP,
		}, &(kernel_ipsec_del_sa_t){});
	charon->bus->set_sa(charon->bus, NULL);
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
}
END_TEST

/**
 * Resident IKE_SAs for the figure of the walk: 0, 1000, 10000
 */
static int resident[] = { 0, 1000, 10000 };

START_TEST(test_walk_resident)
{
	ike_sa_t *a, *b, *ike_sa;
	child_sa_t *child_sa;
	ike_sa_id_t **ids;
	timeval_t start, end;
	int i, n = resident[_i], checks = 100, collisions = 0;

	/* what the check cost before the SAD answered it, and what the mode
	 * "spi" still costs for a fresh SPI of a CHILD_SA (XFRM): a walk over
	 * every IKE_SA, each with a CHILD_SA; libipsec's test_query_spi_resident
	 * prints the SAD's figure */
	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, NULL);
	ids = calloc(max(n, 1), sizeof(ike_sa_id_t*));
	for (i = 0; i < n; i++)
	{
		ike_sa = charon->ike_sa_manager->create_new(charon->ike_sa_manager,
													IKEV2, FALSE);
		child_sa = child_sa_create(b->get_my_host(b), b->get_other_host(b),
								   child(b)->get_config(child(b)),
								   &(child_sa_create_t){});
		/* the mock kernel keeps the SPI by the thread's IKE_SA */
		charon->bus->set_sa(charon->bus, ike_sa);
		child_sa->alloc_spi(child_sa, PROTO_ESP);
		ike_sa->add_child_sa(ike_sa, child_sa);
		ids[i] = ike_sa->get_id(ike_sa);
		ids[i] = ids[i]->clone(ids[i]);
		charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	}
	charon->bus->set_sa(charon->bus, b);
	time_monotonic(&start);
	for (i = 0; i < checks; i++)
	{
		collisions += mobike_spi_sad_collides(MOBIKE_SPI_SAD_LOOKUP_SPI,
									PROTO_ESP, htonl(0x7777), b->get_my_host(b),
									b, child(b));
	}
	time_monotonic(&end);
	charon->bus->set_sa(charon->bus, NULL);
	timersub(&end, &start, &end);
	ck_assert_int_eq(collisions, 0);
	/* a figure, not an assertion */
	fprintf(stderr, "\n  walk over %5d resident IKE_SAs: %.3f us per check\n",
			n, (end.tv_sec * 1e6 + end.tv_usec) / checks);
	for (i = 0; i < n; i++)
	{
		ike_sa = charon->ike_sa_manager->checkout(charon->ike_sa_manager,
												  ids[i]);
		ck_assert(ike_sa);
		charon->ike_sa_manager->checkin_and_destroy(charon->ike_sa_manager,
													ike_sa);
		ids[i]->destroy(ids[i]);
	}
	free(ids);
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
}
END_TEST

Suite *nar_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("new access router");

	tc = tcase_create("Algorithm 1");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_no_collision);
	tcase_add_test(tc, test_no_collision_spi);
	tcase_add_test(tc, test_no_collision_delayed);
	tcase_add_test(tc, test_activated_by_peer);
	tcase_add_test(tc, test_activated_by_peer_collision);
	tcase_add_test(tc, test_resolved);
	tcase_add_test(tc, test_retries);
	tcase_add_test(tc, test_retry_resolves);
	tcase_add_test(tc, test_cookie2_mismatch);
	suite_add_tcase(s, tc);

	tc = tcase_create("exhausted SPI range");
	tcase_add_checked_fixture(tc, setup, teardown_exhausted);
	tcase_add_test(tc, test_exhausted_activation);
	tcase_add_test(tc, test_exhausted_round);
	suite_add_tcase(s, tc);

	tc = tcase_create("SAD lookup");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sad_checked_out);
	tcase_add_test(tc, test_sad_allocated);
	tcase_add_loop_test(tc, test_walk_resident, 0, countof(resident));
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);

	tc = tcase_create("rekey fallback");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_rekey_fallback);
	suite_add_tcase(s, tc);

	tc = tcase_create("IKE SPIs");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ike_spi);
	tcase_add_test(tc, test_ike_spi_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("TIMER");
	tcase_add_checked_fixture(tc, setup_timer, teardown_timer);
	tcase_add_test(tc, test_timer_expired);
	tcase_add_test(tc, test_timer_resolved);
	suite_add_tcase(s, tc);

	return s;
}
