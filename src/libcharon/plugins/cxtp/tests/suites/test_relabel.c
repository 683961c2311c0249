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

#include "../utils/cxtp_charon.h"

#include "../../cxtp_relabel.h"

#include <exchange_test_helper.h>
#include <encoding/payloads/sa_payload.h>

/**
 * An access router's IKE_SA becoming active (an import activated, a frozen
 * IKE_SA thawed) with an IKE SPI another router labelled: pAR's IKE_SA of
 * the test charon, whose responder SPI is its own.
 */
static cxtp_charon_t *env;
static cxtp_relabel_t *relabel;
static u_int par_id;

/**
 * The label byte of pAR's own IKE SPI
 */
static uint8_t own_byte;

START_SETUP(setup)
{
	ike_sa_id_t *id;

	env = cxtp_charon_setup();
	id = env->par->get_id(env->par);
	own_byte = be64toh(id->get_responder_spi(id)) >> 56;
	par_id = cxtp_charon_checkin(env, env->par);
	relabel = NULL;
}
END_SETUP

START_TEARDOWN(teardown)
{
	cxtp_charon_stop();
	if (relabel)
	{
		charon->bus->remove_listener(charon->bus, &relabel->listener);
		relabel->destroy(relabel);
	}
	cxtp_charon_teardown(env);
	lib->settings->set_str(lib->settings, "%s.spi_mask", NULL, lib->ns);
	lib->settings->set_str(lib->settings, "%s.spi_label", NULL, lib->ns);
	lib->settings->set_str(lib->settings, "%s.plugins.cxtp.relabel", NULL,
						   lib->ns);
}
END_TEARDOWN

/**
 * Label this router's IKE SPIs with a byte in the top one
 */
static void label(uint8_t byte)
{
	char value[32];

	snprintf(value, sizeof(value), "0x%.2x00000000000000", byte);
	lib->settings->set_str(lib->settings, "%s.spi_mask",
						   "0xff00000000000000", lib->ns);
	lib->settings->set_str(lib->settings, "%s.spi_label", value, lib->ns);
}

static void start()
{
	relabel = cxtp_relabel_create();
	ck_assert(relabel);
	charon->bus->add_listener(charon->bus, &relabel->listener);
}

/**
 * pAR's IKE_SA goes passive and established again, as an activation or a
 * thaw does, with the IKE_SA checked out
 */
static void activate()
{
	ike_sa_t *ike_sa;

	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													par_id);
	ck_assert(ike_sa);
	ike_sa->set_state(ike_sa, IKE_PASSIVE);
	ike_sa->set_state(ike_sa, IKE_ESTABLISHED);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
}

/**
 * The IKE message pAR's charon sent, if any
 */
static message_t *ike_sent()
{
	return exchange_test_helper->sender->dequeue(exchange_test_helper->sender);
}

START_TEST(test_foreign_label)
{
	enumerator_t *enumerator;
	message_t *message;
	payload_t *payload;
	sa_payload_t *sa = NULL;
	proposal_t *proposal;
	linked_list_t *proposals;

	label(own_byte ^ 0x01);
	start();
	activate();
	ck_assert(!ike_sent());
	/* not at once: the node's MOBIKE update and rekeyings go first */
	ck_assert_int_eq(cxtp_charon_run_jobs(), 0);
	ck_assert(!ike_sent());
	ck_assert_int_eq(cxtp_charon_scheduled(CXTP_RELABEL_DELAY), 1);
	cxtp_charon_run_scheduled(CXTP_RELABEL_DELAY);

	/* an IKE_SA rekeying with the mobile node, protected with its keys */
	message = ike_sent();
	ck_assert(message);
	ck_assert_int_eq(message->get_exchange_type(message), CREATE_CHILD_SA);
	ck_assert(message->get_request(message));
	ck_assert(message->parse_body(message,
								  env->mn->get_keymat(env->mn)) == SUCCESS);
	enumerator = message->create_payload_enumerator(message);
	while (enumerator->enumerate(enumerator, &payload))
	{
		ck_assert(payload->get_type(payload) != PLV2_TS_INITIATOR);
		if (payload->get_type(payload) == PLV2_SECURITY_ASSOCIATION)
		{
			sa = (sa_payload_t*)payload;
		}
	}
	enumerator->destroy(enumerator);
	ck_assert(sa);
	proposals = sa->get_proposals(sa);
	ck_assert(proposals->get_first(proposals, (void**)&proposal) == SUCCESS);
	ck_assert_int_eq(proposal->get_protocol(proposal), PROTO_IKE);
	proposals->destroy_offset(proposals, offsetof(proposal_t, destroy));
	message->destroy(message);
	ck_assert(!ike_sent());
}
END_TEST

START_TEST(test_own_label)
{
	label(own_byte);
	start();
	activate();
	ck_assert_int_eq(cxtp_charon_run_jobs(), 0);
	ck_assert_int_eq(cxtp_charon_scheduled(CXTP_RELABEL_DELAY), 0);
	ck_assert(!ike_sent());
}
END_TEST

START_TEST(test_established_first)
{
	ike_sa_t *ike_sa;

	/* a state change that is no activation: from established to established
	 * is not one, from passive is */
	label(own_byte ^ 0x01);
	start();
	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													par_id);
	ck_assert(ike_sa);
	ike_sa->set_state(ike_sa, IKE_ESTABLISHED);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	ck_assert_int_eq(cxtp_charon_run_jobs(), 0);
	ck_assert(!ike_sent());
}
END_TEST

START_TEST(test_not_labelling)
{
	/* charon labels no SPI: no label tells routers apart */
	ck_assert(!cxtp_relabel_create());
	lib->settings->set_str(lib->settings, "%s.spi_label",
						   "0x0100000000000000", lib->ns);
	ck_assert(!cxtp_relabel_create());
	/* or the operator does not want it */
	label(own_byte ^ 0x01);
	lib->settings->set_str(lib->settings, "%s.plugins.cxtp.relabel", "no",
						   lib->ns);
	ck_assert(!cxtp_relabel_create());
}
END_TEST

Suite *relabel_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("cxtp relabel");

	tc = tcase_create("activation");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_foreign_label);
	tcase_add_test(tc, test_own_label);
	tcase_add_test(tc, test_established_first);
	tcase_add_test(tc, test_not_labelling);
	suite_add_tcase(s, tc);

	return s;
}
