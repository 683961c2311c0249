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

#include <daemon.h>
#include <sa/ikev2/task_manager_v2.h>
#include <sa/ikev2/tasks/ike_dpd.h>
#include <tests/utils/exchange_test_helper.h>
#include <tests/utils/exchange_test_asserts.h>

#include "../../mobike_spi_notify.h"
#include "../../mobike_spi_provider.h"
#include "../mobike_spi_test_task.h"

/**
 * The mobile node's side under test, shared by both IKE_SAs of a test
 */
static mobike_spi_settings_t *settings;
static mobike_spi_provider_t *provider;

/**
 * A gateway that adds crafted notifies to its next INFORMATIONAL request
 * with a task of its own, and counts what the response brings back
 */
typedef struct {
	task_provider_t provider;
	ike_sa_t *ike_sa;
	array_t *notifies;
	int echoed;
	int failed;
	mobike_spi_update_t echo;
	uint64_t header_r;
	uint64_t old_r;
	bool strip_vid;
	int stripped;
	int supported;
} craft_t;

static craft_t craft;

/**
 * Address the gateway's request as told, and add the crafted notifies
 */
static status_t craft_build(message_t *message)
{
	ike_sa_id_t *id;
	payload_t *payload;

	if (craft.old_r)
	{	/* as nAR does until the peer knows its new IKE SPI */
		id = craft.ike_sa->get_id(craft.ike_sa)->clone(
											craft.ike_sa->get_id(craft.ike_sa));
		id->set_responder_spi(id, craft.old_r);
		message->set_ike_sa_id(message, id);
		id->destroy(id);
	}
	while (array_remove(craft.notifies, ARRAY_HEAD, &payload))
	{
		message->add_payload(message, payload);
	}
	return NEED_MORE;
}

/**
 * Count the mobile node's answers
 */
static status_t craft_process(message_t *message)
{
	enumerator_t *enumerator;
	notify_payload_t *notify;
	payload_t *payload;

	craft.header_r = message->get_ike_sa_id(message)->get_responder_spi(
											message->get_ike_sa_id(message));
	enumerator = message->create_payload_enumerator(message);
	while (enumerator->enumerate(enumerator, &payload))
	{
		if (payload->get_type(payload) != PLV2_NOTIFY)
		{
			continue;
		}
		notify = (notify_payload_t*)payload;
		switch (notify->get_notify_type(notify))
		{
			case MOBIKE_SPI_UPDATE_SPI:
				ck_assert(!mobike_spi_notify_parse(notify, &craft.echo));
				craft.echoed++;
				break;
			case MOBIKE_SPI_UPDATE_SPI_FAILED:
				craft.failed++;
				break;
			default:
				break;
		}
	}
	enumerator->destroy(enumerator);
	return SUCCESS;
}

/**
 * As a responder that is not ours: remove the vendor IDs from IKE_SA_INIT,
 * count the UPDATE_SPI_SUPPORTED our task adds to IKE_AUTH anyway
 */
static status_t strip_build(message_t *message)
{
	enumerator_t *enumerator;
	payload_t *payload;

	if (message->get_exchange_type(message) == IKE_SA_INIT)
	{
		enumerator = message->create_payload_enumerator(message);
		while (enumerator->enumerate(enumerator, &payload))
		{
			if (payload->get_type(payload) == PLV2_VENDOR_ID)
			{
				message->remove_payload_at(message, enumerator);
				payload->destroy(payload);
				craft.stripped++;
			}
		}
		enumerator->destroy(enumerator);
		return NEED_MORE;
	}
	if (message->get_notify(message, MOBIKE_SPI_UPDATE_SPI_SUPPORTED))
	{
		craft.supported++;
	}
	return SUCCESS;
}

static status_t strip_process(message_t *message)
{
	return NEED_MORE;
}

METHOD(task_provider_t, craft_create_task, task_t*,
	task_provider_t *this, ike_sa_t *ike_sa, exchange_type_t exchange,
	bool initiator)
{
	if (craft.strip_vid && exchange == IKE_SA_INIT && !initiator)
	{
		return mobike_spi_test_task_create(strip_build, strip_process);
	}
	if (ike_sa != craft.ike_sa || exchange != INFORMATIONAL || !initiator)
	{
		return NULL;
	}
	return mobike_spi_test_task_create(craft_build, craft_process);
}

