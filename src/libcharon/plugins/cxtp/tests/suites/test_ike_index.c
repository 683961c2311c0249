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

#include <time.h>

/**
 * The index of IKE_SAs by their peer's address, as the bus keeps it: pAR's
 * IKE_SA of the test charon with the mobile node at MN_OLD, and others
 * added beside it.
 */
static cxtp_charon_t *env;
static cxtp_ike_index_t *index_;
static u_int par_id;

START_SETUP(setup)
{
	env = cxtp_charon_setup();
	index_ = env->index;
	par_id = cxtp_charon_checkin(env, env->par);
}
END_SETUP

START_TEARDOWN(teardown)
{
	cxtp_charon_stop();
	cxtp_charon_teardown(env);
}
END_TEARDOWN

/**
 * With the IKE_SA table the routers use, so checkouts by SPI are lookups
 */
START_SETUP(setup_table)
{
	lib->settings->set_int(lib->settings, "%s.ikesa_table_size", 4096,
						   lib->ns);
	lib->settings->set_int(lib->settings, "%s.ikesa_table_segments", 16,
						   lib->ns);
	env = cxtp_charon_setup();
	index_ = env->index;
	par_id = cxtp_charon_checkin(env, env->par);
}
END_SETUP

START_TEARDOWN(teardown_table)
{
	cxtp_charon_stop();
	cxtp_charon_teardown(env);
	lib->settings->set_str(lib->settings, "%s.ikesa_table_size", NULL,
						   lib->ns);
	lib->settings->set_str(lib->settings, "%s.ikesa_table_segments", NULL,
						   lib->ns);
}
END_TEARDOWN

/**
 * Unique IDs of the IKE_SAs the index yields for an address, ascending,
 * each checked in again; their number
 */
static u_int lookup(char *address, u_int *ids, u_int max)
{
	enumerator_t *enumerator;
	ike_sa_t *ike_sa;
	host_t *host;
	u_int count = 0, i, tmp;

	host = cxtp_test_host(address);
	enumerator = index_->create_enumerator(index_, host);
	while (enumerator->enumerate(enumerator, &ike_sa))
	{
		/* yielded checked out, where it is */
		ck_assert(cxtp_test_host_is(ike_sa->get_other_host(ike_sa), address));
		ck_assert(count < max);
		ids[count++] = ike_sa->get_unique_id(ike_sa);
	}
	enumerator->destroy(enumerator);
	host->destroy(host);
	for (i = 1; i < count; i++)
	{
		if (ids[i - 1] > ids[i])
		{
			tmp = ids[i];
			ids[i] = ids[i - 1];
			ids[i - 1] = tmp;
			i = 0;
		}
	}
	return count;
}

/**
 * An IKE_SA of pAR with a mobile node at an address, in a state, in the
 * manager
 */
static u_int add_ike_sa(char *other, ike_sa_state_t state)
{
	ike_sa_t *ike_sa;

	ike_sa = charon->ike_sa_manager->create_new(charon->ike_sa_manager, IKEV2,
												FALSE);
	charon->bus->set_sa(charon->bus, ike_sa);
	ike_sa->set_my_host(ike_sa, cxtp_test_host(PAR));
	ike_sa->set_other_host(ike_sa, cxtp_test_host(other));
	ike_sa->set_state(ike_sa, state);
	charon->bus->set_sa(charon->bus, NULL);
	return cxtp_charon_checkin(env, ike_sa);
}

START_TEST(test_found)
{
	u_int ids[4];

	ck_assert_int_eq(lookup(MN_OLD, ids, countof(ids)), 1);
	ck_assert_int_eq(ids[0], par_id);
	ck_assert_int_eq(lookup(MN_NEW, ids, countof(ids)), 0);
	ck_assert_int_eq(lookup(PAR, ids, countof(ids)), 0);
}
END_TEST

