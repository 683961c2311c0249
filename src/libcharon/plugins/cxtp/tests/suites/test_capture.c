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
#include "../../cxtp_export.h"

/**
 * Which keys are kept, and for how long: the mobile node's IKE_SA (its
 * connection "init") and pAR's ("resp"), established with the capture on
 * the bus
 */
static cxtp_charon_t *env;

static void setup_with(char *connections)
{
	lib->settings->set_str(lib->settings, "%s.plugins.cxtp.connections",
						   connections, lib->ns);
	env = cxtp_charon_setup();
}

START_TEARDOWN(teardown)
{
	cxtp_charon_stop();
	cxtp_charon_teardown(env);
	lib->settings->set_str(lib->settings, "%s.plugins.cxtp.connections",
						   NULL, lib->ns);
}
END_TEARDOWN

static child_sa_t *first_child(ike_sa_t *ike_sa)
{
	enumerator_t *enumerator;
	child_sa_t *child_sa = NULL;

	enumerator = ike_sa->create_child_sa_enumerator(ike_sa);
	ck_assert(enumerator->enumerate(enumerator, &child_sa));
	enumerator->destroy(enumerator);
	return child_sa;
}

static bool has_ike_keys(ike_sa_t *ike_sa)
{
	return env->capture->get_ike_keys(env->capture, ike_sa, NULL);
}

static bool has_child_keys(ike_sa_t *ike_sa)
{
	return env->capture->get_child_keys(env->capture, first_child(ike_sa),
										NULL);
}

START_TEST(test_all_by_default)
{
	cxtp_ike_keys_t keys;

	setup_with(_i ? "" : NULL);
	ck_assert(has_ike_keys(env->par));
	ck_assert(has_child_keys(env->par));
	ck_assert(has_ike_keys(env->mn));
	ck_assert(has_child_keys(env->mn));
	ck_assert(env->capture->get_ike_keys(env->capture, env->par, &keys));
	ck_assert(keys.sk_d.len && keys.sk_ei.len && keys.sk_pr.len);
	cxtp_ike_keys_clear(&keys);
	ck_assert(!cxtp_export_check(env->capture, env->par));
}
END_TEST

START_TEST(test_listed_only)
{
	char *reason, *expected;

	/* pAR is the responder: its connection is known after IKE_AUTH only */
	setup_with(_i ? "other, init" : "other, resp");
	ck_assert(has_ike_keys(env->par) == !_i);
	ck_assert(has_child_keys(env->par) == !_i);
	ck_assert(has_ike_keys(env->mn) == _i);
	ck_assert(has_child_keys(env->mn) == _i);

	expected = _i ? "connection 'resp' is not one of cxtp.connections"
				  : "connection 'init' is not one of cxtp.connections";
	reason = cxtp_export_check(env->capture, _i ? env->par : env->mn);
	ck_assert_msg(reason && streq(reason, expected), "got '%s'", reason);
	free(reason);
	ck_assert(!cxtp_export_check(env->capture, _i ? env->mn : env->par));
}
END_TEST

START_TEST(test_child_deleted)
{
	child_sa_t *child_sa;

	setup_with(NULL);
	child_sa = first_child(env->par);
	/* a rekeying that fails goes back to CHILD_INSTALLED */
	child_sa->set_state(child_sa, CHILD_REKEYED);
	ck_assert(has_child_keys(env->par));
	child_sa->set_state(child_sa, CHILD_INSTALLED);
	/* replaced, only waiting for packets in flight */
	child_sa->set_state(child_sa, CHILD_DELETED);
	ck_assert(!has_child_keys(env->par));
	ck_assert(has_ike_keys(env->par));
	ck_assert(has_child_keys(env->mn));
}
END_TEST

START_TEST(test_ike_rekeyed)
{
	setup_with(NULL);
	env->par->set_state(env->par, IKE_REKEYING);
	ck_assert(has_ike_keys(env->par));
	env->par->set_state(env->par, IKE_REKEYED);
	ck_assert(!has_ike_keys(env->par));
	/* the CHILD_SAs move to the new IKE_SA */
	ck_assert(has_child_keys(env->par));
	ck_assert(has_ike_keys(env->mn));
}
END_TEST

START_TEST(test_ike_rekeyed_by_us)
{
	cxtp_ike_keys_t keys, old_keys;
	ike_sa_id_t *id;
	ike_sa_t *new;
	chunk_t sk = chunk_from_chars(0x01,0x02,0x03,0x04);

	/* as the initiator of an IKE rekeying (pAR relabelling an activated
	 * IKE_SA), charon derives the new IKE_SA's keys with the old one on
	 * the bus, and names the new one only once it is established */
	setup_with(NULL);
	ck_assert(env->capture->get_ike_keys(env->capture, env->par, &old_keys));
	id = ike_sa_id_create(IKEV2_MAJOR_VERSION, 0x0102, 0x0304, TRUE);
	new = ike_sa_create(id, TRUE, IKEV2);
	id->destroy(id);
	env->par->set_state(env->par, IKE_REKEYING);
	charon->bus->set_sa(charon->bus, env->par);
	charon->bus->ike_derived_keys(charon->bus, sk, sk, sk, sk, sk, sk, sk);
	/* the old IKE_SA keeps its own keys meanwhile */
	ck_assert(env->capture->get_ike_keys(env->capture, env->par, &keys));
	ck_assert_chunk_eq(keys.sk_d, old_keys.sk_d);
	cxtp_ike_keys_clear(&keys);
	ck_assert(!has_ike_keys(new));
	charon->bus->ike_rekey(charon->bus, env->par, new);
	env->par->set_state(env->par, IKE_REKEYED);
	charon->bus->set_sa(charon->bus, NULL);
	ck_assert(env->capture->get_ike_keys(env->capture, new, &keys));
	ck_assert_chunk_eq(keys.sk_d, sk);
	cxtp_ike_keys_clear(&keys);
	cxtp_ike_keys_clear(&old_keys);
	ck_assert(!has_ike_keys(env->par));
	new->destroy(new);
}
END_TEST