START_SETUP(setup)
{
	lib->settings->set_str(lib->settings, "%s.plugins.mobike-spi.announce",
						   "yes", lib->ns);
	settings = mobike_spi_settings_create();
	provider = mobike_spi_provider_create(settings);
	task_manager_v2_add_provider(&provider->provider);
	craft = (craft_t){
		.provider = {
			.create_task = _craft_create_task,
		},
		.notifies = array_create(0, 0),
	};
	task_manager_v2_add_provider(&craft.provider);
}
END_SETUP

START_TEARDOWN(teardown)
{
	task_manager_v2_remove_provider(&craft.provider);
	array_destroy_offset(craft.notifies, offsetof(payload_t, destroy));
	task_manager_v2_remove_provider(&provider->provider);
	provider->destroy(provider);
	settings->destroy(settings);
}
END_TEARDOWN

/**
 * Queue a notify for the next request of the gateway
 */
static void add_notify(uint8_t protocol, uint32_t spi, chunk_t data)
{
	notify_payload_t *notify;

	notify = notify_payload_create(PLV2_NOTIFY);
	notify->set_notify_type(notify, MOBIKE_SPI_UPDATE_SPI);
	notify->set_protocol_id(notify, protocol);
	if (spi)
	{	/* else no SPI at all */
		notify->set_spi(notify, spi);
	}
	notify->set_notification_data(notify, data);
	array_insert(craft.notifies, ARRAY_TAIL, notify);
}

/**
 * Queue an UPDATE_SPI for the next request of the gateway
 */
static void add_update(protocol_id_t protocol, bool responder, uint32_t spi,
					   uint32_t new_spi)
{
	mobike_spi_update_t u = {
		.protocol = protocol,
		.responder = responder,
		.spi = spi,
		.new_spi = new_spi,
	};

	array_insert(craft.notifies, ARRAY_TAIL, mobike_spi_notify_build(&u));
}

/**
 * The gateway (b, original responder) sends an INFORMATIONAL with the
 * crafted notifies, the mobile node (a) answers
 */
static void exchange(ike_sa_t *a, ike_sa_t *b)
{
	craft.ike_sa = b;
	call_ikesa(b, queue_task, (task_t*)ike_dpd_create(TRUE));
	call_ikesa(b, initiate, NULL, NULL);
	/* INFORMATIONAL { N(UPDATE_SPI)... } --> */
	exchange_test_helper->process_message(exchange_test_helper, a, NULL);
	/* <-- INFORMATIONAL { N(UPDATE_SPI)|N(UPDATE_SPI_FAILED)... } */
	exchange_test_helper->process_message(exchange_test_helper, b, NULL);
}

/**
 * Assert the SPIs of the mobile node's only CHILD_SA
 */
static void assert_spis(ike_sa_t *ike_sa, uint32_t in, uint32_t out)
{
	child_sa_t *child_sa;

	ck_assert_int_eq(ike_sa->get_child_count(ike_sa), 1);
	child_sa = ike_sa->get_child_sa(ike_sa, PROTO_ESP, in, TRUE);
	ck_assert(child_sa);
	ck_assert_int_eq(child_sa->get_spi(child_sa, FALSE), out);
}

/* the mock kernel hands out SPI 1 to a (initiator), 2 to b */
#define SPI_A 1
#define SPI_B 2

/**
 * Assert that the mobile node applied nothing and answered with as many
 * UPDATE_SPI_FAILED as given, then destroy both IKE_SAs
 */
static void assert_unchanged(ike_sa_t *a, ike_sa_t *b, int failed)
{
	ck_assert_int_eq(craft.echoed, 0);
	ck_assert_int_eq(craft.failed, failed);
	assert_spis(a, SPI_A, SPI_B);
	ck_assert(a->get_state(a) == IKE_ESTABLISHED);
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
}