START_TEST(test_moved)
{
	u_int ids[4];

	cxtp_charon_move(par_id, MN_NEW);
	ck_assert_int_eq(lookup(MN_NEW, ids, countof(ids)), 1);
	ck_assert_int_eq(ids[0], par_id);
	ck_assert_int_eq(lookup(MN_OLD, ids, countof(ids)), 0);
	cxtp_charon_move(par_id, MN_OLD);
	ck_assert_int_eq(lookup(MN_OLD, ids, countof(ids)), 1);
	ck_assert_int_eq(lookup(MN_NEW, ids, countof(ids)), 0);
}
END_TEST

START_TEST(test_destroyed)
{
	u_int ids[4], count;

	count = index_->get_count(index_);
	cxtp_charon_remove(par_id);
	ck_assert_int_eq(lookup(MN_OLD, ids, countof(ids)), 0);
	ck_assert_int_eq(index_->get_count(index_), count - 1);
}
END_TEST

START_TEST(test_shared)
{
	u_int ids[4], other, passive;

	other = add_ike_sa(MN_OLD, IKE_ESTABLISHED);
	/* e.g. frozen for a transfer, or imported */
	passive = add_ike_sa(MN_OLD, IKE_PASSIVE);
	add_ike_sa(MN_NEW, IKE_ESTABLISHED);
	ck_assert_int_eq(lookup(MN_OLD, ids, countof(ids)), 3);
	ck_assert_int_eq(ids[0], par_id);
	ck_assert_int_eq(ids[1], other);
	ck_assert_int_eq(ids[2], passive);
	cxtp_charon_remove(other);
	ck_assert_int_eq(lookup(MN_OLD, ids, countof(ids)), 2);
	ck_assert_int_eq(ids[0], par_id);
	ck_assert_int_eq(ids[1], passive);
	ck_assert_int_eq(lookup(MN_NEW, ids, countof(ids)), 1);
}
END_TEST

START_TEST(test_rekeyed)
{
	ike_sa_t *old, *new;
	u_int ids[4], new_id;

	new = charon->ike_sa_manager->create_new(charon->ike_sa_manager, IKEV2,
											 FALSE);
	charon->bus->set_sa(charon->bus, new);
	new->set_my_host(new, cxtp_test_host(PAR));
	new->set_other_host(new, cxtp_test_host(MN_OLD));
	old = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
												 par_id);
	charon->bus->ike_rekey(charon->bus, old, new);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, old);
	new_id = cxtp_charon_checkin(env, new);
	ck_assert_int_eq(lookup(MN_OLD, ids, countof(ids)), 2);
	ck_assert_int_eq(ids[0], par_id);
	ck_assert_int_eq(ids[1], new_id);
}
END_TEST

START_TEST(test_stale)
{
	ike_sa_t *ike_sa;
	u_int ids[4];

	/* moved with no hook (the kind of path the index has to avoid) */
	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													par_id);
	ike_sa->set_other_host(ike_sa, cxtp_test_host(MN_NEW));
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	/* verified away where it was, and found where it is from then on */
	ck_assert_int_eq(lookup(MN_OLD, ids, countof(ids)), 0);
	ck_assert_int_eq(lookup(MN_NEW, ids, countof(ids)), 1);
	ck_assert_int_eq(ids[0], par_id);
	ck_assert_int_eq(lookup(MN_OLD, ids, countof(ids)), 0);
}
END_TEST

START_TEST(test_checked_out_elsewhere)
{
	enumerator_t *enumerator;
	ike_sa_t *ike_sa, *found;
	host_t *host;
	u_int other;

	/* an IKE_SA at another address checked out stays out of the way */
	other = add_ike_sa(MN_NEW, IKE_ESTABLISHED);
	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													other);
	ck_assert(ike_sa);
	host = cxtp_test_host(MN_OLD);
	enumerator = index_->create_enumerator(index_, host);
	ck_assert(enumerator->enumerate(enumerator, &found));
	ck_assert_int_eq(found->get_unique_id(found), par_id);
	ck_assert(!enumerator->enumerate(enumerator, &found));
	enumerator->destroy(enumerator);
	host->destroy(host);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
}
END_TEST

