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

#include "../utils/cxtp_charon.h"

#include "../../cxtp_pad.h"

#include <daemon.h>

/**
 * The secrets of transferred contexts a new access router authenticates
 * their nodes with, kept while an IKE_SA of the node's identity exists:
 * pAR's IKE_SA of the test charon is the node's.
 */
static cxtp_charon_t *env;
static cxtp_pad_t *pad;

START_SETUP(setup)
{
	env = cxtp_charon_setup();
	pad = cxtp_pad_create(env->settings);
}
END_SETUP

START_TEARDOWN(teardown)
{
	cxtp_charon_stop();
	pad->destroy(pad);
	cxtp_charon_teardown(env);
}
END_TEARDOWN

/**
 * Install the entry of a context of a node with a secret
 */
static void add(char *id, shared_key_type_t type, char *secret)
{
	cxtp_context_t *context = cxtp_context_create();

	context->pad.id = identification_create_from_string(id);
	context->pad.secret_type = type;
	context->pad.secret = chunk_clone(chunk_from_str(secret));
	pad->add(pad, context);
	context->destroy(context);
}

/**
 * The secret of a type the PAD has for a node, NULL for none
 */
static char *secret(char *id, shared_key_type_t type)
{
	static char buf[64];
	identification_t *other;
	enumerator_t *enumerator;
	shared_key_t *key;
	chunk_t chunk;
	char *found = NULL;

	other = identification_create_from_string(id);
	enumerator = pad->set.create_shared_enumerator(&pad->set, type, NULL,
												   other);
	if (enumerator->enumerate(enumerator, &key, NULL, NULL))
	{
		chunk = key->get_key(key);
		snprintf(buf, sizeof(buf), "%.*s", (int)chunk.len, chunk.ptr);
		found = buf;
	}
	enumerator->destroy(enumerator);
	other->destroy(other);
	return found;
}

/**
 * The identity of the node pAR's IKE_SA is with
 */
static char *node_id()
{
	static char buf[128];

	snprintf(buf, sizeof(buf), "%Y", env->par->get_other_id(env->par));
	return buf;
}

START_TEST(test_add_replace)
{
	add("carol@strongswan.org", SHARED_IKE, "first");
	add("carol", SHARED_EAP, "eap");
	add("dave@strongswan.org", SHARED_IKE, "dave's");
	ck_assert_str_eq(secret("carol@strongswan.org", SHARED_IKE), "first");
	ck_assert_str_eq(secret("carol", SHARED_EAP), "eap");
	ck_assert(!secret("carol", SHARED_IKE));
	ck_assert(!secret("carol@strongswan.org", SHARED_EAP));

	/* a later transfer of the same node replaces its secret of that type */
	add("carol@strongswan.org", SHARED_IKE, "second");
	ck_assert_str_eq(secret("carol@strongswan.org", SHARED_IKE), "second");
	ck_assert_str_eq(secret("carol", SHARED_EAP), "eap");
	ck_assert_str_eq(secret("dave@strongswan.org", SHARED_IKE), "dave's");
}
END_TEST

START_TEST(test_unused_removed)
{
	char *used;
	u_int par_id;

	/* the node of pAR's IKE_SA, and one without an IKE_SA here */
	used = node_id();
	par_id = cxtp_charon_checkin(env, env->par);
	add(used, SHARED_IKE, "kept");
	add("gone@strongswan.org", SHARED_IKE, "removed");

	/* missing at one check, gone after the next */
	cxtp_charon_run_scheduled(HANDOVER_TIMEOUT * 1000);
	ck_assert_str_eq(secret("gone@strongswan.org", SHARED_IKE), "removed");
	cxtp_charon_run_scheduled(HANDOVER_TIMEOUT * 1000);
	ck_assert(!secret("gone@strongswan.org", SHARED_IKE));
	ck_assert_str_eq(secret(used, SHARED_IKE), "kept");

	/* and the node's, once its IKE_SA went */
	cxtp_charon_remove(par_id);
	cxtp_charon_run_scheduled(HANDOVER_TIMEOUT * 1000);
	ck_assert_str_eq(secret(used, SHARED_IKE), "kept");
	cxtp_charon_run_scheduled(HANDOVER_TIMEOUT * 1000);
	ck_assert(!secret(used, SHARED_IKE));
	ck_assert_int_eq(cxtp_charon_scheduled(HANDOVER_TIMEOUT * 1000), 0);
}
END_TEST

Suite *pad_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("cxtp PAD");

	tc = tcase_create("entries");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_add_replace);
	tcase_add_test(tc, test_unused_removed);
	suite_add_tcase(s, tc);

	return s;
}