START_TEST(test_esp)
{
	ike_sa_t *a, *b;
	uint32_t new_spi = htonl(0xc0001234);

	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, NULL);
	ck_assert(a->supports_extension(a, MOBIKE_SPI_EXT_VENDOR));
	ck_assert(b->supports_extension(b, MOBIKE_SPI_EXT_VENDOR));
	ck_assert(a->supports_extension(a, MOBIKE_SPI_EXT_PEER));
	ck_assert(b->supports_extension(b, MOBIKE_SPI_EXT_PEER));
	assert_spis(a, SPI_A, SPI_B);

	/* D=1 replaces b's SPI, a's outbound; D=0 a's own, its inbound */
	add_update(PROTO_ESP, _i, _i ? SPI_B : SPI_A, new_spi);
	exchange(a, b);
	ck_assert_int_eq(craft.echoed, 1);
	ck_assert_int_eq(craft.failed, 0);
	ck_assert_int_eq(craft.echo.new_spi, new_spi);
	ck_assert(craft.echo.responder == _i);
	if (_i)
	{
		assert_spis(a, SPI_A, new_spi);
	}
	else
	{
		assert_spis(a, new_spi, SPI_B);
	}
	/* the CHILD_SA is found by its new SPI, and deletes under it */
	ck_assert(a->get_child_sa(a, PROTO_ESP, new_spi, !_i));
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
}
END_TEST

START_TEST(test_both)
{
	ike_sa_t *a, *b;

	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, NULL);
	add_update(PROTO_ESP, TRUE, SPI_B, htonl(0xc0000b0b));
	add_update(PROTO_ESP, FALSE, SPI_A, htonl(0xc0000a0a));
	exchange(a, b);
	ck_assert_int_eq(craft.echoed, 2);
	ck_assert_int_eq(craft.failed, 0);
	assert_spis(a, htonl(0xc0000a0a), htonl(0xc0000b0b));
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
}
END_TEST

START_TEST(test_ignored)
{
	ike_sa_t *a, *b;

	/* a peer that does not support it: neither announces, nor answers */
	lib->settings->set_str(lib->settings, "%s.plugins.mobike-spi.announce",
						   "no", lib->ns);
	settings->reload(settings);
	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, NULL);
	ck_assert(!a->supports_extension(a, MOBIKE_SPI_EXT_PEER));
	ck_assert(!b->supports_extension(b, MOBIKE_SPI_EXT_PEER));
	add_update(PROTO_ESP, TRUE, SPI_B, htonl(0xc0001234));
	exchange(a, b);
	assert_unchanged(a, b, 0);
}
END_TEST

START_TEST(test_no_vendor_id)
{
	ike_sa_t *a, *b;

	/* b uses the private numbers without our vendor ID, as another vendor
	 * might with a meaning of its own: a neither announces to it nor acts on
	 * what it sends */
	craft.strip_vid = TRUE;
	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, NULL);
	ck_assert_int_eq(craft.stripped, 1);
	ck_assert_int_eq(craft.supported, 1);
	ck_assert(!a->supports_extension(a, MOBIKE_SPI_EXT_VENDOR));
	ck_assert(!a->supports_extension(a, MOBIKE_SPI_EXT_PEER));
	ck_assert(b->supports_extension(b, MOBIKE_SPI_EXT_VENDOR));
	ck_assert(!b->supports_extension(b, MOBIKE_SPI_EXT_PEER));
	add_update(PROTO_ESP, TRUE, SPI_B, htonl(0xc0001234));
	add_update(PROTO_ESP, FALSE, SPI_A, htonl(0xc0005678));
	exchange(a, b);
	assert_unchanged(a, b, 0);
}
END_TEST

/**
 * UPDATE_SPIs answered with UPDATE_SPI_FAILED, changing nothing
 */
static struct {
	uint8_t protocol;
	uint32_t spi;
	chunk_t data;
} rejected[] = {
	/* wrong sizes, zero SPIs */
	{ PROTO_ESP, SPI_B, chunk_from_chars(0xc0,0x00,0x12,0x34) },
	{ PROTO_ESP, SPI_B, chunk_from_chars(0xc0,0x00,0x12,0x34,0x80,0x00) },
	{ PROTO_ESP, 0, chunk_from_chars(0xc0,0x00,0x12,0x34,0x80) },
	{ PROTO_IKE, 0, chunk_from_chars(0xc0,0x00,0x12,0x34,0x80) },
	/* unknown protocol */
	{ PROTO_NONE, 0, chunk_from_chars(0xc0,0x00,0x12,0x34,0x80) },
	/* D=1 names b's SPI, SPI_A is a's own */
	{ PROTO_ESP, SPI_A, chunk_from_chars(0xc0,0x00,0x12,0x34,0x80) },
	/* D=0 names a's SPI, SPI_B is b's */
	{ PROTO_ESP, SPI_B, chunk_from_chars(0xc0,0x00,0x12,0x34,0x00) },
	/* no such SPI at all, and AH for an ESP SA */
	{ PROTO_ESP, 0x77777777, chunk_from_chars(0xc0,0x00,0x12,0x34,0x80) },
	{ PROTO_AH, SPI_B, chunk_from_chars(0xc0,0x00,0x12,0x34,0x80) },
	/* reserved flags */
	{ PROTO_ESP, SPI_B, chunk_from_chars(0xc0,0x00,0x12,0x34,0x40) },
};