/**
 * How the dispatcher and pAR found a mobile node's IKE_SAs before the index:
 * a walk over all IKE_SAs
 */
static u_int walk(host_t *mn)
{
	enumerator_t *enumerator;
	ike_sa_t *ike_sa;
	u_int found = 0;

	enumerator = charon->controller->create_ike_sa_enumerator(
													charon->controller, TRUE);
	while (enumerator->enumerate(enumerator, &ike_sa))
	{
		if (mn->ip_equals(mn, ike_sa->get_other_host(ike_sa)))
		{
			found++;
		}
	}
	enumerator->destroy(enumerator);
	return found;
}

static u_int indexed(host_t *mn)
{
	enumerator_t *enumerator;
	ike_sa_t *ike_sa;
	u_int found = 0;

	enumerator = index_->create_enumerator(index_, mn);
	while (enumerator->enumerate(enumerator, &ike_sa))
	{
		found++;
	}
	enumerator->destroy(enumerator);
	return found;
}

static double elapsed_us(struct timespec *start, u_int rounds)
{
	struct timespec end;

	clock_gettime(CLOCK_MONOTONIC, &end);
	return ((end.tv_sec - start->tv_sec) * 1e6 +
			(end.tv_nsec - start->tv_nsec) / 1e3) / rounds;
}

/**
 * Print the time a walk and the index take to look up a node
 */
static void compare(u_int resident, host_t *mn, char *what)
{
	struct timespec start;
	u_int i, rounds = 20;
	double walked, looked_up;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (i = 0; i < rounds; i++)
	{
		walk(mn);
	}
	walked = elapsed_us(&start, rounds);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (i = 0; i < rounds; i++)
	{
		indexed(mn);
	}
	looked_up = elapsed_us(&start, rounds);
	fprintf(stderr, "\n    %u resident IKE_SAs, CTAR for %s: walk %.1f us, "
			"index %.1f us", resident, what, walked, looked_up);
}

/**
 * The lookup of a CTAR for a node we do not hold (the reactive path) and for
 * one we hold, among many resident IKE_SAs: the same answers as the walk,
 * and their cost printed (TESTS_INDEX_SAS resident IKE_SAs, 1000 unless set)
 */
START_TEST(test_resident)
{
	host_t *unknown, *mn;
	char address[32];
	u_int resident, i;

	resident = atoi(getenv("TESTS_INDEX_SAS") ?: "1000");
	for (i = 0; i < resident; i++)
	{
		snprintf(address, sizeof(address), "10.%u.%u.%u", (i >> 16) & 0xff,
				 (i >> 8) & 0xff, i & 0xff);
		add_ike_sa(address, IKE_ESTABLISHED);
	}
	ck_assert_int_eq(index_->get_count(index_), resident + 2);
	unknown = cxtp_test_host(MN_NEW);
	mn = cxtp_test_host(MN_OLD);

	ck_assert_int_eq(walk(unknown), 0);
	ck_assert_int_eq(indexed(unknown), 0);
	ck_assert_int_eq(walk(mn), 1);
	ck_assert_int_eq(indexed(mn), 1);

	compare(resident, unknown, "an unknown node");
	compare(resident, mn, "a node held here");
	fprintf(stderr, "\n");
	unknown->destroy(unknown);
	mn->destroy(mn);
}
END_TEST

Suite *ike_index_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("cxtp IKE_SA index");

	tc = tcase_create("lookup");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_found);
	tcase_add_test(tc, test_moved);
	tcase_add_test(tc, test_destroyed);
	tcase_add_test(tc, test_shared);
	tcase_add_test(tc, test_rekeyed);
	tcase_add_test(tc, test_stale);
	tcase_add_test(tc, test_checked_out_elsewhere);
	suite_add_tcase(s, tc);

	tc = tcase_create("resident");
	tcase_add_checked_fixture(tc, setup_table, teardown_table);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_resident);
	suite_add_tcase(s, tc);

	return s;
}