START_TEST(test_ike_rekey_failed)
{
	cxtp_ike_keys_t keys;
	chunk_t sk = chunk_from_chars(0x01,0x02,0x03,0x04);
	u_int ike;

	/* our rekeying derived the new IKE_SA's keys, then failed: the old
	 * IKE_SA goes on, the next attempt derives new keys */
	setup_with(NULL);
	env->par->set_state(env->par, IKE_REKEYING);
	charon->bus->set_sa(charon->bus, env->par);
	charon->bus->ike_derived_keys(charon->bus, sk, sk, sk, sk, sk, sk, sk);
	charon->bus->set_sa(charon->bus, NULL);
	env->capture->get_usage(env->capture, &ike, NULL);
	ck_assert_int_eq(ike, 3);
	env->par->set_state(env->par, IKE_ESTABLISHED);
	env->capture->get_usage(env->capture, &ike, NULL);
	ck_assert_int_eq(ike, 2);
	ck_assert(env->capture->get_ike_keys(env->capture, env->par, &keys));
	ck_assert(!chunk_equals(keys.sk_d, sk));
	cxtp_ike_keys_clear(&keys);
}
END_TEST

START_TEST(test_ike_rekey_collision_lost)
{
	cxtp_ike_keys_t keys;
	ike_sa_id_t *id;
	ike_sa_t *new;
	chunk_t ours = chunk_from_chars(0x01,0x02,0x03,0x04);
	chunk_t theirs = chunk_from_chars(0x05,0x06,0x07,0x08);
	u_int ike;

	/* both rekeyed at once and the peer's IKE_SA won: we derived its keys
	 * as responder, with it on the bus, and those of ours with the old one;
	 * the winner keeps its own keys, ours are dropped */
	setup_with(NULL);
	id = ike_sa_id_create(IKEV2_MAJOR_VERSION, 0x0506, 0x0708, FALSE);
	new = ike_sa_create(id, FALSE, IKEV2);
	id->destroy(id);
	env->par->set_state(env->par, IKE_REKEYING);
	charon->bus->set_sa(charon->bus, env->par);
	charon->bus->ike_derived_keys(charon->bus, ours, ours, ours, ours, ours,
								  ours, ours);
	charon->bus->set_sa(charon->bus, new);
	charon->bus->ike_derived_keys(charon->bus, theirs, theirs, theirs, theirs,
								  theirs, theirs, theirs);
	charon->bus->set_sa(charon->bus, env->par);
	charon->bus->ike_rekey(charon->bus, env->par, new);
	env->par->set_state(env->par, IKE_REKEYED);
	charon->bus->set_sa(charon->bus, NULL);
	ck_assert(env->capture->get_ike_keys(env->capture, new, &keys));
	ck_assert_chunk_eq(keys.sk_d, theirs);
	cxtp_ike_keys_clear(&keys);
	/* the mobile node's and the winner's */
	env->capture->get_usage(env->capture, &ike, NULL);
	ck_assert_int_eq(ike, 2);
	new->destroy(new);
}
END_TEST

START_TEST(test_usage)
{
	child_sa_t *child_sa;
	u_int ike, child;
	size_t bytes;

	/* the mobile node's and pAR's IKE_SA, each with one CHILD_SA */
	setup_with(NULL);
	bytes = env->capture->get_usage(env->capture, &ike, &child);
	ck_assert_int_eq(ike, 2);
	ck_assert_int_eq(child, 2);
	/* at least the keys (AES-128, SHA-256, AES-GCM-128 with salts) */
	ck_assert(bytes >= 2 * (32 + 2 * 32 + 2 * 16 + 2 * 32) + 2 * 2 * 20);
	child_sa = first_child(env->par);
	child_sa->set_state(child_sa, CHILD_DELETED);
	ck_assert(env->capture->get_usage(env->capture, &ike, &child) < bytes);
	ck_assert_int_eq(ike, 2);
	ck_assert_int_eq(child, 1);
	/* what is left is the mobile node's, of the same size as pAR's was */
	env->par->set_state(env->par, IKE_REKEYED);
	ck_assert_int_eq(env->capture->get_usage(env->capture, &ike, &child),
					 bytes / 2);
	ck_assert_int_eq(ike, 1);
	ck_assert_int_eq(child, 1);
}
END_TEST

Suite *capture_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("cxtp capture");

	tc = tcase_create("connections");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_loop_test(tc, test_all_by_default, 0, 2);
	tcase_add_loop_test(tc, test_listed_only, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("lifetime");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_child_deleted);
	tcase_add_test(tc, test_ike_rekeyed);
	tcase_add_test(tc, test_ike_rekeyed_by_us);
	tcase_add_test(tc, test_ike_rekey_failed);
	tcase_add_test(tc, test_ike_rekey_collision_lost);
	suite_add_tcase(s, tc);

	tc = tcase_create("usage");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_usage);
	suite_add_tcase(s, tc);

	return s;
}