START_TEST(test_rejected)
{
	ike_sa_t *a, *b;

	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, NULL);
	add_notify(rejected[_i].protocol, rejected[_i].spi, rejected[_i].data);
	exchange(a, b);
	assert_unchanged(a, b, 1);
}
END_TEST

START_TEST(test_rejected_with_valid)
{
	ike_sa_t *a, *b;

	/* one bad UPDATE_SPI spoils the request: nothing is applied */
	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, NULL);
	add_update(PROTO_ESP, TRUE, SPI_B, htonl(0xc0001234));
	add_notify(PROTO_ESP, 0x77777777,
			   chunk_from_chars(0xc0,0x00,0x12,0x35,0x80));
	exchange(a, b);
	assert_unchanged(a, b, 1);
}
END_TEST

/**
 * Check that the child_sa_manager finds a's IKE_SA by its CHILD_SA, then
 * destroy it
 */
static void check_child_sa_manager(ike_sa_t *a)
{
	child_sa_t *child_sa;
	ike_sa_t *found;
	u_int id;

	id = a->get_unique_id(a);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, a);
	found = charon->child_sa_manager->checkout(charon->child_sa_manager,
									PROTO_ESP, SPI_A, a->get_my_host(a),
									&child_sa);
	ck_assert(found == a);
	ck_assert_int_eq(child_sa->get_spi(child_sa, TRUE), SPI_A);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, found);
	a = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager, id);
	ck_assert(a);
	charon->ike_sa_manager->checkin_and_destroy(charon->ike_sa_manager, a);
}

START_TEST(test_ike)
{
	ike_sa_t *a, *b;
	mobike_spi_update_t u = {
		.protocol = PROTO_IKE,
		.responder = _i,
		.new_ike_spi = htobe64(0xc000000000001234),
	};
	uint64_t spi_i, spi_r;

	/* D=1: b replaces its own SPI, a follows; D=0 would replace a's own,
	 * which the IKE_SA manager finds a's IKE_SA by: refused */
	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, NULL);
	spi_i = a->get_id(a)->get_initiator_spi(a->get_id(a));
	spi_r = a->get_id(a)->get_responder_spi(a->get_id(a));
	array_insert(craft.notifies, ARRAY_TAIL, mobike_spi_notify_build(&u));
	if (_i)
	{	/* b took its new SPI already (nAR at the import) */
		craft.old_r = spi_r;
		b->get_id(b)->set_responder_spi(b->get_id(b), u.new_ike_spi);
	}
	exchange(a, b);
	ck_assert_int_eq(craft.echoed, _i ? 1 : 0);
	ck_assert_int_eq(craft.failed, _i ? 0 : 1);
	ck_assert(a->get_id(a)->get_initiator_spi(a->get_id(a)) == spi_i);
	ck_assert(a->get_id(a)->get_responder_spi(a->get_id(a)) ==
			  (_i ? u.new_ike_spi : spi_r));
	if (_i)
	{
		ck_assert(craft.echo.new_ike_spi == u.new_ike_spi);
		ck_assert(craft.echo.responder);
		/* the answer comes under the new SPI already */
		ck_assert(craft.header_r == u.new_ike_spi);
		/* kernel events find the IKE_SA of a CHILD_SA by its new SPIs */
		check_child_sa_manager(a);
	}
	else
	{
		call_ikesa(a, destroy);
	}
	call_ikesa(b, destroy);
}
END_TEST

Suite *update_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("UPDATE_SPI exchange");

	tc = tcase_create("applied");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_esp, 0, 2);
	tcase_add_test(tc, test_both);
	suite_add_tcase(s, tc);

	tc = tcase_create("ignored");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ignored);
	tcase_add_test(tc, test_no_vendor_id);
	suite_add_tcase(s, tc);

	tc = tcase_create("rejected");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_rejected, 0, countof(rejected));
	tcase_add_test(tc, test_rejected_with_valid);
	suite_add_tcase(s, tc);

	tc = tcase_create("IKE SPIs");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_ike, 0, 2);
	suite_add_tcase(s, tc);

	return s;
}
